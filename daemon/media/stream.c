/*
 * stream.c - one camera stream: source ! convert/scale/rate ! caps !
 * vp8enc ! tee, built once and shared by every viewer of the stream.
 * Owns the pipeline, its bus watch, and the stream's keyframe requests,
 * which are coalesced and rate-limited so a crowd of joins or a storm of
 * PLIs costs the encoder one keyframe.
 */
#define G_LOG_DOMAIN "stream"
#include <gst/video/video.h>
#include <string.h>

#include "daemon.h"
#include "direct.h"

#define KEYFRAME_MIN_INTERVAL_MS 100  /* joins: at most 10 forced keyframes a second */
#define KEYFRAME_PLI_INTERVAL_MS 500  /* viewers' PLI/FIR: at most 2 a second, the rest dropped */
#define KEYFRAME_PENDING_MAX_MS  1000 /* a request unanswered this long is retried */
#define RESTART_DELAY_MS         2000 /* a failed source is retried this often */

static GPtrArray *streams; /* struct stream *, owned: every stream of the daemon */

const char *stream_state_name(enum stream_state st)
{
	switch (st) {
	case STREAM_STARTING:
		return "starting";
	case STREAM_LIVE:
		return "live";
	case STREAM_OFFLINE:
		return "offline";
	}
	return "unknown";
}

char *stream_source_description(const struct stream_config *cfg, const char *source)
{
	char *head, *desc;
	const char *adapt = "videoconvert ! videoscale ! videorate";

	if (g_str_has_prefix(source, "v4l2:")) {
		/* decodebin takes raw or MJPEG caps, whichever the camera offers. */
		head = g_strdup_printf("v4l2src device=\"%s\" ! decodebin", source + 5);
	} else if (g_str_has_prefix(source, "file:")) {
		head = g_strdup_printf("multifilesrc location=\"%s\" loop=true ! decodebin",
		                       source + 5);
	} else {
		const char *pattern = source[5] != '\0' ? source + 5 : "smpte";
		GstElementFactory *clock = gst_element_factory_find("clockoverlay");

		/*
		 * Moving and clocked, so frames differ and latency can be read off the
		 * picture. The pattern is made at the stream's size and rate: no
		 * videorate, which holds a frame back (a frame of join latency).
		 */
		head = g_strdup_printf("videotestsrc is-live=true pattern=%s horizontal-speed=4 ! "
		                       "video/x-raw,width=%d,height=%d,framerate=%d/1%s",
		                       pattern, cfg->width, cfg->height, cfg->fps,
		                       clock == NULL
		                           ? ""
		                           : " ! clockoverlay halignment=right valignment=bottom "
		                             "shaded-background=true font-desc=\"Sans 24\" "
		                             "time-format=\"%H:%M:%S\"");
		if (clock != NULL)
			gst_object_unref(clock);
		adapt = "videoconvert";
	}
	desc = g_strdup_printf("%s ! %s ! capsfilter "
	                       "caps=\"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1\"",
	                       head, adapt, cfg->width, cfg->height, cfg->fps);
	g_free(head);
	return desc;
}

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

/* Main thread: the encoder produced its first frame. */
static gboolean mark_live_cb(gpointer data)
{
	struct stream *s = data;

	if (s->state == STREAM_STARTING) {
		s->state = STREAM_LIVE;
		g_message("stream %s: live (%s, %dx%d@%d)", s->cfg->name, s->source, s->cfg->width,
		          s->cfg->height, s->cfg->fps);
	}
	return G_SOURCE_REMOVE;
}

/* Streaming thread: watch encoded frames for keyframes and liveness. */
static GstPadProbeReturn encoder_out_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct stream *s = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

	g_atomic_pointer_add(&s->frames, 1);
	if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
		g_atomic_int_set(&s->keyframe_pending, 0);
		g_debug("stream %s: keyframe out", s->cfg->name);
	}
	if (G_UNLIKELY(s->state == STREAM_STARTING))
		g_main_context_invoke(NULL, mark_live_cb, s);
	return GST_PAD_PROBE_OK;
}

static gboolean keyframe_request_cb(gpointer data)
{
	struct stream *s = data;

	s->keyframe_timer = 0;
	stream_request_keyframe(s, KEYFRAME_FOR_JOIN);
	return G_SOURCE_REMOVE;
}

static gboolean keyframe_for_pli_cb(gpointer data)
{
	stream_request_keyframe(data, KEYFRAME_FOR_PLI);
	return G_SOURCE_REMOVE;
}

void stream_request_keyframe_any_thread(struct stream *s)
{
	g_main_context_invoke(NULL, keyframe_for_pli_cb, s);
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

void stream_request_keyframe(struct stream *s, enum keyframe_reason why)
{
	gint64 now = g_get_monotonic_time();
	gint64 since_ms = (now - s->last_keyframe_request_us) / 1000;
	GstPad *src;

	if (why == KEYFRAME_FOR_PLI) {
		/* A storm of PLIs (loss on many viewers) must not turn into keyframes. */
		if ((now - s->last_pli_us) / 1000 < KEYFRAME_PLI_INTERVAL_MS)
			return;
		s->last_pli_us = now;
	}
	if (s->encoder == NULL || s->keyframe_timer != 0)
		return;
	if (g_atomic_int_get(&s->keyframe_pending) && since_ms < KEYFRAME_PENDING_MAX_MS)
		return; /* the keyframe asked for is on its way: it serves this caller too */
	if (since_ms < KEYFRAME_MIN_INTERVAL_MS) {
		s->keyframe_timer = g_timeout_add((guint)(KEYFRAME_MIN_INTERVAL_MS - since_ms),
		                                  keyframe_request_cb, s);
		return;
	}
	g_debug("stream %s: keyframe requested", s->cfg->name);
	s->last_keyframe_request_us = now;
	g_atomic_int_set(&s->keyframe_pending, 1);
	s->keyframes_forced++;
	src = gst_element_get_static_pad(s->encoder, "src");
	gst_pad_send_event(
	    src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
	gst_object_unref(src);
}

static bool is_stream_element(struct stream *s, GstObject *obj)
{
	/* Anything that is not inside a viewer's elements: source, convert, encoder, tee. */
	for (; obj != NULL; obj = GST_OBJECT_PARENT(obj)) {
		if (GST_OBJECT_PARENT(obj) == GST_OBJECT(s->pipeline))
			return !g_str_has_prefix(GST_OBJECT_NAME(obj), "v-");
	}
	return false;
}

static gboolean restart_cb(gpointer data)
{
	struct stream *s = data;

	s->restart_timer = 0;
	g_message("stream %s: restarting source %s", s->cfg->name, s->source);
	s->state = STREAM_STARTING;
	if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		s->state = STREAM_OFFLINE;
		s->restart_timer = g_timeout_add(RESTART_DELAY_MS, restart_cb, s);
	}
	return G_SOURCE_REMOVE;
}

static void stream_go_offline(struct stream *s, const char *why)
{
	if (s->restart_timer != 0)
		return;
	g_warning("stream %s: offline: %s; retrying in %d ms", s->cfg->name, why, RESTART_DELAY_MS);
	s->state = STREAM_OFFLINE;
	viewer_reap_stream(s, "stream-offline");
	gst_element_set_state(s->pipeline, GST_STATE_NULL);
	s->restart_timer = g_timeout_add(RESTART_DELAY_MS, restart_cb, s);
}

/*
 * Main thread. The watch also drains every viewer's messages: a webrtcbin
 * that reached PLAYING is only finalized once its bus messages are gone.
 */
static gboolean bus_cb(GstBus *bus, GstMessage *msg, gpointer data)
{
	struct stream *s = data;
	GError *gerr = NULL;
	char *dbg = NULL;

	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ERROR:
		gst_message_parse_error(msg, &gerr, &dbg);
		if (is_stream_element(s, GST_MESSAGE_SRC(msg)))
			stream_go_offline(s, gerr->message);
		else
			g_info("stream %s: %s: %s", s->cfg->name, GST_MESSAGE_SRC_NAME(msg),
			       gerr->message);
		g_debug("%s", dbg != NULL ? dbg : "");
		g_clear_error(&gerr);
		g_free(dbg);
		break;
	case GST_MESSAGE_EOS:
		stream_go_offline(s, "end of stream");
		break;
	default:
		break;
	}
	return G_SOURCE_CONTINUE;
}

/* Main thread, every second: the encoder's real frame rate, for /metrics. */
static gboolean fps_tick_cb(gpointer data)
{
	struct stream *s = data;
	gsize now = (gsize)g_atomic_pointer_get(&s->frames);

	s->fps_measured = (guint)(now - s->frames_at_tick);
	s->frames_at_tick = now;
	return G_SOURCE_CONTINUE;
}

struct stream *stream_new(struct stream_config *cfg, char **err)
{
	struct stream *s = g_new0(struct stream, 1);
	GstElement *src = NULL;
	GError *gerr = NULL;
	GstPad *pad;
	char *desc;
	GstBus *bus;

	s->cfg = cfg;
	s->source = config_resolve_source(cfg->source, "/dev/video0");
	if (strcmp(cfg->source, "auto") == 0)
		g_message("stream %s: source auto: %s", cfg->name,
		          g_str_has_prefix(s->source, "test:")
		              ? "no camera at /dev/video0, streaming a test pattern"
		              : s->source);
	desc = stream_source_description(cfg, s->source);
	g_debug("stream %s: %s", cfg->name, desc);
	src = gst_parse_bin_from_description(desc, TRUE, &gerr);
	g_free(desc);
	if (src == NULL) {
		*err = g_strdup_printf("stream %s: source %s: %s", cfg->name, s->source,
		                       gerr != NULL ? gerr->message : "cannot build");
		g_clear_error(&gerr);
		goto fail;
	}
	gst_object_set_name(GST_OBJECT(src), "source");
	s->pipeline = gst_pipeline_new(cfg->name);
	s->encoder = make_encoder(cfg);
	s->tee = gst_element_factory_make("tee", "tee");
	if (s->encoder == NULL || s->tee == NULL) {
		*err = g_strdup("vp8enc or tee missing: install gstreamer1.0-plugins-good");
		gst_object_unref(src);
		goto fail;
	}
	g_object_set(s->tee, "allow-not-linked", TRUE, NULL);
	gst_bin_add_many(GST_BIN(s->pipeline), src, s->encoder, s->tee, NULL);
	if (!gst_element_link_many(src, s->encoder, s->tee, NULL)) {
		*err = g_strdup_printf("stream %s: cannot link source to encoder", cfg->name);
		goto fail;
	}
	if (direct_enabled() && fanout_attach(s, err) != 0)
		goto fail;
	pad = gst_element_get_static_pad(s->encoder, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, encoder_out_probe, s, NULL);
	gst_object_unref(pad);
	pad = gst_element_get_static_pad(s->tee, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, tee_upstream_probe, s, NULL);
	gst_object_unref(pad);

	bus = gst_pipeline_get_bus(GST_PIPELINE(s->pipeline));
	s->bus_watch = gst_bus_add_watch(bus, bus_cb, s);
	gst_object_unref(bus);
	s->fps_timer = g_timeout_add_seconds(1, fps_tick_cb, s);
	s->state = STREAM_STARTING;
	if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		stream_go_offline(s, "source failed to start");
	return s;
fail:
	stream_free(s);
	return NULL;
}

void stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->keyframe_timer != 0)
		g_source_remove(s->keyframe_timer);
	if (s->restart_timer != 0)
		g_source_remove(s->restart_timer);
	if (s->fps_timer != 0)
		g_source_remove(s->fps_timer);
	if (s->bus_watch != 0)
		g_source_remove(s->bus_watch);
	if (s->pipeline != NULL) {
		gst_element_set_state(s->pipeline, GST_STATE_NULL);
		fanout_detach(s);
		gst_object_unref(s->pipeline);
	}
	g_free(s->source);
	g_free(s);
}

int stream_start_all(GPtrArray *configs, char **err)
{
	guint i;

	streams = g_ptr_array_new_with_free_func((GDestroyNotify)stream_free);
	for (i = 0; i < configs->len; i++) {
		struct stream *s = stream_new(g_ptr_array_index(configs, i), err);

		if (s == NULL)
			return -1;
		g_ptr_array_add(streams, s);
	}
	return 0;
}

void stream_stop_all(void)
{
	if (streams != NULL)
		g_ptr_array_unref(streams);
	streams = NULL;
}

struct stream *stream_find(const char *name)
{
	guint i;

	for (i = 0; streams != NULL && i < streams->len; i++) {
		struct stream *s = g_ptr_array_index(streams, i);

		if (strcmp(s->cfg->name, name) == 0)
			return s;
	}
	return NULL;
}

GPtrArray *stream_list(void)
{
	if (streams == NULL)
		streams = g_ptr_array_new_with_free_func((GDestroyNotify)stream_free);
	return streams;
}
