/*
 * gop.c - the frames since the last keyframe, for viewers that join
 * between keyframes (gop.h). Two uses, one mechanism: a camera's frames
 * passed through, whose keyframes no join can hasten (its whole GOP is
 * kept), and our own encoder's, where the keyframe a join asked for when
 * its offer came can be out before the viewer's DTLS handshake ends (the
 * frames from a keyframe that came after the offer).
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
	struct kept_packet *packets;
	guint len, frames;
	bool full;          /* overflowed, or forgotten: nothing to offer until the next keyframe */
	gint64 keyframe_us; /* when the keyframe came */
	guint32 newest_ts;  /* the newest frame's RTP timestamp */
};

struct gop *gop_new(guint max_packets)
{
	struct gop *g = g_new0(struct gop, 1);

	g->max_packets = max_packets;
	g->packets = g_new(struct kept_packet, max_packets);
	return g;
}

void gop_free(struct gop *g)
{
	if (g == NULL)
		return;
	g_free(g->packets);
	g_free(g);
}

static guint32 rtp_ts(const uint8_t *p)
{
	return (guint32)p[4] << 24 | (guint32)p[5] << 16 | (guint32)p[6] << 8 | p[7];
}

void gop_keep(struct gop *g, const uint8_t *const *data, const gsize *lens, guint npackets,
              bool keyframe, gint64 now_us)
{
	guint i;
	/*
	 * Packets with the newest frame's timestamp continue that frame: an
	 * H.264 access unit may come as two samples, its SPS and PPS (which
	 * count as a keyframe's start) and then the IDR slices.
	 */
	bool same_frame = g->len > 0 && !g->full && npackets > 0 && lens[0] >= 12 &&
	                  rtp_ts(data[0]) == g->newest_ts;

	if (keyframe && !same_frame) {
		g->len = g->frames = 0;
		g->full = false;
		g->keyframe_us = now_us;
	} else if (g->len == 0 || g->full) {
		return; /* no keyframe to start from */
	}
	if (same_frame)
		g->frames--; /* counted again below */
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
		g->newest_ts = rtp_ts(data[i]);
		g->len++;
	}
	g->frames++;
}

guint gop_offer(const struct gop *g, gint64 not_before_us, guint32 live_ts, struct gop_packets *out)
{
	guint i;

	if (g->len == 0 || g->full || g->keyframe_us < not_before_us)
		return 0;
	for (i = 0; i < g->len; i++) {
		out->data[i] = g->packets[i].data;
		out->lens[i] = g->packets[i].len;
		out->ts[i] = live_ts - (g->frames - g->packets[i].frame);
	}
	return g->len;
}

guint32 gop_after_newest(const struct gop *g)
{
	return g->newest_ts + 1;
}

void gop_packets_init(struct gop_packets *p, const struct gop *g)
{
	p->data = g_new(const uint8_t *, g->max_packets);
	p->lens = g_new(gsize, g->max_packets);
	p->ts = g_new(guint32, g->max_packets);
}

void gop_packets_clear(struct gop_packets *p)
{
	g_free(p->data);
	g_free(p->lens);
	g_free(p->ts);
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
