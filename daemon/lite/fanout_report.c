/*
 * fanout_report.c - RTCP sender reports (RFC 3550 §6.4.1) for the direct
 * path's viewers: for each track a viewer is sent, the wall clock and the
 * RTP timestamp of the same instant, and what it was sent. A player lines
 * sound up with the picture by them, and shows them as remote-outbound-rtp.
 * Receive thread (peer.c's tick): the only writer of a member's address,
 * so only the report clock needs a lock (the fanout's side lock).
 */
#define G_LOG_DOMAIN "fanout"

#include "fanout_priv.h"
#include "wire/rtp.h"

#define REPORT_MAX 256 /* an SR and the SDES of a CNAME up to RTP_SDES_MAX_CNAME */

/* m's report into out[0..cap); 0 when it has been sent nothing yet. */
static size_t sender_report(struct fanout *f, struct fanout_member *m, const char *cname,
                            uint8_t *out, size_t cap)
{
	struct rtp_sender_info si = {.ssrc = f->ssrc};
	guint32 rtp;
	gint64 since_ns, mono_ns;

	g_mutex_lock(&f->side);
	rtp = f->report_rtp;
	mono_ns = f->report_mono_ns;
	g_mutex_unlock(&f->side);
	si.packets = (uint32_t)__atomic_load_n(&m->packets, __ATOMIC_RELAXED);
	si.octets = (uint32_t)__atomic_load_n(&m->octets, __ATOMIC_RELAXED);
	if (si.packets == 0 || mono_ns == 0)
		return 0;
	si.wall_us = g_get_real_time();
	/* Now on the track's RTP clock: the newest frame's timestamp, plus what went by since. */
	since_ns = g_get_monotonic_time() * 1000 - mono_ns;
	si.rtp = rtp + (guint32)(since_ns * (gint64)f->clock_rate / GST_SECOND);
	return rtp_rtcp_sender_report(&si, cname, out, cap);
}

bool fanout_send_report(struct fanout *f, struct fanout_member *m, struct srtcp *tx,
                        const char *cname)
{
	static uint8_t out[REPORT_MAX + SRTCP_MAX_TRAILER]; /* the receive thread's */
	int len;

	len = m->fd >= 0 ? (int)sender_report(f, m, cname, out, REPORT_MAX) : 0;
	if (len > 0 && srtcp_protect(tx, out, &len) == 0)
		sendto(m->fd, out, (size_t)len, MSG_DONTWAIT, (const struct sockaddr *)&m->addr,
		       m->addrlen);
	return len > 0;
}
