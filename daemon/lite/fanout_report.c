/*
 * fanout_report.c - RTCP sender reports (RFC 3550 §6.4.1) for the direct
 * path's viewers: for each track a viewer is sent, the wall clock and the
 * RTP timestamp of the same instant, and what it was sent. A player lines
 * sound up with the picture by them, and shows them as remote-outbound-rtp.
 * Receive thread (peer.c's tick), under the fanout lock.
 */
#define G_LOG_DOMAIN "fanout"

#include "fanout_priv.h"
#include "wire/rtp.h"

size_t fanout_sender_report(struct fanout *f, struct fanout_member *m, const char *cname,
                            uint8_t *out, size_t cap)
{
	struct rtp_sender_info si = {.ssrc = f->ssrc};
	gint64 since_ns;

	g_mutex_lock(&f->lock);
	if (m->packets == 0 || f->report_mono_ns == 0) {
		g_mutex_unlock(&f->lock);
		return 0;
	}
	si.wall_us = g_get_real_time();
	/* Now on the track's RTP clock: the newest frame's timestamp, plus what went by since. */
	since_ns = g_get_monotonic_time() * 1000 - f->report_mono_ns;
	si.rtp = f->report_rtp + (guint32)(since_ns * (gint64)f->clock_rate / GST_SECOND);
	si.packets = (uint32_t)m->packets;
	si.octets = (uint32_t)m->octets;
	g_mutex_unlock(&f->lock);
	return rtp_rtcp_sender_report(&si, cname, out, cap);
}
