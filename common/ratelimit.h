/*
 * ratelimit.h - a token bucket for log lines about what clients send: a flood
 * of bad requests must not fill the disk, yet the first ones and a count of
 * the rest are kept. Pure: the caller passes the time and holds any lock.
 */
#ifndef WHEPCAM_RATELIMIT_H
#define WHEPCAM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Log lines about refused requests: a burst, then this many a second. */
#define WHEPCAM_REFUSAL_LOG_BURST 20
#define WHEPCAM_REFUSAL_LOG_PER_S 5

struct ratelimit {
	double per_s, burst, tokens;
	int64_t last_us;    /* 0 before the first call */
	unsigned long held; /* refused since the last allowed */
};

void ratelimit_init(struct ratelimit *r, double per_s, double burst);
/*
 * True when one more event may go (a token is taken); *held_back then says
 * how many were refused since the last one that went. now_us: any monotonic
 * clock in microseconds.
 */
bool ratelimit_allow(struct ratelimit *r, int64_t now_us, unsigned long *held_back);

#endif
