/*
 * gopcache.c - a passed-through track's frames since its last keyframe
 * (gopcache.h), and the probes on its tee that keep them. Owns a reference
 * to each frame kept (or a copy of one its source must get back) until the
 * next keyframe, an overflow or a forget.
 */
#define G_LOG_DOMAIN "stream"
#include <string.h>

#include "gopcache.h"

/* One 90 kHz RTP clock tick, rounded up: frames this far apart get distinct RTP timestamps. */
#define GOPCACHE_TICK_NS ((GST_SECOND + 89999) / 90000)

struct gopcache {
	GMutex lock;
	GPtrArray *frames;       /* GstBuffer *, owned; [0] the keyframe; under the lock */
	gsize bytes;             /* their sizes */
	const GstBuffer *newest; /* the last buffer kept: compared, never dereferenced */
	gint gop;                /* atomic (guint): bumped by every keyframe */
	gboolean over;           /* the GOP outgrew the bounds: nothing until the next keyframe */
	gboolean told;           /* the overflow was logged (once) */
	char name[64];
};

static void gopcache_clear(gpointer p)
{
	struct gopcache *c = p;

	g_ptr_array_unref(c->frames);
	g_mutex_clear(&c->lock);
}

struct gopcache *gopcache_new(const char *name)
{
	struct gopcache *c = g_atomic_rc_box_new0(struct gopcache);

	g_mutex_init(&c->lock);
	c->frames = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
	g_strlcpy(c->name, name, sizeof(c->name));
	return c;
}

struct gopcache *gopcache_ref(struct gopcache *c)
{
	return g_atomic_rc_box_acquire(c);
}

void gopcache_unref(gpointer c)
{
	if (c != NULL)
		g_atomic_rc_box_release_full(c, gopcache_clear);
}

/* A reference, unless holding one would keep a pool's buffer or a device's memory from it. */
static GstBuffer *keepable(GstBuffer *buf)
{
	guint i, n = gst_buffer_n_memory(buf);

	if (buf->pool != NULL)
		return gst_buffer_copy_deep(buf);
	for (i = 0; i < n; i++)
		if (!gst_memory_is_type(gst_buffer_peek_memory(buf, i), GST_ALLOCATOR_SYSMEM))
			return gst_buffer_copy_deep(buf);
	return gst_buffer_ref(buf);
}

void gopcache_keep(struct gopcache *c, GstBuffer *buf)
{
	gsize size = gst_buffer_get_size(buf);

	g_mutex_lock(&c->lock);
	c->newest = buf;
	if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
		g_ptr_array_set_size(c->frames, 0);
		c->bytes = 0;
		c->over = FALSE;
		g_atomic_int_inc(&c->gop);
	} else if (c->frames->len == 0 || c->over) {
		goto out; /* no keyframe to start from */
	}
	if (c->frames->len >= GOPCACHE_MAX_FRAMES || c->bytes + size > GOPCACHE_MAX_BYTES) {
		if (!c->told)
			g_info("stream %s: a GOP longer than %u frames or %u bytes: "
			       "joiners wait for its next keyframe",
			       c->name, GOPCACHE_MAX_FRAMES, GOPCACHE_MAX_BYTES);
		c->told = TRUE;
		c->over = TRUE;
		g_ptr_array_set_size(c->frames, 0);
		c->bytes = 0;
		goto out;
	}
	g_ptr_array_add(c->frames, keepable(buf));
	c->bytes += size;
out:
	g_mutex_unlock(&c->lock);
}

void gopcache_forget(struct gopcache *c)
{
	g_mutex_lock(&c->lock);
	g_ptr_array_set_size(c->frames, 0);
	c->bytes = 0;
	c->newest = NULL;
	g_mutex_unlock(&c->lock);
}

guint gopcache_before(struct gopcache *c, GstBuffer *live, GstBuffer **out, guint *gop)
{
	GstClockTime at =
	    GST_BUFFER_PTS_IS_VALID(live) ? GST_BUFFER_PTS(live) : GST_BUFFER_DTS(live);
	guint i, n = 0;

	g_mutex_lock(&c->lock);
	/* The live frame is the newest kept; the frames before it start with the keyframe. */
	if (c->over || c->newest != live || c->frames->len < 2 || !GST_CLOCK_TIME_IS_VALID(at))
		goto out;
	n = c->frames->len - 1;
	if (at < (GstClockTime)n * GOPCACHE_TICK_NS) {
		n = 0; /* the stream's first milliseconds: no room before it */
		goto out;
	}
	for (i = 0; i < n; i++) {
		GstBuffer *b = gst_buffer_copy(g_ptr_array_index(c->frames, i));

		GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) =
		    at - (GstClockTime)(n - i) * GOPCACHE_TICK_NS;
		out[i] = b;
	}
	*gop = (guint)g_atomic_int_get(&c->gop);
out:
	g_mutex_unlock(&c->lock);
	return n;
}

guint gopcache_gop(struct gopcache *c)
{
	return (guint)g_atomic_int_get(&c->gop);
}

/* Streaming thread: every frame into the tee. */
static GstPadProbeReturn keep_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	gopcache_keep(data, GST_PAD_PROBE_INFO_BUFFER(info));
	return GST_PAD_PROBE_OK;
}

/*
 * Streaming thread: a source that starts again (its restart, a flush)
 * starts its timestamps anew, and the frames kept from before must reach
 * nobody.
 */
static GstPadProbeReturn event_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	switch (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info))) {
	case GST_EVENT_STREAM_START:
	case GST_EVENT_SEGMENT:
	case GST_EVENT_FLUSH_STOP:
		gopcache_forget(data);
		break;
	default:
		break;
	}
	return GST_PAD_PROBE_OK;
}

void gopcache_watch(struct gopcache *c, GstPad *pad)
{
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, keep_probe, gopcache_ref(c),
	                  gopcache_unref);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, event_probe, gopcache_ref(c),
	                  gopcache_unref);
}
