/*
 * paths.h - a direct viewer's remote addresses: those that passed an ICE
 * check (at most DIRECT_MAX_PATHS), their RFC 7675 consent, the one the
 * viewer wants media on and the one media goes to; and the address registry
 * that finds them from a datagram's source. A check proves nothing about
 * its source address (the viewer knows its own key); only an answer to our
 * own check does, so media and DTLS go only where consent is fresh.
 * Threads: the registry's init/clear on the main thread while no receive
 * thread runs; everything else under peer.c's registry lock.
 */
#ifndef WHEPCAMD_LITE_PATHS_H
#define WHEPCAMD_LITE_PATHS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "consent.h"
#include "lite.h"

/* A remote transport address as a hash key (no allocation per packet). */
struct addr_key {
	uint16_t family, port;
	uint8_t ip[16];
};

/*
 * A remote address that passed a check, the socket it reached and its
 * consent. Each is its own allocation, so nothing moves under a pointer; the
 * registry holds its own copy of the key and loses it before the path goes.
 */
struct path {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct addr_key key;
	struct consent consent;
};

/* One viewer's paths, inside its peer. Read-only outside paths.c. */
struct paths {
	void *owner;                      /* the peer: what paths_find returns with a path */
	const char *sid;                  /* for log lines, the owner's */
	void (*moved)(void *owner);       /* `sel` changed: tell the fan-out (no paths_* call) */
	char *username;                   /* "their ufrag:ours": what our checks carry */
	char *remote_pwd;                 /* the offer's a=ice-pwd: keys our checks and answers */
	size_t check_len;                 /* the size of our checks; SIZE_MAX: none */
	uint64_t tie_breaker;             /* our ICE-CONTROLLED (RFC 8445 §7.1.3) */
	struct path *v[DIRECT_MAX_PATHS]; /* oldest first, owned */
	int n;
	const struct path
	    *want; /* where the viewer is: nominated, or its handshake or SRTCP came from */
	const struct path *sel; /* where DTLS and media go: consent is fresh there; NULL: nowhere */
};

/* Main thread: the address table (it owns copies of its keys). */
void paths_registry_init(void);
void paths_registry_clear(void);
/* Entries in the address table: at most DIRECT_MAX_PATHS a viewer. */
int paths_registry_size(void);

/* Main thread: an empty set for `owner`; `sid` and `moved` must outlive it. */
void paths_init(struct paths *ps, void *owner, const char *sid, void (*moved)(void *owner));
/* Main thread: the credentials of our checks. -1 when unusable (RFC 8839 sizes). */
int paths_set_remote(struct paths *ps, const char *our_ufrag, const char *ufrag, const char *pwd);
/* Main thread, after paths_forget: frees the paths and credentials. */
void paths_free(struct paths *ps);
/* Main thread: out of the address table, every entry that names ps. */
void paths_forget(struct paths *ps);

/*
 * A valid check for ps came from `from` on socket fd: its path, remembered
 * and findable if new (the oldest one not in use goes to make room). NULL
 * when that address is another viewer's with fresh consent: forging a check
 * from it must not take it away.
 */
struct path *paths_add(struct paths *ps, int fd, const struct sockaddr_storage *from,
                       socklen_t fromlen, gint64 now);
/* The path a datagram from `from` on fd belongs to, and its owner; NULL if none. */
struct path *paths_find(int fd, const struct sockaddr_storage *from, void **owner);
/* The viewer is at `path` now: media follows once that address consents. */
void paths_want(struct paths *ps, const struct path *path, gint64 now);
/*
 * `n` bytes arrived from `path`: when it is where the viewer wants media and
 * has not consented, our check goes at once (never more, nor bigger, than
 * what arrived, so a forged source earns no amplification).
 */
void paths_heard_from(struct paths *ps, struct path *path, size_t n, gint64 now);
/* A STUN success response from `path`: true when it answered our check (consent is fresh). */
bool paths_answered(struct paths *ps, struct path *path, const uint8_t *buf, size_t n, gint64 now);
/* Checks due on schedule, and consent that lapsed; *next: when to look again. */
void paths_tick(struct paths *ps, gint64 now, gint64 *next);

#endif
