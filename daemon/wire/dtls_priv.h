/*
 * dtls_priv.h - between wire/dtls*.c only. dtls_cert.c's current context
 * and dtls.c's BIO method (main thread); and dtls_epoch1.c: what a DTLS
 * peer keeps of its session once OpenSSL's SSL is freed at the end of the
 * handshake (issue 17: the SSL is ~40 KB a viewer, half of it a 21.8 KB
 * handshake buffer OpenSSL keeps for the life of a DTLS connection), the
 * epoch-1 record keys: enough to read the viewer's alerts and retransmitted
 * Finished and to seal our close_notify. Pure functions of bytes.
 */
#ifndef WHEPCAM_DTLS_PRIV_H
#define WHEPCAM_DTLS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* The current certificate's context (NULL before dtls_init). */
SSL_CTX *dtls_ctx(void);
/* dtls.c's datagram BIO method, made by dtls_init: 0 or -1. Idempotent. */
int dtls_peer_methods_init(void);
void dtls_peer_methods_free(void);

#define DTLS_EPOCH1_KEY_MAX 32                /* AES-256-GCM, ChaCha20-Poly1305 */
#define DTLS_EPOCH1_IV_MAX  12                /* ChaCha20-Poly1305's; GCM's implicit part is 4 */
#define DTLS_ALERT_RECORD   (13 + 8 + 2 + 16) /* header, GCM's explicit nonce, alert, tag */

/* The AEAD record keys of both directions (RFC 5246 6.3) and our next sequence number. */
struct dtls_epoch1 {
	int nid; /* NID_aes_128_gcm, NID_aes_256_gcm or NID_chacha20_poly1305; 0: none */
	size_t key_len, iv_len;
	uint8_t client_key[DTLS_EPOCH1_KEY_MAX], server_key[DTLS_EPOCH1_KEY_MAX];
	uint8_t client_iv[DTLS_EPOCH1_IV_MAX], server_iv[DTLS_EPOCH1_IV_MAX];
	uint64_t write_seq; /* past every epoch-1 record OpenSSL sent (our Finished) */
};

/* What one sealed record from the client turned out to be. */
enum dtls_epoch1_record {
	DTLS_E1_FORGED,   /* does not authenticate (or is not epoch 1): drop */
	DTLS_E1_OTHER,    /* authentic, nothing to do (application data, a warning alert) */
	DTLS_E1_CLOSE,    /* close_notify */
	DTLS_E1_FATAL,    /* a fatal alert */
	DTLS_E1_FINISHED, /* its Finished again: it has not seen ours */
};

/*
 * The record keys of a connected SSL (server side) from its master secret
 * (RFC 5246 6.3, RFC 5288, RFC 7905). 0, or -1 for a cipher we did not
 * offer or an OpenSSL failure. `flight` (our last flight, as sent) sets
 * write_seq past its epoch-1 records.
 */
int dtls_epoch1_init(struct dtls_epoch1 *e, SSL *ssl, const uint8_t *flight, size_t flight_len);
/* The shortest sealed record the cipher can make (1 byte, nonce, tag). */
size_t dtls_epoch1_min_sealed(const struct dtls_epoch1 *e);
/*
 * One whole epoch-1 record from the client (its header and `len - 13`
 * bytes). *alert: the alert's description when one authenticates.
 */
enum dtls_epoch1_record dtls_epoch1_open(const struct dtls_epoch1 *e, const uint8_t *rec,
                                         size_t len, uint8_t *alert);
/* Our alert (level, description) sealed as one record into out[DTLS_ALERT_RECORD]; its length or
 * -1. */
int dtls_epoch1_seal_alert(struct dtls_epoch1 *e, uint8_t level, uint8_t desc,
                           uint8_t out[DTLS_ALERT_RECORD]);

#endif
