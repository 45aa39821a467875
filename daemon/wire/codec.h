/*
 * codec.h - which codec a viewer gets: the offer's video m-line read
 * against what its stream sends, in the stream's order of preference (VP8;
 * H.264 by RFC 6184, packetization-mode 1, in a profile the player says it
 * decodes), and the H.264 facts read off the stream itself (the profile in
 * its SPS). Pure functions over untrusted text and bytes; any thread.
 */
#ifndef WHEPCAMD_WIRE_CODEC_H
#define WHEPCAMD_WIRE_CODEC_H

#include <glib.h>
#include <gst/sdp/sdp.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"

/* What a stream sends, as codec_pick reads an offer against it. */
struct codec_sends {
	enum codec order[CODEC_COUNT]; /* preference order */
	guint n;
	/*
	 * The H.264 track's profile-level-id (profile_idc << 16 | constraint
	 * flags << 8 | level_idc), from its SPS; 0: not known yet (a camera's
	 * stream before its first SPS).
	 */
	guint32 h264_profile;
	bool audio; /* the stream has sound (Opus) */
};

/* The codec chosen for one viewer. */
struct codec_pick {
	enum codec codec;
	int pt;         /* the offer's payload type for it */
	char fmtp[128]; /* H.264: the a=fmtp value to answer with; "" for VP8 */
	/* H.264: the offered profile-level-id answered ("42e01f"), for mode full's caps */
	char profile_level_id[7];
	bool level_asymmetry; /* H.264: the offer allowed level asymmetry */
	/*
	 * The offer's Opus payload type on its first audio m-line in use, when
	 * the stream has sound; 0: no sound for this viewer. A viewer whose offer
	 * has sound and no picture gets codec CODEC_OPUS and pt 0.
	 */
	int audio_pt;
};

enum codec_result {
	CODEC_OK,
	CODEC_NONE,    /* 406: the player takes none of what the stream sends; detail says why */
	CODEC_NOT_YET, /* 503: the player could only take H.264, whose profile is not known yet */
};

/*
 * The first codec in `s`'s order that the video m-line `m` offers in a
 * form we can send: VP8/90000; H264/90000 with packetization-mode=1 and a
 * profile-level-id whose profile decodes what we send (the same profile
 * first, else one that contains it: High decodes Main and Constrained
 * Baseline). `detail` gets a one-line reason unless CODEC_OK.
 */
enum codec_result codec_pick(const GstSDPMedia *m, const struct codec_sends *s,
                             struct codec_pick *out, char *detail, size_t detail_len);

/* The payload type of opus/48000/2 in m (RFC 7587), or 0 when it offers none. */
int codec_pick_opus(const GstSDPMedia *m);

/* "Constrained Baseline", "High"...: the H.264 profile of a profile-level-id, for messages. */
const char *codec_h264_profile_name(guint32 profile_level_id);

/*
 * The profile-level-id of the first SPS (NAL type 7) in an Annex-B access
 * unit (start codes 00 00 01 / 00 00 00 01), or 0 when it has none.
 */
guint32 codec_h264_sps_profile(const uint8_t *au, size_t n);

#endif
