/*
 * resend.h - which packets a viewer's NACKs (RFC 4585 §6.2.1) get sent
 * again: a token bucket in bytes tied to the stream's bitrate, and a short
 * memory of what was resent, so that a repeated sequence number within
 * RESEND_REPEAT_MS is not sent twice. One 76-byte NACK can name 64 packets;
 * without these a viewer turned ~85 kbit/s of NACKs into ~90 Mbit/s of
 * resends. Pure: the caller passes the time and owns (and serializes) the
 * struct; no allocation, bounded state (~1 KB a viewer).
 */
#ifndef WHEPCAMD_WIRE_RESEND_H
#define WHEPCAMD_WIRE_RESEND_H

#include <stddef.h>
#include <stdint.h>

/*
 * A viewer may be resent, on top of the stream itself, a quarter of the
 * stream's configured bitrate, with a burst of half a second of it (a whole
 * keyframe lost at once fits). Measured with werift and the daemon_nack.mjs
 * loss (640x360, 2000 kbps): repairing every 30th packet lost resent 3.3 %
 * of the media bytes (≤ 3.6 KB in any 100 ms), every 10th 10 % (≤ 11 KB),
 * every 5th 20 % (≤ 29 KB); none refused. A quarter carries 20 % loss with
 * the encoder at its full target, and the burst (125 KB at 2000 kbps) four
 * times the worst 100 ms seen. An attacker's viewer thus costs at most 1.25
 * times a viewer, whatever it NACKs.
 */
#define RESEND_RATE_PERCENT 25
#define RESEND_BURST_MS     500
#define RESEND_BURST_MIN    8 /* largest packets: the burst of a low-bitrate stream */
/*
 * A sequence number resent this recently is not sent again: about one RTT.
 * A resend lost again is asked for again after an RTT (libwebrtc's
 * NackRequester waits one between retries), which passes on a path of up
 * to ~100 ms; werift's NACK loop repeats every 5 ms, which this absorbs.
 */
#define RESEND_REPEAT_MS 100
/*
 * Sequence numbers remembered for the window above, by seq % this: twice
 * what a 10 Mbps stream sends in RESEND_REPEAT_MS (~110 packets of 1200 B),
 * so a real viewer's recent losses never share a slot. An attacker that
 * picks colliding numbers gets past this memory, never past the budget.
 */
#define RESEND_RECENT 128

struct resend_mark {
	uint16_t seq;
	uint16_t used;  /* 0: empty */
	uint32_t at_ms; /* when it was resent; wraps after 49 days, compared modulo 2^32 */
};

struct resend_budget {
	double per_us;   /* bytes refilled a microsecond */
	double burst;    /* bytes the bucket holds at most */
	double tokens;   /* bytes that may go now */
	double need;     /* a packet goes only when the bucket holds this (the largest packet) */
	int64_t last_us; /* of the last refill; 0 before the first */
	struct resend_mark recent[RESEND_RECENT];
};

enum resend_verdict {
	RESEND_OK,     /* may go: resend_budget_spend once it went */
	RESEND_REPEAT, /* resent less than RESEND_REPEAT_MS ago */
	RESEND_BUDGET, /* the bucket is short of a packet */
};

/*
 * A full bucket for a stream of `kbps` (its configured bitrate), whose
 * packets are at most `largest` bytes: the rate and burst above, the burst
 * at least RESEND_BURST_MIN packets.
 */
void resend_budget_init(struct resend_budget *b, unsigned kbps, size_t largest);
/* The rate and burst of a budget made by resend_budget_init, in bytes. */
double resend_budget_rate(unsigned kbps);
double resend_budget_burst(unsigned kbps, size_t largest);
/*
 * Whether `seq` may be resent at `now_us` (any monotonic clock, µs). Refills
 * the bucket; charges nothing, so a packet no longer kept costs no budget.
 */
enum resend_verdict resend_budget_check(struct resend_budget *b, uint16_t seq, int64_t now_us);
/* `seq` went again (`len` bytes): charge the bucket, remember it for the repeat window. */
void resend_budget_spend(struct resend_budget *b, uint16_t seq, size_t len, int64_t now_us);

#endif
