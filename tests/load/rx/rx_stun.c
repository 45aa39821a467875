/*
 * rx_stun.c - the STUN of a full ICE agent facing an ICE-lite server: its
 * own Binding requests (the check that nominates, then consent, RFC 7675)
 * and the success responses to the server's consent checks. Written from
 * RFC 8489, not shared with the daemon's wire/stun.c, so a bug there cannot
 * hide here. Pure functions of bytes.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "rx.h"

#define COOKIE          0x2112A442u
#define FP_XOR          0x5354554eu
#define T_REQUEST       0x0001
#define T_SUCCESS       0x0101
#define A_USERNAME      0x0006
#define A_INTEGRITY     0x0008
#define A_XOR_MAPPED    0x0020
#define A_PRIORITY      0x0024
#define A_USE_CANDIDATE 0x0025
#define A_FINGERPRINT   0x8028
#define A_CONTROLLING   0x802A
#define HDR             20
#define HMAC_LEN        20

static uint32_t crc_table[256];

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;

	if (crc_table[1] == 0) {
		for (uint32_t k = 0; k < 256; k++) {
			uint32_t v = k;

			for (int b = 0; b < 8; b++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			crc_table[k] = v;
		}
	}
	for (i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool stun_looks_like(const uint8_t *p, size_t n)
{
	return n >= HDR && p[0] <= 3 && get32(p + 4) == COOKIE && (get16(p + 2) & 3) == 0 &&
	       (size_t)get16(p + 2) + HDR == n;
}

static size_t put_attr(uint8_t *out, size_t at, uint16_t type, const void *v, size_t len)
{
	put16(out + at, type);
	put16(out + at + 2, (uint16_t)len);
	memcpy(out + at + 4, v, len);
	at += 4 + len;
	while (len++ % 4)
		out[at++] = 0;
	return at;
}

/* MESSAGE-INTEGRITY then FINGERPRINT after the `at` bytes already written. */
static size_t seal(uint8_t *out, size_t at, const char *pwd)
{
	unsigned int mlen = HMAC_LEN;
	uint8_t mac[HMAC_LEN], fp[4];

	put16(out + 2, (uint16_t)(at + 4 + HMAC_LEN - HDR));
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), out, at, mac, &mlen);
	at = put_attr(out, at, A_INTEGRITY, mac, HMAC_LEN);
	put16(out + 2, (uint16_t)(at + 8 - HDR));
	put32(fp, crc32_of(out, at) ^ FP_XOR);
	return put_attr(out, at, A_FINGERPRINT, fp, 4);
}

size_t stun_write_request(uint8_t *out, const uint8_t txid[12], const char *username,
                          const char *pwd, uint64_t tiebreaker, bool use_candidate)
{
	uint8_t v[8];
	size_t at = HDR;

	put16(out, T_REQUEST);
	put32(out + 4, COOKIE);
	memcpy(out + 8, txid, 12);
	at = put_attr(out, at, A_USERNAME, username, strlen(username));
	put32(v, 0x6e7f1eff); /* type preference 110 (peer-reflexive), RFC 8445 5.1.2 */
	at = put_attr(out, at, A_PRIORITY, v, 4);
	put32(v, (uint32_t)(tiebreaker >> 32));
	put32(v + 4, (uint32_t)tiebreaker);
	at = put_attr(out, at, A_CONTROLLING, v, 8);
	if (use_candidate)
		at = put_attr(out, at, A_USE_CANDIDATE, v, 0);
	return seal(out, at, pwd);
}

/*
 * Finds MESSAGE-INTEGRITY and FINGERPRINT and checks both (RFC 8489 14.5,
 * 14.7): each is computed over the message before it, with the header's
 * length field saying the message ends just after it (a copy is rewritten).
 * *username (not NUL-terminated) and *ulen when USERNAME is there.
 */
static bool authentic(const uint8_t *p, size_t n, const char *pwd, const uint8_t **username,
                      size_t *ulen)
{
	uint8_t buf[2048], mac[HMAC_LEN];
	unsigned int mlen = HMAC_LEN;
	size_t at = HDR, mi = 0;

	*username = NULL;
	*ulen = 0;
	if (n > sizeof(buf))
		return false;
	memcpy(buf, p, n);
	while (at + 4 <= n) {
		uint16_t type = get16(p + at), len = get16(p + at + 2);

		if (at + 4 + len > n)
			return false;
		if (type == A_USERNAME && mi == 0) {
			*username = p + at + 4;
			*ulen = len;
		} else if (type == A_INTEGRITY && len == HMAC_LEN && mi == 0) {
			mi = at;
		} else if (type == A_FINGERPRINT && len == 4) {
			put16(buf + 2, (uint16_t)(at + 8 - HDR));
			if ((crc32_of(buf, at) ^ FP_XOR) != get32(p + at + 4))
				return false;
		}
		at += 4 + (size_t)((len + 3) & ~3);
	}
	if (mi == 0)
		return false;
	put16(buf + 2, (uint16_t)(mi + 4 + HMAC_LEN - HDR));
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), buf, mi, mac, &mlen);
	return CRYPTO_memcmp(mac, p + mi + 4, HMAC_LEN) == 0;
}

bool stun_is_success(const uint8_t *p, size_t n, const uint8_t txid[12], const char *pwd)
{
	const uint8_t *u;
	size_t ulen;

	return stun_looks_like(p, n) && get16(p) == T_SUCCESS && memcmp(p + 8, txid, 12) == 0 &&
	       authentic(p, n, pwd, &u, &ulen);
}

size_t stun_answer(const uint8_t *p, size_t n, const char *username, const char *pwd,
                   const struct sockaddr_in *from, uint8_t *out, size_t cap)
{
	const uint8_t *u;
	size_t ulen, at = HDR;
	uint8_t xa[8];

	if (!stun_looks_like(p, n) || get16(p) != T_REQUEST || cap < 128 ||
	    !authentic(p, n, pwd, &u, &ulen) || u == NULL || ulen != strlen(username) ||
	    memcmp(u, username, ulen) != 0)
		return 0;
	put16(out, T_SUCCESS);
	put32(out + 4, COOKIE);
	memcpy(out + 8, p + 8, 12);
	xa[0] = 0;
	xa[1] = 0x01; /* IPv4 */
	put16(xa + 2, (uint16_t)(ntohs(from->sin_port) ^ (COOKIE >> 16)));
	put32(xa + 4, ntohl(from->sin_addr.s_addr) ^ COOKIE);
	at = put_attr(out, at, A_XOR_MAPPED, xa, 8);
	return seal(out, at, pwd);
}
