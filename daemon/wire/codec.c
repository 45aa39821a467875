/*
 * codec.c - the codec a viewer is sent (the offer's rtpmap and fmtp lines read
 * against the stream's order of preference) and the H.264 profile a stream
 * sends (RFC 6184 §8.1 profile-level-id; the profile classes as libwebrtc
 * and Safari compare them). Pure functions over untrusted text and bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* H.264 profiles as players tell them apart (by profile_idc and the constraint flags). */
enum h264_class {
	H264_UNKNOWN,
	H264_CONSTRAINED_BASELINE,
	H264_BASELINE,
	H264_MAIN,
	H264_EXTENDED,
	H264_CONSTRAINED_HIGH,
	H264_HIGH,
	H264_HIGH_444,
};

static enum h264_class h264_class_of(guint32 plid)
{
	guint8 idc = (guint8)(plid >> 16), iop = (guint8)(plid >> 8);

	switch (idc) {
	case 0x42: /* constraint_set1: also decodable by Main decoders */
		return (iop & 0x40) ? H264_CONSTRAINED_BASELINE : H264_BASELINE;
	case 0x4d: /* constraint_set0 on Main: also Baseline-decodable */
		return (iop & 0x80) ? H264_CONSTRAINED_BASELINE : H264_MAIN;
	case 0x58:
		return (iop & 0xc0) == 0xc0 ? H264_CONSTRAINED_BASELINE
		       : (iop & 0x80)       ? H264_BASELINE
		                            : H264_EXTENDED;
	case 0x64: /* constraint_set4 and 5: no B slices, progressive */
		return (iop & 0x0c) == 0x0c ? H264_CONSTRAINED_HIGH : H264_HIGH;
	case 0xf4:
		return H264_HIGH_444;
	default:
		return H264_UNKNOWN;
	}
}

const char *codec_h264_profile_name(guint32 plid)
{
	static const char *const names[] = {
	    [H264_UNKNOWN] = "unknown",   [H264_CONSTRAINED_BASELINE] = "Constrained Baseline",
	    [H264_BASELINE] = "Baseline", [H264_MAIN] = "Main",
	    [H264_EXTENDED] = "Extended", [H264_CONSTRAINED_HIGH] = "Constrained High",
	    [H264_HIGH] = "High",         [H264_HIGH_444] = "High 4:4:4 Predictive",
	};

	return names[h264_class_of(plid)];
}

/*
 * Whether a decoder of profile `dec` decodes a stream of profile `sent` (a
 * superset of tools). Constrained High is taken as a High decoder: Safari
 * offers it (and Constrained Baseline) for VideoToolbox, which decodes the
 * Main and High streams IP cameras send; without it every such camera would
 * need a transcode for Safari.
 */
static bool h264_decodes(enum h264_class dec, enum h264_class sent)
{
	if (dec == H264_UNKNOWN || sent == H264_UNKNOWN)
		return false;
	if (dec == sent || dec == H264_HIGH_444)
		return true;
	switch (sent) {
	case H264_CONSTRAINED_BASELINE:
		return true; /* every profile's decoder takes Constrained Baseline */
	case H264_MAIN:
	case H264_CONSTRAINED_HIGH:
	case H264_HIGH:
		return dec == H264_HIGH || dec == H264_CONSTRAINED_HIGH;
	default:
		return false;
	}
}

/* The value of `key` in an fmtp parameter list "a=1;b=2" (copied into out); false when absent. */
static bool fmtp_param(const char *fmtp, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = fmtp;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (g_ascii_strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, "; ");

			if (n >= len)
				return false;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

static int rtpmap_pt_at(const char *rtpmap, const char *encoding, const char *rate);

/* The payload type of an rtpmap value "96 VP8/90000" when it names `encoding`; else -1. */
static int rtpmap_pt(const char *rtpmap, const char *encoding)
{
	return rtpmap_pt_at(rtpmap, encoding, "/90000");
}

static int rtpmap_pt_at(const char *rtpmap, const char *encoding, const char *rate)
{
	char *end;
	long v = strtol(rtpmap, &end, 10);
	size_t n = strlen(encoding);

	if (end == rtpmap || v < 0 || v > 127 || *end != ' ')
		return -1;
	while (*end == ' ')
		end++;
	if (g_ascii_strncasecmp(end, encoding, n) != 0 || strcmp(end + n, rate) != 0)
		return -1;
	return (int)v;
}

/* The fmtp value of payload type `pt` in m, or "" (borrowed from m). */
static const char *fmtp_of(const GstSDPMedia *m, int pt)
{
	guint i;

	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
		char *end;
		long v;

		if (g_strcmp0(a->key, "fmtp") != 0 || a->value == NULL)
			continue;
		v = strtol(a->value, &end, 10);
		if (end != a->value && v == pt && *end == ' ')
			return end + 1;
	}
	return "";
}

static bool pick_vp8(const GstSDPMedia *m, struct codec_pick *out)
{
	guint i;

	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
		int pt;

		if (g_strcmp0(a->key, "rtpmap") == 0 && a->value != NULL &&
		    (pt = rtpmap_pt(a->value, "VP8")) >= 0) {
			*out = (struct codec_pick){.codec = CODEC_VP8, .pt = pt};
			return true;
		}
	}
	return false;
}

/*
 * An offered H.264 payload type with packetization-mode 1 whose profile
 * decodes `sent`: the same profile first (in offer order), else a larger
 * one. What the offer says it decodes is answered back (RFC 6184 §8.2.2:
 * the answer keeps the offer's profile). *offered_h264 tells whether any
 * H.264 was offered at all, for the reason a refusal gives.
 */
static bool pick_h264(const GstSDPMedia *m, guint32 sent, struct codec_pick *out,
                      bool *offered_h264, bool *offered_mode1)
{
	enum h264_class want = h264_class_of(sent);
	int pass;
	guint i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
			const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
			char mode[8] = "0", plid[16] = "420010", asym[4] = "0";
			const char *fmtp;
			enum h264_class c;
			guint64 v;
			char *end;
			int pt;

			if (g_strcmp0(a->key, "rtpmap") != 0 || a->value == NULL ||
			    (pt = rtpmap_pt(a->value, "H264")) < 0)
				continue;
			*offered_h264 = true;
			fmtp = fmtp_of(m, pt);
			fmtp_param(fmtp, "packetization-mode", mode, sizeof(mode));
			if (strcmp(mode, "1") != 0)
				continue; /* mode 0 has no FU-A: a keyframe does not fit a packet */
			*offered_mode1 = true;
			/* RFC 6184 §8.1: absent, it is Baseline at level 1 (420010). */
			if (fmtp_param(fmtp, "profile-level-id", plid, sizeof(plid)) &&
			    strlen(plid) != 6)
				continue;
			v = g_ascii_strtoull(plid, &end, 16);
			if (*end != '\0')
				continue;
			c = h264_class_of((guint32)v);
			if (pass == 0 ? c != want : !h264_decodes(c, want))
				continue;
			fmtp_param(fmtp, "level-asymmetry-allowed", asym, sizeof(asym));
			*out = (struct codec_pick){.codec = CODEC_H264, .pt = pt};
			out->level_asymmetry = strcmp(asym, "1") == 0;
			g_strlcpy(out->profile_level_id, plid, sizeof(out->profile_level_id));
			g_snprintf(out->fmtp, sizeof(out->fmtp),
			           "%spacketization-mode=1;profile-level-id=%s",
			           out->level_asymmetry ? "level-asymmetry-allowed=1;" : "", plid);
			return true;
		}
	}
	return false;
}

enum codec_result codec_pick(const GstSDPMedia *m, const struct codec_sends *s,
                             struct codec_pick *out, char *detail, size_t detail_len)
{
	bool h264 = false, mode1 = false, h264_waits = false;
	GString *want = g_string_new(NULL);
	enum codec_result rc = CODEC_NONE;
	guint i;

	for (i = 0; i < s->n; i++) {
		if (s->order[i] == CODEC_VP8) {
			if (pick_vp8(m, out))
				goto ok;
			g_string_append_printf(want, "%sVP8/90000", want->len ? " or " : "");
		} else if (s->h264_profile == 0) {
			h264_waits = true;
		} else {
			if (pick_h264(m, s->h264_profile, out, &h264, &mode1))
				goto ok;
			g_string_append_printf(
			    want, "%sH264/90000 (packetization-mode=1, %s profile)",
			    want->len ? " or " : "", codec_h264_profile_name(s->h264_profile));
		}
	}
	if (h264_waits) {
		rc = CODEC_NOT_YET;
		g_snprintf(
		    detail, detail_len,
		    "the stream's H.264 profile is not known yet (its source is starting)%s%s",
		    want->len ? "; the offer also lacks " : "", want->str);
	} else if (h264 && !mode1) {
		g_snprintf(detail, detail_len,
		           "the offer's H.264 is packetization-mode 0 only; this server sends %s",
		           want->str);
	} else {
		g_snprintf(detail, detail_len,
		           "the offer's video m-line has no %s, the codec%s this stream sends",
		           want->str, s->n > 1 ? "s" : "");
	}
	g_string_free(want, TRUE);
	return rc;
ok:
	g_string_free(want, TRUE);
	return CODEC_OK;
}

guint32 codec_h264_sps_profile(const uint8_t *au, size_t n)
{
	size_t i;

	/* Every start code 00 00 01 (a 4-byte one ends the same way). */
	for (i = 0; i + 3 < n; i++) {
		if (au[i] != 0 || au[i + 1] != 0 || au[i + 2] != 1)
			continue;
		if ((au[i + 3] & 0x1f) == 7 && i + 6 < n)
			return (guint32)au[i + 4] << 16 | (guint32)au[i + 5] << 8 | au[i + 6];
		i += 2;
	}
	return 0;
}

int codec_pick_opus(const GstSDPMedia *m)
{
	guint i;

	for (i = 0; i < gst_sdp_media_attributes_len(m); i++) {
		const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
		int pt;

		/*
		 * RFC 7587 §7 says opus/48000/2 whatever the channels sent;
		 * GStreamer's webrtcbin (whepsrc) offers OPUS/48000.
		 */
		if (g_strcmp0(a->key, "rtpmap") == 0 && a->value != NULL &&
		    ((pt = rtpmap_pt_at(a->value, "opus", "/48000/2")) > 0 ||
		     (pt = rtpmap_pt_at(a->value, "opus", "/48000")) > 0))
			return pt;
	}
	return 0;
}
