/*
 * metrics.h - the daemon's counters and their Prometheus text form (GET
 * /metrics through whepcam-fcgi). Main loop.
 */
#ifndef WHEPCAMD_CTL_METRICS_H
#define WHEPCAMD_CTL_METRICS_H

#include <glib.h>

/*
 * Numbers that live in a layer ctl/ must not name (a media path), handed to
 * ctl_listen by main.c. Each is called on the main loop and reads atomics.
 */
struct metrics_sources {
	/* NACK resends: RTP packets and bytes sent again, and NACKed ones refused, by reason */
	void (*resends)(guint64 *packets, guint64 *bytes, guint64 *refused_budget,
	                guint64 *refused_repeat);
	int (*live_peers)(void);      /* direct-path peers allocated and not yet freed */
	int (*live_webrtcbins)(void); /* webrtcbins created and not yet finalized */
};

/* The reply to an offer went out with HTTP `status`. */
void metrics_offer(int status);
/* A session ended: count its reason and keep the traffic it had. */
void metrics_reaped(const char *reason, guint64 packets, guint64 bytes);
/* Everything in Prometheus text format. Caller frees. */
char *metrics_text(const struct metrics_sources *src);

#endif
