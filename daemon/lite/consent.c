/*
 * consent.c - RFC 7675 consent freshness for one remote address of a direct
 * viewer: our checks (RFC 8445 §7.2.2 Binding requests with the viewer's
 * credentials, fresh random transaction ids), the answers that count, and
 * how long they count. Owns nothing but the struct consent it is handed.
 */
#define G_LOG_DOMAIN "udp"
#include <string.h>
#include <sys/random.h>

#include "consent.h"
#include "whepcam.h"
#include "wire/stun.h"

/* RFC 8445 §5.1.2.1: what a peer-reflexive candidate of ours would have. */
#define CONSENT_PRIORITY ((110u << 24) | (65535u << 8) | 255u)

static struct {
	gint interval_ms; /* atomic: set before the receive thread runs, read on it */
	gint expiry_s;
} T = {DIRECT_CONSENT_INTERVAL_MS, WHEPCAM_PEER_SILENCE_S};

void consent_set_timing(int interval_ms, int expiry_s)
{
	g_atomic_int_set(&T.interval_ms, MAX(interval_ms, 100));
	g_atomic_int_set(&T.expiry_s, MAX(expiry_s, 1));
}

int consent_expiry_s(void)
{
	return g_atomic_int_get(&T.expiry_s);
}

bool consent_fresh(const struct consent *c, gint64 now_us)
{
	return c->fresh_until_us > now_us;
}

bool consent_due(const struct consent *c, gint64 now_us)
{
	return consent_fresh(c, now_us) && c->next_us <= now_us;
}

bool consent_may_trigger(const struct consent *c, gint64 now_us)
{
	gint64 gap_us = (gint64)DIRECT_CONSENT_TRIGGER_MS * 1000
	                << MIN(c->unanswered > 0 ? c->unanswered - 1 : 0, 16u);

	/* A forger keeps triggering: it earns a few checks, then one an interval. */
	gap_us = MIN(gap_us, (gint64)g_atomic_int_get(&T.interval_ms) * 1000);
	return c->sent == 0 || now_us - c->sent_us >= gap_us;
}

int consent_request(struct consent *c, const char *username, const char *pwd, uint64_t tie_breaker,
                    gint64 now_us, uint8_t *out, size_t cap)
{
	unsigned slot = c->sent % DIRECT_CONSENT_TXIDS;
	gint64 interval_us = (gint64)g_atomic_int_get(&T.interval_ms) * 1000;
	int len;

	/*
	 * The transaction id is all that stands between a viewer, who knows its
	 * own password and so can sign a response, and a forged "yes" from an
	 * address it does not own: it must be unpredictable (RFC 7675 §5.1).
	 */
	if (getrandom(c->txids[slot], sizeof(c->txids[slot]), 0) != sizeof(c->txids[slot]))
		return -1;
	len = stun_binding_request(c->txids[slot], username, pwd, CONSENT_PRIORITY, tie_breaker,
	                           out, cap);
	if (len < 0)
		return -1;
	c->live |= (uint8_t)(1u << slot);
	c->sent++;
	c->unanswered++;
	c->sent_us = now_us;
	/* RFC 7675 §5.1: randomized by 0.8-1.2 so that checks do not synchronize. */
	c->next_us = now_us + (gint64)g_random_double_range(0.8 * (double)interval_us,
	                                                    1.2 * (double)interval_us);
	return len;
}

bool consent_answered(struct consent *c, const uint8_t *p, size_t n, const char *pwd, gint64 now_us)
{
	unsigned i;

	for (i = 0; i < DIRECT_CONSENT_TXIDS; i++) {
		if (!(c->live & (1u << i)) || !stun_check_binding_success(p, n, c->txids[i], pwd))
			continue;
		c->live &= (uint8_t) ~(1u << i);
		c->unanswered = 0;
		c->fresh_until_us = now_us + (gint64)g_atomic_int_get(&T.expiry_s) * G_USEC_PER_SEC;
		return true;
	}
	return false;
}

void consent_keep_pace(struct consent *to, const struct consent *from)
{
	to->sent = from->sent;
	to->sent_us = from->sent_us;
	to->unanswered = from->unanswered;
}

gint64 consent_next_event_us(const struct consent *c, gint64 now_us)
{
	if (!consent_fresh(c, now_us))
		return 0;
	return MIN(c->next_us, c->fresh_until_us);
}
