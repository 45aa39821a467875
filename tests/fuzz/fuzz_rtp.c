/*
 * libFuzzer: the RTP/RTCP readers of the direct path (daemon/wire/rtp.c) on
 * what a viewer's SRTCP decrypts to: the VP8 keyframe test, the RTCP demux,
 * PLI/FIR and NACK in compound packets. Each input is read three ways:
 *  - as it is (an exact-size copy, so one byte past the datagram is caught);
 *  - with its headers repaired into a compound RTCP packet whose lengths tile
 *    the datagram and whose types are the ones we read (RR, SR, SDES, BYE,
 *    APP, RTPFB, PSFB), which random bytes almost never are;
 *  - as (PID, BLP) pairs packed into a NACK between an RR and an SDES: the
 *    sequence numbers read back must be exactly the ones packed (RFC 4585
 *    §6.2.1), cut at DIRECT_MAX_NACKS.
 * Properties on every reading: never more than `max` NACKs, a smaller `max`
 * gives a prefix of a larger one's list, and cutting a datagram short never
 * finds a NACK or a keyframe request that the whole one does not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lite/lite.h"
#include "wire/codec.h"
#include "wire/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG_MAX  1024 /* far more than the daemon asks for (DIRECT_MAX_NACKS) */
#define MAX_FCIS 32   /* in the packed NACK */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_rtp: %s\n", what);
	abort();
}

static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (c == NULL)
		die("out of memory");
	memcpy(c, p, n);
	return c;
}

/* The properties every reading must have; p is an exact-size buffer. */
static void read_rtcp(const uint8_t *p, size_t n)
{
	static uint16_t big[BIG_MAX], small[DIRECT_MAX_NACKS], cut[BIG_MAX];
	size_t nbig, nsmall, ncut, k;
	bool pli = rtp_rtcp_wants_keyframe(p, n);

	(void)rtp_is_rtcp(p, n);
	(void)rtp_vp8_keyframe_start(p, n);
	(void)rtp_h264_keyframe_start(p, n);
	(void)codec_h264_sps_profile(p, n);
	nbig = rtp_rtcp_nacks(p, n, big, BIG_MAX);
	nsmall = rtp_rtcp_nacks(p, n, small, DIRECT_MAX_NACKS);
	if (nbig > BIG_MAX || nsmall > DIRECT_MAX_NACKS)
		die("more NACKs than asked for");
	if (nsmall != (nbig < DIRECT_MAX_NACKS ? nbig : DIRECT_MAX_NACKS) ||
	    memcmp(small, big, nsmall * sizeof(*small)) != 0)
		die("a smaller max is not a prefix of a larger one");
	/* The datagram cut short: a third of the way, and by one byte. */
	for (k = 0; k < 2 && n > 0; k++) {
		size_t m = k == 0 ? n / 3 : n - 1;
		uint8_t *c = exact_copy(p, m);

		ncut = rtp_rtcp_nacks(c, m, cut, BIG_MAX);
		if (ncut > nbig || memcmp(cut, big, ncut * sizeof(*cut)) != 0)
			die("a shorter datagram gave NACKs the whole one does not");
		if (rtp_rtcp_wants_keyframe(c, m) && !pli)
			die("a shorter datagram asked for a keyframe the whole one does not");
		free(c);
	}
}

/* Version 2, lengths that tile the datagram, types we read; in place. */
static void repair(uint8_t *p, size_t n)
{
	static const uint8_t types[] = {200, 201, 202, 203, 204, 205, 206};
	size_t off = 0;

	while (n - off >= 4) {
		size_t words = (size_t)((p[off + 2] << 8) | p[off + 3]) % ((n - off) / 4);

		p[off] = (uint8_t)(0x80 | (p[off] & 0x3f));
		p[off + 1] = types[p[off + 1] % sizeof(types)];
		p[off + 2] = (uint8_t)(words >> 8);
		p[off + 3] = (uint8_t)words;
		off += (words + 1) * 4;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An RTCP header and the sender's SSRC; returns its length, 8. */
static size_t put_header(uint8_t *p, uint8_t first, uint8_t type, size_t words)
{
	p[0] = first;
	p[1] = type;
	p[2] = (uint8_t)(words >> 8);
	p[3] = (uint8_t)words;
	put32(p + 4, 0x11111111);
	return 8;
}

/* RR + NACK (the pairs from data) + SDES, read back against what was packed. */
static void nack_round_trip(const uint8_t *data, size_t size)
{
	static const uint8_t cname[4] = {1, 2, 'a', 'b'}; /* CNAME, length 2, "ab" */
	static uint16_t want[MAX_FCIS * 17], got[DIRECT_MAX_NACKS];
	size_t nfci = size / 4 > MAX_FCIS ? MAX_FCIS : size / 4, nwant = 0, ngot, i, at = 0;
	size_t len = 8 + 12 + nfci * 4 + 12;
	uint8_t *p = calloc(1, len);
	int bit;

	if (p == NULL)
		die("out of memory");
	at += put_header(p + at, 0x80, 201, 1); /* RR without report blocks */
	/* Generic NACK (FMT 1): the media SSRC, then the FCIs. */
	at += put_header(p + at, 0x81, 205, 2 + nfci);
	put32(p + at, 0x22222222);
	at += 4;
	for (i = 0; i < nfci; i++, at += 4) {
		uint16_t pid = (uint16_t)((data[4 * i] << 8) | data[4 * i + 1]);
		uint16_t blp = (uint16_t)((data[4 * i + 2] << 8) | data[4 * i + 3]);

		memcpy(p + at, data + 4 * i, 4);
		want[nwant++] = pid;
		for (bit = 0; bit < 16; bit++)
			if (blp & (1u << bit))
				want[nwant++] = (uint16_t)(pid + bit + 1);
	}
	/* SDES: one chunk, CNAME "ab", then the end of its items. */
	at += put_header(p + at, 0x81, 202, 2);
	memcpy(p + at, cname, sizeof(cname));
	ngot = rtp_rtcp_nacks(p, len, got, DIRECT_MAX_NACKS);
	if (ngot != (nwant < DIRECT_MAX_NACKS ? nwant : DIRECT_MAX_NACKS) ||
	    memcmp(got, want, ngot * sizeof(*got)) != 0)
		die("the NACKed sequence numbers read back are not the ones packed");
	if (rtp_rtcp_wants_keyframe(p, len))
		die("a NACK read as a keyframe request");
	read_rtcp(p, len);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = exact_copy(data, size);

	read_rtcp(p, size);
	repair(p, size);
	read_rtcp(p, size);
	free(p);
	nack_round_trip(data, size);
	return 0;
}
