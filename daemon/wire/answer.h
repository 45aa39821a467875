/*
 * answer.h - the SDP answer of an ICE-lite endpoint that is always the
 * DTLS server and sends one video track, VP8 or H.264 (the direct path's,
 * mode lite).
 * Pure text, unit-tested; any thread.
 */
#ifndef WHEPCAMD_WIRE_ANSWER_H
#define WHEPCAMD_WIRE_ANSWER_H

#include <glib.h>
#include <gst/sdp/sdp.h>
#include <stdbool.h>

struct answer_params {
	const char *ufrag, *pwd; /* ours */
	const char *fingerprint; /* "sha-256 AB:…" of our certificate */
	int pt;                  /* the offer's video payload type; 0 or less: no picture */
	int audio_pt;            /* the offer's Opus payload type; 0 or less: no sound */
	const char *encoding;    /* "VP8" (NULL: VP8) or "H264" */
	const char *fmtp;        /* the a=fmtp value (H.264's), or NULL */
	guint64 session_version; /* o= session id */
	bool nack;               /* set by answer_build: plain a=rtcp-fb nack was answered */
	/* set by answer_build: the offer's ICE credentials for the answered bundle (borrowed) */
	const char *remote_ufrag, *remote_pwd;
};
/*
 * The answer to `offer`, without candidates or SSRC lines (caller frees),
 * or NULL with a one-line reason (a 400 for the offer).
 */
char *answer_build(const GstSDPMessage *offer, struct answer_params *a, char *detail,
                   size_t detail_len);

#endif
