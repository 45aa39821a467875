/*
 * branch.h - a viewer's share of a track: the join gate (nothing before the
 * viewer's transport is up, then a keyframe first) and the traffic counted
 * for the viewer. The session layer makes one per viewer and hands it to its
 * media path, whose streaming or send thread passes each frame through
 * branch_gate(). Reference-counted: the session layer and every probe or
 * fan-out member that uses it hold a reference, so it lives as long as its
 * last user whatever order they go in. Fields are atomics: any thread.
 */
#ifndef WHEPCAMD_MEDIA_BRANCH_H
#define WHEPCAMD_MEDIA_BRANCH_H

#include <glib.h>
#include <stdbool.h>

#include "base/util.h"

enum gate { GATE_CLOSED, GATE_WAIT_KEYFRAME, GATE_OPEN };

struct branch {
	gint gate;         /* enum gate */
	gint sound_open;   /* its sound may go: its picture's first packets are out (lite) */
	guint64 bytes;     /* encoded bytes let through the gate */
	guint64 packets;   /* RTP packets sent */
	gint64 created_us; /* the join, for the first-keyframe log line */
	char sid[SHORT_ID_LEN + 1];
};

/* A closed gate for viewer `sid`, joined at `created_us`: one reference, the caller's. */
struct branch *branch_new(const char *sid, gint64 created_us);
/* Any thread: another reference; branch_unref (a GDestroyNotify) gives one back. */
struct branch *branch_ref(struct branch *b);
void branch_unref(gpointer b);

enum gate_step {
	GATE_DROP,   /* not before the transport is up, nor a delta frame before a keyframe */
	GATE_PASS,   /* the gate is open */
	GATE_OPENED, /* the first keyframe: it passes and opens the gate; the caller logs it */
};
/* Streaming or send thread: may a frame (`keyframe` or not) go to this viewer now? */
enum gate_step branch_gate(struct branch *b, bool keyframe);

#endif
