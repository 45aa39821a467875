/*
 * The frames a passed-through track keeps for joins (daemon/media/gopcache.c):
 * a keyframe starts them, they are handed out as new buffers sharing the
 * kept memory with their timestamps drawn together before the live frame,
 * and never when the GOP overflowed, was forgotten, or the frame asking is
 * not the newest kept.
 */
#include <gst/gst.h>
#include <stdbool.h>

#include "media/gopcache.h"

#define MS   GST_MSECOND
#define TICK ((GST_SECOND + 89999) / 90000)

/* A frame of `size` bytes at `pts`, a keyframe or not; the first byte is `tag`. */
static GstBuffer *frame(GstClockTime pts, bool key, gsize size, guint8 tag)
{
	GstBuffer *b = gst_buffer_new_allocate(NULL, size, NULL);

	gst_buffer_memset(b, 0, tag, size);
	GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = pts;
	if (!key)
		GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
	return b;
}

static guint8 first_byte(GstBuffer *b)
{
	guint8 v = 0;

	gst_buffer_extract(b, 0, &v, 1);
	return v;
}

static void unref_all(GstBuffer **out, guint n)
{
	for (guint i = 0; i < n; i++)
		gst_buffer_unref(out[i]);
}

static void test_before(void)
{
	struct gopcache *c = gopcache_new("cam");
	GstBuffer *out[GOPCACHE_MAX_FRAMES], *f[4];
	guint gop = 0, n;

	f[0] = frame(1000 * MS, false, 100, 'x'); /* no keyframe yet: nothing kept */
	gopcache_keep(c, f[0]);
	g_assert_cmpuint(gopcache_before(c, f[0], out, &gop), ==, 0);
	f[1] = frame(1033 * MS, true, 100, 'k');
	f[2] = frame(1066 * MS, false, 100, 'a');
	f[3] = frame(1100 * MS, false, 100, 'b');
	for (int i = 1; i < 4; i++)
		gopcache_keep(c, f[i]);
	/* `b` goes through the tee: the keyframe and `a` before it, a tick apart, just before b. */
	n = gopcache_before(c, f[3], out, &gop);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(gop, ==, gopcache_gop(c));
	g_assert_cmpint(first_byte(out[0]), ==, 'k');
	g_assert_cmpint(first_byte(out[1]), ==, 'a');
	g_assert_false(GST_BUFFER_FLAG_IS_SET(out[0], GST_BUFFER_FLAG_DELTA_UNIT));
	g_assert_cmpuint(GST_BUFFER_PTS(out[0]), ==, 1100 * MS - 2 * TICK);
	g_assert_cmpuint(GST_BUFFER_PTS(out[1]), ==, 1100 * MS - TICK);
	g_assert_cmpuint(GST_BUFFER_DTS(out[1]), ==, GST_BUFFER_PTS(out[1]));
	/* New buffers on the same memory; the kept ones keep their own timestamps. */
	g_assert_true(out[0] != f[1]);
	g_assert_true(gst_buffer_peek_memory(out[0], 0) == gst_buffer_peek_memory(f[1], 0));
	g_assert_cmpuint(GST_BUFFER_PTS(f[1]), ==, 1033 * MS);
	unref_all(out, n);
	/* Only for the newest frame kept: any other would get frames twice or out of order. */
	g_assert_cmpuint(gopcache_before(c, f[2], out, &gop), ==, 0);
	/* A keyframe starts anew, in a new GOP. */
	gop = gopcache_gop(c);
	gst_buffer_unref(f[0]);
	f[0] = frame(1133 * MS, true, 100, 'K');
	gopcache_keep(c, f[0]);
	g_assert_cmpuint(gopcache_gop(c), ==, gop + 1);
	g_assert_cmpuint(gopcache_before(c, f[0], out, &gop), ==, 0); /* the keyframe itself */
	for (int i = 0; i < 4; i++)
		gst_buffer_unref(f[i]);
	gopcache_unref(c);
}

static void test_bounds(void)
{
	struct gopcache *c = gopcache_new("cam");
	GstBuffer *out[GOPCACHE_MAX_FRAMES], *b;
	guint gop, i;

	/* Frames: a GOP one frame longer than kept is dropped whole, up to the next keyframe. */
	b = frame(10 * GST_SECOND, true, 10, 'k');
	gopcache_keep(c, b);
	gst_buffer_unref(b);
	for (i = 1; i <= GOPCACHE_MAX_FRAMES; i++) {
		b = frame(10 * GST_SECOND + i * 33 * MS, false, 10, 'd');
		gopcache_keep(c, b);
		if (i == GOPCACHE_MAX_FRAMES - 1) {
			guint n = gopcache_before(c, b, out, &gop);

			g_assert_cmpuint(n, ==, GOPCACHE_MAX_FRAMES - 1);
			unref_all(out, n);
		}
		if (i == GOPCACHE_MAX_FRAMES)
			g_assert_cmpuint(gopcache_before(c, b, out, &gop), ==, 0);
		gst_buffer_unref(b);
	}
	b = frame(30 * GST_SECOND, false, 10, 'd');
	gopcache_keep(c, b);
	g_assert_cmpuint(gopcache_before(c, b, out, &gop), ==, 0);
	gst_buffer_unref(b);
	/* Bytes: a keyframe and a delta frame that pass GOPCACHE_MAX_BYTES together. */
	b = frame(31 * GST_SECOND, true, GOPCACHE_MAX_BYTES - 10, 'K');
	gopcache_keep(c, b);
	gst_buffer_unref(b);
	b = frame(31 * GST_SECOND + 33 * MS, false, 11, 'd');
	gopcache_keep(c, b);
	g_assert_cmpuint(gopcache_before(c, b, out, &gop), ==, 0);
	gst_buffer_unref(b);
	gopcache_unref(c);
}

static void test_forget(void)
{
	struct gopcache *c = gopcache_new("cam");
	GstBuffer *out[GOPCACHE_MAX_FRAMES], *k = frame(GST_SECOND, true, 10, 'k'),
	                                     *d = frame(GST_SECOND + 33 * MS, false, 10, 'd');
	guint gop;

	gopcache_keep(c, k);
	gopcache_forget(c); /* the source restarted */
	gopcache_keep(c, d);
	g_assert_cmpuint(gopcache_before(c, d, out, &gop), ==, 0);
	/* No room before a live frame at the stream's very start: nothing rather than wrapping. */
	gst_buffer_unref(k);
	gst_buffer_unref(d);
	k = frame(0, true, 10, 'k');
	d = frame(TICK / 2, false, 10, 'd');
	gopcache_keep(c, k);
	gopcache_keep(c, d);
	g_assert_cmpuint(gopcache_before(c, d, out, &gop), ==, 0);
	gst_buffer_unref(k);
	gst_buffer_unref(d);
	gopcache_unref(c);
}

/* A pool's buffer (a USB camera's) is copied: holding it would starve its source. */
static void test_pooled(void)
{
	struct gopcache *c = gopcache_new("cam");
	GstBufferPool *pool = gst_buffer_pool_new();
	GstStructure *cfg = gst_buffer_pool_get_config(pool);
	GstBuffer *out[GOPCACHE_MAX_FRAMES], *k = NULL,
	                                     *d = frame(GST_SECOND + 33 * MS, false, 8, 'd');
	GstBufferPoolAcquireParams dontwait = {.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT};
	guint gop, n;

	gst_buffer_pool_config_set_params(cfg, NULL, 8, 1, 1);
	g_assert_true(gst_buffer_pool_set_config(pool, cfg));
	g_assert_true(gst_buffer_pool_set_active(pool, TRUE));
	g_assert_cmpint(gst_buffer_pool_acquire_buffer(pool, &k, NULL), ==, GST_FLOW_OK);
	gst_buffer_memset(k, 0, 'k', 8);
	GST_BUFFER_PTS(k) = GST_SECOND;
	gopcache_keep(c, k);
	gopcache_keep(c, d);
	gst_buffer_unref(k); /* back to its pool, whose only buffer it is: the cache holds a copy */
	k = NULL;
	g_assert_cmpint(gst_buffer_pool_acquire_buffer(pool, &k, &dontwait), ==, GST_FLOW_OK);
	n = gopcache_before(c, d, out, &gop);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(first_byte(out[0]), ==, 'k');
	unref_all(out, n);
	gst_buffer_unref(k);
	gst_buffer_unref(d);
	gst_buffer_pool_set_active(pool, FALSE);
	gst_object_unref(pool);
	gopcache_unref(c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/gopcache/before", test_before);
	g_test_add_func("/gopcache/bounds", test_bounds);
	g_test_add_func("/gopcache/forget", test_forget);
	g_test_add_func("/gopcache/pooled", test_pooled);
	return g_test_run();
}
