/*
 * The direct path's SDP answer (daemon/answer.c), read back the way a
 * browser reads it: parsed, then m-line by m-line against its offer (JSEP
 * §5.3, RFC 8843 BUNDLE, RFC 8445 ICE-lite, RFC 5763 DTLS roles).
 */
#include <string.h>

#include "wire/answer.h"

static const struct answer_params params = {
    .ufrag = "Ab3dEf9h",
    .pwd = "Qw3rTy7uIo9pAs1dFg5hJk2l",
    .fingerprint = "sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:"
                   "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9",
    .session_version = 4242,
};

static char *load(const char *name)
{
	char *path = g_build_filename(g_getenv("SRCDIR") ? g_getenv("SRCDIR") : ".", "tests",
	                              "data", name, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_free(path);
	return text;
}

static GstSDPMessage *parse(const char *text)
{
	GstSDPMessage *msg = NULL;

	g_assert_cmpint(gst_sdp_message_new_from_text(text, &msg), ==, GST_SDP_OK);
	return msg;
}

/* How many of m's attributes are key (with this value, unless value is NULL). */
static guint count(const GstSDPMedia *m, const char *key, const char *value)
{
	guint i, n = 0;

	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);

		n += g_strcmp0(a->key, key) == 0 &&
		     (value == NULL || g_strcmp0(a->value, value) == 0);
	}
	return n;
}

/* The a=rtpmap value of format fmt in m, or NULL. */
static const char *rtpmap(const GstSDPMedia *m, const char *fmt)
{
	guint i;

	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);

		if (g_strcmp0(a->key, "rtpmap") == 0 && g_str_has_prefix(a->value, fmt) &&
		    a->value[strlen(fmt)] == ' ')
			return a->value;
	}
	return NULL;
}

/* Port 0 with a=bundle-only is in use, inside the bundle (RFC 9143 7.2). */
static bool in_use(const GstSDPMedia *m)
{
	return gst_sdp_media_get_port(m) != 0 || count(m, "bundle-only", NULL) > 0;
}

static bool is_rtp(const GstSDPMedia *m)
{
	return strstr(gst_sdp_media_get_proto(m), "RTP/") != NULL && in_use(m);
}

/* The offer's BUNDLE mids in its order, or NULL. */
static char **offered_group(const GstSDPMessage *offer)
{
	const char *g = gst_sdp_message_get_attribute_val(offer, "group");

	return g != NULL && g_str_has_prefix(g, "BUNDLE ") ? g_strsplit(g + 7, " ", -1) : NULL;
}

/* The answered video m-line: one VP8 format, our transport, and only the feedback offered. */
static void check_video(const char *text, const GstSDPMedia *m, const GstSDPMedia *offered, int pt,
                        bool pli, bool fir)
{
	/* plain NACK (we resend from the stream's history): answered exactly when offered */
	char *nack = g_strdup_printf("%d nack", pt);
	guint want_nack = count(offered, "rtcp-fb", nack) > 0 ? 1 : 0;

	char *line = g_strdup_printf("\nm=video 9 UDP/TLS/RTP/SAVPF %d\r\n", pt);
	char *s = g_strdup_printf("%d", pt), *vp8 = g_strdup_printf("%d VP8/90000", pt);
	char *nack_pli = g_strdup_printf("%d nack pli", pt),
	     *ccm = g_strdup_printf("%d ccm fir", pt);

	g_assert_nonnull(strstr(text, line));
	g_assert_cmpuint(gst_sdp_media_formats_len(m), ==, 1);
	g_assert_cmpstr(gst_sdp_media_get_format(m, 0), ==, s);
	g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "ice-ufrag"), ==, params.ufrag);
	g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "ice-pwd"), ==, params.pwd);
	g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "fingerprint"), ==, params.fingerprint);
	g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "setup"), ==, "passive");
	g_assert_cmpuint(count(m, "sendonly", NULL), ==, 1);
	g_assert_cmpuint(count(m, "recvonly", NULL) + count(m, "sendrecv", NULL), ==, 0);
	g_assert_cmpuint(count(m, "inactive", NULL), ==, 0);
	g_assert_cmpuint(count(m, "rtcp-mux", NULL), ==, 1);
	g_assert_cmpuint(count(m, "rtpmap", NULL), ==, 1);
	g_assert_cmpuint(count(m, "rtpmap", vp8), ==, 1);
	g_assert_cmpuint(count(m, "rtcp-fb", nack_pli), ==, pli);
	g_assert_cmpuint(count(m, "rtcp-fb", ccm), ==, fir);
	g_assert_cmpuint(count(m, "rtcp-fb", nack), ==, want_nack);
	g_assert_cmpuint(count(m, "rtcp-fb", NULL), ==, pli + fir + want_nack);
	g_free(nack);
	g_free(line);
	g_free(s);
	g_free(vp8);
	g_free(nack_pli);
	g_free(ccm);
}

/*
 * Answers offer_text with VP8 on pt and checks the whole answer; pli and fir
 * say whether the offer asked for that feedback on pt.
 */
static void check_answer(const char *offer_text, int pt, bool pli, bool fir)
{
	GstSDPMessage *offer = parse(offer_text), *ans;
	struct answer_params a = params;
	const char *group, *video_mid = NULL;
	char detail[160] = "", *text, **mids, **offered;
	guint i, j, bundled = 0;

	a.pt = pt;
	text = answer_build(offer, &a, detail, sizeof(detail));
	g_assert_nonnull(text);
	ans = parse(text);
	g_assert_nonnull(gst_sdp_message_get_attribute_val(ans, "ice-lite"));
	group = gst_sdp_message_get_attribute_val(ans, "group");
	g_assert_nonnull(group);
	g_assert_true(g_str_has_prefix(group, "BUNDLE "));
	mids = g_strsplit(group + strlen("BUNDLE "), " ", -1);
	/* JSEP §5.3.1: as many m-lines as the offer, in its order, with its mids */
	g_assert_cmpuint(gst_sdp_message_medias_len(ans), ==, gst_sdp_message_medias_len(offer));
	for (i = 0; i < gst_sdp_message_medias_len(offer); i++) {
		const GstSDPMedia *om = gst_sdp_message_get_media(offer, i);
		const GstSDPMedia *am = gst_sdp_message_get_media(ans, i);
		const char *mid = gst_sdp_media_get_attribute_val(om, "mid");

		g_assert_cmpstr(gst_sdp_media_get_media(am), ==, gst_sdp_media_get_media(om));
		g_assert_cmpstr(gst_sdp_media_get_attribute_val(am, "mid"), ==, mid);
		if (video_mid == NULL && g_strcmp0(gst_sdp_media_get_media(om), "video") == 0 &&
		    in_use(om)) {
			video_mid = mid;
			check_video(text, am, om, pt, pli, fir);
		} else if (is_rtp(om)) { /* audio: inactive in the bundle, with one codec */
			const char *fmt = gst_sdp_media_get_format(om, 0);

			g_assert_cmpuint(gst_sdp_media_get_port(am), ==, 9);
			g_assert_cmpuint(count(am, "inactive", NULL), ==, 1);
			g_assert_cmpuint(count(am, "sendonly", NULL), ==, 0);
			g_assert_cmpstr(gst_sdp_media_get_format(am, 0), ==, fmt);
			g_assert_nonnull(rtpmap(om, fmt));
			g_assert_cmpstr(rtpmap(am, fmt), ==, rtpmap(om, fmt));
			g_assert_true(g_strv_contains((const char *const *)mids, mid));
		} else { /* data channel: rejected, outside the bundle */
			g_assert_cmpuint(gst_sdp_media_get_port(am), ==, 0);
			g_assert_false(g_strv_contains((const char *const *)mids, mid));
			continue;
		}
		bundled++;
	}
	g_assert_nonnull(video_mid);
	g_assert_cmpuint(g_strv_length(mids), ==, bundled);
	/*
	 * RFC 9143 §7.3.1: the offer's group order, so that the offerer-tagged
	 * m-line (its first) stays first (Chromium refuses the answer otherwise:
	 * "Failed to setup RTCP mux"); without a group in the offer, m-line order.
	 */
	offered = offered_group(offer);
	for (i = 0, j = 0; offered != NULL && offered[i] != NULL; i++)
		if (g_strv_contains((const char *const *)mids, offered[i]))
			g_assert_cmpstr(mids[j++], ==, offered[i]);
	if (offered != NULL)
		g_assert_cmpuint(j, ==, bundled);
	g_strfreev(offered);
	g_strfreev(mids);
	gst_sdp_message_free(ans);
	gst_sdp_message_free(offer);
	g_free(text);
}

static void test_browser_offers(void)
{
	static const struct {
		const char *file;
		int pt;
		bool pli, fir;
	} cases[] = {
	    {"offer-chromium.sdp", 96, true, true},             /* audio first */
	    {"offer-firefox.sdp", 120, true, true},             /* session-level a=fingerprint */
	    {"offer-firefox-bundle-only.sdp", 120, true, true}, /* max-bundle: video port 0 */
	    {"offer-safari.sdp", 100, true, false},     /* video first, VP8 not its first codec */
	    {"offer-video-audio.sdp", 96, true, false}, /* LF line ends */
	    /*
	     * Real offers, saved by tests/e2e/player_matrix.mjs (WHEPCAM_SAVE_OFFERS=1).
	     * Firefox marks its second m-line port 0 + bundle-only under max-bundle.
	     */
	    {"offer-chromium-video.sdp", 96, true, true},
	    {"offer-chromium-video-audio.sdp", 96, true, true},
	    {"offer-chromium-audio-first-max-bundle.sdp", 96, true, true},
	    {"offer-chromium-audio-first-balanced.sdp", 96, true, true},
	    {"offer-firefox-esr-video.sdp", 120, true, true},
	    {"offer-firefox-esr-video-audio.sdp", 120, true, true},
	    {"offer-firefox-esr-audio-first-max-bundle.sdp", 120, true, true},
	    {"offer-firefox-esr-audio-first-balanced.sdp", 120, true, true},
	    /* tests/e2e/player_native.mjs: aiortc (one ufrag per m-line), webrtcbin */
	    {"offer-aiortc.sdp", 97, true, false},
	    {"offer-webrtcbin.sdp", 96, true, true}, /* audio first, video bundle-only */
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = load(cases[i].file);

		g_test_message("%s", cases[i].file);
		check_answer(text, cases[i].pt, cases[i].pli, cases[i].fir);
		g_free(text);
	}
}

#define HEAD    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define ICE     "a=ice-ufrag:Xk4m\r\na=ice-pwd:4Jx9n5Qb0bW8o7Yr1J2Kc3Lm\r\n"
#define FP      "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC\r\n"
#define ACTPASS "a=setup:actpass\r\n"
#define MUX     "a=rtcp-mux\r\n"
#define VIDEO   "m=video 9 UDP/TLS/RTP/SAVPF 96 98\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n"
#define VP8     "a=recvonly\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\n"

/* Where the ICE and DTLS lines sit (session or media level) and the feedback offered. */
static void test_inline_offers(void)
{
	static const struct {
		const char *sdp;
		bool pli, fir;
	} cases[] = {
	    {HEAD VIDEO ICE FP ACTPASS MUX VP8, false, false},
	    {HEAD ICE FP VIDEO ACTPASS MUX VP8, false, false},
	    {HEAD FP VIDEO ICE ACTPASS MUX VP8, false, false},
	    {HEAD ICE FP ACTPASS VIDEO MUX VP8, false, false},
	    {HEAD VIDEO ICE FP "a=setup:active\r\n" MUX VP8, false, false},
	    /* feedback for another payload type, or that we do not act on (REMB), is not answered
	     */
	    {HEAD VIDEO ICE FP ACTPASS MUX VP8 "a=rtcp-fb:98 nack pli\r\na=rtcp-fb:98 ccm fir\r\n"
	                                       "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 goog-remb\r\n",
	     false, false},
	    {HEAD VIDEO ICE FP ACTPASS MUX VP8 "a=rtcp-fb:96 ccm fir\r\n", false, true},
	    /* the first video m-line the offerer did not reject is ours, later ones idle */
	    {HEAD VIDEO ICE FP ACTPASS MUX VP8
	     "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:w\r\n" ICE FP ACTPASS MUX
	     "a=recvonly\r\na=rtpmap:97 VP8/90000\r\n",
	     false, false},
	    {HEAD
	     "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:old\r\n" VP8 VIDEO ICE FP ACTPASS MUX VP8,
	     false, false},
	    /* audio first under max-bundle: video is port 0 + bundle-only, its transport in audio
	     */
	    {HEAD "a=group:BUNDLE a v\r\n"
	          "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" ICE FP ACTPASS MUX
	          "a=mid:a\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n"
	          "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\n"
	          "a=mid:v\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n",
	     false, false},
	    /* a data channel first, audio last: only the RTP m-lines are bundled */
	    {HEAD "a=group:BUNDLE d v a\r\n"
	          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n" ICE FP
	              ACTPASS "a=mid:d\r\na=sctp-port:5000\r\n" VIDEO ICE FP ACTPASS MUX VP8
	          "a=rtcp-fb:96 nack pli\r\n"
	          "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n" ICE FP ACTPASS MUX
	          "a=mid:a\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n",
	     true, false},
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu", i);
		check_answer(cases[i].sdp, 96, cases[i].pli, cases[i].fir);
	}
}

/* Offers the direct path cannot serve: NULL and a reason for the 400. */
/* Consent checks go with the bundle transport's credentials: the tagged m-line's (aiortc gives
 * each m-line its own; the video's would get a 401 from its agent). */
static void test_remote_credentials(void)
{
	char *text = load("offer-aiortc.sdp");
	GstSDPMessage *offer = parse(text);
	struct answer_params a = params;
	char detail[160] = "", *ans;

	a.pt = 96;
	ans = answer_build(offer, &a, detail, sizeof(detail));
	g_assert_nonnull(ans);
	g_assert_cmpstr(a.remote_ufrag, ==, "FFbT");
	g_assert_cmpstr(a.remote_pwd, ==,
	                gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(offer, 0), "ice-pwd"));
	g_free(ans);
	gst_sdp_message_free(offer);

	/* The same offer with audio tagged first: its credentials, not the video's. */
	g_assert_nonnull(strstr(text, "a=group:BUNDLE 0 1"));
	memcpy(strstr(text, "a=group:BUNDLE 0 1"), "a=group:BUNDLE 1 0", 18);
	offer = parse(text);
	ans = answer_build(offer, &a, detail, sizeof(detail));
	g_assert_nonnull(ans);
	g_assert_cmpstr(a.remote_ufrag, ==, "amFZ");
	g_free(ans);
	gst_sdp_message_free(offer);
	g_free(text);
}

static void test_rejections(void)
{
	static const char *const cases[] = {
	    HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" ICE FP ACTPASS MUX
	         "a=rtpmap:111 opus/48000/2\r\n",
	    HEAD "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n" ICE FP ACTPASS MUX VP8,
	    HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" ICE FP ACTPASS,
	    HEAD VIDEO ICE ACTPASS MUX VP8,
	    HEAD VIDEO FP ACTPASS MUX VP8,
	    HEAD VIDEO "a=ice-ufrag:Xk4m\r\n" FP ACTPASS MUX VP8,
	    HEAD VIDEO "a=ice-pwd:4Jx9n5Qb0bW8o7Yr1J2Kc3Lm\r\n" FP ACTPASS MUX VP8,
	    HEAD VIDEO ICE FP "a=setup:passive\r\n" MUX VP8,
	    HEAD "a=setup:passive\r\n" VIDEO ICE FP MUX VP8,
	    HEAD VIDEO ICE FP ACTPASS VP8,
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		GstSDPMessage *offer = parse(cases[i]);
		struct answer_params a = params;
		char detail[160] = "";

		g_test_message("case %zu", i);
		a.pt = 96;
		g_assert_null(answer_build(offer, &a, detail, sizeof(detail)));
		g_assert_cmpuint(strlen(detail), >, 0);
		g_assert_null(strchr(detail, '\n'));
		gst_sdp_message_free(offer);
	}
}

/* H.264 (wire/codec.c chose it): its rtpmap, the fmtp chosen, and the feedback offered for it. */
static void test_h264(void)
{
	char *text = load("offer-safari.sdp"), *ans, detail[160] = "";
	GstSDPMessage *offer = parse(text), *answer;
	struct answer_params a = params;
	const GstSDPMedia *m;

	a.pt = 98;
	a.encoding = "H264";
	a.fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
	ans = answer_build(offer, &a, detail, sizeof(detail));
	g_assert_nonnull(ans);
	answer = parse(ans);
	m = gst_sdp_message_get_media(answer, 0);
	g_assert_cmpstr(gst_sdp_media_get_format(m, 0), ==, "98");
	g_assert_cmpuint(gst_sdp_media_formats_len(m), ==, 1);
	g_assert_cmpuint(count(m, "rtpmap", "98 H264/90000"), ==, 1);
	g_assert_cmpuint(
	    count(m, "fmtp",
	          "98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
	    ==, 1);
	g_assert_cmpuint(count(m, "rtcp-fb", "98 nack pli"), ==, 1);
	g_assert_null(strstr(ans, "VP8"));
	gst_sdp_message_free(answer);
	gst_sdp_message_free(offer);
	g_free(ans);
	g_free(text);
}

/* Sound: Opus sendonly at the offer's payload type beside the picture, or alone. */
static void test_audio(void)
{
	char *text = load("offer-chromium-video-audio.sdp"), *ans, detail[160] = "";
	GstSDPMessage *offer = parse(text), *answer;
	struct answer_params a = params;
	const GstSDPMedia *v, *m;

	a.pt = 96;
	a.audio_pt = 111;
	ans = answer_build(offer, &a, detail, sizeof(detail));
	g_assert_nonnull(ans);
	answer = parse(ans);
	v = gst_sdp_message_get_media(answer, 0);
	m = gst_sdp_message_get_media(answer, 1);
	g_assert_cmpstr(gst_sdp_media_get_media(m), ==, "audio");
	g_assert_cmpuint(gst_sdp_media_get_port(m), ==, 9);
	g_assert_cmpstr(gst_sdp_media_get_format(m, 0), ==, "111");
	g_assert_cmpuint(gst_sdp_media_formats_len(m), ==, 1);
	g_assert_cmpuint(count(m, "sendonly", NULL), ==, 1);
	g_assert_cmpuint(count(m, "rtpmap", "111 opus/48000/2"), ==, 1);
	g_assert_cmpuint(count(m, "fmtp", "111 minptime=10;useinbandfec=1"), ==, 1);
	g_assert_cmpuint(count(m, "rtcp-fb", NULL), ==, 0); /* no NACK, no PLI for sound */
	g_assert_cmpuint(count(v, "sendonly", NULL), ==, 1);
	g_assert_nonnull(strstr(ans, "a=group:BUNDLE 0 1\r\n"));
	gst_sdp_message_free(answer);
	g_free(ans);
	/* sound only: the picture's m-line inactive, the transport read off the audio one */
	a.pt = 0;
	ans = answer_build(offer, &a, detail, sizeof(detail));
	g_assert_nonnull(ans);
	answer = parse(ans);
	g_assert_cmpuint(count(gst_sdp_message_get_media(answer, 0), "inactive", NULL), ==, 1);
	g_assert_cmpuint(count(gst_sdp_message_get_media(answer, 1), "sendonly", NULL), ==, 1);
	gst_sdp_message_free(answer);
	g_free(ans);
	/* neither */
	a.audio_pt = 0;
	g_assert_null(answer_build(offer, &a, detail, sizeof(detail)));
	g_assert_cmpstr(detail, ==, "the offer has no video m-line in use");
	gst_sdp_message_free(offer);
	g_free(text);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/answer/browser-offers", test_browser_offers);
	g_test_add_func("/answer/inline-offers", test_inline_offers);
	g_test_add_func("/answer/rejections", test_rejections);
	g_test_add_func("/answer/remote-credentials", test_remote_credentials);
	g_test_add_func("/answer/h264", test_h264);
	g_test_add_func("/answer/audio", test_audio);
	return g_test_run();
}
