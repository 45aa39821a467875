/*
 * lite.h - the direct path (mode lite, the default): ICE-lite on a few
 * shared UDP sockets, our own DTLS-SRTP, and one payloader per track whose
 * packets are encrypted and sent to every viewer from one thread. No
 * GStreamer element and no thread per viewer. It implements struct
 * session_ops; main.c is the only file outside lite/ that includes this.
 */
#ifndef WHEPCAMD_LITE_LITE_H
#define WHEPCAMD_LITE_LITE_H

#include <glib.h>

#include "base/config.h"
#include "media/session_ops.h"
#include "media/stream.h"

#define DIRECT_UFRAG_LEN      8         /* ours: 48 random bits, base64url */
#define DIRECT_PWD_LEN        24        /* ours: 144 random bits (RFC 8445 asks for >= 128) */
#define DIRECT_MAX_SOCKETS    16        /* local addresses we listen on */
#define DIRECT_RTP_MTU        1200      /* payloader MTU: fits any tunnel with SRTP's trailer */
#define DIRECT_MAX_PACKET     1500      /* largest datagram we read or write */
#define DIRECT_BATCH          64        /* datagrams per recvmmsg/sendmmsg call */
#define DIRECT_SOCKET_BUF     (4 << 20) /* send buffer shared by every viewer on a socket */
#define DIRECT_TICK_MS        50        /* DTLS retransmission timers are checked this often */
#define DIRECT_MAX_PATHS      4         /* remote addresses per peer that passed an ICE check */
#define DIRECT_HELD_DATAGRAMS 4         /* handshake datagrams kept while consent is pending */
#define DIRECT_MAX_NACKS      64        /* lost packets one RTCP packet may ask for again */
/* RFC 7675 consent freshness (consent.c); WHEPCAM_PEER_SILENCE_S is how long an answer lasts. */
#define DIRECT_CONSENT_INTERVAL_MS 5000 /* our checks on the path in use, each x0.8-1.2 */
#define DIRECT_CONSENT_TRIGGER_MS  500  /* least gap between checks to a path not consented yet */
#define DIRECT_CONSENT_TXIDS       4    /* our requests that may still be answered, per path */
#define DIRECT_MAX_ICE_CHARS       256  /* RFC 8839: the longest ice-ufrag or ice-pwd */

/*
 * Main thread, before any stream or viewer: the DTLS certificate, libsrtp,
 * the sockets and the receive thread. `cfg` and `host` must outlive
 * lite_shutdown. 0, or -1 with *err (caller frees); lite_shutdown then
 * undoes whatever was done.
 */
int lite_init(const struct daemon_config *cfg, const struct session_host *host, char **err);
/* After the streams are freed: stop the receive thread, close the sockets. */
void lite_shutdown(void);
extern const struct session_ops lite_session_ops;

/* struct stream_hooks: a fan-out on each track's tee, freed with the track. */
/* Main thread: stream `s` is back after being offline: no GOP kept from before goes out. */
void lite_stream_back(struct stream *s);
int lite_track_added(struct stream *s, struct track *t, char **err);
void lite_track_removed(struct stream *s, struct track *t);

/* For the health op and /metrics; any thread. */
int lite_live_peers(void); /* peers allocated and not yet freed: a leak shows */
/* NACK resends, every track: packets and RTP bytes sent again, and refused (wire/resend.h). */
void lite_resends(guint64 *packets, guint64 *bytes, guint64 *refused_budget,
                  guint64 *refused_repeat);

#endif
