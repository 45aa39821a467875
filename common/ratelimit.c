/*
 * ratelimit.c - the token bucket of ratelimit.h: `burst` tokens at most,
 * refilled at `per_s` a second.
 */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *r, double per_s, double burst)
{
	r->per_s = per_s;
	r->burst = burst;
	r->tokens = burst;
	r->last_us = 0;
	r->held = 0;
}

bool ratelimit_allow(struct ratelimit *r, int64_t now_us, unsigned long *held_back)
{
	if (r->last_us != 0 && now_us > r->last_us) {
		r->tokens += (double)(now_us - r->last_us) * r->per_s / 1e6;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
	}
	if (r->last_us == 0 || now_us > r->last_us)
		r->last_us = now_us;
	if (r->tokens < 1.0) {
		r->held++;
		return false;
	}
	r->tokens -= 1.0;
	*held_back = r->held;
	r->held = 0;
	return true;
}
