/*
 * rx_srtp.c - SRTP decryption for the few packets whep_rx looks inside:
 * the key derivation of RFC 3711 4.3 (AES-CM PRF), AEAD_AES_128_GCM (RFC
 * 7714) and AES128_CM_HMAC_SHA1_80 (RFC 3711 4.1.1, 4.2), with OpenSSL's
 * EVP; the RTP header (RFC 3550) and the VP8 keyframe start (RFC 7741, RFC
 * 6386). The daemon encrypts with libsrtp2: this is a second implementation
 * on purpose. Pure functions of bytes; the rollover counter is the caller's.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "rx.h"

#define GCM_TAG   16
#define CM_TAG    10 /* HMAC-SHA1 truncated to 80 bits */
#define LABEL_KEY 0x00
#define LABEL_A   0x01
#define LABEL_S   0x02

/* Fetched once: a fetch per packet looked inside (OpenSSL 3 resolves the
 * provider by name each time for EVP_aes_*()) cost more than the decryption. */
static struct {
	EVP_CIPHER *gcm, *ctr;
	EVP_MAC *hmac;
	EVP_CIPHER_CTX *ctx;
} A;

static int algorithms(void)
{
	if (A.ctx != NULL)
		return 0;
	A.gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	A.ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	A.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	A.ctx = EVP_CIPHER_CTX_new();
	if (A.gcm != NULL && A.ctr != NULL && A.hmac != NULL && A.ctx != NULL)
		return 0;
	srtp_rx_cleanup();
	return -1;
}

void srtp_rx_cleanup(void)
{
	EVP_CIPHER_free(A.gcm);
	EVP_CIPHER_free(A.ctr);
	EVP_MAC_free(A.hmac);
	EVP_CIPHER_CTX_free(A.ctx);
	memset(&A, 0, sizeof(A));
}

/* RFC 3711 4.3.1 with key_derivation_rate 0: AES-CM keystream under the
 * master key from IV = (master_salt XOR label << 48) * 2^16. A 96-bit
 * (GCM) master salt is taken as 112 bits with two zero bytes at the end,
 * as libsrtp and RFC 7714 11 do. */
static int prf(const uint8_t *mkey, const uint8_t salt14[14], uint8_t label, uint8_t *out,
               size_t len)
{
	uint8_t iv[16] = {0}, zeros[32] = {0};
	int n = 0;

	memcpy(iv, salt14, 14);
	iv[7] ^= label;
	return algorithms() == 0 && len <= sizeof(zeros) &&
	               EVP_EncryptInit_ex(A.ctx, A.ctr, NULL, mkey, iv) == 1 &&
	               EVP_EncryptUpdate(A.ctx, out, &n, zeros, (int)len) == 1 && (size_t)n == len
	           ? 0
	           : -1;
}

int srtp_rx_init(struct srtp_rx *s, enum rx_profile profile, const uint8_t *master_key,
                 const uint8_t *master_salt)
{
	uint8_t salt14[14] = {0};

	memset(s, 0, sizeof(*s));
	s->profile = profile;
	s->salt_len = profile == RX_PROFILE_GCM ? 12 : 14;
	memcpy(salt14, master_salt, s->salt_len);
	if (prf(master_key, salt14, LABEL_KEY, s->key, RX_SRTP_KEY) != 0 ||
	    prf(master_key, salt14, LABEL_S, s->salt, s->salt_len) != 0 ||
	    (profile == RX_PROFILE_CM &&
	     prf(master_key, salt14, LABEL_A, s->auth, RX_SRTP_AUTH) != 0))
		return -1;
	return 0;
}

size_t rtp_header_len(const uint8_t *p, size_t n)
{
	size_t hl;

	if (n < 12)
		return 0;
	hl = 12 + 4 * (size_t)(p[0] & 0x0f);
	if (p[0] & 0x10) { /* extension: 4-byte header, then its length in words */
		if (n < hl + 4)
			return 0;
		hl += 4 + 4 * (size_t)(p[hl + 2] << 8 | p[hl + 3]);
	}
	return hl <= n ? hl : 0;
}

/* RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt. */
static int open_gcm(const struct srtp_rx *s, uint8_t *p, size_t n, size_t hl, uint32_t roc)
{
	uint8_t iv[12] = {0};
	EVP_CIPHER_CTX *c;
	int len, ok;
	size_t i;

	if (n < hl + GCM_TAG || algorithms() != 0)
		return -1;
	c = A.ctx;
	memcpy(iv + 2, p + 8, 4);
	iv[6] = (uint8_t)(roc >> 24);
	iv[7] = (uint8_t)(roc >> 16);
	iv[8] = (uint8_t)(roc >> 8);
	iv[9] = (uint8_t)roc;
	memcpy(iv + 10, p + 2, 2);
	for (i = 0; i < 12; i++)
		iv[i] ^= s->salt[i];
	ok = EVP_DecryptInit_ex(c, A.gcm, NULL, s->key, iv) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &len, p, (int)hl) == 1 &&
	     EVP_DecryptUpdate(c, p + hl, &len, p + hl, (int)(n - hl - GCM_TAG)) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, p + n - GCM_TAG) == 1 &&
	     EVP_DecryptFinal_ex(c, p + hl + len, &len) == 1;
	return ok ? (int)(n - GCM_TAG) : -1;
}

/* RFC 3711 4.2: tag = HMAC-SHA1(k_a, packet || ROC); 4.1.1: IV = k_s * 2^16
 * XOR SSRC * 2^64 XOR index * 2^16, AES in counter mode. */
static int open_cm(const struct srtp_rx *s, uint8_t *p, size_t n, size_t hl, uint32_t roc)
{
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA1", 0),
	                       OSSL_PARAM_construct_end()};
	uint8_t mac[EVP_MAX_MD_SIZE], iv[16] = {0}, r[4];
	uint64_t index = (uint64_t)roc << 16 | (uint64_t)(p[2] << 8 | p[3]);
	EVP_MAC_CTX *mc = NULL;
	size_t outl = 0;
	int len, ok, i;

	if (n < hl + CM_TAG)
		return -1;
	for (i = 0; i < 4; i++)
		r[i] = (uint8_t)(roc >> (8 * (3 - i)));
	mc = algorithms() == 0 ? EVP_MAC_CTX_new(A.hmac) : NULL;
	ok = mc != NULL && EVP_MAC_init(mc, s->auth, RX_SRTP_AUTH, params) == 1 &&
	     EVP_MAC_update(mc, p, n - CM_TAG) == 1 && EVP_MAC_update(mc, r, 4) == 1 &&
	     EVP_MAC_final(mc, mac, &outl, sizeof(mac)) == 1 && outl >= CM_TAG &&
	     CRYPTO_memcmp(mac, p + n - CM_TAG, CM_TAG) == 0;
	EVP_MAC_CTX_free(mc);
	if (!ok)
		return -1;
	memcpy(iv, s->salt, 14);
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= p[8 + i];
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (8 * (5 - i)));
	ok = EVP_DecryptInit_ex(A.ctx, A.ctr, NULL, s->key, iv) == 1 &&
	     EVP_DecryptUpdate(A.ctx, p + hl, &len, p + hl, (int)(n - hl - CM_TAG)) == 1;
	return ok ? (int)(n - CM_TAG) : -1;
}

int srtp_rx_decrypt(const struct srtp_rx *s, uint8_t *p, size_t n, uint32_t roc)
{
	size_t hl = rtp_header_len(p, n);
	int len;

	if (hl == 0 || (p[0] & 0xc0) != 0x80)
		return -1;
	len = s->profile == RX_PROFILE_GCM  ? open_gcm(s, p, n, hl, roc)
	      : s->profile == RX_PROFILE_CM ? open_cm(s, p, n, hl, roc)
	                                    : -1;
	if (len > 0 && (p[0] & 0x20)) { /* padding: its count is the last byte */
		uint8_t pad = p[len - 1];

		if (pad == 0 || (size_t)pad > (size_t)len - hl)
			return -1;
		len -= pad;
	}
	return len;
}

bool h264_keyframe_start(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 1)
		return false;
	switch (p[0] & 0x1f) {
	case 5: /* IDR slice */
	case 7: /* SPS */
		return true;
	case 24: /* STAP-A: 16-bit size, then the NAL unit, for each */
		for (i = 1; i + 2 < n; i += 2 + (size_t)(p[i] << 8 | p[i + 1])) {
			uint8_t t = p[i + 2] & 0x1f;

			if (t == 5 || t == 7)
				return true;
		}
		return false;
	case 28: /* FU-A: the start of a fragmented IDR slice */
		return n >= 2 && (p[1] & 0x80) && (p[1] & 0x1f) == 5;
	default:
		return false;
	}
}

bool vp8_keyframe_start(const uint8_t *v, size_t n, int *w, int *h)
{
	size_t i = 1;

	if (n < 1 || !(v[0] & 0x10) || (v[0] & 0x07) != 0)
		return false;
	if (v[0] & 0x80) { /* X: extension byte, then PictureID, TL0PICIDX, TID/KEYIDX */
		if (n < 2)
			return false;
		uint8_t x = v[i++];
		if (x & 0x80)
			i += (i < n && (v[i] & 0x80)) ? 2 : 1;
		if (x & 0x40)
			i++;
		if (x & 0x30)
			i++;
	}
	/* Payload header: P (bit 0) is 0 on a keyframe; then 9d 01 2a and the size. */
	if (i + 10 > n || (v[i] & 0x01) != 0 || v[i + 3] != 0x9d || v[i + 4] != 0x01 ||
	    v[i + 5] != 0x2a)
		return false;
	*w = (v[i + 6] | v[i + 7] << 8) & 0x3fff;
	*h = (v[i + 8] | v[i + 9] << 8) & 0x3fff;
	return true;
}
