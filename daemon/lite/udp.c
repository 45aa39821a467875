/*
 * udp.c - the direct path's sockets and its one receive thread: every
 * viewer's ICE checks, DTLS handshake and RTCP arrive on the same few UDP
 * ports (one per local address) and are told apart here, by STUN USERNAME
 * first and by the address the checks came from after that (RFC 7983
 * demultiplexing by first byte). Owns the sockets and the peer registry.
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

#include "direct.h"
#include "wire/stun.h"

#define UDP_IDLE_POLL_MS 1000 /* nothing handshaking: only the stop flag to look at */

struct rx_socket {
	int fd;
	char host[INET6_ADDRSTRLEN];
	int port;
};

static struct {
	GMutex lock;          /* the registry and every peer's receive-side half */
	GHashTable *by_ufrag; /* our ufrag -> struct peer (borrowed) */
	GHashTable *by_addr;  /* struct addr_key * (inside the peer) -> struct peer */
	struct rx_socket socks[DIRECT_MAX_SOCKETS];
	int nsocks;
	int wake_fd;
	gint stop;
	GThread *thread;
} U = {.wake_fd = -1};

static guint addr_key_hash(gconstpointer k)
{
	const struct addr_key *a = k;
	guint h = a->family * 31u + a->port;
	size_t i;

	for (i = 0; i < sizeof(a->ip); i++)
		h = h * 31u + a->ip[i];
	return h;
}

static gboolean addr_key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(struct addr_key)) == 0;
}

static void addr_key_from(struct addr_key *k, const struct sockaddr_storage *ss)
{
	memset(k, 0, sizeof(*k));
	k->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		k->port = in->sin_port;
		memcpy(k->ip, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		k->port = in6->sin6_port;
		memcpy(k->ip, &in6->sin6_addr, 16);
	}
}

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

GPtrArray *udp_candidates(void)
{
	GPtrArray *c = g_ptr_array_new_with_free_func(g_free);
	int i;

	/* RFC 8445 §5.1.2.1 host priority: type 126, local preference by order, component 1. */
	for (i = 0; i < U.nsocks; i++)
		g_ptr_array_add(c,
		                g_strdup_printf("candidate:%d 1 udp %u %s %d typ host", i + 1,
		                                (126u << 24) | ((65535u - (unsigned)i) << 8) | 255u,
		                                U.socks[i].host, U.socks[i].port));
	return c;
}

/* ---- the receive thread (every function below runs on it, under U.lock) ---- */

static void send_to_peer(const uint8_t *data, size_t len, void *user)
{
	struct peer *p = user;

	if (p->fd >= 0)
		sendto(p->fd, data, len, 0, (struct sockaddr *)&p->addr, p->addrlen);
}

/* The path `from` arrived on, remembered (and findable by address) if new. */
static struct path *add_path(struct peer *p, int fd, const struct sockaddr_storage *from,
                             socklen_t fromlen)
{
	struct addr_key key;
	struct path *path;
	int i;

	addr_key_from(&key, from);
	for (i = 0; i < p->npaths; i++)
		if (p->paths[i].fd == fd && addr_key_equal(&p->paths[i].key, &key))
			return &p->paths[i];
	if (p->npaths == DIRECT_MAX_PATHS) { /* the oldest goes */
		if (g_hash_table_lookup(U.by_addr, &p->paths[0].key) == p)
			g_hash_table_remove(U.by_addr, &p->paths[0].key);
		memmove(&p->paths[0], &p->paths[1], sizeof(p->paths[0]) * (DIRECT_MAX_PATHS - 1));
		p->npaths--;
		for (i = 0; i < p->npaths; i++) /* keys moved: the table points into them */
			g_hash_table_replace(U.by_addr, &p->paths[i].key, p);
	}
	path = &p->paths[p->npaths++];
	path->fd = fd;
	memcpy(&path->addr, from, fromlen);
	path->addrlen = fromlen;
	path->key = key;
	g_hash_table_replace(U.by_addr, &path->key, p);
	return path;
}

/* DTLS and media follow the selected path; the send thread gets a copy. */
static void select_path(struct peer *p, const struct path *path)
{
	if (p->fd == path->fd && p->addrlen == path->addrlen &&
	    memcmp(&p->addr, &path->addr, path->addrlen) == 0)
		return;
	p->fd = path->fd;
	memcpy(&p->addr, &path->addr, path->addrlen);
	p->addrlen = path->addrlen;
	if (p->has_tx)
		fanout_set_sender(p->stream, p, NULL);
}

static struct path *path_of(struct peer *p, const struct addr_key *key)
{
	int i;

	for (i = 0; i < p->npaths; i++)
		if (addr_key_equal(&p->paths[i].key, key))
			return &p->paths[i];
	return NULL;
}

static void on_stun(int fd, const uint8_t *buf, size_t n, const struct sockaddr_storage *from,
                    socklen_t fromlen)
{
	struct stun_request req;
	uint8_t out[STUN_MAX_RESPONSE];
	struct path *path;
	struct peer *p = NULL;
	char *colon;
	int len;

	if (!stun_is_stun(buf, n) || stun_parse_binding_request(buf, n, &req) != 0)
		return;
	colon = strchr(req.username, ':');
	if (colon != NULL) {
		*colon = '\0';
		p = g_hash_table_lookup(U.by_ufrag, req.username);
	}
	/*
	 * A check without USERNAME and MESSAGE-INTEGRITY is dropped unanswered
	 * (RFC 8489 would answer 400; our answer would be bigger than such a
	 * request: a reflector). An unknown user or a wrong key gets 401 (RFC
	 * 8445 §7.3), smaller than the request it answers.
	 */
	if (colon == NULL || req.integrity_at == 0)
		return;
	if (p == NULL || !stun_check_integrity(buf, n, &req, p->pwd)) {
		len = stun_binding_error(req.txid, 401, "Unauthorized", out, sizeof(out));
		if (len > 0)
			sendto(fd, out, (size_t)len, 0, (const struct sockaddr *)from, fromlen);
		return;
	}
	g_atomic_int_set(&p->last_rx_s, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
	len = stun_binding_success(&req, (const struct sockaddr *)from, p->pwd, out, sizeof(out));
	if (len > 0)
		sendto(fd, out, (size_t)len, 0, (const struct sockaddr *)from, fromlen);
	/*
	 * ICE-lite (RFC 8445 §7.3.1.5): every address that passes a check may
	 * carry DTLS and RTCP; the controlling side's nomination selects where
	 * we send, and so does its DTLS or RTCP arriving on another valid path
	 * (a client with several local addresses may nominate more than one).
	 */
	path = add_path(p, fd, from, fromlen);
	if (p->fd < 0 || req.use_candidate)
		select_path(p, path);
}

/* The handshake ended: make the SRTP sessions and tell the main loop. */
static void on_dtls_connected(struct peer *p)
{
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX];
	enum dtls_srtp_profile profile;
	srtp_t tx = NULL;
	size_t len = 0;

	if (dtls_peer_srtp_keys(p->dtls, &profile, local, remote, &len) != 0 ||
	    srtp_session_new(&p->rx, profile, remote, len, false) != 0 ||
	    srtp_session_new(&tx, profile, local, len, true) != 0) {
		g_warning("viewer %s: no SRTP keys from the DTLS handshake", p->sid);
		viewer_post_connection(p->id, GST_WEBRTC_PEER_CONNECTION_STATE_FAILED);
		return;
	}
	memset(local, 0, sizeof(local));
	memset(remote, 0, sizeof(remote));
	g_info("viewer %s: DTLS up, SRTP %s", p->sid,
	       profile == DTLS_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
	fanout_set_sender(p->stream, p, tx);
	p->has_tx = true;
	viewer_post_connection(p->id, GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);
}

/* Tell the main loop each change of the DTLS state: up, or ended (close_notify, failure). */
static void after_dtls(struct peer *p, enum dtls_state st)
{
	if (st == p->told_state)
		return;
	p->told_state = st;
	if (st == DTLS_CONNECTED)
		on_dtls_connected(p);
	else
		viewer_post_connection(p->id, st == DTLS_CLOSED
		                                  ? GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED
		                                  : GST_WEBRTC_PEER_CONNECTION_STATE_FAILED);
}

static void on_rtcp(struct peer *p, const struct path *path, uint8_t *buf, size_t n)
{
	static uint8_t scratch[DIRECT_MAX_PACKET + SRTP_MAX_TRAILER_LEN]; /* this thread's */
	uint16_t lost[DIRECT_MAX_NACKS];
	size_t nlost;
	int len = (int)n;

	if (p->rx == NULL || !rtp_is_rtcp(buf, n) ||
	    srtp_unprotect_rtcp(p->rx, buf, &len) != srtp_err_status_ok)
		return;
	select_path(p, path); /* authenticated: the viewer is there now */
	if (rtp_rtcp_wants_keyframe(buf, (size_t)len))
		stream_request_keyframe_any_thread(p->stream);
	/* RFC 4585 §4.2: feedback counts only when it was negotiated. */
	nlost = p->nack ? rtp_rtcp_nacks(buf, (size_t)len, lost, DIRECT_MAX_NACKS) : 0;
	if (nlost > 0)
		fanout_resend(p->stream, p, lost, nlost, scratch);
}

static void on_datagram(int fd, uint8_t *buf, size_t n, const struct sockaddr_storage *from,
                        socklen_t fromlen)
{
	struct addr_key key;
	struct path *path;
	struct peer *p;

	if (n == 0)
		return;
	if (buf[0] <= 3) {
		on_stun(fd, buf, n, from, fromlen);
		return;
	}
	addr_key_from(&key, from);
	p = g_hash_table_lookup(U.by_addr, &key);
	path = p != NULL ? path_of(p, &key) : NULL;
	if (path == NULL || path->fd != fd)
		return; /* not from an address that passed a check: dropped unread */
	g_atomic_int_set(&p->last_rx_s, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
	if (buf[0] >= 20 && buf[0] <= 63) {
		if (dtls_peer_state(p->dtls) == DTLS_HANDSHAKING)
			select_path(p, path); /* the handshake's replies go where it comes from */
		after_dtls(p, dtls_peer_feed(p->dtls, buf, n));
	} else if (buf[0] >= 128 && buf[0] <= 191) {
		on_rtcp(p, path, buf, n);
	}
}

/* DTLS retransmissions; true while a handshake is still going. */
static bool tick_handshakes(void)
{
	GHashTableIter it;
	gpointer value;
	bool any = false;

	g_hash_table_iter_init(&it, U.by_ufrag);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct peer *p = value;

		if (p->fd < 0 || dtls_peer_state(p->dtls) != DTLS_HANDSHAKING)
			continue;
		any = true;
		if (dtls_peer_timeout_ms(p->dtls) == 0)
			after_dtls(p, dtls_peer_tick(p->dtls));
	}
	return any;
}

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
		g_mutex_lock(&U.lock);
		for (i = 0; i < n; i++)
			on_datagram(fd, bufs[i], msgs[i].msg_len, &from[i],
			            msgs[i].msg_hdr.msg_namelen);
		g_mutex_unlock(&U.lock);
		if (n < DIRECT_BATCH)
			return;
	}
}

static gpointer rx_thread(gpointer data)
{
	struct pollfd pfds[DIRECT_MAX_SOCKETS + 1];
	bool handshaking = false;
	int i;

	for (i = 0; i < U.nsocks; i++)
		pfds[i] = (struct pollfd){.fd = U.socks[i].fd, .events = POLLIN};
	pfds[U.nsocks] = (struct pollfd){.fd = U.wake_fd, .events = POLLIN};
	while (!g_atomic_int_get(&U.stop)) {
		poll(pfds, (nfds_t)U.nsocks + 1, handshaking ? DIRECT_TICK_MS : UDP_IDLE_POLL_MS);
		for (i = 0; i < U.nsocks; i++)
			if (pfds[i].revents & POLLIN)
				drain_socket(pfds[i].fd);
		g_mutex_lock(&U.lock);
		handshaking = tick_handshakes();
		g_mutex_unlock(&U.lock);
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
	U.by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
	U.by_addr = g_hash_table_new(addr_key_hash, addr_key_equal);
	for (i = 0; i < hosts->len; i++) {
		if (open_socket(g_ptr_array_index(hosts, i), cfg, &U.socks[U.nsocks], err) != 0)
			goto fail;
		g_message("listening for viewers' media on %s port %d (UDP)",
		          U.socks[U.nsocks].host, U.socks[U.nsocks].port);
		U.nsocks++;
	}
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
	g_clear_pointer(&U.by_ufrag, g_hash_table_destroy);
	g_clear_pointer(&U.by_addr, g_hash_table_destroy);
}

void udp_register(struct peer *p)
{
	p->fd = -1;
	g_mutex_lock(&U.lock);
	g_hash_table_replace(U.by_ufrag, p->ufrag, p);
	g_mutex_unlock(&U.lock);
}

void udp_unregister(struct peer *p)
{
	int i;

	g_mutex_lock(&U.lock);
	g_hash_table_remove(U.by_ufrag, p->ufrag);
	for (i = 0; i < p->npaths; i++)
		if (g_hash_table_lookup(U.by_addr, &p->paths[i].key) == p)
			g_hash_table_remove(U.by_addr, &p->paths[i].key);
	p->npaths = 0;
	g_mutex_unlock(&U.lock);
}

/* Main thread, for a peer already unregistered: the receive side is ours alone. */
void udp_close_peer(struct peer *p)
{
	if (p->dtls != NULL && p->fd >= 0 && dtls_peer_state(p->dtls) == DTLS_CONNECTED)
		dtls_peer_close(p->dtls); /* the browser sees the end at once, not after 30 s */
}

/* The DTLS peer's datagram sender: the address the peer's checks came from. */
dtls_send_fn udp_dtls_sender(void)
{
	return send_to_peer;
}
