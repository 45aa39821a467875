/*
 * udp.c - the direct path's sockets and its one receive thread: every
 * viewer's ICE checks, DTLS handshake and RTCP arrive on the same few UDP
 * ports (one per local address), read in batches and handed to the peer
 * registry (peer.c), which tells them apart. Owns the sockets, the thread
 * and our host candidates.
 */
#define G_LOG_DOMAIN "udp"
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/util.h"
#include "lite.h"
#include "peer.h"
#include "udp.h"

#define UDP_IDLE_POLL_MS 1000 /* no timer due sooner: only the stop flag to look at */

struct rx_socket {
	int fd;
	char host[INET6_ADDRSTRLEN];
	int port;
};

static struct {
	struct rx_socket socks[DIRECT_MAX_SOCKETS];
	int nsocks;
	int wake_fd;
	gint stop;
	GThread *thread;
	GPtrArray *candidates; /* "candidate:…" of our sockets */
} U = {.wake_fd = -1};

/* ---- sockets ---- */

static int open_socket(const char *host, const struct daemon_config *cfg, struct rx_socket *out,
                       char **err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, port, buf = DIRECT_SOCKET_BUF, low = cfg->min_port, high = cfg->max_port;
	const char *env = g_getenv("WHEPCAM_UDP_SNDBUF"); /* tests: a box with default limits */

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) ==
	           1) {
		ss.ss_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	} else {
		*err = g_strdup_printf("ICE address %s is not an IP address", host);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = g_strdup_printf("socket for %s: %s", host, g_strerror(errno));
		return -1;
	}
	/*
	 * Every viewer's media leaves through this one buffer; the kernel caps
	 * it at net.core.wmem_max (212992 on a stock Debian: docs/deploy.md).
	 */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (env != NULL)
		buf = (int)g_ascii_strtoll(env, NULL, 10);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (low == 0)
		low = high = 0; /* any port the kernel picks */
	for (port = low; port <= high; port++) {
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)(void *)&ss)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			break;
	}
	if (port > high) {
		*err = g_strdup_printf("no free UDP port for %s in %d-%d: %s", host, low, high,
		                       g_strerror(errno));
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &len);
	out->fd = fd;
	g_strlcpy(out->host, host, sizeof(out->host));
	out->port =
	    ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)(void *)&ss)->sin_port
	                                  : ((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	return 0;
}

/* Every interface's addresses but loopback and link-local; loopback when that is all. */
static GPtrArray *local_addresses(void)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	struct ifaddrs *ifs = NULL, *i;

	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i != NULL; i = i->ifa_next) {
			char buf[INET6_ADDRSTRLEN];

			if (!util_usable_address(i->ifa_addr, buf, sizeof(buf)) ||
			    g_str_has_prefix(buf, "127.") || strcmp(buf, "::1") == 0 ||
			    out->len >= DIRECT_MAX_SOCKETS)
				continue;
			g_ptr_array_add(out, g_strdup(buf));
		}
		freeifaddrs(ifs);
	}
	if (out->len == 0)
		g_ptr_array_add(out, g_strdup("127.0.0.1"));
	return out;
}

/* RFC 8445 §5.1.2.1 host priority: type 126, local preference by order, component 1. */
static GPtrArray *host_candidates(void)
{
	GPtrArray *c = g_ptr_array_new_with_free_func(g_free);
	int i;

	for (i = 0; i < U.nsocks; i++)
		g_ptr_array_add(c,
		                g_strdup_printf("candidate:%d 1 udp %u %s %d typ host", i + 1,
		                                (126u << 24) | ((65535u - (unsigned)i) << 8) | 255u,
		                                U.socks[i].host, U.socks[i].port));
	return c;
}

const GPtrArray *udp_candidates(void)
{
	return U.candidates;
}

/* ---- the receive thread ---- */

static void drain_socket(int fd)
{
	static uint8_t bufs[DIRECT_BATCH][DIRECT_MAX_PACKET];
	static struct sockaddr_storage from[DIRECT_BATCH];
	struct mmsghdr msgs[DIRECT_BATCH];
	struct iovec iov[DIRECT_BATCH];
	int i, n, rounds;

	/* Bounded: one busy socket must not starve the others or the timers. */
	for (rounds = 0; rounds < 16; rounds++) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < DIRECT_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, msgs, DIRECT_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		peer_receive(fd, msgs, (unsigned)n);
		if (n < DIRECT_BATCH)
			return;
	}
}

static gpointer rx_thread(gpointer data)
{
	struct pollfd pfds[DIRECT_MAX_SOCKETS + 1];
	int wait_ms = UDP_IDLE_POLL_MS, i;

	for (i = 0; i < U.nsocks; i++)
		pfds[i] = (struct pollfd){.fd = U.socks[i].fd, .events = POLLIN};
	pfds[U.nsocks] = (struct pollfd){.fd = U.wake_fd, .events = POLLIN};
	while (!g_atomic_int_get(&U.stop)) {
		poll(pfds, (nfds_t)U.nsocks + 1, wait_ms);
		for (i = 0; i < U.nsocks; i++)
			if (pfds[i].revents & POLLIN)
				drain_socket(pfds[i].fd);
		wait_ms = peer_tick_all(UDP_IDLE_POLL_MS); /* DTLS and consent timers */
	}
	return NULL;
}

/* ---- main thread ---- */

int udp_start(const struct daemon_config *cfg, char **err)
{
	GPtrArray *hosts = NULL;
	guint i;

	if (cfg->ice_addresses != NULL) {
		hosts = g_ptr_array_new_with_free_func(g_free);
		for (i = 0; cfg->ice_addresses[i] != NULL && i < DIRECT_MAX_SOCKETS; i++)
			g_ptr_array_add(hosts, g_strstrip(g_strdup(cfg->ice_addresses[i])));
	} else {
		hosts = local_addresses();
	}
	peer_registry_init();
	for (i = 0; i < hosts->len; i++) {
		if (open_socket(g_ptr_array_index(hosts, i), cfg, &U.socks[U.nsocks], err) != 0)
			goto fail;
		g_message("listening for viewers' media on %s port %d (UDP)",
		          U.socks[U.nsocks].host, U.socks[U.nsocks].port);
		U.nsocks++;
	}
	U.candidates = host_candidates();
	U.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	U.thread = g_thread_new("direct-rx", rx_thread, NULL);
	g_ptr_array_unref(hosts);
	return 0;
fail:
	g_ptr_array_unref(hosts);
	return -1;
}

void udp_stop(void)
{
	uint64_t one = 1;
	int i;

	if (U.thread != NULL) {
		g_atomic_int_set(&U.stop, 1);
		if (write(U.wake_fd, &one, sizeof(one)) < 0)
			g_warning("cannot wake the receive thread: %s", g_strerror(errno));
		g_thread_join(U.thread);
		U.thread = NULL;
	}
	for (i = 0; i < U.nsocks; i++)
		close(U.socks[i].fd);
	U.nsocks = 0;
	if (U.wake_fd >= 0)
		close(U.wake_fd);
	U.wake_fd = -1;
	g_clear_pointer(&U.candidates, g_ptr_array_unref);
	peer_registry_clear();
}
