/*
 * resend.c - a viewer's NACK resend budget (resend.h): a token bucket in
 * bytes, and the sequence numbers resent within the repeat window.
 */
#include <string.h>

#include "resend.h"

double resend_budget_rate(unsigned kbps)
{
	return (double)kbps * 1000.0 / 8.0 * RESEND_RATE_PERCENT / 100.0;
}

double resend_budget_burst(unsigned kbps, size_t largest)
{
	double burst = (double)kbps * 1000.0 / 8.0 * RESEND_BURST_MS / 1000.0;
	double floor = (double)largest * RESEND_BURST_MIN;

	return burst > floor ? burst : floor;
}

void resend_budget_init(struct resend_budget *b, unsigned kbps, size_t largest)
{
	memset(b, 0, sizeof(*b));
	b->per_us = resend_budget_rate(kbps) / 1e6;
	b->burst = resend_budget_burst(kbps, largest);
	b->tokens = b->burst;
	b->need = (double)largest;
}

enum resend_verdict resend_budget_check(struct resend_budget *b, uint16_t seq, int64_t now_us)
{
	const struct resend_mark *r = &b->recent[seq % RESEND_RECENT];
	uint32_t now_ms = (uint32_t)(now_us / 1000);

	if (b->last_us != 0 && now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * b->per_us;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	if (b->last_us == 0 || now_us > b->last_us)
		b->last_us = now_us; /* a clock going back adds nothing */
	if (r->used && r->seq == seq && (uint32_t)(now_ms - r->at_ms) < RESEND_REPEAT_MS)
		return RESEND_REPEAT;
	return b->tokens >= b->need ? RESEND_OK : RESEND_BUDGET;
}

void resend_budget_spend(struct resend_budget *b, uint16_t seq, size_t len, int64_t now_us)
{
	struct resend_mark *r = &b->recent[seq % RESEND_RECENT];

	b->tokens -= (double)len;
	r->seq = seq;
	r->used = 1;
	r->at_ms = (uint32_t)(now_us / 1000);
}
