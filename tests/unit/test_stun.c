/* STUN Binding parsing, integrity and responses (daemon/stun.c), against RFC 5769. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "wire/stun.h"

static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* The vectors keep the RFC's four-bytes-a-row layout, so they can be read against it. */
// clang-format off
/* RFC 5769 §2.1: sample request, SOFTWARE "STUN test client", USERNAME "evtj:h6vY". */
static const uint8_t req_vec[] = {
	0x00, 0x01, 0x00, 0x58, /* Request type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, /* Transaction ID */
	0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x10, /* SOFTWARE attribute header */
	0x53, 0x54, 0x55, 0x4e, /* "STUN test client" */
	0x20, 0x74, 0x65, 0x73,
	0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74,
	0x00, 0x24, 0x00, 0x04, /* PRIORITY attribute header */
	0x6e, 0x00, 0x01, 0xff, /* ICE priority value */
	0x80, 0x29, 0x00, 0x08, /* ICE-CONTROLLED attribute header */
	0x93, 0x2f, 0xf9, 0xb1, /* tie breaker */
	0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, /* USERNAME attribute header */
	0x65, 0x76, 0x74, 0x6a, /* "evtj:h6vY" and 3 bytes of padding */
	0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20,
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0x9a, 0xea, 0xa7, 0x0c, /* HMAC-SHA1 */
	0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5,
	0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04, /* FINGERPRINT attribute header */
	0xe5, 0x7a, 0x3b, 0xcf, /* CRC32 */
};

/* RFC 5769 §2.2: response, XOR-MAPPED-ADDRESS 192.0.2.1:32853 at offset 36. */
static const uint8_t resp4_vec[] = {
	0x01, 0x01, 0x00, 0x3c, /* Response type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, /* Transaction ID */
	0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, /* SOFTWARE attribute header */
	0x74, 0x65, 0x73, 0x74, /* "test vector" and 1 byte of padding */
	0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, /* XOR-MAPPED-ADDRESS attribute header */
	0x00, 0x01, 0xa1, 0x47, /* IPv4, XORed port */
	0xe1, 0x12, 0xa6, 0x43, /* XORed address */
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0x2b, 0x91, 0xf5, 0x99, /* HMAC-SHA1 */
	0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9,
	0x2a, 0xf9, 0xba, 0x53,
	0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, /* FINGERPRINT attribute header */
	0xc0, 0x7d, 0x4c, 0x96, /* CRC32 */
};

/* RFC 5769 §2.3: response, 2001:db8:1234:5678:11:2233:4455:6677 port 32853 at offset 36. */
static const uint8_t resp6_vec[] = {
	0x01, 0x01, 0x00, 0x48, /* Response type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, /* Transaction ID */
	0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, /* SOFTWARE attribute header */
	0x74, 0x65, 0x73, 0x74, /* "test vector" and 1 byte of padding */
	0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, /* XOR-MAPPED-ADDRESS attribute header */
	0x00, 0x02, 0xa1, 0x47, /* IPv6, XORed port */
	0x01, 0x13, 0xa9, 0xfa, /* XORed address */
	0xa5, 0xd3, 0xf1, 0x79,
	0xbc, 0x25, 0xf4, 0xb5,
	0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0xa3, 0x82, 0x95, 0x4e, /* HMAC-SHA1 */
	0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c,
	0x82, 0x92, 0xc2, 0x75,
	0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, /* FINGERPRINT attribute header */
	0xc8, 0xfb, 0x0b, 0x4c, /* CRC32 */
};
// clang-format on

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An exact-size heap copy, so a sanitizer build catches any read past n. */
static uint8_t *copy_exact(const uint8_t *p, size_t n)
{
	uint8_t *q = g_malloc(n > 0 ? n : 1);

	memcpy(q, p, n);
	return q;
}

/*
 * Responses are not requests, so stun_parse_binding_request refuses them;
 * find their MESSAGE-INTEGRITY and FINGERPRINT by walking the attributes here
 * and let stun_check_integrity judge them.
 */
static bool response_verifies(const uint8_t *p, size_t n, const char *key)
{
	struct stun_request r;
	size_t off;

	memset(&r, 0, sizeof(r));
	g_assert_true(stun_is_stun(p, n));
	for (off = STUN_HEADER_LEN; off + 4 <= n; off += 4 + ((get16(p + off + 2) + 3u) & ~3u)) {
		if (get16(p + off) == STUN_ATTR_MESSAGE_INTEGRITY)
			r.integrity_at = off;
		else if (get16(p + off) == STUN_ATTR_FINGERPRINT)
			r.fingerprint_at = off;
	}
	g_assert_cmpuint(off, ==, n);
	g_assert_cmpuint(r.fingerprint_at, ==, n - 8); /* FINGERPRINT always last */
	return stun_check_integrity(p, n, &r, key);
}

/* An independent CRC-32 (zlib's), to check the FINGERPRINT of error responses. */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		for (crc ^= p[i], k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	return ~crc;
}

/* Builders for hand-made requests. */
static size_t msg_start(uint8_t *m, uint16_t type)
{
	memcpy(m, req_vec, STUN_HEADER_LEN);
	m[0] = (uint8_t)(type >> 8);
	m[1] = (uint8_t)type;
	m[2] = m[3] = 0;
	return STUN_HEADER_LEN;
}

static size_t msg_add(uint8_t *m, size_t n, uint16_t type, const void *v, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	m[n] = (uint8_t)(type >> 8);
	m[n + 1] = (uint8_t)type;
	m[n + 2] = (uint8_t)(len >> 8);
	m[n + 3] = (uint8_t)len;
	memset(m + n + 4, 0, padded);
	if (len > 0)
		memcpy(m + n + 4, v, len);
	n += 4 + padded;
	m[2] = (uint8_t)((n - STUN_HEADER_LEN) >> 8);
	m[3] = (uint8_t)(n - STUN_HEADER_LEN);
	return n;
}

static int parse(const uint8_t *p, size_t n, struct stun_request *r)
{
	uint8_t *q = copy_exact(p, n);
	int rc = stun_parse_binding_request(q, n, r);

	g_free(q);
	return rc;
}

static void test_rfc5769_request(void)
{
	struct stun_request r;
	uint8_t flipped[sizeof(req_vec)];

	g_assert_true(stun_is_stun(req_vec, sizeof(req_vec)));
	g_assert_cmpint(parse(req_vec, sizeof(req_vec), &r), ==, 0);
	g_assert_cmpmem(r.txid, 12, req_vec + 8, 12);
	g_assert_cmpstr(r.username, ==, "evtj:h6vY");
	g_assert_cmpuint(r.priority, ==, 0x6e0001ff);
	g_assert_false(r.use_candidate);
	g_assert_true(r.ice_controlled);
	g_assert_false(r.ice_controlling);
	g_assert_cmpuint(r.integrity_at, ==, 76);
	g_assert_cmpuint(r.fingerprint_at, ==, 100);

	g_assert_true(stun_check_integrity(req_vec, sizeof(req_vec), &r, pwd));
	g_assert_false(
	    stun_check_integrity(req_vec, sizeof(req_vec), &r, "VOkJxbRl1RmTxUk/WvJxBu"));
	g_assert_false(stun_check_integrity(req_vec, sizeof(req_vec), &r, ""));

	/* One flipped bit in the body: the FINGERPRINT (and the HMAC) no longer match. */
	memcpy(flipped, req_vec, sizeof(flipped));
	flipped[30] ^= 0x01; /* inside SOFTWARE, which parsing ignores */
	g_assert_cmpint(parse(flipped, sizeof(flipped), &r), ==, 0);
	g_assert_false(stun_check_integrity(flipped, sizeof(flipped), &r, pwd));
	/* A flipped FINGERPRINT alone, the HMAC still good: still refused. */
	memcpy(flipped, req_vec, sizeof(flipped));
	flipped[sizeof(flipped) - 1] ^= 0x01;
	g_assert_cmpint(parse(flipped, sizeof(flipped), &r), ==, 0);
	g_assert_false(stun_check_integrity(flipped, sizeof(flipped), &r, pwd));
}

static void test_rfc5769_responses_verify(void)
{
	/* Our checker accepts the RFC's own responses: the HMAC and CRC agree with theirs. */
	g_assert_true(response_verifies(resp4_vec, sizeof(resp4_vec), pwd));
	g_assert_true(response_verifies(resp6_vec, sizeof(resp6_vec), pwd));
	g_assert_false(response_verifies(resp4_vec, sizeof(resp4_vec), "wrong"));
}

static void check_success(const struct sockaddr *from, const uint8_t *vec, size_t xma_len)
{
	struct stun_request r, dummy;
	uint8_t out[STUN_MAX_RESPONSE];
	int n;

	g_assert_cmpint(parse(req_vec, sizeof(req_vec), &r), ==, 0);
	n = stun_binding_success(&r, from, pwd, out, sizeof(out));
	g_assert_cmpint(n, ==, STUN_HEADER_LEN + (int)xma_len + 24 + 8);
	g_assert_true(stun_is_stun(out, (size_t)n));
	g_assert_cmpuint(get16(out), ==, STUN_BINDING_SUCCESS);
	g_assert_cmpmem(out + 8, 12, req_vec + 8, 12);
	/* The XOR-MAPPED-ADDRESS attribute, header included, byte for byte as in the RFC. */
	g_assert_cmpmem(out + STUN_HEADER_LEN, xma_len, vec + 36, xma_len);
	g_assert_true(response_verifies(out, (size_t)n, pwd));
	g_assert_false(response_verifies(out, (size_t)n, "evtj"));
	/* A response is never mistaken for a request. */
	g_assert_cmpint(parse(out, (size_t)n, &dummy), ==, -1);
	/* One byte short of room: refused, not truncated. */
	g_assert_cmpint(stun_binding_success(&r, from, pwd, out, (size_t)n - 1), ==, -1);
}

static void test_rfc5769_ipv4_response(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(32853)};
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};

	g_assert_cmpint(inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr), ==, 1);
	check_success((const struct sockaddr *)&sin, resp4_vec, 12);
	/* The same peer seen through a dual-stack socket is still reported as IPv4. */
	g_assert_cmpint(inet_pton(AF_INET6, "::ffff:192.0.2.1", &mapped.sin6_addr), ==, 1);
	check_success((const struct sockaddr *)&mapped, resp4_vec, 12);
}

static void test_rfc5769_ipv6_response(void)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};

	g_assert_cmpint(
	    inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &sin6.sin6_addr), ==, 1);
	check_success((const struct sockaddr *)&sin6, resp6_vec, 24);
}

static void test_unknown_family(void)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct stun_request r;
	uint8_t out[STUN_MAX_RESPONSE];

	g_assert_cmpint(parse(req_vec, sizeof(req_vec), &r), ==, 0);
	g_assert_cmpint(stun_binding_success(&r, &sa, pwd, out, sizeof(out)), ==, -1);
}

/*
 * Cut the sample request at every length. As sent, each cut disagrees with
 * the header's length and is refused. With the length field patched to
 * match, only cuts on an attribute boundary parse, and only the one that
 * ends right after MESSAGE-INTEGRITY (FINGERPRINT is optional) authenticates.
 */
static void test_truncated(void)
{
	static const size_t boundary[] = {20, 40, 48, 60, 76, 100};
	struct stun_request r;
	size_t n, i;

	for (n = 0; n < sizeof(req_vec); n++) {
		uint8_t *q = copy_exact(req_vec, n);
		bool on_boundary = false;

		g_assert_false(stun_is_stun(q, n));
		g_assert_cmpint(stun_parse_binding_request(q, n, &r), ==, -1);
		g_assert_cmpstr(r.username, ==, "");
		for (i = 0; i < G_N_ELEMENTS(boundary); i++)
			on_boundary |= n == boundary[i];
		if (n >= STUN_HEADER_LEN) {
			q[2] = (uint8_t)((n - STUN_HEADER_LEN) >> 8);
			q[3] = (uint8_t)(n - STUN_HEADER_LEN);
			g_assert_cmpint(stun_parse_binding_request(q, n, &r), ==,
			                on_boundary ? 0 : -1);
			g_assert_cmpint(stun_check_integrity(q, n, &r, pwd), ==, n == 100);
		}
		g_free(q);
	}
}

static void test_not_binding_request(void)
{
	static const uint16_t types[] = {
	    0x0002, /* request, another method */
	    0x0011, /* Binding indication */
	    0x0101, /* Binding success */
	    0x0111, /* Binding error */
	    0x0401, /* first byte 4: not STUN under RFC 7983 */
	};
	struct stun_request r;
	uint8_t m[sizeof(req_vec)];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(types); i++) {
		memcpy(m, req_vec, sizeof(m));
		m[0] = (uint8_t)(types[i] >> 8);
		m[1] = (uint8_t)types[i];
		g_assert_cmpint(parse(m, sizeof(m), &r), ==, -1);
	}
	memcpy(m, req_vec, sizeof(m));
	m[4] ^= 0x01; /* magic cookie: an RFC 3489 message */
	g_assert_cmpint(parse(m, sizeof(m), &r), ==, -1);
}

static void test_username(void)
{
	uint8_t m[STUN_HEADER_LEN + 4 + 520], name[STUN_MAX_USERNAME + 1];
	struct stun_request r;
	size_t n;

	memset(name, 'a', sizeof(name));
	n = msg_add(m, msg_start(m, STUN_BINDING_REQUEST), STUN_ATTR_USERNAME, name,
	            STUN_MAX_USERNAME);
	g_assert_cmpint(parse(m, n, &r), ==, 0);
	g_assert_cmpuint(strlen(r.username), ==, STUN_MAX_USERNAME);
	g_assert_cmpuint(r.integrity_at, ==, 0);
	g_assert_false(stun_check_integrity(m, n, &r, pwd)); /* no integrity, no entry */

	n = msg_add(m, msg_start(m, STUN_BINDING_REQUEST), STUN_ATTR_USERNAME, name,
	            STUN_MAX_USERNAME + 1);
	g_assert_cmpint(parse(m, n, &r), ==, -1);

	n = msg_add(m, msg_start(m, STUN_BINDING_REQUEST), STUN_ATTR_USERNAME, "evtj\0h6vY", 9);
	g_assert_cmpint(parse(m, n, &r), ==, -1);
}

static void test_attribute_order_and_sizes(void)
{
	static const uint8_t mac[STUN_HMAC_LEN], crc[4], prio[4] = {0, 0, 0, 7}, tie[8];
	struct stun_request r;
	uint8_t m[256];
	size_t n;

	/* USE-CANDIDATE, ICE-CONTROLLING, and unknown attributes of either range skipped. */
	n = msg_start(m, STUN_BINDING_REQUEST);
	n = msg_add(m, n, 0x0003, "xy", 2); /* comprehension-required, unknown to us */
	n = msg_add(m, n, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	n = msg_add(m, n, STUN_ATTR_ICE_CONTROLLING, tie, 8);
	n = msg_add(m, n, STUN_ATTR_PRIORITY, prio, 4);
	n = msg_add(m, n, 0xc057, "abc", 3);
	g_assert_cmpint(parse(m, n, &r), ==, 0);
	g_assert_true(r.use_candidate);
	g_assert_true(r.ice_controlling);
	g_assert_false(r.ice_controlled);
	g_assert_cmpuint(r.priority, ==, 7);

	/* Something after MESSAGE-INTEGRITY other than FINGERPRINT. */
	n = msg_start(m, STUN_BINDING_REQUEST);
	n = msg_add(m, n, STUN_ATTR_MESSAGE_INTEGRITY, mac, sizeof(mac));
	n = msg_add(m, n, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	g_assert_cmpint(parse(m, n, &r), ==, -1);

	/* Anything after FINGERPRINT, even a second FINGERPRINT. */
	n = msg_start(m, STUN_BINDING_REQUEST);
	n = msg_add(m, n, STUN_ATTR_FINGERPRINT, crc, sizeof(crc));
	n = msg_add(m, n, STUN_ATTR_FINGERPRINT, crc, sizeof(crc));
	g_assert_cmpint(parse(m, n, &r), ==, -1);

	/* Known attributes with the wrong size. */
	n = msg_add(m, msg_start(m, STUN_BINDING_REQUEST), STUN_ATTR_PRIORITY, prio, 3);
	g_assert_cmpint(parse(m, n, &r), ==, -1);
	n = msg_add(m, msg_start(m, STUN_BINDING_REQUEST), STUN_ATTR_MESSAGE_INTEGRITY, mac, 16);
	g_assert_cmpint(parse(m, n, &r), ==, -1);

	/* An attribute whose length runs past the end of the message. */
	n = msg_add(m, msg_start(m, STUN_BINDING_REQUEST), 0x8022, "abcd", 4);
	m[STUN_HEADER_LEN + 3] = 5;
	g_assert_cmpint(parse(m, n, &r), ==, -1);
}

static void test_error_response(void)
{
	uint8_t out[STUN_MAX_RESPONSE], txid[12];
	uint32_t fp;
	int n;

	memcpy(txid, req_vec + 8, sizeof(txid));
	n = stun_binding_error(txid, 401, "Unauthorized", out, sizeof(out));
	g_assert_cmpint(n, ==, STUN_HEADER_LEN + 4 + 16 + 8);
	g_assert_true(stun_is_stun(out, (size_t)n));
	g_assert_cmpuint(get16(out), ==, STUN_BINDING_ERROR);
	g_assert_cmpmem(out + 8, 12, txid, 12);
	/* ERROR-CODE: reserved 0, class 4, number 1, then the reason padded with zeros. */
	g_assert_cmpmem(out + 20, 8, "\x00\x09\x00\x10\x00\x00\x04\x01", 8);
	g_assert_cmpmem(out + 28, 12, "Unauthorized", 12);
	g_assert_cmpmem(out + 40, 4, "\x80\x28\x00\x04", 4);
	fp = ref_crc32(out, 40) ^ STUN_FINGERPRINT_XOR;
	g_assert_cmpuint(fp, ==,
	                 (uint32_t)out[44] << 24 | (uint32_t)out[45] << 16 |
	                     (uint32_t)out[46] << 8 | out[47]);

	n = stun_binding_error(txid, 400, "Bad Request", out, sizeof(out));
	g_assert_cmpint(n, ==, 40 + 8);
	g_assert_cmpmem(out + 20, 8, "\x00\x09\x00\x0f\x00\x00\x04\x00", 8);
	g_assert_cmpuint(out[39], ==, 0); /* padding */

	g_assert_cmpint(stun_binding_error(txid, 401, "Unauthorized", out, 47), ==, -1);
	g_assert_cmpint(stun_binding_error(txid, 200, "OK", out, sizeof(out)), ==, -1);
	g_assert_cmpint(stun_binding_error(txid, 700, "?", out, sizeof(out)), ==, -1);
}

/* Consent freshness (RFC 7675): our own request, and the peer's answer to it. */
static void test_consent_request(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(32853)};
	uint8_t out[STUN_MAX_REQUEST], resp[STUN_MAX_RESPONSE], other[12];
	struct stun_request r;
	int n, m;

	n = stun_binding_request(req_vec + 8, "evtj:h6vY", pwd, 0x6e0001ff, 0x932ff9b151263b36ull,
	                         out, sizeof(out));
	g_assert_cmpint(n, >, 0);
	g_assert_true(stun_is_stun(out, (size_t)n));
	/* Read back as the peer reads it: its own username, keyed with its own password. */
	g_assert_cmpint(parse(out, (size_t)n, &r), ==, 0);
	g_assert_cmpstr(r.username, ==, "evtj:h6vY");
	g_assert_cmpuint(r.priority, ==, 0x6e0001ff);
	g_assert_true(r.ice_controlled);
	g_assert_false(r.use_candidate);
	g_assert_cmpuint(r.fingerprint_at, ==, (size_t)n - 8);
	g_assert_true(stun_check_integrity(out, (size_t)n, &r, pwd));
	g_assert_false(stun_check_integrity(out, (size_t)n, &r, "VOkJxbRl1RmTxUk/WvJxBu"));
	g_assert_cmpint(
	    stun_binding_request(req_vec + 8, "evtj:h6vY", pwd, 1, 2, out, (size_t)n - 1), ==, -1);
	g_assert_cmpint(stun_binding_request(req_vec + 8, "", pwd, 1, 2, out, sizeof(out)), ==, -1);

	/* The peer's success response proves consent; nothing else does. */
	g_assert_cmpint(inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr), ==, 1);
	m = stun_binding_success(&r, (const struct sockaddr *)&sin, pwd, resp, sizeof(resp));
	g_assert_cmpint(m, >, 0);
	g_assert_true(stun_check_binding_success(resp, (size_t)m, req_vec + 8, pwd));
	g_assert_false(stun_check_binding_success(resp, (size_t)m, req_vec + 8, "evtj"));
	memcpy(other, req_vec + 8, sizeof(other));
	other[11] ^= 1; /* a response to a request we never sent */
	g_assert_false(stun_check_binding_success(resp, (size_t)m, other, pwd));
	g_assert_false(stun_check_binding_success(resp, (size_t)m - 8, req_vec + 8, pwd));
	g_assert_false(
	    stun_check_binding_success(out, (size_t)n, req_vec + 8, pwd)); /* a request */
	/* The RFC's own response verifies; an error response never counts. */
	g_assert_true(stun_check_binding_success(resp4_vec, sizeof(resp4_vec), req_vec + 8, pwd));
	m = stun_binding_error(req_vec + 8, 401, "Unauthorized", resp, sizeof(resp));
	g_assert_false(stun_check_binding_success(resp, (size_t)m, req_vec + 8, pwd));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stun/rfc5769-request", test_rfc5769_request);
	g_test_add_func("/stun/rfc5769-responses-verify", test_rfc5769_responses_verify);
	g_test_add_func("/stun/rfc5769-ipv4-response", test_rfc5769_ipv4_response);
	g_test_add_func("/stun/rfc5769-ipv6-response", test_rfc5769_ipv6_response);
	g_test_add_func("/stun/unknown-family", test_unknown_family);
	g_test_add_func("/stun/truncated", test_truncated);
	g_test_add_func("/stun/not-binding-request", test_not_binding_request);
	g_test_add_func("/stun/username", test_username);
	g_test_add_func("/stun/attribute-order-and-sizes", test_attribute_order_and_sizes);
	g_test_add_func("/stun/error-response", test_error_response);
	g_test_add_func("/stun/consent-request", test_consent_request);
	return g_test_run();
}
