/*
 * srtcp.h - SRTCP (RFC 3711 §3.4, RFC 7714 §9) for one direction of one
 * viewer on OpenSSL EVP: our sender reports sealed, the viewer's RTCP
 * authenticated and opened. Byte for byte and verdict for verdict what
 * libsrtp2's srtp_protect_rtcp / srtp_unprotect_rtcp do with the sessions
 * of srtp_session.c (tests/unit/test_srtcp.c checks it), in ~2 KB where
 * Debian's NSS-backed libsrtp2 session takes ~17 KB (issue 17). Pure: no
 * threads, no clock; used by one thread at a time, the caller owns it.
 */
#ifndef WHEPCAMD_WIRE_SRTCP_H
#define WHEPCAMD_WIRE_SRTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"

#define SRTCP_MAX_TRAILER 20 /* bytes a seal adds: the E+index word and a tag (10 CM, 16 GCM) */
#define SRTCP_MAX_SSRC    16 /* SSRCs one direction numbers; a 17th's packets are refused */

struct srtcp;

/*
 * A sealer (outbound) or opener for the DTLS-SRTP master key and salt of
 * that direction (as srtp_seal_new: 30 bytes for AES128_CM_SHA1_80, 28 for
 * AEAD_AES_128_GCM). NULL on a bad profile or length, or when OpenSSL fails.
 */
struct srtcp *srtcp_new(enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                        bool outbound);
/* NULL is fine. */
void srtcp_free(struct srtcp *s);
/*
 * Outbound: seal the compound RTCP packet pkt[0..*len) in place, with the
 * next SRTCP index of its sender SSRC; pkt needs SRTCP_MAX_TRAILER bytes of
 * room past *len. 0, or -1 (shorter than an RTCP header, an SSRC past
 * SRTCP_MAX_SSRC, its 2^31 indices spent): do not send it.
 */
int srtcp_protect(struct srtcp *s, uint8_t *pkt, int *len);
/*
 * Inbound: 0 when pkt[0..*len) authenticates and its index was not seen
 * before (RFC 3711 §3.3.2, a window of 128 per SSRC); then pkt holds the
 * plain RTCP and *len its length. -1 otherwise, pkt and state untouched
 * (but for the payload of a packet that failed GCM's tag check): forged,
 * replayed, too old, unencrypted (E = 0: we never offer that), or too short.
 */
int srtcp_unprotect(struct srtcp *s, uint8_t *pkt, int *len);

#endif
