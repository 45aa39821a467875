/*
 * rx_http.c - what whep_rx says over HTTP/1.1 and SDP: the offer a viewer
 * POSTs (recvonly VP8, one m-line, its host candidate; --audio: and Opus on a
 * second one), the answer it gets back (ICE credentials, fingerprint, the
 * candidate to check, the SSRCs), and
 * a non-blocking request on its own connection (Connection: close), driven
 * by the caller's event loop. Each buffer has its cap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rx.h"

#define MAX_RESPONSE (RX_MAX_SDP + 16384)

size_t sdp_offer(char *out, size_t cap, const char *ufrag, const char *pwd, const char *fp,
                 const struct sockaddr_in *local)
{
	char ip[INET_ADDRSTRLEN], audio[768] = "";
	int n;

	const char *codec = G.h264 ? "a=rtpmap:96 H264/90000\r\n"
	                             "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;"
	                             "profile-level-id=64001f\r\n"
	                           : "a=rtpmap:96 VP8/90000\r\n";

	inet_ntop(AF_INET, &local->sin_addr, ip, sizeof(ip));
	/* Opus as browsers offer it; its candidates are the bundle's, on the first m-line. */
	if (G.audio &&
	    snprintf(audio, sizeof(audio),
	             "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n"
	             "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
	             "a=fingerprint:%s\r\na=setup:actpass\r\na=mid:1\r\na=recvonly\r\n"
	             "a=rtcp-mux\r\na=rtpmap:%d opus/48000/2\r\n"
	             "a=fmtp:%d minptime=10;useinbandfec=1\r\n",
	             RX_OPUS_PT, ufrag, pwd, fp, RX_OPUS_PT, RX_OPUS_PT) >= (int)sizeof(audio))
		return 0;
	n = snprintf(out, cap,
	             "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	             "a=group:BUNDLE 0%s\r\na=msid-semantic: WMS\r\n"
	             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
	             "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
	             "a=fingerprint:%s\r\na=setup:actpass\r\na=mid:0\r\na=recvonly\r\n"
	             "a=rtcp-mux\r\n%s"
	             "a=candidate:1 1 udp 2122260223 %s %u typ host\r\na=end-of-candidates\r\n"
	             "%s",
	             (unsigned)random(), G.audio ? " 1" : "", ufrag, pwd, fp, codec, ip,
	             (unsigned)ntohs(local->sin_port), audio);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* A decimal number in [0, max] that fills [s, e). */
static int number(const char *s, const char *e, unsigned long max, unsigned long *out)
{
	char *end;

	if (s == e || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end == e && *out <= max ? 0 : -1;
}

/* Copies the value after `key` on this line into out (cap bytes); 0 or -1. */
static int value(const char *line, const char *eol, const char *key, char *out, size_t cap)
{
	size_t k = strlen(key), n;

	if ((size_t)(eol - line) < k || strncmp(line, key, k) != 0)
		return -1;
	n = (size_t)(eol - line) - k;
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, line + k, n);
	out[n] = '\0';
	return 0;
}

static int hexbyte(const char *s, uint8_t *out)
{
	int v = 0;

	for (int i = 0; i < 2; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = (uint8_t)v;
	return 0;
}

static int fingerprint(const char *v, uint8_t fp[RX_FP_LEN])
{
	if (strncasecmp(v, "sha-256 ", 8) != 0 || strlen(v + 8) != 3 * RX_FP_LEN - 1)
		return -1;
	for (int i = 0; i < RX_FP_LEN; i++)
		if (hexbyte(v + 8 + 3 * i, &fp[i]) != 0 ||
		    (i < RX_FP_LEN - 1 && v[10 + 3 * i] != ':'))
			return -1;
	return 0;
}

/* "a=candidate:F C udp PRIO IP PORT typ …": its UDP IPv4 address, 0 or -1. */
static int candidate(const char *line, const char *eol, struct sockaddr_in *out)
{
	const char *f[6];
	const char *p = line;
	char ip[INET_ADDRSTRLEN];
	unsigned long port;
	int i;

	for (i = 0; i < 6 && p < eol; i++) {
		f[i] = p;
		while (p < eol && *p != ' ')
			p++;
		while (p < eol && *p == ' ')
			p++;
	}
	if (i < 6 || strncasecmp(f[2], "udp ", 4) != 0 || (size_t)(f[5] - f[4] - 1) >= sizeof(ip))
		return -1;
	memcpy(ip, f[4], (size_t)(f[5] - f[4] - 1));
	ip[f[5] - f[4] - 1] = '\0';
	const char *pe = f[5];
	while (pe < eol && *pe != ' ')
		pe++;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &out->sin_addr) != 1 || number(f[5], pe, 65535, &port) != 0 ||
	    port == 0)
		return -1;
	out->sin_port = htons((uint16_t)port);
	return 0;
}

int sdp_answer(const char *sdp, const struct in_addr *prefer, struct answer *a, const char **why)
{
	const char *p = sdp;
	char fp[256];
	bool have_fp = false, have_cand = false, in_audio = false;

	memset(a, 0, sizeof(*a));
	while (*p != '\0') {
		const char *eol = p + strcspn(p, "\r\n"), *next = eol;
		struct sockaddr_in c;
		unsigned long ssrc;

		while (*next == '\r' || *next == '\n')
			next++;
		if (a->ufrag[0] == '\0')
			(void)value(p, eol, "a=ice-ufrag:", a->ufrag, sizeof(a->ufrag));
		if (a->pwd[0] == '\0')
			(void)value(p, eol, "a=ice-pwd:", a->pwd, sizeof(a->pwd));
		if (!have_fp && value(p, eol, "a=fingerprint:", fp, sizeof(fp)) == 0) {
			if (fingerprint(fp, a->fp) != 0) {
				*why = "answer has a fingerprint that is not sha-256";
				return -1;
			}
			have_fp = true;
		}
		if (strncmp(p, "a=candidate:", 12) == 0 && candidate(p + 12, eol, &c) == 0 &&
		    (!have_cand || c.sin_addr.s_addr == prefer->s_addr)) {
			if (!have_cand || a->cand.sin_addr.s_addr != prefer->s_addr)
				a->cand = c;
			have_cand = true;
		}
		if (strncmp(p, "m=", 2) == 0)
			in_audio = strncmp(p, "m=audio ", 8) == 0;
		uint32_t *want = in_audio ? &a->audio_ssrc : &a->ssrc;
		if (*want == 0 && strncmp(p, "a=ssrc:", 7) == 0) {
			const char *e = p + 7 + strcspn(p + 7, " \r\n");

			if (number(p + 7, e, 0xffffffffUL, &ssrc) == 0)
				*want = (uint32_t)ssrc;
		}
		p = next;
	}
	*why = a->ufrag[0] == '\0' || a->pwd[0] == '\0' ? "answer has no ICE credentials"
	       : !have_fp                               ? "answer has no fingerprint"
	       : !have_cand                             ? "answer has no UDP IPv4 candidate"
	                                                : NULL;
	return *why == NULL ? 0 : -1;
}

int http_start(struct http_req *r, const struct sockaddr_in *local,
               const struct sockaddr_in *server, const char *method, const char *path,
               const char *host, const char *body, size_t body_len)
{
	size_t cap = strlen(method) + strlen(path) + strlen(host) + body_len + 256;
	int n;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r->out = malloc(cap);
	if (r->fd < 0 || r->out == NULL)
		goto fail;
	n = snprintf(r->out, cap,
	             "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/sdp\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	             method, path, host, body_len);
	if (n < 0 || (size_t)n + body_len >= cap)
		goto fail;
	memcpy(r->out + n, body, body_len);
	r->out_len = (size_t)n + body_len;
	if (bind(r->fd, (const struct sockaddr *)local, sizeof(*local)) != 0 ||
	    (connect(r->fd, (const struct sockaddr *)server, sizeof(*server)) != 0 &&
	     errno != EINPROGRESS))
		goto fail;
	return 0;
fail:
	http_free(r);
	return -1;
}

/* 1 when the response is complete (headers, and Content-Length bytes or EOF). */
static int parse(struct http_req *r, bool eof)
{
	char *end, *p, *line;
	unsigned long status, clen = 0;
	bool have_len = false;

	r->in[r->in_len] = '\0';
	end = strstr(r->in, "\r\n\r\n");
	if (end == NULL)
		return eof ? -1 : 0;
	if (r->in_len < 12 || strncmp(r->in, "HTTP/1.", 7) != 0 ||
	    number(r->in + 9, r->in + 12, 999, &status) != 0)
		return -1;
	for (line = strstr(r->in, "\r\n") + 2; line < end; line = p + 2) {
		p = strstr(line, "\r\n");
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			const char *v = line + 15;

			while (*v == ' ')
				v++;
			if (number(v, p, MAX_RESPONSE, &clen) != 0)
				return -1;
			have_len = true;
		} else if (strncasecmp(line, "Location:", 9) == 0) {
			const char *v = line + 9;

			while (*v == ' ')
				v++;
			if ((size_t)(p - v) >= sizeof(r->location))
				return -1;
			memcpy(r->location, v, (size_t)(p - v));
			r->location[p - v] = '\0';
		}
	}
	if (have_len ? r->in_len < (size_t)(end + 4 - r->in) + clen : !eof)
		return 0;
	r->status = (int)status;
	r->body = end + 4;
	return 1;
}

int http_step(struct http_req *r, bool *want_write)
{
	ssize_t n;

	if (r->out_off < r->out_len) {
		n = send(r->fd, r->out + r->out_off, r->out_len - r->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN ? 0
			                                                                    : -1;
		r->out_off += (size_t)n;
		*want_write = r->out_off < r->out_len;
		return 0;
	}
	*want_write = false;
	for (;;) {
		if (r->in_cap - r->in_len < 4096) {
			size_t cap = r->in_cap ? 2 * r->in_cap : 8192;
			char *in;

			if (cap > MAX_RESPONSE + 1)
				return -1;
			in = realloc(r->in, cap);
			if (in == NULL)
				return -1;
			r->in = in;
			r->in_cap = cap;
		}
		n = recv(r->fd, r->in + r->in_len, r->in_cap - r->in_len - 1, 0);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		r->in_len += (size_t)n;
		if (n == 0 || parse(r, false) != 0)
			return parse(r, n == 0);
	}
}

void http_free(struct http_req *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->out);
	free(r->in);
	r->fd = -1;
	r->out = r->in = NULL;
}
