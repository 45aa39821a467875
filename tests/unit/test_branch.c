/*
 * The join gate (daemon/media/branch.c) both media paths pass every frame
 * through: nothing before the viewer's transport is up, then a keyframe
 * first, then everything.
 */
#include <string.h>

#include "media/branch.h"

static void test_closed_until_connected(void)
{
	struct branch *b = branch_new("0123456789abcdef", 42);

	g_assert_cmpstr(b->sid, ==, "01234567"); /* the short id: SHORT_ID_LEN digits */
	g_assert_cmpint(b->created_us, ==, 42);
	g_assert_cmpint(g_atomic_int_get(&b->gate), ==, GATE_CLOSED);
	/* Before the session layer says the transport is up, not even a keyframe goes. */
	g_assert_cmpint(branch_gate(b, true), ==, GATE_DROP);
	g_assert_cmpint(branch_gate(b, false), ==, GATE_DROP);
	g_assert_cmpint(g_atomic_int_get(&b->gate), ==, GATE_CLOSED);
	branch_unref(b);
}

static void test_keyframe_first(void)
{
	struct branch *b = branch_new("cafe", 0);

	g_atomic_int_set(&b->gate, GATE_WAIT_KEYFRAME); /* what the session layer does on connect */
	g_assert_cmpint(branch_gate(b, false), ==, GATE_DROP);
	g_assert_cmpint(branch_gate(b, false), ==, GATE_DROP);
	/* The first keyframe opens the gate, once: the caller logs "first keyframe sent". */
	g_assert_cmpint(branch_gate(b, true), ==, GATE_OPENED);
	g_assert_cmpint(g_atomic_int_get(&b->gate), ==, GATE_OPEN);
	g_assert_cmpint(branch_gate(b, false), ==, GATE_PASS);
	g_assert_cmpint(branch_gate(b, true), ==, GATE_PASS);
	branch_unref(b);
}

static void test_references(void)
{
	struct branch *b = branch_new("feed", 0);

	/* Each user (session, probe, fan-out member) holds one; the last one frees it. */
	g_assert_true(branch_ref(b) == b);
	branch_unref(b);
	b->packets = 7; /* still ours */
	g_assert_cmpuint(b->packets, ==, 7);
	branch_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/branch/closed-until-connected", test_closed_until_connected);
	g_test_add_func("/branch/keyframe-first", test_keyframe_first);
	g_test_add_func("/branch/references", test_references);
	return g_test_run();
}
