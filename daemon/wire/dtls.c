/*
 * dtls.c - the DTLS server half of DTLS-SRTP, per peer (the daemon's one
 * certificate and SSL_CTX are dtls_cert.c's): during the handshake an SSL driven
 * only through memory: a mem BIO fed one datagram at a time, and a write BIO
 * that hands each write to the caller's send callback as one datagram. At
 * the handshake's end the SSL goes (issue 17: ~40 KB a viewer) and
 * dtls_epoch1.c's record keys take over what is left to do. No sockets, no
 * threads here.
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
#include "dtls_priv.h"

#define DTLS_EXPORTER     "EXTRACTOR-dtls_srtp" /* RFC 5764 4.2 */
#define DTLS_AEAD_TAG     16                    /* GCM and ChaCha20-Poly1305 */
#define DTLS_GCM_NONCE    8  /* GCM's explicit nonce in each record (RFC 5288 3) */
#define DTLS_SRTP_KEY_LEN 16 /* AES-128 master key, both profiles */

static BIO_METHOD *out_method;

/* RFC 8122 5: the hash names an offer may use, and the digest each means. */
static const struct {
	const char *name;
	const EVP_MD *(*md)(void);
} hashes[] = {
    {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
    {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
};

struct dtls_peer {
	SSL *ssl;            /* owns both BIOs; NULL once the handshake has ended */
	BIO *rbio;           /* holds at most the datagram being fed */
	GByteArray *capture; /* while OpenSSL writes: each datagram, after its 2-byte length */
	GBytes *flight;      /* our last flight as sent (same form), for a client that missed it */
	struct dtls_epoch1 e1; /* once connected: the record keys that replace the SSL */
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
	const char *dropped; /* why the last datagram (or a record of it) was dropped, or NULL */
};

/* One BIO_write from OpenSSL's DTLS code is one datagram: a whole flight
 * chunk that its buffering BIO packed to at most the MTU. */
static int out_write(BIO *b, const char *data, int len)
{
	struct dtls_peer *p = BIO_get_data(b);

	if (len <= 0)
		return 0;
	if (p->capture != NULL && len <= 0xffff) {
		const uint8_t be[2] = {(uint8_t)(len >> 8), (uint8_t)len};

		g_byte_array_append(p->capture, be, 2);
		g_byte_array_append(p->capture, (const guint8 *)data, (guint)len);
	}
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

int dtls_peer_methods_init(void)
{
	if (out_method != NULL)
		return 0;
	out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "whepcam-dtls-out");
	if (out_method == NULL || !BIO_meth_set_write(out_method, out_write) ||
	    !BIO_meth_set_ctrl(out_method, out_ctrl)) {
		dtls_peer_methods_free();
		return -1;
	}
	return 0;
}

void dtls_peer_methods_free(void)
{
	BIO_meth_free(out_method);
	out_method = NULL;
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

	if (dtls_ctx() == NULL || out_method == NULL || remote_fingerprint == NULL || send == NULL)
		return NULL;
	p = g_new0(struct dtls_peer, 1);
	p->send = send;
	p->user = user;
	if (parse_fingerprint(p, remote_fingerprint) < 0)
		goto fail;
	p->ssl = SSL_new(dtls_ctx());
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
	if (p->capture != NULL)
		g_byte_array_unref(p->capture);
	if (p->flight != NULL)
		g_bytes_unref(p->flight);
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

static int handshake_done(struct dtls_peer *p, GBytes *flight)
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
	if (dtls_epoch1_init(&p->e1, p->ssl, g_bytes_get_data(flight, NULL),
	                     g_bytes_get_size(flight)) != 0)
		return fail(p, "cannot derive the DTLS record keys");
	p->flight = g_bytes_ref(flight);
	p->profile = (enum dtls_srtp_profile)sp->id;
	p->key_len = k + s;
	p->state = DTLS_CONNECTED;
	return 0;
}

/* The shortest epoch-1 record the chosen cipher can produce (its nonce and tag), or 0. */
static size_t min_sealed(const struct dtls_peer *p)
{
	const SSL_CIPHER *c;
	int nid;

	if (p->ssl == NULL)
		return p->e1.nid != 0 ? dtls_epoch1_min_sealed(&p->e1) : 0;
	c = SSL_get_current_cipher(p->ssl);
	if (c == NULL)
		c = SSL_get_pending_cipher(p->ssl);
	if (c == NULL)
		return 0;
	nid = SSL_CIPHER_get_cipher_nid(c);
	/* One byte of content at least; GCM adds its explicit nonce, ChaCha20 has none. */
	return 1 + DTLS_AEAD_TAG +
	       (nid == NID_aes_128_gcm || nid == NID_aes_256_gcm ? DTLS_GCM_NONCE : 0);
}

/* Our last flight again, as first sent: the client's Finished came again. */
static void resend_flight(struct dtls_peer *p)
{
	gsize len = 0, at = 0, n;
	const uint8_t *f = g_bytes_get_data(p->flight, &len);

	while (at + 2 <= len) {
		n = (gsize)f[at] << 8 | f[at + 1];
		if (n > len - at - 2)
			break;
		p->send(f + at + 2, n, p->user);
		at += 2 + n;
	}
}

/*
 * A datagram after the handshake (it passed dtls_datagram_check): only its
 * sealed records can be the peer's, and of those only an alert or its
 * Finished (sent again: ours was lost) need an answer. A plaintext
 * ClientHello, which OpenSSL would have started over on, is nothing here.
 */
static void feed_connected(struct dtls_peer *p, const uint8_t *data, size_t len)
{
	size_t at = 0, rec;
	bool sealed = false, resend = false;
	uint8_t alert = 0;

	while (at + 13 <= len) {
		rec = 13 + ((size_t)data[at + 11] << 8 | data[at + 12]);
		if (rec > len - at)
			break;
		if (data[at + 3] != 0 || data[at + 4] != 0) {
			sealed = true;
			switch (dtls_epoch1_open(&p->e1, data + at, rec, &alert)) {
			case DTLS_E1_FORGED:
				p->dropped = "sealed record that does not authenticate";
				break;
			case DTLS_E1_CLOSE:
				p->state = DTLS_CLOSED;
				return;
			case DTLS_E1_FATAL:
				g_snprintf(p->error, sizeof(p->error),
				           "the peer sent fatal alert %u", alert);
				p->state = DTLS_FAILED;
				return;
			case DTLS_E1_FINISHED:
				resend = true;
				break;
			case DTLS_E1_OTHER:
				break;
			}
		}
		at += rec;
	}
	if (!sealed)
		p->dropped = "plaintext records after the handshake";
	if (resend)
		resend_flight(p);
}

/* The handshake is over (or failed): the SSL and its buffers go. */
static void settle(struct dtls_peer *p)
{
	SSL_free(p->ssl);
	p->ssl = NULL;
	p->rbio = NULL;
}

enum dtls_state dtls_peer_feed(struct dtls_peer *p, const uint8_t *data, size_t len)
{
	uint8_t sink[4096];
	GBytes *flight;
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
	if (p->state == DTLS_CONNECTED) {
		feed_connected(p, data, len);
		return p->state;
	}
	/* The rbio is empty between calls, so OpenSSL's one read per datagram
	 * gets exactly this one; the reset after makes sure of it. */
	if (BIO_write(p->rbio, data, (int)len) != (int)len) {
		fail(p, "out of memory");
		goto out;
	}
	ERR_clear_error();               /* SSL_get_error reads this thread's queue */
	p->capture = g_byte_array_new(); /* the flight this datagram draws */
	r = SSL_do_handshake(p->ssl);
	flight = g_byte_array_free_to_bytes(p->capture);
	p->capture = NULL;
	if (r != 1) {
		g_bytes_unref(flight);
		after_error(p, r);
		goto out;
	}
	r = handshake_done(p, flight);
	g_bytes_unref(flight);
	if (r < 0)
		goto out;
	/* Records after the Finished in the same datagram (an alert?) are OpenSSL's still. */
	while ((r = SSL_read(p->ssl, sink, sizeof(sink))) > 0)
		;
	after_error(p, r);
out:
	if (p->state != DTLS_HANDSHAKING)
		settle(p);
	else
		(void)BIO_reset(p->rbio);
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
	uint8_t alert[DTLS_ALERT_RECORD];
	int n;

	/* close_notify (a warning); no need to wait for theirs. Connected: the SSL is gone. */
	if (p->state == DTLS_CONNECTED && (n = dtls_epoch1_seal_alert(&p->e1, 1, 0, alert)) > 0)
		p->send(alert, (size_t)n, p->user);
	if (p->state != DTLS_FAILED)
		p->state = DTLS_CLOSED;
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
