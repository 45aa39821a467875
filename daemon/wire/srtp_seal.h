/*
 * srtp_seal.h - the sender half of SRTP (RFC 3711, RFC 7714) on OpenSSL EVP:
 * seals RTP in place, byte for byte what libsrtp2's srtp_protect makes for
 * the same keys (tests/unit/test_srtp_seal.c checks it). No receive side;
 * SRTCP is srtcp.h's. Pure: no threads,
 * no clock; a sealer is used by one thread at a time, the caller owns it.
 */
#ifndef WHEPCAMD_WIRE_SRTP_SEAL_H
#define WHEPCAMD_WIRE_SRTP_SEAL_H

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"

#define SRTP_SEAL_MAX_TRAILER 16 /* bytes a seal adds: 10 (CM_80 tag), 16 (GCM tag) */
#define SRTP_SEAL_MAX_SSRC    16 /* SSRCs one sealer numbers; a packet of a 17th is refused */
/* A packet this many or more behind the newest of its SSRC is refused, as
 * libsrtp2 refuses it past srtp_session.c's replay window (replay_old). */
#define SRTP_SEAL_WINDOW 1024

/* Session keys (RFC 3711 §4.3): salt is 14 bytes for CM, 12 for GCM; auth CM only. */
struct srtp_seal_keys {
	uint8_t enc[16];
	uint8_t salt[14];
	uint8_t auth[20];
};

struct srtp_seal;

/*
 * A session's keyed OpenSSL contexts, SRTP's and SRTCP's (srtcp.c) alike:
 * AES-128-GCM, or AES-128-CTR and HMAC-SHA1 with the auth key for CM.
 */
struct srtp_keyed {
	EVP_CIPHER_CTX *cipher;
	EVP_MAC *hmac; /* CM only */
	EVP_MAC_CTX *mac;
};
/* k zeroed: keyed to `keys`, sealing (`encrypt`) or opening (GCM's differ). 0, or -1:
 * what was made is left for srtp_keyed_free. */
int srtp_keyed_init(struct srtp_keyed *k, enum dtls_srtp_profile profile,
                    const struct srtp_seal_keys *keys, int encrypt);
void srtp_keyed_free(struct srtp_keyed *k);

/*
 * A sealer for the local DTLS-SRTP keying material (RFC 5764 §4.2: master
 * key then master salt; len 30 for AES128_CM_SHA1_80, 28 for
 * AEAD_AES_128_GCM). NULL on a bad profile or length, or when OpenSSL
 * fails. Caller frees with srtp_seal_free; it keeps no pointer to key.
 */
struct srtp_seal *srtp_seal_new(enum dtls_srtp_profile profile, const uint8_t *key, size_t len);
/* The same from session keys already derived (tests: RFC 7714's vectors give those). */
struct srtp_seal *srtp_seal_new_keys(enum dtls_srtp_profile profile,
                                     const struct srtp_seal_keys *keys);
/* NULL is fine. */
void srtp_seal_free(struct srtp_seal *s);
/* Bytes srtp_seal appends: the authentication tag. */
int srtp_seal_trailer(const struct srtp_seal *s);

/*
 * The SRTP session keys of a master key and salt (RFC 3711 §4.3.1, key
 * derivation rate 0; RFC 7714 §11 for GCM's 12-byte salt). key and len as
 * srtp_seal_new. 0, or -1 on a bad profile or length.
 */
int srtp_seal_derive(enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                     struct srtp_seal_keys *out);
/* The same for SRTCP (labels 3-5), srtcp.c's. */
int srtp_seal_derive_rtcp(enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                          struct srtp_seal_keys *out);

/*
 * Seal the RTP packet pkt[0..*len) in place, as srtp_protect would: the
 * payload is encrypted, the tag appended and *len grown by
 * srtp_seal_trailer(s); pkt must have that much room past *len. The
 * packet's index (ROC and SEQ, RFC 3711 §3.3.1) is estimated from the
 * newest sent on its SSRC, so a resend of an older sequence number gets
 * its own index again. Returns 0, or -1: do not send pkt. A refusal
 * leaves pkt, *len and the counters untouched: not an RTP packet (header,
 * CSRCs or extension past *len), an SSRC past SRTP_SEAL_MAX_SSRC, a
 * sequence number SRTP_SEAL_WINDOW or more behind, or the rollover counter
 * exhausted (2^48 packets); should OpenSSL itself fail, pkt is garbage.
 */
int srtp_seal(struct srtp_seal *s, uint8_t *pkt, int *len);

#endif
