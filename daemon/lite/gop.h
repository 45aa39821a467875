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

/*
 * At most `max_packets` kept, and offered only while the keyframe is at
 * most `max_age_us` old (0: any age).
 */
struct gop *gop_new(guint max_packets, gint64 max_age_us);
void gop_free(struct gop *g);
/* One frame's packets as the payloader made them; a keyframe starts the GOP anew. */
void gop_keep(struct gop *g, const uint8_t *const *data, const gsize *lens, guint npackets,
              bool keyframe, gint64 now_us);
/*
 * What a viewer joining now gets before the frame with RTP timestamp
 * `live_ts`: the packets kept, their timestamps drawn together just before
 * it (one tick a frame), so that the player decodes them in a burst and
 * shows the newest picture now rather than pacing old frames out and
 * staying that far behind. Returns how many (0: nothing to offer: no
 * keyframe kept, more than max_packets since, or too old); *data, *lens and
 * *ts are valid until the next call.
 */
guint gop_offer(struct gop *g, guint32 live_ts, gint64 now_us, const uint8_t *const **data,
                const gsize **lens, const guint32 **ts);
/* Frames kept, the keyframe's included. */
guint gop_frames(const struct gop *g);
/* Nothing kept is offered (the source restarted): until the next keyframe. */
void gop_forget(struct gop *g);

#endif
