/*
 * track.c - a stream's encoded video: vp8enc ! tee, the frames it counts,
 * and its keyframe requests, which are coalesced and rate-limited so a
 * crowd of joins or a storm of PLIs costs the encoder one keyframe.
 * Owns the keyframe and frame-rate timers; the elements are the pipeline's.
 */
#define G_LOG_DOMAIN "stream"
#include <gst/video/video.h>

#include "stream.h"
#include "track.h"

#define KEYFRAME_MIN_INTERVAL_MS 100  /* joins: at most 10 forced keyframes a second */
#define KEYFRAME_PLI_INTERVAL_MS 500  /* viewers' PLI/FIR: at most 2 a second, the rest wait */
#define KEYFRAME_PENDING_MAX_MS  1000 /* a request unanswered this long is retried */

struct track {
	struct stream *stream; /* the owner */
	GstElement *encoder, *tee;
	/* keyframe requests: coalesced and rate-limited */
	gint keyframe_pending; /* atomic: the streaming thread clears it */
	gint64 last_keyframe_request_us;
	gint64 last_pli_us;
	guint keyframe_timer; /* a keyframe scheduled: it serves every request meanwhile */
	enum keyframe_reason timer_reason; /* what keyframe_timer was set for */
	guint64 keyframes_forced;
	gpointer frames;      /* frames encoded; atomic (gsize), bumped by the encoder thread */
	gsize frames_at_tick; /* for fps_measured */
	guint fps_measured;   /* frames encoded over the last second */
	guint fps_timer;
};

static GstElement *make_encoder(const struct stream_config *cfg)
{
	GstElement *enc = gst_element_factory_make("vp8enc", "encoder");

	if (enc == NULL)
		return NULL;
	/* Realtime: no lookahead, constant bitrate, survives packet loss. */
	g_object_set(enc, "deadline", (gint64)1, "lag-in-frames", 0, "cpu-used", cfg->encoder_speed,
	             "threads", 2, "target-bitrate", cfg->bitrate_kbps * 1000, "keyframe-max-dist",
	             cfg->keyframe_interval, "buffer-size", 1000, "buffer-initial-size", 500,
	             "buffer-optimal-size", 600, NULL);
	gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
	gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
	return enc;
}

/* Streaming thread: watch encoded frames for keyframes and liveness. */
static GstPadProbeReturn encoder_out_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct track *t = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

	g_atomic_pointer_add(&t->frames, 1);
	if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
		g_atomic_int_set(&t->keyframe_pending, 0);
		g_debug("stream %s: keyframe out", t->stream->cfg->name);
	}
	if (G_UNLIKELY(t->stream->state == STREAM_STARTING))
		g_main_context_invoke(NULL, stream_mark_live_cb, t->stream);
	return GST_PAD_PROBE_OK;
}

static gboolean keyframe_request_cb(gpointer data)
{
	struct track *t = data;

	t->keyframe_timer = 0;
	track_request_keyframe(t, t->timer_reason);
	return G_SOURCE_REMOVE;
}

static gboolean keyframe_for_pli_cb(gpointer data)
{
	track_request_keyframe(data, KEYFRAME_FOR_PLI);
	return G_SOURCE_REMOVE;
}

void track_request_keyframe_any_thread(struct track *t)
{
	g_main_context_invoke(NULL, keyframe_for_pli_cb, t);
}

/* Streaming thread: a viewer's PLI/FIR travelling up the tee. */
static GstPadProbeReturn tee_upstream_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);

	if (!gst_video_event_is_force_key_unit(ev))
		return GST_PAD_PROBE_OK;
	g_main_context_invoke(NULL, keyframe_for_pli_cb, data);
	return GST_PAD_PROBE_DROP;
}

/*
 * A join is never kept waiting by viewers' PLIs: a keyframe scheduled for
 * a PLI is brought forward to the join's own (at most KEYFRAME_MIN_INTERVAL_MS)
 * and serves both. A PLI within KEYFRAME_PLI_INTERVAL_MS of the last one
 * forced waits for the interval's end rather than being dropped: one viewer
 * (limited to one request per KEYFRAME_VIEWER_INTERVAL_MS by its media path)
 * cannot make everyone else's go unanswered, and every request meanwhile
 * shares that one keyframe.
 */
void track_request_keyframe(struct track *t, enum keyframe_reason why)
{
	gint64 now = g_get_monotonic_time();
	gint64 since_ms = (now - t->last_keyframe_request_us) / 1000;
	gint64 wait_ms = 0;
	GstPad *src;

	if (t->encoder == NULL)
		return;
	if (t->keyframe_timer != 0 && why == KEYFRAME_FOR_JOIN &&
	    t->timer_reason == KEYFRAME_FOR_PLI)
		g_clear_handle_id(&t->keyframe_timer, g_source_remove);
	if (t->keyframe_timer != 0)
		return; /* the keyframe scheduled serves this caller too */
	if (g_atomic_int_get(&t->keyframe_pending) && since_ms < KEYFRAME_PENDING_MAX_MS)
		return; /* the keyframe asked for is on its way: it serves this caller too */
	if (since_ms < KEYFRAME_MIN_INTERVAL_MS)
		wait_ms = KEYFRAME_MIN_INTERVAL_MS - since_ms;
	/* A storm of PLIs (loss on many viewers) must not turn into keyframes. */
	if (why == KEYFRAME_FOR_PLI && (now - t->last_pli_us) / 1000 < KEYFRAME_PLI_INTERVAL_MS)
		wait_ms = MAX(wait_ms, KEYFRAME_PLI_INTERVAL_MS - (now - t->last_pli_us) / 1000);
	if (wait_ms > 0) {
		t->timer_reason = why;
		t->keyframe_timer = g_timeout_add((guint)wait_ms, keyframe_request_cb, t);
		return;
	}
	if (why == KEYFRAME_FOR_PLI)
		t->last_pli_us = now;
	g_debug("stream %s: keyframe requested", t->stream->cfg->name);
	t->last_keyframe_request_us = now;
	g_atomic_int_set(&t->keyframe_pending, 1);
	t->keyframes_forced++;
	src = gst_element_get_static_pad(t->encoder, "src");
	gst_pad_send_event(
	    src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
	gst_object_unref(src);
}

/* Main thread, every second: the encoder's real frame rate, for /metrics. */
static gboolean fps_tick_cb(gpointer data)
{
	struct track *t = data;
	gsize now = (gsize)g_atomic_pointer_get(&t->frames);

	t->fps_measured = (guint)(now - t->frames_at_tick);
	t->frames_at_tick = now;
	return G_SOURCE_CONTINUE;
}

struct track *track_new_video(struct stream *s, GstElement *upstream, char **err)
{
	struct track *t = g_new0(struct track, 1);
	GstPad *pad;

	t->stream = s;
	t->encoder = make_encoder(s->cfg);
	t->tee = gst_element_factory_make("tee", "tee");
	if (t->encoder == NULL || t->tee == NULL) {
		*err = g_strdup("vp8enc or tee missing: install gstreamer1.0-plugins-good");
		gst_clear_object(&t->encoder);
		gst_clear_object(&t->tee);
		g_free(t);
		return NULL;
	}
	g_object_set(t->tee, "allow-not-linked", TRUE, NULL);
	gst_bin_add_many(GST_BIN(s->pipeline), t->encoder, t->tee, NULL);
	if (!gst_element_link_many(upstream, t->encoder, t->tee, NULL)) {
		*err = g_strdup_printf("stream %s: cannot link source to encoder", s->cfg->name);
		g_free(t);
		return NULL;
	}
	pad = gst_element_get_static_pad(t->encoder, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, encoder_out_probe, t, NULL);
	gst_object_unref(pad);
	pad = gst_element_get_static_pad(t->tee, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, tee_upstream_probe, t, NULL);
	gst_object_unref(pad);
	t->fps_timer = g_timeout_add_seconds(1, fps_tick_cb, t);
	return t;
}

void track_free(struct track *t)
{
	if (t == NULL)
		return;
	if (t->keyframe_timer != 0)
		g_source_remove(t->keyframe_timer);
	if (t->fps_timer != 0)
		g_source_remove(t->fps_timer);
	g_free(t);
}

GstElement *track_tee(const struct track *t)
{
	return t->tee;
}

guint64 track_frames(const struct track *t)
{
	return (guint64)(gsize)g_atomic_pointer_get(&((struct track *)t)->frames);
}

guint track_fps(const struct track *t)
{
	return t->fps_measured;
}

guint64 track_keyframes_forced(const struct track *t)
{
	return t->keyframes_forced;
}
