/* The log-line token bucket (common/ratelimit.c): a burst, then a steady rate, and a count. */
#include <glib.h>

#include "ratelimit.h"

static void test_burst_then_rate(void)
{
	struct ratelimit r;
	unsigned long held = 99;
	int64_t t = 1000000;
	int i, allowed = 0;

	ratelimit_init(&r, 5, 20);
	for (i = 0; i < 1000; i++) /* a flood within one instant: the burst only */
		allowed += ratelimit_allow(&r, t, &held);
	g_assert_cmpint(allowed, ==, 20);
	g_assert_false(ratelimit_allow(&r, t + 100000, &held)); /* 0.5 token after 0.1 s */
	g_assert_true(ratelimit_allow(&r, t + 200000, &held));  /* one after 0.2 s */
	g_assert_cmpuint(held, ==, 981);                        /* and the count of the rest */
	/* Ten seconds of flood at 1000/s: 5/s get through, never the burst again. */
	for (i = 0, allowed = 0; i < 10000; i++)
		allowed += ratelimit_allow(&r, t + 200000 + (int64_t)i * 1000, &held);
	g_assert_cmpint(allowed, >=, 49);
	g_assert_cmpint(allowed, <=, 51);
	/* Quiet for a minute: the burst is back, and no more than it. */
	for (i = 0, allowed = 0; i < 100; i++)
		allowed += ratelimit_allow(&r, t + 80000000, &held);
	g_assert_cmpint(allowed, ==, 20);
}

static void test_clock_going_back(void)
{
	struct ratelimit r;
	unsigned long held = 0;
	int i, allowed = 0;

	ratelimit_init(&r, 1, 2);
	g_assert_true(ratelimit_allow(&r, 5000000, &held));
	for (i = 0; i < 10; i++) /* an earlier time adds no tokens */
		allowed += ratelimit_allow(&r, 1000000, &held);
	g_assert_cmpint(allowed, ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ratelimit/burst-then-rate", test_burst_then_rate);
	g_test_add_func("/ratelimit/clock-going-back", test_clock_going_back);
	return g_test_run();
}
