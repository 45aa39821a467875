/*
 * stream.c - one camera stream: its source (source.c) and a track per codec
 * (track.c), built once and shared by every viewer of the stream. Owns the
 * pipeline, its bus watch, the restart of a failed source and a clip's loop
 * (its bin restarted at its end, in place), and the table of the daemon's
 * streams.
 */
#define G_LOG_DOMAIN "stream"
#include <string.h>

#include "stream.h"

#define RESTART_FIRST_MS 1000  /* a failed source is retried after this, */
#define RESTART_MAX_MS   10000 /* doubling up to this while it stays away */
#define SOURCE_STALL_S   5     /* a live source that sends nothing this long is offline */
#define CLIP_MIN_MS      200   /* a clip's run shorter than this is not looped (a still picture) */

static GPtrArray *streams;               /* struct stream *, owned: every stream of the daemon */
static const struct stream_hooks *hooks; /* from stream_start_all */

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

/* Main thread: the source produced its first frame (at start, or after it was away). */
static gboolean stream_mark_live_cb(gpointer data)
{
	struct stream *s = data;
	guint i;

	if (s->state == STREAM_OFFLINE) {
		s->state = STREAM_LIVE;
		s->restart_ms = 0;
		g_message("stream %s: back: source %s sends again; its viewers play on",
		          s->cfg->name, s->source_public);
		for (i = 0; i < CODEC_COUNT; i++)
			if (s->tracks[i] != NULL)
				track_source_back(s->tracks[i]);
		if (hooks->online != NULL)
			hooks->online(s);
	} else if (s->state == STREAM_STARTING) {
		s->state = STREAM_LIVE;
		audio_start(s);
		if (s->kind == SOURCE_H264)
			g_message("stream %s: live (%s, H.264 passed through)", s->cfg->name,
			          s->source_public);
		else
			g_message("stream %s: live (%s, %dx%d@%d)", s->cfg->name, s->source_public,
			          s->cfg->width, s->cfg->height, s->cfg->fps);
	}
	return G_SOURCE_REMOVE;
}

/* Streaming thread: frames out of the source. */
static GstPadProbeReturn source_out_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct stream *s = data;

	g_atomic_int_set(&s->last_frame_s, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
	g_atomic_int_inc(&s->run_frames);
	if (G_UNLIKELY(s->state != STREAM_LIVE))
		g_main_context_invoke(NULL, stream_mark_live_cb, s);
	return GST_PAD_PROBE_OK;
}

static void stream_go_offline(struct stream *s, const char *why);
static void start_failed(struct stream *s, const char *what);

/*
 * Main thread: start the source's bin. A clip's every run starts at running
 * time 0 in a segment of its own: the bin's base time is now, so clocksync
 * releases its first frame at once and the others at their times, and its
 * ghost pad's offset (now - the pipeline's base time) puts that run at now
 * on the pipeline's running time, so what follows (the encoders, the RTP
 * timestamps payloaders derive from running time) runs on across loops
 * instead of going back to the first run's start. Other sources follow the
 * pipeline's clock and base time.
 */
static bool source_play(struct stream *s)
{
	if (s->loops) {
		GstClock *clock = gst_pipeline_get_pipeline_clock(GST_PIPELINE(s->pipeline));
		GstClockTime now = gst_clock_get_time(clock);
		GstPad *pad = gst_element_get_static_pad(s->source_bin, "src");
		GstPad *sound = gst_element_get_static_pad(s->source_bin, "audio");
		GstClockTimeDiff offset =
		    GST_CLOCK_DIFF(gst_element_get_base_time(s->pipeline), now);

		gst_element_set_clock(s->source_bin, clock);
		gst_element_set_base_time(s->source_bin, now);
		gst_pad_set_offset(pad, offset);
		if (sound != NULL) /* the clip's sound runs on with its picture (audio_source.c) */
			gst_pad_set_offset(sound, offset);
		gst_object_unref(pad);
		g_clear_object(&sound);
		gst_object_unref(clock);
		g_atomic_int_set(&s->run_frames, 0);
		s->run_start_us = g_get_monotonic_time();
	}
	return gst_element_set_state(s->source_bin, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

/*
 * Main thread: the source ended. A clip plays again from its start at
 * once, under the same tracks and viewers (a clip gone meanwhile fails to
 * open: offline, retried); any other source is offline.
 */
static gboolean source_eos_cb(gpointer data)
{
	struct stream *s = data;

	if (!s->loops || s->restart_timer != 0) {
		stream_go_offline(s, "end of stream");
		return G_SOURCE_REMOVE;
	}
	/* A clip with no frame, or a picture, would loop as fast as it can be opened. */
	if (g_atomic_int_get(&s->run_frames) == 0 ||
	    g_get_monotonic_time() - s->run_start_us < CLIP_MIN_MS * 1000) {
		stream_go_offline(s, "the clip ended at once (no video, or a still picture)");
		return G_SOURCE_REMOVE;
	}
	g_debug("stream %s: end of the clip, %d frames: from its start again", s->cfg->name,
	        g_atomic_int_get(&s->run_frames));
	gst_element_set_state(s->source_bin, GST_STATE_NULL);
	if (!source_play(s))
		start_failed(s, "the clip cannot be played again");
	return G_SOURCE_REMOVE;
}

/*
 * Streaming thread: the source's end of stream stops here. Past the source
 * it would end every sink for good (an appsink at EOS takes nothing more),
 * and the source is to be restarted under the same tracks and viewers.
 */
static GstPadProbeReturn source_eos_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS)
		return GST_PAD_PROBE_OK;
	g_main_context_invoke(NULL, source_eos_cb, data);
	return GST_PAD_PROBE_DROP;
}

struct track *stream_track(const struct stream *s, enum codec c)
{
	return c == CODEC_OPUS ? s->audio : s->tracks[c];
}

void stream_codec_sends(const struct stream *s, struct codec_sends *out)
{
	guint i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < s->n_codecs; i++)
		out->order[out->n++] = s->order[i];
	if (s->tracks[CODEC_H264] != NULL)
		out->h264_profile = track_h264_profile(s->tracks[CODEC_H264]);
	out->audio = s->audio != NULL;
}

/*
 * The codecs in order: as configured, else what the source gives without
 * re-encoding first (H.264 from a camera), else VP8 then H.264.
 */
static void choose_codecs(struct stream *s)
{
	guint i;

	if (s->cfg->n_codecs > 0) {
		for (i = 0; i < (guint)s->cfg->n_codecs; i++)
			s->order[i] = s->cfg->codecs[i];
		s->n_codecs = (guint)s->cfg->n_codecs;
		return;
	}
	s->order[0] = s->kind == SOURCE_H264 ? CODEC_H264 : CODEC_VP8;
	s->order[1] = s->kind == SOURCE_H264 ? CODEC_VP8 : CODEC_H264;
	s->n_codecs = 2;
}

/*
 * A track per codec. Raw frames: the first codec's encoder always runs (the
 * stream's own; a join never waits for an encoder to start), the others only
 * while a viewer needs them. H.264 from the source: passed through (even
 * when not sent, it feeds the others), and the others transcoded from it.
 */
static int build_tracks(struct stream *s, GstElement *src, char **err)
{
	GstElement *raw = NULL;
	guint i;

	if (s->kind == SOURCE_H264) {
		s->tracks[CODEC_H264] = track_new_passthrough(s, CODEC_H264, src, err);
		if (s->tracks[CODEC_H264] == NULL)
			return -1;
	} else {
		raw = gst_element_factory_make("tee", "raw");
		if (raw == NULL) {
			*err = g_strdup("tee missing: install gstreamer1.0-plugins-base");
			return -1;
		}
		g_object_set(raw, "allow-not-linked", TRUE, NULL);
		gst_bin_add(GST_BIN(s->pipeline), raw);
		if (!gst_element_link(src, raw)) {
			*err = g_strdup_printf("stream %s: cannot link its source", s->cfg->name);
			return -1;
		}
	}
	for (i = 0; i < s->n_codecs; i++) {
		enum codec c = s->order[i];

		if (s->tracks[c] != NULL)
			continue;
		s->tracks[c] = raw != NULL ? track_new_encoded(s, c, raw, i > 0, err)
		                           : track_new_transcoded(s, c, s->tracks[CODEC_H264], err);
		if (s->tracks[c] == NULL)
			return -1;
	}
	for (i = 0; i < CODEC_COUNT; i++)
		if (s->tracks[i] != NULL && hooks->track_added != NULL &&
		    hooks->track_added(s, s->tracks[i], err) != 0)
			return -1;
	return 0;
}

static bool is_stream_element(struct stream *s, GstObject *obj)
{
	/* Anything that is not inside a viewer's elements: source, convert, encoder, tee. */
	for (; obj != NULL; obj = GST_OBJECT_PARENT(obj)) {
		if (GST_OBJECT_PARENT(obj) == GST_OBJECT(s->pipeline))
			return !g_str_has_prefix(GST_OBJECT_NAME(obj), STREAM_VIEWER_BIN_PREFIX);
	}
	return false;
}

/*
 * Only the source restarts: the tracks, payloaders and viewers' branches
 * stay as they are, so RTP sequence numbers and timestamps run on and a
 * viewer's player sees a pause, not a new stream.
 */
static gboolean restart_cb(gpointer data)
{
	struct stream *s = data;

	s->restart_timer = 0;
	g_debug("stream %s: trying source %s again", s->cfg->name, s->source_public);
	if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
	    !source_play(s))
		start_failed(s, "source failed to start");
	return G_SOURCE_REMOVE;
}

/* Logged once when the stream goes; the retries (with backoff) only at debug level. */
static void stream_go_offline(struct stream *s, const char *why)
{
	if (s->restart_timer != 0)
		return;
	s->restart_ms =
	    s->restart_ms == 0 ? RESTART_FIRST_MS : MIN(2 * s->restart_ms, RESTART_MAX_MS);
	if (s->state != STREAM_OFFLINE) {
		g_warning("stream %s: offline: %s; viewers kept, retrying (every %d-%d s)",
		          s->cfg->name, why, RESTART_FIRST_MS / 1000, RESTART_MAX_MS / 1000);
		s->state = STREAM_OFFLINE;
		if (hooks->offline != NULL)
			hooks->offline(s);
	} else {
		g_debug("stream %s: still offline: %s; next try in %u ms", s->cfg->name, why,
		        s->restart_ms);
	}
	gst_element_set_state(s->source_bin, GST_STATE_NULL);
	s->restart_timer = g_timeout_add(s->restart_ms, restart_cb, s);
}

/* Main thread, every second: a source that stalled (a camera that hangs) is offline too. */
static gboolean stall_cb(gpointer data)
{
	struct stream *s = data;
	gint now = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);

	if (s->state == STREAM_LIVE && now - g_atomic_int_get(&s->last_frame_s) >= SOURCE_STALL_S) {
		char why[64];

		g_snprintf(why, sizeof(why), "no frames for %d s", SOURCE_STALL_S);
		stream_go_offline(s, why);
	}
	return G_SOURCE_CONTINUE;
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

	char *why, *more;

	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ERROR:
		gst_message_parse_error(msg, &gerr, &dbg);
		/* An RTSP source's errors may quote its URL: never its password. */
		why = source_redact(gerr->message, s->source);
		more = source_redact(dbg != NULL ? dbg : "", s->source);
		if (s->audio_bin != NULL &&
		    gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(s->audio_bin)))
			audio_failed(s, why); /* the picture plays on */
		else if (is_stream_element(s, GST_MESSAGE_SRC(msg)))
			stream_go_offline(s, why);
		else
			g_info("stream %s: %s: %s", s->cfg->name, GST_MESSAGE_SRC_NAME(msg), why);
		g_debug("%s", more);
		g_free(why);
		g_free(more);
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

/*
 * A clip's pipeline has no live element of its own (its bin is locked, and
 * clocksync does not say it is live), so the pipeline would wait for every
 * branch to preroll, and a transcoding track's decodebin, behind its shut
 * valve, never does: no sink would reach PLAYING. An idle live appsrc, never
 * linked and never fed, makes the pipeline live, as a camera's is.
 */
static int make_live(struct stream *s, char **err)
{
	GstElement *live = gst_element_factory_make("appsrc", "live");

	if (live == NULL) {
		*err = g_strdup("appsrc missing: install gstreamer1.0-plugins-base");
		return -1;
	}
	g_object_set(live, "is-live", TRUE, NULL);
	gst_bin_add(GST_BIN(s->pipeline), live);
	return 0;
}

/*
 * The source did not start: offline, with the error it posted on the way (a
 * clip gone: "Resource not found") taken off the bus, where it would come
 * too late to be told (the stream is offline by then). A viewer's errors
 * found there are handled as bus_cb does.
 */
static void start_failed(struct stream *s, const char *what)
{
	GstBus *bus = gst_pipeline_get_bus(GST_PIPELINE(s->pipeline));
	GstMessage *msg;
	char *why = NULL;

	while (why == NULL && (msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) != NULL) {
		if (is_stream_element(s, GST_MESSAGE_SRC(msg))) {
			GError *gerr = NULL;
			char *text;

			gst_message_parse_error(msg, &gerr, NULL);
			text = source_redact(gerr->message, s->source);
			if (g_str_has_suffix(text, ".")) /* "Resource not found." */
				text[strlen(text) - 1] = '\0';
			why = g_strdup_printf("%s: %s", what, text);
			g_free(text);
			g_clear_error(&gerr);
		} else {
			bus_cb(bus, msg, s);
		}
		gst_message_unref(msg);
	}
	gst_object_unref(bus);
	stream_go_offline(s, why != NULL ? why : what);
	g_free(why);
}

static void stream_free(struct stream *s);

int stream_track_added(struct stream *s, struct track *t, char **err)
{
	return hooks->track_added != NULL ? hooks->track_added(s, t, err) : 0;
}

static struct stream *stream_new(struct stream_config *cfg, char **err)
{
	struct stream *s = g_new0(struct stream, 1);
	GstElement *src;
	GstBus *bus;
	GstPad *pad;

	s->cfg = cfg;
	s->source = config_resolve_source(cfg->source, "/dev/video0");
	s->source_public = source_public_name(s->source);
	if (strcmp(cfg->source, "auto") == 0)
		g_message("stream %s: source auto: %s", cfg->name,
		          g_str_has_prefix(s->source, "test:")
		              ? "no camera at /dev/video0, streaming a test pattern"
		              : s->source);
	src = source_bin_new(cfg, s->source, &s->kind, err);
	if (src == NULL)
		goto fail;
	s->source_bin = src;
	/* A clip's bin is started by source_play alone, with a base time of its own. */
	s->loops = g_str_has_prefix(s->source, "file:");
	gst_element_set_locked_state(src, s->loops);
	s->pipeline = gst_pipeline_new(cfg->name);
	gst_bin_add(GST_BIN(s->pipeline), src);
	if (s->loops && make_live(s, err) != 0)
		goto fail;
	pad = gst_element_get_static_pad(src, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, source_out_probe, s, NULL);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, source_eos_probe, s, NULL);
	gst_object_unref(pad);
	choose_codecs(s);
	if (build_tracks(s, src, err) != 0)
		goto fail;
	pad = gst_element_get_static_pad(src, "src");
	if (audio_attach(s, pad, err) != 0 || (s->audio != NULL && hooks->track_added != NULL &&
	                                       hooks->track_added(s, s->audio, err) != 0)) {
		gst_object_unref(pad);
		goto fail;
	}
	gst_object_unref(pad);

	bus = gst_pipeline_get_bus(GST_PIPELINE(s->pipeline));
	s->bus_watch = gst_bus_add_watch(bus, bus_cb, s);
	gst_object_unref(bus);
	s->state = STREAM_STARTING;
	s->stall_timer = g_timeout_add_seconds(1, stall_cb, s);
	if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
	    (s->loops && !source_play(s)))
		start_failed(s, "source failed to start");
	return s;
fail:
	stream_free(s);
	return NULL;
}

static void stream_free(struct stream *s)
{
	guint i;

	if (s == NULL)
		return;
	if (s->restart_timer != 0)
		g_source_remove(s->restart_timer);
	if (s->stall_timer != 0)
		g_source_remove(s->stall_timer);
	if (s->audio_retry_timer != 0)
		g_source_remove(s->audio_retry_timer);
	if (s->bus_watch != 0)
		g_source_remove(s->bus_watch);
	if (s->pipeline != NULL) {
		if (s->source_bin != NULL) /* a locked one is not stopped by its pipeline */
			gst_element_set_state(s->source_bin, GST_STATE_NULL);
		gst_element_set_state(s->pipeline, GST_STATE_NULL);
		for (i = 0; i < CODEC_COUNT; i++) {
			if (s->tracks[i] != NULL && hooks->track_removed != NULL)
				hooks->track_removed(s, s->tracks[i]);
			track_free(s->tracks[i]);
		}
		if (s->audio != NULL && hooks->track_removed != NULL)
			hooks->track_removed(s, s->audio);
		if (s->audio != s->sound_track)
			track_free(s->sound_track);
		track_free(s->audio);
		gst_object_unref(s->pipeline);
	}
	g_free(s->source);
	g_free(s->source_public);
	g_free(s);
}

int stream_start_all(GPtrArray *configs, const struct stream_hooks *h, char **err)
{
	guint i;

	hooks = h;
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
