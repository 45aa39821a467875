/*
 * source.c - what a stream's source is in GStreamer terms: the description
 * of its bin (a camera, a clip, an RTSP URL, a test pattern), whether it
 * gives raw frames (to be encoded) or H.264 (passed through), and its name
 * with any credentials taken out, for logs and the stream list; and the bin
 * built from that description (source_bin_new), whose dynamic element
 * (rtspsrc, parsebin, decodebin) has its video pad linked at every start.
 * Pure text, but for asking a USB camera what it offers (source_v4l2_offered),
 * a clip what it holds (source_file_probe) and building the bin. Main loop,
 * but for dynamic_pad_added_cb.
 */
#define G_LOG_DOMAIN "stream"
#include <gst/pbutils/pbutils.h>
#include <string.h>

#include "stream.h"

/* RTSP: the jitter buffer holds this long; rtspsrc's default (2 s) is far from live. */
#define RTSP_LATENCY_MS 200

/* A clip's probe gives up after this (it reads the container's headers, nothing more). */
#define FILE_PROBE_TIMEOUT_S 5

/* Caps a source of kind SOURCE_H264 ends with: what the H.264 track and its payloaders take. */
#define H264_OUT    "capsfilter name=out caps=\"video/x-h264,stream-format=byte-stream,alignment=au\""
#define H264_PARSED "h264parse config-interval=-1 ! " H264_OUT

/*
 * An element whose pads come when data does (rtspsrc, parsebin, decodebin)
 * is named SOURCE_DYNAMIC and left unlinked in the description, its
 * successor named SOURCE_DYNAMIC_PEER: source_bin_new links each new video
 * pad to it, at every start. (gst-parse's own delayed link is made once: a
 * restarted source's new pads would stay unlinked.)
 */
#define DYNAMIC "name=" SOURCE_DYNAMIC
#define PEER    "name=" SOURCE_DYNAMIC_PEER

char *source_public_name(const char *source)
{
	const char *scheme = strstr(source, "://"), *at, *slash;

	if (scheme == NULL)
		return g_strdup(source);
	slash = strchr(scheme + 3, '/');
	at = strchr(scheme + 3, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return g_strdup(source);
	return g_strdup_printf("%.*s://***@%s", (int)(scheme - source), source, at + 1);
}

char *source_redact(const char *text, const char *source)
{
	const char *scheme = strstr(source, "://"), *at, *slash;
	char *secret, *out;
	GString *s;

	if (text == NULL || scheme == NULL)
		return g_strdup(text);
	slash = strchr(scheme + 3, '/');
	at = strchr(scheme + 3, '@');
	if (at == NULL || (slash != NULL && at > slash) || at == scheme + 3)
		return g_strdup(text);
	secret = g_strndup(scheme + 3, (gsize)(at - scheme - 3));
	s = g_string_new(text);
	g_string_replace(s, secret, "***", 0);
	out = g_string_free(s, FALSE);
	g_free(secret);
	return out;
}

static char *rtsp_head(const struct stream_config *cfg, const char *url)
{
	const char *protocols = strcmp(cfg->rtsp_transport, "tcp") == 0   ? " protocols=tcp"
	                        : strcmp(cfg->rtsp_transport, "udp") == 0 ? " protocols=udp"
	                                                                  : "";

	/* rtspsrc takes user:password@ from the URL itself; a new pad comes at each reconnection.
	 */
	return g_strdup_printf("rtspsrc " DYNAMIC " location=\"%s\" latency=%d%s "
	                       "rtph264depay " PEER " ! " H264_PARSED,
	                       url, RTSP_LATENCY_MS, protocols);
}

GstCaps *source_v4l2_offered(const char *device)
{
	GstElement *src = gst_element_factory_make("v4l2src", NULL);
	GstCaps *caps = NULL;
	GstPad *pad;

	if (src == NULL)
		return NULL;
	g_object_set(src, "device", device, NULL);
	/* READY opens the device; its pad's caps are then every format it lists. */
	if (gst_element_set_state(src, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS) {
		pad = gst_element_get_static_pad(src, "src");
		caps = gst_pad_query_caps(pad, NULL);
		gst_object_unref(pad);
	}
	gst_element_set_state(src, GST_STATE_NULL);
	gst_object_unref(src);
	if (caps != NULL && (gst_caps_is_empty(caps) || gst_caps_is_any(caps)))
		gst_clear_caps(&caps);
	return caps;
}

/* Whether the camera has `media` at exactly the stream's size and rate. */
static bool v4l2_has(const GstCaps *offered, const char *media, const struct stream_config *cfg)
{
	GstCaps *want =
	    gst_caps_new_simple(media, "width", G_TYPE_INT, cfg->width, "height", G_TYPE_INT,
	                        cfg->height, "framerate", GST_TYPE_FRACTION, cfg->fps, 1, NULL);
	bool yes = offered != NULL && gst_caps_can_intersect(offered, want);

	gst_caps_unref(want);
	return yes;
}

static bool wants_h264(const struct stream_config *cfg)
{
	int i;

	if (cfg->n_codecs == 0)
		return true; /* the default: what the source gives without re-encoding */
	for (i = 0; i < cfg->n_codecs; i++)
		if (cfg->codecs[i] == CODEC_H264)
			return true;
	return false;
}

char *source_v4l2_describe(const struct stream_config *cfg, const char *device,
                           const GstCaps *offered, enum source_kind *kind)
{
	char *mode =
	    g_strdup_printf("width=%d,height=%d,framerate=%d/1", cfg->width, cfg->height, cfg->fps);
	char *desc;

	*kind = SOURCE_RAW;
	/* H.264 from the camera, passed through: no decode, no encode (a viewer that lacks it is
	 * transcoded for). */
	if (wants_h264(cfg) && v4l2_has(offered, "video/x-h264", cfg)) {
		*kind = SOURCE_H264;
		desc = g_strdup_printf("v4l2src device=\"%s\" ! video/x-h264,%s ! " H264_PARSED,
		                       device, mode);
	} else if (v4l2_has(offered, "video/x-raw", cfg)) {
		desc = g_strdup_printf("v4l2src device=\"%s\" ! video/x-raw,%s ! videoconvert ! "
		                       "capsfilter name=out caps=\"video/x-raw,format=I420,%s\"",
		                       device, mode, mode);
	} else if (v4l2_has(offered, "image/jpeg", cfg)) {
		/* USB 2 cameras give 720p30 and up only as MJPEG: decoded once, for every codec. */
		desc = g_strdup_printf(
		    "v4l2src device=\"%s\" ! image/jpeg,%s ! jpegdec ! videoconvert ! "
		    "capsfilter name=out caps=\"video/x-raw,format=I420,%s\"",
		    device, mode, mode);
	} else {
		/* Unknown, or nothing at that size and rate: whatever it gives, decoded and scaled.
		 */
		desc = g_strdup_printf("v4l2src device=\"%s\" ! decodebin " DYNAMIC
		                       " videoconvert " PEER " ! videoscale ! videorate ! "
		                       "capsfilter name=out caps=\"video/x-raw,format=I420,%s\"",
		                       device, mode);
	}
	g_free(mode);
	return desc;
}

enum source_clip source_file_probe(const char *path, char **why)
{
	enum source_clip clip = CLIP_UNREADABLE;
	GstDiscovererInfo *info = NULL;
	GstDiscoverer *dc = NULL;
	GError *gerr = NULL;
	GList *videos = NULL;
	GstCaps *caps = NULL;
	char *uri;

	*why = NULL;
	uri = gst_filename_to_uri(path, &gerr);
	if (uri != NULL)
		dc = gst_discoverer_new(FILE_PROBE_TIMEOUT_S * GST_SECOND, &gerr);
	if (dc != NULL)
		info = gst_discoverer_discover_uri(dc, uri, &gerr);
	/* Plugins missing (a decoder, say) still tell the codec: only what is read matters. */
	if (info != NULL &&
	    (gst_discoverer_info_get_result(info) == GST_DISCOVERER_OK ||
	     gst_discoverer_info_get_result(info) == GST_DISCOVERER_MISSING_PLUGINS))
		videos = gst_discoverer_info_get_video_streams(info);
	if (videos != NULL) {
		caps = gst_discoverer_stream_info_get_caps(videos->data);
		clip =
		    caps != NULL && !gst_caps_is_empty(caps) &&
		            gst_structure_has_name(gst_caps_get_structure(caps, 0), "video/x-h264")
		        ? CLIP_H264
		        : CLIP_OTHER;
		gst_clear_caps(&caps);
	} else if (info != NULL && gst_discoverer_info_get_result(info) == GST_DISCOVERER_OK) {
		clip = CLIP_OTHER;
		*why = g_strdup("no video in it");
	} else {
		*why = g_strdup(gerr != NULL ? gerr->message : "cannot be read");
		if (g_str_has_suffix(*why, ".")) /* "Resource not found." */
			(*why)[strlen(*why) - 1] = '\0';
	}
	gst_discoverer_stream_info_list_free(videos);
	g_clear_object(&info);
	g_clear_object(&dc);
	g_clear_error(&gerr);
	g_free(uri);
	return clip;
}

char *source_file_describe(const struct stream_config *cfg, const char *path, enum source_clip clip,
                           enum source_kind *kind)
{
	/*
	 * Nothing else in a clip's pipeline waits for the clock (a file is not
	 * live, the sinks do not sync): clocksync releases each frame at its
	 * time, so that the clip plays in real time. At its end stream.c restarts
	 * the bin from the start (source_eos_cb).
	 */
	if (clip == CLIP_H264 && wants_h264(cfg)) {
		*kind = SOURCE_H264;
		return g_strdup_printf("filesrc location=\"%s\" ! parsebin " DYNAMIC
		                       " h264parse " PEER
		                       " config-interval=-1 ! clocksync ! " H264_OUT,
		                       path);
	}
	*kind = SOURCE_RAW;
	return g_strdup_printf("filesrc location=\"%s\" ! decodebin " DYNAMIC " videoconvert " PEER
	                       " ! videoscale ! videorate ! clocksync ! capsfilter name=out "
	                       "caps=\"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1\"",
	                       path, cfg->width, cfg->height, cfg->fps);
}

/* file:PATH: its H.264 passed through, anything else decoded; one that cannot be read yet is
 * decoded once it can be (the stream is offline meanwhile). */
static char *file_describe(const struct stream_config *cfg, const char *path,
                           enum source_kind *kind)
{
	char *why = NULL;
	enum source_clip clip = source_file_probe(path, &why);

	if (clip == CLIP_UNREADABLE)
		g_warning("stream %s: clip %s: %s; it will be decoded once it can be read",
		          cfg->name, path, why);
	else if (why != NULL)
		g_warning("stream %s: clip %s: %s", cfg->name, path, why);
	g_free(why);
	return source_file_describe(cfg, path, clip, kind);
}

/* test: or test:PATTERN. */
static char *test_describe(const struct stream_config *cfg, const char *pattern)
{
	GstElementFactory *clock = gst_element_factory_find("clockoverlay");
	char *desc;

	/*
	 * Moving and clocked, so frames differ and latency can be read off the
	 * picture. The pattern is made at the stream's size and rate: no
	 * videorate, which holds a frame back (a frame of join latency).
	 */
	desc = g_strdup_printf("videotestsrc is-live=true pattern=%s horizontal-speed=4 ! "
	                       "video/x-raw,width=%d,height=%d,framerate=%d/1%s ! videoconvert ! "
	                       "capsfilter name=out "
	                       "caps=\"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1\"",
	                       pattern, cfg->width, cfg->height, cfg->fps,
	                       clock == NULL ? ""
	                                     : " ! clockoverlay halignment=right valignment=bottom "
	                                       "shaded-background=true font-desc=\"Sans 24\" "
	                                       "time-format=\"%H:%M:%S\"",
	                       cfg->width, cfg->height, cfg->fps);
	if (clock != NULL)
		gst_object_unref(clock);
	return desc;
}

char *stream_source_describe(const struct stream_config *cfg, const char *source,
                             enum source_kind *kind)
{
	char *desc;

	*kind = SOURCE_RAW;
	if (g_str_has_prefix(source, "rtsp://") || g_str_has_prefix(source, "rtsps://")) {
		*kind = SOURCE_H264;
		return rtsp_head(cfg, source);
	}
	if (g_str_has_prefix(source, "v4l2:")) {
		GstCaps *offered = source_v4l2_offered(source + 5);

		desc = source_v4l2_describe(cfg, source + 5, offered, kind);
		if (offered != NULL) {
			char *list = gst_caps_to_string(offered);

			g_debug("stream %s: %s offers %s", cfg->name, source + 5, list);
			g_free(list);
			gst_caps_unref(offered);
		}
		return desc;
	}
	if (g_str_has_prefix(source, "file:"))
		return file_describe(cfg, source + 5, kind);
	return test_describe(cfg, source[5] != '\0' ? source + 5 : "smpte");
}

const char *source_pad_kind(GstPad *pad)
{
	GstCaps *caps = gst_pad_get_current_caps(pad);
	const GstStructure *st;
	const char *kind = NULL, *name;

	if (caps == NULL)
		caps = gst_pad_query_caps(pad, NULL);
	if (caps != NULL && !gst_caps_is_any(caps) && gst_caps_get_size(caps) > 0) {
		st = gst_caps_get_structure(caps, 0);
		name = gst_structure_get_name(st);
		if (gst_structure_has_name(st, "application/x-rtp"))
			name = gst_structure_get_string(st, "media");
		kind = g_str_has_prefix(name != NULL ? name : "", "video")   ? "video"
		       : g_str_has_prefix(name != NULL ? name : "", "audio") ? "audio"
		                                                             : "other";
	}
	gst_clear_caps(&caps);
	return kind;
}

/* A pad that may carry the picture: video caps, or caps not known yet. */
static bool pad_may_be_video(GstPad *pad)
{
	const char *kind = source_pad_kind(pad);

	return kind == NULL || strcmp(kind, "video") == 0;
}

/*
 * Streaming thread (rtspsrc's, parsebin's, decodebin's): a new pad of the
 * source's dynamic element, at each start of the source (and rtspsrc's at
 * each reconnection). The first video pad links to the element after it;
 * anything else (a clip's audio) stays unlinked, which its demuxer allows.
 */
static void dynamic_pad_added_cb(GstElement *dynamic, GstPad *pad, gpointer peer)
{
	GstPad *sink = gst_element_get_static_pad(peer, "sink");

	if (!pad_may_be_video(pad))
		g_debug("source pad %s is not video: left unlinked", GST_PAD_NAME(pad));
	else if (!gst_pad_is_linked(sink) && gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
		g_info("source pad %s does not link to %s (another codec?)", GST_PAD_NAME(pad),
		       GST_ELEMENT_NAME(peer));
	gst_object_unref(sink);
}

GstElement *source_bin_new(const struct stream_config *cfg, const char *source,
                           enum source_kind *kind, char **err)
{
	char *desc = stream_source_describe(cfg, source, kind);
	char *shown = source_redact(desc, source);
	GError *gerr = NULL;
	GstElement *bin, *dyn, *peer, *out;
	GstPad *pad;

	g_debug("stream %s: %s", cfg->name, shown);
	/*
	 * Only the last element's src is ghosted: a dynamic element links its
	 * pads when data comes, and GStreamer's own ghosting would take the
	 * element after it for the bin's sink.
	 */
	bin = gst_parse_bin_from_description(desc, FALSE, &gerr);
	g_free(desc);
	if (bin == NULL) {
		char *name = source_public_name(source);

		*err = g_strdup_printf("stream %s: source %s: %s", cfg->name, name,
		                       gerr != NULL ? gerr->message : "cannot build");
		g_free(name);
		g_clear_error(&gerr);
		g_free(shown);
		return NULL;
	}
	g_free(shown);
	gst_object_set_name(GST_OBJECT(bin), "source");
	dyn = gst_bin_get_by_name(GST_BIN(bin), SOURCE_DYNAMIC);
	peer = gst_bin_get_by_name(GST_BIN(bin), SOURCE_DYNAMIC_PEER);
	if (dyn != NULL && peer != NULL) /* the bin keeps peer as long as dyn */
		g_signal_connect(dyn, "pad-added", G_CALLBACK(dynamic_pad_added_cb), peer);
	g_clear_object(&dyn);
	g_clear_object(&peer);
	out = gst_bin_get_by_name(GST_BIN(bin), "out");
	pad = gst_element_get_static_pad(out, "src");
	gst_element_add_pad(bin, gst_ghost_pad_new("src", pad));
	gst_object_unref(pad);
	gst_object_unref(out);
	return bin;
}

char *stream_source_description(const struct stream_config *cfg, const char *source)
{
	enum source_kind kind;

	return stream_source_describe(cfg, source, &kind);
}
