/* Offer checks, payload-type extraction and answer splicing (daemon/sdp.c). */
#include <string.h>

#include "whepcam.h"
#include "wire/sdp.h"

static char *load(const char *name)
{
	char *path = g_build_filename(g_getenv("SRCDIR") ? g_getenv("SRCDIR") : ".", "tests",
	                              "data", name, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_free(path);
	return text;
}

static void test_vp8_pt_from_browser_offer(void)
{
	char *offer = load("offer-video-audio.sdp"), detail[160];
	int pt = -1;

	g_assert_cmpint(sdp_check_offer(offer, &pt, detail, sizeof(detail)), ==, SDP_OK);
	g_assert_cmpint(pt, ==, 96);
	g_free(offer);
}

/* Firefox under max-bundle with audio first: video is port 0 + a=bundle-only, not disabled. */
static void test_bundle_only_video(void)
{
	char *offer = load("offer-firefox-bundle-only.sdp"), detail[160];
	int pt = -1;

	g_assert_cmpint(sdp_check_offer(offer, &pt, detail, sizeof(detail)), ==, SDP_OK);
	g_assert_cmpint(pt, ==, 120);
	g_free(offer);
}

/* Real players' offers of every shape (saved by tests/e2e/player_matrix.mjs, player_native.mjs). */
static void test_real_browser_offers(void)
{
	static const struct {
		const char *file;
		int pt;
	} cases[] = {
	    {"offer-chromium-video.sdp", 96},
	    {"offer-chromium-video-audio.sdp", 96},
	    {"offer-chromium-audio-first-max-bundle.sdp", 96},
	    {"offer-chromium-audio-first-balanced.sdp", 96},
	    {"offer-firefox-esr-video.sdp", 120},
	    {"offer-firefox-esr-video-audio.sdp", 120},
	    {"offer-firefox-esr-audio-first-max-bundle.sdp", 120}, /* video: port 0, bundle-only */
	    {"offer-firefox-esr-audio-first-balanced.sdp", 120},
	    {"offer-aiortc.sdp", 97},    /* tests/e2e/player_native.mjs */
	    {"offer-webrtcbin.sdp", 96}, /* audio first, video bundle-only */
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *offer = load(cases[i].file), detail[160] = "";
		int pt = -1;

		g_test_message("%s", cases[i].file);
		g_assert_cmpint(sdp_check_offer(offer, &pt, detail, sizeof(detail)), ==, SDP_OK);
		g_assert_cmpint(pt, ==, cases[i].pt);
		g_free(offer);
	}
}

/* More m-lines than an answer can carry: a 400 with the limit, before any session exists. */
static void test_too_many_mlines(void)
{
	GString *sdp =
	    g_string_new("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n");
	char detail[160] = "", limit[16];
	int pt = -1, i;

	for (i = 1; i < WHEPCAM_MAX_MLINES; i++)
		g_string_append(sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n");
	g_assert_cmpint(sdp_check_offer(sdp->str, &pt, detail, sizeof(detail)), ==, SDP_OK);
	g_string_append(sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n");
	g_assert_cmpint(sdp_check_offer(sdp->str, &pt, detail, sizeof(detail)), ==, SDP_NOT_SDP);
	g_snprintf(limit, sizeof(limit), "%d", WHEPCAM_MAX_MLINES);
	g_assert_nonnull(strstr(detail, limit));
	g_string_free(sdp, TRUE);
}

/* aiortc gives each bundled m-line its own ICE credentials; mode full hands webrtcbin one set. */
static void test_unify_bundle_credentials(void)
{
	char *text = load("offer-aiortc.sdp");
	GstSDPMessage *msg = NULL;
	const GstSDPMedia *tagged;
	guint i;

	g_assert_cmpint(gst_sdp_message_new_from_text(text, &msg), ==, GST_SDP_OK);
	tagged = sdp_bundle_tagged(msg);
	g_assert_nonnull(tagged);
	g_assert_cmpstr(gst_sdp_media_get_attribute_val(tagged, "mid"), ==, "0");
	g_assert_cmpstr(
	    gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(msg, 1), "ice-ufrag"), !=,
	    gst_sdp_media_get_attribute_val(tagged, "ice-ufrag"));
	g_assert_cmpuint(sdp_unify_bundle_credentials(msg), ==, 1);
	for (i = 0; i < gst_sdp_message_medias_len(msg); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);

		g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "ice-ufrag"), ==,
		                gst_sdp_media_get_attribute_val(tagged, "ice-ufrag"));
		g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "ice-pwd"), ==,
		                gst_sdp_media_get_attribute_val(tagged, "ice-pwd"));
	}
	g_assert_cmpuint(sdp_unify_bundle_credentials(msg), ==, 0); /* once is enough */
	gst_sdp_message_free(msg);
	g_free(text);

	/* A browser's offer (one set already) and an offer without BUNDLE are left alone. */
	text = load("offer-chromium.sdp");
	g_assert_cmpint(gst_sdp_message_new_from_text(text, &msg), ==, GST_SDP_OK);
	g_assert_cmpuint(sdp_unify_bundle_credentials(msg), ==, 0);
	gst_sdp_message_free(msg);
	g_free(text);
	g_assert_cmpint(gst_sdp_message_new_from_text("v=0\r\nm=video 9 RTP/AVP 96\r\n"
	                                              "a=ice-ufrag:aa\r\na=ice-pwd:bb\r\n",
	                                              &msg),
	                ==, GST_SDP_OK);
	g_assert_null(sdp_bundle_tagged(msg));
	g_assert_cmpuint(sdp_unify_bundle_credentials(msg), ==, 0);
	gst_sdp_message_free(msg);
}

static void test_rejections(void)
{
	static const struct {
		const char *sdp;
		enum sdp_check want;
	} cases[] = {
	    {"", SDP_NOT_SDP},
	    {"hello", SDP_NOT_SDP},
	    {"v=1\r\n", SDP_NOT_SDP},
	    {"v=0\r\n", SDP_NOT_SDP},
	    {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
	     "a=rtpmap:111 opus/48000/2\r\n",
	     SDP_NO_VIDEO},
	    {"v=0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", SDP_NO_VIDEO},
	    {"v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n", SDP_NO_CODEC},
	    {"v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/48000\r\n", SDP_NO_CODEC},
	    {"v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 300\r\na=rtpmap:300 VP8/90000\r\n", SDP_NO_CODEC},
	};
	char detail[160];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		int pt = -1;

		detail[0] = '\0';
		g_assert_cmpint(sdp_check_offer(cases[i].sdp, &pt, detail, sizeof(detail)), ==,
		                cases[i].want);
		g_assert_cmpuint(strlen(detail), >, 0); /* always a reason a person can read */
	}
}

static void test_lowercase_codec_and_spaces(void)
{
	char detail[160];
	int pt = -1;

	g_assert_cmpint(sdp_check_offer("v=0\nm=video 9 RTP/AVP 120\na=rtpmap:120  vp8/90000\n",
	                                &pt, detail, sizeof(detail)),
	                ==, SDP_OK);
	g_assert_cmpint(pt, ==, 120);
}

static const char answer[] = "v=0\r\n"
                             "o=- 1 0 IN IP4 0.0.0.0\r\n"
                             "s=-\r\n"
                             "t=0 0\r\n"
                             "a=group:BUNDLE video audio\r\n"
                             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                             "a=mid:video\r\n"
                             "a=sendonly\r\n"
                             "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"
                             "a=mid:audio\r\n"
                             "a=inactive\r\n";

static guint count(const char *hay, const char *needle)
{
	guint n = 0;

	for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

static void test_splice_candidates(void)
{
	GPtrArray *c = g_ptr_array_new();
	char *out;

	g_ptr_array_add(c, (gpointer) "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host");
	g_ptr_array_add(c, (gpointer) "a=candidate:2 1 TCP 1015021823 127.0.0.1 9 typ host");
	out = sdp_splice_candidates(answer, c);
	/* Only the active (video) section gets them; the rejected audio one does not. */
	g_assert_cmpuint(count(out, "a=candidate:"), ==, 2);
	g_assert_cmpuint(count(out, "a=end-of-candidates\r\n"), ==, 1);
	g_assert_nonnull(strstr(out, "a=sendonly\r\na=candidate:1 1 UDP"));
	g_assert_true(strstr(out, "a=end-of-candidates") < strstr(out, "m=audio"));
	g_assert_true(g_str_has_prefix(out, "v=0\r\no=- 1 0"));
	g_free(out);
	g_ptr_array_unref(c);
}

static void test_splice_keeps_existing(void)
{
	GPtrArray *c = g_ptr_array_new();
	char *in = g_strconcat("v=0\r\nm=video 9 X 96\r\n"
	                       "a=candidate:1 1 UDP 1 127.0.0.1 40000 typ host\r\n",
	                       NULL);
	char *out;

	g_ptr_array_add(c, (gpointer) "candidate:1 1 UDP 1 127.0.0.1 40000 typ host");
	out = sdp_splice_candidates(in, c);
	g_assert_cmpuint(count(out, "a=candidate:"), ==, 1);
	g_assert_cmpuint(count(out, "a=end-of-candidates"), ==, 1);
	g_free(out);
	g_free(in);
	g_ptr_array_unref(c);
}

static void test_ssrc_lines(void)
{
	char *out = sdp_add_ssrcs(answer, 1234, 0, "whepcam");

	g_assert_nonnull(strstr(out,
	                        "a=sendonly\r\na=msid:whepcam video\r\n"
	                        "a=ssrc:1234 cname:whepcam\r\na=ssrc:1234 msid:whepcam video\r\n"
	                        "m=audio"));
	g_assert_cmpuint(count(out, "a=ssrc:"), ==, 2);
	g_free(out);
}

/* Sound: the offer's Opus payload type beside the picture's codec, or alone; none without sound. */
static void test_opus_pick(void)
{
	static const struct {
		const char *file;
		int audio_pt;
	} cases[] = {
	    {"offer-chromium-video-audio.sdp", 111},
	    {"offer-firefox-esr-video-audio.sdp", 109},
	    {"offer-firefox-esr-audio-first-max-bundle.sdp", 109},
	    {"offer-safari.sdp", 111},
	    {"offer-webrtcbin.sdp", 111}, /* OPUS/48000, no channel count */
	    {"offer-chromium-video.sdp", 0},
	};
	struct codec_sends sends = {.order = {CODEC_VP8, CODEC_H264}, .n = 2,
	                            .h264_profile = 0x42e01f, .audio = true};
	struct codec_pick pick;
	char detail[160];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *offer = load(cases[i].file);

		g_test_message("%s", cases[i].file);
		sends.audio = true;
		g_assert_cmpint(sdp_check_offer_codecs(offer, &sends, &pick, detail, sizeof(detail)),
		                ==, SDP_OK);
		g_assert_cmpint(pick.audio_pt, ==, cases[i].audio_pt);
		g_assert_cmpint(pick.codec, !=, CODEC_OPUS); /* a picture was offered */
		sends.audio = false; /* a stream without sound: never */
		g_assert_cmpint(sdp_check_offer_codecs(offer, &sends, &pick, detail, sizeof(detail)),
		                ==, SDP_OK);
		g_assert_cmpint(pick.audio_pt, ==, 0);
		g_free(offer);
	}
}

/* An offer with sound and no picture: played when the stream has sound, else refused. */
static void test_audio_only(void)
{
	static const char offer[] = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	                            "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
	                            "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n";
	struct codec_sends sends = {.order = {CODEC_VP8}, .n = 1, .audio = true};
	struct codec_pick pick;
	char detail[160];

	g_assert_cmpint(sdp_check_offer_codecs(offer, &sends, &pick, detail, sizeof(detail)), ==,
	                SDP_OK);
	g_assert_cmpint(pick.codec, ==, CODEC_OPUS);
	g_assert_cmpint(pick.audio_pt, ==, 111);
	sends.audio = false;
	g_assert_cmpint(sdp_check_offer_codecs(offer, &sends, &pick, detail, sizeof(detail)), ==,
	                SDP_NO_VIDEO);
	g_assert_cmpstr(detail, ==, "SDP offer has no active video m-line");
}

/* Both tracks announced in one media stream (what makes a player sync them). */
static void test_ssrc_lines_audio(void)
{
	static const char both[] = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n"
	                           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n"
	                           "a=candidate:1 1 UDP 1 127.0.0.1 4 typ host\r\n";
	char *out = sdp_add_ssrcs(both, 1234, 5678, "whepcam");

	g_assert_nonnull(strstr(out, "a=ssrc:1234 msid:whepcam video\r\nm=audio"));
	g_assert_nonnull(strstr(out, "a=msid:whepcam audio\r\na=ssrc:5678 cname:whepcam\r\n"
	                             "a=ssrc:5678 msid:whepcam audio\r\na=candidate"));
	g_free(out);
	/* no sound sent: the (inactive) audio section gets nothing */
	out = sdp_add_ssrcs(answer, 1234, 5678, "whepcam");
	g_assert_null(strstr(out, "5678"));
	g_free(out);
}

static void test_public_address(void)
{
	GPtrArray *c = g_ptr_array_new(), *out;

	g_ptr_array_add(c, (gpointer) "candidate:1 1 UDP 2015363327 10.0.0.5 40000 typ host");
	g_ptr_array_add(c, (gpointer) "candidate:2 1 UDP 1677729535 198.51.100.9 40000 typ srflx "
	                              "raddr 10.0.0.5 rport 40000");
	out = sdp_public_candidates(c, "203.0.113.7");
	g_assert_cmpuint(out->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(out, 0), ==, g_ptr_array_index(c, 0));
	g_assert_cmpstr(g_ptr_array_index(out, 1), ==,
	                "candidate:19 1 UDP 2015363326 203.0.113.7 40000 typ host");
	g_assert_cmpstr(g_ptr_array_index(out, 2), ==, g_ptr_array_index(c, 1));
	g_ptr_array_unref(out);
	out = sdp_public_candidates(c, NULL);
	g_assert_cmpuint(out->len, ==, 2);
	g_ptr_array_unref(out);
	g_ptr_array_unref(c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/sdp/vp8-pt-from-browser-offer", test_vp8_pt_from_browser_offer);
	g_test_add_func("/sdp/rejections", test_rejections);
	g_test_add_func("/sdp/unify-bundle-credentials", test_unify_bundle_credentials);
	g_test_add_func("/sdp/bundle-only-video", test_bundle_only_video);
	g_test_add_func("/sdp/real-browser-offers", test_real_browser_offers);
	g_test_add_func("/sdp/too-many-mlines", test_too_many_mlines);
	g_test_add_func("/sdp/lowercase-codec", test_lowercase_codec_and_spaces);
	g_test_add_func("/sdp/splice-candidates", test_splice_candidates);
	g_test_add_func("/sdp/splice-keeps-existing", test_splice_keeps_existing);
	g_test_add_func("/sdp/ssrc-lines", test_ssrc_lines);
	g_test_add_func("/sdp/public-address", test_public_address);
	g_test_add_func("/sdp/opus-pick", test_opus_pick);
	g_test_add_func("/sdp/audio-only", test_audio_only);
	g_test_add_func("/sdp/ssrc-lines-audio", test_ssrc_lines_audio);
	return g_test_run();
}
