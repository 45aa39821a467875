/*
 * The frames kept for joins (daemon/lite/gop.c): a keyframe starts them,
 * they are offered with their timestamps drawn together before the live
 * frame, and never when they overflowed, were forgotten or came from a
 * keyframe older than the join that asks.
 */
#include <string.h>

#include <glib.h>

#include "lite/gop.h"

#define CAP 8

/* One RTP packet of a frame with timestamp ts; its first payload byte says which frame. */
static void packet(uint8_t *p, guint32 ts, uint8_t tag)
{
	memset(p, 0, 20);
	p[0] = 0x80;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[12] = tag;
}

/* A frame of n packets, all 20 bytes. */
static void keep(struct gop *g, guint32 ts, guint n, bool keyframe, gint64 now_us, uint8_t tag)
{
	uint8_t pkts[4][20];
	const uint8_t *data[4];
	gsize lens[4];

	for (guint i = 0; i < n; i++) {
		packet(pkts[i], ts, tag);
		data[i] = pkts[i];
		lens[i] = sizeof(pkts[i]);
	}
	gop_keep(g, data, lens, n, keyframe, now_us);
}

static void test_offer(void)
{
	struct gop *g = gop_new(CAP);
	const uint8_t *data[CAP];
	gsize lens[CAP];
	guint32 ts[CAP];
	struct gop_packets out = {.data = data, .lens = lens, .ts = ts};

	keep(g, 500, 1, false, 5, 'x'); /* no keyframe yet: nothing kept */
	g_assert_cmpuint(gop_offer(g, 0, 10000, &out), ==, 0);
	keep(g, 1000, 2, true, 10, 'k');
	keep(g, 4000, 1, false, 20, 'a');
	keep(g, 7000, 1, false, 30, 'b');
	g_assert_cmpuint(gop_frames(g), ==, 3);
	g_assert_cmpuint(gop_offer(g, 10, 10000, &out), ==, 4);
	g_assert_cmpint(data[0][12], ==, 'k');
	g_assert_cmpint(data[3][12], ==, 'b');
	g_assert_cmpuint(lens[2], ==, 20);
	/* Drawn together just before the live frame: one tick a frame. */
	g_assert_cmpuint(ts[0], ==, 9997);
	g_assert_cmpuint(ts[1], ==, 9997);
	g_assert_cmpuint(ts[2], ==, 9998);
	g_assert_cmpuint(ts[3], ==, 9999);
	/* Sent before the next frame came: the newest keeps its own timestamp. */
	g_assert_cmpuint(gop_offer(g, 0, gop_after_newest(g), &out), ==, 4);
	g_assert_cmpuint(ts[3], ==, 7000);
	g_assert_cmpuint(ts[0], ==, 6998);
	/* A join that came after this keyframe does not get it. */
	g_assert_cmpuint(gop_offer(g, 11, 10000, &out), ==, 0);
	gop_forget(g);
	g_assert_cmpuint(gop_offer(g, 0, 10000, &out), ==, 0);
	keep(g, 9000, 1, false, 40, 'c'); /* forgotten: nothing until a keyframe */
	g_assert_cmpuint(gop_offer(g, 0, 10000, &out), ==, 0);
	keep(g, 0xF0000000u, 1, true, 50, 'K'); /* timestamps with the top bit set (UBSan) */
	g_assert_cmpuint(gop_after_newest(g), ==, 0xF0000001u);
	gop_free(g);
}

static void test_overflow(void)
{
	struct gop *g = gop_new(CAP);
	const uint8_t *data[CAP];
	gsize lens[CAP];
	guint32 ts[CAP];
	struct gop_packets out = {.data = data, .lens = lens, .ts = ts};

	keep(g, 1000, 4, true, 10, 'k');
	keep(g, 4000, 4, false, 20, 'a'); /* exactly CAP */
	g_assert_cmpuint(gop_offer(g, 0, 9000, &out), ==, CAP);
	keep(g, 7000, 1, false, 30, 'b'); /* one more: the GOP is too long to send */
	g_assert_cmpuint(gop_offer(g, 0, 9000, &out), ==, 0);
	keep(g, 9000, 1, false, 40, 'c');
	g_assert_cmpuint(gop_offer(g, 0, 12000, &out), ==, 0);
	keep(g, 12000, 2, true, 50, 'K'); /* a new keyframe starts over */
	g_assert_cmpuint(gop_offer(g, 0, 15000, &out), ==, 2);
	g_assert_cmpint(data[0][12], ==, 'K');
	gop_free(g);
}

/* An H.264 access unit in two samples (SPS and PPS, then the IDR): one frame, kept whole. */
static void test_split_access_unit(void)
{
	struct gop *g = gop_new(CAP);
	const uint8_t *data[CAP];
	gsize lens[CAP];
	guint32 ts[CAP];
	struct gop_packets out = {.data = data, .lens = lens, .ts = ts};

	keep(g, 1000, 1, true, 10, 's'); /* SPS + PPS: a keyframe's start */
	keep(g, 1000, 2, true, 10, 'i'); /* the IDR slices, same timestamp */
	keep(g, 4000, 1, false, 20, 'p');
	keep(g, 4000, 1, false, 20, 'q'); /* a delta frame in two samples too */
	g_assert_cmpuint(gop_frames(g), ==, 2);
	g_assert_cmpuint(gop_offer(g, 0, 7000, &out), ==, 5);
	g_assert_cmpint(data[0][12], ==, 's');
	g_assert_cmpint(data[1][12], ==, 'i');
	g_assert_cmpuint(ts[0], ==, 6998);
	g_assert_cmpuint(ts[2], ==, 6998);
	g_assert_cmpuint(ts[3], ==, 6999);
	g_assert_cmpuint(ts[4], ==, 6999);
	gop_free(g);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gop/offer", test_offer);
	g_test_add_func("/gop/overflow", test_overflow);
	g_test_add_func("/gop/split-access-unit", test_split_access_unit);
	return g_test_run();
}
