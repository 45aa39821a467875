/*
 * rx_viewer.c - one whep_rx viewer: its POST, the ICE check that nominates
 * (USE-CANDIDATE), the DTLS handshake, then media counted from the plain RTP
 * header (rx_media.c), consent both ways (RFC 7675), and its DELETE. Runs
 * on whep_rx's only thread; owns
 * its UDP socket, its HTTP request and its SSL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "rx.h"

#define SLOT_HEAD      128 /* an RTP header, a consent check (96 bytes), a DTLS alert */
#define MAX_BATCH      256
#define CHECK_EVERY_MS 100
/* As patient as a browser: a loaded server answers late, and the bench reports how late. */
#define ICE_TIMEOUT_MS    15000
#define JOIN_TIMEOUT_MS   30000
#define DELETE_TIMEOUT_MS 30000

struct rx_global G;
static uint8_t slots[MAX_BATCH][RX_SLOT_FULL];
static struct mmsghdr msgs[MAX_BATCH];
static struct iovec iov[MAX_BATCH];

/*
 * --gro: the socket takes a sender's UDP GSO datagram whole (UDP_GRO), as
 * one buffer of up to 64 KiB whose segments are gso_size bytes each (the
 * last may be shorter): read whole, each segment counted as a datagram.
 */
#define GRO_BATCH 32
#define GRO_MAX   65536
static uint8_t gro_slots[GRO_BATCH][GRO_MAX];
static union {
	struct cmsghdr hdr;
	uint8_t buf[CMSG_SPACE(sizeof(int))];
} gro_control[GRO_BATCH];

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fail(struct viewer *v, const char *why)
{
	if (!v->done) {
		v->done = true;
		v->failed = true;
		v->why = why;
	}
}

static void random_text(char *out, size_t n)
{
	static const char abc[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
	uint8_t r[64];

	RAND_bytes(r, (int)n);
	for (size_t i = 0; i < n; i++)
		out[i] = abc[r[i] & 63];
	out[n] = '\0';
}

static void watch_http(struct viewer *v, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.ptr = &v->http_src};

	epoll_ctl(G.ep, op, v->http->fd, &ev);
}

static int request(struct viewer *v, const char *method, const char *path, const char *body,
                   size_t len)
{
	v->http = calloc(1, sizeof(*v->http));
	if (v->http == NULL)
		return -1;
	if (http_start(v->http, &v->local, &G.server, method, path, G.host, body, len) != 0) {
		free(v->http);
		v->http = NULL;
		return -1;
	}
	watch_http(v, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
	return 0;
}

static void end_request(struct viewer *v)
{
	if (v->http == NULL)
		return;
	epoll_ctl(G.ep, EPOLL_CTL_DEL, v->http->fd, NULL);
	http_free(v->http);
	free(v->http);
	v->http = NULL;
}

struct viewer *viewer_start(int id, const struct in_addr *local, enum rx_profile profile)
{
	struct viewer *v = calloc(1, sizeof(*v));
	struct epoll_event ev = {.events = EPOLLIN};
	socklen_t len = sizeof(v->local);
	char offer[4096];
	size_t n;

	if (v == NULL)
		return NULL;
	v->id = id;
	v->udp_src = (struct src){SRC_UDP, v};
	v->http_src = (struct src){SRC_HTTP, v};
	v->want_profile = profile;
	v->t0 = now_ms();
	v->deadline = v->t0 + JOIN_TIMEOUT_MS;
	v->local.sin_family = AF_INET;
	v->local.sin_addr = *local;
	random_text(v->ufrag, RX_UFRAG_LEN);
	random_text(v->pwd, RX_PWD_LEN);
	v->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->udp < 0)
		goto fail;
	/* FORCE passes net.core.rmem_max as root; as anyone else the plain option is capped by it.
	 */
	if (G.rcvbuf > 0 &&
	    setsockopt(v->udp, SOL_SOCKET, SO_RCVBUFFORCE, &G.rcvbuf, sizeof(G.rcvbuf)) != 0)
		setsockopt(v->udp, SOL_SOCKET, SO_RCVBUF, &G.rcvbuf, sizeof(G.rcvbuf));
	if (G.gro && setsockopt(v->udp, SOL_UDP, UDP_GRO, &(int){1}, sizeof(int)) != 0)
		goto fail;
	if (bind(v->udp, (struct sockaddr *)&v->local, sizeof(v->local)) != 0 ||
	    getsockname(v->udp, (struct sockaddr *)&v->local, &len) != 0)
		goto fail;
	ev.data.ptr = &v->udp_src;
	epoll_ctl(G.ep, EPOLL_CTL_ADD, v->udp, &ev);
	n = sdp_offer(offer, sizeof(offer), v->ufrag, v->pwd, G.fp, &v->local);
	v->local.sin_port = 0; /* the HTTP connection gets a port of its own */
	if (n == 0 || request(v, "POST", G.path, offer, n) != 0)
		goto fail;
	return v;
fail:
	if (v->udp > 0)
		close(v->udp);
	free(v);
	return NULL;
}

static void send_check(struct viewer *v, bool nominate)
{
	uint8_t out[1024]; /* USERNAME is at most 2 * RX_MAX_CRED + 1: under 600 bytes in all */
	size_t n;

	RAND_bytes(v->txid, sizeof(v->txid));
	n = stun_write_request(out, v->txid, v->user_out, v->ans.pwd, ((uint64_t)v->id << 32) | 1,
	                       nominate);
	(void)send(v->udp, out, n, MSG_DONTWAIT);
}

/* The 201: the answer tells where to check and what certificate to expect. */
static void on_answer(struct viewer *v)
{
	struct http_req *r = v->http;
	const char *why = NULL;

	v->t201 = now_ms();
	if (r->status != 201) {
		fail(v, r->status == 503   ? "post-503"
		        : r->status == 429 ? "post-429"
		        : r->status == 409 ? "post-409"
		        : r->status == 502 ? "post-502"
		        : r->status == 504 ? "post-504"
		                           : "post-not-201");
		return;
	}
	if (r->location[0] == '\0') {
		fail(v, "201 without Location");
		return;
	}
	/* Location: relative as whepcam sends it, or absolute: keep the path. */
	const char *loc = r->location, *slash = strstr(loc, "://");
	if (slash != NULL)
		loc = strchr(slash + 3, '/') ? strchr(slash + 3, '/') : "/";
	snprintf(v->location, sizeof(v->location), "%s", loc);
	if (sdp_answer(r->body, &v->local.sin_addr, &v->ans, &why) != 0) {
		fail(v, why);
		return;
	}
	snprintf(v->user_out, sizeof(v->user_out), "%s:%s", v->ans.ufrag, v->ufrag);
	snprintf(v->user_in, sizeof(v->user_in), "%s:%s", v->ufrag, v->ans.ufrag);
	if (connect(v->udp, (struct sockaddr *)&v->ans.cand, sizeof(v->ans.cand)) != 0) {
		fail(v, "cannot connect the UDP socket to the candidate");
		return;
	}
	v->state = V_ICE;
	send_check(v, true);
	v->next_check = v->t201 + CHECK_EVERY_MS;
}

void viewer_on_http(struct viewer *v, uint32_t events)
{
	bool want_write = true;
	int rc;

	if (v->http == NULL)
		return;
	rc = http_step(v->http, &want_write);
	if (rc == 0) {
		if (!want_write)
			watch_http(v, EPOLLIN, EPOLL_CTL_MOD);
		return;
	}
	if (v->state == V_POST) {
		if (rc < 0)
			fail(v, "POST failed (connection)");
		else
			on_answer(v); /* a failure leaves the owner to DELETE what has a Location */
	} else if (v->state == V_DELETE) {
		v->delete_status = rc > 0 ? v->http->status : -1;
		v->state = V_GONE;
	}
	end_request(v);
}

static void start_dtls(struct viewer *v)
{
	v->t_ice = now_ms();
	v->ssl = dtls_rx_new(v->udp, v->want_profile);
	if (v->ssl == NULL) {
		fail(v, "cannot create the DTLS client");
		return;
	}
	v->state = V_DTLS;
	if (dtls_rx_feed(v->ssl, NULL, 0) < 0)
		fail(v, "DTLS ClientHello failed");
}

static void on_dtls(struct viewer *v, const uint8_t *p, size_t n)
{
	const char *why = NULL;
	int rc;

	if (v->ssl == NULL)
		return;
	rc = dtls_rx_feed(v->ssl, p, n);
	if (v->state == V_UP) {
		v->dtls_after++; /* a retransmitted flight (answered) or the server's close */
		return;
	}
	if (rc < 0) {
		fail(v, "DTLS handshake failed");
	} else if (rc == 1) {
		if (dtls_rx_finish(v->ssl, v->ans.fp, &v->srtp, G.corrupt_key, &why) != 0) {
			fail(v, why);
			return;
		}
		v->t_dtls = now_ms();
		v->state = V_UP;
		v->next_keepalive = v->t_dtls + G.keepalive_ms;
	}
}

static void on_stun(struct viewer *v, const uint8_t *p, size_t n)
{
	uint8_t out[512];
	size_t len;

	if (stun_is_success(p, n, v->txid, v->ans.pwd)) {
		if (v->state == V_ICE)
			start_dtls(v);
		else
			v->keepalive_ok++;
		return;
	}
	len = stun_answer(p, n, v->user_in, v->pwd, &v->ans.cand, out, sizeof(out));
	if (len > 0) {
		(void)send(v->udp, out, len, MSG_DONTWAIT);
		v->consent_answered++;
	} else {
		v->stun_other++;
	}
}

static void on_datagram(struct viewer *v, const uint8_t *p, size_t avail, size_t n, double now)
{
	if (n == 0)
		return;
	if (p[0] >= 128 && p[0] <= 191 && avail >= 12) {
		if (p[1] >= 192 && p[1] <= 223) /* RTCP (RFC 5761 4) */
			media_on_rtcp(v, p, avail);
		else
			media_on_rtp(v, p, avail, n, now);
	} else if (avail < n) {
		v->other++; /* cut short: only media is read that way */
	} else if (p[0] <= 3) {
		on_stun(v, p, n);
	} else if (p[0] >= 20 && p[0] <= 63) {
		on_dtls(v, p, n);
	} else {
		v->other++;
	}
}

/* The segment size of a coalesced datagram; 0 when it is one datagram. */
static size_t gro_segment(struct msghdr *h)
{
	struct cmsghdr *c;
	int size;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	return 0;
}

static void viewer_on_udp_gro(struct viewer *v, double now)
{
	int n, i, rounds;

	for (rounds = 0; rounds < 4; rounds++) {
		for (i = 0; i < GRO_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = gro_slots[i], .iov_len = GRO_MAX};
			msgs[i].msg_hdr =
			    (struct msghdr){.msg_iov = &iov[i],
			                    .msg_iovlen = 1,
			                    .msg_control = gro_control[i].buf,
			                    .msg_controllen = sizeof(gro_control[i].buf)};
		}
		n = recvmmsg(v->udp, msgs, GRO_BATCH, MSG_DONTWAIT, NULL);
		G.recv_calls++;
		if (n <= 0)
			break;
		for (i = 0; i < n && v->udp >= 0; i++) {
			size_t len = msgs[i].msg_len, seg = gro_segment(&msgs[i].msg_hdr), off;

			if (seg == 0 || seg > len)
				seg = len;
			for (off = 0; off < len && v->udp >= 0; off += seg) {
				size_t k = len - off < seg ? len - off : seg;

				G.datagrams++;
				on_datagram(v, gro_slots[i] + off, k, k, now);
			}
		}
		if (n < GRO_BATCH)
			break;
	}
}

void viewer_on_udp(struct viewer *v)
{
	double now = now_ms();
	int vlen = G.batch > MAX_BATCH ? MAX_BATCH : G.batch, n, i, rounds;

	if (G.gro) {
		viewer_on_udp_gro(v, now);
		return;
	}

	for (rounds = 0; rounds < 4; rounds++) {
		/* Whole datagrams while anything but counting is to be done. */
		bool full = v->state != V_UP || now < v->full_until || now >= v->next_sample ||
		            (v->decrypts < G.decrypt_first && v->t_key == 0) ||
		            (G.audio && v->a_decrypt_ok + v->a_decrypt_fail < RX_AUDIO_DECRYPT);
		size_t cap = full ? RX_SLOT_FULL : SLOT_HEAD;

		for (i = 0; i < vlen; i++) {
			iov[i].iov_base = slots[i];
			iov[i].iov_len = cap;
			msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		n = recvmmsg(v->udp, msgs, (unsigned)vlen, MSG_DONTWAIT | (full ? 0 : MSG_TRUNC),
		             NULL);
		G.recv_calls++;
		if (n <= 0)
			break;
		G.datagrams += (uint64_t)n;
		for (i = 0; i < n && v->udp >= 0; i++) {
			size_t len = msgs[i].msg_len;

			on_datagram(v, slots[i], len < cap ? len : cap, len, now);
		}
		if (n < vlen)
			break;
	}
}

void viewer_tick(struct viewer *v, double now)
{
	struct timeval tv;

	if (!v->done && now >= v->deadline)
		fail(v, v->state == V_POST   ? "no answer"
		        : v->state == V_ICE  ? "no ICE success"
		        : v->state == V_DTLS ? "DTLS not done"
		                             : "no media");
	switch (v->state) {
	case V_ICE:
		if (now - v->t201 > ICE_TIMEOUT_MS)
			fail(v, "no ICE success");
		else if (now >= v->next_check && !v->done) {
			send_check(v, true);
			v->next_check = now + CHECK_EVERY_MS;
		}
		break;
	case V_DTLS:
		if (!v->done && DTLSv1_get_timeout(v->ssl, &tv) == 1 && tv.tv_sec == 0 &&
		    tv.tv_usec == 0 && DTLSv1_handle_timeout(v->ssl) < 0)
			fail(v, "DTLS retransmission failed");
		break;
	case V_UP:
		if (now >= v->next_keepalive) { /* consent (RFC 7675 5.1), as browsers send it */
			send_check(v, false);
			v->keepalive_sent++;
			v->next_keepalive = now + G.keepalive_ms;
		}
		break;
	case V_DELETE:
		if (now >= v->deadline) { /* no answer: the DELETE counts as failed (-1) */
			end_request(v);
			v->delete_status = -1;
			v->state = V_GONE;
		}
		break;
	default:
		break;
	}
}

void viewer_delete(struct viewer *v)
{
	end_request(v);
	if (v->location[0] == '\0' || request(v, "DELETE", v->location, "", 0) != 0) {
		v->delete_status = v->location[0] == '\0' ? 0 : -1;
		v->state = V_GONE;
		return;
	}
	v->state = V_DELETE;
	v->deadline = now_ms() + DELETE_TIMEOUT_MS;
}

void viewer_free(struct viewer *v)
{
	end_request(v);
	if (v->udp >= 0) {
		epoll_ctl(G.ep, EPOLL_CTL_DEL, v->udp, NULL);
		close(v->udp);
	}
	SSL_free(v->ssl);
	OPENSSL_cleanse(&v->srtp, sizeof(v->srtp));
	free(v);
}
