/*
 * srtp_seal.c - SRTP protect for one sender on OpenSSL EVP. The cipher and
 * MAC contexts are keyed once in srtp_seal_new and per packet get only a
 * new IV: Debian's libsrtp2 goes through NSS, which builds a PK11 context
 * for every packet (issue 17). Owns those contexts and, per SSRC, the
 * highest packet index sent, which is all a sender's rollover counter
 * needs (RFC 3711 §3.3.1). The index arithmetic follows libsrtp2's
 * rdbx.c step for step, so the two agree on every index, quirks included.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "srtp_seal.h"

#define RTP_HEADER   12
#define KEY_LEN      16
#define CM_SALT_LEN  14
#define GCM_SALT_LEN 12
#define CM_AUTH_LEN  20 /* HMAC-SHA1 key (RFC 3711 §4.2: n_a = 160) */
#define CM_TAG_LEN   10 /* HMAC-SHA1-80 */
#define GCM_TAG_LEN  16
#define SEQ_MEDIAN   0x8000
#define SEQ_SPAN     0x10000
#define LABEL_ENC    0x00 /* RFC 3711 §4.3.2 */
#define LABEL_AUTH   0x01
#define LABEL_SALT   0x02
#define LABEL_RTCP   0x03 /* SRTCP's labels: RTP's + 3 */
#define MAX_ROC      0xffffffffu

struct seal_stream {
	uint32_t ssrc;  /* as on the wire (network order): compared, never computed with */
	uint64_t index; /* highest sent: ROC << 16 | SEQ, libsrtp's rdbx index */
};

struct srtp_seal {
	enum dtls_srtp_profile profile;
	struct srtp_keyed k;
	uint8_t salt[CM_SALT_LEN];
	int tag_len;
	unsigned nstreams;
	struct seal_stream streams[SRTP_SEAL_MAX_SSRC];
};

static size_t salt_len(enum dtls_srtp_profile profile)
{
	return profile == DTLS_SRTP_AEAD_AES_128_GCM ? GCM_SALT_LEN : CM_SALT_LEN;
}

static bool profile_ok(enum dtls_srtp_profile profile, size_t len)
{
	return (profile == DTLS_SRTP_AEAD_AES_128_GCM || profile == DTLS_SRTP_AES128_CM_SHA1_80) &&
	       len == KEY_LEN + salt_len(profile);
}

/* RFC 3711 §4.3.1/§4.3.3: AES-CM keyed with the master key, IV = (salt XOR label << 48) << 16. */
static int kdf(EVP_CIPHER_CTX *c, const uint8_t salt[CM_SALT_LEN], uint8_t label, uint8_t *out,
               int n)
{
	uint8_t iv[16] = {0};
	int outl;

	memcpy(iv, salt, CM_SALT_LEN);
	iv[7] ^= label;
	memset(out, 0, (size_t)n);
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, out, &outl, out, n) != 1 || outl != n)
		return -1;
	return 0;
}

/* RTP's session keys (labels 0-2), or SRTCP's (3-5: RFC 3711 §4.3.2). */
static int derive(enum dtls_srtp_profile profile, const uint8_t *key, size_t len, uint8_t base,
                  struct srtp_seal_keys *out)
{
	/* GCM's 96-bit master salt is padded with zeros to the KDF's 112 (RFC 7714 §11). */
	uint8_t salt[CM_SALT_LEN] = {0};
	EVP_CIPHER_CTX *c;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!profile_ok(profile, len))
		return -1;
	memcpy(salt, key + KEY_LEN, len - KEY_LEN);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, NULL) != 1)
		goto out;
	if (kdf(c, salt, base + LABEL_ENC, out->enc, KEY_LEN) != 0 ||
	    kdf(c, salt, base + LABEL_SALT, out->salt, (int)salt_len(profile)) != 0 ||
	    (profile == DTLS_SRTP_AES128_CM_SHA1_80 &&
	     kdf(c, salt, base + LABEL_AUTH, out->auth, CM_AUTH_LEN) != 0))
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (rc != 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

int srtp_seal_derive(enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                     struct srtp_seal_keys *out)
{
	return derive(profile, key, len, 0, out);
}

int srtp_seal_derive_rtcp(enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                          struct srtp_seal_keys *out)
{
	return derive(profile, key, len, LABEL_RTCP, out);
}

int srtp_keyed_init(struct srtp_keyed *k, enum dtls_srtp_profile profile,
                    const struct srtp_seal_keys *keys, int encrypt)
{
	bool gcm = profile == DTLS_SRTP_AEAD_AES_128_GCM;
	OSSL_PARAM params[2];

	/* GCM's IV comes with each packet (its default length is RFC 7714's 12). */
	k->cipher = EVP_CIPHER_CTX_new();
	if (k->cipher == NULL ||
	    EVP_CipherInit_ex(k->cipher, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL,
	                      keys->enc, NULL, encrypt) != 1)
		return -1;
	if (gcm)
		return 0;
	k->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	k->mac = k->hmac != NULL ? EVP_MAC_CTX_new(k->hmac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	return k->mac != NULL && EVP_MAC_init(k->mac, keys->auth, CM_AUTH_LEN, params) == 1 ? 0
	                                                                                    : -1;
}

void srtp_keyed_free(struct srtp_keyed *k)
{
	EVP_CIPHER_CTX_free(k->cipher);
	EVP_MAC_CTX_free(k->mac);
	EVP_MAC_free(k->hmac);
	*k = (struct srtp_keyed){0};
}

struct srtp_seal *srtp_seal_new_keys(enum dtls_srtp_profile profile,
                                     const struct srtp_seal_keys *keys)
{
	struct srtp_seal *s;

	if (!profile_ok(profile, KEY_LEN + salt_len(profile)))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->profile = profile;
	memcpy(s->salt, keys->salt, salt_len(profile));
	s->tag_len = profile == DTLS_SRTP_AEAD_AES_128_GCM ? GCM_TAG_LEN : CM_TAG_LEN;
	if (srtp_keyed_init(&s->k, profile, keys, 1) != 0) {
		srtp_seal_free(s);
		return NULL;
	}
	return s;
}

struct srtp_seal *srtp_seal_new(enum dtls_srtp_profile profile, const uint8_t *key, size_t len)
{
	struct srtp_seal_keys keys;
	struct srtp_seal *s = NULL;

	if (srtp_seal_derive(profile, key, len, &keys) == 0)
		s = srtp_seal_new_keys(profile, &keys);
	OPENSSL_cleanse(&keys, sizeof(keys));
	return s;
}

void srtp_seal_free(struct srtp_seal *s)
{
	if (s == NULL)
		return;
	srtp_keyed_free(&s->k);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

int srtp_seal_trailer(const struct srtp_seal *s)
{
	return s->tag_len;
}

/* Where the payload starts (after CSRCs and extension), or -1 past len: srtp_validate_rtp_header.
 */
static int header_len(const uint8_t *pkt, int len)
{
	int n = RTP_HEADER + 4 * (pkt[0] & 0x0f);

	if (pkt[0] & 0x10) {
		if (len < n + 4)
			return -1;
		n += 4 + 4 * ((pkt[n + 2] << 8) | pkt[n + 3]);
	}
	return n <= len ? n : -1;
}

/*
 * The index of seq given the highest sent (RFC 3711 §3.3.1), and how far it
 * is ahead of that (negative: behind). libsrtp's srtp_rdbx_estimate_index
 * and srtp_index_guess: until the index passes 0x8000 the ROC is taken as 0.
 */
static int32_t estimate(uint64_t highest, uint16_t seq, uint64_t *guess)
{
	uint32_t roc = (uint32_t)(highest >> 16);
	int32_t local = (uint16_t)highest;
	int32_t delta = (int32_t)seq - local;

	if (highest <= SEQ_MEDIAN) {
		*guess = seq;
		return delta;
	}
	if (local < SEQ_MEDIAN && delta > SEQ_MEDIAN) {
		roc--; /* highest > 0x8000 with its SEQ below: roc >= 1 */
		delta -= SEQ_SPAN;
	} else if (local >= SEQ_MEDIAN && local - SEQ_MEDIAN > seq) {
		if (roc == MAX_ROC)
			return INT32_MIN; /* refused: the index would wrap */
		roc++;
		delta += SEQ_SPAN;
	}
	*guess = (uint64_t)roc << 16 | seq;
	return delta;
}

static struct seal_stream *stream_of(struct srtp_seal *s, uint32_t ssrc)
{
	unsigned i;

	for (i = 0; i < s->nstreams; i++)
		if (s->streams[i].ssrc == ssrc)
			return &s->streams[i];
	if (s->nstreams == SRTP_SEAL_MAX_SSRC)
		return NULL;
	s->streams[s->nstreams].ssrc = ssrc;
	s->streams[s->nstreams].index = 0;
	return &s->streams[s->nstreams++];
}

/* RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; AAD the header; tag appended. */
static int seal_gcm(struct srtp_seal *s, uint8_t *pkt, int hdr, int len, uint64_t index)
{
	uint8_t iv[GCM_SALT_LEN];
	int i, outl;

	iv[0] = iv[1] = 0;
	memcpy(iv + 2, pkt + 8, 4);
	for (i = 0; i < 6; i++)
		iv[6 + i] = (uint8_t)(index >> (40 - 8 * i));
	for (i = 0; i < GCM_SALT_LEN; i++)
		iv[i] ^= s->salt[i];
	if (EVP_EncryptInit_ex(s->k.cipher, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(s->k.cipher, NULL, &outl, pkt, hdr) != 1 ||
	    EVP_EncryptUpdate(s->k.cipher, pkt + hdr, &outl, pkt + hdr, len - hdr) != 1 ||
	    EVP_EncryptFinal_ex(s->k.cipher, pkt + len, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->k.cipher, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, pkt + len) != 1)
		return -1;
	return 0;
}

/*
 * RFC 3711 §4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16);
 * §4.2: tag = first 80 bits of HMAC-SHA1(header || payload || ROC).
 */
static int seal_cm(struct srtp_seal *s, uint8_t *pkt, int hdr, int len, uint64_t index)
{
	uint8_t iv[16], roc[4], mac[EVP_MAX_MD_SIZE];
	size_t macl;
	int i, outl;

	memset(iv, 0, 4);
	memcpy(iv + 4, pkt + 8, 4);
	for (i = 0; i < 6; i++)
		iv[8 + i] = (uint8_t)(index >> (40 - 8 * i));
	iv[14] = iv[15] = 0;
	for (i = 0; i < CM_SALT_LEN; i++)
		iv[i] ^= s->salt[i];
	for (i = 0; i < 4; i++)
		roc[i] = (uint8_t)(index >> (40 - 8 * i));
	if (EVP_EncryptInit_ex(s->k.cipher, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(s->k.cipher, pkt + hdr, &outl, pkt + hdr, len - hdr) != 1 ||
	    EVP_MAC_init(s->k.mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(s->k.mac, pkt, (size_t)len) != 1 ||
	    EVP_MAC_update(s->k.mac, roc, sizeof(roc)) != 1 ||
	    EVP_MAC_final(s->k.mac, mac, &macl, sizeof(mac)) != 1 || macl < CM_TAG_LEN)
		return -1;
	memcpy(pkt + len, mac, CM_TAG_LEN);
	return 0;
}

int srtp_seal(struct srtp_seal *s, uint8_t *pkt, int *len)
{
	struct seal_stream *st;
	uint64_t index;
	uint32_t ssrc;
	int32_t delta;
	int hdr, rc;

	if (*len < RTP_HEADER || (hdr = header_len(pkt, *len)) < 0)
		return -1;
	memcpy(&ssrc, pkt + 8, sizeof(ssrc));
	st = stream_of(s, ssrc);
	if (st == NULL)
		return -1;
	delta = estimate(st->index, (uint16_t)(pkt[2] << 8 | pkt[3]), &index);
	if (delta <= -SRTP_SEAL_WINDOW)
		return -1; /* also INT32_MIN: no index left */
	rc = s->profile == DTLS_SRTP_AEAD_AES_128_GCM ? seal_gcm(s, pkt, hdr, *len, index)
	                                              : seal_cm(s, pkt, hdr, *len, index);
	if (rc != 0)
		return -1;
	if (delta > 0)
		st->index = index;
	*len += s->tag_len;
	return 0;
}
