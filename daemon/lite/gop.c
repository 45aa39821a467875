/*
 * gop.c - the frames since the last keyframe, for viewers that join
 * between keyframes (gop.h). Two uses, one mechanism: a camera's frames
 * passed through, whose keyframes no join can hasten (its whole GOP is
 * kept), and our own encoder's, where the keyframe a join asked for when
 * its offer came can be out before the viewer's DTLS handshake ends (kept
 * while it is fresh).
 */
#include <string.h>

#include "gop.h"
#include "lite.h"

struct kept_packet {
	guint16 frame; /* counted from the keyframe */
	uint16_t len;
	uint8_t data[DIRECT_MAX_PACKET];
};

struct gop {
	guint max_packets;
	gint64 max_age_us;
	struct kept_packet *packets;
	guint len, frames;
	bool full;           /* overflowed, or forgotten: nothing to offer until the next keyframe */
	gint64 keyframe_us;  /* when the keyframe came */
	const uint8_t **data; /* gop_offer's answer */
	gsize *lens;
	guint32 *ts;
};

struct gop *gop_new(guint max_packets, gint64 max_age_us)
{
	struct gop *g = g_new0(struct gop, 1);

	g->max_packets = max_packets;
	g->max_age_us = max_age_us;
	g->packets = g_new(struct kept_packet, max_packets);
	g->data = g_new(const uint8_t *, max_packets);
	g->lens = g_new(gsize, max_packets);
	g->ts = g_new(guint32, max_packets);
	return g;
}

void gop_free(struct gop *g)
{
	if (g == NULL)
		return;
	g_free(g->packets);
	g_free(g->data);
	g_free(g->lens);
	g_free(g->ts);
	g_free(g);
}

void gop_keep(struct gop *g, const uint8_t *const *data, const gsize *lens, guint npackets,
              bool keyframe, gint64 now_us)
{
	guint i;

	if (keyframe) {
		g->len = g->frames = 0;
		g->full = false;
		g->keyframe_us = now_us;
	} else if (g->len == 0 || g->full) {
		return; /* no keyframe to start from */
	}
	if (g->len + npackets > g->max_packets || g->frames >= G_MAXUINT16) {
		g->full = true;
		g->len = 0;
		return;
	}
	for (i = 0; i < npackets; i++) {
		struct kept_packet *k = &g->packets[g->len];

		if (lens[i] < 12 || lens[i] > DIRECT_MAX_PACKET)
			continue;
		k->len = (uint16_t)lens[i];
		k->frame = (guint16)g->frames;
		memcpy(k->data, data[i], lens[i]);
		g->len++;
	}
	g->frames++;
}

guint gop_offer(struct gop *g, guint32 live_ts, gint64 now_us, const uint8_t *const **data,
                const gsize **lens, const guint32 **ts)
{
	guint i;

	if (g->len == 0 || g->full || (g->max_age_us > 0 && now_us - g->keyframe_us > g->max_age_us))
		return 0;
	for (i = 0; i < g->len; i++) {
		g->data[i] = g->packets[i].data;
		g->lens[i] = g->packets[i].len;
		g->ts[i] = live_ts - (g->frames - g->packets[i].frame);
	}
	*data = g->data;
	*lens = g->lens;
	*ts = g->ts;
	return g->len;
}

guint gop_frames(const struct gop *g)
{
	return g->frames;
}

void gop_forget(struct gop *g)
{
	g->len = g->frames = 0;
	g->full = false;
}
