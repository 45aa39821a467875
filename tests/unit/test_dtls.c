/*
 * DTLS-SRTP server side (daemon/dtls.c) against an OpenSSL DTLS client built
 * here, the two wired together through in-memory datagram queues.
 */
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <glib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "wire/dtls.h"
#include "wire/dtls_priv.h"

#define BOTH_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define CM80_ONLY     "SRTP_AES128_CM_SHA1_80"
#define CM80_FIRST    "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"

/*
 * OpenSSL 3.0 reads its DTLS retransmission timer through gettimeofday();
 * this definition takes the C library's place in the test binary so the
 * retransmission test can move time forward instead of sleeping a second.
 * An OpenSSL that reads the clock otherwise gets the real wait instead.
 */
static gint64 clock_skew_us;

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;
	gint64 us;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000 + clock_skew_us;
	tv->tv_sec = us / G_USEC_PER_SEC;
	tv->tv_usec = us % G_USEC_PER_SEC;
	return 0;
}

/*
 * Every byte OpenSSL holds, through CRYPTO_set_mem_functions (set in main
 * before OpenSSL allocates anything): what a peer costs (issue 17).
 */
static gint64 openssl_live;

#define SIZE_HEAD 16 /* keeps malloc's alignment */

static void *counted_malloc(size_t n, const char *file, int line)
{
	uint8_t *b = malloc(n + SIZE_HEAD);

	if (b == NULL)
		return NULL;
	memcpy(b, &n, sizeof(n));
	openssl_live += (gint64)n;
	return b + SIZE_HEAD;
}

static void counted_free(void *ptr, const char *file, int line)
{
	size_t n;

	if (ptr == NULL)
		return;
	memcpy(&n, (uint8_t *)ptr - SIZE_HEAD, sizeof(n));
	openssl_live -= (gint64)n;
	free((uint8_t *)ptr - SIZE_HEAD);
}

static void *counted_realloc(void *ptr, size_t n, const char *file, int line)
{
	void *b = counted_malloc(n, file, line);
	size_t old;

	if (b == NULL || ptr == NULL)
		return b;
	memcpy(&old, (uint8_t *)ptr - SIZE_HEAD, sizeof(old));
	memcpy(b, ptr, MIN(old, n));
	counted_free(ptr, file, line);
	return b;
}

/* The client's cipher suites (OpenSSL's list syntax); NULL: OpenSSL's default. */
static const char *client_ciphers;

/* The browser's side: its own throwaway certificate, any DTLS 1.2 client. */
struct link {
	SSL_CTX *cctx;
	SSL *client;
	BIO *crbio, *cwbio;
	X509 *ccert;
	struct dtls_peer *peer;
	GPtrArray *to_client; /* GBytes our peer sent that the client has not seen */
	size_t largest;       /* longest datagram our peer sent */
	gboolean client_done;
	int client_error; /* SSL_get_error of the client's last call */
};

static int accept_any(int preverify_ok, X509_STORE_CTX *store)
{
	return 1;
}

static void on_send(const uint8_t *data, size_t len, void *user)
{
	struct link *l = user;

	g_ptr_array_add(l->to_client, g_bytes_new(data, len));
	l->largest = MAX(l->largest, len);
}

static void on_send_count(const uint8_t *data, size_t len, void *user)
{
	(*(guint *)user)++;
	g_assert_cmpuint(len, <=, DTLS_MTU);
}

static char *fingerprint_of(X509 *cert, const EVP_MD *md, const char *alg, gboolean lower)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	GString *s = g_string_new(alg);
	char *c;

	g_assert_cmpint(X509_digest(cert, md, d, &n), ==, 1);
	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%c%02X", i == 0 ? ' ' : ':', d[i]);
	for (c = strchr(s->str, ' '); lower && *c != '\0'; c++)
		*c = g_ascii_tolower(*c);
	return g_string_free(s, FALSE);
}

static X509 *client_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	g_assert_true(X509_set_version(x, X509_VERSION_3));
	g_assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 42));
	g_assert_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	g_assert_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	g_assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                         (const unsigned char *)"test-client", -1, -1, 0));
	g_assert_true(X509_set_issuer_name(x, name));
	g_assert_true(X509_set_pubkey(x, key));
	g_assert_cmpint(X509_sign(x, key, EVP_sha256()), >, 0);
	return x;
}

/* A client offering profiles, and our peer expecting remote_fp (NULL: the
 * client's real sha-256 fingerprint). */
static struct link *link_new(const char *profiles, const char *remote_fp)
{
	struct link *l = g_new0(struct link, 1);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char *fp;

	g_assert_nonnull(key);
	l->ccert = client_cert(key);
	l->cctx = SSL_CTX_new(DTLS_client_method());
	g_assert_nonnull(l->cctx);
	g_assert_true(SSL_CTX_use_certificate(l->cctx, l->ccert));
	g_assert_true(SSL_CTX_use_PrivateKey(l->cctx, key));
	g_assert_cmpint(SSL_CTX_set_tlsext_use_srtp(l->cctx, profiles), ==, 0);
	SSL_CTX_set_verify(l->cctx, SSL_VERIFY_PEER, accept_any);
	if (client_ciphers != NULL)
		g_assert_true(SSL_CTX_set_cipher_list(l->cctx, client_ciphers));
	EVP_PKEY_free(key);

	l->client = SSL_new(l->cctx);
	l->crbio = BIO_new(BIO_s_mem());
	l->cwbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(l->crbio, -1);
	SSL_set_bio(l->client, l->crbio, l->cwbio);
	SSL_set_connect_state(l->client);
	SSL_set_options(l->client, SSL_OP_NO_QUERY_MTU);
	g_assert_true(SSL_set_mtu(l->client, DTLS_MTU));

	l->to_client = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	fp = remote_fp ? g_strdup(remote_fp) : fingerprint_of(l->ccert, EVP_sha256(), "sha-256", 0);
	l->peer = dtls_peer_new(fp, on_send, l);
	g_assert_nonnull(l->peer);
	g_free(fp);
	return l;
}

static void link_free(struct link *l)
{
	dtls_peer_free(l->peer);
	SSL_free(l->client);
	SSL_CTX_free(l->cctx);
	X509_free(l->ccert);
	g_ptr_array_unref(l->to_client);
	g_free(l);
}

static void client_step(struct link *l)
{
	uint8_t buf[2048];
	int r;

	ERR_clear_error();
	if (!l->client_done) {
		r = SSL_do_handshake(l->client);
		l->client_done = r == 1;
		if (!l->client_done) {
			l->client_error = SSL_get_error(l->client, r);
			return;
		}
	}
	while ((r = SSL_read(l->client, buf, sizeof(buf))) > 0)
		;
	l->client_error = SSL_get_error(l->client, r);
}

/* Whatever the client wrote goes to our peer as one datagram: DTLS allows
 * several records in one, and the client's are whole records. */
static gboolean client_to_peer(struct link *l)
{
	char *data;
	long n = BIO_get_mem_data(l->cwbio, &data);

	if (n <= 0)
		return FALSE;
	dtls_peer_feed(l->peer, (const uint8_t *)data, (size_t)n);
	(void)BIO_reset(l->cwbio);
	return TRUE;
}

/* Our datagrams reach the client one at a time, as from a socket. */
static gboolean peer_to_client(struct link *l)
{
	guint i, n = l->to_client->len;

	for (i = 0; i < n; i++) {
		GBytes *b = g_ptr_array_index(l->to_client, i);

		g_assert_cmpint(
		    BIO_write(l->crbio, g_bytes_get_data(b, NULL), (int)g_bytes_get_size(b)), ==,
		    (int)g_bytes_get_size(b));
		client_step(l);
	}
	g_ptr_array_remove_range(l->to_client, 0, n);
	return n > 0;
}

static void pump(struct link *l)
{
	int round;

	for (round = 0; round < 32; round++) {
		gboolean moved;

		client_step(l);
		moved = client_to_peer(l);
		moved |= peer_to_client(l);
		if (!moved)
			return;
	}
	g_assert_not_reached();
}

static void check_keys(struct link *l, enum dtls_srtp_profile want, size_t salt)
{
	const size_t k = 16;
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX], m[2 * DTLS_SRTP_KEY_MAX];
	enum dtls_srtp_profile profile;
	size_t len = 0;

	g_assert_cmpint(dtls_peer_srtp_keys(l->peer, &profile, local, remote, &len), ==, 0);
	g_assert_cmpint(profile, ==, want);
	g_assert_cmpuint(len, ==, k + salt);
	g_assert_cmpuint(SSL_get_selected_srtp_profile(l->client)->id, ==, want);
	g_assert_cmpint(SSL_export_keying_material(l->client, m, 2 * (k + salt),
	                                           "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0),
	                ==, 1);
	/* client_key|server_key|client_salt|server_salt: our local half is what the
	 * client decrypts with, our remote half what it encrypts with. */
	g_assert_cmpmem(local, k, m + k, k);
	g_assert_cmpmem(local + k, salt, m + 2 * k + salt, salt);
	g_assert_cmpmem(remote, k, m, k);
	g_assert_cmpmem(remote + k, salt, m + 2 * k, salt);
}

static void check_connected(struct link *l)
{
	char *seen;

	g_assert_true(l->client_done);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CONNECTED);
	g_assert_cmpstr(dtls_peer_error(l->peer), ==, "");
	g_assert_cmpint(dtls_peer_timeout_ms(l->peer), ==, -1);
	/* What the browser checks against our a=fingerprint. */
	seen = fingerprint_of(SSL_get0_peer_certificate(l->client), EVP_sha256(), "sha-256", 0);
	g_assert_cmpstr(seen, ==, dtls_fingerprint());
	g_free(seen);
	g_assert_cmpuint(l->largest, >, 0);
	g_assert_cmpuint(l->largest, <=, DTLS_MTU);
}

static void test_handshake_gcm(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);

	pump(l);
	check_connected(l);
	check_keys(l, DTLS_SRTP_AEAD_AES_128_GCM, 12);
	link_free(l);
}

static void test_handshake_cm80(void)
{
	struct link *l = link_new(CM80_ONLY, NULL);

	pump(l);
	check_connected(l);
	check_keys(l, DTLS_SRTP_AES128_CM_SHA1_80, 14);
	link_free(l);
}

/* The profile is ours to choose: GCM even when the client lists it last. */
static void test_server_preference(void)
{
	struct link *l = link_new(CM80_FIRST, NULL);

	pump(l);
	check_connected(l);
	check_keys(l, DTLS_SRTP_AEAD_AES_128_GCM, 12);
	link_free(l);
}

/* Firefox signs with sha-256 but nothing stops an offer using another hash,
 * in either case. */
static void test_other_hash(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);
	char *fp = fingerprint_of(l->ccert, EVP_sha512(), "SHA-512", 1);

	dtls_peer_free(l->peer);
	l->peer = dtls_peer_new(fp, on_send, l);
	g_assert_nonnull(l->peer);
	pump(l);
	check_connected(l);
	g_free(fp);
	link_free(l);
}

static void test_wrong_fingerprint(void)
{
	GString *fp = g_string_new("sha-256");
	enum dtls_srtp_profile profile;
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX];
	size_t len;
	struct link *l;
	int i;

	for (i = 0; i < 32; i++)
		g_string_append(fp, i == 0 ? " 5A" : ":5A");
	l = link_new(BOTH_PROFILES, fp->str);
	pump(l);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_FAILED);
	g_assert_nonnull(strstr(dtls_peer_error(l->peer), "fingerprint"));
	g_assert_cmpint(dtls_peer_srtp_keys(l->peer, &profile, local, remote, &len), ==, -1);
	/* A failed peer stays failed whatever arrives. */
	g_assert_cmpint(dtls_peer_feed(l->peer, (const uint8_t *)"\x16\xfe\xfd", 3), ==,
	                DTLS_FAILED);
	link_free(l);
	g_string_free(fp, TRUE);
}

static void test_bad_fingerprints(void)
{
	static const char *const bad[] = {
	    "",
	    "sha-256",
	    "sha-256 ",
	    "md5 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
	    "sha-256 ZZ:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00",
	    /* 31 and 33 bytes */
	    "sha-256 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00",
	    "sha-256 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00:00",
	    "sha-256 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00:",
	    "sha-256 "
	    "0000:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00",
	    "sha-256  "
	    "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00",
	    "sha-2566 "
	    "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00",
	    "sha-1 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:0",
	};
	guint n = 0;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct dtls_peer *p = dtls_peer_new(bad[i], on_send_count, &n);

		if (p != NULL)
			g_test_message("accepted: \"%s\"", bad[i]);
		g_assert_null(p);
	}
	g_assert_null(dtls_peer_new(NULL, on_send_count, &n));
	dtls_peer_free(NULL);
}

/* Raw UDP from anywhere: a datagram may fail the handshake, never more. */
static void test_garbage(void)
{
	static const char fp[] =
	    "sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33";
	struct dtls_peer *p = NULL;
	uint8_t buf[1500];
	guint sent = 0, failed = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		size_t len = (size_t)g_test_rand_int_range(1, sizeof(buf) + 1), j;
		enum dtls_state st;

		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)g_test_rand_int_range(0, 256);
		/* Two in three get a DTLS 1.2 record header with the right length,
		 * one of those also a handshake header, to get past the first checks. */
		if (i % 3 != 0 && len >= 25) {
			buf[0] = 22;
			buf[1] = 0xfe;
			buf[2] = 0xfd;
			buf[3] = buf[4] = 0;
			buf[11] = (uint8_t)((len - 13) >> 8);
			buf[12] = (uint8_t)(len - 13);
		}
		if (i % 3 == 2 && len >= 25) {
			buf[13] = 1; /* ClientHello */
			buf[14] = buf[19] = buf[20] = buf[21] = buf[22] = 0;
			buf[15] = buf[23] = (uint8_t)((len - 25) >> 8);
			buf[16] = buf[24] = (uint8_t)(len - 25);
			buf[17] = buf[18] = 0;
		}
		if (p == NULL)
			p = dtls_peer_new(fp, on_send_count, &sent);
		st = dtls_peer_feed(p, buf, len);
		g_assert_true(st == DTLS_HANDSHAKING || st == DTLS_FAILED);
		(void)dtls_peer_timeout_ms(p);
		(void)dtls_peer_tick(p);
		if (st == DTLS_FAILED) {
			failed++;
			dtls_peer_free(p);
			p = NULL;
		}
	}
	g_test_message("%u failed, %u datagrams sent back", failed, sent);
	dtls_peer_free(p);
}

/* What OpenSSL frees when the link's peer goes: the peer's footprint. */
static gint64 peer_bytes(struct link *l)
{
	gint64 before = openssl_live;

	dtls_peer_free(l->peer);
	l->peer = NULL;
	return before - openssl_live;
}

/*
 * A connected peer holds none of OpenSSL's memory: its SSL (~40 KB, of which
 * a 21.8 KB handshake buffer and two 16.7 KB record buffers) goes at the end
 * of the handshake (issue 17: 50 KB a viewer).
 */
#define CONNECTED_PEER_MAX_BYTES 0

static void test_close_from_us(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);

	pump(l);
	check_connected(l);
	dtls_peer_close(l->peer);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CLOSED);
	g_assert_cmpuint(l->to_client->len, ==, 1);
	peer_to_client(l);
	g_assert_cmpint(l->client_error, ==, SSL_ERROR_ZERO_RETURN);
	dtls_peer_close(l->peer); /* twice is harmless and sends nothing */
	g_assert_cmpuint(l->to_client->len, ==, 0);
	g_assert_cmpint(peer_bytes(l), <=, CONNECTED_PEER_MAX_BYTES);
	link_free(l);
}

static void test_close_from_client(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);

	pump(l);
	check_connected(l);
	SSL_shutdown(l->client);
	client_to_peer(l);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CLOSED);
	link_free(l);
}

static void test_retransmit(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);
	int ms;

	g_assert_cmpint(dtls_peer_timeout_ms(l->peer), ==, -1);
	client_step(l);
	g_assert_true(client_to_peer(l));
	g_assert_cmpuint(l->to_client->len, >, 0);
	g_ptr_array_set_size(l->to_client, 0); /* our first flight is lost */
	ms = dtls_peer_timeout_ms(l->peer);
	g_assert_cmpint(ms, >, 0);
	g_assert_cmpint(ms, <=, 1000);
	g_assert_cmpint(dtls_peer_tick(l->peer), ==, DTLS_HANDSHAKING);
	g_assert_cmpuint(l->to_client->len, ==, 0); /* not due yet */

	clock_skew_us += (gint64)(ms + 1) * 1000;
	if (dtls_peer_timeout_ms(l->peer) != 0) {
		/* Not our clock: wait out the (at most one second) timer for real. */
		g_test_message("OpenSSL reads another clock: waiting %d ms", ms);
		g_usleep((gulong)(ms + 1) * 1000);
	}
	g_assert_cmpint(dtls_peer_timeout_ms(l->peer), ==, 0);
	g_assert_cmpint(dtls_peer_tick(l->peer), ==, DTLS_HANDSHAKING);
	g_assert_cmpuint(l->to_client->len, >, 0);
	/* The timer restarts, backed off to twice the first wait. */
	g_assert_cmpint(dtls_peer_timeout_ms(l->peer), >, ms);
	pump(l);
	check_connected(l);
	link_free(l);
}

static void test_footprint(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);
	gint64 n;

	pump(l);
	check_connected(l);
	n = peer_bytes(l);
	g_test_message("a connected peer holds %" G_GINT64_FORMAT " bytes of OpenSSL's", n);
	g_assert_cmpint(n, <=, CONNECTED_PEER_MAX_BYTES);
	link_free(l);
}

/*
 * Our last flight (ChangeCipherSpec, Finished) is lost: the client sends its
 * own again when its timer runs out, and the connected peer, whose buffers
 * are gone, must answer it with ours (OpenSSL writes it into a write buffer
 * that must be there again), then give them back.
 */
static void test_last_flight_lost(gconstpointer suite)
{
	struct link *l;
	int round;
	gint64 n;

	client_ciphers = suite;
	l = link_new(BOTH_PROFILES, NULL);
	client_ciphers = NULL;

	for (round = 0; round < 32 && dtls_peer_state(l->peer) != DTLS_CONNECTED; round++) {
		client_step(l);
		client_to_peer(l);
		if (dtls_peer_state(l->peer) == DTLS_CONNECTED)
			break;
		peer_to_client(l);
	}
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CONNECTED);
	g_assert_cmpuint(l->to_client->len, >, 0);
	g_ptr_array_set_size(l->to_client, 0); /* lost */
	client_step(l);
	g_assert_false(l->client_done);

	clock_skew_us += 2 * G_USEC_PER_SEC; /* past the client's first timeout (1 s) */
	if (DTLSv1_handle_timeout(l->client) == 0) {
		g_test_message("OpenSSL reads another clock: waiting for the client's timer");
		g_usleep(1100 * 1000);
		g_assert_cmpint(DTLSv1_handle_timeout(l->client), >, 0);
	}
	g_assert_true(client_to_peer(l)); /* its flight again */
	g_assert_cmpuint(l->to_client->len, >, 0); /* and ours again */
	peer_to_client(l);
	g_assert_true(l->client_done);
	check_connected(l);
	check_keys(l, DTLS_SRTP_AEAD_AES_128_GCM, 12);
	g_assert_cmpstr(SSL_get_cipher_name(l->client), ==, suite);
	/* Our close_notify comes after the Finished sent twice: the client takes it. */
	dtls_peer_close(l->peer);
	g_assert_cmpuint(l->to_client->len, ==, 1);
	peer_to_client(l);
	g_assert_cmpint(l->client_error, ==, SSL_ERROR_ZERO_RETURN);
	n = peer_bytes(l);
	g_assert_cmpint(n, <=, CONNECTED_PEER_MAX_BYTES);
	link_free(l);
}

/*
 * After the handshake the SSL is gone and dtls_epoch1.c reads and writes
 * the records: for each cipher suite we offer, what an OpenSSL client
 * seals must open (and a tampered copy must not), and what we seal the
 * client must take.
 */
static void test_records_after_handshake(gconstpointer suite)
{
	struct link *l;
	struct dtls_epoch1 theirs;
	uint8_t rec[DTLS_ALERT_RECORD];
	char *data;
	uint8_t *copy;
	long n;
	int len;

	client_ciphers = suite;
	l = link_new(BOTH_PROFILES, NULL);
	pump(l);
	check_connected(l);
	g_assert_cmpstr(SSL_get_cipher_name(l->client), ==, suite);
	/* Application data (no data channels here): read by no one, ends nothing. */
	g_assert_cmpint(SSL_write(l->client, "hello", 5), ==, 5);
	g_assert_true(client_to_peer(l));
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CONNECTED);
	g_assert_null(dtls_peer_dropped(l->peer));
	g_assert_cmpuint(l->to_client->len, ==, 0);
	/* Its close_notify, one bit off: forged, dropped. Then as sent: the end. */
	SSL_shutdown(l->client);
	n = BIO_get_mem_data(l->cwbio, &data);
	g_assert_cmpint(n, >=, 13 + 2 + 16);
	copy = g_memdup2(data, (gsize)n);
	(void)BIO_reset(l->cwbio);
	copy[n - 1] ^= 1;
	g_assert_cmpint(dtls_peer_feed(l->peer, copy, (size_t)n), ==, DTLS_CONNECTED);
	g_assert_cmpstr(dtls_peer_dropped(l->peer), ==, "sealed record that does not authenticate");
	copy[n - 1] ^= 1;
	g_assert_cmpint(dtls_peer_feed(l->peer, copy, (size_t)n), ==, DTLS_CLOSED);
	g_free(copy);
	link_free(l);

	/* Ours, to the client. */
	client_ciphers = suite;
	l = link_new(BOTH_PROFILES, NULL);
	client_ciphers = NULL;
	pump(l);
	check_connected(l);
	dtls_peer_close(l->peer);
	g_assert_cmpuint(l->to_client->len, ==, 1);
	peer_to_client(l);
	g_assert_cmpint(l->client_error, ==, SSL_ERROR_ZERO_RETURN);
	link_free(l);

	/* A fatal alert, sealed with the client's keys (the same key block on its side): failed. */
	client_ciphers = suite;
	l = link_new(BOTH_PROFILES, NULL);
	client_ciphers = NULL;
	pump(l);
	check_connected(l);
	g_assert_cmpint(dtls_epoch1_init(&theirs, l->client, NULL, 0), ==, 0);
	memcpy(theirs.server_key, theirs.client_key, sizeof(theirs.server_key));
	memcpy(theirs.server_iv, theirs.client_iv, sizeof(theirs.server_iv));
	theirs.write_seq += 5; /* past its Finished */
	len = dtls_epoch1_seal_alert(&theirs, 1, 90, rec); /* a warning (user_canceled): nothing */
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(dtls_peer_feed(l->peer, rec, (size_t)len), ==, DTLS_CONNECTED);
	len = dtls_epoch1_seal_alert(&theirs, 2, 40, rec); /* handshake_failure */
	g_assert_cmpint(dtls_peer_feed(l->peer, rec, (size_t)len), ==, DTLS_FAILED);
	g_assert_cmpstr(dtls_peer_error(l->peer), ==, "the peer sent fatal alert 40");
	g_assert_cmpuint(l->to_client->len, ==, 0);
	link_free(l);
}

static void test_before_init_and_keys(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);
	enum dtls_srtp_profile profile;
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX];
	size_t len;

	g_assert_cmpint(dtls_peer_srtp_keys(l->peer, &profile, local, remote, &len), ==, -1);
	/* Not DTLS by RFC 7983's first byte (STUN, RTP): ignored. */
	g_assert_cmpint(dtls_peer_feed(l->peer, (const uint8_t *)"\x00\x01", 2), ==,
	                DTLS_HANDSHAKING);
	g_assert_cmpint(dtls_peer_feed(l->peer, (const uint8_t *)"\x80\x60", 2), ==,
	                DTLS_HANDSHAKING);
	g_assert_cmpuint(l->to_client->len, ==, 0);
	link_free(l);
}

/* A DTLS 1.2 record header for `len` bytes of body. */
static void put_record(uint8_t *at, uint8_t type, uint16_t epoch, size_t len)
{
	at[0] = type;
	at[1] = 0xfe;
	at[2] = 0xfd;
	at[3] = (uint8_t)(epoch >> 8);
	at[4] = (uint8_t)epoch;
	memset(at + 5, 0, 6);
	at[10] = 7; /* sequence number */
	at[11] = (uint8_t)(len >> 8);
	at[12] = (uint8_t)len;
}

/*
 * What an attacker who can forge the peer's address sends; none of it may end
 * a session. Before the handshake ends, plaintext handshake records cannot be
 * told from the peer's (DTLS has nothing to check them with), so `connected`
 * false leaves epoch-0 handshake records out.
 */
static void feed_forgeries(struct dtls_peer *p, gboolean connected)
{
	static const uint8_t fatal_alert[] = {2, 40}; /* fatal handshake_failure */
	uint8_t buf[1500];
	int i;

	put_record(buf, 21, 0, sizeof(fatal_alert));
	memcpy(buf + 13, fatal_alert, sizeof(fatal_alert));
	dtls_peer_feed(p, buf, 13 + sizeof(fatal_alert));
	g_assert_cmpstr(dtls_peer_dropped(p), ==, "plaintext alert or application data");
	/* Too short for an AEAD nonce and tag: OpenSSL would fail the whole SSL on it. */
	put_record(buf, 23, 1, 2);
	buf[13] = buf[14] = 0;
	dtls_peer_feed(p, buf, 15);
	g_assert_nonnull(dtls_peer_dropped(p));
	put_record(buf, 21, 1, 2);
	dtls_peer_feed(p, buf, 15);
	g_assert_nonnull(dtls_peer_dropped(p));
	/* Well framed, random content: fails to authenticate, dropped by OpenSSL one by one. */
	for (i = 0; i < 300; i++) {
		size_t body = (size_t)g_test_rand_int_range(1, 1400), j;
		uint8_t type = (uint8_t)g_test_rand_int_range(20, 24);

		uint16_t epoch = (uint16_t)g_test_rand_int_range(connected ? 0 : 1, 3);

		put_record(buf, type, epoch, body);
		for (j = 0; j < body; j++)
			buf[13 + j] = (uint8_t)g_test_rand_int_range(0, 256);
		if (type == 22 && i % 2 == 0)
			buf[13] = 20; /* a "Finished" in the plain */
		dtls_peer_feed(p, buf, 13 + body);
	}
}

/* Issue 13 (5): forged records from the peer's own address end nothing, before or after the
 * handshake; only the peer's authenticated close_notify does. */
static void test_forged_records(void)
{
	struct link *l = link_new(BOTH_PROFILES, NULL);

	client_step(l);
	g_assert_true(client_to_peer(l)); /* ClientHello in */
	feed_forgeries(l->peer, FALSE);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_HANDSHAKING);
	pump(l);
	check_connected(l);
	feed_forgeries(l->peer, TRUE);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CONNECTED);
	/* A plaintext ClientHello (a real one, from another client) would make OpenSSL start
	 * over and fail the session (fuzz_dtls found it): dropped after the handshake. */
	{
		struct link *other = link_new(BOTH_PROFILES, NULL);
		char *hello;
		long n;

		client_step(other);
		n = BIO_get_mem_data(other->cwbio, &hello);
		g_assert_cmpint(n, >, 13);
		g_assert_cmpint(hello[0], ==, 22);
		dtls_peer_feed(l->peer, (const uint8_t *)hello, (size_t)n);
		g_assert_cmpstr(dtls_peer_dropped(l->peer), ==,
		                "plaintext records after the handshake");
		g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CONNECTED);
		link_free(other);
	}
	g_assert_cmpuint(l->to_client->len, ==, 0); /* and drew no reply */
	SSL_shutdown(l->client);
	client_to_peer(l);
	g_assert_cmpint(dtls_peer_state(l->peer), ==, DTLS_CLOSED);
	link_free(l);
}

static void test_datagram_check(void)
{
	uint8_t buf[64];

	put_record(buf, 22, 0, 10);
	g_assert_null(dtls_datagram_check(buf, 23, 0));
	g_assert_nonnull(dtls_datagram_check(buf, 22, 0)); /* record longer than the datagram */
	g_assert_nonnull(dtls_datagram_check(buf, 24, 0)); /* a byte left over */
	put_record(buf + 23, 20, 0, 1);
	g_assert_null(dtls_datagram_check(buf, 37, 0)); /* two records */
	put_record(buf, 22, 2, 10);
	g_assert_nonnull(dtls_datagram_check(buf, 23, 25)); /* epoch 2 */
	put_record(buf, 23, 1, 24);
	g_assert_null(dtls_datagram_check(buf, 37, 24));
	g_assert_nonnull(dtls_datagram_check(buf, 37, 25));
	g_assert_nonnull(dtls_datagram_check(buf, 37, 0)); /* no cipher yet */
	put_record(buf, 24, 0, 10);                        /* heartbeat */
	g_assert_nonnull(dtls_datagram_check(buf, 23, 0));
	put_record(buf, 22, 0, 10);
	buf[2] = 0xfc; /* DTLS 1.3's would be 0xfc: not ours */
	g_assert_nonnull(dtls_datagram_check(buf, 23, 0));
	put_record(buf, 22, 0, 0);
	g_assert_nonnull(dtls_datagram_check(buf, 13, 0));
}

static X509 *served_cert(struct link *l)
{
	return SSL_get0_peer_certificate(l->client);
}

/* Seconds from now to the certificate's notAfter. */
static int seconds_left(X509 *cert)
{
	int days = 0, secs = 0;

	g_assert_true(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)));
	return days * 86400 + secs;
}

/* Issue 13 (9): a daemon that runs past its certificate's lifetime serves a new one; peers
 * made before keep the one their answer advertised. */
static void test_renewal(void)
{
	char *before = g_strdup(dtls_fingerprint()), *seen;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	struct link *old = link_new(BOTH_PROFILES, NULL), *fresh;
	char *err = NULL;
	int left;

	g_assert_cmpint(dtls_renew_if_due(now, &err), ==, 0);
	g_assert_cmpstr(dtls_fingerprint(), ==, before);
	dtls_set_cert_lifetime(DTLS_CERT_MIN_LIFETIME_S);
	g_assert_cmpint(dtls_renew_if_due(dtls_cert_expires(), &err), ==, 1);
	g_assert_null(err);
	g_assert_cmpstr(dtls_fingerprint(), !=, before);
	g_assert_cmpint(dtls_cert_expires() - now, <=, DTLS_CERT_MIN_LIFETIME_S + 2);

	pump(old); /* answered before the renewal: the old certificate */
	seen = fingerprint_of(served_cert(old), EVP_sha256(), "sha-256", 0);
	g_assert_cmpstr(seen, ==, before);
	g_free(seen);
	g_assert_cmpint(seconds_left(served_cert(old)), >, 300 * 86400);

	fresh = link_new(BOTH_PROFILES, NULL);
	pump(fresh);
	check_connected(fresh); /* the new fingerprint */
	left = seconds_left(served_cert(fresh));
	g_assert_cmpint(left, <=, DTLS_CERT_MIN_LIFETIME_S);
	g_assert_cmpint(left, >=, DTLS_CERT_MIN_LIFETIME_S - 3);
	/* Due again once a quarter of the short lifetime is left, not before. */
	g_assert_cmpint(dtls_renew_if_due(now, &err), ==, 0);
	g_assert_cmpint(dtls_renew_if_due(dtls_cert_expires() - 1, &err), ==, 1);
	link_free(old);
	link_free(fresh);
	g_free(before);
	dtls_set_cert_lifetime(DTLS_CERT_LIFETIME_S);
}

int main(int argc, char **argv)
{
	/* Every cipher suite dtls.c offers, by OpenSSL's name. */
	static const char *const suites[] = {"ECDHE-ECDSA-AES128-GCM-SHA256",
	                                     "ECDHE-ECDSA-CHACHA20-POLY1305",
	                                     "ECDHE-ECDSA-AES256-GCM-SHA384"};
	char *err = NULL;
	guint i;
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free), ==,
	                1);
	if (dtls_init(&err) < 0)
		g_printerr("dtls_init: %s\n", err);
	g_assert_null(err);
	g_assert_cmpint(dtls_init(&err), ==, 0); /* once only; a second call is a no-op */
	g_assert_true(g_str_has_prefix(dtls_fingerprint(), "sha-256 "));
	g_assert_cmpuint(strlen(dtls_fingerprint()), ==, strlen("sha-256 ") + 32 * 3 - 1);
	g_test_add_func("/dtls/handshake-gcm", test_handshake_gcm);
	g_test_add_func("/dtls/handshake-cm80", test_handshake_cm80);
	g_test_add_func("/dtls/server-preference", test_server_preference);
	g_test_add_func("/dtls/other-hash", test_other_hash);
	g_test_add_func("/dtls/wrong-fingerprint", test_wrong_fingerprint);
	g_test_add_func("/dtls/bad-fingerprints", test_bad_fingerprints);
	g_test_add_func("/dtls/garbage", test_garbage);
	g_test_add_func("/dtls/close-from-us", test_close_from_us);
	g_test_add_func("/dtls/close-from-client", test_close_from_client);
	g_test_add_func("/dtls/retransmit", test_retransmit);
	g_test_add_func("/dtls/footprint", test_footprint);
	for (i = 0; i < G_N_ELEMENTS(suites); i++) {
		char *path = g_strdup_printf("/dtls/last-flight-lost/%s", suites[i]);

		g_test_add_data_func(path, suites[i], test_last_flight_lost);
		g_free(path);
		path = g_strdup_printf("/dtls/records-after-handshake/%s", suites[i]);
		g_test_add_data_func(path, suites[i], test_records_after_handshake);
		g_free(path);
	}
	g_test_add_func("/dtls/not-dtls-and-early-keys", test_before_init_and_keys);
	g_test_add_func("/dtls/datagram-check", test_datagram_check);
	g_test_add_func("/dtls/forged-records", test_forged_records);
	g_test_add_func("/dtls/renewal", test_renewal);
	rc = g_test_run();
	dtls_shutdown();
	dtls_shutdown();
	return rc;
}
