/*
 * srtcp.c - SRTCP for one direction on OpenSSL EVP (srtcp.h). The cipher
 * and MAC contexts are keyed once; per packet they get only a new IV. Per
 * SSRC: outbound, the last index sent; inbound, libsrtp2's replay database
 * (rdb.c: the lowest index of a 128-packet window and a bit per index in
 * it), step for step, so that the two agree on every verdict.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "srtcp.h"
#include "srtp_seal.h"

#define RTCP_HEADER  8 /* V/P/RC, PT, length, sender SSRC: left in the clear */
#define TRAILER      4 /* E flag and 31-bit SRTCP index */
#define E_FLAG       0x80000000u
#define INDEX_MASK   0x7fffffffu
#define WINDOW       128 /* libsrtp2's rdb_bits_in_bitmask */
#define KEY_LEN      16
#define CM_SALT_LEN  14
#define GCM_SALT_LEN 12
#define CM_AUTH_LEN  20
#define CM_TAG_LEN   10
#define GCM_TAG_LEN  16

struct srtcp_stream {
	uint32_t ssrc;    /* as on the wire: compared, never computed with */
	uint32_t index;   /* outbound: the last sent; inbound: the window's first index */
	uint64_t seen[2]; /* inbound: bit i (seen[i / 64] >> i % 64) is index + i */
};

struct srtcp {
	enum dtls_srtp_profile profile;
	bool outbound;
	struct srtp_keyed k; /* GCM opens or seals (its tag differs); CTR is the same both ways */
	uint8_t salt[CM_SALT_LEN];
	int tag_len;
	unsigned nstreams;
	struct srtcp_stream streams[SRTCP_MAX_SSRC];
};

static bool gcm(const struct srtcp *s)
{
	return s->profile == DTLS_SRTP_AEAD_AES_128_GCM;
}

struct srtcp *srtcp_new(enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                        bool outbound)
{
	struct srtp_seal_keys keys;
	struct srtcp *s;
	bool is_gcm = profile == DTLS_SRTP_AEAD_AES_128_GCM;

	if (srtp_seal_derive_rtcp(profile, key, len, &keys) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto fail;
	s->profile = profile;
	s->outbound = outbound;
	memcpy(s->salt, keys.salt, is_gcm ? GCM_SALT_LEN : CM_SALT_LEN);
	s->tag_len = is_gcm ? GCM_TAG_LEN : CM_TAG_LEN;
	if (srtp_keyed_init(&s->k, profile, &keys, outbound || !is_gcm ? 1 : 0) != 0)
		goto fail;
	OPENSSL_cleanse(&keys, sizeof(keys));
	return s;
fail:
	OPENSSL_cleanse(&keys, sizeof(keys));
	srtcp_free(s);
	return NULL;
}

void srtcp_free(struct srtcp *s)
{
	if (s == NULL)
		return;
	srtp_keyed_free(&s->k);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* The stream of the packet's sender SSRC; a new one only when `add`. NULL: none (or no room). */
static struct srtcp_stream *stream_of(struct srtcp *s, const uint8_t *pkt, bool add)
{
	uint32_t ssrc;
	unsigned i;

	memcpy(&ssrc, pkt + 4, sizeof(ssrc));
	for (i = 0; i < s->nstreams; i++)
		if (s->streams[i].ssrc == ssrc)
			return &s->streams[i];
	if (!add || s->nstreams == SRTCP_MAX_SSRC)
		return NULL;
	memset(&s->streams[s->nstreams], 0, sizeof(s->streams[0]));
	s->streams[s->nstreams].ssrc = ssrc;
	return &s->streams[s->nstreams++];
}

/*
 * The IV: GCM (RFC 7714 §9.1) 00 00 || SSRC || 00 00 || index, CM (RFC
 * 3711 §4.1.1) 00 00 00 00 || SSRC || 00 00 || index || 00 00; XOR salt.
 */
static void make_iv(const struct srtcp *s, const uint8_t *pkt, uint32_t index, uint8_t iv[16])
{
	int at = gcm(s) ? 8 : 10, i;

	memset(iv, 0, 16);
	memcpy(iv + (gcm(s) ? 2 : 4), pkt + 4, 4);
	for (i = 0; i < 4; i++)
		iv[at + i] = (uint8_t)(index >> (24 - 8 * i));
	for (i = 0; i < (gcm(s) ? GCM_SALT_LEN : CM_SALT_LEN); i++)
		iv[i] ^= s->salt[i];
}

/* HMAC-SHA1-80 of pkt[0..n) (RFC 3711 §4.2: the E+index word is part of it) into tag. */
static int cm_tag(struct srtcp *s, const uint8_t *pkt, size_t n, uint8_t tag[CM_TAG_LEN])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t macl;

	if (EVP_MAC_init(s->k.mac, NULL, 0, NULL) != 1 || EVP_MAC_update(s->k.mac, pkt, n) != 1 ||
	    EVP_MAC_final(s->k.mac, mac, &macl, sizeof(mac)) != 1 || macl < CM_TAG_LEN)
		return -1;
	memcpy(tag, mac, CM_TAG_LEN);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int srtcp_protect(struct srtcp *s, uint8_t *pkt, int *len)
{
	struct srtcp_stream *st;
	uint8_t iv[16], *trailer;
	int n = *len - RTCP_HEADER, outl;
	uint32_t index;

	if (!s->outbound || *len < RTCP_HEADER || (st = stream_of(s, pkt, true)) == NULL ||
	    st->index >= INDEX_MASK)
		return -1; /* libsrtp2: key_expired past 2^31 - 1 */
	index = st->index + 1;
	make_iv(s, pkt, index, iv);
	/* CM: payload || E+index || tag; GCM: payload || tag || E+index. */
	trailer = pkt + *len + (gcm(s) ? s->tag_len : 0);
	put32(trailer, E_FLAG | index);
	if (EVP_CipherInit_ex(s->k.cipher, NULL, NULL, NULL, iv, 1) != 1)
		return -1;
	if (gcm(s)) {
		if (EVP_CipherUpdate(s->k.cipher, NULL, &outl, pkt, RTCP_HEADER) != 1 ||
		    EVP_CipherUpdate(s->k.cipher, NULL, &outl, trailer, TRAILER) != 1 ||
		    EVP_CipherUpdate(s->k.cipher, pkt + RTCP_HEADER, &outl, pkt + RTCP_HEADER, n) !=
		        1 ||
		    EVP_CipherFinal_ex(s->k.cipher, pkt + *len, &outl) != 1 ||
		    EVP_CIPHER_CTX_ctrl(s->k.cipher, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN,
		                        pkt + *len) != 1)
			return -1;
	} else if (EVP_CipherUpdate(s->k.cipher, pkt + RTCP_HEADER, &outl, pkt + RTCP_HEADER, n) !=
	               1 ||
	           cm_tag(s, pkt, (size_t)*len + TRAILER, pkt + *len + TRAILER) != 0) {
		return -1;
	}
	st->index = index;
	*len += TRAILER + s->tag_len;
	return 0;
}

static bool seen(const struct srtcp_stream *st, uint32_t i)
{
	return (st->seen[i / 64] >> (i % 64)) & 1;
}

/* libsrtp2's srtp_rdb_check: 0 when index may be accepted. */
static int rdb_check(const struct srtcp_stream *st, uint32_t index)
{
	if (index >= st->index + WINDOW)
		return 0;
	if (index < st->index || seen(st, index - st->index))
		return -1;
	return 0;
}

/* libsrtp2's srtp_rdb_add_index: a new highest index moves the window to end at it. */
static void rdb_add(struct srtcp_stream *st, uint32_t index)
{
	uint32_t delta = index - st->index;

	if (delta >= WINDOW) {
		delta -= WINDOW - 1;
		if (delta >= WINDOW) {
			st->seen[0] = st->seen[1] = 0;
		} else if (delta >= 64) {
			st->seen[0] = st->seen[1] >> (delta - 64);
			st->seen[1] = 0;
		} else if (delta > 0) {
			st->seen[0] = st->seen[0] >> delta | st->seen[1] << (64 - delta);
			st->seen[1] >>= delta;
		}
		st->index += delta;
		delta = WINDOW - 1;
	}
	st->seen[delta / 64] |= (uint64_t)1 << (delta % 64);
}

int srtcp_unprotect(struct srtcp *s, uint8_t *pkt, int *len)
{
	struct srtcp_stream fresh = {0}, *st;
	uint8_t iv[16], tag[CM_TAG_LEN], *trailer, *sealed_tag;
	int n = *len - RTCP_HEADER - TRAILER - s->tag_len, outl;
	uint32_t word, index;
	bool encrypted;

	if (s->outbound || n < 0)
		return -1;
	trailer = pkt + *len - TRAILER - (gcm(s) ? 0 : s->tag_len);
	sealed_tag = gcm(s) ? pkt + *len - TRAILER - s->tag_len : pkt + *len - s->tag_len;
	word = (uint32_t)trailer[0] << 24 | (uint32_t)trailer[1] << 16 | (uint32_t)trailer[2] << 8 |
	       trailer[3];
	encrypted = (word & E_FLAG) != 0;
	index = word & INDEX_MASK;
	/* CM without E: libsrtp2's cant_check (our policy always encrypts). GCM without E:
	 * authenticated only, the whole packet its AAD, as libsrtp2 accepts it. */
	if (!encrypted && !gcm(s))
		return -1;
	/* An SSRC not seen yet is checked against an empty window (libsrtp2's template). */
	st = stream_of(s, pkt, false);
	if (rdb_check(st != NULL ? st : &fresh, index) != 0)
		return -1;
	make_iv(s, pkt, index, iv);
	if (EVP_CipherInit_ex(s->k.cipher, NULL, NULL, NULL, iv, gcm(s) ? 0 : 1) != 1)
		return -1;
	if (gcm(s)) {
		if (EVP_CipherUpdate(s->k.cipher, NULL, &outl, pkt,
		                     encrypted ? RTCP_HEADER : RTCP_HEADER + n) != 1 ||
		    EVP_CipherUpdate(s->k.cipher, NULL, &outl, trailer, TRAILER) != 1 ||
		    (encrypted && EVP_CipherUpdate(s->k.cipher, pkt + RTCP_HEADER, &outl,
		                                   pkt + RTCP_HEADER, n) != 1) ||
		    EVP_CIPHER_CTX_ctrl(s->k.cipher, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN,
		                        sealed_tag) != 1 ||
		    EVP_CipherFinal_ex(s->k.cipher, iv, &outl) !=
		        1)         /* checks the tag, writes nothing */
			return -1; /* forged (the payload may be garbage now) */
	} else {
		if (cm_tag(s, pkt, (size_t)(*len - s->tag_len), tag) != 0 ||
		    CRYPTO_memcmp(tag, sealed_tag, CM_TAG_LEN) != 0)
			return -1;
		if (EVP_CipherUpdate(s->k.cipher, pkt + RTCP_HEADER, &outl, pkt + RTCP_HEADER, n) !=
		    1)
			return -1;
	}
	if (st == NULL && (st = stream_of(s, pkt, true)) == NULL)
		return -1; /* a 17th SSRC */
	rdb_add(st, index);
	*len = RTCP_HEADER + n;
	return 0;
}
