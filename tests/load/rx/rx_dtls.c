/*
 * rx_dtls.c - the DTLS 1.2 client half of DTLS-SRTP (RFC 5764) for every
 * viewer of whep_rx: one ECDSA P-256 certificate and SSL_CTX for the
 * process, per viewer an SSL that reads from a memory BIO fed one datagram
 * at a time and writes each record flight chunk as one datagram on the
 * viewer's connected UDP socket. The server's certificate is checked
 * against the answer's a=fingerprint, as a browser does (RFC 8827 6.5).
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/x509.h>

#include "rx.h"

#define MTU      1200
#define PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define EXPORTER "EXTRACTOR-dtls_srtp"
#define SALT_GCM 12
#define SALT_CM  14

static SSL_CTX *ctx;
static BIO_METHOD *out_method;

static int out_write(BIO *b, const char *data, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);

	if (len <= 0)
		return 0;
	(void)send(fd, data, (size_t)len, MSG_DONTWAIT); /* a lost flight is retransmitted */
	return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return MTU;
	default:
		return 0;
	}
}

/* Self-signed: the fingerprint comparison is what authenticates. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
	return 1;
}

int dtls_rx_init(char *fp, size_t fp_len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	uint64_t serial = 0;
	int rc = -1;

	out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "whep-rx-out");
	if (key == NULL || x == NULL || out_method == NULL || fp_len < 8 + 3 * RX_FP_LEN ||
	    !BIO_meth_set_write(out_method, out_write) ||
	    !BIO_meth_set_ctrl(out_method, out_ctrl) ||
	    RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1 ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), (serial >> 1) | 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400L) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400L) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                                (const unsigned char *)"whep-rx", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) || !X509_set_pubkey(x, key) ||
	    X509_sign(x, key, EVP_sha256()) <= 0 ||
	    X509_digest(x, EVP_sha256(), md, &md_len) != 1 || md_len != RX_FP_LEN)
		goto out;
	memcpy(fp, "sha-256 ", 8);
	if (!OPENSSL_buf2hexstr_ex(fp + 8, fp_len - 8, NULL, md, md_len, ':'))
		goto out;
	ctx = SSL_CTX_new(DTLS_client_method());
	/* SSL_CTX_set_tlsext_use_srtp: 0 is success. */
	if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256") ||
	    !SSL_CTX_set1_groups_list(ctx, "P-256:X25519") ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, PROFILES) != 0 || !SSL_CTX_use_certificate(ctx, x) ||
	    !SSL_CTX_use_PrivateKey(ctx, key))
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_read_ahead(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU);
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

void dtls_rx_cleanup(void)
{
	SSL_CTX_free(ctx);
	BIO_meth_free(out_method);
	ctx = NULL;
	out_method = NULL;
}

SSL *dtls_rx_new(int fd, enum rx_profile profile)
{
	SSL *ssl = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(out_method);

	if (ssl == NULL || rbio == NULL || wbio == NULL) {
		SSL_free(ssl);
		BIO_free(rbio);
		BIO_free(wbio);
		return NULL;
	}
	BIO_set_mem_eof_return(rbio, -1); /* empty: "try again", not end of file */
	BIO_set_data(wbio, (void *)(intptr_t)fd);
	BIO_set_init(wbio, 1);
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	DTLS_set_link_mtu(ssl, MTU);
	if (profile != RX_PROFILE_NONE &&
	    SSL_set_tlsext_use_srtp(ssl, profile == RX_PROFILE_GCM
	                                     ? "SRTP_AEAD_AES_128_GCM"
	                                     : "SRTP_AES128_CM_SHA1_80") != 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

int dtls_rx_feed(SSL *ssl, const uint8_t *p, size_t n)
{
	char buf[2048];
	int r;

	if (p != NULL && n > 0)
		BIO_write(SSL_get_rbio(ssl), p, (int)n);
	if (!SSL_is_init_finished(ssl)) {
		r = SSL_do_handshake(ssl);
		if (r == 1)
			return 1;
		r = SSL_get_error(ssl, r);
		ERR_clear_error();
		return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? 0 : -1;
	}
	/* After the handshake: a retransmitted server flight, or an alert. */
	r = SSL_read(ssl, buf, sizeof(buf));
	if (r <= 0) {
		r = SSL_get_error(ssl, r);
		ERR_clear_error();
		if (r == SSL_ERROR_ZERO_RETURN || r == SSL_ERROR_SSL || r == SSL_ERROR_SYSCALL)
			return -1;
	}
	(void)BIO_reset(SSL_get_rbio(ssl));
	return 1;
}

int dtls_rx_finish(SSL *ssl, const uint8_t want[RX_FP_LEN], struct srtp_rx *rx, bool corrupt_key,
                   const char **why)
{
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(ssl);
	X509 *peer = SSL_get1_peer_certificate(ssl);
	uint8_t md[EVP_MAX_MD_SIZE], km[2 * (RX_SRTP_KEY + SALT_CM)];
	unsigned int md_len = 0;
	enum rx_profile profile;
	size_t salt;
	int rc = -1;

	if (peer == NULL || X509_digest(peer, EVP_sha256(), md, &md_len) != 1 ||
	    md_len != RX_FP_LEN) {
		*why = "no server certificate";
		goto out;
	}
	if (CRYPTO_memcmp(md, want, RX_FP_LEN) != 0) {
		*why = "server certificate does not match the answer's fingerprint";
		goto out;
	}
	if (sp == NULL || (sp->id != SRTP_AEAD_AES_128_GCM && sp->id != SRTP_AES128_CM_SHA1_80)) {
		*why = "no SRTP profile negotiated";
		goto out;
	}
	profile = sp->id == SRTP_AEAD_AES_128_GCM ? RX_PROFILE_GCM : RX_PROFILE_CM;
	salt = profile == RX_PROFILE_GCM ? SALT_GCM : SALT_CM;
	/* RFC 5764 4.2: client key, server key, client salt, server salt. */
	if (SSL_export_keying_material(ssl, km, 2 * (RX_SRTP_KEY + salt), EXPORTER,
	                               strlen(EXPORTER), NULL, 0, 0) != 1) {
		*why = "no keying material";
		goto out;
	}
	if (corrupt_key) /* the test's way to show a wrong key is caught */
		km[RX_SRTP_KEY] ^= 0x01;
	if (srtp_rx_init(rx, profile, km + RX_SRTP_KEY, km + 2 * RX_SRTP_KEY + salt) != 0) {
		*why = "SRTP key derivation failed";
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(km, sizeof(km));
	X509_free(peer);
	return rc;
}
