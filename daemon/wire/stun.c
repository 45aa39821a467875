/*
 * stun.c - STUN for our ICE-lite agent: the browser's Binding requests in,
 * success and error responses out (RFC 8489, RFC 8445 §7.3). Every byte
 * here comes straight off an internet-facing UDP socket, so each read is
 * checked against the datagram's length first. Owns no memory.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "stun.h"

#define STUN_MAX_REASON 509 /* RFC 8489 §14.8: under 128 characters, at most 509 bytes */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Attribute values are padded to a multiple of 4 bytes (RFC 8489 §14). */
static size_t pad4(size_t len)
{
	return (len + 3) & ~(size_t)3;
}

/* zlib's crc32 (reflected IEEE 802.3 polynomial), bitwise: messages are short. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	int k;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0xEDB88320u : 0);
	}
	return ~crc;
}

/*
 * MESSAGE-INTEGRITY and FINGERPRINT both cover the message up to their own
 * attribute at offset `at`, but with the header's length field saying the
 * message ends right after that attribute's `vlen` value bytes (RFC 8489
 * §14.5, §14.7). So they hash a patched copy of the header, then the rest.
 * The caller has checked at >= STUN_HEADER_LEN and that `at` lies within p.
 */
static void header_upto(uint8_t hdr[STUN_HEADER_LEN], const uint8_t *p, size_t at, size_t vlen)
{
	memcpy(hdr, p, STUN_HEADER_LEN);
	put16(hdr + 2, at + 4 + vlen - STUN_HEADER_LEN);
}

static void hmac_upto(const uint8_t *p, size_t at, const char *pwd, uint8_t mac[STUN_HMAC_LEN])
{
	uint8_t hdr[STUN_HEADER_LEN];
	gsize len = STUN_HMAC_LEN;
	GHmac *h;

	/* Short-term credentials: the key is the ICE password itself (§9.1.1). */
	h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)pwd, strlen(pwd));
	header_upto(hdr, p, at, STUN_HMAC_LEN);
	g_hmac_update(h, hdr, sizeof(hdr));
	g_hmac_update(h, p + STUN_HEADER_LEN, (gssize)(at - STUN_HEADER_LEN));
	g_hmac_get_digest(h, mac, &len);
	g_hmac_unref(h);
}

static uint32_t fingerprint_upto(const uint8_t *p, size_t at)
{
	uint8_t hdr[STUN_HEADER_LEN];
	uint32_t crc;

	header_upto(hdr, p, at, 4);
	crc = crc32_update(0, hdr, sizeof(hdr));
	crc = crc32_update(crc, p + STUN_HEADER_LEN, at - STUN_HEADER_LEN);
	return crc ^ STUN_FINGERPRINT_XOR;
}

bool stun_is_stun(const uint8_t *p, size_t n)
{
	return n >= STUN_HEADER_LEN && p[0] <= 3 && get32(p + 4) == STUN_MAGIC_COOKIE &&
	       get16(p + 2) % 4 == 0 && get16(p + 2) == n - STUN_HEADER_LEN;
}

/* A Binding message of `type` (request or success response), parsed the same way. */
static int parse_binding(const uint8_t *p, size_t n, uint16_t type_wanted, struct stun_request *out)
{
	size_t off = STUN_HEADER_LEN;

	memset(out, 0, sizeof(*out));
	if (!stun_is_stun(p, n) || get16(p) != type_wanted)
		goto fail;
	memcpy(out->txid, p + 8, sizeof(out->txid));
	while (off < n) {
		const uint8_t *v;
		uint16_t type, len;

		if (n - off < 4)
			goto fail;
		type = get16(p + off);
		len = get16(p + off + 2);
		if (pad4(len) > n - off - 4)
			goto fail;
		v = p + off + 4;
		/* Nothing may follow FINGERPRINT, and only it may follow
		 * MESSAGE-INTEGRITY: anything else would be unauthenticated. */
		if (out->fingerprint_at != 0 ||
		    (out->integrity_at != 0 && type != STUN_ATTR_FINGERPRINT))
			goto fail;
		switch (type) {
		case STUN_ATTR_USERNAME:
			/* A NUL would let "a\0b" pass for "a" in every strcmp later. */
			if (len > STUN_MAX_USERNAME || memchr(v, '\0', len) != NULL)
				goto fail;
			memcpy(out->username, v, len);
			out->username[len] = '\0';
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			if (len != STUN_HMAC_LEN)
				goto fail;
			out->integrity_at = off;
			break;
		case STUN_ATTR_FINGERPRINT:
			if (len != 4)
				goto fail;
			out->fingerprint_at = off;
			break;
		case STUN_ATTR_PRIORITY:
			if (len != 4)
				goto fail;
			out->priority = get32(v);
			break;
		case STUN_ATTR_USE_CANDIDATE:
			if (len != 0)
				goto fail;
			out->use_candidate = true;
			break;
		case STUN_ATTR_ICE_CONTROLLED:
		case STUN_ATTR_ICE_CONTROLLING:
			if (len != 8) /* the tie-breaker, which a lite agent never uses */
				goto fail;
			if (type == STUN_ATTR_ICE_CONTROLLING)
				out->ice_controlling = true;
			else
				out->ice_controlled = true;
			break;
		default:
			/* Unknown, comprehension-required or not: a 420 would only
			 * break a browser that added something new, so skip it. */
			break;
		}
		off += 4 + pad4(len);
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out)); /* never hand back a half-parsed request */
	return -1;
}

int stun_parse_binding_request(const uint8_t *p, size_t n, struct stun_request *out)
{
	return parse_binding(p, n, STUN_BINDING_REQUEST, out);
}

bool stun_check_integrity(const uint8_t *p, size_t n, const struct stun_request *req,
                          const char *pwd)
{
	size_t mi = req->integrity_at, fp = req->fingerprint_at, i;
	uint8_t mac[STUN_HMAC_LEN], diff = 0;

	if (pwd == NULL || mi < STUN_HEADER_LEN || mi > n || n - mi < 4 + STUN_HMAC_LEN ||
	    get16(p + mi) != STUN_ATTR_MESSAGE_INTEGRITY || get16(p + mi + 2) != STUN_HMAC_LEN)
		return false;
	if (fp != 0) {
		if (fp < mi + 4 + STUN_HMAC_LEN || fp > n || n - fp < 8 ||
		    get16(p + fp) != STUN_ATTR_FINGERPRINT || get16(p + fp + 2) != 4 ||
		    get32(p + fp + 4) != fingerprint_upto(p, fp))
			return false;
	}
	hmac_upto(p, mi, pwd, mac);
	/* Constant time, so response timing does not reveal how many bytes matched. */
	for (i = 0; i < STUN_HMAC_LEN; i++)
		diff |= mac[i] ^ p[mi + 4 + i];
	return diff == 0;
}

/* The header of a response; the caller passes the final total length n. */
static void put_header(uint8_t *out, uint16_t type, const uint8_t txid[12], size_t n)
{
	put16(out, type);
	put16(out + 2, n - STUN_HEADER_LEN);
	put32(out + 4, STUN_MAGIC_COOKIE);
	memcpy(out + 8, txid, 12);
}

/* FINGERPRINT as the last 8 bytes of an n-byte message whose header is final. */
static void put_fingerprint(uint8_t *out, size_t n)
{
	size_t at = n - 8;

	put16(out + at, STUN_ATTR_FINGERPRINT);
	put16(out + at + 2, 4);
	put32(out + at + 4, fingerprint_upto(out, at));
}

int stun_binding_success(const struct stun_request *req, const struct sockaddr *from,
                         const char *pwd, uint8_t *out, size_t cap)
{
	const uint8_t *ip;
	size_t iplen, n, at, i;
	uint16_t port;

	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)from;

		ip = (const uint8_t *)&sin->sin_addr;
		iplen = 4;
		port = ntohs(sin->sin_port);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)from;

		ip = sin6->sin6_addr.s6_addr;
		iplen = 16;
		port = ntohs(sin6->sin6_port);
		/* A dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d; the
		 * browser knows itself by the IPv4 address, so report that one. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip += 12;
			iplen = 4;
		}
	} else {
		return -1;
	}
	n = STUN_HEADER_LEN + 8 + iplen + 4 + STUN_HMAC_LEN + 8;
	if (pwd == NULL || out == NULL || cap < n)
		return -1;
	put_header(out, STUN_BINDING_SUCCESS, req->txid, n);

	/* XOR-MAPPED-ADDRESS (§14.2): the port XORed with the cookie's top half,
	 * the address with cookie || txid, which is exactly out[4..19]; the XOR
	 * keeps NATs that rewrite addresses in payloads away from it. */
	at = STUN_HEADER_LEN;
	put16(out + at, STUN_ATTR_XOR_MAPPED_ADDRESS);
	put16(out + at + 2, 4 + iplen);
	out[at + 4] = 0;
	out[at + 5] = iplen == 4 ? 0x01 : 0x02;
	put16(out + at + 6, port ^ (STUN_MAGIC_COOKIE >> 16));
	for (i = 0; i < iplen; i++)
		out[at + 8 + i] = ip[i] ^ out[4 + i];

	at += 8 + iplen;
	put16(out + at, STUN_ATTR_MESSAGE_INTEGRITY);
	put16(out + at + 2, STUN_HMAC_LEN);
	hmac_upto(out, at, pwd, out + at + 4);
	put_fingerprint(out, n);
	return (int)n;
}

int stun_binding_error(const uint8_t txid[12], int code, const char *reason, uint8_t *out,
                       size_t cap)
{
	size_t rlen = reason != NULL ? strlen(reason) : 0;
	size_t n = STUN_HEADER_LEN + 8 + pad4(rlen) + 8;

	if (code < 300 || code > 699 || rlen > STUN_MAX_REASON || out == NULL || cap < n)
		return -1;
	memset(out, 0, n); /* the reserved bits and the reason's padding */
	put_header(out, STUN_BINDING_ERROR, txid, n);
	/* ERROR-CODE (§14.8): the hundreds as "class", the rest as "number". */
	put16(out + STUN_HEADER_LEN, STUN_ATTR_ERROR_CODE);
	put16(out + STUN_HEADER_LEN + 2, 4 + rlen);
	out[STUN_HEADER_LEN + 6] = (uint8_t)(code / 100);
	out[STUN_HEADER_LEN + 7] = (uint8_t)(code % 100);
	if (rlen > 0)
		memcpy(out + STUN_HEADER_LEN + 8, reason, rlen);
	put_fingerprint(out, n);
	return (int)n;
}

int stun_binding_request(const uint8_t txid[12], const char *username, const char *pwd,
                         uint32_t priority, uint64_t tie_breaker, uint8_t *out, size_t cap)
{
	size_t ulen = username != NULL ? strlen(username) : 0;
	size_t n = STUN_HEADER_LEN + 4 + pad4(ulen) + 8 + 12 + 4 + STUN_HMAC_LEN + 8, at;

	if (ulen == 0 || ulen > STUN_MAX_USERNAME || pwd == NULL || out == NULL || cap < n)
		return -1;
	memset(out, 0, n); /* the username's padding */
	put_header(out, STUN_BINDING_REQUEST, txid, n);
	at = STUN_HEADER_LEN;
	put16(out + at, STUN_ATTR_USERNAME);
	put16(out + at + 2, ulen);
	memcpy(out + at + 4, username, ulen);
	at += 4 + pad4(ulen);
	put16(out + at, STUN_ATTR_PRIORITY);
	put16(out + at + 2, 4);
	put32(out + at + 4, priority);
	at += 8;
	/* An ICE-lite agent is always controlled (RFC 8445 §6.1.1). */
	put16(out + at, STUN_ATTR_ICE_CONTROLLED);
	put16(out + at + 2, 8);
	put32(out + at + 4, (uint32_t)(tie_breaker >> 32));
	put32(out + at + 8, (uint32_t)tie_breaker);
	at += 12;
	put16(out + at, STUN_ATTR_MESSAGE_INTEGRITY);
	put16(out + at + 2, STUN_HMAC_LEN);
	hmac_upto(out, at, pwd, out + at + 4);
	put_fingerprint(out, n);
	return (int)n;
}

bool stun_check_binding_success(const uint8_t *p, size_t n, const uint8_t txid[12], const char *pwd)
{
	struct stun_request r;

	/* The transaction id first: it is what a forger cannot know. */
	if (n < STUN_HEADER_LEN || memcmp(p + 8, txid, 12) != 0 ||
	    parse_binding(p, n, STUN_BINDING_SUCCESS, &r) != 0)
		return false;
	return r.integrity_at != 0 && stun_check_integrity(p, n, &r, pwd);
}
