/*
 * stun.h - the STUN (RFC 8489) subset an ICE-lite agent (RFC 8445 §2.5)
 * needs: recognise a packet, parse and authenticate a Binding request,
 * write the success or error response; and for consent freshness (RFC
 * 7675), write a Binding request of our own and check its success response.
 */
#ifndef WHEPCAM_STUN_H
#define WHEPCAM_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN   20
#define STUN_MAX_USERNAME 513 /* RFC 8489 limit for USERNAME in bytes */
#define STUN_MAX_RESPONSE 128 /* room for our whole response */
#define STUN_MAX_REQUEST  (STUN_HEADER_LEN + 4 + 516 + 8 + 12 + 24 + 8) /* our consent check */

#define STUN_MAGIC_COOKIE    0x2112A442u
#define STUN_FINGERPRINT_XOR 0x5354554eu /* RFC 8489 §14.7 */
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR   0x0111
#define STUN_HMAC_LEN        20

/* Attribute types (RFC 8489 §18.3, RFC 8445 §16.1). */
#define STUN_ATTR_USERNAME           0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY  0x0008
#define STUN_ATTR_ERROR_CODE         0x0009
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_PRIORITY           0x0024
#define STUN_ATTR_USE_CANDIDATE      0x0025
#define STUN_ATTR_FINGERPRINT        0x8028
#define STUN_ATTR_ICE_CONTROLLED     0x8029
#define STUN_ATTR_ICE_CONTROLLING    0x802A

/*
 * RFC 7983 demultiplexing: first byte 0..3, length >= 20, magic cookie
 * 0x2112A442 at offset 4, length field a multiple of 4 and equal to n - 20.
 */
bool stun_is_stun(const uint8_t *p, size_t n);

struct stun_request {
	uint8_t txid[12];
	char username[STUN_MAX_USERNAME + 1]; /* NUL-terminated; "" if absent */
	bool use_candidate;                   /* USE-CANDIDATE present */
	bool ice_controlling;                 /* ICE-CONTROLLING present */
	bool ice_controlled;                  /* ICE-CONTROLLED present */
	uint32_t priority;                    /* PRIORITY or 0 */
	size_t integrity_at;   /* offset of the MESSAGE-INTEGRITY attribute, 0 if none */
	size_t fingerprint_at; /* offset of FINGERPRINT, 0 if none */
};

/*
 * Parse a Binding request. 0 on success, -1 when it is not a well-formed
 * Binding request: bad header, attribute running past the end, attribute
 * after FINGERPRINT, anything but FINGERPRINT after MESSAGE-INTEGRITY,
 * USERNAME too long or containing a NUL, a known attribute of the wrong
 * size. Unknown attributes are skipped whatever their range: an ICE agent
 * has nothing useful to say about them (RFC 8445 §7.3 asks only for the
 * ones listed above). Nothing is authenticated yet: see stun_check_integrity.
 */
int stun_parse_binding_request(const uint8_t *p, size_t n, struct stun_request *out);

/*
 * True when `p` carries a MESSAGE-INTEGRITY at req->integrity_at keyed with
 * the short-term password `pwd` (RFC 8489 §14.5) and, when
 * req->fingerprint_at is set, a correct FINGERPRINT (§14.7). `req` must come
 * from parsing these same n bytes; the offsets are still bounds-checked.
 */
bool stun_check_integrity(const uint8_t *p, size_t n, const struct stun_request *req,
                          const char *pwd);

/*
 * Write a Binding success response for `req` into out (cap bytes):
 * XOR-MAPPED-ADDRESS of `from` (AF_INET or AF_INET6; a v4-mapped IPv6
 * address is reported as the IPv4 address the peer really has),
 * MESSAGE-INTEGRITY keyed with `pwd`, FINGERPRINT. Returns its length, or -1
 * when cap is too small or the family unknown.
 */
int stun_binding_success(const struct stun_request *req, const struct sockaddr *from,
                         const char *pwd, uint8_t *out, size_t cap);

/*
 * Write a Binding error response: ERROR-CODE `code` (300..699, e.g. 400 for
 * a malformed request, 401 for a bad USERNAME or integrity, RFC 8445 §7.3)
 * with `reason`, then FINGERPRINT; no integrity, since the peer's key is
 * what we could not trust. Returns its length, or -1 when it does not fit.
 */
int stun_binding_error(const uint8_t txid[12], int code, const char *reason, uint8_t *out,
                       size_t cap);

/*
 * Write a Binding request for a consent check (RFC 7675 §5.1, RFC 8445
 * §7.2.2): USERNAME (the peer's ufrag, ':', ours), PRIORITY, ICE-CONTROLLED
 * with tie_breaker, MESSAGE-INTEGRITY keyed with the PEER's password,
 * FINGERPRINT. txid: 96 random bits of the caller's. Returns its length, or
 * -1 when it does not fit or an argument is missing.
 */
int stun_binding_request(const uint8_t txid[12], const char *username, const char *pwd,
                         uint32_t priority, uint64_t tie_breaker, uint8_t *out, size_t cap);

/*
 * True when p is a Binding success response to our request `txid`, carrying
 * a MESSAGE-INTEGRITY keyed with the peer's password `pwd` (and a correct
 * FINGERPRINT when present): the peer at that address consents to media.
 */
bool stun_check_binding_success(const uint8_t *p, size_t n, const uint8_t txid[12],
                                const char *pwd);

#endif
