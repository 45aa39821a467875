/*
 * dtls_cert.c - the daemon's one DTLS certificate and SSL_CTX: made at
 * start-up, renewed before it expires; every dtls_peer's SSL comes from
 * the current one. Main thread.
 */
#define G_LOG_DOMAIN "dtls"

#include <glib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"
#include "dtls_priv.h"

#define DTLS_CIPHERS                                                                               \
	"ECDHE-ECDSA-AES128-GCM-SHA256:"                                                           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:"                                                           \
	"ECDHE-ECDSA-AES256-GCM-SHA384"
#define DTLS_GROUPS "P-256:X25519"
/* Our preference: GCM first, it is the cheaper per packet with AES-NI (no HMAC-SHA1). */
#define DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

static SSL_CTX *ctx; /* the current certificate's; peers made earlier hold a reference to theirs */
static char fingerprint[DTLS_FINGERPRINT_MAX];
static gint64 cert_lifetime_s = DTLS_CERT_LIFETIME_S;
static gint64 cert_expires_s; /* notAfter of the current certificate, Unix seconds */

SSL_CTX *dtls_ctx(void)
{
	return ctx;
}

/* Browsers present throwaway self-signed certificates, so no chain can be
 * checked: what authenticates the peer is the digest comparison against the
 * signalled a=fingerprint once the handshake is done (RFC 8827 6.5). */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	return 1;
}

static X509 *make_cert(EVP_PKEY *key, gint64 lifetime_s)
{
	X509 *x = X509_new();
	X509_NAME *name;
	uint64_t serial;

	if (x == NULL || RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		goto fail;
	name = X509_get_subject_name(x);
	/* Valid from a day back, so a peer with a slow clock accepts it, for lifetime_s from now
	 * (a year by default, as webrtcbin's; dtls_renew_if_due replaces it well before). */
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), (serial >> 1) | 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400L) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)lifetime_s) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"whepcam",
	                                -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/*
 * A new key, certificate and context; on success *out_ctx and out_fp (the
 * certificate's "sha-256 …") are set. Returns 0, or -1 with *err set.
 */
static int make_context(SSL_CTX **out_ctx, char out_fp[DTLS_FINGERPRINT_MAX], char **err)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	SSL_CTX *c = NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const char *what, *reason;

	what = "cannot create the DTLS key and certificate";
	key = EVP_EC_gen("P-256");
	/* buf2hexstr writes upper-case pairs joined by ':', as browsers do. */
	memcpy(out_fp, "sha-256 ", 8);
	if (key == NULL || (cert = make_cert(key, cert_lifetime_s)) == NULL ||
	    X509_digest(cert, EVP_sha256(), md, &md_len) != 1 ||
	    !OPENSSL_buf2hexstr_ex(out_fp + 8, DTLS_FINGERPRINT_MAX - 8, NULL, md, md_len, ':'))
		goto fail;
	what = "cannot set up the DTLS context";
	c = SSL_CTX_new(DTLS_server_method());
	/* SSL_CTX_set_tlsext_use_srtp is the odd one out: 0 means success. */
	if (c == NULL || !SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c, DTLS_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(c, DTLS_GROUPS) ||
	    SSL_CTX_set_tlsext_use_srtp(c, DTLS_SRTP_PROFILES) != 0 ||
	    !SSL_CTX_use_certificate(c, cert) || !SSL_CTX_use_PrivateKey(c, key) ||
	    !SSL_CTX_check_private_key(c))
		goto fail;
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_read_ahead(c, 0);
	/* No resumption and no renegotiation: either would let the peer end up
	 * with keys or a certificate we did not check against the fingerprint.
	 * NO_QUERY_MTU keeps our MTU: without it a reset SSL asks the BIO. */
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU);
	*out_ctx = c;
	X509_free(cert); /* the context holds its own references */
	EVP_PKEY_free(key);
	return 0;
fail:
	reason = ERR_reason_error_string(ERR_get_error());
	*err = g_strdup_printf("%s: %s", what, reason != NULL ? reason : "unknown OpenSSL error");
	ERR_clear_error();
	SSL_CTX_free(c);
	X509_free(cert);
	EVP_PKEY_free(key);
	return -1;
}

int dtls_init(char **err)
{
	if (ctx != NULL)
		return 0;
	if (dtls_peer_methods_init() != 0) {
		*err = g_strdup("cannot create the DTLS BIO method");
		goto fail;
	}
	if (make_context(&ctx, fingerprint, err) != 0)
		goto fail;
	cert_expires_s = g_get_real_time() / G_USEC_PER_SEC + cert_lifetime_s;
	return 0;
fail:
	fingerprint[0] = '\0';
	dtls_peer_methods_free();
	return -1;
}

void dtls_set_cert_lifetime(gint64 seconds)
{
	cert_lifetime_s = MAX(seconds, DTLS_CERT_MIN_LIFETIME_S);
}

gint64 dtls_cert_expires(void)
{
	return cert_expires_s;
}

int dtls_renew_if_due(gint64 now_s, char **err)
{
	char fp[DTLS_FINGERPRINT_MAX];
	SSL_CTX *c = NULL;

	if (ctx == NULL || now_s < cert_expires_s - cert_lifetime_s / DTLS_RENEW_FRACTION)
		return 0;
	if (make_context(&c, fp, err) != 0)
		return -1;
	/* Peers made with the old context keep it alive through their SSL's reference. */
	SSL_CTX_free(ctx);
	ctx = c;
	memcpy(fingerprint, fp, sizeof(fingerprint));
	cert_expires_s = g_get_real_time() / G_USEC_PER_SEC + cert_lifetime_s;
	return 1;
}

void dtls_shutdown(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
	dtls_peer_methods_free();
	fingerprint[0] = '\0';
}

const char *dtls_fingerprint(void)
{
	return fingerprint;
}
