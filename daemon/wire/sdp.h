/*
 * sdp.h - the text work on SDP the daemon does itself: checking an offer
 * before any media path sees it, and completing an answer (SSRC lines,
 * candidates, the ETag). Pure functions, unit-tested and fuzzed; any thread.
 */
#ifndef WHEPCAMD_WIRE_SDP_H
#define WHEPCAMD_WIRE_SDP_H

#include <glib.h>
#include <stdbool.h>
#include <gst/sdp/sdp.h>

#include "codec.h"

enum sdp_check {
	SDP_OK = 0,
	SDP_NOT_SDP,  /* 400 */
	SDP_NO_VIDEO, /* 400 */
	SDP_NO_CODEC, /* 406 */
	SDP_NOT_YET,  /* 503: only H.264 would do, and the stream's profile is not known yet */
};

/*
 * True when the offer's m-section is in use: a port other than 0, or port 0
 * with a=bundle-only (RFC 9143 7.2: "only inside the BUNDLE group", as
 * Firefox and webrtcbin mark every m-line after the first under max-bundle).
 */
bool sdp_media_in_use(const GstSDPMedia *m);

/* The offer's BUNDLE group ("a=group:BUNDLE 0 1"), split (caller g_strfreev); NULL: none. */
char **sdp_bundle_group(const GstSDPMessage *msg);
/*
 * The offerer-tagged m-line (RFC 9143 7.2: the first mid of its BUNDLE
 * group), whose transport (ICE credentials, DTLS) the whole bundle shares;
 * NULL without a group. Borrowed from msg.
 */
const GstSDPMedia *sdp_bundle_tagged(const GstSDPMessage *msg);
/*
 * An offerer that does not yet know whether BUNDLE will be accepted may give
 * each bundled m-line ICE credentials of its own (aiortc does; RFC 8843
 * allows it); once bundled, only the tagged m-line's count. webrtcbin 1.22
 * refuses such an offer ("different ice-ufrag values in bundle"), so mode
 * full rewrites every bundled m-line's a=ice-ufrag/a=ice-pwd to the tagged
 * one's. Returns how many m-lines changed.
 */
guint sdp_unify_bundle_credentials(GstSDPMessage *msg);

/*
 * Check an offer: parseable, at most WHEPCAM_MAX_MLINES m-sections, has a
 * video m-section in use (sdp_media_in_use) offering VP8 with
 * a 90 kHz clock. On SDP_OK *vp8_pt holds the payload type of the first
 * VP8 rtpmap in the first video m-line. `detail` gets a one-line reason.
 */
enum sdp_check sdp_check_offer(const char *sdp, int *vp8_pt, char *detail, size_t detail_len);
/*
 * The same checks, with the codec chosen by codec_pick() against what the
 * stream sends (`sends`) in the first video m-line in use: *pick on SDP_OK.
 */
enum sdp_check sdp_check_offer_codecs(const char *sdp, const struct codec_sends *sends,
                                      struct codec_pick *pick, char *detail, size_t detail_len);

/*
 * Return a copy of `answer` in which every m-section with a non-zero port
 * carries the candidates (each "candidate:…" or "a=candidate:…") and ends
 * with a=end-of-candidates. Candidates already present are kept and not
 * repeated. Caller frees with g_free.
 */
char *sdp_splice_candidates(const char *answer, const GPtrArray *candidates);

/*
 * Return a copy of `answer` whose first active video section announces
 * `video_ssrc`, and whose first active audio section that is not inactive
 * announces `audio_ssrc` (0: no such lines), with a=msid and a=ssrc lines
 * of one stream `msid` (unless a section has them). Caller frees.
 */
char *sdp_add_ssrcs(const char *answer, guint32 video_ssrc, guint32 audio_ssrc, const char *msid);

/*
 * For hosts behind a 1:1 NAT: a copy of `candidates` where every host
 * candidate is followed by the same one on `public_address` (a new
 * foundation, priority one lower). NULL address: a plain copy. Caller unrefs.
 */
GPtrArray *sdp_public_candidates(const GPtrArray *candidates, const char *public_address);

/*
 * webrtcbin's answer: the player starts DTLS (RFC 8842: an answer to
 * actpass may be passive), so turn a=setup:active into passive.
 */
void sdp_answer_passive(GstSDPMessage *sdp);
/*
 * webrtcbin's answer to an H.264 offer leaves profile-level-id out of its
 * a=fmtp: make payload type `pt`'s fmtp in every video m-line `fmtp`.
 */
void sdp_answer_set_fmtp(GstSDPMessage *sdp, int pt, const char *fmtp);
/* A strong ETag for an answer: from its ICE ufrag, which names the ICE session. Caller frees. */
char *sdp_etag(const char *sdp);

#endif
