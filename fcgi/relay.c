/*
 * relay.c - the daemon client: one connection per request, one JSON line
 * each way, every step bounded by WHEPCAM_RELAY_TIMEOUT_MS, and the reply
 * checked against proto_reply_fields before anyone trusts it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fcgi.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 ? -1 : rc;
	}
}

json_object *relay_call(const char *socket_path, json_object *request, int *http_status, char *err,
                        size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	long long deadline = now_ms() + WHEPCAM_RELAY_TIMEOUT_MS;
	json_object *reply = NULL;
	char *line = proto_line(request), *buf = NULL;
	size_t len = 0, off = 0, cap = 0;
	int fd = -1, rc;

	*http_status = 503;
	if (line == NULL || strlen(socket_path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "cannot reach the whepcam daemon");
		goto fail;
	}
	strncpy(addr.sun_path, socket_path, sizeof(addr.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		snprintf(err, errlen, "the whepcam daemon is not running; try again shortly");
		goto fail;
	}
	len = strlen(line);
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) &&
		    (rc = wait_fd(fd, POLLOUT, deadline)) > 0)
			continue;
		*http_status = n < 0 && errno == EAGAIN ? 504 : 503;
		snprintf(err, errlen, "the whepcam daemon did not take the request");
		goto fail;
	}
	/* Read until the reply's newline or the daemon closes. */
	off = 0;
	for (;;) {
		ssize_t n;

		if (off + 4096 > cap) {
			char *grown;

			if (cap >= WHEPCAM_MAX_MSG_BYTES + 4096) {
				*http_status = 502;
				snprintf(err, errlen, "the whepcam daemon's reply is too long");
				goto fail;
			}
			cap = cap == 0 ? 16384 : cap * 2;
			grown = realloc(buf, cap + 1);
			if (grown == NULL)
				goto fail;
			buf = grown;
		}
		n = recv(fd, buf + off, cap - off, 0);
		if (n > 0) {
			off += (size_t)n;
			if (memchr(buf + off - (size_t)n, '\n', (size_t)n) != NULL)
				break;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && (rc = wait_fd(fd, POLLIN, deadline)) > 0)
			continue;
		*http_status = errno == EAGAIN && rc == 0 ? 504 : 503;
		snprintf(err, errlen,
		         *http_status == 504 ? "the whepcam daemon did not answer in time"
		                             : "lost the connection to the whepcam daemon");
		goto fail;
	}
	*http_status = 502;
	reply = proto_parse_object(buf, off, err, errlen);
	if (reply == NULL || proto_check_fields(reply, proto_reply_fields, err, errlen) != 0) {
		json_object_put(reply);
		reply = NULL;
		goto fail;
	}
	*http_status = 0;
fail:
	if (fd >= 0)
		close(fd);
	free(line);
	free(buf);
	return reply;
}
