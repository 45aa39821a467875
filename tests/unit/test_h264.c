/*
 * H.264 as whepcam reads it: keyframe starts in RTP by RFC 6184 (by hand and
 * from a real x264enc ! rtph264pay), the profile in an SPS, and the codec
 * chosen for real players' offers (Safari, Firefox, Chromium: payload type,
 * packetization-mode, profile-level-id) against what a stream sends
 * (daemon/wire/rtp.c, daemon/wire/codec.c).
 */
#include <string.h>

#include <gst/app/gstappsink.h>

#include "lite/lite.h"
#include "wire/codec.h"
#include "wire/rtp.h"
#include "wire/sdp.h"

/* An RTP packet (12-byte header, payload type 102) with `payload`. */
static size_t rtp(uint8_t *b, const uint8_t *payload, size_t n)
{
	memcpy(b, "\x80\x66\x00\x01\x00\x00\x0b\xb8\xca\xfe\xba\xbe", 12);
	memcpy(b + 12, payload, n);
	return 12 + n;
}

static void test_keyframe_starts(void)
{
	static const struct {
		const char *what;
		uint8_t payload[16];
		size_t n;
		bool key;
	} cases[] = {
	    {"IDR slice", {0x65, 0x88, 0x84}, 3, true},
	    {"SPS", {0x67, 0x42, 0xe0, 0x1f}, 4, true},
	    {"PPS alone", {0x68, 0xce, 0x38}, 3, false},
	    {"P slice", {0x41, 0x9a, 0x02}, 3, false},
	    {"SEI", {0x06, 0x05, 0x10}, 3, false},
	    /* STAP-A: 16-bit sizes, then NAL units */
	    {"STAP-A SPS PPS", {0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, 9, true},
	    {"STAP-A SEI IDR", {0x78, 0, 2, 0x06, 0x05, 0, 2, 0x65, 0x88}, 9, true},
	    {"STAP-A SEI PPS", {0x78, 0, 2, 0x06, 0x05, 0, 2, 0x68, 0xce}, 9, false},
	    {"STAP-A size past the end", {0x78, 0, 9, 0x67, 0x42}, 5, false},
	    {"STAP-A size 0", {0x78, 0, 0, 0x67, 0x42}, 5, false},
	    /* FU-A: indicator, header S E R type */
	    {"FU-A IDR start", {0x7c, 0x85, 0x88}, 3, true},
	    {"FU-A IDR middle", {0x7c, 0x05, 0x88}, 3, false},
	    {"FU-A IDR end", {0x7c, 0x45, 0x88}, 3, false},
	    {"FU-A P start", {0x7c, 0x81, 0x9a}, 3, false},
	    {"FU-A cut", {0x7c}, 1, false},
	};
	uint8_t b[64];
	size_t i, cut;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t n = rtp(b, cases[i].payload, cases[i].n);

		g_test_message("%s", cases[i].what);
		g_assert_true(rtp_h264_keyframe_start(b, n) == cases[i].key);
		for (cut = 0; cut < n; cut++) { /* never past the end (ASan) */
			uint8_t *copy = g_memdup2(b, cut);

			rtp_h264_keyframe_start(copy, cut);
			g_free(copy);
		}
	}
	g_assert_false(rtp_h264_keyframe_start(b, 12)); /* no payload */
	g_assert_false(rtp_h264_keyframe_start(NULL, 0));
}

static void test_sps_profile(void)
{
	static const uint8_t au[] = {0, 0, 0, 1, 0x09, 0xf0, /* AUD */
	                             0, 0, 0, 1, 0x67, 0x64, 0x00, 0x28, 0xac, /* SPS */
	                             0, 0, 1,    0x68, 0xee, 0x3c, 0x80,       /* PPS */
	                             0, 0, 1,    0x65, 0x88, 0x84};
	static const uint8_t p_only[] = {0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x03};

	g_assert_cmphex(codec_h264_sps_profile(au, sizeof(au)), ==, 0x640028);
	g_assert_cmphex(codec_h264_sps_profile(p_only, sizeof(p_only)), ==, 0);
	g_assert_cmphex(codec_h264_sps_profile(au, 12), ==, 0); /* SPS cut short */
	g_assert_cmpstr(codec_h264_profile_name(0x640028), ==, "High");
	g_assert_cmpstr(codec_h264_profile_name(0x42e01f), ==, "Constrained Baseline");
	g_assert_cmpstr(codec_h264_profile_name(0x4d0029), ==, "Main");
	g_assert_cmpstr(codec_h264_profile_name(0x640c1f), ==, "Constrained High");
}

static GPtrArray *drain(GstElement *pipe, const char *name)
{
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), name);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
	GstSample *s;

	while ((s = gst_app_sink_pull_sample(GST_APP_SINK(sink))) != NULL) {
		g_ptr_array_add(out, gst_buffer_ref(gst_sample_get_buffer(s)));
		gst_sample_unref(s);
	}
	gst_object_unref(sink);
	return out;
}

/*
 * What the daemon's H.264 tracks send (x264enc Constrained Baseline,
 * h264parse and rtph264pay as encoder.c and fanout.c set them): every
 * keyframe's first packet is a keyframe start (its SPS, aggregated with the
 * PPS), no other frame has one, and each IDR's SPS says Constrained Baseline.
 */
static void test_real_payloader(void)
{
	char *desc = g_strdup_printf(
	    "videotestsrc num-buffers=25 ! video/x-raw,width=320,height=240 ! x264enc "
	    "tune=zerolatency key-int-max=10 bframes=0 ! video/x-h264,profile=constrained-baseline,"
	    "stream-format=byte-stream,alignment=au ! h264parse config-interval=-1 ! "
	    "video/x-h264,stream-format=byte-stream,alignment=au ! tee name=t "
	    "t. ! queue ! rtph264pay config-interval=-1 aggregate-mode=zero-latency mtu=%d ! "
	    "appsink name=rtp sync=false t. ! queue ! appsink name=enc sync=false",
	    DIRECT_RTP_MTU);
	GstElement *pipe;
	GPtrArray *pkts, *enc;
	guint i, frame = 0, keys = 0, starts = 0;
	bool first = true;

	if (!gst_registry_check_feature_version(gst_registry_get(), "x264enc", 1, 0, 0)) {
		g_test_message("x264enc missing: install gstreamer1.0-plugins-ugly");
		g_test_fail();
		g_free(desc);
		return;
	}
	pipe = gst_parse_launch(desc, NULL);
	g_assert_nonnull(pipe);
	gst_element_set_state(pipe, GST_STATE_PLAYING);
	pkts = drain(pipe, "rtp");
	enc = drain(pipe, "enc");
	for (i = 0; i < enc->len; i++) {
		GstBuffer *b = g_ptr_array_index(enc, i);
		GstMapInfo map;

		if (GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT))
			continue;
		keys++;
		g_assert_true(gst_buffer_map(b, &map, GST_MAP_READ));
		/* x264 sets constraint_set0 and 1 (42c0xx): Constrained Baseline all the same */
		g_assert_cmpstr(codec_h264_profile_name(codec_h264_sps_profile(map.data, map.size)),
		                ==, "Constrained Baseline");
		gst_buffer_unmap(b, &map);
	}
	for (i = 0; i < pkts->len; i++) {
		GstMapInfo map;
		bool key, start, marker;

		g_assert_cmpuint(frame, <, enc->len);
		key = !GST_BUFFER_FLAG_IS_SET(g_ptr_array_index(enc, frame), GST_BUFFER_FLAG_DELTA_UNIT);
		g_assert_true(gst_buffer_map(g_ptr_array_index(pkts, i), &map, GST_MAP_READ));
		start = rtp_h264_keyframe_start(map.data, map.size);
		g_assert_true(!start || key); /* never inside a delta frame */
		if (first)
			g_assert_true(start == key); /* a keyframe's first packet starts it */
		starts += first && start;
		marker = map.size > 1 && (map.data[1] & 0x80);
		gst_buffer_unmap(g_ptr_array_index(pkts, i), &map);
		first = marker;
		frame += marker;
	}
	g_assert_cmpuint(frame, ==, enc->len);
	g_assert_cmpuint(keys, >=, 3); /* frame 0, 10 and 20 */
	g_assert_cmpuint(starts, ==, keys);
	gst_element_set_state(pipe, GST_STATE_NULL);
	g_ptr_array_unref(pkts);
	g_ptr_array_unref(enc);
	gst_object_unref(pipe);
	g_free(desc);
}

static char *load(const char *name)
{
	char *path = g_build_filename(g_getenv("SRCDIR") ? g_getenv("SRCDIR") : ".", "tests",
	                              "data", name, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_free(path);
	return text;
}

/* The codec chosen for `file` (with `drop` removed from it) against `sends`. */
static enum sdp_check pick(const char *file, const char *drop, const struct codec_sends *sends,
                           struct codec_pick *out, char *detail)
{
	char *offer = load(file);
	enum sdp_check rc;

	if (drop != NULL) {
		GString *s = g_string_new(offer);

		g_string_replace(s, drop, "", 0);
		g_free(offer);
		offer = g_string_free(s, FALSE);
	}
	rc = sdp_check_offer_codecs(offer, sends, out, detail, 160);
	g_free(offer);
	return rc;
}

static void test_browser_offers(void)
{
	static const struct codec_sends h264_first = {
	    .order = {CODEC_H264, CODEC_VP8}, .n = 2, .h264_profile = 0x42e01f};
	static const struct codec_sends vp8_first = {
	    .order = {CODEC_VP8, CODEC_H264}, .n = 2, .h264_profile = 0x42e01f};
	static const struct codec_sends high = {
	    .order = {CODEC_H264}, .n = 1, .h264_profile = 0x640028};
	static const struct codec_sends main_ = {
	    .order = {CODEC_H264}, .n = 1, .h264_profile = 0x4d0029};
	static const struct {
		const char *file;
		const struct codec_sends *sends;
		enum sdp_check rc;
		int pt;
		const char *fmtp;
	} cases[] = {
	    /* Safari: 96 is Constrained High 640c1f, 98 Constrained Baseline 42e01f */
	    {"offer-safari.sdp", &h264_first, SDP_OK, 98,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
	    {"offer-safari.sdp", &vp8_first, SDP_OK, 100, ""},
	    /* a High camera: Safari's Constrained High decoder (VideoToolbox) takes it */
	    {"offer-safari.sdp", &high, SDP_OK, 96,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"},
	    /* Firefox: 126 is mode 1, 97 mode 0; both 42e01f */
	    {"offer-firefox.sdp", &h264_first, SDP_OK, 126,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
	    {"offer-firefox.sdp", &high, SDP_NO_CODEC, -1, NULL},
	    /* Chromium: 102 Baseline, 106 Constrained Baseline (mode 1); 104, 108 mode 0 */
	    {"offer-chromium.sdp", &h264_first, SDP_OK, 106,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
	    {"offer-chromium-video.sdp", &h264_first, SDP_OK, 108,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
	    /* Chromium 156 offers Main 4d001f and High 4:4:4 f4001f, which decodes High */
	    {"offer-chromium-video.sdp", &main_, SDP_OK, 116,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"},
	    {"offer-chromium-video.sdp", &high, SDP_OK, 41,
	     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f"},
	    {"offer-firefox-esr-video.sdp", &h264_first, SDP_OK, 120, ""}, /* no H.264: VP8 */
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct codec_pick p = {0};
		char detail[160] = "";
		enum sdp_check rc = pick(cases[i].file, NULL, cases[i].sends, &p, detail);

		g_test_message("%s: %s", cases[i].file, detail);
		g_assert_cmpint(rc, ==, cases[i].rc);
		if (rc != SDP_OK)
			continue;
		g_assert_cmpint(p.pt, ==, cases[i].pt);
		if (cases[i].fmtp != NULL)
			g_assert_cmpstr(p.fmtp, ==, cases[i].fmtp);
	}
}

/* Refusals name what the player lacks. */
static void test_refusals(void)
{
	static const struct codec_sends high = {
	    .order = {CODEC_H264}, .n = 1, .h264_profile = 0x640028};
	static const struct codec_sends unknown = {
	    .order = {CODEC_H264, CODEC_VP8}, .n = 2, .h264_profile = 0};
	static const struct codec_sends only_h264 = {.order = {CODEC_H264}, .n = 1};
	struct codec_pick p;
	char detail[160];

	g_assert_cmpint(pick("offer-firefox.sdp", NULL, &high, &p, detail), ==, SDP_NO_CODEC);
	g_assert_nonnull(strstr(detail, "H264/90000 (packetization-mode=1, High profile)"));
	/* Firefox without its mode-1 H.264: only mode 0 left */
	g_assert_cmpint(pick("offer-firefox.sdp", "a=rtpmap:126 H264/90000", &high, &p, detail),
	                ==, SDP_NO_CODEC);
	g_assert_nonnull(strstr(detail, "packetization-mode 0 only"));
	/* a camera stream before its first SPS: VP8 still goes, H.264 must wait */
	g_assert_cmpint(pick("offer-safari.sdp", NULL, &unknown, &p, detail), ==, SDP_OK);
	g_assert_cmpint(p.codec, ==, CODEC_VP8);
	g_assert_cmpint(pick("offer-safari.sdp", NULL, &only_h264, &p, detail), ==, SDP_NOT_YET);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/h264/rtp/keyframe-starts", test_keyframe_starts);
	g_test_add_func("/h264/rtp/real-payloader", test_real_payloader);
	g_test_add_func("/h264/sps-profile", test_sps_profile);
	g_test_add_func("/h264/codec/browser-offers", test_browser_offers);
	g_test_add_func("/h264/codec/refusals", test_refusals);
	return g_test_run();
}
