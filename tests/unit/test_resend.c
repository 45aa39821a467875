/*
 * A viewer's NACK resend budget (daemon/wire/resend.c): a burst, then the
 * rate; a sequence number resent moments ago is not sent again; a flood of
 * NACKs gets no more than the budget, however it is shaped.
 */
#include <glib.h>

#include "wire/resend.h"

#define KBPS    2000
#define LARGEST 1200
#define T0      1000000000 /* µs: any monotonic start */

/* Ask for `seq` at `now`; when allowed, "send" `len` bytes. Returns the verdict. */
static enum resend_verdict ask(struct resend_budget *b, uint16_t seq, size_t len, int64_t now)
{
	enum resend_verdict v = resend_budget_check(b, seq, now);

	if (v == RESEND_OK)
		resend_budget_spend(b, seq, len, now);
	return v;
}

static void test_numbers(void)
{
	/* 2000 kbps = 250000 B/s: a quarter a second, half a second of it at once. */
	g_assert_cmpfloat(resend_budget_rate(KBPS), ==, 62500.0);
	g_assert_cmpfloat(resend_budget_burst(KBPS, LARGEST), ==, 125000.0);
	/* 50 kbps would burst 3125 B, under two packets: the floor is 8 packets. */
	g_assert_cmpfloat(resend_budget_burst(50, LARGEST), ==, 8.0 * LARGEST);
}

static void test_burst_then_rate(void)
{
	struct resend_budget b;
	size_t sent = 0;
	int i;

	resend_budget_init(&b, KBPS, LARGEST);
	/* One instant, ever-new sequence numbers: the burst, and not a packet more. */
	for (i = 0; i < 1000; i++)
		if (ask(&b, (uint16_t)i, LARGEST, T0) == RESEND_OK)
			sent += LARGEST;
	g_assert_cmpuint(sent, <=, 125000);
	g_assert_cmpuint(sent, >, 125000 - LARGEST);
	g_assert_cmpint(ask(&b, 5000, LARGEST, T0), ==, RESEND_BUDGET);
	/* 62500 B/s: after 10 ms 625 B, short of a packet; after 20 ms one more goes. */
	g_assert_cmpint(ask(&b, 5001, LARGEST, T0 + 10000), ==, RESEND_BUDGET);
	g_assert_cmpint(ask(&b, 5002, LARGEST, T0 + 20000), ==, RESEND_OK);
}

static void test_flood_stays_within(void)
{
	struct resend_budget b;
	double sent = 0, bound;
	int64_t t;
	int i;

	resend_budget_init(&b, KBPS, LARGEST);
	/* 10 s of 64-packet NACKs every ms, each number repeated, small and large packets. */
	for (t = 0; t < 10000000; t += 1000)
		for (i = 0; i < 64; i++) {
			uint16_t seq = (uint16_t)((t / 1000 + i / 2) % 512);
			size_t len = i % 3 == 0 ? 80 : LARGEST;

			if (ask(&b, seq, len, T0 + t) == RESEND_OK)
				sent += (double)len;
		}
	bound = resend_budget_burst(KBPS, LARGEST) + resend_budget_rate(KBPS) * 10.0;
	g_assert_cmpfloat(sent, <=, bound);
	g_assert_cmpfloat(sent, >=, bound * 0.95); /* and it is not stingier than promised */
}

static void test_repeats(void)
{
	struct resend_budget b;

	resend_budget_init(&b, KBPS, LARGEST);
	g_assert_cmpint(ask(&b, 7, LARGEST, T0), ==, RESEND_OK);
	/* The same number again in the same NACK, then 5 ms later (werift's loop): refused. */
	g_assert_cmpint(ask(&b, 7, LARGEST, T0), ==, RESEND_REPEAT);
	g_assert_cmpint(ask(&b, 7, LARGEST, T0 + 5000), ==, RESEND_REPEAT);
	g_assert_cmpint(ask(&b, 7, LARGEST, T0 + (RESEND_REPEAT_MS - 1) * 1000), ==,
	                RESEND_REPEAT);
	/* Another number is no repeat; nor is this one after the window (its resend got lost). */
	g_assert_cmpint(ask(&b, 8, LARGEST, T0 + 5000), ==, RESEND_OK);
	g_assert_cmpint(ask(&b, 7, LARGEST, T0 + RESEND_REPEAT_MS * 1000), ==, RESEND_OK);
	/* 16 bits wrap: 65535 and 0 are different numbers, 65535 + RESEND_RECENT shares a slot. */
	g_assert_cmpint(ask(&b, 65535, LARGEST, T0 + 200000), ==, RESEND_OK);
	g_assert_cmpint(ask(&b, 0, LARGEST, T0 + 200000), ==, RESEND_OK);
	g_assert_cmpint(ask(&b, 65535, LARGEST, T0 + 200000), ==, RESEND_REPEAT);
	g_assert_cmpint(ask(&b, (uint16_t)(65535 + RESEND_RECENT), LARGEST, T0 + 200000), ==,
	                RESEND_OK);
	/* ... which evicts it: a colliding pattern gets past the memory, never past the budget. */
	g_assert_cmpint(ask(&b, 65535, LARGEST, T0 + 200000), ==, RESEND_OK);
}

static void test_budget_refusal_is_not_remembered(void)
{
	struct resend_budget b;
	int i;

	resend_budget_init(&b, 50, LARGEST); /* 8 packets of burst, 1562.5 B/s */
	for (i = 0; i < 8; i++)
		g_assert_cmpint(ask(&b, (uint16_t)i, LARGEST, T0), ==, RESEND_OK);
	g_assert_cmpint(ask(&b, 100, LARGEST, T0), ==, RESEND_BUDGET);
	/* Once the bucket holds a packet again the number refused goes: it was never sent. */
	g_assert_cmpint(ask(&b, 100, LARGEST, T0 + 800000), ==, RESEND_OK);
}

static void test_clock_going_back(void)
{
	struct resend_budget b;
	int i, ok = 0;

	resend_budget_init(&b, 50, LARGEST);
	for (i = 0; i < 8; i++)
		ask(&b, (uint16_t)i, LARGEST, T0 + 5000000);
	for (i = 0; i < 100; i++) /* an earlier time adds no tokens */
		ok += ask(&b, (uint16_t)(200 + i), LARGEST, T0 + (int64_t)i * 1000) == RESEND_OK;
	g_assert_cmpint(ok, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/resend/numbers", test_numbers);
	g_test_add_func("/resend/burst_then_rate", test_burst_then_rate);
	g_test_add_func("/resend/flood_stays_within", test_flood_stays_within);
	g_test_add_func("/resend/repeats", test_repeats);
	g_test_add_func("/resend/budget_refusal_is_not_remembered", test_budget_refusal_is_not_remembered);
	g_test_add_func("/resend/clock_going_back", test_clock_going_back);
	return g_test_run();
}
