/*
 * source.c - what a stream's source is in GStreamer terms: the description
 * of its bin (a camera, a clip, an RTSP URL, a test pattern), whether it
 * gives raw frames (to be encoded) or H.264 (passed through), and its name
 * with any credentials taken out, for logs and the stream list. Pure text.
 */
#define G_LOG_DOMAIN "stream"
#include <string.h>

#include "stream.h"

/* RTSP: the jitter buffer holds this long; rtspsrc's default (2 s) is far from live. */
#define RTSP_LATENCY_MS 200

/* Caps a source of kind SOURCE_H264 ends with: what the H.264 track and its payloaders take. */
#define H264_PARSED                                                                                \
	"h264parse config-interval=-1 ! "                                                          \
	"capsfilter name=out caps=\"video/x-h264,stream-format=byte-stream,alignment=au\""

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

	/*
	 * rtspsrc takes user:password@ from the URL itself. It is not linked in
	 * the description: its pad comes anew at each reconnection, and
	 * stream.c links every one to "depay" (a description's link is made once).
	 */
	return g_strdup_printf("rtspsrc name=rtsp location=\"%s\" latency=%d%s "
	                       "rtph264depay name=depay ! " H264_PARSED,
	                       url, RTSP_LATENCY_MS, protocols);
}

char *stream_source_describe(const struct stream_config *cfg, const char *source,
                             enum source_kind *kind)
{
	char *head, *desc;
	const char *adapt = "videoconvert ! videoscale ! videorate";

	*kind = SOURCE_RAW;
	if (g_str_has_prefix(source, "rtsp://") || g_str_has_prefix(source, "rtsps://")) {
		*kind = SOURCE_H264;
		return rtsp_head(cfg, source);
	}
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
	desc = g_strdup_printf("%s ! %s ! capsfilter name=out "
	                       "caps=\"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1\"",
	                       head, adapt, cfg->width, cfg->height, cfg->fps);
	g_free(head);
	return desc;
}

char *stream_source_description(const struct stream_config *cfg, const char *source)
{
	enum source_kind kind;

	return stream_source_describe(cfg, source, &kind);
}
