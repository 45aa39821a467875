/*
 * fanout.h - one payloader per track, fanned out to the direct path's
 * viewers: tee ! queue ! rtpvp8pay|rtph264pay ! appsink, and on the queue's
 * thread ("fanout:src" for VP8, "fanout-h264:src") each frame's packets are copied, given each
 * viewer's payload type, SRTP-protected and sent. Owns its elements, the history of packets kept
 * for NACKs, and a struct fanout_member per viewer (its payload type, SRTP sender and address).
 * Threads: new/free/add/remove on the main loop; set_sender and resend on
 * the receive thread (lock order: the peer registry's, then the fanout's,
 * then a member's seal lock); frames go out on "fanout:src", which holds
 * the fanout lock while sending. Resends are copied from the history under
 * the fanout lock and sealed and sent after it, within each viewer's budget
 * (wire/resend.h).
 */
#ifndef WHEPCAMD_LITE_FANOUT_H
#define WHEPCAMD_LITE_FANOUT_H

#include <glib.h>
#include <gst/gst.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/config.h"
#include "media/branch.h"
#include "media/track.h"
#include "wire/srtp_seal.h"
#include "wire/srtcp.h"

struct fanout;        /* opaque */
struct fanout_member; /* opaque: one viewer's place in a fan-out */

/*
 * Main thread, before the pipeline plays: track `t`'s payloader on a
 * request pad of its tee. `kbps`: the stream's configured bitrate, which
 * sets each viewer's resend budget. The packets since the last keyframe are
 * kept (gop.h) and a viewer whose DTLS just came up starts from them: a
 * camera's whole GOP (its keyframes no join can hasten), our encoder's
 * while its keyframe is fresh (the one its join asked for with the offer).
 */
struct fanout *fanout_new(GstElement *pipeline, struct track *t, unsigned kbps, char **err);
/* Main thread, after the pipeline is NULL and every member is removed. NULL is fine. */
void fanout_free(struct fanout *f);
/* Main thread: the source restarted: the GOP kept from before is not sent to anyone. */
void fanout_forget_gop(struct fanout *f);
/* The SSRC of the fan-out's payloader, for the answers' a=ssrc. */
guint32 fanout_ssrc(const struct fanout *f);

/*
 * Main thread: a viewer with payload type `pt` joins; it is sent nothing
 * until fanout_set_sender gives it keys. Takes a reference on `b` (its gate
 * and counters); `sid` names it in log lines. `leads`: its frames open the
 * gate (video; the sound of a viewer that asked for nothing else); else
 * they wait for it (sound beside a picture starts with the picture's keyframe).
 */
struct fanout_member *fanout_add(struct fanout *f, int pt, struct branch *b, const char *sid,
                                 bool leads);
/* Main thread: after this returns the send thread never touches m; m and its sender are freed. */
void fanout_remove(struct fanout *f, struct fanout_member *m);
/*
 * Receive thread: where m's media now goes (addr NULL: nowhere, consent
 * lapsed), and (tx not NULL) its SRTP sender, which the fan-out takes.
 */
void fanout_set_sender(struct fanout *f, struct fanout_member *m, struct srtp_seal *tx, int fd,
                       const struct sockaddr_storage *addr, socklen_t addrlen);
/*
 * Receive thread: send m again the packets it NACKed that are still in the
 * history, as its resend budget allows (a sequence number resent within
 * RESEND_REPEAT_MS is not sent again), using `scratch`
 * (DIRECT_MAX_PACKET + SRTP_SEAL_MAX_TRAILER bytes). Returns how many went.
 */
guint fanout_resend(struct fanout *f, struct fanout_member *m, const uint16_t *seqs, size_t n,
                    uint8_t *scratch);

/*
 * Receive thread: m's RTCP sender report (RFC 3550 §6.4.1: SR and SDES
 * CNAME `cname`), protected with `tx` and sent where m's media goes: the
 * wall clock as NTP, the RTP timestamp of this instant on the track's
 * clock, what m was sent. False when there was nothing to report yet (m
 * sent nothing, or no consent).
 */
bool fanout_send_report(struct fanout *f, struct fanout_member *m, struct srtcp *tx,
                        const char *cname);

/* NACK resends, every fan-out since start-up. */
struct fanout_resend_totals {
	guint64 packets, bytes;                 /* sent again; bytes of RTP, before SRTP */
	guint64 refused_budget, refused_repeat; /* NACKed, kept, and not sent: why */
};
/* Any thread. */
void fanout_resend_totals(struct fanout_resend_totals *t);

#endif
