/*
 * gopcache.h - a passed-through track's encoded frames since its last
 * keyframe, as references to the tee's own buffers, so that a viewer
 * joining between a camera's keyframes (which nothing can hasten) starts
 * from the last one at once instead of waiting up to a GOP. Mode full
 * feeds them into a joining viewer's branch (full/bin.c); the direct path
 * keeps its payloaded packets instead (lite/gop.c). Reference-counted: the
 * track and every viewer's probe that reads it hold one.
 * Threads: written on the tee's streaming thread; read there (the join
 * happens as a frame goes through the tee) and forgotten from any thread;
 * every call takes the cache's own lock.
 */
#ifndef WHEPCAMD_MEDIA_GOPCACHE_H
#define WHEPCAMD_MEDIA_GOPCACHE_H

#include <glib.h>
#include <gst/gst.h>

/*
 * What one GOP may hold: 10 s at 30 fps, 4 s at 16 Mbit/s. A GOP beyond
 * either is dropped whole and its joiners wait for the next keyframe (as
 * with no cache at all).
 */
#define GOPCACHE_MAX_FRAMES 300
#define GOPCACHE_MAX_BYTES  (8u << 20)

struct gopcache; /* opaque */

/* An empty cache for stream `name` (log lines): one reference, the caller's. */
struct gopcache *gopcache_new(const char *name);
struct gopcache *gopcache_ref(struct gopcache *c);
void gopcache_unref(gpointer c); /* a GDestroyNotify */

/*
 * A frame going into the tee: a keyframe (no DELTA_UNIT flag) starts the
 * GOP anew, a delta frame is added to a GOP that has its keyframe. Kept by
 * reference (the memory is shared, never written); a buffer from a pool
 * (a USB camera's) or of memory other than system memory is copied, so
 * that holding it never starves its source.
 */
void gopcache_keep(struct gopcache *c, GstBuffer *buf);
/* Nothing kept may be handed out: the source restarted, its timestamps started anew. */
void gopcache_forget(struct gopcache *c);
/*
 * Main thread, before data flows: keep every frame going into `pad` (a
 * tee's sink), and forget them at a new stream, segment or flush (a source
 * that starts again starts its timestamps anew). The probes hold references.
 */
void gopcache_watch(struct gopcache *c, GstPad *pad);

/*
 * For a viewer that joins as `live` (the frame just kept, a delta frame)
 * goes through the tee: the frames kept before it, the keyframe first,
 * into `out` (room for GOPCACHE_MAX_FRAMES; the caller owns each). They
 * are new buffers sharing the kept memory, their PTS and DTS rewritten
 * one 90 kHz tick apart ending one tick before `live`'s: a player then
 * decodes them in a burst and shows the newest picture at once, instead
 * of pacing frames up to a GOP old out at their own times and staying
 * that far behind. *gop is the GOP they belong to (gopcache_gop). 0: none
 * (no keyframe kept, the GOP overflowed, or `live` is not the newest kept).
 */
guint gopcache_before(struct gopcache *c, GstBuffer *live, GstBuffer **out, guint *gop);
/* Which GOP the newest frame kept belongs to (bumped by every keyframe). */
guint gopcache_gop(struct gopcache *c);

#endif
