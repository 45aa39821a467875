/*
 * answer.c - the SDP answer of the direct path (JSEP §5.3, RFC 8843
 * BUNDLE, RFC 8445 §2.5 ICE-lite): the offer's first video m-line in use
 * (bundle-only ones too) is answered sendonly with the codec chosen for the
 * viewer (VP8 or H.264, wire/codec.c), its first audio m-line sendonly with
 * Opus when the stream has sound, other RTP m-lines inactive in the bundle,
 * anything else rejected (port 0).
 * Candidates and SSRC lines are added by the viewer code afterwards, as
 * for webrtcbin's answers. Pure text; unit-tested.
 */
#include <string.h>

#include "answer.h"
#include "sdp.h"

/*
 * A transport attribute of m: its own, the session's, or (for a bundle-only
 * m-line that leaves them out) the offerer-tagged m-line's, whose transport
 * the whole bundle shares (RFC 9143 7.2).
 */
static const char *attr(const GstSDPMessage *msg, const GstSDPMedia *m, const char *key)
{
	const GstSDPMedia *tagged;
	const char *v = gst_sdp_media_get_attribute_val(m, key);

	if (v == NULL)
		v = gst_sdp_message_get_attribute_val(msg, key);
	if (v == NULL && (tagged = sdp_bundle_tagged(msg)) != NULL)
		v = gst_sdp_media_get_attribute_val(tagged, key);
	return v;
}

/* Like attr(), but the tagged m-line's own value first: the bundle's transport. */
static const char *transport_attr(const GstSDPMessage *msg, const GstSDPMedia *m, const char *key)
{
	const GstSDPMedia *tagged = sdp_bundle_tagged(msg);
	const char *v = tagged != NULL ? gst_sdp_media_get_attribute_val(tagged, key) : NULL;

	return v != NULL ? v : attr(msg, m, key);
}

static bool has_rtcp_fb(const GstSDPMedia *m, int pt, const char *fb)
{
	char want[64];
	guint i;

	g_snprintf(want, sizeof(want), "%d %s", pt, fb);
	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);

		if (g_strcmp0(a->key, "rtcp-fb") == 0 && g_strcmp0(a->value, want) == 0)
			return true;
	}
	return false;
}

/* ICE, DTLS and mux lines every bundled m-line of ours carries. */
static void add_transport(GString *out, const GstSDPMedia *m, const struct answer_params *a)
{
	const char *mid = gst_sdp_media_get_attribute_val(m, "mid");

	if (mid != NULL)
		g_string_append_printf(out, "a=mid:%s\r\n", mid);
	g_string_append_printf(out,
	                       "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\n"
	                       "a=setup:passive\r\na=rtcp-mux\r\n",
	                       a->ufrag, a->pwd, a->fingerprint);
}

/* An RTP m-line the offerer did not reject: we answer it inside the bundle. */
static bool is_rtp(const GstSDPMedia *m)
{
	return strstr(gst_sdp_media_get_proto(m), "RTP/") != NULL &&
	       gst_sdp_media_formats_len(m) > 0 && sdp_media_in_use(m);
}

/*
 * The answer's BUNDLE group: the mids we accepted, in the order of the
 * offer's group, so that its first (the offerer-tagged m-line, RFC 9143
 * 7.3.1) stays first when we accept it; in m-line order without a group.
 */
static void add_bundle(GString *out, const GstSDPMessage *offer, GPtrArray *accepted)
{
	char **group = sdp_bundle_group(offer);
	GString *mids = g_string_new(NULL);
	guint i;

	for (i = 0; group != NULL && group[i] != NULL; i++)
		if (group[i][0] != '\0' &&
		    g_ptr_array_find_with_equal_func(accepted, group[i], g_str_equal, NULL))
			g_string_append_printf(mids, " %s", group[i]);
	for (i = 0; group == NULL && i < accepted->len; i++)
		g_string_append_printf(mids, " %s", (const char *)g_ptr_array_index(accepted, i));
	if (mids->len > 0)
		g_string_append_printf(out, "a=group:BUNDLE%s\r\n", mids->str);
	g_string_free(mids, TRUE);
	g_strfreev(group);
}

/*
 * An RTP m-line we send nothing on (audio): inactive in the bundle, with its
 * first codec, the way webrtcbin answers it (some clients refuse an answer
 * m-line without a codec). Anything else (data channels) is rejected: port 0.
 */
static void add_unused(GString *out, const GstSDPMedia *m, const struct answer_params *a)
{
	const char *fmt = gst_sdp_media_formats_len(m) > 0 ? gst_sdp_media_get_format(m, 0) : "0";
	const char *mid = gst_sdp_media_get_attribute_val(m, "mid");
	guint i;

	if (!is_rtp(m)) {
		g_string_append_printf(out, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n",
		                       gst_sdp_media_get_media(m), gst_sdp_media_get_proto(m), fmt);
		if (mid != NULL)
			g_string_append_printf(out, "a=mid:%s\r\n", mid);
		return;
	}
	g_string_append_printf(out, "m=%s 9 %s %s\r\nc=IN IP4 0.0.0.0\r\n",
	                       gst_sdp_media_get_media(m), gst_sdp_media_get_proto(m), fmt);
	add_transport(out, m, a);
	g_string_append(out, "a=inactive\r\n");
	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *at = gst_sdp_media_get_attribute(m, i);
		size_t n = strlen(fmt);

		if (g_strcmp0(at->key, "rtpmap") == 0 && at->value != NULL &&
		    strncmp(at->value, fmt, n) == 0 && at->value[n] == ' ')
			g_string_append_printf(out, "a=rtpmap:%s\r\n", at->value);
	}
}

/* The head of an m-line we send on: one payload type, the bundle's transport, sendonly. */
static void add_sendonly(GString *out, const GstSDPMedia *m, const struct answer_params *a,
                         const char *kind, int pt)
{
	g_string_append_printf(out, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n", kind,
	                       pt);
	add_transport(out, m, a);
	g_string_append(out, "a=sendonly\r\n");
	if (gst_sdp_media_get_attribute_val(m, "rtcp-rsize") != NULL)
		g_string_append(out, "a=rtcp-rsize\r\n");
}

static void add_video(GString *out, const GstSDPMedia *m, struct answer_params *a)
{
	add_sendonly(out, m, a, "video", a->pt);
	g_string_append_printf(out, "a=rtpmap:%d %s/90000\r\n", a->pt,
	                       a->encoding != NULL ? a->encoding : "VP8");
	if (a->fmtp != NULL && a->fmtp[0] != '\0')
		g_string_append_printf(out, "a=fmtp:%d %s\r\n", a->pt, a->fmtp);
	/* Only the feedback we act on, and only when the viewer offered it. */
	a->nack = has_rtcp_fb(m, a->pt, "nack");
	if (a->nack)
		g_string_append_printf(out, "a=rtcp-fb:%d nack\r\n", a->pt);
	if (has_rtcp_fb(m, a->pt, "nack pli"))
		g_string_append_printf(out, "a=rtcp-fb:%d nack pli\r\n", a->pt);
	if (has_rtcp_fb(m, a->pt, "ccm fir"))
		g_string_append_printf(out, "a=rtcp-fb:%d ccm fir\r\n", a->pt);
}

/* Opus (RFC 7587): in-band FEC on, as the encoder makes it; 10 ms frames at the least. */
static void add_audio(GString *out, const GstSDPMedia *m, struct answer_params *a)
{
	add_sendonly(out, m, a, "audio", a->audio_pt);
	g_string_append_printf(out, "a=rtpmap:%d opus/48000/2\r\n", a->audio_pt);
	g_string_append_printf(out, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", a->audio_pt);
}

/* The offer's first m-line of `kind` in use, or NULL. */
static const GstSDPMedia *first_in_use(const GstSDPMessage *offer, const char *kind)
{
	guint i;

	for (i = 0; i < gst_sdp_message_medias_len(offer); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(offer, i);

		if (g_strcmp0(gst_sdp_media_get_media(m), kind) == 0 && sdp_media_in_use(m))
			return m;
	}
	return NULL;
}

char *answer_build(const GstSDPMessage *offer, struct answer_params *a, char *detail,
                   size_t detail_len)
{
	GString *body = g_string_new(NULL), *out;
	GPtrArray *accepted = g_ptr_array_new(); /* mids, borrowed from the offer */
	const GstSDPMedia *video = a->pt > 0 ? first_in_use(offer, "video") : NULL;
	const GstSDPMedia *audio = a->audio_pt > 0 ? first_in_use(offer, "audio") : NULL;
	/* The m-line whose transport lines we check: the picture's, else the sound's. */
	const GstSDPMedia *lead = video != NULL ? video : audio;
	const char *setup;
	guint i;

	if (lead == NULL) {
		g_snprintf(detail, detail_len, "the offer has no video m-line in use%s",
		           a->audio_pt > 0 ? " and no audio one" : "");
		goto fail;
	}
	if (attr(offer, lead, "fingerprint") == NULL || attr(offer, lead, "ice-ufrag") == NULL ||
	    attr(offer, lead, "ice-pwd") == NULL) {
		g_snprintf(detail, detail_len,
		           "the offer's %s m-line lacks a=fingerprint, a=ice-ufrag or a=ice-pwd",
		           gst_sdp_media_get_media(lead));
		goto fail;
	}
	/*
	 * The bundle's transport is the offerer-tagged m-line's: an offerer may
	 * give each bundled m-line credentials of its own (aiortc does), and
	 * then only the tagged one's are its agent's (RFC 9143 7.2).
	 */
	a->remote_ufrag = transport_attr(offer, lead, "ice-ufrag");
	a->remote_pwd = transport_attr(offer, lead, "ice-pwd");
	setup = attr(offer, lead, "setup");
	if (setup != NULL && strcmp(setup, "passive") == 0) {
		g_snprintf(detail, detail_len,
		           "a=setup:passive in the offer: whepcam is always the DTLS server");
		goto fail;
	}
	if (attr(offer, lead, "rtcp-mux") == NULL) {
		g_snprintf(detail, detail_len, "the offer's %s m-line lacks a=rtcp-mux",
		           gst_sdp_media_get_media(lead));
		goto fail;
	}
	for (i = 0; i < gst_sdp_message_medias_len(offer); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(offer, i);
		const char *mid = gst_sdp_media_get_attribute_val(m, "mid");

		if (m == video)
			add_video(body, m, a);
		else if (m == audio)
			add_audio(body, m, a);
		else
			add_unused(body, m, a);
		if (mid != NULL && (m == video || m == audio || is_rtp(m)))
			g_ptr_array_add(accepted, (gpointer)mid);
	}
	out = g_string_new(NULL);
	g_string_append_printf(out,
	                       "v=0\r\no=- %" G_GUINT64_FORMAT " 2 IN IP4 127.0.0.1\r\ns=-\r\n"
	                       "t=0 0\r\na=ice-lite\r\n",
	                       a->session_version);
	add_bundle(out, offer, accepted);
	g_string_append(out, "a=msid-semantic: WMS whepcam\r\n");
	g_string_append_len(out, body->str, (gssize)body->len);
	g_string_free(body, TRUE);
	g_ptr_array_unref(accepted);
	return g_string_free(out, FALSE);
fail:
	g_string_free(body, TRUE);
	g_ptr_array_unref(accepted);
	return NULL;
}
