/*
 * rtp.h - the few RTP/RTCP facts read off the wire: where a VP8 or H.264
 * keyframe starts, whether a viewer's RTCP asks for one (PLI/FIR) and which packets
 * it lost (NACK). Pure functions over untrusted bytes, bounds-checked,
 * unit-tested and fuzzed; any thread.
 */
#ifndef WHEPCAMD_WIRE_RTP_H
#define WHEPCAMD_WIRE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when an RTP packet starts a VP8 keyframe (RFC 7741: S=1, PID 0, P=0). */
bool rtp_vp8_keyframe_start(const uint8_t *p, size_t n);
/*
 * True when an RTP packet carries the start of an H.264 keyframe (RFC 6184):
 * an IDR slice (NAL type 5) or a sequence parameter set (7, which the
 * payloaders put before each IDR) as a single NAL unit, inside a STAP-A
 * (24), or as the first fragment (S bit) of an FU-A (28).
 */
bool rtp_h264_keyframe_start(const uint8_t *p, size_t n);
/* True for RTCP by RFC 5761 §4 (packet types 192..223 in the second byte). */
bool rtp_is_rtcp(const uint8_t *p, size_t n);
/* True when a (decrypted) compound RTCP packet carries a PLI or a FIR. */
bool rtp_rtcp_wants_keyframe(const uint8_t *p, size_t n);
/* The sequence numbers a (decrypted) compound RTCP packet NACKs (RFC 4585 §6.2.1), at most `max`.
 */
size_t rtp_rtcp_nacks(const uint8_t *p, size_t n, uint16_t *seqs, size_t max);

/* Seconds from the NTP epoch (1900) to the Unix one (1970). */
#define RTP_NTP_UNIX_OFFSET 2208988800u
#define RTP_SDES_MAX_CNAME  255 /* an SDES item's length is one byte */

/* What a sender report says of one SSRC (RFC 3550 §6.4.1). */
struct rtp_sender_info {
	uint32_t ssrc;
	int64_t wall_us; /* now, Unix microseconds: written as NTP */
	uint32_t rtp;    /* the same instant on the track's RTP clock */
	uint32_t packets, octets;
};

/*
 * A compound RTCP packet: a sender report with no report blocks, then an
 * SDES with the CNAME (RFC 3550 §6.1: every compound packet carries one),
 * into out[0..cap). Its length (a multiple of 4), or 0 when it does not
 * fit or the CNAME is longer than RTP_SDES_MAX_CNAME.
 */
size_t rtp_rtcp_sender_report(const struct rtp_sender_info *si, const char *cname, uint8_t *out,
                              size_t cap);

#endif
