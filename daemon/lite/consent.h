/*
 * consent.h - RFC 7675 consent freshness for one remote transport address of
 * a direct viewer: the Binding requests we send it with the viewer's own
 * credentials, whether an answer is one of ours, and whether media may go
 * there now. Only an address that answered one of our requests (whose
 * transaction id it could only learn by receiving it) consents; a check the
 * viewer sends proves nothing about its source address, which anyone can
 * forge. Pure state, time in and bytes out, no sockets (peer.c sends).
 * Threads: consent_set_timing on the main thread before any peer; the rest
 * on the receive thread, under the registry lock.
 */
#ifndef WHEPCAMD_LITE_CONSENT_H
#define WHEPCAMD_LITE_CONSENT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "lite.h"

/* One remote address's consent; zeroed is "never consented, never checked". */
struct consent {
	gint64 fresh_until_us; /* monotonic; media may go there before this */
	gint64 next_us;        /* our next check on our own schedule (while fresh) */
	gint64 sent_us;        /* our last check: triggered ones are rate-limited by it */
	uint8_t txids[DIRECT_CONSENT_TXIDS][12]; /* our outstanding requests, newest last sent */
	uint8_t live;                            /* bit i: txids[i] may still be answered */
	unsigned sent;       /* requests sent; the next goes to txids[sent % N] */
	unsigned unanswered; /* requests sent since the last answer */
};

/*
 * Main thread, before any peer: our check interval (RFC 7675 §5.1: 5 s,
 * each randomized by 0.8-1.2) and how long one answer lasts (30 s). Tests
 * shorten both through the environment (lite.c).
 */
void consent_set_timing(int interval_ms, int expiry_s);
int consent_expiry_s(void);

/* Media may go to this address at now_us. */
bool consent_fresh(const struct consent *c, gint64 now_us);
/* A fresh address is checked on our schedule: true when that check is due. */
bool consent_due(const struct consent *c, gint64 now_us);
/*
 * An address that is not fresh is checked only when something arrives from
 * it (a check, DTLS): at once the first time, then after a gap that doubles
 * from DIRECT_CONSENT_TRIGGER_MS to the check interval while no answer
 * comes. True when such a check may go now.
 */
bool consent_may_trigger(const struct consent *c, gint64 now_us);
/*
 * Write our Binding request for this address into out (cap bytes) and
 * remember its transaction id: `username` is "their ufrag:our ufrag", `pwd`
 * THEIR password (the offer's a=ice-pwd). Returns its length, or -1 (no
 * random bytes, or it does not fit).
 */
int consent_request(struct consent *c, const char *username, const char *pwd, uint64_t tie_breaker,
                    gint64 now_us, uint8_t *out, size_t cap);
/*
 * A STUN message from this address: true when it is a Binding success
 * response to one of our outstanding requests with MESSAGE-INTEGRITY keyed
 * with `pwd`; consent is then fresh for consent_expiry_s() more, and that
 * transaction id is spent (a replay does not count twice).
 */
bool consent_answered(struct consent *c, const uint8_t *p, size_t n, const char *pwd,
                      gint64 now_us);
/* Into a zeroed `to`: the pace of the checks `from` had (not their ids, not its freshness). */
void consent_keep_pace(struct consent *to, const struct consent *from);
/* The next moment this address needs attention (a due check, or freshness ending); 0: none. */
gint64 consent_next_event_us(const struct consent *c, gint64 now_us);

#endif
