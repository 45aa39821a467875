/*
 * track.h - one codec of a stream, ending in a tee that a media path hangs
 * what it sends from (the direct path one fan-out per track, mode full a
 * branch per viewer). A track is encoded from the stream's raw frames
 * (`... ! vp8enc ! tee`, `... ! x264enc ! h264parse ! tee`), transcoded
 * from the stream's H.264 (decode, then encode), or passed through (the
 * source's own H.264 ! tee: no encoder at all). A track that encodes may be
 * lazy: a valve before its encoder stays shut until a viewer of its codec
 * comes and shuts again a while after the last leaves, so an encoder runs
 * only while someone needs it. The track owns its keyframe policy: requests
 * are coalesced and rate-limited, so a crowd of joins or a storm of PLIs
 * costs the encoder one keyframe. Its stream owns it; its elements belong
 * to the stream's pipeline. Main loop, unless a comment says otherwise.
 */
#ifndef WHEPCAMD_MEDIA_TRACK_H
#define WHEPCAMD_MEDIA_TRACK_H

#include <glib.h>
#include <gst/gst.h>
#include <stdbool.h>

#include "base/config.h"

struct gopcache;
struct stream;
struct track; /* opaque */

/*
 * The codec `c` encoded from raw frames: its elements are added to the
 * stream's pipeline and fed from a request pad of `raw_tee`. `lazy`: the
 * encoder runs only while the track has users (track_hold). NULL with *err
 * set (caller frees) when an element is missing or does not link.
 */
struct track *track_new_encoded(struct stream *s, enum codec c, GstElement *raw_tee, bool lazy,
                                char **err);
/* The source's own encoded frames (`upstream` gives parsed, AU-aligned H.264): no encoder. */
struct track *track_new_passthrough(struct stream *s, enum codec c, GstElement *upstream,
                                    char **err);
/*
 * Codec `c` encoded from another track's frames (`from`, passed through),
 * decoded first: always lazy, and it starts decoding at `from`'s next keyframe.
 */
struct track *track_new_transcoded(struct stream *s, enum codec c, struct track *from, char **err);
/* track_free after the pipeline is NULL. */
void track_free(struct track *t);

/* Where consumers request their pads ("src_%u"). Borrowed: the pipeline's. */
GstElement *track_tee(const struct track *t);
enum codec track_codec(const struct track *t);

/*
 * A viewer of this track comes (hold) or goes (release): a lazy track's
 * encoder starts with the first and stops TRACK_IDLE_S after the last.
 */
#define TRACK_IDLE_S 5
void track_hold(struct track *t);
void track_release(struct track *t);
/* The stream's source came back: a decoder in the track waits for its next keyframe. */
void track_source_back(struct track *t);
/*
 * A passed-through track keeps its frames since the last keyframe from now
 * on (gopcache.h), for a media path that starts its joiners from them
 * (mode full); no-op on a track that encodes. Before the pipeline plays.
 */
void track_keep_gop(struct track *t);
/* The GOP kept (borrowed: gopcache_ref to keep it), or NULL. */
struct gopcache *track_gop(const struct track *t);
/* True when the track has no encoder: the source's own frames. */
bool track_passthrough(const struct track *t);
/* True while the track runs an encoder (a lazy one between its first viewer and its idle stop). */
bool track_encoding(const struct track *t);

/*
 * H.264: the profile-level-id it sends (profile_idc << 16 | constraint
 * flags << 8 | level_idc): from its last SPS, or what its encoder is set to
 * make; 0 while a passed-through stream has shown no SPS yet.
 */
guint32 track_h264_profile(const struct track *t);

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
 * Ask the encoder for a keyframe soon (a passed-through track asks its
 * source: a camera over RTSP gets a PLI where its session allows). Calls
 * while one is on its way share it; joins force at most one per 100 ms,
 * viewers' PLI/FIR one per 500 ms (one coming sooner waits for it), and a
 * join never waits for a PLI's.
 */
void track_request_keyframe(struct track *t, enum keyframe_reason why);
/* Any thread (lock-free): the same, handed to the main loop. */
void track_request_keyframe_any_thread(struct track *t, enum keyframe_reason why);

/* For /metrics: frames out of the track (any thread), their rate over the last second,
 * keyframes forced. */
guint64 track_frames(const struct track *t);
guint track_fps(const struct track *t);
guint64 track_keyframes_forced(const struct track *t);

#endif
