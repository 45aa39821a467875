/*
 * track.h - one encoded track of a stream: today its VP8 video, made by
 * `... ! vp8enc ! tee`. A media path hangs what it sends from off the
 * track's tee (the direct path one fan-out per track, mode full a branch per
 * viewer). The track owns its encoder's keyframe policy: requests are
 * coalesced and rate-limited, so a crowd of joins or a storm of PLIs costs
 * the encoder one keyframe. Its stream owns it; its elements belong to the
 * stream's pipeline. Main loop, unless a comment says otherwise.
 */
#ifndef WHEPCAMD_MEDIA_TRACK_H
#define WHEPCAMD_MEDIA_TRACK_H

#include <glib.h>
#include <gst/gst.h>

#include "base/config.h"

struct stream;
struct track; /* opaque */

/*
 * The video encoder and its tee, added to the stream's pipeline after
 * `upstream` and linked. NULL with *err set (caller frees) when an element
 * is missing or does not link. track_free after the pipeline is NULL.
 */
struct track *track_new_video(struct stream *s, GstElement *upstream, char **err);
void track_free(struct track *t);

/* Where consumers request their pads ("src_%u"). Borrowed: the pipeline's. */
GstElement *track_tee(const struct track *t);

/*
 * One viewer's PLI/FIR count at most once per this, so that a viewer that
 * floods them forces at most one keyframe per 2 s for everyone, not the
 * stream's two a second. Browsers ask again while no keyframe comes, so a
 * request refused here is repeated once the interval is over. Enforced by
 * the media path, which knows its viewers (mode lite: lite.c).
 */
#define KEYFRAME_VIEWER_INTERVAL_MS 2000

enum keyframe_reason { KEYFRAME_FOR_JOIN, KEYFRAME_FOR_PLI };
/*
 * Ask the encoder for a keyframe soon. Calls while one is on its way share
 * it; joins force at most one per 100 ms, viewers' PLI/FIR one per 500 ms
 * (one coming sooner waits for it), and a join never waits for a PLI's.
 */
void track_request_keyframe(struct track *t, enum keyframe_reason why);
/* Any thread (lock-free): a viewer's PLI/FIR, handed to the main loop's track_request_keyframe. */
void track_request_keyframe_any_thread(struct track *t);

/* For /metrics: frames encoded (any thread), their rate over the last second, keyframes forced. */
guint64 track_frames(const struct track *t);
guint track_fps(const struct track *t);
guint64 track_keyframes_forced(const struct track *t);

#endif
