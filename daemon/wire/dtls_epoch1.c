/*
 * dtls_epoch1.c - the record layer of a connected DTLS 1.2 peer after
 * OpenSSL's SSL is gone (dtls_priv.h says why): the AEAD record keys
 * from the session's master secret, the client's records opened and our
 * alerts sealed as RFC 6347 4.1, RFC 5288 (AES-GCM) and RFC 7905
 * (ChaCha20-Poly1305) make them. tests/unit/test_dtls.c checks every
 * cipher both ways against an OpenSSL client. A cipher context lives for
 * one record only: these records are rare, and a kept one is ~1 KB.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

#include "dtls_priv.h"

#define RECORD_HEADER   13 /* type, version, epoch, sequence number, length */
#define AEAD_TAG        16
#define GCM_EXPLICIT    8 /* RFC 5288 3: the nonce's explicit part, in each record */
#define GCM_IMPLICIT    4 /* ... and its implicit part, from the key block */
#define MASTER_SECRET   48
#define RANDOM_LEN      32
#define LABEL           "key expansion"
#define TYPE_ALERT      21
#define TYPE_HANDSHAKE  22
#define HS_FINISHED     20
#define ALERT_FATAL     2
#define ALERT_CLOSE     0
#define FIRST_SEQ_EPOCH ((uint64_t)1 << 48) /* epoch 1, sequence number 0 */

static const EVP_CIPHER *cipher_of(int nid)
{
	switch (nid) {
	case NID_aes_128_gcm:
		return EVP_aes_128_gcm();
	case NID_aes_256_gcm:
		return EVP_aes_256_gcm();
	case NID_chacha20_poly1305:
		return EVP_chacha20_poly1305();
	default:
		return NULL;
	}
}

static bool is_gcm(const struct dtls_epoch1 *e)
{
	return e->nid != NID_chacha20_poly1305;
}

/* key_block = PRF(master_secret, "key expansion", server_random + client_random). */
static int key_block(SSL *ssl, const EVP_MD *md, uint8_t *out, size_t n)
{
	uint8_t master[MASTER_SECRET], seed[sizeof(LABEL) - 1 + 2 * RANDOM_LEN];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int rc = -1;

	if (kctx == NULL ||
	    SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master)) !=
	        sizeof(master) ||
	    SSL_get_server_random(ssl, seed + sizeof(LABEL) - 1, RANDOM_LEN) != RANDOM_LEN ||
	    SSL_get_client_random(ssl, seed + sizeof(LABEL) - 1 + RANDOM_LEN, RANDOM_LEN) !=
	        RANDOM_LEN)
		goto out;
	memcpy(seed, LABEL, sizeof(LABEL) - 1);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	                                             (char *)EVP_MD_get0_name(md), 0);
	params[1] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, sizeof(master));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, n, params) == 1)
		rc = 0;
out:
	OPENSSL_cleanse(master, sizeof(master));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* The highest epoch-1 sequence number among the records of `flight` (2-byte length, datagram)*. */
static uint64_t past_flight(const uint8_t *flight, size_t len)
{
	uint64_t next = FIRST_SEQ_EPOCH, seq;
	size_t at = 0, dgram, end, rec;
	int i;

	while (at + 2 <= len) {
		dgram = (size_t)flight[at] << 8 | flight[at + 1];
		at += 2;
		end = at + dgram <= len ? at + dgram : len;
		while (at + RECORD_HEADER <= end) {
			for (seq = 0, i = 3; i < 11; i++)
				seq = seq << 8 | flight[at + i];
			if (seq >> 48 == 1 && seq + 1 > next)
				next = seq + 1;
			rec = (size_t)flight[at + 11] << 8 | flight[at + 12];
			at += RECORD_HEADER + rec;
		}
		at = end;
	}
	return next;
}

int dtls_epoch1_init(struct dtls_epoch1 *e, SSL *ssl, const uint8_t *flight, size_t flight_len)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	const EVP_MD *md = c != NULL ? SSL_CIPHER_get_handshake_digest(c) : NULL;
	uint8_t kb[2 * (DTLS_EPOCH1_KEY_MAX + DTLS_EPOCH1_IV_MAX)];
	const EVP_CIPHER *cipher;

	memset(e, 0, sizeof(*e));
	if (md == NULL)
		return -1;
	e->nid = SSL_CIPHER_get_cipher_nid(c);
	cipher = cipher_of(e->nid);
	if (cipher == NULL) {
		e->nid = 0;
		return -1;
	}
	e->key_len = (size_t)EVP_CIPHER_get_key_length(cipher);
	e->iv_len = is_gcm(e) ? GCM_IMPLICIT : DTLS_EPOCH1_IV_MAX;
	/* AEAD suites have no MAC keys: client key, server key, client IV, server IV. */
	if (key_block(ssl, md, kb, 2 * (e->key_len + e->iv_len)) != 0) {
		OPENSSL_cleanse(e, sizeof(*e));
		return -1;
	}
	memcpy(e->client_key, kb, e->key_len);
	memcpy(e->server_key, kb + e->key_len, e->key_len);
	memcpy(e->client_iv, kb + 2 * e->key_len, e->iv_len);
	memcpy(e->server_iv, kb + 2 * e->key_len + e->iv_len, e->iv_len);
	OPENSSL_cleanse(kb, sizeof(kb));
	e->write_seq = past_flight(flight, flight_len);
	return 0;
}

size_t dtls_epoch1_min_sealed(const struct dtls_epoch1 *e)
{
	return 1 + AEAD_TAG + (is_gcm(e) ? GCM_EXPLICIT : 0);
}

/* The record's nonce: GCM's implicit || explicit part (RFC 5288 3), ChaCha's IV ^ seq (RFC 7905 2).
 */
static void nonce_of(const struct dtls_epoch1 *e, const uint8_t *iv, const uint8_t seq[8],
                     uint8_t nonce[12])
{
	int i;

	if (is_gcm(e)) {
		memcpy(nonce, iv, GCM_IMPLICIT);
		memcpy(nonce + GCM_IMPLICIT, seq, GCM_EXPLICIT);
		return;
	}
	memcpy(nonce, iv, 12);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= seq[i];
}

/*
 * One AEAD pass over a record's content: `in` (n bytes) to `out`, the
 * tag read from / written to `tag`. AAD (RFC 5246 6.2.3.3, DTLS: epoch
 * and sequence number) = seq || type || version || n.
 */
static int aead(const struct dtls_epoch1 *e, bool seal, const uint8_t *hdr, const uint8_t *in,
                size_t n, uint8_t *out, uint8_t tag[AEAD_TAG])
{
	const uint8_t *key = seal ? e->server_key : e->client_key;
	const uint8_t *iv = seal ? e->server_iv : e->client_iv;
	uint8_t nonce[12], aad[RECORD_HEADER];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl, rc = -1;

	/* GCM's explicit part is the epoch and sequence number, as OpenSSL sends it. */
	nonce_of(e, iv, seal || !is_gcm(e) ? hdr + 3 : hdr + RECORD_HEADER, nonce);
	memcpy(aad, hdr + 3, 8);
	memcpy(aad + 8, hdr, 3);
	aad[11] = (uint8_t)(n >> 8);
	aad[12] = (uint8_t)n;
	if (c == NULL || EVP_CipherInit_ex(c, cipher_of(e->nid), NULL, key, nonce, seal) != 1 ||
	    EVP_CipherUpdate(c, NULL, &outl, aad, sizeof(aad)) != 1 ||
	    EVP_CipherUpdate(c, out, &outl, in, (int)n) != 1)
		goto out;
	if (!seal && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + outl, &outl) != 1)
		goto out; /* opening: the tag does not match */
	if (seal && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return rc;
}

enum dtls_epoch1_record dtls_epoch1_open(const struct dtls_epoch1 *e, const uint8_t *rec,
                                         size_t len, uint8_t *alert)
{
	size_t explicit = is_gcm(e) ? GCM_EXPLICIT : 0, n;
	uint8_t plain[2];
	uint8_t tag[AEAD_TAG];
	const uint8_t *body;

	/* Only what the checks need is decrypted: an alert's 2 bytes, a handshake header's first.
	 */
	if (e->nid == 0 || len < RECORD_HEADER + dtls_epoch1_min_sealed(e) ||
	    ((unsigned)rec[3] << 8 | rec[4]) != 1)
		return DTLS_E1_FORGED;
	n = len - RECORD_HEADER - explicit - AEAD_TAG;
	body = rec + RECORD_HEADER + explicit;
	memcpy(tag, body + n, AEAD_TAG);
	if (rec[0] == TYPE_ALERT) {
		if (n != sizeof(plain) || aead(e, false, rec, body, n, plain, tag) != 0)
			return DTLS_E1_FORGED;
		*alert = plain[1];
		if (plain[1] == ALERT_CLOSE)
			return DTLS_E1_CLOSE;
		return plain[0] == ALERT_FATAL ? DTLS_E1_FATAL : DTLS_E1_OTHER;
	}
	if (rec[0] == TYPE_HANDSHAKE) {
		uint8_t *whole = OPENSSL_malloc(n);
		enum dtls_epoch1_record r = DTLS_E1_FORGED;

		if (whole != NULL && aead(e, false, rec, body, n, whole, tag) == 0)
			r = whole[0] == HS_FINISHED ? DTLS_E1_FINISHED : DTLS_E1_OTHER;
		OPENSSL_clear_free(whole, n);
		return r;
	}
	return DTLS_E1_OTHER; /* application data has no reader here: left unread */
}

int dtls_epoch1_seal_alert(struct dtls_epoch1 *e, uint8_t level, uint8_t desc,
                           uint8_t out[DTLS_ALERT_RECORD])
{
	const uint8_t plain[2] = {level, desc};
	size_t explicit = is_gcm(e) ? GCM_EXPLICIT : 0, body = explicit + sizeof(plain) + AEAD_TAG;
	int i;

	if (e->nid == 0)
		return -1;
	out[0] = TYPE_ALERT;
	out[1] = 0xfe; /* DTLS 1.2 */
	out[2] = 0xfd;
	for (i = 0; i < 8; i++)
		out[3 + i] = (uint8_t)(e->write_seq >> (56 - 8 * i));
	out[11] = (uint8_t)(body >> 8);
	out[12] = (uint8_t)body;
	memcpy(out + RECORD_HEADER, out + 3, explicit);
	if (aead(e, true, out, plain, sizeof(plain), out + RECORD_HEADER + explicit,
	         out + RECORD_HEADER + explicit + sizeof(plain)) != 0)
		return -1;
	e->write_seq++;
	return (int)(RECORD_HEADER + body);
}
