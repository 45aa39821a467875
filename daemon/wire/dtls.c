/*
 * dtls.c - the DTLS server half of DTLS-SRTP. Owns the daemon's one
 * certificate and SSL_CTX, and per peer an SSL driven only through memory: a
 * mem BIO fed one datagram at a time, and a write BIO that hands each write to
 * the caller's send callback as one datagram. No sockets, no threads here.
 */
#define G_LOG_DOMAIN "dtls"

#include <glib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"

#define DTLS_CIPHERS                                                                               \
	"ECDHE-ECDSA-AES128-GCM-SHA256:"                                                           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:"                                                           \
	"ECDHE-ECDSA-AES256-GCM-SHA384"
#define DTLS_GROUPS "P-256:X25519"
/* Our preference: GCM first, it is the cheaper per packet with AES-NI (no HMAC-SHA1). */
#define DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define DTLS_EXPORTER      "EXTRACTOR-dtls_srtp" /* RFC 5764 4.2 */
#define DTLS_AEAD_TAG      16                    /* GCM and ChaCha20-Poly1305 */
#define DTLS_GCM_NONCE     8  /* GCM's explicit nonce in each record (RFC 5288 3) */
#define DTLS_SRTP_KEY_LEN  16 /* AES-128 master key, both profiles */

static SSL_CTX *ctx; /* the current certificate's; peers made earlier hold a reference to theirs */
static BIO_METHOD *out_method;
static char fingerprint[DTLS_FINGERPRINT_MAX];
static gint64 cert_lifetime_s = DTLS_CERT_LIFETIME_S;
static gint64 cert_expires_s; /* notAfter of the current certificate, Unix seconds */

/* RFC 8122 5: the hash names an offer may use, and the digest each means. */
static const struct {
	const char *name;
	const EVP_MD *(*md)(void);
} hashes[] = {
    {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
    {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
};

struct dtls_peer {
	SSL *ssl;  /* owns both BIOs */
	BIO *rbio; /* holds at most the datagram being fed */
	dtls_send_fn send;
	void *user;
	enum dtls_state state;
	const EVP_MD *md; /* the offer's fingerprint: algorithm and digest */
	uint8_t want[EVP_MAX_MD_SIZE];
	unsigned int want_len;
	enum dtls_srtp_profile profile;
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX];
	size_t key_len; /* 0 until connected */
	char error[160];
	const char *dropped; /* why the last datagram never reached OpenSSL, or NULL */
};

/* One BIO_write from OpenSSL's DTLS code is one datagram: a whole flight
 * chunk that its buffering BIO packed to at most the MTU. */
static int out_write(BIO *b, const char *data, int len)
{
	struct dtls_peer *p = BIO_get_data(b);

	if (len <= 0)
		return 0;
	p->send((const uint8_t *)data, (size_t)len, p->user);
	return len;
}

/* Only what OpenSSL's DTLS code asks a datagram BIO for; 0 means "unknown"
 * or "none" (no pending bytes, no per-packet overhead beyond DTLS_MTU). */
static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	default:
		return 0;
	}
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
	out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "whepcam-dtls-out");
	if (out_method == NULL || !BIO_meth_set_write(out_method, out_write) ||
	    !BIO_meth_set_ctrl(out_method, out_ctrl)) {
		*err = g_strdup("cannot create the DTLS BIO method");
		goto fail;
	}
	if (make_context(&ctx, fingerprint, err) != 0)
		goto fail;
	cert_expires_s = g_get_real_time() / G_USEC_PER_SEC + cert_lifetime_s;
	return 0;
fail:
	fingerprint[0] = '\0';
	BIO_meth_free(out_method);
	out_method = NULL;
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
	BIO_meth_free(out_method);
	out_method = NULL;
	fingerprint[0] = '\0';
}

const char *dtls_fingerprint(void)
{
	return fingerprint;
}

/* "ALG XX:XX:...": one space, exactly the algorithm's digest length. */
static int parse_fingerprint(struct dtls_peer *p, const char *text)
{
	const char *s = strchr(text, ' ');
	size_t i, n;
	int hi, lo;

	if (s == NULL)
		return -1;
	for (i = 0; i < G_N_ELEMENTS(hashes); i++)
		if (strlen(hashes[i].name) == (size_t)(s - text) &&
		    g_ascii_strncasecmp(text, hashes[i].name, (size_t)(s - text)) == 0)
			break;
	if (i == G_N_ELEMENTS(hashes))
		return -1;
	p->md = hashes[i].md();
	n = (size_t)EVP_MD_get_size(p->md);
	for (i = 0, s++; i < n; i++, s += 3) {
		hi = g_ascii_xdigit_value(s[0]);
		lo = hi < 0 ? -1 : g_ascii_xdigit_value(s[1]);
		if (lo < 0 || s[2] != (i + 1 < n ? ':' : '\0'))
			return -1;
		p->want[i] = (uint8_t)(hi << 4 | lo);
	}
	p->want_len = (unsigned int)n;
	return 0;
}

struct dtls_peer *dtls_peer_new(const char *remote_fingerprint, dtls_send_fn send, void *user)
{
	struct dtls_peer *p;
	BIO *rbio = NULL, *wbio = NULL;

	if (ctx == NULL || remote_fingerprint == NULL || send == NULL)
		return NULL;
	p = g_new0(struct dtls_peer, 1);
	p->send = send;
	p->user = user;
	if (parse_fingerprint(p, remote_fingerprint) < 0)
		goto fail;
	p->ssl = SSL_new(ctx);
	rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(out_method);
	if (p->ssl == NULL || rbio == NULL || wbio == NULL)
		goto fail;
	BIO_set_mem_eof_return(rbio, -1); /* empty means "wait", not EOF */
	BIO_set_data(wbio, p);
	BIO_set_init(wbio, 1);
	SSL_set_bio(p->ssl, rbio, wbio);
	p->rbio = rbio;
	rbio = wbio = NULL;
	SSL_set_accept_state(p->ssl);
	/* After SSL_set_bio: the minimum OpenSSL accepts depends on the BIO. */
	if (!SSL_set_mtu(p->ssl, DTLS_MTU))
		goto fail;
	return p;
fail:
	BIO_free(rbio);
	BIO_free(wbio);
	dtls_peer_free(p);
	ERR_clear_error();
	return NULL;
}

void dtls_peer_free(struct dtls_peer *p)
{
	if (p == NULL)
		return;
	SSL_free(p->ssl);
	OPENSSL_cleanse(p, sizeof(*p));
	g_free(p);
}

/* why NULL: OpenSSL's own reason (a bad record, an alert from the peer). */
static int fail(struct dtls_peer *p, const char *why)
{
	unsigned long e = ERR_peek_last_error();

	g_strlcpy(p->error, why ? why : "handshake failed", sizeof(p->error));
	if (why == NULL && e != 0)
		ERR_error_string_n(e, p->error, sizeof(p->error));
	ERR_clear_error();
	p->state = DTLS_FAILED;
	return -1;
}

/* Maps a failed SSL call to a state; WANT_READ only means "next datagram". */
static void after_error(struct dtls_peer *p, int r)
{
	switch (SSL_get_error(p->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		break;
	case SSL_ERROR_ZERO_RETURN:
		p->state = DTLS_CLOSED;
		break;
	default:
		fail(p, NULL);
		break;
	}
}

static int handshake_done(struct dtls_peer *p)
{
	X509 *cert = SSL_get0_peer_certificate(p->ssl);
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(p->ssl);
	const size_t k = DTLS_SRTP_KEY_LEN;
	uint8_t got[EVP_MAX_MD_SIZE], m[2 * DTLS_SRTP_KEY_MAX];
	unsigned int got_len = 0;
	size_t s;

	if (cert == NULL || X509_digest(cert, p->md, got, &got_len) != 1 ||
	    got_len != p->want_len || CRYPTO_memcmp(got, p->want, got_len) != 0)
		return fail(p, "peer certificate does not match the offer's a=fingerprint");
	if (sp == NULL)
		return fail(p, "no SRTP profile in common");
	/* Only the two profiles we configured can have been chosen. */
	s = sp->id == SRTP_AEAD_AES_128_GCM ? 12 : 14;
	if (SSL_export_keying_material(p->ssl, m, 2 * (k + s), DTLS_EXPORTER, strlen(DTLS_EXPORTER),
	                               NULL, 0, 0) != 1)
		return fail(p, NULL);
	/* m is client_key|server_key|client_salt|server_salt, and we are the server. */
	memcpy(p->local, m + k, k);
	memcpy(p->local + k, m + 2 * k + s, s);
	memcpy(p->remote, m, k);
	memcpy(p->remote + k, m + 2 * k, s);
	OPENSSL_cleanse(m, sizeof(m));
	p->profile = (enum dtls_srtp_profile)sp->id;
	p->key_len = k + s;
	p->state = DTLS_CONNECTED;
	return 0;
}

/* The shortest epoch-1 record the chosen cipher can produce (its nonce and tag), or 0. */
static size_t min_sealed(const struct dtls_peer *p)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(p->ssl);
	int nid;

	if (c == NULL)
		c = SSL_get_pending_cipher(p->ssl);
	if (c == NULL)
		return 0;
	nid = SSL_CIPHER_get_cipher_nid(c);
	/* One byte of content at least; GCM adds its explicit nonce, ChaCha20 has none. */
	return 1 + DTLS_AEAD_TAG +
	       (nid == NID_aes_128_gcm || nid == NID_aes_256_gcm ? DTLS_GCM_NONCE : 0);
}

/*
 * Once the handshake is over, the SSL's record buffers (a read and a write
 * buffer of ~16.7 KB each, half of a connected peer's memory) go between
 * calls (issue 17): after it a peer only reads an alert or a retransmitted
 * Finished, and writes a close_notify or our last flight once more. They
 * come back for each such call: OpenSSL 3.0 reallocates the read buffer on
 * its own but writes DTLS records into the write buffer unchecked (a NULL
 * one crashed SSL_shutdown). During the handshake they stay.
 */
static bool take_buffers(struct dtls_peer *p)
{
	return p->state == DTLS_HANDSHAKING || SSL_alloc_buffers(p->ssl) == 1;
}

static void release_buffers(struct dtls_peer *p)
{
	if (p->state != DTLS_HANDSHAKING)
		(void)SSL_free_buffers(p->ssl); /* 0 when a record is pending: never here */
}

enum dtls_state dtls_peer_feed(struct dtls_peer *p, const uint8_t *data, size_t len)
{
	static _Thread_local uint8_t sealed[DTLS_DATAGRAM_MAX];
	uint8_t sink[4096];
	int r;

	if (p->state != DTLS_HANDSHAKING && p->state != DTLS_CONNECTED)
		return p->state;
	if (len == 0 || data[0] < 20 || data[0] > 63)
		return p->state;
	/*
	 * Nothing unauthenticated may end the session (RFC 6347 4.1.2.7: invalid
	 * records are discarded): what OpenSSL would treat as fatal never reaches it.
	 */
	p->dropped = dtls_datagram_check(data, len, min_sealed(p));
	if (p->dropped != NULL)
		return p->state;
	/*
	 * Once connected, only sealed (epoch 1) records can be the peer's: a
	 * plaintext ClientHello would make OpenSSL start over and fail the session
	 * (found by fuzz_dtls). The epoch-0 records of a retransmitted final flight
	 * go too; its sealed Finished, which makes OpenSSL resend ours, stays.
	 */
	if (p->state == DTLS_CONNECTED) {
		len = dtls_sealed_records(data, len, sealed);
		data = sealed;
		if (len == 0) {
			p->dropped = "plaintext records after the handshake";
			return p->state;
		}
	}
	/* The rbio is empty between calls, so OpenSSL's one read per datagram
	 * gets exactly this one; the reset after makes sure of it. */
	if (!take_buffers(p) || BIO_write(p->rbio, data, (int)len) != (int)len) {
		fail(p, "out of memory");
		goto out;
	}
	ERR_clear_error(); /* SSL_get_error reads this thread's queue */
	if (p->state == DTLS_HANDSHAKING) {
		r = SSL_do_handshake(p->ssl);
		if (r != 1) {
			after_error(p, r);
			goto out;
		}
		if (handshake_done(p) < 0)
			goto out;
	}
	/* Without data channels application data has no reader; reading it
	 * also lets OpenSSL answer a retransmitted Finished and see alerts. */
	while ((r = SSL_read(p->ssl, sink, sizeof(sink))) > 0)
		;
	after_error(p, r);
out:
	(void)BIO_reset(p->rbio);
	release_buffers(p);
	return p->state;
}

int dtls_peer_timeout_ms(struct dtls_peer *p)
{
	struct timeval tv;

	if (p->state != DTLS_HANDSHAKING || DTLSv1_get_timeout(p->ssl, &tv) != 1)
		return -1;
	return (int)MIN(tv.tv_sec, 3600) * 1000 + (int)((tv.tv_usec + 999) / 1000);
}

enum dtls_state dtls_peer_tick(struct dtls_peer *p)
{
	if (p->state != DTLS_HANDSHAKING)
		return p->state;
	ERR_clear_error();
	/* Gives up (-1) after OpenSSL's own limit of retransmissions. */
	if (DTLSv1_handle_timeout(p->ssl) < 0)
		fail(p, "peer stopped answering the handshake");
	return p->state;
}

enum dtls_state dtls_peer_state(const struct dtls_peer *p)
{
	return p->state;
}

const char *dtls_peer_error(const struct dtls_peer *p)
{
	return p->error;
}

const char *dtls_peer_dropped(const struct dtls_peer *p)
{
	return p->dropped;
}

void dtls_peer_close(struct dtls_peer *p)
{
	if (p->state == DTLS_CONNECTED && take_buffers(p)) {
		ERR_clear_error();
		(void)SSL_shutdown(p->ssl); /* writes close_notify; no need to wait for theirs */
		ERR_clear_error();
	}
	if (p->state != DTLS_FAILED)
		p->state = DTLS_CLOSED;
	release_buffers(p);
}

int dtls_peer_srtp_keys(const struct dtls_peer *p, enum dtls_srtp_profile *profile,
                        uint8_t local[DTLS_SRTP_KEY_MAX], uint8_t remote[DTLS_SRTP_KEY_MAX],
                        size_t *len)
{
	if (p->key_len == 0)
		return -1;
	*profile = p->profile;
	memcpy(local, p->local, p->key_len);
	memcpy(remote, p->remote, p->key_len);
	*len = p->key_len;
	return 0;
}
