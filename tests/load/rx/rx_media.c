/*
 * rx_media.c - what a playing whep_rx viewer counts from the plain RTP
 * header: sequence gaps (16-bit unwrap), duplicates in a 1,024-packet
 * window, only the first packets and one a second decrypted (the first must
 * start a keyframe). With --audio, Opus packets (told by their payload type)
 * are counted apart and their first few decrypted; each RTCP sender report is
 * counted by the SSRC it comes from. whep_rx's only thread; owns nothing but
 * its scratch buffer.
 */
#include <string.h>

#include "rx.h"

static uint8_t scratch[RX_SLOT_FULL];

/* Marks ext received; false when it was already (a duplicate). */
static bool mark(struct viewer *v, int64_t ext)
{
	uint64_t bit = 1ull << (ext & 63);
	uint64_t *w = &v->seen[(ext / 64) % (RX_SEQ_WINDOW / 64)];

	if (ext > v->max_ext) {
		int64_t k = v->max_ext + 1;

		if (ext - v->max_ext >= RX_SEQ_WINDOW)
			memset(v->seen, 0, sizeof(v->seen));
		else
			for (; k < ext; k++)
				v->seen[(k / 64) % (RX_SEQ_WINDOW / 64)] &= ~(1ull << (k & 63));
		v->max_ext = ext;
		*w |= bit;
		return true;
	}
	if (*w & bit)
		return false;
	*w |= bit;
	return true;
}

/* The packet's payload, decrypted into scratch: the first one must start a keyframe. */
static void look_inside(struct viewer *v, const uint8_t *p, size_t n, int64_t ext, double now)
{
	size_t hl;
	int len;

	memcpy(scratch, p, n);
	len = srtp_rx_decrypt(&v->srtp, scratch, n, (uint32_t)(ext >> 16));
	v->decrypts++;
	v->next_sample = now + G.sample_ms;
	if (len < 0) {
		v->decrypt_fail++;
		v->first_checked = true;
		return;
	}
	v->decrypt_ok++;
	hl = rtp_header_len(scratch, (size_t)len);
	int w = 0, h = 0;
	bool key = G.h264 ? h264_keyframe_start(scratch + hl, (size_t)len - hl)
	                  : vp8_keyframe_start(scratch + hl, (size_t)len - hl, &w, &h);
	if (!v->first_checked) {
		v->first_checked = true;
		v->first_is_key = key;
	}
	if (key && v->t_key == 0) {
		v->t_key = now;
		v->width = w;
		v->height = h;
	}
}

/*
 * A packet of sound: counted, its sequence followed (no duplicate window:
 * the picture's numbers are what the bench judges), the first few
 * decrypted with its own rollover counter; one before any picture is one the
 * join gate should have held back.
 */
static void on_audio(struct viewer *v, const uint8_t *p, size_t avail, size_t n, uint32_t ssrc,
                     uint16_t seq)
{
	int64_t ext;

	if (v->a_pkts == 0 && v->a_ssrc == 0) {
		v->a_ssrc = ssrc;
		v->a_first_ext = v->a_max_ext = seq;
	} else if (ssrc != v->a_ssrc) {
		v->a_foreign++;
		return;
	}
	ext = v->a_max_ext + (int16_t)(uint16_t)(seq - (uint16_t)v->a_max_ext);
	if (ext > v->a_max_ext)
		v->a_max_ext = ext;
	if (ext < v->a_first_ext)
		v->a_first_ext = ext;
	if (v->pkts == 0)
		v->a_before_video++;
	v->a_pkts++;
	v->a_bytes += n;
	if (avail == n && ext >= 0 && v->a_decrypt_ok + v->a_decrypt_fail < RX_AUDIO_DECRYPT) {
		memcpy(scratch, p, n);
		if (srtp_rx_decrypt(&v->srtp, scratch, n, (uint32_t)(ext >> 16)) > 0)
			v->a_decrypt_ok++;
		else
			v->a_decrypt_fail++;
	}
}

void media_on_rtp(struct viewer *v, const uint8_t *p, size_t avail, size_t n, double now)
{
	uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	int64_t ext;

	if (v->state != V_UP) {
		v->early++;
		return;
	}
	if (G.audio && (p[1] & 0x7f) == RX_OPUS_PT) {
		on_audio(v, p, avail, n, ssrc, seq);
		return;
	}
	if (v->pkts == 0 && v->ssrc == 0) {
		v->ssrc = ssrc;
		v->first_ext = v->max_ext = seq;
		v->t_first = now;
		v->full_until = now + RX_FULL_READS_MS;
		if (!v->done)
			v->done = true; /* played */
	} else if (ssrc != v->ssrc) {
		v->foreign++;
		return;
	}
	ext = v->max_ext + (int16_t)(uint16_t)(seq - (uint16_t)v->max_ext);
	if ((p[1] & 0x7f) != 96)
		v->bad_pt++;
	if (v->max_ext - ext >= RX_SEQ_WINDOW) {
		v->late++;
		return;
	}
	if (!mark(v, ext)) {
		v->dups++;
		return;
	}
	if (ext < v->first_ext)
		v->first_ext = ext;
	v->pkts++;
	v->bytes += n;
	if (avail == n && ext >= 0 &&
	    ((v->decrypts < G.decrypt_first && v->t_key == 0) || now >= v->next_sample))
		look_inside(v, p, n, ext, now);
}

/* SRTCP leaves the first report's header and sender SSRC in the clear (RFC 3711 3.4). */
void media_on_rtcp(struct viewer *v, const uint8_t *p, size_t avail)
{
	v->rtcp++;
	if (p[1] != 200 || avail < 8) /* SR */
		return;
	uint32_t ssrc = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	if (ssrc != 0 && ssrc == v->ans.ssrc)
		v->sr_video++;
	else if (ssrc != 0 && ssrc == v->ans.audio_ssrc)
		v->sr_audio++;
	else
		v->sr_other++;
}

uint64_t viewer_audio_missing(const struct viewer *v)
{
	uint64_t span = v->a_pkts ? (uint64_t)(v->a_max_ext - v->a_first_ext + 1) : 0;

	return span > v->a_pkts ? span - v->a_pkts : 0;
}

uint64_t viewer_missing(const struct viewer *v)
{
	uint64_t span = v->pkts ? (uint64_t)(v->max_ext - v->first_ext + 1) : 0;

	return span > v->pkts ? span - v->pkts : 0;
}
