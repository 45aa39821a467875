/*
 * fanout_resend.c - NACKs (RFC 4585) served from the fan-out's history: the
 * packets a viewer lost, sent to it again within its budget (wire/resend.h).
 * The send thread keeps each frame's packets; the receive thread copies
 * them out under the fanout's side lock and seals and sends them after it.
 */
#define G_LOG_DOMAIN "fanout"
#include <string.h>

#include "fanout_priv.h"

/* NACK resends, every fan-out; atomic */
static struct {
	guint64 packets, bytes;                 /* sent again (bytes: RTP, before SRTP) */
	guint64 refused_budget, refused_repeat; /* not sent: see wire/resend.h */
} resends;

void fanout_remember(struct fanout *f, guint npackets)
{
	guint i;

	g_mutex_lock(&f->side);
	for (i = 0; i < npackets; i++) {
		const GstMapInfo *m = &f->maps[i];
		struct sent_packet *h;
		uint16_t seq;

		if (m->size < 12 || m->size > DIRECT_MAX_PACKET)
			continue;
		seq = (uint16_t)((m->data[2] << 8) | m->data[3]);
		h = &f->history[seq % FANOUT_HISTORY];
		h->seq = seq;
		h->len = (uint16_t)m->size;
		memcpy(h->data, m->data, m->size);
	}
	g_mutex_unlock(&f->side);
}

/* Receive thread: packet `seq` from the history into `out`; its length, 0 when no longer kept. */
static int history_copy(struct fanout *f, uint16_t seq, uint8_t *out)
{
	const struct sent_packet *h;
	int len = 0;

	g_mutex_lock(&f->side);
	h = &f->history[seq % FANOUT_HISTORY];
	if (h->len != 0 && h->seq == seq) {
		len = h->len;
		memcpy(out, h->data, (size_t)len);
	}
	g_mutex_unlock(&f->side);
	return len;
}

guint fanout_resend(struct fanout *f, struct fanout_member *m, const uint16_t *seqs, size_t n,
                    uint8_t *scratch)
{
	gint64 now = g_get_monotonic_time();
	guint sent = 0, over = 0, repeats = 0;
	guint64 bytes = 0;
	size_t i;

	/* tx and the address change only on this thread; the gate is atomic. Sound has no NACKs. */
	if (f->history == NULL || m->tx == NULL || g_atomic_int_get(&m->branch->gate) != GATE_OPEN)
		return 0;
	for (i = 0; i < n; i++) {
		int st;
		int len, rtp_len;

		switch (resend_budget_check(&m->resend, seqs[i], now)) {
		case RESEND_REPEAT:
			repeats++;
			continue;
		case RESEND_BUDGET:
			over++;
			continue;
		case RESEND_OK:
			break;
		}
		/* Copied under the side lock, sealed and sent without it: frames keep going. */
		rtp_len = len = history_copy(f, seqs[i], scratch);
		if (len == 0)
			continue; /* too old: the viewer will ask for a keyframe instead */
		resend_budget_spend(&m->resend, seqs[i], (size_t)len, now);
		scratch[1] = (uint8_t)((scratch[1] & 0x80) | m->pt);
		/* The same packet again under the same index (within SRTP_SEAL_WINDOW). */
		g_mutex_lock(&m->seal);
		st = srtp_seal(m->tx, scratch, &len);
		g_mutex_unlock(&m->seal);
		if (st == 0 && sendto(m->fd, scratch, (size_t)len, MSG_DONTWAIT,
		                      (struct sockaddr *)&m->addr, m->addrlen) > 0) {
			sent++;
			bytes += (guint64)rtp_len;
		}
	}
	__atomic_fetch_add(&resends.packets, sent, __ATOMIC_RELAXED);
	__atomic_fetch_add(&resends.bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&resends.refused_budget, over, __ATOMIC_RELAXED);
	__atomic_fetch_add(&resends.refused_repeat, repeats, __ATOMIC_RELAXED);
	return sent;
}

void fanout_resend_totals(struct fanout_resend_totals *t)
{
	t->packets = __atomic_load_n(&resends.packets, __ATOMIC_RELAXED);
	t->bytes = __atomic_load_n(&resends.bytes, __ATOMIC_RELAXED);
	t->refused_budget = __atomic_load_n(&resends.refused_budget, __ATOMIC_RELAXED);
	t->refused_repeat = __atomic_load_n(&resends.refused_repeat, __ATOMIC_RELAXED);
}
