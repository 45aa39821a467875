/*
 * sdp.c - the text work on SDP that the daemon does itself: checking an
 * offer before webrtcbin sees it (so bad input gets a clear 4xx, never a
 * webrtcbin assertion) and splicing gathered ICE candidates into the answer
 * so that players that never trickle get a complete answer (RFC 8840 §4.3).
 */
#include <gst/sdp/sdp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"
#include "whepcam.h"

char **sdp_bundle_group(const GstSDPMessage *msg)
{
	guint i;

	for (i = 0; i < gst_sdp_message_attributes_len(msg); i++) {
		const GstSDPAttribute *a = gst_sdp_message_get_attribute(msg, i);

		if (g_strcmp0(a->key, "group") == 0 && a->value != NULL &&
		    g_str_has_prefix(a->value, "BUNDLE "))
			return g_strsplit_set(a->value + strlen("BUNDLE "), " ", -1);
	}
	return NULL;
}

/* The index of the m-line with a=mid `mid`, or -1. */
static int media_by_mid(const GstSDPMessage *msg, const char *mid)
{
	guint i;

	for (i = 0; mid != NULL && i < gst_sdp_message_medias_len(msg); i++)
		if (g_strcmp0(
		        gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(msg, i), "mid"),
		        mid) == 0)
			return (int)i;
	return -1;
}

const GstSDPMedia *sdp_bundle_tagged(const GstSDPMessage *msg)
{
	char **group = sdp_bundle_group(msg);
	int i = group != NULL ? media_by_mid(msg, group[0]) : -1;

	g_strfreev(group);
	return i >= 0 ? gst_sdp_message_get_media(msg, (guint)i) : NULL;
}

/* Set m's attribute `key` to `value` (the first such attribute), if it has one that differs. */
static bool replace_attribute(GstSDPMedia *m, const char *key, const char *value)
{
	guint i;

	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
		GstSDPAttribute fresh;

		if (g_strcmp0(a->key, key) != 0)
			continue;
		if (g_strcmp0(a->value, value) == 0)
			return false;
		gst_sdp_attribute_set(&fresh, key, value);
		gst_sdp_media_replace_attribute(m, i, &fresh);
		return true;
	}
	return false;
}

guint sdp_unify_bundle_credentials(GstSDPMessage *msg)
{
	char **group = sdp_bundle_group(msg);
	int tagged = group != NULL ? media_by_mid(msg, group[0]) : -1;
	char *ufrag = NULL, *pwd = NULL;
	guint i, changed = 0;

	if (tagged >= 0) {
		const GstSDPMedia *t = gst_sdp_message_get_media(msg, (guint)tagged);

		ufrag = g_strdup(gst_sdp_media_get_attribute_val(t, "ice-ufrag"));
		pwd = g_strdup(gst_sdp_media_get_attribute_val(t, "ice-pwd"));
	}
	for (i = 1; ufrag != NULL && pwd != NULL && group[i] != NULL; i++) {
		int m = media_by_mid(msg, group[i]);
		GstSDPMedia *media;
		bool a, b;

		if (m < 0 || m == tagged)
			continue;
		media = (GstSDPMedia *)gst_sdp_message_get_media(msg, (guint)m);
		a = replace_attribute(media, "ice-ufrag", ufrag);
		b = replace_attribute(media, "ice-pwd", pwd);
		changed += a || b;
	}
	g_free(ufrag);
	g_free(pwd);
	g_strfreev(group);
	return changed;
}

bool sdp_media_in_use(const GstSDPMedia *m)
{
	return gst_sdp_media_get_port(m) != 0 ||
	       gst_sdp_media_get_attribute_val(m, "bundle-only") != NULL;
}

/* Opus's payload type on the offer's first audio m-line in use; 0: none. */
static int offered_opus(const GstSDPMessage *msg)
{
	guint i;

	for (i = 0; i < gst_sdp_message_medias_len(msg); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);

		if (g_strcmp0(gst_sdp_media_get_media(m), "audio") == 0 && sdp_media_in_use(m))
			return codec_pick_opus(m);
	}
	return 0;
}

enum sdp_check sdp_check_offer_codecs(const char *sdp, const struct codec_sends *sends,
                                      struct codec_pick *pick, char *detail, size_t detail_len)
{
	GstSDPMessage *msg = NULL;
	enum sdp_check rc = SDP_NOT_SDP;
	int audio_pt = 0;
	guint i;

	if (strncmp(sdp, "v=0", 3) != 0 || (sdp[3] != '\r' && sdp[3] != '\n')) {
		snprintf(detail, detail_len, "body is not an SDP offer (it must start with v=0)");
		return SDP_NOT_SDP;
	}
	if (gst_sdp_message_new(&msg) != GST_SDP_OK)
		return SDP_NOT_SDP;
	if (gst_sdp_message_parse_buffer((const guint8 *)sdp, strlen(sdp), msg) != GST_SDP_OK ||
	    gst_sdp_message_medias_len(msg) == 0) {
		snprintf(detail, detail_len, "SDP offer has no m= lines");
		goto out;
	}
	if (gst_sdp_message_medias_len(msg) > WHEPCAM_MAX_MLINES) {
		snprintf(detail, detail_len, "SDP offer has %u m= lines; at most %d are answered",
		         gst_sdp_message_medias_len(msg), WHEPCAM_MAX_MLINES);
		goto out;
	}
	rc = SDP_NO_VIDEO;
	snprintf(detail, detail_len, "SDP offer has no active video m-line%s",
	         sends->audio ? ", nor an audio one with opus/48000/2" : "");
	memset(pick, 0, sizeof(*pick));
	audio_pt = sends->audio ? offered_opus(msg) : 0;
	if (audio_pt > 0) { /* sound only, unless a picture is offered too */
		rc = SDP_OK;
		pick->codec = CODEC_OPUS;
		if (detail_len > 0)
			detail[0] = '\0';
	}
	for (i = 0; i < gst_sdp_message_medias_len(msg); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);

		if (g_strcmp0(gst_sdp_media_get_media(m), "video") != 0 || !sdp_media_in_use(m))
			continue;
		/* only the first active video m-line is answered */
		switch (codec_pick(m, sends, pick, detail, detail_len)) {
		case CODEC_OK:
			rc = SDP_OK;
			if (detail_len > 0)
				detail[0] = '\0';
			break;
		case CODEC_NONE:
			rc = SDP_NO_CODEC;
			break;
		case CODEC_NOT_YET:
			rc = SDP_NOT_YET;
			break;
		}
		break;
	}
	pick->audio_pt = audio_pt;
out:
	gst_sdp_message_free(msg);
	return rc;
}

enum sdp_check sdp_check_offer(const char *sdp, int *vp8_pt, char *detail, size_t detail_len)
{
	static const struct codec_sends vp8 = {.order = {CODEC_VP8}, .n = 1};
	struct codec_pick pick;
	enum sdp_check rc = sdp_check_offer_codecs(sdp, &vp8, &pick, detail, detail_len);

	if (rc == SDP_OK)
		*vp8_pt = pick.pt;
	return rc;
}

/* True when the m= line starting at `line` has a port other than 0. */
static bool mline_active(const char *line)
{
	const char *sp = strchr(line, ' ');

	return sp != NULL && !(sp[1] == '0' && (sp[2] == ' ' || sp[2] == '/'));
}

static void finish_section(GString *out, const char *section, size_t len, bool active,
                           const GPtrArray *candidates)
{
	bool has_end = false;
	guint i;

	g_string_append_len(out, section, len);
	if (!active)
		return;
	has_end = g_strstr_len(section, len, "a=end-of-candidates") != NULL;
	for (i = 0; candidates != NULL && i < candidates->len; i++) {
		const char *c = g_ptr_array_index(candidates, i);
		const char *body = g_str_has_prefix(c, "a=") ? c + 2 : c;
		char *line = g_strdup_printf("a=%s\r\n", body);

		if (g_strstr_len(section, len, line) == NULL)
			g_string_append(out, line);
		g_free(line);
	}
	if (!has_end)
		g_string_append(out, "a=end-of-candidates\r\n");
}

/* The msid and ssrc lines of a track of `kind` ("video", "audio"). */
static void add_ssrc_lines(GString *out, const char *kind, guint32 ssrc, const char *msid)
{
	g_string_append_printf(out,
	                       "a=msid:%s %s\r\na=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n",
	                       msid, kind, ssrc, msid, ssrc, msid, kind);
}

char *sdp_add_ssrcs(const char *answer, guint32 video_ssrc, guint32 audio_ssrc, const char *msid)
{
	GString *out = g_string_sized_new(strlen(answer) + 512);
	const char *p = answer;
	const char *kind = NULL; /* the section we are in, while its lines are to be added */
	bool done_video = video_ssrc == 0, done_audio = audio_ssrc == 0;

	/*
	 * Receivers that route RTP by SSRC (libdatachannel, Chromium with
	 * audio+video offers) and players using event.streams[0] need these;
	 * one msid for both tracks is what makes a player sync them. The lines
	 * go before the first a=candidate or at the section's end.
	 */
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *next = eol != NULL ? eol + 1 : p + strlen(p);
		bool mline = g_str_has_prefix(p, "m=");

		if (kind != NULL && (mline || g_str_has_prefix(p, "a=candidate") ||
		                     g_str_has_prefix(p, "a=end-of-candidates"))) {
			bool video = strcmp(kind, "video") == 0;

			add_ssrc_lines(out, kind, video ? video_ssrc : audio_ssrc, msid);
			*(video ? &done_video : &done_audio) = true;
			kind = NULL;
		}
		if (mline && mline_active(p)) {
			if (!done_video && g_str_has_prefix(p, "m=video"))
				kind = "video";
			else if (!done_audio && g_str_has_prefix(p, "m=audio"))
				kind = "audio";
		}
		if (kind != NULL &&
		    (g_str_has_prefix(p, "a=ssrc:") || g_str_has_prefix(p, "a=msid:"))) {
			/* webrtcbin wrote its own: keep them */
			*(strcmp(kind, "video") == 0 ? &done_video : &done_audio) = true;
			kind = NULL;
		}
		if (kind != NULL && g_str_has_prefix(p, "a=inactive"))
			kind = NULL; /* we send nothing there */
		g_string_append_len(out, p, (gssize)(next - p));
		p = next;
	}
	if (kind != NULL)
		add_ssrc_lines(out, kind, strcmp(kind, "video") == 0 ? video_ssrc : audio_ssrc,
		               msid);
	return g_string_free(out, FALSE);
}

char *sdp_splice_candidates(const char *answer, const GPtrArray *candidates)
{
	GString *out = g_string_sized_new(strlen(answer) + 1024);
	const char *p = answer, *section = NULL;
	bool active = false;

	/* Walk line by line; a section runs from one m= line to the next. */
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *next = eol != NULL ? eol + 1 : p + strlen(p);

		if (g_str_has_prefix(p, "m=")) {
			if (section != NULL)
				finish_section(out, section, (size_t)(p - section), active,
				               candidates);
			else
				g_string_append_len(out, answer, (gssize)(p - answer));
			section = p;
			active = mline_active(p);
		}
		p = next;
	}
	if (section != NULL)
		finish_section(out, section, (size_t)(p - section), active, candidates);
	else
		g_string_append(out, answer);
	return g_string_free(out, FALSE);
}

GPtrArray *sdp_public_candidates(const GPtrArray *candidates, const char *public_address)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	guint i;

	for (i = 0; i < candidates->len; i++) {
		const char *c = g_ptr_array_index(candidates, i);
		char **f = g_strsplit(c, " ", 32);

		g_ptr_array_add(out, g_strdup(c));
		/* foundation component transport priority address port typ host ... */
		if (public_address != NULL && g_strv_length(f) >= 8 && strcmp(f[7], "host") == 0 &&
		    strcmp(f[4], public_address) != 0) {
			char *foundation = g_strconcat(f[0], "9", NULL);
			long prio = strtol(f[3], NULL, 10);

			g_free(f[0]);
			f[0] = foundation;
			g_free(f[3]);
			f[3] = g_strdup_printf("%ld", prio > 1 ? prio - 1 : 1);
			g_free(f[4]);
			f[4] = g_strdup(public_address);
			g_ptr_array_add(out, g_strjoinv(" ", f));
		}
		g_strfreev(f);
	}
	return out;
}

char *sdp_etag(const char *sdp)
{
	const char *u = strstr(sdp, "a=ice-ufrag:");
	char *sum, *etag;
	size_t n = 0;

	if (u != NULL)
		n = strcspn(u, "\r\n");
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)(u ? u : sdp), n);
	etag = g_strdup_printf("\"%.16s\"", sum);
	g_free(sum);
	return etag;
}

/*
 * The player starts DTLS (RFC 8842: an answer to actpass may be passive).
 * With webrtcbin as the DTLS client its ClientHello can reach a player that
 * is not listening yet, and the first retransmission waits OpenSSL's 1 s.
 */
void sdp_answer_passive(GstSDPMessage *sdp)
{
	guint i, j;

	for (i = 0; i < gst_sdp_message_medias_len(sdp); i++) {
		GstSDPMedia *m = (GstSDPMedia *)gst_sdp_message_get_media(sdp, i);

		for (j = 0; j < gst_sdp_media_attributes_len(m); j++) {
			const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, j);

			if (g_strcmp0(a->key, "setup") == 0 && g_strcmp0(a->value, "active") == 0) {
				GstSDPAttribute passive;

				gst_sdp_attribute_set(&passive, "setup", "passive");
				gst_sdp_media_replace_attribute(m, j, &passive);
			}
		}
	}
}

void sdp_answer_set_fmtp(GstSDPMessage *sdp, int pt, const char *fmtp)
{
	char *value = g_strdup_printf("%d %s", pt, fmtp), *prefix = g_strdup_printf("%d ", pt);
	guint i, j;

	for (i = 0; i < gst_sdp_message_medias_len(sdp); i++) {
		GstSDPMedia *m = (GstSDPMedia *)gst_sdp_message_get_media(sdp, i);
		bool done = false;

		if (g_strcmp0(gst_sdp_media_get_media(m), "video") != 0)
			continue;
		for (j = 0; j < gst_sdp_media_attributes_len(m) && !done; j++) {
			const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, j);
			GstSDPAttribute fresh;

			if (g_strcmp0(a->key, "fmtp") != 0 || !g_str_has_prefix(a->value, prefix))
				continue;
			gst_sdp_attribute_set(&fresh, "fmtp", value);
			gst_sdp_media_replace_attribute(m, j, &fresh);
			done = true;
		}
		if (!done)
			gst_sdp_media_add_attribute(m, "fmtp", value);
	}
	g_free(value);
	g_free(prefix);
}
