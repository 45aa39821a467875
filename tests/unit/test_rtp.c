/*
 * The bytes the direct path reads off the wire (daemon/rtp.c): VP8 keyframe
 * starts by RFC 7741 on packets built by hand and on a real rtpvp8pay's
 * output, RTCP demultiplexing by RFC 5761 §4, and PLI/FIR in compound RTCP.
 */
#include <string.h>

#include <gst/app/gstappsink.h>

#include "lite/lite.h"
#include "wire/rtp.h"

/* One hand-built RTP packet carrying VP8; the defaults are a keyframe start. */
struct vp8_desc {
	guint8 csrcs; /* CC */
	bool ext;     /* an RTP header extension of ext_words words */
	guint8 ext_words;
	bool x;       /* RFC 7741 §4.2 X: the I L T K byte follows */
	int pid_bits; /* picture id: 0 (none), 7 or 15 */
	bool l, t, k; /* TL0PICIDX, TID and KEYIDX */
	bool cont;    /* S=0: not the first packet of the partition */
	guint8 part;  /* PID: the partition index */
	bool inter;   /* §4.3 P=1: an interframe */
};

/*
 * Every byte a misreading parser could land on instead of the VP8 payload
 * header has bit 0 set, or decodes as a descriptor with PID != 0, so a wrong
 * offset makes the answer false rather than true by luck.
 */
static size_t build(uint8_t *b, const struct vp8_desc *d, size_t *hdr)
{
	static const uint8_t vp8[] = {0x03, 0x01, 0x9d, 0x01, 0x2a}; /* size, start code */
	size_t n = 0, i;

	b[n++] = (uint8_t)(0x80 | (d->ext ? 0x10 : 0) | d->csrcs); /* version 2 */
	b[n++] = 96;
	memcpy(b + n, "\x12\x34\x00\x00\x0b\xb8\xca\xfe\xba\xbe", 10);
	n += 10;
	for (i = 0; i < (size_t)d->csrcs * 4; i++)
		b[n++] = 0xff;
	if (d->ext) {
		b[n++] = 0xbe, b[n++] = 0xde, b[n++] = 0, b[n++] = d->ext_words;
		for (i = 0; i < (size_t)d->ext_words * 4; i++)
			b[n++] = 0;
	}
	b[n++] = (uint8_t)((d->x ? 0x80 : 0) | (d->cont ? 0 : 0x10) | d->part);
	if (d->x)
		b[n++] = (uint8_t)((d->pid_bits ? 0x80 : 0) | (d->l ? 0x40 : 0) |
		                   (d->t ? 0x20 : 0) | (d->k ? 0x10 : 0));
	if (d->pid_bits == 7)
		b[n++] = 0x2b;
	else if (d->pid_bits == 15)
		b[n++] = 0x93, b[n++] = 0x35;
	if (d->l)
		b[n++] = 0x07;
	if (d->t || d->k)
		b[n++] = 0x41;
	*hdr = n;
	b[n++] = d->inter ? 0x51 : 0x50; /* size0, show_frame, version, P */
	memcpy(b + n, vp8, sizeof(vp8));
	return n + sizeof(vp8);
}

static const struct vp8_desc layouts[] = {
    {0},
    {.x = true},
    {.x = true, .pid_bits = 7},
    {.x = true, .pid_bits = 15},
    {.x = true, .l = true},
    {.x = true, .t = true},
    {.x = true, .k = true},
    {.x = true, .pid_bits = 15, .l = true, .t = true, .k = true},
    {.x = true, .pid_bits = 7, .l = true, .k = true},
    {.csrcs = 2},
    {.ext = true},
    {.ext = true, .ext_words = 3, .x = true, .pid_bits = 7},
    {.csrcs = 15, .ext = true, .ext_words = 2, .x = true, .pid_bits = 15, .l = true, .t = true},
};

/* Called on a copy of exactly n bytes, so ASan sees any read past the end. */
static bool keyframe(const uint8_t *b, size_t n)
{
	uint8_t *copy = g_memdup2(b, n);
	bool r = rtp_vp8_keyframe_start(copy, n);

	g_free(copy);
	return r;
}

static void test_keyframe_layouts(void)
{
	uint8_t b[256];
	size_t i, hdr;

	for (i = 0; i < G_N_ELEMENTS(layouts); i++)
		g_assert_true(keyframe(b, build(b, &layouts[i], &hdr)));
}

static void test_not_keyframe_start(void)
{
	uint8_t b[256];
	size_t i, n, hdr;
	guint8 v;

	for (i = 0; i < G_N_ELEMENTS(layouts); i++) {
		struct vp8_desc d = layouts[i];

		d.cont = true; /* a continuation packet of the keyframe */
		g_assert_false(keyframe(b, build(b, &d, &hdr)));
		for (d.cont = false, d.part = 1; d.part <= 7; d.part++) /* a later partition */
			g_assert_false(keyframe(b, build(b, &d, &hdr)));
		d.part = 0, d.inter = true; /* the first packet of an interframe */
		g_assert_false(keyframe(b, build(b, &d, &hdr)));
		d.inter = false;
		n = build(b, &d, &hdr);
		for (v = 0; v <= 3; v++) { /* RTP version */
			b[0] = (uint8_t)((b[0] & 0x3f) | v << 6);
			g_assert_true(keyframe(b, n) == (v == 2));
		}
	}
}

/* False until the payload header's first byte is there, whatever the layout. */
static void test_keyframe_truncated(void)
{
	uint8_t b[256];
	size_t i, n, full, hdr;

	for (i = 0; i < G_N_ELEMENTS(layouts); i++) {
		full = build(b, &layouts[i], &hdr);
		for (n = 0; n <= full; n++)
			g_assert_true(keyframe(b, n) == (n > hdr));
	}
	g_assert_false(rtp_vp8_keyframe_start(NULL, 0));
}

static void test_is_rtcp(void)
{
	static const struct {
		uint8_t b0, b1;
		size_t n;
		bool want;
	} cases[] = {
	    {0x81, 201, 8, true},  {0x80, 200, 28, true},   {0x81, 206, 12, true}, /* RR SR PLI */
	    {0x80, 192, 8, true},  {0x80, 223, 8, true},                           /* the range */
	    {0x80, 191, 8, false}, {0x80, 224, 8, false},                          /* and past it */
	    {0x80, 96, 12, false}, {0x80, 0x7f, 12, false},                        /* RTP */
	    {0x81, 201, 7, false}, {0x81, 201, 0, false},                          /* too short */
	    {0x41, 201, 8, false}, {0xc1, 201, 8, false},   {0x01, 201, 8, false}, /* version */
	};
	uint8_t b[32] = {0};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		b[0] = cases[i].b0, b[1] = cases[i].b1;
		g_assert_true(rtp_is_rtcp(b, cases[i].n) == cases[i].want);
	}
}

// clang-format off
static const uint8_t rr[] = { /* RR with one report block */
	0x81, 201, 0x00, 0x07, 0x11, 0x11, 0x11, 0x11,
	0x22, 0x22, 0x22, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t sdes[] = { /* SDES, one chunk: CNAME "ab" */
	0x81, 202, 0x00, 0x02, 0x11, 0x11, 0x11, 0x11, 0x01, 0x02, 'a', 'b',
};
static const uint8_t pli[] = {  /* RFC 4585 §6.3.1 */
	0x81, 206, 0x00, 0x02, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
};
static const uint8_t fir[] = {  /* RFC 5104 §4.3.1: media SSRC 0, one FCI entry */
	0x84, 206, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00, 0x00, 0x00,
	0x22, 0x22, 0x22, 0x22, 0x05, 0x00, 0x00, 0x00,
};
static const uint8_t nack[] = { /* RFC 4585 §6.2.1 generic NACK */
	0x81, 205, 0x00, 0x03, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
	0x01, 0x00, 0x00, 0x03,
};
static const uint8_t remb[] = { /* PSFB FMT 15 (application layer): not a keyframe request */
	0x8f, 206, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00, 0x00, 0x00,
	'R', 'E', 'M', 'B', 0x01, 0x0a, 0x00, 0x00, 0x22, 0x22, 0x22, 0x22,
};
// clang-format on

/* rtp_rtcp_wants_keyframe on the concatenation of up to three packets, copied to the heap. */
static bool wants(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, const uint8_t *c,
                  size_t nc)
{
	uint8_t *buf = g_malloc(na + nb + nc + 1);
	bool r;

	if (na > 0)
		memcpy(buf, a, na);
	if (nb > 0)
		memcpy(buf + na, b, nb);
	if (nc > 0)
		memcpy(buf + na + nb, c, nc);
	r = rtp_rtcp_wants_keyframe(buf, na + nb + nc);
	g_free(buf);
	return r;
}

static void test_rtcp_keyframe_requests(void)
{
	uint8_t bad[sizeof(pli)], empty[] = {0x81, 206, 0x00, 0x00};
	size_t n;

	g_assert_true(wants(rr, sizeof(rr), pli, sizeof(pli), NULL, 0));
	g_assert_true(wants(rr, sizeof(rr), fir, sizeof(fir), NULL, 0));
	g_assert_true(wants(rr, sizeof(rr), sdes, sizeof(sdes), pli, sizeof(pli)));
	g_assert_true(wants(rr, sizeof(rr), nack, sizeof(nack), fir, sizeof(fir)));
	g_assert_true(wants(pli, sizeof(pli), NULL, 0, NULL, 0));
	g_assert_false(wants(rr, sizeof(rr), nack, sizeof(nack), NULL, 0));
	g_assert_false(wants(rr, sizeof(rr), remb, sizeof(remb), NULL, 0));
	g_assert_false(wants(rr, sizeof(rr), sdes, sizeof(sdes), NULL, 0));
	/* PLI's FMT on the transport-layer feedback type is a NACK-family message */
	memcpy(bad, pli, sizeof(pli));
	bad[1] = 205;
	g_assert_false(wants(rr, sizeof(rr), bad, sizeof(bad), NULL, 0));
	/* a PLI in a packet that is not version 2 */
	memcpy(bad, pli, sizeof(pli));
	bad[0] = 0x41;
	g_assert_false(wants(rr, sizeof(rr), bad, sizeof(bad), NULL, 0));
	/* a PLI whose length field says one word longer than what arrived */
	bad[0] = 0x81, bad[3] = 0x03;
	g_assert_false(wants(rr, sizeof(rr), bad, sizeof(bad), NULL, 0));
	bad[2] = 0xff, bad[3] = 0xff;
	g_assert_false(wants(bad, sizeof(bad), NULL, 0, NULL, 0));
	/* a PLI whose length (one word) leaves no room for its two SSRCs */
	bad[2] = 0x00, bad[3] = 0x01;
	g_assert_false(wants(bad, 8, NULL, 0, NULL, 0));
	/* nothing, a header alone with length 0, and several of them in a row */
	g_assert_false(rtp_rtcp_wants_keyframe(NULL, 0));
	g_assert_false(wants(rr, 0, NULL, 0, NULL, 0));
	g_assert_false(wants(empty, sizeof(empty), NULL, 0, NULL, 0));
	g_assert_false(wants(empty, sizeof(empty), empty, sizeof(empty), empty, sizeof(empty)));
	g_assert_false(wants(rr, sizeof(rr), empty, 3, NULL, 0));
	/* RR + PLI cut at every length: only the whole compound packet asks */
	for (n = 0; n < sizeof(rr) + sizeof(pli); n++)
		g_assert_false(wants(rr, MIN(n, sizeof(rr)), pli, n - MIN(n, sizeof(rr)), NULL, 0));
}

/* The buffers an appsink got, pulled until EOS. */
static GPtrArray *drain(GstElement *pipe, const char *name)
{
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), name);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
	GstSample *s;

	while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND)) != NULL) {
		g_ptr_array_add(out, gst_buffer_ref(gst_sample_get_buffer(s)));
		gst_sample_unref(s);
	}
	g_assert_true(gst_app_sink_is_eos(GST_APP_SINK(sink)));
	gst_object_unref(sink);
	return out;
}

/* The packets of the payloader fanout.c uses: true exactly on each keyframe's first packet. */
/* RFC 4585 §6.2.1 generic NACK: PID, then a bit per following packet in BLP. */
static void test_rtcp_nacks(void)
{
	static const uint8_t nk_rr[] = {0x81, 201, 0, 7, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0,
	                             0,    0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	/* two FCIs: 0xfffe with BLP 0x0005 (0xffff, 0x0001 after the wrap), then 100 alone */
	static const uint8_t nk_nack[] = {0x81, 205, 0, 4, 1, 1, 1, 1, 2,    2,
	                               2,    2,   0xff, 0xfe, 0x00, 0x05, 0, 100, 0, 0};
	static const uint8_t nk_pli[] = {0x81, 206, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2};
	uint8_t buf[sizeof(nk_rr) + sizeof(nk_nack) + sizeof(nk_pli)];
	uint16_t seqs[8];
	size_t n, cut;

	memcpy(buf, nk_rr, sizeof(nk_rr));
	memcpy(buf + sizeof(nk_rr), nk_nack, sizeof(nk_nack));
	memcpy(buf + sizeof(nk_rr) + sizeof(nk_nack), nk_pli, sizeof(nk_pli));
	n = rtp_rtcp_nacks(buf, sizeof(buf), seqs, G_N_ELEMENTS(seqs));
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpuint(seqs[0], ==, 0xfffe);
	g_assert_cmpuint(seqs[1], ==, 0xffff);
	g_assert_cmpuint(seqs[2], ==, 0x0001);
	g_assert_cmpuint(seqs[3], ==, 100);
	g_assert_cmpuint(rtp_rtcp_nacks(buf, sizeof(buf), seqs, 2), ==, 2); /* bounded */
	g_assert_cmpuint(rtp_rtcp_nacks(nk_rr, sizeof(nk_rr), seqs, 8), ==, 0);
	g_assert_cmpuint(rtp_rtcp_nacks(nk_pli, sizeof(nk_pli), seqs, 8), ==, 0);
	/* cut anywhere: never more than the whole, never past the end (ASan in make fuzz) */
	for (cut = 0; cut < sizeof(buf); cut++) {
		uint8_t *copy = g_memdup2(buf, cut);

		g_assert_cmpuint(rtp_rtcp_nacks(copy, cut, seqs, G_N_ELEMENTS(seqs)), <=, 4);
		g_free(copy);
	}
}

static void test_real_payloader(void)
{
	int mode;

	/* The daemon cannot run without them either: a missing plugin is a broken
	 * install (deploy/install-deps.sh), not a reason to skip. */
	if (!gst_registry_check_feature_version(gst_registry_get(), "vp8enc", 1, 0, 0) ||
	    !gst_registry_check_feature_version(gst_registry_get(), "rtpvp8pay", 1, 0, 0)) {
		g_test_message("vp8enc or rtpvp8pay missing: install gstreamer1.0-plugins-good");
		g_test_fail();
		return;
	}
	for (mode = 0; mode <= 2; mode++) { /* picture id: none, 7-bit, 15-bit */
		char *desc = g_strdup_printf(
		    "videotestsrc num-buffers=25 ! video/x-raw,width=320,height=240 ! vp8enc "
		    "keyframe-max-dist=10 deadline=1 ! tee name=t t. ! queue ! rtpvp8pay "
		    "picture-id-mode=%d mtu=%d ! appsink name=rtp sync=false t. ! queue ! "
		    "appsink name=enc sync=false",
		    mode, DIRECT_RTP_MTU);
		GstElement *pipe = gst_parse_launch(desc, NULL);
		GPtrArray *rtp, *enc;
		guint i, frame = 0, starts = 0;
		bool first = true;

		g_assert_nonnull(pipe);
		gst_element_set_state(pipe, GST_STATE_PLAYING);
		rtp = drain(pipe, "rtp");
		enc = drain(pipe, "enc");
		for (i = 0; i < rtp->len; i++) {
			GstMapInfo map;
			bool key, marker;

			g_assert_cmpuint(frame, <, enc->len);
			key = !GST_BUFFER_FLAG_IS_SET(g_ptr_array_index(enc, frame),
			                              GST_BUFFER_FLAG_DELTA_UNIT);
			g_assert_true(
			    gst_buffer_map(g_ptr_array_index(rtp, i), &map, GST_MAP_READ));
			g_assert_true(rtp_vp8_keyframe_start(map.data, map.size) == (first && key));
			g_assert_false(rtp_is_rtcp(map.data, map.size));
			starts += first && key;
			marker = map.size > 1 && (map.data[1] & 0x80);
			gst_buffer_unmap(g_ptr_array_index(rtp, i), &map);
			first = marker;
			frame += marker;
		}
		g_assert_cmpuint(frame, ==, enc->len);
		g_assert_cmpuint(starts, >=, 2); /* frame 0 and at least one forced by max-dist */
		g_assert_cmpuint(rtp->len, >, enc->len); /* keyframes span several packets */
		gst_element_set_state(pipe, GST_STATE_NULL);
		g_ptr_array_unref(rtp);
		g_ptr_array_unref(enc);
		gst_object_unref(pipe);
		g_free(desc);
	}
}

/* A sender report and its CNAME (RFC 3550 §6.4.1, §6.5), byte for byte. */
static void test_sender_report(void)
{
	static const uint8_t want[] = {
	    0x80, 200, 0, 6, 0x12, 0x34, 0x56, 0x78,                /* SR, 7 words; SSRC */
	    0xe8, 0xfe, 0x6f, 0x82, 0x80, 0, 0, 0,                  /* NTP: 2023-11-14 22:13:22.5 */
	    0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 42, 0, 0, 0x30, 0x39,  /* RTP, packets, octets */
	    0x81, 202, 0, 4, 0x12, 0x34, 0x56, 0x78,                /* SDES, 5 words; SSRC */
	    1, 7, 'w', 'h', 'e', 'p', 'c', 'a', 'm', 0, 0, 0};      /* CNAME, end, pad */
	struct rtp_sender_info si = {.ssrc = 0x12345678,
	                             .wall_us = 1700000002500000,
	                             .rtp = 0xdeadbeef,
	                             .packets = 42,
	                             .octets = 12345};
	uint8_t out[64];
	char cname[RTP_SDES_MAX_CNAME + 2];

	g_assert_cmpuint(rtp_rtcp_sender_report(&si, "whepcam", out, sizeof(out)), ==, sizeof(want));
	g_assert_cmpmem(out, sizeof(want), want, sizeof(want));
	g_assert_true(rtp_is_rtcp(out, sizeof(want)));
	g_assert_cmpuint(rtp_rtcp_sender_report(&si, "whepcam", out, sizeof(want) - 1), ==, 0);
	memset(cname, 'x', sizeof(cname) - 1);
	cname[sizeof(cname) - 1] = '\0';
	g_assert_cmpuint(rtp_rtcp_sender_report(&si, cname, out, sizeof(out)), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/rtp/vp8/keyframe-layouts", test_keyframe_layouts);
	g_test_add_func("/rtp/vp8/not-keyframe-start", test_not_keyframe_start);
	g_test_add_func("/rtp/vp8/truncated", test_keyframe_truncated);
	g_test_add_func("/rtp/vp8/real-payloader", test_real_payloader);
	g_test_add_func("/rtp/rtcp/is-rtcp", test_is_rtcp);
	g_test_add_func("/rtp/rtcp/keyframe-requests", test_rtcp_keyframe_requests);
	g_test_add_func("/rtp/rtcp/nacks", test_rtcp_nacks);
	g_test_add_func("/rtp/sender-report", test_sender_report);
	return g_test_run();
}
