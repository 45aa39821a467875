/*
 * paths.c - each direct viewer's remote addresses and where its media goes
 * (RFC 8445 §7.3.1.5 for ICE-lite, RFC 7675 consent), and the address table
 * that finds a viewer from a datagram's source. Owns the table (with its
 * own copies of the keys) and every struct path; the peers own their
 * struct paths. Runs under peer.c's registry lock.
 */
#define G_LOG_DOMAIN "udp"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>

#include "paths.h"
#include "wire/stun.h"

static GHashTable *by_addr; /* struct addr_key * (the table's copy) -> struct paths * */

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

/* "a.b.c.d:port" of a path, for the log. */
static const char *path_text(const struct path *path, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *in = (const void *)&path->addr;
	const struct sockaddr_in6 *in6 = (const void *)&path->addr;

	if (path->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
	g_snprintf(buf, len, "%s:%u", ip,
	           ntohs(path->addr.ss_family == AF_INET ? in->sin_port : in6->sin6_port));
	return buf;
}

/* ---- the address table (main thread) ---- */

void paths_registry_init(void)
{
	/* Copies of the keys: no entry can point into a path that moved or went. */
	by_addr = g_hash_table_new_full(addr_key_hash, addr_key_equal, g_free, NULL);
}

void paths_registry_clear(void)
{
	g_clear_pointer(&by_addr, g_hash_table_destroy);
}

int paths_registry_size(void)
{
	return by_addr != NULL ? (int)g_hash_table_size(by_addr) : 0;
}

/* ---- one viewer's paths ---- */

void paths_init(struct paths *ps, void *owner, const char *sid, void (*moved)(void *owner))
{
	memset(ps, 0, sizeof(*ps));
	ps->owner = owner;
	ps->sid = sid;
	ps->moved = moved;
	ps->check_len = SIZE_MAX; /* no checks until paths_set_remote */
	if (getrandom(&ps->tie_breaker, sizeof(ps->tie_breaker), 0) != sizeof(ps->tie_breaker))
		ps->tie_breaker = (uint64_t)g_random_int() << 32 | g_random_int();
}

int paths_set_remote(struct paths *ps, const char *our_ufrag, const char *ufrag, const char *pwd)
{
	uint8_t scratch[STUN_MAX_REQUEST], txid[12] = {0};
	int len;

	if (ufrag == NULL || pwd == NULL || *ufrag == '\0' || *pwd == '\0' ||
	    strlen(ufrag) > DIRECT_MAX_ICE_CHARS || strlen(pwd) > DIRECT_MAX_ICE_CHARS ||
	    strchr(ufrag, ':') != NULL)
		return -1;
	g_free(ps->username);
	g_free(ps->remote_pwd);
	ps->username = g_strdup_printf("%s:%s", ufrag, our_ufrag); /* RFC 8445 §7.2.2 */
	ps->remote_pwd = g_strdup(pwd);
	len = stun_binding_request(txid, ps->username, ps->remote_pwd, 0, 0, scratch,
	                           sizeof(scratch));
	ps->check_len = len > 0 ? (size_t)len : SIZE_MAX;
	return len > 0 ? 0 : -1;
}

static gboolean names(gpointer key, gpointer value, gpointer ps)
{
	return value == ps;
}

void paths_forget(struct paths *ps)
{
	if (by_addr != NULL)
		g_hash_table_foreach_remove(by_addr, names, ps);
}

void paths_free(struct paths *ps)
{
	int i;

	for (i = 0; i < ps->n; i++)
		g_free(ps->v[i]);
	ps->n = 0;
	ps->want = ps->sel = NULL;
	g_clear_pointer(&ps->username, g_free);
	g_clear_pointer(&ps->remote_pwd, g_free);
}

/*
 * Where DTLS and media go: where the viewer is, once that address consents;
 * until then where they went, while that consent lasts; else any path whose
 * consent is fresh; else nowhere (and the silence sweep ends the session).
 */
static void choose(struct paths *ps, gint64 now)
{
	const struct path *best = NULL;
	char text[INET6_ADDRSTRLEN + 8];
	int i;

	if (ps->want != NULL && consent_fresh(&ps->want->consent, now))
		best = ps->want;
	else if (ps->sel != NULL && consent_fresh(&ps->sel->consent, now))
		best = ps->sel;
	for (i = 0; best == NULL && i < ps->n; i++)
		if (consent_fresh(&ps->v[i]->consent, now))
			best = ps->v[i];
	if (best == ps->sel)
		return;
	if (best != NULL)
		g_info("viewer %s: media to %s (it answered our consent check)", ps->sid,
		       path_text(best, text, sizeof(text)));
	else
		g_message("viewer %s: consent from %s lapsed: no media until an address answers",
		          ps->sid, path_text(ps->sel, text, sizeof(text)));
	ps->sel = best;
	ps->moved(ps->owner);
}

static struct path *path_of(struct paths *ps, const struct addr_key *key)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (addr_key_equal(&ps->v[i]->key, key))
			return ps->v[i];
	return NULL;
}

/* Forget a path: its table entry first, every pointer to it next, then the memory. */
static void drop_path(struct paths *ps, struct path *path, gint64 now)
{
	int i;

	if (g_hash_table_lookup(by_addr, &path->key) == ps)
		g_hash_table_remove(by_addr, &path->key);
	for (i = 0; i < ps->n && ps->v[i] != path; i++)
		;
	if (i < ps->n) { /* the pointers move; the paths stay where they are */
		memmove(&ps->v[i], &ps->v[i + 1], sizeof(ps->v[0]) * (size_t)(ps->n - i - 1));
		ps->n--;
	}
	if (ps->want == path)
		ps->want = NULL;
	if (ps->sel == path) {
		ps->sel = NULL;
		ps->moved(ps->owner);
	}
	g_free(path);
	choose(ps, now);
}

struct path *paths_add(struct paths *ps, int fd, const struct sockaddr_storage *from,
                       socklen_t fromlen, gint64 now)
{
	struct addr_key key, *copy;
	struct consent pace = {0};
	struct paths *other;
	struct path *path;

	addr_key_from(&key, from);
	path = path_of(ps, &key);
	if (path != NULL && path->fd == fd)
		return path;
	other = path != NULL ? ps : g_hash_table_lookup(by_addr, &key);
	path = other != NULL ? path_of(other, &key) : NULL;
	if (path != NULL) {
		if (other != ps && consent_fresh(&path->consent, now))
			return NULL;
		/*
		 * The address (on another of our sockets, or another viewer's
		 * whose consent lapsed) changes hands; how often we asked it
		 * does not: two sessions taking turns at forging it earn no
		 * more checks than one.
		 */
		consent_keep_pace(&pace, &path->consent);
		drop_path(other, path, now);
	}
	if (ps->n == DIRECT_MAX_PATHS) /* the oldest goes, unless media goes there */
		drop_path(ps, ps->v[ps->v[0] == ps->sel ? 1 : 0], now);
	path = g_new0(struct path, 1);
	path->fd = fd;
	memcpy(&path->addr, from, fromlen);
	path->addrlen = fromlen;
	path->key = key;
	path->consent = pace;
	ps->v[ps->n++] = path;
	copy = g_new(struct addr_key, 1);
	*copy = key;
	g_hash_table_replace(by_addr, copy, ps);
	return path;
}

struct path *paths_find(int fd, const struct sockaddr_storage *from, void **owner)
{
	struct addr_key key;
	struct paths *ps;
	struct path *path;

	addr_key_from(&key, from);
	ps = g_hash_table_lookup(by_addr, &key);
	path = ps != NULL ? path_of(ps, &key) : NULL;
	if (path == NULL || path->fd != fd)
		return NULL;
	*owner = ps->owner;
	return path;
}

void paths_want(struct paths *ps, const struct path *path, gint64 now)
{
	ps->want = path;
	choose(ps, now);
}

/* Our consent check to `path`, now (RFC 7675 §5.1, RFC 8445 §7.2.2). */
static void send_check(struct paths *ps, struct path *path, gint64 now)
{
	uint8_t out[STUN_MAX_REQUEST];
	int len;

	if (ps->username == NULL)
		return;
	len = consent_request(&path->consent, ps->username, ps->remote_pwd, ps->tie_breaker, now,
	                      out, sizeof(out));
	if (len > 0)
		sendto(path->fd, out, (size_t)len, 0, (const struct sockaddr *)&path->addr,
		       path->addrlen);
}

void paths_heard_from(struct paths *ps, struct path *path, size_t n, gint64 now)
{
	/* One check a trigger, no bigger than it, at most one per DIRECT_CONSENT_TRIGGER_MS. */
	if (path != ps->want || n < ps->check_len || consent_fresh(&path->consent, now) ||
	    !consent_may_trigger(&path->consent, now))
		return;
	send_check(ps, path, now);
}

bool paths_answered(struct paths *ps, struct path *path, const uint8_t *buf, size_t n, gint64 now)
{
	if (ps->remote_pwd == NULL ||
	    !consent_answered(&path->consent, buf, n, ps->remote_pwd, now))
		return false;
	choose(ps, now);
	return true;
}

void paths_tick(struct paths *ps, gint64 now, gint64 *next)
{
	struct path *path;
	gint64 at;
	int i;

	if (ps->sel != NULL && !consent_fresh(&ps->sel->consent, now))
		choose(ps, now);
	/* RFC 7675 §5.1: the path in use, and the one wanted, on schedule while they consent. */
	for (i = 0; i < ps->n; i++) {
		path = ps->v[i];
		if (path != ps->sel && path != ps->want)
			continue;
		if (consent_due(&path->consent, now))
			send_check(ps, path, now);
		at = consent_next_event_us(&path->consent, now);
		if (at > 0)
			*next = MIN(*next, at);
	}
}
