/*
 * rtp.c - the few RTP/RTCP facts the direct path reads off the wire: where
 * a VP8 or H.264 keyframe starts (the join gate), whether a viewer's RTCP asks
 * for one (PLI/FIR) and which packets it lost (NACK). Pure functions over bytes, bounds-checked:
 * the RTCP comes from the network.
 */
#include <string.h>

#include "rtp.h"

#define RTP_HEADER_LEN  12
#define RTCP_PT_RTPFB   205
#define RTCP_PT_PSFB    206
#define RTCP_FMT_NACK   1
#define RTCP_FMT_PLI    1
#define RTCP_FMT_FIR    4
#define RTCP_MIN_FB_LEN 12 /* header + sender SSRC + media SSRC */

/* Offset of the RTP payload, or 0 when the header is malformed. */
static size_t rtp_payload_offset(const uint8_t *p, size_t n)
{
	size_t off = RTP_HEADER_LEN;

	if (n < RTP_HEADER_LEN || (p[0] >> 6) != 2)
		return 0;
	off += (size_t)(p[0] & 0x0f) * 4; /* CSRCs */
	if (p[0] & 0x10) {                /* header extension: 4 bytes + length words */
		if (n < off + 4)
			return 0;
		off += 4 + (size_t)((p[off + 2] << 8) | p[off + 3]) * 4;
	}
	return off < n ? off : 0;
}

bool rtp_vp8_keyframe_start(const uint8_t *p, size_t n)
{
	size_t off = rtp_payload_offset(p, n);
	uint8_t d;

	if (off == 0)
		return false;
	/* RFC 7741 §4.2 payload descriptor: X R N S R PID */
	d = p[off++];
	if (!(d & 0x10) || (d & 0x07) != 0)
		return false; /* not the start of partition 0 */
	if (d & 0x80) {       /* X: I L T K follow */
		uint8_t x;

		if (off >= n)
			return false;
		x = p[off++];
		if (x & 0x80) /* I: picture id, 7 or 15 bits */
			off += (off < n && (p[off] & 0x80)) ? 2 : 1;
		if (x & 0x40) /* L: TL0PICIDX */
			off++;
		if (x & 0x30) /* T or K: TID/KEYIDX */
			off++;
	}
	/* §4.3 payload header: P (inverse keyframe flag) is bit 0 of the first byte. */
	return off < n && (p[off] & 0x01) == 0;
}

#define H264_NAL_IDR   5
#define H264_NAL_SPS   7
#define H264_NAL_STAPA 24
#define H264_NAL_FUA   28

static bool h264_starts_keyframe(uint8_t nal_type)
{
	return nal_type == H264_NAL_IDR || nal_type == H264_NAL_SPS;
}

bool rtp_h264_keyframe_start(const uint8_t *p, size_t n)
{
	size_t off = rtp_payload_offset(p, n);
	uint8_t type;

	if (off == 0)
		return false;
	type = p[off] & 0x1f;
	if (type == H264_NAL_FUA) /* RFC 6184 §5.8: FU indicator, FU header (S E R type) */
		return off + 1 < n && (p[off + 1] & 0x80) &&
		       h264_starts_keyframe(p[off + 1] & 0x1f);
	if (type != H264_NAL_STAPA)
		return h264_starts_keyframe(type);
	/* §5.7.1: after the STAP-A header, NAL units each with a 16-bit size */
	for (off++; off + 2 < n;) {
		size_t size = (size_t)((p[off] << 8) | p[off + 1]);

		if (size == 0 || size > n - off - 2)
			return false;
		if (h264_starts_keyframe(p[off + 2] & 0x1f))
			return true;
		off += 2 + size;
	}
	return false;
}

bool rtp_is_rtcp(const uint8_t *p, size_t n)
{
	return n >= 8 && (p[0] >> 6) == 2 && p[1] >= 192 && p[1] <= 223;
}

bool rtp_rtcp_wants_keyframe(const uint8_t *p, size_t n)
{
	size_t off = 0;

	/* A compound packet: walk each one by its length field (RFC 3550 §6.4). */
	while (n - off >= 4) {
		const uint8_t *h = p + off;
		size_t len = ((size_t)((h[2] << 8) | h[3]) + 1) * 4;
		uint8_t fmt = h[0] & 0x1f;

		if ((h[0] >> 6) != 2 || len > n - off)
			return false;
		if (h[1] == RTCP_PT_PSFB && len >= RTCP_MIN_FB_LEN &&
		    (fmt == RTCP_FMT_PLI || fmt == RTCP_FMT_FIR))
			return true;
		off += len;
	}
	return false;
}

size_t rtp_rtcp_nacks(const uint8_t *p, size_t n, uint16_t *seqs, size_t max)
{
	size_t off = 0, got = 0;

	while (n - off >= 4 && got < max) {
		const uint8_t *h = p + off;
		size_t len = ((size_t)((h[2] << 8) | h[3]) + 1) * 4, fci;

		if ((h[0] >> 6) != 2 || len > n - off)
			break;
		/* RFC 4585 §6.2.1: after the two SSRCs, (PID, BLP) pairs of 16 bits each. */
		if (h[1] == RTCP_PT_RTPFB && (h[0] & 0x1f) == RTCP_FMT_NACK) {
			for (fci = RTCP_MIN_FB_LEN; fci + 4 <= len && got < max; fci += 4) {
				uint16_t pid = (uint16_t)((h[fci] << 8) | h[fci + 1]);
				uint16_t blp = (uint16_t)((h[fci + 2] << 8) | h[fci + 3]);
				int bit;

				seqs[got++] = pid;
				for (bit = 0; bit < 16 && got < max; bit++)
					if (blp & (1u << bit))
						seqs[got++] = (uint16_t)(pid + bit + 1);
			}
		}
		off += len;
	}
	return got;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t rtp_rtcp_sender_report(const struct rtp_sender_info *si, const char *cname, uint8_t *out,
                              size_t cap)
{
	size_t clen = strlen(cname);
	/* SDES: header, SSRC, CNAME item (type, length, text), a zero item, to 32 bits */
	size_t sdes = (4 + 4 + 2 + clen + 1 + 3) & ~(size_t)3;
	size_t total = 28 + sdes;
	uint64_t secs = (uint64_t)(si->wall_us / 1000000) + RTP_NTP_UNIX_OFFSET;
	uint64_t frac = ((uint64_t)(si->wall_us % 1000000) << 32) / 1000000;

	if (clen > RTP_SDES_MAX_CNAME || cap < total || si->wall_us < 0)
		return 0;
	memset(out, 0, total);
	out[0] = 0x80; /* V=2, no padding, no report blocks */
	out[1] = 200;  /* SR */
	out[3] = 6;    /* 7 words, less one */
	put32(out + 4, si->ssrc);
	put32(out + 8, (uint32_t)secs);
	put32(out + 12, (uint32_t)frac);
	put32(out + 16, si->rtp);
	put32(out + 20, si->packets);
	put32(out + 24, si->octets);
	out[28] = 0x81; /* V=2, one chunk */
	out[29] = 202;  /* SDES */
	out[30] = (uint8_t)((sdes / 4 - 1) >> 8);
	out[31] = (uint8_t)(sdes / 4 - 1);
	put32(out + 32, si->ssrc);
	out[36] = 1; /* CNAME */
	out[37] = (uint8_t)clen;
	memcpy(out + 38, cname, clen); /* the zero item and padding: memset above */
	return total;
}
