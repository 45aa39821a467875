/*
 * stream.c - one camera stream: source ! convert/scale/rate ! caps, then
 * its encoded track (track.c), built once and shared by every viewer of the
 * stream. Owns the pipeline, its bus watch and the restart of a failed
 * source, and the table of the daemon's streams.
 */
#define G_LOG_DOMAIN "stream"
#include <string.h>

#include "stream.h"

#define RESTART_DELAY_MS 2000 /* a failed source is retried this often */

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

/* Main thread: the encoder produced its first frame. */
gboolean stream_mark_live_cb(gpointer data)
{
	struct stream *s = data;

	if (s->state == STREAM_STARTING) {
		s->state = STREAM_LIVE;
		g_message("stream %s: live (%s, %dx%d@%d)", s->cfg->name, s->source, s->cfg->width,
		          s->cfg->height, s->cfg->fps);
	}
	return G_SOURCE_REMOVE;
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
	if (hooks->offline != NULL)
		hooks->offline(s);
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

static void stream_free(struct stream *s);

static struct stream *stream_new(struct stream_config *cfg, char **err)
{
	struct stream *s = g_new0(struct stream, 1);
	GstElement *src = NULL;
	GError *gerr = NULL;
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
	gst_bin_add(GST_BIN(s->pipeline), src);
	s->video = track_new_video(s, src, err);
	if (s->video == NULL)
		goto fail;
	if (hooks->track_added != NULL && hooks->track_added(s, s->video, err) != 0)
		goto fail;

	bus = gst_pipeline_get_bus(GST_PIPELINE(s->pipeline));
	s->bus_watch = gst_bus_add_watch(bus, bus_cb, s);
	gst_object_unref(bus);
	s->state = STREAM_STARTING;
	if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		stream_go_offline(s, "source failed to start");
	return s;
fail:
	stream_free(s);
	return NULL;
}

static void stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->restart_timer != 0)
		g_source_remove(s->restart_timer);
	if (s->bus_watch != 0)
		g_source_remove(s->bus_watch);
	if (s->pipeline != NULL) {
		gst_element_set_state(s->pipeline, GST_STATE_NULL);
		if (s->video != NULL && hooks->track_removed != NULL)
			hooks->track_removed(s, s->video);
		track_free(s->video);
		gst_object_unref(s->pipeline);
	}
	g_free(s->source);
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
