/*
 * dtls.h - DTLS-SRTP server side for WebRTC (RFC 5763/5764), memory I/O only:
 * datagrams go in through dtls_peer_feed and come out through a callback.
 * We always answer a=setup:passive, so we are always the DTLS server.
 */
#ifndef WHEPCAM_DTLS_H
#define WHEPCAM_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define DTLS_FINGERPRINT_MAX     128 /* "sha-256 " + 32 hex pairs with colons */
#define DTLS_SRTP_KEY_MAX        32  /* largest master key + salt we accept (16+14 CM, 16+12 GCM) */
#define DTLS_MTU                 1200 /* largest datagram we send: fits any path with room for TURN */
#define DTLS_DATAGRAM_MAX        16384 /* longer input is not a browser's DTLS and is dropped */
#define DTLS_CERT_LIFETIME_S     (364 * 86400L) /* from start-up (or renewal) to notAfter */
#define DTLS_CERT_MIN_LIFETIME_S 8 /* shortest dtls_set_cert_lifetime accepts (tests) */
#define DTLS_RENEW_FRACTION      4 /* a new certificate when a quarter of the lifetime is left */

enum dtls_srtp_profile {
	DTLS_SRTP_AES128_CM_SHA1_80 = 1,
	DTLS_SRTP_AEAD_AES_128_GCM = 7
}; /* IANA */

/*
 * One ECDSA P-256 self-signed certificate and one SSL_CTX for the daemon's
 * life: key generation costs milliseconds, and the certificate's digest is
 * what every answer advertises. Main thread, at start-up, before any peer.
 * Returns 0, or -1 with *err set (caller frees).
 */
int dtls_init(char **err);
/* Frees the context and certificate; call after every peer is freed. Idempotent. */
void dtls_shutdown(void);
/* "sha-256 AB:CD:..." of our current certificate, for a=fingerprint; "" before dtls_init. */
const char *dtls_fingerprint(void);
/* Before dtls_init: the certificate's lifetime (default DTLS_CERT_LIFETIME_S). */
void dtls_set_cert_lifetime(gint64 seconds);
/* Unix time (s) when the current certificate expires. */
gint64 dtls_cert_expires(void);
/*
 * Main thread: when less than 1/DTLS_RENEW_FRACTION of the lifetime is left
 * at now_s (Unix seconds), a new key and certificate for every peer made from
 * now on (dtls_fingerprint changes; existing peers keep theirs). Returns 1
 * when renewed, 0 when not due, -1 with *err set (the old one stays).
 */
int dtls_renew_if_due(gint64 now_s, char **err);

/* One datagram to send to the peer; called synchronously from the dtls_peer_* calls. */
typedef void (*dtls_send_fn)(const uint8_t *data, size_t len, void *user);

enum dtls_state { DTLS_HANDSHAKING, DTLS_CONNECTED, DTLS_FAILED, DTLS_CLOSED };

/*
 * A peer is used by one thread at a time (its receive thread); peers share
 * the context from dtls_init.
 */
struct dtls_peer;

/*
 * remote_fingerprint is the offer's a=fingerprint value, "sha-256 AB:CD:..."
 * (sha-1, sha-224, sha-256, sha-384 or sha-512; case-insensitive). NULL when it
 * does not parse, the algorithm is unknown or dtls_init has not run.
 */
struct dtls_peer *dtls_peer_new(const char *remote_fingerprint, dtls_send_fn send, void *user);
/* Sends nothing; call dtls_peer_close first for a clean close. NULL is fine. */
void dtls_peer_free(struct dtls_peer *p);
/*
 * A datagram from the peer (first byte 20..63, RFC 7983; others are ignored).
 * Drives the handshake, sends any flight through the callback and returns the
 * state after it. The peer's certificate must match remote_fingerprint.
 * Connected, a peer holds no OpenSSL state, only its record keys: an
 * authenticated close_notify closes it, a fatal alert fails it, its Finished
 * sent again draws our last flight again (ours was lost); nothing else does
 * anything.
 */
enum dtls_state dtls_peer_feed(struct dtls_peer *p, const uint8_t *data, size_t len);
/* Milliseconds until dtls_peer_tick is due (0: now), or -1 when no timer runs. */
int dtls_peer_timeout_ms(struct dtls_peer *p);
/* Retransmits our last flight if its timer has run out. */
enum dtls_state dtls_peer_tick(struct dtls_peer *p);
enum dtls_state dtls_peer_state(const struct dtls_peer *p);
/* Why the peer failed, for the log ("" unless DTLS_FAILED). Owned by the peer. */
const char *dtls_peer_error(const struct dtls_peer *p);
/*
 * Why dtls_peer_feed dropped its last datagram before OpenSSL saw it (a
 * static string), or NULL when it went in. For the debug log.
 */
const char *dtls_peer_dropped(const struct dtls_peer *p);

/*
 * The record-layer check every datagram passes before OpenSSL parses it
 * (pure; exposed for tests and fuzzing). Drops what cannot be from the
 * peer's real DTLS 1.2 stack and what could end a session without being
 * authenticated: records that do not tile the datagram, unknown content types
 * or versions, epochs past 1 (we never renegotiate), plaintext (epoch 0)
 * alerts and application data, and epoch-1 records shorter than the AEAD's
 * nonce and tag (min_sealed: 0 when no cipher is chosen yet, so none pass).
 * Returns NULL to accept, or the reason to drop.
 */
const char *dtls_datagram_check(const uint8_t *data, size_t len, size_t min_sealed);
/* Sends close_notify if connected, so the browser sees the end at once; state becomes CLOSED. */
void dtls_peer_close(struct dtls_peer *p);
/*
 * After DTLS_CONNECTED: the negotiated profile and master key+salt for each
 * direction (RFC 5764 4.2). local protects what we send (the server's half),
 * remote what we receive (the client's). *len is key+salt: 30 for CM_80, 28
 * for GCM. Returns 0, or -1 before the handshake has ended.
 */
int dtls_peer_srtp_keys(const struct dtls_peer *p, enum dtls_srtp_profile *profile,
                        uint8_t local[DTLS_SRTP_KEY_MAX], uint8_t remote[DTLS_SRTP_KEY_MAX],
                        size_t *len);

#endif
