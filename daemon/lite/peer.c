/*
 * peer.c - the direct path's peers as the receive thread sees them, and
 * their registry. Every viewer's ICE checks, DTLS handshake and RTCP arrive
 * on the same few UDP ports and are told apart here, by STUN USERNAME first
 * and by the address the checks came from after that (RFC 7983
 * demultiplexing by first byte). Owns the registry; lite.c owns the peers.
 */
#define G_LOG_DOMAIN "udp"
#include <netinet/in.h>
#include <string.h>

#include "lite.h"
#include "peer.h"
#include "wire/dtls.h"
#include "wire/rtp.h"
#include "wire/srtp_session.h"
#include "wire/stun.h"

/* A remote transport address as a hash key (no allocation per packet). */
struct addr_key {
	uint16_t family, port;
	uint8_t ip[16];
};

/* A remote address that passed a check, and the socket it reached. */
struct path {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct addr_key key;
};

/*
 * One viewer on the direct path. Created and freed by the main thread.
 * The receive thread touches it only while holding the registry lock, so
 * once the main thread has taken it out of the registry it is its alone.
 */
struct peer {
	char sid[SHORT_ID_LEN + 1];
	char ufrag[DIRECT_UFRAG_LEN + 1];
	char pwd[DIRECT_PWD_LEN + 1];
	bool nack;      /* we answered a=rtcp-fb nack: its NACKs are served from the history */
	gint last_rx_s; /* monotonic s of the last datagram from the peer; atomic */
	const struct peer_events *events;
	void *user;
	struct fanout *fanout; /* where its media goes, and its place there */
	struct fanout_member *member;

	/* receive thread, under the registry lock */
	struct dtls_peer *dtls;
	srtp_t rx;                           /* SRTCP from the peer (PLI/FIR) */
	struct path paths[DIRECT_MAX_PATHS]; /* each a key in the registry */
	int npaths;
	int fd; /* the selected path, where DTLS and media go; -1 before one */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum dtls_state told_state; /* the DTLS state the owner last heard of */
	bool checked;               /* the owner heard of its first valid check */
	guint dtls_dropped;         /* datagrams dtls_datagram_check refused, for the log */
	bool has_tx;                /* the fan-out has our SRTP sender */
};

static struct {
	GMutex lock;          /* the registry and every peer's receive-side half */
	GHashTable *by_ufrag; /* our ufrag -> struct peer (borrowed) */
	GHashTable *by_addr;  /* struct addr_key * (inside the peer) -> struct peer */
	gint live;            /* peers allocated and not yet freed: a leak shows here */
} R;

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

/* ---- the receive thread (every function below runs on it, under R.lock) ---- */

/* The DTLS peer's datagram sender: the address the peer's checks came from. */
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
		if (g_hash_table_lookup(R.by_addr, &p->paths[0].key) == p)
			g_hash_table_remove(R.by_addr, &p->paths[0].key);
		memmove(&p->paths[0], &p->paths[1], sizeof(p->paths[0]) * (DIRECT_MAX_PATHS - 1));
		p->npaths--;
		for (i = 0; i < p->npaths; i++) /* keys moved: the table points into them */
			g_hash_table_replace(R.by_addr, &p->paths[i].key, p);
	}
	path = &p->paths[p->npaths++];
	path->fd = fd;
	memcpy(&path->addr, from, fromlen);
	path->addrlen = fromlen;
	path->key = key;
	g_hash_table_replace(R.by_addr, &path->key, p);
	return path;
}

/* DTLS and media follow the selected path; the fan-out gets a copy. */
static void select_path(struct peer *p, const struct path *path)
{
	if (p->fd == path->fd && p->addrlen == path->addrlen &&
	    memcmp(&p->addr, &path->addr, path->addrlen) == 0)
		return;
	p->fd = path->fd;
	memcpy(&p->addr, &path->addr, path->addrlen);
	p->addrlen = path->addrlen;
	if (p->has_tx)
		fanout_set_sender(p->fanout, p->member, NULL, p->fd, &p->addr, p->addrlen);
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
		p = g_hash_table_lookup(R.by_ufrag, req.username);
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
	if (!p->checked) {
		p->checked = true;
		p->events->state(p->user, PEER_CHECKED);
	}
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

/* The handshake ended: make the SRTP sessions and tell the owner. */
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
		p->events->state(p->user, PEER_FAILED);
		return;
	}
	memset(local, 0, sizeof(local));
	memset(remote, 0, sizeof(remote));
	g_info("viewer %s: DTLS up, SRTP %s", p->sid,
	       profile == DTLS_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
	fanout_set_sender(p->fanout, p->member, tx, p->fd, &p->addr, p->addrlen);
	p->has_tx = true;
	p->events->state(p->user, PEER_CONNECTED);
}

/* Forged or broken records are dropped before OpenSSL sees them; the log hears of a few. */
static void note_dropped_dtls(struct peer *p)
{
	const char *why = dtls_peer_dropped(p->dtls);

	if (why == NULL)
		return;
	p->dtls_dropped++;
	if ((p->dtls_dropped & (p->dtls_dropped - 1)) == 0) /* 1, 2, 4, 8, ... */
		g_debug("viewer %s: DTLS datagram dropped (%u so far): %s", p->sid, p->dtls_dropped,
		        why);
}

/* Tell the owner each change of the DTLS state: up, or ended (close_notify, failure). */
static void after_dtls(struct peer *p, enum dtls_state st)
{
	if (st == p->told_state)
		return;
	p->told_state = st;
	if (st == DTLS_CONNECTED)
		on_dtls_connected(p);
	if (st == DTLS_FAILED)
		g_message("viewer %s: DTLS failed: %s", p->sid, dtls_peer_error(p->dtls));
	if (st != DTLS_CONNECTED)
		p->events->state(p->user, st == DTLS_CLOSED ? PEER_CLOSED : PEER_FAILED);
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
		p->events->keyframe_request(p->user);
	/* RFC 4585 §4.2: feedback counts only when it was negotiated. */
	nlost = p->nack ? rtp_rtcp_nacks(buf, (size_t)len, lost, DIRECT_MAX_NACKS) : 0;
	if (nlost > 0)
		fanout_resend(p->fanout, p->member, lost, nlost, scratch);
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
	p = g_hash_table_lookup(R.by_addr, &key);
	path = p != NULL ? path_of(p, &key) : NULL;
	if (path == NULL || path->fd != fd)
		return; /* not from an address that passed a check: dropped unread */
	g_atomic_int_set(&p->last_rx_s, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
	if (buf[0] >= 20 && buf[0] <= 63) {
		if (dtls_peer_state(p->dtls) == DTLS_HANDSHAKING)
			select_path(p, path); /* the handshake's replies go where it comes from */
		after_dtls(p, dtls_peer_feed(p->dtls, buf, n));
		note_dropped_dtls(p);
	} else if (buf[0] >= 128 && buf[0] <= 191) {
		on_rtcp(p, path, buf, n);
	}
}

void peer_receive(int fd, struct mmsghdr *msgs, unsigned n)
{
	unsigned i;

	g_mutex_lock(&R.lock);
	for (i = 0; i < n; i++)
		on_datagram(fd, msgs[i].msg_hdr.msg_iov[0].iov_base, msgs[i].msg_len,
		            msgs[i].msg_hdr.msg_name, msgs[i].msg_hdr.msg_namelen);
	g_mutex_unlock(&R.lock);
}

bool peer_tick_all(void)
{
	GHashTableIter it;
	gpointer value;
	bool any = false;

	g_mutex_lock(&R.lock);
	g_hash_table_iter_init(&it, R.by_ufrag);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct peer *p = value;

		if (p->fd < 0 || dtls_peer_state(p->dtls) != DTLS_HANDSHAKING)
			continue;
		any = true;
		if (dtls_peer_timeout_ms(p->dtls) == 0)
			after_dtls(p, dtls_peer_tick(p->dtls));
	}
	g_mutex_unlock(&R.lock);
	return any;
}

/* ---- main thread ---- */

void peer_registry_init(void)
{
	R.by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
	R.by_addr = g_hash_table_new(addr_key_hash, addr_key_equal);
}

void peer_registry_clear(void)
{
	g_clear_pointer(&R.by_ufrag, g_hash_table_destroy);
	g_clear_pointer(&R.by_addr, g_hash_table_destroy);
}

struct peer *peer_new(const char *sid, const char *ufrag, const char *pwd,
                      const char *remote_fingerprint, const struct peer_events *events, void *user)
{
	struct peer *p = g_new0(struct peer, 1);

	g_atomic_int_add(&R.live, 1);
	g_strlcpy(p->sid, sid, sizeof(p->sid));
	g_strlcpy(p->ufrag, ufrag, sizeof(p->ufrag));
	g_strlcpy(p->pwd, pwd, sizeof(p->pwd));
	p->events = events;
	p->user = user;
	p->fd = -1;
	p->last_rx_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);
	p->dtls = dtls_peer_new(remote_fingerprint, send_to_peer, p);
	if (p->dtls == NULL) {
		peer_free(p);
		return NULL;
	}
	return p;
}

void peer_set_media(struct peer *p, struct fanout *f, struct fanout_member *m, bool nack)
{
	p->fanout = f;
	p->member = m;
	p->nack = nack;
}

void peer_free(struct peer *p)
{
	if (p->dtls != NULL)
		dtls_peer_free(p->dtls);
	if (p->rx != NULL)
		srtp_dealloc(p->rx);
	g_free(p);
	g_atomic_int_add(&R.live, -1);
}

void peer_register(struct peer *p)
{
	p->fd = -1;
	g_mutex_lock(&R.lock);
	g_hash_table_replace(R.by_ufrag, p->ufrag, p);
	g_mutex_unlock(&R.lock);
}

void peer_restart_ice(struct peer *p, const char *ufrag, const char *pwd)
{
	g_mutex_lock(&R.lock);
	g_hash_table_remove(R.by_ufrag, p->ufrag);
	g_strlcpy(p->ufrag, ufrag, sizeof(p->ufrag));
	g_strlcpy(p->pwd, pwd, sizeof(p->pwd));
	g_hash_table_replace(R.by_ufrag, p->ufrag, p);
	g_mutex_unlock(&R.lock);
}

void peer_unregister(struct peer *p)
{
	int i;

	g_mutex_lock(&R.lock);
	g_hash_table_remove(R.by_ufrag, p->ufrag);
	for (i = 0; i < p->npaths; i++)
		if (g_hash_table_lookup(R.by_addr, &p->paths[i].key) == p)
			g_hash_table_remove(R.by_addr, &p->paths[i].key);
	p->npaths = 0;
	g_mutex_unlock(&R.lock);
}

void peer_close(struct peer *p)
{
	if (p->dtls != NULL && p->fd >= 0 && dtls_peer_state(p->dtls) == DTLS_CONNECTED)
		dtls_peer_close(p->dtls); /* the browser sees the end at once, not after 30 s */
}

int peer_last_rx_s(const struct peer *p)
{
	return g_atomic_int_get(&p->last_rx_s);
}

int peer_live(void)
{
	return g_atomic_int_get(&R.live);
}
