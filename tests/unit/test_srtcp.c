/*
 * SRTCP on OpenSSL (daemon/wire/srtcp.c) against libsrtp2 keyed alike
 * (wire/srtp_session.c, the sessions the daemon used before issue 17):
 * what we seal is libsrtp2's bytes, and for what a viewer could send
 * (libsrtp2's packets delivered late, twice, out of order, tampered with,
 * from new SSRCs) we and libsrtp2 give the same verdict and the same
 * plain RTCP, packet for packet.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "wire/srtcp.h"
#include "wire/srtp_seal.h"
#include "wire/srtp_session.h"

#define BUF 1400

static size_t key_len(enum dtls_srtp_profile profile)
{
	return profile == DTLS_SRTP_AEAD_AES_128_GCM ? 28 : 30;
}

static void random_key(GRand *r, uint8_t key[30])
{
	int i;

	for (i = 0; i < 30; i++)
		key[i] = (uint8_t)g_rand_int(r);
}

/* A compound RTCP packet from `ssrc`, its length from 8 to 1008 bytes by k. */
static int make_rtcp(uint8_t *p, uint32_t ssrc, guint k)
{
	static const int sizes[] = {28, 8, 52, 100, 1008, 36, 12, 200};
	int n = sizes[k % G_N_ELEMENTS(sizes)], i;

	p[0] = 0x80;
	p[1] = (uint8_t)(k % 3 == 0 ? 206 : 200);
	p[2] = (uint8_t)((n / 4 - 1) >> 8);
	p[3] = (uint8_t)(n / 4 - 1);
	for (i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	for (i = 8; i < n; i++)
		p[i] = (uint8_t)(k * 13u + (unsigned)i);
	return n;
}

/* Our sender reports are libsrtp2's, byte for byte, over 700 indices of two SSRCs. */
static void test_protect(gconstpointer data)
{
	enum dtls_srtp_profile profile = GPOINTER_TO_INT(data);
	GRand *r = g_rand_new_with_seed(5);
	uint32_t a[BUF / 4], b[BUF / 4]; /* libsrtp wants the header 32-bit aligned */
	uint8_t key[30];
	struct srtcp *ours;
	srtp_t ref;
	guint k;
	int la, lb;

	random_key(r, key);
	ours = srtcp_new(profile, key, key_len(profile), true);
	g_assert_nonnull(ours);
	g_assert_cmpint(srtp_session_new(&ref, profile, key, key_len(profile), true), ==, 0);
	for (k = 0; k < 1400; k++) {
		la = lb = make_rtcp((uint8_t *)a, k % 2 ? 0x11223344 : 0xdecafbad, k);
		memcpy(b, a, (size_t)la);
		g_assert_cmpint(srtcp_protect(ours, (uint8_t *)a, &la), ==, 0);
		g_assert_cmpint(srtp_protect_rtcp(ref, b, &lb), ==, srtp_err_status_ok);
		g_assert_cmpmem(a, la, b, lb);
	}
	/* An opener does not seal, nor a sealer open. */
	la = make_rtcp((uint8_t *)a, 1, 0);
	g_assert_cmpint(srtcp_unprotect(ours, (uint8_t *)a, &la), ==, -1);
	srtcp_free(ours);
	srtp_dealloc(ref);
	g_rand_free(r);
}

/* RFC 7714 §9 with E = 0: authenticated, not encrypted (libsrtp2 takes it for GCM). */
static int seal_gcm_clear(const uint8_t key[28], uint8_t *p, int len, uint32_t index)
{
	struct srtp_seal_keys keys;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[12] = {0}, trailer[4];
	int i, outl;

	g_assert_cmpint(srtp_seal_derive_rtcp(DTLS_SRTP_AEAD_AES_128_GCM, key, 28, &keys), ==, 0);
	memcpy(iv + 2, p + 4, 4);
	for (i = 0; i < 4; i++)
		trailer[i] = iv[8 + i] = (uint8_t)(index >> (24 - 8 * i));
	for (i = 0; i < 12; i++)
		iv[i] ^= keys.salt[i];
	g_assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, keys.enc, iv) == 1);
	g_assert_true(EVP_EncryptUpdate(c, NULL, &outl, p, len) == 1);
	g_assert_true(EVP_EncryptUpdate(c, NULL, &outl, trailer, 4) == 1);
	g_assert_true(EVP_EncryptFinal_ex(c, p + len, &outl) == 1);
	g_assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, p + len) == 1);
	memcpy(p + len + 16, trailer, 4);
	EVP_CIPHER_CTX_free(c);
	return len + 20;
}

/* What the viewer sends, both ways: the same verdict, and the same plain packet. */
struct opener {
	struct srtcp *ours;
	srtp_t ref;
	guint ok, refused;
};

static void deliver(struct opener *o, GBytes *pkt, bool flip, GRand *r)
{
	uint32_t a[BUF / 4], b[BUF / 4];
	gsize n = 0;
	const uint8_t *d = g_bytes_get_data(pkt, &n);
	int la = (int)n, lb = (int)n, ra;
	srtp_err_status_t rb;

	memcpy(a, d, n);
	if (flip) /* one byte anywhere, header and trailer included */
		((uint8_t *)a)[g_rand_int_range(r, 0, (gint32)n)] ^=
		    (uint8_t)g_rand_int_range(r, 1, 256);
	memcpy(b, a, n);
	ra = srtcp_unprotect(o->ours, (uint8_t *)a, &la);
	rb = srtp_unprotect_rtcp(o->ref, b, &lb);
	if ((ra == 0) != (rb == srtp_err_status_ok))
		g_test_message("ssrc %08x: ours %d, libsrtp %d", ntohl(a[1]), ra, (int)rb);
	g_assert_cmpint(ra == 0, ==, rb == srtp_err_status_ok);
	if (ra != 0) {
		o->refused++;
		return;
	}
	g_assert_cmpmem(a, la, b, lb);
	o->ok++;
}

/*
 * The viewer's side: packets libsrtp2 sealed (and for GCM a few with E = 0)
 * go to libsrtp2's opener and to ours in the same order: most at once, some
 * held back and delivered later (late within the window or past it), some
 * again (replays), some with a byte changed, some from new SSRCs.
 */
static void test_unprotect(gconstpointer data)
{
	enum dtls_srtp_profile profile = GPOINTER_TO_INT(data);
	GRand *r = g_rand_new_with_seed(11);
	GPtrArray *sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	GPtrArray *held = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	uint32_t a[BUF / 4];
	uint8_t key[30];
	struct opener o = {0};
	guint k, clear = 0, fresh_ssrc = 0;
	srtp_t sealer;
	int n;

	random_key(r, key);
	o.ours = srtcp_new(profile, key, key_len(profile), false);
	g_assert_nonnull(o.ours);
	g_assert_cmpint(srtp_session_new(&sealer, profile, key, key_len(profile), true), ==, 0);
	g_assert_cmpint(srtp_session_new(&o.ref, profile, key, key_len(profile), false), ==, 0);
	for (k = 0; k < 8000; k++) {
		guint roll = g_rand_int_range(r, 0, 100);
		uint32_t ssrc = k % 3 ? 0x0a0b0c0d : 0x01020304;
		GBytes *pkt;

		if (roll < 10 && held->len > 0) { /* a held one, late */
			guint i = g_rand_int_range(r, 0, (gint32)held->len);

			deliver(&o, g_ptr_array_index(held, i), false, r);
			g_ptr_array_remove_index_fast(held, i);
			continue;
		}
		if (roll < 20 && sent->len > 0) { /* again, or tampered with */
			guint back = g_rand_int_range(r, 0, (gint32)MIN(sent->len, 300));

			deliver(&o, g_ptr_array_index(sent, sent->len - 1 - back), roll < 15, r);
			continue;
		}
		if (roll == 20 && fresh_ssrc < SRTCP_MAX_SSRC - 3)
			ssrc = 0x50000 + fresh_ssrc++;
		n = make_rtcp((uint8_t *)a, ssrc, k);
		if (profile == DTLS_SRTP_AEAD_AES_128_GCM && k % 97 == 0) {
			/* its own index: ahead of libsrtp2's sealer, past it later */
			n = seal_gcm_clear(key, (uint8_t *)a, n, k / 3);
			clear++;
		} else {
			g_assert_cmpint(srtp_protect_rtcp(sealer, a, &n), ==, srtp_err_status_ok);
		}
		pkt = g_bytes_new(a, (gsize)n);
		g_ptr_array_add(sent, g_bytes_ref(pkt));
		if (roll < 30)
			g_ptr_array_add(held, pkt);
		else {
			deliver(&o, pkt, false, r);
			g_bytes_unref(pkt);
		}
	}
	g_test_message("%u opened, %u refused, %u unencrypted, %u new SSRCs", o.ok, o.refused,
	               clear, fresh_ssrc);
	g_assert_cmpuint(o.ok, >, 4000);
	g_assert_cmpuint(o.refused, >, 1000);
	srtcp_free(o.ours);
	srtp_dealloc(sealer);
	srtp_dealloc(o.ref);
	g_ptr_array_unref(sent);
	g_ptr_array_unref(held);
	g_rand_free(r);
}

/* Past SRTCP_MAX_SSRC senders we refuse what libsrtp2 would take: no viewer has 17. */
static void test_too_many_ssrcs(void)
{
	uint8_t key[30] = {1, 2, 3};
	uint32_t a[BUF / 4];
	struct srtcp *out = srtcp_new(DTLS_SRTP_AEAD_AES_128_GCM, key, 28, true);
	struct srtcp *in = srtcp_new(DTLS_SRTP_AEAD_AES_128_GCM, key, 28, false);
	srtp_t ref;
	guint i;
	int n;

	g_assert_cmpint(srtp_session_new(&ref, DTLS_SRTP_AEAD_AES_128_GCM, key, 28, true), ==, 0);
	for (i = 0; i < SRTCP_MAX_SSRC; i++) {
		n = make_rtcp((uint8_t *)a, 100 + i, i);
		g_assert_cmpint(srtcp_protect(out, (uint8_t *)a, &n), ==, 0);
		g_assert_cmpint(srtcp_unprotect(in, (uint8_t *)a, &n), ==, 0);
	}
	n = make_rtcp((uint8_t *)a, 100 + i, i);
	g_assert_cmpint(srtcp_protect(out, (uint8_t *)a, &n), ==, -1);
	g_assert_cmpint(srtp_protect_rtcp(ref, a, &n), ==, srtp_err_status_ok); /* authentic */
	g_assert_cmpint(srtcp_unprotect(in, (uint8_t *)a, &n), ==, -1);
	srtcp_free(out);
	srtcp_free(in);
	srtp_dealloc(ref);
	g_assert_null(srtcp_new(DTLS_SRTP_AEAD_AES_128_GCM, key, 30, true)); /* GCM takes 28 */
	srtcp_free(NULL);
}

int main(int argc, char **argv)
{
	char *err = NULL;

	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(srtp_session_init(&err), ==, 0);
	g_test_add_data_func("/srtcp/gcm/protect-as-libsrtp",
	                     GINT_TO_POINTER(DTLS_SRTP_AEAD_AES_128_GCM), test_protect);
	g_test_add_data_func("/srtcp/cm/protect-as-libsrtp",
	                     GINT_TO_POINTER(DTLS_SRTP_AES128_CM_SHA1_80), test_protect);
	g_test_add_data_func("/srtcp/gcm/unprotect-as-libsrtp",
	                     GINT_TO_POINTER(DTLS_SRTP_AEAD_AES_128_GCM), test_unprotect);
	g_test_add_data_func("/srtcp/cm/unprotect-as-libsrtp",
	                     GINT_TO_POINTER(DTLS_SRTP_AES128_CM_SHA1_80), test_unprotect);
	g_test_add_func("/srtcp/too-many-ssrcs", test_too_many_ssrcs);
	return g_test_run();
}
