/*
 * encoder.c - the encoders of the tracks: vp8enc; x264enc (software) or
 * v4l2h264enc (the hardware encoder of a Raspberry Pi and similar boards)
 * for H.264, chosen by `h264-encoder`. Each is set for real time: no
 * lookahead or B-frames, constant bitrate, a keyframe at least every
 * `keyframe-interval` frames and whenever a viewer asks (force-key-unit).
 */
#define G_LOG_DOMAIN "stream"
#include "encoder.h"

/*
 * x264's speed preset. At 1280x720@30, 2 Mbps, tune zerolatency, the test
 * box's encoder cost in one core (source alone not counted): ultrafast 8 %,
 * superfast 11 %, veryfast 20 %, faster 30 %; vp8enc at cpu-used 8 took
 * 74 % (docs/cameras.md). superfast adds what ultrafast leaves out (CAVLC
 * mode decisions, a real motion search) for 3 % of a core.
 */
#define X264_SPEED_PRESET "superfast"

static GstElement *make_vp8(const struct stream_config *cfg, const char *name)
{
	GstElement *enc = gst_element_factory_make("vp8enc", name);

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

static GstElement *make_x264(const struct stream_config *cfg, const char *name)
{
	GstElement *enc = gst_element_factory_make("x264enc", name);

	if (enc == NULL)
		return NULL;
	/* zerolatency: no lookahead, sliced threads; SPS/PPS repeated with each IDR. */
	gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
	gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", X264_SPEED_PRESET);
	g_object_set(enc, "bframes", 0u, "key-int-max", (guint)cfg->keyframe_interval, "bitrate",
	             (guint)cfg->bitrate_kbps, "vbv-buf-capacity", 500u, "threads", 2u,
	             "byte-stream", TRUE, NULL);
	return enc;
}

static GstElement *make_v4l2(const struct stream_config *cfg, const char *name)
{
	GstElement *enc = gst_element_factory_make("v4l2h264enc", name);
	GstStructure *controls;

	if (enc == NULL)
		return NULL;
	controls =
	    gst_structure_new("controls", "video_bitrate", G_TYPE_INT, cfg->bitrate_kbps * 1000,
	                      "h264_i_frame_period", G_TYPE_INT, cfg->keyframe_interval,
	                      "repeat_sequence_header", G_TYPE_INT, 1, NULL);
	g_object_set(enc, "extra-controls", controls, NULL);
	gst_structure_free(controls);
	return enc;
}

static GstElement *make_h264(const struct stream_config *cfg, const char *name, char **err)
{
	const char *want = cfg->h264_encoder;
	GstElement *enc = NULL;

	if (g_strcmp0(want, "x264") != 0)
		enc = make_v4l2(cfg, name);
	if (enc == NULL && g_strcmp0(want, "v4l2") != 0)
		enc = make_x264(cfg, name);
	if (enc == NULL)
		*err = g_strdup_printf("stream %s: no H.264 encoder (h264-encoder = %s): install "
		                       "gstreamer1.0-plugins-ugly (x264enc), or use a board with "
		                       "v4l2h264enc",
		                       cfg->name, want);
	else
		g_message("stream %s: H.264 encoder %s", cfg->name,
		          GST_OBJECT_NAME(gst_element_get_factory(enc)));
	return enc;
}

GstElement *encoder_make(GstElement *pipeline, const struct stream_config *cfg, enum codec c,
                         const char *suffix, GstElement **last, char **err)
{
	char name[32];
	GstElement *enc, *caps, *parse, *out;
	GstCaps *profile;

	g_snprintf(name, sizeof(name), "enc-%s", suffix);
	if (c == CODEC_VP8) {
		enc = make_vp8(cfg, name);
		if (enc == NULL) {
			*err = g_strdup("vp8enc missing: install gstreamer1.0-plugins-good");
			return NULL;
		}
		gst_bin_add(GST_BIN(pipeline), enc);
		*last = enc;
		return enc;
	}
	enc = make_h264(cfg, name, err);
	if (enc == NULL)
		return NULL;
	caps = gst_element_factory_make("capsfilter", NULL);
	parse = gst_element_factory_make("h264parse", NULL);
	out = gst_element_factory_make("capsfilter", NULL);
	if (caps == NULL || parse == NULL || out == NULL) {
		*err = g_strdup("h264parse missing: install gstreamer1.0-plugins-bad");
		gst_clear_object(&caps);
		gst_clear_object(&parse);
		gst_clear_object(&out);
		gst_object_unref(gst_object_ref_sink(enc));
		return NULL;
	}
	/* Constrained Baseline: what every WebRTC player decodes (ENCODER_H264_PROFILE). */
	profile = gst_caps_from_string(
	    g_str_equal(GST_OBJECT_NAME(gst_element_get_factory(enc)), "v4l2h264enc")
	        ? "video/x-h264,profile=constrained-baseline,level=(string)4,"
	          "stream-format=byte-stream,alignment=au"
	        : "video/x-h264,profile=constrained-baseline,stream-format=byte-stream,"
	          "alignment=au");
	g_object_set(caps, "caps", profile, NULL);
	gst_caps_unref(profile);
	/* SPS and PPS in front of every IDR: a viewer that joins needs them. */
	g_object_set(parse, "config-interval", -1, NULL);
	profile = gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
	g_object_set(out, "caps", profile, NULL);
	gst_caps_unref(profile);
	gst_bin_add_many(GST_BIN(pipeline), enc, caps, parse, out, NULL);
	if (!gst_element_link_many(enc, caps, parse, out, NULL)) {
		*err = g_strdup_printf("stream %s: the H.264 encoder does not give Constrained "
		                       "Baseline byte-stream",
		                       cfg->name);
		return NULL;
	}
	*last = out;
	return enc;
}
