/*
 * branch.c - a viewer's join gate and traffic counters (branch.h), shared
 * by the session layer and the thread that sends the viewer its frames.
 */
#include <string.h>

#include "branch.h"

struct branch *branch_new(const char *sid, gint64 created_us)
{
	struct branch *b = g_rc_box_new0(struct branch);

	b->created_us = created_us;
	g_strlcpy(b->sid, sid, sizeof(b->sid));
	return b;
}

struct branch *branch_ref(struct branch *b)
{
	return g_rc_box_acquire(b);
}

void branch_unref(gpointer b)
{
	g_rc_box_release(b);
}

enum gate_step branch_gate(struct branch *b, bool keyframe)
{
	gint gate = g_atomic_int_get(&b->gate);

	if (gate == GATE_OPEN)
		return GATE_PASS;
	if (gate == GATE_CLOSED || !keyframe)
		return GATE_DROP;
	g_atomic_int_set(&b->gate, GATE_OPEN);
	return GATE_OPENED;
}
