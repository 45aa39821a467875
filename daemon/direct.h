/*
 * direct.h - the direct media path: ICE-lite on shared UDP sockets, our own
 * DTLS-SRTP, and one payloader per stream whose packets are encrypted and
 * sent to every viewer from one thread. No GStreamer element and no thread
 * per viewer. Private to direct.c, udp.c, fanout.c and rtp.c; the viewer
 * code reaches it through the direct_* prototypes.
 */
#ifndef WHEPCAMD_DIRECT_H
#define WHEPCAMD_DIRECT_H

#include <gst/sdp/sdp.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>

#include "wire/answer.h"
#include "wire/dtls.h"
#include "wire/rtp.h"
#include "wire/srtp_session.h"
#include "viewer.h"

#define DIRECT_UFRAG_LEN   8         /* ours: 48 random bits, base64url */
#define DIRECT_PWD_LEN     24        /* ours: 144 random bits (RFC 8445 asks for >= 128) */
#define DIRECT_MAX_SOCKETS 16        /* local addresses we listen on */
#define DIRECT_RTP_MTU     1200      /* payloader MTU: fits any tunnel with SRTP's trailer */
#define DIRECT_MAX_PACKET  1500      /* largest datagram we read or write */
#define DIRECT_BATCH       64        /* datagrams per recvmmsg/sendmmsg call */
#define DIRECT_SOCKET_BUF  (4 << 20) /* send buffer shared by every viewer on a socket */
#define DIRECT_TICK_MS     50        /* DTLS retransmission timers are checked this often */
#define DIRECT_MAX_PATHS   4         /* remote addresses per peer that passed an ICE check */
#define DIRECT_MAX_NACKS   64        /* lost packets one RTCP packet may ask for again */

/* A remote transport address as a hash key (no allocation per packet). */
struct addr_key {
	uint16_t family, port;
	uint8_t ip[16];
};

/* A remote address that passed a check, and the socket it reached. */
struct path {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct addr_key key;
};

/*
 * One viewer on the direct path. Created and freed by the main thread.
 * The receive thread touches the ICE/DTLS half only while holding the udp
 * registry lock; the send thread touches the SRTP sender only while
 * holding the stream's fanout lock; so once the main thread has taken a
 * peer out of both, it is its alone.
 */
struct peer {
	char id[WHEPCAM_SESSION_HEX + 1];
	char sid[SHORT_ID_LEN + 1];
	struct stream *stream;
	char ufrag[DIRECT_UFRAG_LEN + 1];
	char pwd[DIRECT_PWD_LEN + 1];
	int pt;    /* the viewer's VP8 payload type: written into every packet */
	bool nack; /* we answered a=rtcp-fb nack: its NACKs are served from the history */
	struct branch *branch; /* gate and counters, shared with the viewer */
	gint last_rx_s;        /* monotonic s of the last datagram from the peer */

	/* receive thread, under the registry lock */
	struct dtls_peer *dtls;
	srtp_t rx;                           /* SRTCP from the peer (PLI/FIR) */
	struct path paths[DIRECT_MAX_PATHS]; /* each a key in the registry */
	int npaths;
	int fd; /* the selected path, where DTLS and media go; -1 before one */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum dtls_state told_state; /* the DTLS state the main loop last heard of */
	bool has_tx;                /* the send thread has our SRTP sender */

	/* send thread, under the fanout lock; handed over by fanout_set_sender */
	srtp_t tx;
	int send_fd;
	struct sockaddr_storage send_addr;
	socklen_t send_addrlen;
};

/* ---- udp.c ---- */
/* Open the sockets on the configured addresses and start the receive thread. */
int udp_start(const struct daemon_config *cfg, char **err);
void udp_stop(void);
/* Host candidates of our sockets ("candidate:…"), caller unrefs. */
GPtrArray *udp_candidates(void);
/* Main thread: the receive thread may now find p by its ufrag (then its address). */
void udp_register(struct peer *p);
/* Main thread: after this returns the receive thread never touches p again. */
void udp_unregister(struct peer *p);
/* Main thread, after udp_unregister: send DTLS close_notify if the session was up. */
void udp_close_peer(struct peer *p);
/* What dtls_peer_new sends its datagrams with (user data: the peer). */
dtls_send_fn udp_dtls_sender(void);

/* ---- fanout.c ---- */
/* Main thread, at stream start: tee ! queue ! rtpvp8pay ! appsink for the direct viewers. */
int fanout_attach(struct stream *s, char **err);
void fanout_detach(struct stream *s);
/* The SSRC of the stream's shared payloader, for the answers' a=ssrc. */
guint32 fanout_ssrc(struct stream *s);
void fanout_add(struct stream *s, struct peer *p);
/*
 * Receive thread: send p again the packets it NACKed that are still in the
 * stream's history, using `scratch` (DIRECT_MAX_PACKET + SRTP_MAX_TRAILER_LEN
 * bytes). Returns how many went.
 */
guint fanout_resend(struct stream *s, struct peer *p, const uint16_t *seqs, size_t n,
                    uint8_t *scratch);
/*
 * Receive thread: hand the send thread p's SRTP sender (tx, when not NULL)
 * and the address the peer's checks now come from.
 */
void fanout_set_sender(struct stream *s, struct peer *p, srtp_t tx);
/* After this returns the send thread never touches p again. */
void fanout_remove(struct stream *s, struct peer *p);

#endif
