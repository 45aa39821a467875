/*
 * The direct path's peer registry (daemon/lite/peer.c, paths.c, consent.c)
 * fed crafted datagrams through peer_receive, as the receive thread would,
 * without a receive thread: the address table stays bounded and never
 * outlives a peer (issue 13 item 1: it used to point into moved and freed
 * memory), and our consent checks (RFC 7675) go where the rules say, no
 * bigger and no more often than what triggered them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/ssl.h>

#include "lite/consent.h"
#include "lite/lite.h"
#include "lite/peer.h"
#include "wire/dtls.h"
#include "wire/stun.h"

#define OUR_UFRAG  "OurUfrag"
#define OUR_PWD    "our-password-24-chars-xx"
#define THEIR      "rmte"
#define THEIR_PWD  "their-password-of-22ch+"
#define ANY_FP     "sha-256 " \
	"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"

static void on_state(void *user, enum peer_state st)
{
}

static void on_keyframe(void *user)
{
}

static const struct peer_events events = {.state = on_state, .keyframe_request = on_keyframe};

static struct peer *make_peer(const char *ufrag)
{
	struct peer *p = peer_new("testpeer", ufrag, OUR_PWD, ANY_FP, &events, NULL);

	g_assert_nonnull(p);
	g_assert_cmpint(peer_set_remote_ice(p, THEIR, THEIR_PWD), ==, 0);
	peer_set_media(p, PEER_VIDEO, NULL, NULL, false);
	peer_register(p);
	return p;
}

static struct sockaddr_storage v4(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &in->sin_addr);
	return ss;
}

/* One datagram from `from` on socket fd, as recvmmsg would hand it over. */
static void receive(int fd, const void *data, size_t n, const struct sockaddr_storage *from)
{
	uint8_t buf[DIRECT_MAX_PACKET];
	struct sockaddr_storage name = *from;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct mmsghdr msg;

	g_assert_cmpuint(n, <=, sizeof(buf));
	memcpy(buf, data, n);
	memset(&msg, 0, sizeof(msg));
	msg.msg_hdr.msg_iov = &iov;
	msg.msg_hdr.msg_iovlen = 1;
	msg.msg_hdr.msg_name = &name;
	msg.msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
	msg.msg_len = (unsigned)n;
	peer_receive(fd, &msg, 1);
}

/* A valid check for our ufrag, as a browser sends it (our writer, so ICE-CONTROLLED). */
static int check(uint8_t *out, size_t cap, const char *ufrag)
{
	uint8_t txid[12];
	char *user = g_strdup_printf("%s:%s", ufrag, THEIR);
	int n;

	for (size_t i = 0; i < sizeof(txid); i++)
		txid[i] = (uint8_t)g_random_int();
	n = stun_binding_request(txid, user, OUR_PWD, 0x6e0001ff, 42, out, cap);
	g_free(user);
	g_assert_cmpint(n, >, 0);
	return n;
}

static int udp_socket(struct sockaddr_storage *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(struct sockaddr_in);

	*bound = v4("127.0.0.1", 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)bound, len), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)bound, &len), ==, 0);
	return fd;
}

/* The next datagram on fd within ms, or -1. */
static int next_datagram(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return (int)recv(fd, buf, cap, 0);
}

static guint16 stun_type(const uint8_t *buf)
{
	return (guint16)(buf[0] << 8 | buf[1]);
}

/*
 * A viewer that sends checks from ever-new source ports: the address table
 * holds at most DIRECT_MAX_PATHS entries for it however many it sends, and
 * none once it is unregistered; datagrams from every one of those
 * addresses afterwards find nothing (under ASan: no read of freed memory).
 */
static void test_registry_bounded(void)
{
	struct sockaddr_storage local, from;
	struct peer *p, *q;
	uint8_t buf[STUN_MAX_REQUEST];
	const uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	int fd = udp_socket(&local), i, n;

	peer_registry_init();
	p = make_peer(OUR_UFRAG);
	q = make_peer("Another1");
	for (i = 0; i < 1000; i++) {
		from = v4("127.0.0.1", 20000 + i); /* nothing listens there */
		n = check(buf, sizeof(buf), OUR_UFRAG);
		receive(fd, buf, (size_t)n, &from);
		g_assert_cmpint(peer_registry_addresses(), <=, 2 * DIRECT_MAX_PATHS);
		if (i % 100 == 0) { /* the other viewer keeps its own */
			from = v4("127.0.0.2", 30000 + i);
			n = check(buf, sizeof(buf), "Another1");
			receive(fd, buf, (size_t)n, &from);
		}
	}
	g_assert_cmpint(peer_registry_addresses(), ==, 2 * DIRECT_MAX_PATHS);
	peer_unregister(p);
	g_assert_cmpint(peer_registry_addresses(), ==, DIRECT_MAX_PATHS);
	peer_free(p);
	for (i = 0; i < 1000; i++) {
		from = v4("127.0.0.1", 20000 + i);
		receive(fd, dtls, sizeof(dtls), &from);
	}
	peer_unregister(q);
	g_assert_cmpint(peer_registry_addresses(), ==, 0);
	peer_free(q);
	g_assert_cmpint(peer_live(), ==, 0);
	peer_registry_clear();
	close(fd);
}

/*
 * A viewer's first check (from the address a test socket listens on) gets
 * its success response and, at once, our consent check: a Binding request
 * with USERNAME "their:ours", signed with THEIR password, no bigger than the
 * check. A second check within DIRECT_CONSENT_TRIGGER_MS triggers none; a
 * check smaller than ours triggers none. Once answered, the path in use is
 * checked on schedule until its consent lapses, then no more.
 */
static void test_consent_checks(void)
{
	struct sockaddr_storage local, viewer;
	struct stun_request req;
	uint8_t buf[STUN_MAX_REQUEST], in[1500], out[STUN_MAX_RESPONSE];
	int fd = udp_socket(&local), vfd = udp_socket(&viewer), n, got, len, seen;
	struct peer *p;
	gint64 until;

	consent_set_timing(200, 1); /* a check every 0.16-0.24 s, an answer good for 1 s */
	peer_registry_init();
	p = make_peer(OUR_UFRAG);
	n = check(buf, sizeof(buf), OUR_UFRAG);
	receive(fd, buf, (size_t)n, &viewer);
	got = next_datagram(vfd, in, sizeof(in), 1000);
	g_assert_cmpint(got, >, 0);
	g_assert_cmpuint(stun_type(in), ==, STUN_BINDING_SUCCESS);
	got = next_datagram(vfd, in, sizeof(in), 1000);
	g_assert_cmpint(got, >, 0);
	g_assert_cmpint(got, <=, n);
	g_assert_cmpint(stun_parse_binding_request(in, (size_t)got, &req), ==, 0);
	g_assert_cmpstr(req.username, ==, THEIR ":" OUR_UFRAG);
	g_assert_true(req.ice_controlled);
	g_assert_true(stun_check_integrity(in, (size_t)got, &req, THEIR_PWD));
	g_assert_false(stun_check_integrity(in, (size_t)got, &req, OUR_PWD));

	/* Again at once: answered, but no second check (rate); nor for a short one. */
	receive(fd, buf, (size_t)n, &viewer);
	g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 200), >, 0);
	g_assert_cmpuint(stun_type(in), ==, STUN_BINDING_SUCCESS);
	g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 100), ==, -1);
	g_usleep(DIRECT_CONSENT_TRIGGER_MS * 1000);
	{
		uint8_t small[64];
		const uint8_t rtcp[] = {0x80, 201, 0, 1, 0, 0, 0, 1};

		g_assert_cmpint(peer_tick_all(1000), >=, 0);
		memcpy(small, rtcp, sizeof(rtcp));
		receive(fd, small, sizeof(rtcp), &viewer);
		g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 100), ==, -1);
	}
	/* Not consented: nothing on our own schedule. */
	g_assert_cmpint(peer_tick_all(1000), >=, 0);
	g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 300), ==, -1);

	/* It answers a new check: consent, and checks on schedule while it lasts. */
	receive(fd, buf, (size_t)n, &viewer);
	g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 200), >, 0); /* success */
	got = next_datagram(vfd, in, sizeof(in), 200);
	g_assert_cmpint(got, >, 0);
	g_assert_cmpint(stun_parse_binding_request(in, (size_t)got, &req), ==, 0);
	len = stun_binding_success(&req, (struct sockaddr *)&local, THEIR_PWD, out, sizeof(out));
	g_assert_cmpint(len, >, 0);
	receive(fd, out, (size_t)len, &viewer);
	receive(fd, out, (size_t)len, &viewer); /* a replay counts once, and is harmless */
	seen = 0;
	until = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < until) {
		g_usleep(20000);
		peer_tick_all(50);
		while ((got = next_datagram(vfd, in, sizeof(in), 0)) > 0) {
			g_assert_cmpuint(stun_type(in), ==, STUN_BINDING_REQUEST);
			seen++;
		}
	}
	/* Fresh for 1 s from the answer, a check every ~0.2 s: about 5, then none. */
	g_assert_cmpint(seen, >=, 3);
	g_assert_cmpint(seen, <=, 7);

	peer_unregister(p);
	peer_free(p);
	peer_registry_clear();
	consent_set_timing(DIRECT_CONSENT_INTERVAL_MS, 30);
	close(fd);
	close(vfd);
}

/*
 * A ClientHello in several datagrams (Chromium's, with its post-quantum key
 * share, comes in two) from an address that has not answered our consent
 * check yet: every datagram waits, and once the answer comes the handshake
 * goes on at once. Keeping only the latest cost every Chromium join a DTLS
 * retransmission (~50 ms of its first frame).
 */
static void test_handshake_waits_whole(void)
{
	struct sockaddr_storage local, viewer;
	struct stun_request req;
	uint8_t buf[STUN_MAX_REQUEST], in[1500], out[STUN_MAX_RESPONSE];
	int fd = udp_socket(&local), vfd = udp_socket(&viewer), n, got, len, records = 0;
	char host[201];
	SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
	SSL *client = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	char *hello;
	long hello_len, at;
	struct peer *p;
	gint64 until;
	bool answered = false;

	peer_registry_init();
	p = make_peer(OUR_UFRAG);
	n = check(buf, sizeof(buf), OUR_UFRAG);
	receive(fd, buf, (size_t)n, &viewer);
	g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 1000), >, 0); /* its answer */
	got = next_datagram(vfd, in, sizeof(in), 1000);                  /* our check */
	g_assert_cmpint(stun_parse_binding_request(in, (size_t)got, &req), ==, 0);

	/* A ClientHello bigger than the MTU: OpenSSL sends it in fragments, a record each. */
	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	SSL_set_bio(client, rbio, wbio);
	SSL_set_connect_state(client);
	SSL_set_options(client, SSL_OP_NO_QUERY_MTU);
	g_assert_true(SSL_set_mtu(client, 256));
	g_assert_true(SSL_set_tlsext_host_name(client, host));
	g_assert_cmpint(SSL_do_handshake(client), <=, 0);
	hello_len = BIO_get_mem_data(wbio, &hello);
	for (at = 0; at + 13 <= hello_len; records++) {
		long rec = 13 + ((uint8_t)hello[at + 11] << 8 | (uint8_t)hello[at + 12]);

		receive(fd, hello + at, (size_t)rec, &viewer); /* each record its own datagram */
		at += rec;
	}
	g_assert_cmpint(records, >=, 2);
	g_assert_cmpint(next_datagram(vfd, in, sizeof(in), 100), ==, -1); /* no consent: silence */

	len = stun_binding_success(&req, (struct sockaddr *)&local, THEIR_PWD, out, sizeof(out));
	receive(fd, out, (size_t)len, &viewer);
	until = g_get_monotonic_time() + 500 * 1000;
	while (!answered && g_get_monotonic_time() < until) {
		got = next_datagram(vfd, in, sizeof(in), 50);
		answered = got > 13 && in[0] == 22; /* a DTLS handshake record: our ServerHello */
	}
	g_assert_true(answered);

	SSL_free(client);
	SSL_CTX_free(ctx);
	peer_unregister(p);
	peer_free(p);
	peer_registry_clear();
	close(fd);
	close(vfd);
}

/* The viewer's credentials go into every check: RFC 8839 sizes, no ':' in the ufrag. */
static void test_remote_ice(void)
{
	struct peer *p = peer_new("testpeer", OUR_UFRAG, OUR_PWD, ANY_FP, &events, NULL);
	char *longest = g_strnfill(DIRECT_MAX_ICE_CHARS, 'a');
	char *too_long = g_strnfill(DIRECT_MAX_ICE_CHARS + 1, 'a');

	g_assert_cmpint(peer_set_remote_ice(p, longest, longest), ==, 0);
	g_assert_cmpint(peer_set_remote_ice(p, too_long, THEIR_PWD), ==, -1);
	g_assert_cmpint(peer_set_remote_ice(p, THEIR, too_long), ==, -1);
	g_assert_cmpint(peer_set_remote_ice(p, "", THEIR_PWD), ==, -1);
	g_assert_cmpint(peer_set_remote_ice(p, THEIR, ""), ==, -1);
	g_assert_cmpint(peer_set_remote_ice(p, "a:b", THEIR_PWD), ==, -1);
	g_assert_cmpint(peer_set_remote_ice(p, NULL, THEIR_PWD), ==, -1);
	peer_free(p);
	g_free(longest);
	g_free(too_long);
}

int main(int argc, char **argv)
{
	char *err = NULL;

	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(dtls_init(&err), ==, 0);
	g_test_add_func("/peer/registry-bounded", test_registry_bounded);
	g_test_add_func("/peer/consent-checks", test_consent_checks);
	g_test_add_func("/peer/remote-ice", test_remote_ice);
	g_test_add_func("/peer/handshake-waits-whole", test_handshake_waits_whole);
	return g_test_run();
}
