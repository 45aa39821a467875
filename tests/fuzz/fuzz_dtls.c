/*
 * libFuzzer: the DTLS server half (daemon/wire/dtls.c) as the media port sees
 * it: forged, corrupted and replayed datagrams before, during and after a real
 * handshake with an in-memory OpenSSL client (wired as in tests/unit/test_dtls.c),
 * and the record pre-filter dtls_datagram_check() on the raw input.
 *
 * Input: one setup byte, then operations: one byte (op_kind), a two-byte
 * big-endian length and that many bytes (cut short at the end of the input).
 * Besides the sanitizers the oracle is: nothing unauthenticated (forged,
 * corrupted, replayed) ends a connected session (issue 13, item 5), ended
 * states stay ended, a failed peer says why, everything we send fits DTLS_MTU,
 * and both sides derive the same SRTP keys.
 *
 * FUZZ_DTLS_SEEDS=<dir> writes the seed corpus (tests/fuzz/corpus/dtls) and exits;
 * FUZZ_DTLS_TRACE=1 logs each operation and the state after it (to read a crash).
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "wire/dtls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum op_kind {
	OP_FEED,         /* a forged datagram from the viewer's address */
	OP_STEP,         /* one round trip of the real client */
	OP_CORRUPT,      /* the same, its datagram XORed with the data at a 16-bit offset */
	OP_APPDATA,      /* the client sends the data, sealed (authentic) */
	OP_CLIENT_CLOSE, /* the client sends close_notify (authentic) */
	OP_PEER_CLOSE,   /* dtls_peer_close: we end it */
	OP_TICK,         /* time moves on by (1 + data[0]) * 100 ms, then dtls_peer_tick */
	OP_REPLAY,       /* a datagram the client sent earlier, again (number data[0]) */
	OP_COUNT
};

#define SETUP_CM80_ONLY  0x01 /* the client offers only SRTP_AES128_CM_SHA1_80 */
#define SETUP_WRONG_FP   0x02 /* the offer's fingerprint is not the client's */
#define SETUP_SHA1_LOWER 0x04 /* the offer's fingerprint is sha-1, lower case */
#define MAX_QUEUED       64   /* datagrams kept per direction: a flood of retransmits is cut */
#define MAX_OPS          64   /* operations per input, so no input runs for long */
#define MAX_APPDATA      1024

/*
 * OpenSSL 3.0 reads its DTLS timer through gettimeofday(): OP_TICK moves this
 * clock on instead of sleeping (as tests/unit/test_dtls.c does).
 */
static gint64 clock_skew_us;
static bool trace; /* FUZZ_DTLS_TRACE=1: each operation and the state after it, on stderr */

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

/* Made once: the browser's throwaway certificate and its two kinds of client. */
static struct {
	SSL_CTX *cctx[2]; /* [0] both profiles, [1] CM80 only */
	X509 *cert;
	char *fp_sha256, *fp_sha1_lower;
} G;

/* One input's world. */
struct world {
	SSL *client;
	BIO *crbio, *cwbio;
	bool client_done;
	struct dtls_peer *peer;
	GPtrArray *to_client;   /* GBytes our peer sent, not yet read by the client */
	GPtrArray *from_client; /* GBytes the client sent that reached the peer intact */
	bool keys_checked;
	GPtrArray *capture; /* seed writing only: every datagram the client sent, or NULL */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_dtls: %s\n", what);
	abort();
}

static int accept_any(int preverify_ok, X509_STORE_CTX *store)
{
	return 1;
}

static char *fingerprint_of(X509 *cert, const EVP_MD *md, const char *alg, bool lower)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	GString *s = g_string_new(alg);

	if (X509_digest(cert, md, d, &n) != 1)
		die("X509_digest");
	for (i = 0; i < n; i++)
		g_string_append_printf(s, lower ? "%c%02x" : "%c%02X", i == 0 ? ' ' : ':', d[i]);
	return g_string_free(s, FALSE);
}

static void make_client_side(void)
{
	static const char *const profiles[2] = {"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
	                                        "SRTP_AES128_CM_SHA1_80"};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_NAME *name;
	int i;

	G.cert = X509_new();
	if (key == NULL || G.cert == NULL)
		die("client key");
	name = X509_get_subject_name(G.cert);
	if (!X509_set_version(G.cert, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(G.cert), 42) ||
	    !X509_gmtime_adj(X509_getm_notBefore(G.cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(G.cert), 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1,
	                                -1, 0) ||
	    !X509_set_issuer_name(G.cert, name) || !X509_set_pubkey(G.cert, key) ||
	    X509_sign(G.cert, key, EVP_sha256()) <= 0)
		die("client certificate");
	for (i = 0; i < 2; i++) {
		G.cctx[i] = SSL_CTX_new(DTLS_client_method());
		if (G.cctx[i] == NULL || !SSL_CTX_use_certificate(G.cctx[i], G.cert) ||
		    !SSL_CTX_use_PrivateKey(G.cctx[i], key) ||
		    SSL_CTX_set_tlsext_use_srtp(G.cctx[i], profiles[i]) != 0)
			die("client context");
		SSL_CTX_set_verify(G.cctx[i], SSL_VERIFY_PEER, accept_any);
	}
	EVP_PKEY_free(key);
	G.fp_sha256 = fingerprint_of(G.cert, EVP_sha256(), "sha-256", false);
	G.fp_sha1_lower = fingerprint_of(G.cert, EVP_sha1(), "sha-1", true);
}

static void on_send(const uint8_t *data, size_t len, void *user)
{
	struct world *w = user;

	if (len == 0 || len > DTLS_MTU)
		die("our peer sent an empty datagram or one past DTLS_MTU");
	if (w->to_client->len < MAX_QUEUED)
		g_ptr_array_add(w->to_client, g_bytes_new(data, len));
}

static void world_init(struct world *w, uint8_t setup)
{
	const char *fp = G.fp_sha256;

	memset(w, 0, sizeof(*w));
	clock_skew_us = 0; /* each input's clock starts from now */
	if (setup & SETUP_SHA1_LOWER)
		fp = G.fp_sha1_lower;
	if (setup & SETUP_WRONG_FP)
		fp = "sha-256 5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:"
		     "5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A";
	w->client = SSL_new(G.cctx[setup & SETUP_CM80_ONLY ? 1 : 0]);
	w->crbio = BIO_new(BIO_s_mem());
	w->cwbio = BIO_new(BIO_s_mem());
	if (w->client == NULL || w->crbio == NULL || w->cwbio == NULL)
		die("client");
	BIO_set_mem_eof_return(w->crbio, -1);
	SSL_set_bio(w->client, w->crbio, w->cwbio);
	SSL_set_connect_state(w->client);
	SSL_set_options(w->client, SSL_OP_NO_QUERY_MTU);
	if (!SSL_set_mtu(w->client, DTLS_MTU))
		die("client MTU");
	w->to_client = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	w->from_client = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	w->peer = dtls_peer_new(fp, on_send, w);
	if (w->peer == NULL)
		die("dtls_peer_new refused a good fingerprint");
}

static void world_clear(struct world *w)
{
	dtls_peer_free(w->peer);
	SSL_free(w->client);
	g_ptr_array_unref(w->to_client);
	g_ptr_array_unref(w->from_client);
	ERR_clear_error();
}

static void client_step(struct world *w)
{
	uint8_t buf[2048];
	int r;

	ERR_clear_error();
	if (!w->client_done) {
		r = SSL_do_handshake(w->client);
		w->client_done = r == 1;
		if (!w->client_done)
			return;
	}
	while (SSL_read(w->client, buf, sizeof(buf)) > 0)
		;
}

/* What the client wrote since the last call, as one datagram (caller frees), or NULL. */
static GBytes *client_output(struct world *w)
{
	char *data;
	long n = BIO_get_mem_data(w->cwbio, &data);
	GBytes *b = n > 0 ? g_bytes_new(data, (size_t)n) : NULL;

	(void)BIO_reset(w->cwbio);
	if (b != NULL && w->capture != NULL)
		g_ptr_array_add(w->capture, g_bytes_ref(b));
	return b;
}

static void feed(struct world *w, const uint8_t *data, size_t len)
{
	(void)dtls_peer_feed(w->peer, data, len);
}

/* The client's datagram reaches our peer intact; kept for OP_REPLAY. */
static void deliver_intact(struct world *w, GBytes *b)
{
	feed(w, g_bytes_get_data(b, NULL), g_bytes_get_size(b));
	if (w->from_client->len < MAX_QUEUED)
		g_ptr_array_add(w->from_client, g_bytes_ref(b));
}

/* Our datagrams reach the client one at a time, as from a socket. */
static void deliver_to_client(struct world *w)
{
	guint i, n = w->to_client->len;

	for (i = 0; i < n; i++) {
		GBytes *b = g_ptr_array_index(w->to_client, i);

		(void)BIO_write(w->crbio, g_bytes_get_data(b, NULL), (int)g_bytes_get_size(b));
		client_step(w);
	}
	g_ptr_array_remove_range(w->to_client, 0, n);
}

/* OP_STEP and OP_CORRUPT; returns whether a datagram went out changed. */
static bool round_trip(struct world *w, const uint8_t *x, size_t xlen)
{
	GBytes *b;
	bool changed = false;

	client_step(w);
	b = client_output(w);
	if (b != NULL && xlen > 2) {
		size_t n = g_bytes_get_size(b), at = ((size_t)x[0] << 8 | x[1]) % n, i;
		uint8_t *d = g_memdup2(g_bytes_get_data(b, NULL), n);

		for (i = 2; i < xlen; i++) {
			d[(at + i - 2) % n] ^= x[i];
			changed |= x[i] != 0;
		}
		if (changed) {
			feed(w, d, n);
			g_free(d);
			g_bytes_unref(b);
			b = NULL;
		} else {
			g_free(d);
		}
	}
	if (b != NULL) {
		deliver_intact(w, b);
		g_bytes_unref(b);
	}
	deliver_to_client(w);
	return changed;
}

/* Both sides done: the keys our peer exports are the client's (RFC 5764 4.2). */
static void check_keys(struct world *w)
{
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(w->client);
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX], m[2 * DTLS_SRTP_KEY_MAX];
	enum dtls_srtp_profile profile;
	size_t len = 0, k = 16, s;

	if (dtls_peer_srtp_keys(w->peer, &profile, local, remote, &len) != 0)
		die("connected without keys");
	if (!w->client_done || w->keys_checked || sp == NULL)
		return;
	w->keys_checked = true;
	if ((unsigned long)profile != sp->id)
		die("the two sides chose different SRTP profiles");
	s = len - k;
	if (SSL_export_keying_material(w->client, m, 2 * len, "EXTRACTOR-dtls_srtp", 19, NULL, 0,
	                               0) != 1)
		die("client export");
	if (memcmp(local, m + k, k) != 0 || memcmp(local + k, m + 2 * k + s, s) != 0 ||
	    memcmp(remote, m, k) != 0 || memcmp(remote + k, m + 2 * k, s) != 0)
		die("the SRTP keys differ from the client's");
}

static void check_state(struct world *w, enum dtls_state before, bool authentic)
{
	enum dtls_state now = dtls_peer_state(w->peer);
	const char *err = dtls_peer_error(w->peer);

	if ((before == DTLS_FAILED || before == DTLS_CLOSED) && now != before)
		die("an ended peer came back");
	if (before == DTLS_CONNECTED && now != DTLS_CONNECTED && !authentic) {
		fprintf(stderr, "fuzz_dtls: state %d, error \"%s\"\n", now, err);
		die("an unauthenticated datagram ended a connected session");
	}
	if ((now == DTLS_FAILED) != (err[0] != '\0'))
		die("a failed peer must say why, and only a failed one");
	if (now == DTLS_CONNECTED)
		check_keys(w);
	if (now != DTLS_HANDSHAKING && dtls_peer_timeout_ms(w->peer) != -1)
		die("a timer runs outside the handshake");
}

static void run_op(struct world *w, enum op_kind op, const uint8_t *x, size_t xlen)
{
	enum dtls_state before = dtls_peer_state(w->peer);
	bool authentic = false;
	GBytes *b;

	switch (op) {
	case OP_FEED:
		feed(w, x, xlen);
		break;
	case OP_STEP:
		round_trip(w, NULL, 0);
		authentic = true;
		break;
	case OP_CORRUPT:
		authentic = !round_trip(w, x, xlen);
		break;
	case OP_APPDATA:
		if (w->client_done && xlen > 0)
			(void)SSL_write(w->client, x, (int)MIN(xlen, MAX_APPDATA));
		/* fall through: sent as it is */
	case OP_CLIENT_CLOSE:
		if (op == OP_CLIENT_CLOSE)
			(void)SSL_shutdown(w->client);
		b = client_output(w);
		if (b != NULL) {
			deliver_intact(w, b);
			g_bytes_unref(b);
		}
		deliver_to_client(w);
		authentic = true;
		break;
	case OP_PEER_CLOSE:
		dtls_peer_close(w->peer);
		authentic = true;
		break;
	case OP_TICK:
		clock_skew_us += (1 + (xlen > 0 ? x[0] : 0)) * 100000;
		(void)dtls_peer_timeout_ms(w->peer);
		(void)dtls_peer_tick(w->peer);
		break;
	case OP_REPLAY:
		if (w->from_client->len > 0) {
			b = g_ptr_array_index(w->from_client,
			                      (xlen > 0 ? x[0] : 0) % w->from_client->len);
			feed(w, g_bytes_get_data(b, NULL), g_bytes_get_size(b));
		}
		break;
	default:
		break;
	}
	ERR_clear_error();
	if (trace)
		fprintf(stderr, "fuzz_dtls: op %d (%zu bytes): state %d -> %d%s%s\n", op, xlen,
		        before, dtls_peer_state(w->peer),
		        dtls_peer_dropped(w->peer) ? ", dropped: " : "",
		        dtls_peer_dropped(w->peer) ? dtls_peer_dropped(w->peer) : "");
	check_state(w, before, authentic);
}

/* The pre-filter alone: a longer minimum can only drop more. */
static void check_filter(const uint8_t *data, size_t size)
{
	const char *none = dtls_datagram_check(data, size, 0);
	const char *gcm = dtls_datagram_check(data, size, 25);
	const char *chacha = dtls_datagram_check(data, size, 17);

	if ((none == NULL && (gcm != NULL || chacha != NULL)) || (gcm == NULL && chacha != NULL))
		die("dtls_datagram_check: a longer min_sealed accepted what a shorter dropped");
	if ((none == NULL || chacha == NULL) && (size == 0 || data[0] < 20 || data[0] > 23))
		die("dtls_datagram_check accepted what is not a DTLS record");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world w;
	size_t at = 1;
	int ops = 0;

	check_filter(data, size);
	if (size == 0)
		return 0;
	world_init(&w, data[0]);
	while (at < size && ops++ < MAX_OPS) {
		enum op_kind op = (enum op_kind)(data[at++] % OP_COUNT);
		size_t len = 0;

		if (size - at >= 2)
			len = (size_t)data[at] << 8 | data[at + 1];
		at += MIN((size_t)2, size - at);
		len = MIN(len, size - at);
		run_op(&w, op, data + at, len);
		at += len;
	}
	world_clear(&w);
	return 0;
}

/* ---- FUZZ_DTLS_SEEDS=<dir>: the checked-in corpus, from a real handshake ---- */

static void put_op(GByteArray *a, enum op_kind op, const void *x, size_t len)
{
	uint8_t h[3] = {(uint8_t)op, (uint8_t)(len >> 8), (uint8_t)len};

	g_byte_array_append(a, h, 3);
	if (len > 0)
		g_byte_array_append(a, x, (guint)len);
}

static void put_bytes_op(GByteArray *a, enum op_kind op, GBytes *b)
{
	put_op(a, op, g_bytes_get_data(b, NULL), g_bytes_get_size(b));
}

static void write_seed(const char *dir, const char *name, GByteArray *a)
{
	char *path = g_build_filename(dir, name, NULL);

	if (!g_file_set_contents(path, (const char *)a->data, a->len, NULL))
		die("cannot write a seed");
	g_free(path);
	g_byte_array_unref(a);
}

static GByteArray *seed_new(uint8_t setup, int steps)
{
	GByteArray *a = g_byte_array_new();
	int i;

	g_byte_array_append(a, &setup, 1);
	for (i = 0; i < steps; i++)
		put_op(a, OP_STEP, NULL, 0);
	return a;
}

static void write_seeds(const char *dir)
{
	/* A plaintext fatal alert (handshake_failure) and a 15-byte epoch-1 record: issue 13,
	 * item 5. */
	static const uint8_t alert0[] = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40};
	static const uint8_t short1[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 2, 1, 2};
	static const uint8_t skew[] = {20, 0, 3, 0xff};
	struct world w;
	GByteArray *a;
	guint i;

	/* A real handshake, application data and close_notify: what a viewer sends. */
	world_init(&w, 0);
	w.capture = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	for (i = 0; i < 4; i++)
		run_op(&w, OP_STEP, NULL, 0);
	if (dtls_peer_state(w.peer) != DTLS_CONNECTED)
		die("seed handshake did not connect");
	run_op(&w, OP_APPDATA, (const uint8_t *)"hello", 5);
	run_op(&w, OP_CLIENT_CLOSE, NULL, 0);
	for (i = 0; i < w.capture->len; i++) {
		char name[32];

		/* Each datagram alone: the pre-filter's seeds, fed forged to a fresh peer. */
		a = seed_new(0, 0);
		put_bytes_op(a, OP_FEED, g_ptr_array_index(w.capture, i));
		g_snprintf(name, sizeof(name), "client-datagram-%u", i);
		write_seed(dir, name, a);
	}
	a = seed_new(0, 4);
	put_op(a, OP_APPDATA, "hello", 5);
	put_op(a, OP_REPLAY, "\x01", 1);
	put_op(a, OP_REPLAY, "\x02", 1);
	put_op(a, OP_CLIENT_CLOSE, NULL, 0);
	put_op(a, OP_STEP, NULL, 0);
	write_seed(dir, "handshake-data-close", a);
	/* Last session's records are forged in this one: wrong keys, stale epochs. */
	a = seed_new(0, 4);
	for (i = 0; i < w.capture->len; i++)
		put_bytes_op(a, OP_FEED, g_ptr_array_index(w.capture, i));
	put_op(a, OP_FEED, alert0, sizeof(alert0));
	put_op(a, OP_FEED, short1, sizeof(short1));
	put_op(a, OP_APPDATA, "still here", 10);
	write_seed(dir, "forged-after-handshake", a);
	a = seed_new(0, 1);
	put_op(a, OP_FEED, alert0, sizeof(alert0));
	put_bytes_op(a, OP_FEED, g_ptr_array_index(w.capture, 0));
	put_op(a, OP_STEP, NULL, 0);
	put_op(a, OP_STEP, NULL, 0);
	write_seed(dir, "forged-during-handshake", a);
	a = seed_new(0, 1);
	put_op(a, OP_CORRUPT, skew, sizeof(skew));
	put_op(a, OP_STEP, NULL, 0);
	put_op(a, OP_TICK, "\x14", 1);
	put_op(a, OP_STEP, NULL, 0);
	put_op(a, OP_STEP, NULL, 0);
	write_seed(dir, "corrupt-then-retransmit", a);
	a = seed_new(SETUP_CM80_ONLY | SETUP_SHA1_LOWER, 4);
	put_op(a, OP_PEER_CLOSE, NULL, 0);
	put_op(a, OP_STEP, NULL, 0);
	write_seed(dir, "cm80-sha1-we-close", a);
	write_seed(dir, "wrong-fingerprint", seed_new(SETUP_WRONG_FP, 4));
	a = seed_new(0, 0);
	put_op(a, OP_TICK, "\x0a", 1);
	put_op(a, OP_STEP, NULL, 0);
	put_op(a, OP_TICK, "\x0a", 1);
	put_op(a, OP_TICK, "\xff", 1);
	write_seed(dir, "timeouts", a);
	g_ptr_array_unref(w.capture);
	world_clear(&w);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("FUZZ_DTLS_SEEDS");
	char *err = NULL;

	if (dtls_init(&err) != 0)
		die(err);
	make_client_side();
	trace = getenv("FUZZ_DTLS_TRACE") != NULL;
	if (seeds != NULL) {
		g_mkdir_with_parents(seeds, 0755);
		write_seeds(seeds);
		exit(0);
	}
	return 0;
}
