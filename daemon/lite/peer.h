/*
 * peer.h - one viewer of the direct path as the receive thread sees it:
 * both sides' ICE credentials, the remote addresses that passed a check and
 * their consent (RFC 7675: media and DTLS go only to one that answered our
 * own check), its DTLS session and its SRTCP receiver; and the registry that
 * finds a peer from a datagram (by our ufrag in a STUN USERNAME, then by
 * address).
 * Owner: lite.c creates and frees peers on the main loop. Threads: the
 * peer_receive/peer_tick_all calls and every peer_events callback run on
 * the receive thread with the registry lock held; the rest on the main
 * loop. Lock order: the registry's, then a fan-out's.
 */
#ifndef WHEPCAMD_LITE_PEER_H
#define WHEPCAMD_LITE_PEER_H

#include <glib.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "fanout.h"

struct peer; /* opaque */

/* CHECKED: its first check with our credentials arrived (once); then DTLS up, or the end. */
enum peer_state { PEER_CHECKED, PEER_CONNECTED, PEER_FAILED, PEER_CLOSED };

/*
 * What the receive thread tells a peer's owner. Called on that thread with
 * the registry lock held: copy what you need and hop to the main loop; do
 * not call back into the registry (peer_register, peer_unregister), which
 * would deadlock.
 */
struct peer_events {
	/* The first valid check; DTLS up (the fan-out has its SRTP sender); failed or closed. */
	void (*state)(void *user, enum peer_state st);
	/* An authenticated PLI or FIR: the viewer wants a keyframe. */
	void (*keyframe_request)(void *user);
};

/*
 * Main thread: a peer with our credentials and the offer's a=fingerprint,
 * not yet findable. NULL when the fingerprint is not usable (or DTLS is not
 * started). `events` and `user` must outlive the peer.
 */
struct peer *peer_new(const char *sid, const char *ufrag, const char *pwd,
                      const char *remote_fingerprint, const struct peer_events *events, void *user);
/*
 * Main thread, before peer_register: the viewer's ICE credentials (the
 * offer's a=ice-ufrag and a=ice-pwd), which our consent checks carry. -1
 * when either is empty or longer than RFC 8839 allows.
 */
int peer_set_remote_ice(struct peer *p, const char *ufrag, const char *pwd);
/* The tracks a peer may be sent, each from its own fan-out. */
#define PEER_VIDEO           0
#define PEER_AUDIO           1
#define PEER_TRACKS          2
#define PEER_CNAME           "whepcam" /* the answer's a=ssrc cname: every track's, for lip sync */
#define PEER_REPORT_MS       1000      /* sender reports per track, on average (x0.5-1.5) */
#define PEER_FIRST_REPORT_MS 100       /* the first: a player syncs sound and picture from it */
#define PEER_TICK_MIN_MS     20        /* passes over every peer's timers: at most one per this */
/*
 * Main thread, before peer_register: where its `track` (PEER_VIDEO or
 * PEER_AUDIO) goes (a member of `f`, both borrowed until peer_unregister
 * returns) and, for video, whether its NACKs are served (`nack`: the answer
 * said a=rtcp-fb nack).
 */
void peer_set_media(struct peer *p, int track, struct fanout *f, struct fanout_member *m,
                    bool nack);
/* Main thread: the receive thread may now find p by its ufrag (then its address). */
void peer_register(struct peer *p);
/* Main thread: after this returns the receive thread never touches p again. */
void peer_unregister(struct peer *p);
/*
 * Main thread, while registered: an ICE restart. Checks are answered with our
 * new credentials from now on (the old ufrag finds nothing) and our consent
 * checks carry the viewer's new ones; the paths that passed a check, their
 * consent, DTLS and the SRTP keys stay, so media goes on until a check with
 * the new credentials selects a path. -1 when the viewer's new credentials
 * are not usable (peer_set_remote_ice's rules); ours are taken anyway.
 */
int peer_restart_ice(struct peer *p, const char *ufrag, const char *pwd, const char *remote_ufrag,
                     const char *remote_pwd);
/* Main thread, after peer_unregister: send DTLS close_notify if the session was up. */
void peer_close(struct peer *p);
/* Main thread, after peer_unregister (or never registered). */
void peer_free(struct peer *p);
/*
 * Monotonic second of the last authenticated sign of life: an answer to our
 * consent check, SRTCP that unprotected, the DTLS handshake's end. Checks
 * the viewer sends do not count: anyone can forge their source. Any thread.
 */
int peer_last_rx_s(const struct peer *p);
/* Peers allocated and not yet freed: a leak shows here. Any thread. */
int peer_live(void);
/* Entries of the registry's address table (at most DIRECT_MAX_PATHS a peer). Any thread. */
int peer_registry_addresses(void);

/* Main thread: the registry's tables, before the receive thread starts / after it stopped. */
void peer_registry_init(void);
void peer_registry_clear(void);
/* Receive thread: a batch of datagrams that arrived on socket `fd`; takes the registry lock. */
void peer_receive(int fd, struct mmsghdr *msgs, unsigned n);
/*
 * Receive thread: DTLS retransmissions, consent checks due and consent that
 * lapsed. Returns the milliseconds until it is next due (at most max_ms).
 */
int peer_tick_all(int max_ms);

#endif
