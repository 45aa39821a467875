/*
 * Our SRTP sender (daemon/wire/srtp_seal.c) against the RFCs' vectors and,
 * packet for packet, against libsrtp2 set up as the daemon sets it up
 * (wire/srtp_session.c): same bytes, same length, same refusals, over
 * thousands of packets across sequence wraps, with resends of older
 * sequence numbers and a second SSRC interleaved.
 */
#include <glib.h>
#include <string.h>

#include "wire/srtp_seal.h"
#include "wire/srtp_session.h"

#define BUF 1600 /* a packet, its CSRCs and extension, and the tag */

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; *hex != '\0'; hex++) {
		if (*hex == ' ')
			continue;
		g_assert_true(g_ascii_isxdigit(hex[0]) && g_ascii_isxdigit(hex[1]));
		g_assert_cmpuint(n, <, max);
		out[n++] =
		    (uint8_t)(g_ascii_xdigit_value(hex[0]) << 4 | g_ascii_xdigit_value(hex[1]));
		hex++;
	}
	return n;
}

/* RFC 3711 Appendix B.3: the session keys of one master key and salt. */
static void test_kdf_rfc3711(void)
{
	uint8_t master[30], want[20];
	struct srtp_seal_keys k;

	unhex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6", master,
	      sizeof(master));
	g_assert_cmpint(srtp_seal_derive(DTLS_SRTP_AES128_CM_SHA1_80, master, 30, &k), ==, 0);
	g_assert_cmpmem(k.enc, 16, want, unhex("C61E7A93744F39EE10734AFE3FF7A087", want, 20));
	g_assert_cmpmem(k.salt, 14, want, unhex("30CBBC08863D8C85D49DB34A9AE1", want, 20));
	g_assert_cmpmem(k.auth, 20, want,
	                unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", want, 20));
	/* A key of the other profile's length is refused, not misread. */
	g_assert_cmpint(srtp_seal_derive(DTLS_SRTP_AEAD_AES_128_GCM, master, 30, &k), ==, -1);
	g_assert_null(srtp_seal_new(DTLS_SRTP_AES128_CM_SHA1_80, master, 28));
	g_assert_null(srtp_seal_new((enum dtls_srtp_profile)2, master, 30));
}

static void seal_expect(struct srtp_seal *s, const char *plain, const char *sealed)
{
	uint32_t buf[BUF / 4];
	uint8_t want[BUF], *p = (uint8_t *)buf;
	int len = (int)unhex(plain, p, BUF - SRTP_SEAL_MAX_TRAILER);
	size_t n = unhex(sealed, want, sizeof(want));

	g_assert_cmpint(srtp_seal(s, p, &len), ==, 0);
	g_assert_cmpmem(p, len, want, n);
}

/* RFC 7714 §16.1.1 gives session keys; libsrtp2's own srtp_validate*() master keys. */
static void test_vectors(void)
{
	struct srtp_seal_keys k = {0};
	struct srtp_seal *s;
	uint8_t master[30];

	unhex("000102030405060708090a0b0c0d0e0f", k.enc, 16);
	unhex("517569642070726f2071756f", k.salt, 12);
	s = srtp_seal_new_keys(DTLS_SRTP_AEAD_AES_128_GCM, &k);
	g_assert_cmpint(srtp_seal_trailer(s), ==, 16);
	seal_expect(
	    s,
	    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976"
	    " 69736120 696e2070 61727465 73207472 6573",
	    "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5"
	    " 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce");
	srtp_seal_free(s);

	unhex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6", master, 30);
	s = srtp_seal_new(DTLS_SRTP_AES128_CM_SHA1_80, master, 30);
	g_assert_cmpint(srtp_seal_trailer(s), ==, 10);
	seal_expect(s, "800f1234 decafbad cafebabe abababab abababab abababab abababab",
	            "800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc"
	            " 99ea179b 8dbb");
	srtp_seal_free(s);

	unhex("000102030405060708090a0b0c0d0e0f a0a1a2a3a4a5a6a7a8a9aaab", master, 28);
	s = srtp_seal_new(DTLS_SRTP_AEAD_AES_128_GCM, master, 28);
	seal_expect(s, "800f1234 decafbad cafebabe abababab abababab abababab abababab",
	            "800f1234 decafbad cafebabe c5002ede 04cfdd2e b91159e0 880aa06e d2976826"
	            " f796b201 df3131a1 27e8a392");
	srtp_seal_free(s);
}

/* Ours and libsrtp2's, keyed alike. */
struct pair {
	struct srtp_seal *ours;
	srtp_t ref;
	guint sealed, refused;
};

static void pair_init(struct pair *p, enum dtls_srtp_profile profile, GRand *r)
{
	uint8_t key[30];
	size_t len = profile == DTLS_SRTP_AEAD_AES_128_GCM ? 28 : 30, i;

	for (i = 0; i < len; i++)
		key[i] = (uint8_t)g_rand_int(r);
	memset(p, 0, sizeof(*p));
	p->ours = srtp_seal_new(profile, key, len);
	g_assert_nonnull(p->ours);
	g_assert_cmpint(srtp_session_new(&p->ref, profile, key, len, true), ==, 0);
}

static void pair_clear(struct pair *p)
{
	srtp_seal_free(p->ours);
	srtp_dealloc(p->ref);
}

/*
 * An RTP packet of `ssrc` and `seq` whose contents depend on them alone (a
 * resend is the same packet): some with CSRCs, some with a one-byte-header
 * extension, payloads from empty to 1188 bytes. Returns its length.
 */
static int make_packet(uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	static const int sizes[] = {1188, 1188, 1188, 0, 1, 15, 16, 17, 31, 160, 1187, 1100};
	int cc = seq % 7 == 0 ? 2 : 0, ext = seq % 5 == 0 ? 2 : 0;
	int n = 12, i, payload = sizes[seq % G_N_ELEMENTS(sizes)];

	p[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0) | cc);
	p[1] = (uint8_t)((seq % 30 == 0 ? 0x80 : 0) | 96);
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)((seq * 3000u) >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	for (i = 0; i < 4 * cc; i++)
		p[n++] = (uint8_t)(0x40 + i);
	if (ext) {
		p[n++] = 0xbe;
		p[n++] = 0xde;
		p[n++] = 0;
		p[n++] = (uint8_t)ext;
		for (i = 0; i < 4 * ext; i++)
			p[n++] = (uint8_t)(i == 0 ? 0x12 : seq + i);
	}
	for (i = 0; i < payload; i++)
		p[n++] = (uint8_t)(seq * 31u + (unsigned)i * 7u);
	return n;
}

/* Seal one packet both ways: the same verdict, and when sealed the same bytes. 0 when sealed. */
static int both(struct pair *p, uint32_t ssrc, uint16_t seq, uint8_t *sealed, int *sealed_len)
{
	uint32_t a[BUF / 4], b[BUF / 4]; /* libsrtp wants the header 32-bit aligned */
	int la = make_packet((uint8_t *)a, ssrc, seq), lb = la, ra;
	srtp_err_status_t rb;

	memcpy(b, a, (size_t)la);
	ra = srtp_seal(p->ours, (uint8_t *)a, &la);
	rb = srtp_protect(p->ref, b, &lb);
	if ((ra == 0) != (rb == srtp_err_status_ok))
		g_test_message("ssrc %08x seq %u: ours %d, libsrtp %d", ssrc, seq, ra, (int)rb);
	g_assert_cmpint(ra == 0, ==, rb == srtp_err_status_ok);
	if (ra != 0) {
		p->refused++;
		return -1;
	}
	g_assert_cmpmem(a, la, b, lb);
	if (sealed != NULL) {
		memcpy(sealed, a, (size_t)la);
		*sealed_len = la;
	}
	p->sealed++;
	return 0;
}

/*
 * A video SSRC from 3000 before a wrap to 9000 past it, resends from up to
 * 700 back (across the wrap too) and now and then from past the window; an
 * audio SSRC interleaved from 100, where libsrtp takes the ROC as 0.
 */
static void compare_stream(gconstpointer data)
{
	enum dtls_srtp_profile profile = GPOINTER_TO_INT(data);
	GRand *r = g_rand_new_with_seed(17);
	uint16_t video = (uint16_t)(65536 - 3000), audio = 100, newest = 0;
	struct pair p;
	int i;

	pair_init(&p, profile, r);
	for (i = 0; i < 12000; i++) {
		guint roll = g_rand_int_range(r, 0, 1000);

		if (i % 5 == 4)
			both(&p, 0x0a0d10, audio++, NULL, NULL);
		else if (i > 1200 && roll < 120)
			both(&p, 0xcafe01, (uint16_t)(newest - g_rand_int_range(r, 1, 700)), NULL,
			     NULL);
		else if (i > 1200 && roll < 125)
			both(&p, 0xcafe01, (uint16_t)(newest - g_rand_int_range(r, 1024, 1100)),
			     NULL, NULL);
		else
			both(&p, 0xcafe01, newest = video++, NULL, NULL);
	}
	g_assert_cmpuint(video, >, 5000); /* wrapped: ROC 1 */
	g_assert_cmpuint(video, <, 30000);
	g_assert_cmpuint(p.sealed, >, 11000);
	g_assert_cmpuint(p.refused, >, 20); /* libsrtp refused those too */
	pair_clear(&p);
	g_rand_free(r);
}

/* Steps of 30000: a wrap every other packet, ROC up to 10; then back a few across one. */
static void compare_many_wraps(gconstpointer data)
{
	enum dtls_srtp_profile profile = GPOINTER_TO_INT(data);
	GRand *r = g_rand_new_with_seed(3);
	uint16_t seq = 40000;
	struct pair p;
	int i;

	pair_init(&p, profile, r);
	for (i = 0; i < 24; i++, seq = (uint16_t)(seq + 30000))
		g_assert_cmpint(both(&p, 0x1234, seq, NULL, NULL), ==, 0);
	for (i = 0; i < 40; i++, seq++)
		g_assert_cmpint(both(&p, 0x1234, seq, NULL, NULL), ==, 0);
	for (i = 1; i < 40; i++)
		g_assert_cmpint(both(&p, 0x1234, (uint16_t)(seq - i), NULL, NULL), ==, 0);
	g_assert_cmpint(p.sealed, ==, 103);
	pair_clear(&p);
	g_rand_free(r);
}

/*
 * Until the index passes 0x8000 libsrtp takes the ROC as 0 whatever the
 * jump (a ROC of -1 cannot be); a stream that starts low and leaps back
 * must get the same indices from us.
 */
static void compare_early(gconstpointer data)
{
	static const uint16_t seqs[] = {10, 65530, 65531, 3, 40000, 7000, 100, 20, 39990, 0};
	enum dtls_srtp_profile profile = GPOINTER_TO_INT(data);
	GRand *r = g_rand_new_with_seed(11);
	struct pair p;
	size_t i;

	pair_init(&p, profile, r);
	for (i = 0; i < G_N_ELEMENTS(seqs); i++) {
		both(&p, 0x55, seqs[i], NULL, NULL);
		both(&p, 0x56, (uint16_t)(seqs[i] + 32000), NULL, NULL);
	}
	/* The rest are 1024 or more behind: refused by both. */
	g_assert_cmpuint(p.sealed, ==, 10);
	pair_clear(&p);
	g_rand_free(r);
}

/* A resend across the wrap gets the ROC of the first send: the very same bytes again. */
static void test_resend_same_bytes(gconstpointer data)
{
	enum dtls_srtp_profile profile = GPOINTER_TO_INT(data);
	uint8_t first[BUF], again[BUF];
	int first_len = 0, again_len = 0;
	GRand *r = g_rand_new_with_seed(5);
	uint16_t seq;
	struct pair p;

	pair_init(&p, profile, r);
	for (seq = 65000; seq != 20; seq++)
		both(&p, 0x77, seq, seq == 65533 ? first : NULL, &first_len);
	both(&p, 0x77, 65533, again, &again_len);
	g_assert_cmpmem(first, first_len, again, again_len);
	pair_clear(&p);
	g_rand_free(r);
}

static void test_refusals(void)
{
	uint32_t buf[BUF / 4];
	uint8_t *p = (uint8_t *)buf, key[28] = {1, 2, 3}, copy[64];
	struct srtp_seal *s = srtp_seal_new(DTLS_SRTP_AEAD_AES_128_GCM, key, 28);
	int len, i;

	/* Shorter than a header; CSRCs past the end; an extension past the end. */
	len = make_packet(p, 9, 1);
	len = 11;
	g_assert_cmpint(srtp_seal(s, p, &len), ==, -1);
	len = make_packet(p, 9, 1);
	p[0] |= 0x0f;
	len = 12 + 4 * 14;
	memcpy(copy, p, sizeof(copy));
	g_assert_cmpint(srtp_seal(s, p, &len), ==, -1);
	g_assert_cmpint(len, ==, 12 + 4 * 14);
	g_assert_cmpmem(p, sizeof(copy), copy, sizeof(copy));
	len = make_packet(p, 9, 5); /* seq % 5: a 2-word extension, 12 + 12 bytes */
	len = 12 + 4 + 7;
	g_assert_cmpint(srtp_seal(s, p, &len), ==, -1);
	len = 12 + 3;
	g_assert_cmpint(srtp_seal(s, p, &len), ==, -1);
	len = 12 + 4 + 8;
	g_assert_cmpint(srtp_seal(s, p, &len), ==, 0);
	g_assert_cmpint(len, ==, 24 + 16);

	/* 16 SSRCs, not 17. */
	for (i = 1; i < SRTP_SEAL_MAX_SSRC; i++) {
		len = make_packet(p, 100 + (uint32_t)i, 1);
		g_assert_cmpint(srtp_seal(s, p, &len), ==, 0);
	}
	len = make_packet(p, 99, 1);
	g_assert_cmpint(srtp_seal(s, p, &len), ==, -1);

	/* The window: 1023 behind is sealed again, 1024 behind is not. */
	len = make_packet(p, 9, 2000);
	g_assert_cmpint(srtp_seal(s, p, &len), ==, 0);
	len = make_packet(p, 9, 2000 - 1023);
	g_assert_cmpint(srtp_seal(s, p, &len), ==, 0);
	len = make_packet(p, 9, 2000 - 1024);
	g_assert_cmpint(srtp_seal(s, p, &len), ==, -1);
	srtp_seal_free(s);
	srtp_seal_free(NULL);
}

int main(int argc, char **argv)
{
	char *err = NULL;

	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(srtp_session_init(&err), ==, 0);
	g_test_add_func("/srtp_seal/kdf-rfc3711", test_kdf_rfc3711);
	g_test_add_func("/srtp_seal/vectors", test_vectors);
	g_test_add_data_func("/srtp_seal/gcm/as-libsrtp",
	                     GINT_TO_POINTER(DTLS_SRTP_AEAD_AES_128_GCM), compare_stream);
	g_test_add_data_func("/srtp_seal/cm/as-libsrtp",
	                     GINT_TO_POINTER(DTLS_SRTP_AES128_CM_SHA1_80), compare_stream);
	g_test_add_data_func("/srtp_seal/gcm/many-wraps",
	                     GINT_TO_POINTER(DTLS_SRTP_AEAD_AES_128_GCM), compare_many_wraps);
	g_test_add_data_func("/srtp_seal/cm/many-wraps",
	                     GINT_TO_POINTER(DTLS_SRTP_AES128_CM_SHA1_80), compare_many_wraps);
	g_test_add_data_func("/srtp_seal/gcm/early-indices",
	                     GINT_TO_POINTER(DTLS_SRTP_AEAD_AES_128_GCM), compare_early);
	g_test_add_data_func("/srtp_seal/cm/early-indices",
	                     GINT_TO_POINTER(DTLS_SRTP_AES128_CM_SHA1_80), compare_early);
	g_test_add_data_func("/srtp_seal/gcm/resend-same-bytes",
	                     GINT_TO_POINTER(DTLS_SRTP_AEAD_AES_128_GCM), test_resend_same_bytes);
	g_test_add_data_func("/srtp_seal/cm/resend-same-bytes",
	                     GINT_TO_POINTER(DTLS_SRTP_AES128_CM_SHA1_80), test_resend_same_bytes);
	g_test_add_func("/srtp_seal/refusals", test_refusals);
	return g_test_run();
}
