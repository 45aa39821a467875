/*
 * peer.c - the direct path's peers as the receive thread sees them, and
 * their registry. Every viewer's ICE checks, DTLS handshake and RTCP arrive
 * on the same few UDP ports and are told apart here, by STUN USERNAME first
 * and by the address the checks came from after that (RFC 7983
 * demultiplexing by first byte). An address that passed a check may send
 * us DTLS and RTCP; DTLS and media go only where consent is fresh (RFC
 * 7675, paths.c). Owns the registry's lock and ufrag table; lite.c owns
 * the peers.
 */
#define G_LOG_DOMAIN "udp"
#include <netinet/in.h>
#include <string.h>

#include "lite.h"
#include "paths.h"
#include "peer.h"
#include "wire/dtls.h"
#include "wire/rtp.h"
#include "wire/srtcp.h"
#include "wire/stun.h"

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
	gint last_rx_s; /* monotonic s of the last authenticated sign of life; atomic */
	const struct peer_events *events;
	void *user;
	/* where its media goes (video, sound), and its place there; a NULL fanout: not sent */
	struct fanout *fanout[PEER_TRACKS];
	struct fanout_member *member[PEER_TRACKS];

	/* receive thread, under the registry lock */
	struct dtls_peer *dtls;
	struct srtcp *rx;   /* SRTCP from the peer (PLI/FIR, NACK) */
	struct paths paths; /* where it is, where it consents, where media goes */
	/* the latest handshake datagrams waiting for consent, DIRECT_MAX_PACKET bytes each */
	uint8_t *held;
	size_t held_len[DIRECT_HELD_DATAGRAMS];
	guint held_count;         /* 0: none */
	struct addr_key held_key; /* where they came from (a copy: paths come and go) */
	int held_fd;
	enum dtls_state told_state; /* the DTLS state the owner last heard of */
	bool checked;               /* the owner heard of its first valid check */
	guint dtls_dropped;         /* datagrams dtls_datagram_check refused, for the log */
	bool has_tx;                /* the fan-out has our SRTP sender */
	struct srtcp *tx_rtcp;      /* our sender reports */
	gint64 report_due_us;       /* the next ones */
};

static struct {
	GMutex lock;          /* the registry (and paths.c's table), every peer's receive side */
	GHashTable *by_ufrag; /* our ufrag -> struct peer (borrowed) */
	gint64 due_us;        /* peer_tick_all has nothing to do before this; 0: look now */
	gint live;            /* peers allocated and not yet freed: a leak shows here */
} R;

/* ---- the receive thread (every function below runs on it, under R.lock) ---- */

/* An authenticated sign of life: what the session layer's silence sweep reads. */
static void heard(struct peer *p)
{
	g_atomic_int_set(&p->last_rx_s, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
}

/*
 * The DTLS peer's datagram sender. RFC 7675: only consent checks go to an
 * address that has not answered one, so a flight (bigger than what
 * triggers it) cannot be aimed at a third party by forging its address.
 */
static void send_to_peer(const uint8_t *data, size_t len, void *user)
{
	struct peer *p = user;
	const struct path *sel = p->paths.sel;

	if (sel != NULL)
		sendto(sel->fd, data, len, 0, (const struct sockaddr *)&sel->addr, sel->addrlen);
}

/*
 * The fan-outs' copy of where media goes (nowhere without consent), and
 * their SRTP senders once (tx[i] for track i; NULL: keep theirs).
 */
static void push_sender(struct peer *p, struct srtp_seal *const *tx)
{
	const struct path *sel = p->paths.sel;
	int i;

	for (i = 0; i < PEER_TRACKS; i++)
		if (p->fanout[i] != NULL)
			fanout_set_sender(p->fanout[i], p->member[i], tx != NULL ? tx[i] : NULL,
			                  sel != NULL ? sel->fd : -1,
			                  sel != NULL ? &sel->addr : NULL,
			                  sel != NULL ? sel->addrlen : 0);
}

/* paths.c: where media goes changed (consent came, moved or lapsed). */
static void on_paths_moved(void *owner)
{
	struct peer *p = owner;

	R.due_us = 0; /* the path in use is checked on schedule */
	if (p->has_tx)
		push_sender(p, NULL);
}

/* The viewer is at `path` (nominated, or its handshake or SRTCP came from there). */
static void select_path(struct peer *p, const struct path *path)
{
	paths_want(&p->paths, path, g_get_monotonic_time()); /* on_paths_moved if media moves */
}

static void on_stun_request(int fd, const uint8_t *buf, size_t n,
                            const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct stun_request req;
	uint8_t out[STUN_MAX_RESPONSE];
	struct path *path;
	struct peer *p = NULL;
	char *colon;
	gint64 now;
	int len;

	if (stun_parse_binding_request(buf, n, &req) != 0)
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
	/* Answered, as ICE-lite must; but the viewer knows its key: this proves no source. */
	if (!p->checked) { /* it is no longer only an offer anyone could have sent */
		p->checked = true;
		p->events->state(p->user, PEER_CHECKED);
	}
	len = stun_binding_success(&req, (const struct sockaddr *)from, p->pwd, out, sizeof(out));
	if (len > 0)
		sendto(fd, out, (size_t)len, 0, (const struct sockaddr *)from, fromlen);
	/*
	 * ICE-lite (RFC 8445 §7.3.1.5): every address that passes a check may
	 * carry DTLS and RTCP in; the controlling side's nomination says where
	 * it wants media, and so does its DTLS or SRTCP arriving on another
	 * valid path (a client with several local addresses may nominate more
	 * than one). Media follows once that address answers our own check.
	 */
	now = g_get_monotonic_time();
	path = paths_add(&p->paths, fd, from, fromlen, now);
	if (path == NULL)
		return;
	if (p->paths.want == NULL || req.use_candidate)
		select_path(p, path);
	paths_heard_from(&p->paths, path, n, now);
}

static void feed_dtls(struct peer *p, const uint8_t *buf, size_t n);

/* A Binding success response: consent, when it answers our check to that very address. */
static void on_stun_response(int fd, const uint8_t *buf, size_t n,
                             const struct sockaddr_storage *from)
{
	void *owner = NULL;
	struct path *path = paths_find(fd, from, &owner);
	struct peer *p = owner;
	guint i, held;

	if (path == NULL || !paths_answered(&p->paths, path, buf, n, g_get_monotonic_time()))
		return;
	heard(p);
	R.due_us = 0; /* a path that consents is checked on schedule */
	/* The handshake datagrams that waited for this consent go in now, in order. */
	if (p->held_count > 0 && p->held_fd == path->fd &&
	    memcmp(&p->held_key, &path->key, sizeof(path->key)) == 0 && p->paths.sel == path) {
		held = p->held_count;
		p->held_count = 0;
		for (i = 0; i < held && dtls_peer_state(p->dtls) == DTLS_HANDSHAKING; i++)
			feed_dtls(p, p->held + i * DIRECT_MAX_PACKET, p->held_len[i]);
		g_clear_pointer(&p->held, g_free);
	}
}

static void on_stun(int fd, const uint8_t *buf, size_t n, const struct sockaddr_storage *from,
                    socklen_t fromlen)
{
	if (!stun_is_stun(buf, n))
		return;
	if (((unsigned)buf[0] << 8 | buf[1]) == STUN_BINDING_SUCCESS)
		on_stun_response(fd, buf, n, from);
	else
		on_stun_request(fd, buf, n, from, fromlen);
}

/* The handshake ended: make the SRTP sessions and tell the owner. */
static void on_dtls_connected(struct peer *p)
{
	uint8_t local[DTLS_SRTP_KEY_MAX], remote[DTLS_SRTP_KEY_MAX];
	enum dtls_srtp_profile profile;
	struct srtp_seal *tx[PEER_TRACKS] = {NULL};
	size_t len = 0;
	int i;
	bool ok;

	/* A sealer per track (each its send thread's); SRTCP both ways on OpenSSL too:
	 * libsrtp2's NSS-backed sessions took ~35 KB a viewer (issue 17). */
	ok = dtls_peer_srtp_keys(p->dtls, &profile, local, remote, &len) == 0 &&
	     (p->rx = srtcp_new(profile, remote, len, false)) != NULL &&
	     (p->tx_rtcp = srtcp_new(profile, local, len, true)) != NULL;
	for (i = 0; ok && i < PEER_TRACKS; i++)
		ok = p->fanout[i] == NULL || (tx[i] = srtp_seal_new(profile, local, len)) != NULL;
	if (!ok) {
		for (i = 0; i < PEER_TRACKS; i++)
			srtp_seal_free(tx[i]);
		g_warning("viewer %s: no SRTP keys from the DTLS handshake", p->sid);
		p->events->state(p->user, PEER_FAILED);
		return;
	}
	memset(local, 0, sizeof(local));
	memset(remote, 0, sizeof(remote));
	g_info("viewer %s: DTLS up, SRTP %s", p->sid,
	       profile == DTLS_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
	heard(p); /* the handshake's Finished is authenticated */
	p->report_due_us = g_get_monotonic_time() + PEER_FIRST_REPORT_MS * 1000;
	push_sender(p, tx);
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

static void feed_dtls(struct peer *p, const uint8_t *buf, size_t n)
{
	after_dtls(p, dtls_peer_feed(p->dtls, buf, n));
	note_dropped_dtls(p);
	if (dtls_peer_state(p->dtls) == DTLS_HANDSHAKING)
		R.due_us = 0; /* its retransmission timer may have started */
}

/*
 * A handshake datagram from `path`. Our flights go only where consent is
 * fresh: when the viewer's handshake comes from an address that has not
 * answered our check yet, its datagrams wait and go in when the answer
 * comes, an RTT later. Fed at once, its reply would go nowhere and wait for
 * the DTLS retransmission. The last DIRECT_HELD_DATAGRAMS are kept, not
 * one: Chromium's ClientHello (with a post-quantum key share) comes in two
 * datagrams, and half of it is no handshake: keeping only the latest cost
 * every Chromium join a retransmission, ~50 ms of its first frame.
 */
static void on_handshake(struct peer *p, const struct path *path, const uint8_t *buf, size_t n)
{
	select_path(p, path); /* the handshake's replies go where it comes from */
	if (p->paths.sel == path) {
		feed_dtls(p, buf, n);
		return;
	}
	if (p->held == NULL) {
		p->held = g_malloc(DIRECT_HELD_DATAGRAMS * DIRECT_MAX_PACKET);
		g_debug("viewer %s: its handshake waits for consent from where it comes", p->sid);
	}
	if (p->held_count > 0 &&
	    (p->held_fd != path->fd || memcmp(&p->held_key, &path->key, sizeof(path->key)) != 0))
		p->held_count = 0; /* a handshake from elsewhere now: only its datagrams count */
	if (p->held_count == DIRECT_HELD_DATAGRAMS) { /* full: the oldest makes room */
		memmove(p->held, p->held + DIRECT_MAX_PACKET,
		        (DIRECT_HELD_DATAGRAMS - 1) * DIRECT_MAX_PACKET);
		memmove(p->held_len, p->held_len + 1, (DIRECT_HELD_DATAGRAMS - 1) * sizeof(size_t));
		p->held_count--;
	}
	p->held_len[p->held_count] = MIN(n, (size_t)DIRECT_MAX_PACKET);
	memcpy(p->held + p->held_count * DIRECT_MAX_PACKET, buf, p->held_len[p->held_count]);
	p->held_count++;
	p->held_key = path->key;
	p->held_fd = path->fd;
}

static void on_rtcp(struct peer *p, const struct path *path, uint8_t *buf, size_t n)
{
	static uint8_t scratch[DIRECT_MAX_PACKET + SRTP_SEAL_MAX_TRAILER]; /* this thread's */
	uint16_t lost[DIRECT_MAX_NACKS];
	size_t nlost;
	int len = (int)n;

	if (p->rx == NULL || !rtp_is_rtcp(buf, n) || srtcp_unprotect(p->rx, buf, &len) != 0)
		return;
	select_path(p, path); /* authenticated: the viewer is there now */
	heard(p);
	if (rtp_rtcp_wants_keyframe(buf, (size_t)len))
		p->events->keyframe_request(p->user);
	/* RFC 4585 §4.2: feedback counts only when it was negotiated. */
	nlost = p->nack && p->fanout[PEER_VIDEO] != NULL
	            ? rtp_rtcp_nacks(buf, (size_t)len, lost, DIRECT_MAX_NACKS)
	            : 0;
	if (nlost > 0)
		fanout_resend(p->fanout[PEER_VIDEO], p->member[PEER_VIDEO], lost, nlost, scratch);
}

static void on_datagram(int fd, uint8_t *buf, size_t n, const struct sockaddr_storage *from,
                        socklen_t fromlen)
{
	struct path *path;
	struct peer *p;
	void *owner = NULL;

	if (n == 0)
		return;
	if (buf[0] <= 3) {
		on_stun(fd, buf, n, from, fromlen);
		return;
	}
	path = paths_find(fd, from, &owner);
	if (path == NULL)
		return; /* not from an address that passed a check: dropped unread */
	p = owner;
	if (buf[0] >= 20 && buf[0] <= 63) {
		if (dtls_peer_state(p->dtls) == DTLS_HANDSHAKING)
			on_handshake(p, path, buf, n);
		else /* what it answers (alerts) goes only where consent is */
			feed_dtls(p, buf, n);
	} else if (buf[0] >= 128 && buf[0] <= 191) {
		on_rtcp(p, path, buf, n);
	} else {
		return;
	}
	paths_heard_from(&p->paths, path, n, g_get_monotonic_time());
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

/* Each track's sender report (fanout_report.c), every PEER_REPORT_MS x0.5-1.5 (RFC 3550 §6.3.1). */
static void send_reports(struct peer *p, gint64 now)
{
	int i;

	p->report_due_us =
	    now + (gint64)g_random_int_range(PEER_REPORT_MS / 2, PEER_REPORT_MS * 3 / 2) * 1000;
	for (i = 0; i < PEER_TRACKS; i++) /* one with nothing sent yet: its first soon after */
		if (p->fanout[i] != NULL &&
		    !fanout_send_report(p->fanout[i], p->member[i], p->tx_rtcp, PEER_CNAME))
			p->report_due_us = MIN(p->report_due_us, now + PEER_FIRST_REPORT_MS * 1000);
}

int peer_tick_all(int max_ms)
{
	GHashTableIter it;
	gpointer value;
	gint64 now = g_get_monotonic_time(), next = now + (gint64)max_ms * 1000;

	g_mutex_lock(&R.lock);
	if (now < R.due_us) { /* every datagram wakes this thread: most wakes find nothing due */
		next = MIN(next, R.due_us);
		goto out;
	}
	g_hash_table_iter_init(&it, R.by_ufrag);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct peer *p = value;

		paths_tick(&p->paths, now, &next);
		if (p->has_tx && p->paths.sel != NULL) {
			if (now >= p->report_due_us)
				send_reports(p, now);
			next = MIN(next, p->report_due_us);
		}
		if (p->paths.sel == NULL || dtls_peer_state(p->dtls) != DTLS_HANDSHAKING)
			continue;
		next = MIN(next, now + DIRECT_TICK_MS * 1000);
		if (dtls_peer_timeout_ms(p->dtls) == 0)
			after_dtls(p, dtls_peer_tick(p->dtls));
	}
	/*
	 * Every peer's timers are looked at in one pass: with 1,000 peers whose
	 * reports fall due at random instants, a pass for each would be 1,000
	 * passes of 1,000 a second. Timers here tolerate PEER_TICK_MIN_MS late.
	 */
	next = MAX(next, now + PEER_TICK_MIN_MS * 1000);
	R.due_us = next;
out:
	g_mutex_unlock(&R.lock);
	return (int)CLAMP((next - now + 999) / 1000, 0, max_ms);
}

/* ---- main thread ---- */

void peer_registry_init(void)
{
	R.by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
	R.due_us = 0;
	paths_registry_init();
}

void peer_registry_clear(void)
{
	g_clear_pointer(&R.by_ufrag, g_hash_table_destroy);
	paths_registry_clear();
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
	paths_init(&p->paths, p, p->sid, on_paths_moved);
	p->last_rx_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);
	p->dtls = dtls_peer_new(remote_fingerprint, send_to_peer, p);
	if (p->dtls == NULL) {
		peer_free(p);
		return NULL;
	}
	return p;
}

int peer_set_remote_ice(struct peer *p, const char *ufrag, const char *pwd)
{
	return paths_set_remote(&p->paths, p->ufrag, ufrag, pwd);
}

void peer_set_media(struct peer *p, int track, struct fanout *f, struct fanout_member *m, bool nack)
{
	p->fanout[track] = f;
	p->member[track] = m;
	p->nack = track == PEER_VIDEO ? nack : p->nack;
}

void peer_free(struct peer *p)
{
	if (p->dtls != NULL)
		dtls_peer_free(p->dtls);
	srtcp_free(p->rx);
	srtcp_free(p->tx_rtcp);
	paths_free(&p->paths); /* out of the table since peer_unregister */
	g_free(p->held);
	g_free(p);
	g_atomic_int_add(&R.live, -1);
}

void peer_register(struct peer *p)
{
	g_mutex_lock(&R.lock);
	g_hash_table_replace(R.by_ufrag, p->ufrag, p);
	g_mutex_unlock(&R.lock);
}

int peer_restart_ice(struct peer *p, const char *ufrag, const char *pwd, const char *remote_ufrag,
                     const char *remote_pwd)
{
	int rc;

	g_mutex_lock(&R.lock);
	g_hash_table_remove(R.by_ufrag, p->ufrag);
	g_strlcpy(p->ufrag, ufrag, sizeof(p->ufrag));
	g_strlcpy(p->pwd, pwd, sizeof(p->pwd));
	g_hash_table_replace(R.by_ufrag, p->ufrag, p);
	/* Our consent checks carry the viewer's new credentials from now on. */
	rc = paths_set_remote(&p->paths, p->ufrag, remote_ufrag, remote_pwd);
	g_mutex_unlock(&R.lock);
	return rc;
}

void peer_unregister(struct peer *p)
{
	g_mutex_lock(&R.lock);
	if (g_hash_table_lookup(R.by_ufrag, p->ufrag) == p)
		g_hash_table_remove(R.by_ufrag, p->ufrag);
	paths_forget(&p->paths); /* every address entry that names p */
	g_mutex_unlock(&R.lock);
}

void peer_close(struct peer *p)
{
	if (p->dtls != NULL && p->paths.sel != NULL && dtls_peer_state(p->dtls) == DTLS_CONNECTED)
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

int peer_registry_addresses(void)
{
	int n;

	g_mutex_lock(&R.lock);
	n = paths_registry_size();
	g_mutex_unlock(&R.lock);
	return n;
}
