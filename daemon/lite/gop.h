/*
 * gop.h - the frames since the last keyframe, kept so that a viewer whose
 * media starts between keyframes starts from one at once (fanout.c).
 * Send thread, under the fan-out's lock.
 */
#ifndef WHEPCAMD_LITE_GOP_H
#define WHEPCAMD_LITE_GOP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct gop; /* opaque */

/* What gop_offer fills: a thread's own, room for the GOP's max_packets. */
struct gop_packets {
	const uint8_t **data;
	gsize *lens;
	guint32 *ts;
};

/* At most `max_packets` kept: beyond, nothing is offered until the next keyframe. */
struct gop *gop_new(guint max_packets);
void gop_free(struct gop *g);
/* One frame's packets as the payloader made them; a keyframe starts the GOP anew. */
void gop_keep(struct gop *g, const uint8_t *const *data, const gsize *lens, guint npackets,
              bool keyframe, gint64 now_us);
/*
 * What a viewer joining now gets before the frame with RTP timestamp
 * `live_ts`: the packets kept, their timestamps drawn together just before
 * it (one tick a frame), so that the player decodes them in a burst and
 * shows the newest picture now rather than pacing old frames out and
 * staying that far behind. Fills `out` and returns how many (0: nothing
 * to offer: no keyframe kept, more than max_packets since, or a keyframe
 * that came before `not_before_us`).
 */
guint gop_offer(const struct gop *g, gint64 not_before_us, guint32 live_ts,
                struct gop_packets *out);
/* A live_ts for gop_offer that leaves the newest frame kept its own timestamp. */
guint32 gop_after_newest(const struct gop *g);
void gop_packets_init(struct gop_packets *p, const struct gop *g);
void gop_packets_clear(struct gop_packets *p);
/* Frames kept, the keyframe's included. */
guint gop_frames(const struct gop *g);
/* Nothing kept is offered (the source restarted): until the next keyframe. */
void gop_forget(struct gop *g);

#endif
