/*
 * fanout.c - one payloader per track for every direct viewer:
 * tee ! queue ! rtpvp8pay|rtph264pay ! appsink, and on the queue's thread each frame's
 * packets are copied, given the viewer's payload type, SRTP-protected and
 * sent (fanout_send.c: one sendmmsg for several viewers). Payloading once instead of
 * per viewer, and no thread per viewer, is what makes a viewer cheap here.
 * Owns its bin's elements (through the pipeline), the NACK history and a
 * member per viewer, from fanout_add to fanout_remove.
 */
#define G_LOG_DOMAIN "fanout"
#include <gst/app/gstappsink.h>
#include <string.h>

#include "fanout_priv.h"
#include "media/track.h"
#include "wire/rtp.h"

#define FANOUT_QUEUE_BUFFERS 30   /* frames: a stalled send thread drops old ones */
#define FANOUT_SEND_WAIT_MS  200  /* per frame: how long a full socket buffer is waited for */
#define FANOUT_GOP_PACKETS   2048 /* a passed-through GOP kept for joins: 4 s at ~5 Mbps */
#define FANOUT_FRESH_PACKETS 256  /* our encoder's: the join's keyframe and what followed */

/*
 * Lock held: a viewer waiting for a keyframe gets the frames kept since the
 * last one (gop.h) before the frame with timestamp `live_ts`, which opens
 * its gate; false when nothing kept will do.
 */
static bool gop_send(struct fanout *f, struct batch *b, struct gop_packets *out,
                     struct fanout_member *m, guint32 live_ts, gint64 deadline_us)
{
	/* Our encoder's frames only from the keyframe this join asked for; a camera's, any. */
	gint64 not_before_us = track_passthrough(f->track) ? 0 : m->branch->created_us;
	guint n = gop_offer(f->gop, not_before_us, live_ts, out);

	if (n == 0)
		return false;
	m->asked_keyframe = false;
	if (branch_gate(m->branch, true) == GATE_OPENED)
		g_message("viewer %s: first keyframe sent %.1f ms after the offer (the GOP kept, "
		          "%u frames)",
		          m->sid, (double)(g_get_monotonic_time() - m->branch->created_us) / 1000.0,
		          gop_frames(f->gop));
	fanout_send_to(f, b, m, out->data, out->lens, out->ts, n, deadline_us);
	return true;
}

/* Send thread, lock held: a waiting viewer that nothing kept will do asks for a keyframe, once. */
static void gop_send_or_ask(struct fanout *f, struct fanout_member *m, guint32 live_ts,
                            gint64 deadline_us)
{
	if (gop_send(f, &f->sending, &f->sending_gop, m, live_ts, deadline_us) || m->asked_keyframe)
		return;
	track_request_keyframe_any_thread(f->track, KEYFRAME_FOR_JOIN);
	m->asked_keyframe = true;
}

/* Send thread: the join gate; true when m gets this frame. */
static bool gate_pass(struct fanout_member *m, bool keyframe)
{
	switch (branch_gate(m->branch, keyframe)) {
	case GATE_DROP:
		return false;
	case GATE_OPENED:
		g_message("viewer %s: first keyframe sent %.1f ms after the offer", m->sid,
		          (double)(g_get_monotonic_time() - m->branch->created_us) / 1000.0);
		break;
	case GATE_PASS:
		break;
	}
	return true;
}

/*
 * Send thread: whether the frame's packets start a keyframe. VP8: its first
 * packet says. H.264: any of them, since the SPS and PPS that come before an
 * IDR may be packets of their own, and the gate must open on the first.
 */
static bool frame_is_keyframe(const struct fanout *f, guint npackets)
{
	guint i;

	if (f->codec == CODEC_VP8)
		return npackets > 0 && rtp_vp8_keyframe_start(f->maps[0].data, f->maps[0].size);
	for (i = 0; i < npackets; i++)
		if (rtp_h264_keyframe_start(f->maps[i].data, f->maps[i].size))
			return true;
	return false;
}

/*
 * Send thread, lock held: when the frame starting with RTP timestamp `rtp`
 * was captured, on the monotonic clock, for the sender reports. Its
 * timestamp is on the pipeline's clock (an audio device may provide it),
 * brought to the monotonic one by reading both now.
 */
static void note_capture(struct fanout *f, GstAppSink *sink, GstSample *sample, guint32 rtp)
{
	GstBuffer *b = gst_sample_get_buffer(sample);
	GstBufferList *list = gst_sample_get_buffer_list(sample);
	const GstSegment *seg = gst_sample_get_segment(sample);
	GstClock *clock = gst_element_get_clock(GST_ELEMENT(sink));
	GstClockTime pts, running;

	if (b == NULL && list != NULL && gst_buffer_list_length(list) > 0)
		b = gst_buffer_list_get(list, 0);
	pts = b != NULL ? GST_BUFFER_PTS(b) : GST_CLOCK_TIME_NONE;
	running = seg != NULL && GST_CLOCK_TIME_IS_VALID(pts)
	              ? gst_segment_to_running_time(seg, GST_FORMAT_TIME, pts)
	              : GST_CLOCK_TIME_NONE;
	if (clock != NULL && GST_CLOCK_TIME_IS_VALID(running)) {
		GstClockTime captured = gst_element_get_base_time(GST_ELEMENT(sink)) + running;
		gint64 ago = (gint64)gst_clock_get_time(clock) - (gint64)captured;

		g_mutex_lock(&f->side);
		f->report_rtp = rtp;
		f->report_mono_ns = g_get_monotonic_time() * 1000 - ago;
		g_mutex_unlock(&f->side);
	}
	g_clear_object(&clock);
}

/*
 * Send thread, lock held: a frame of sound to every viewer whose gate is
 * open: beside a picture, from its first keyframe on; alone, from its DTLS.
 * No keyframes, no history: a lost frame is Opus's in-band FEC's.
 */
static void send_sound(struct fanout *f, guint npackets, gint64 deadline_us)
{
	struct fanout_walk w = {.changes = f->changes, .deadline_us = deadline_us};
	struct fanout_member *m;

	while ((m = fanout_walk_next(f, &w)) != NULL)
		if (m->tx != NULL && m->fd >= 0 && g_atomic_int_get(&m->branch->sound_open))
			fanout_send_to(f, &f->sending, m, f->data, f->len, NULL, npackets,
			               deadline_us);
	fanout_batch_flush(f, &f->sending, deadline_us);
}

/* Send thread (the queue's): one frame's packets, as a list or a single buffer. */
static GstFlowReturn on_new_sample_cb(GstAppSink *sink, gpointer data)
{
	struct fanout *f = data;
	GstSample *sample = gst_app_sink_pull_sample(sink);
	GstBufferList *list;
	GstBuffer *one;
	struct fanout_member *m;
	struct fanout_walk w;
	guint i, n = 0, len;
	gint64 deadline_us;
	bool keyframe;

	if (sample == NULL)
		return GST_FLOW_FLUSHING;
	list = gst_sample_get_buffer_list(sample);
	one = gst_sample_get_buffer(sample);
	len = list != NULL ? gst_buffer_list_length(list) : 1;
	for (i = 0; i < len && n < FANOUT_MAX_PACKETS; i++) {
		GstBuffer *b = list != NULL ? gst_buffer_list_get(list, i) : one;

		if (b != NULL && gst_buffer_map(b, &f->maps[n], GST_MAP_READ)) {
			f->data[n] = f->maps[n].data;
			f->len[n] = f->maps[n].size;
			n++;
		}
	}
	keyframe = f->codec != CODEC_OPUS && frame_is_keyframe(f, n);
	deadline_us = g_get_monotonic_time() + FANOUT_SEND_WAIT_MS * 1000;
	g_mutex_lock(&f->lock);
	f->frame++;
	w = (struct fanout_walk){.changes = f->changes, .deadline_us = deadline_us};
	if (n > 0 && f->len[0] >= 12)
		note_capture(f, sink, sample, GST_READ_UINT32_BE(f->data[0] + 4));
	if (f->history != NULL)
		fanout_remember(f, n);
	if (f->codec == CODEC_OPUS)
		send_sound(f, n, deadline_us);
	while (f->codec != CODEC_OPUS && (m = fanout_walk_next(f, &w)) != NULL) {
		guint removals = f->removals;

		if (m->tx == NULL || m->fd < 0)
			continue;
		if (!keyframe && n > 0 && f->len[0] >= 12 &&
		    g_atomic_int_get(&m->branch->gate) == GATE_WAIT_KEYFRAME)
			gop_send_or_ask(f, m, GST_READ_UINT32_BE(f->data[0] + 4), deadline_us);
		if (f->removals != removals)
			continue; /* a full batch went out and waited: m may be gone */
		if (gate_pass(m, keyframe))
			fanout_send_to(f, &f->sending, m, f->data, f->len, NULL, n, deadline_us);
	}
	if (f->codec != CODEC_OPUS)
		fanout_batch_flush(f, &f->sending, deadline_us);
	if (f->gop != NULL)
		gop_keep(f->gop, f->data, f->len, n, keyframe, g_get_monotonic_time());
	f->first++;
	g_mutex_unlock(&f->lock);
	for (i = 0; i < n; i++) {
		GstBuffer *b = list != NULL ? gst_buffer_list_get(list, i) : one;

		gst_buffer_unmap(b, &f->maps[i]);
	}
	gst_sample_unref(sample);
	return GST_FLOW_OK;
}

void fanout_forget_gop(struct fanout *f)
{
	if (f->gop == NULL)
		return;
	fanout_lock(f);
	gop_forget(f->gop);
	fanout_unlock(f);
}

guint32 fanout_ssrc(const struct fanout *f)
{
	return f->ssrc;
}

struct fanout *fanout_new(GstElement *pipeline, struct track *t, unsigned kbps, char **err)
{
	enum codec c = track_codec(t);
	GstAppSinkCallbacks cb = {.new_sample = on_new_sample_cb};
	/* The queue's thread is "<name>:src": "fanout:src" is what docs/benchmarks.md profiles. */
	const char *name = c == CODEC_VP8    ? "fanout"
	                   : c == CODEC_H264 ? "fanout-h264"
	                                     : "fanout-opus";
	const char *payloader = c == CODEC_VP8    ? "rtpvp8pay"
	                        : c == CODEC_H264 ? "rtph264pay"
	                                          : "rtpopuspay";
	struct fanout *f;
	GstElement *queue, *pay, *sink;
	GstPad *pad;

	queue = gst_element_factory_make("queue", name);
	pay = gst_element_factory_make(payloader, NULL);
	sink = gst_element_factory_make("appsink", NULL);
	if (queue == NULL || pay == NULL || sink == NULL) {
		*err =
		    g_strdup("queue, rtpvp8pay, rtph264pay, rtpopuspay or appsink missing: install "
		             "gstreamer1.0-plugins-base and -good");
		gst_clear_object(&queue);
		gst_clear_object(&pay);
		gst_clear_object(&sink);
		return NULL;
	}
	f = g_new0(struct fanout, 1);
	g_mutex_init(&f->lock);
	g_mutex_init(&f->side);
	g_cond_init(&f->turn);
	f->members = g_ptr_array_new();
	f->ssrc = g_random_int();
	f->codec = c;
	f->kbps = kbps;
	f->track = t;
	f->clock_rate = c == CODEC_OPUS ? 48000 : 90000;
	if (c != CODEC_OPUS) { /* sound: no NACKs, no keyframes */
		f->history = g_new0(struct sent_packet, FANOUT_HISTORY);
		/* A camera's whole GOP; our encoder's from the keyframe a join asked for
		 * (fanout.h). */
		f->gop = gop_new(track_passthrough(t) ? FANOUT_GOP_PACKETS : FANOUT_FRESH_PACKETS);
		gop_packets_init(&f->sending_gop, f->gop);
		gop_packets_init(&f->joining_gop, f->gop);
	}
	f->tee = gst_object_ref(track_tee(t));
	f->bin = gst_bin_new(name);
	gst_bin_add_many(GST_BIN(f->bin), queue, pay, sink, NULL);
	g_object_set(queue, "leaky", 2, "max-size-buffers", FANOUT_QUEUE_BUFFERS, "max-size-bytes",
	             0, "max-size-time", (guint64)0, NULL);
	/* The viewers' payload types differ: each packet gets its own as it is sent. */
	g_object_set(pay, "pt", 96u, "ssrc", f->ssrc, "mtu", (guint)DIRECT_RTP_MTU, NULL);
	if (c == CODEC_VP8)
		g_object_set(pay, "picture-id-mode", 2, NULL);
	else if (c == CODEC_H264) /* SPS and PPS before every IDR, aggregated with it (STAP-A) */
		g_object_set(pay, "config-interval", -1, "aggregate-mode", 1, NULL);
	g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE,
	             "buffer-list", TRUE, "max-buffers", 2u, "drop", TRUE, NULL);
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, f, NULL);
	gst_element_link_many(queue, pay, sink, NULL);
	pad = gst_element_get_static_pad(queue, "sink");
	gst_element_add_pad(f->bin, gst_ghost_pad_new("sink", pad));
	gst_object_unref(pad);
	gst_bin_add(GST_BIN(pipeline), f->bin);
	f->tee_pad = gst_element_request_pad_simple(f->tee, "src_%u");
	pad = gst_element_get_static_pad(f->bin, "sink");
	gst_pad_link(f->tee_pad, pad);
	gst_object_unref(pad);
	return f;
}

void fanout_free(struct fanout *f)
{
	if (f == NULL)
		return;
	if (f->tee_pad != NULL) {
		gst_element_release_request_pad(f->tee, f->tee_pad);
		gst_object_unref(f->tee_pad);
	}
	gst_object_unref(f->tee);
	g_ptr_array_unref(f->members);
	g_free(f->history);
	if (f->gop != NULL) {
		gop_free(f->gop);
		gop_packets_clear(&f->sending_gop);
		gop_packets_clear(&f->joining_gop);
	}
	g_mutex_clear(&f->lock);
	g_cond_clear(&f->turn);
	g_mutex_clear(&f->side);
	g_free(f);
}

struct fanout_member *fanout_add(struct fanout *f, int pt, struct branch *b, const char *sid,
                                 bool leads)
{
	struct fanout_member *m = g_new0(struct fanout_member, 1);

	m->pt = pt;
	m->leads = leads;
	m->branch = branch_ref(b);
	m->fd = -1;
	g_strlcpy(m->sid, sid, sizeof(m->sid));
	g_mutex_init(&m->seal);
	/* The stream's own packets are at most DIRECT_RTP_MTU long (the payloader's mtu). */
	resend_budget_init(&m->resend, f->kbps, DIRECT_RTP_MTU);
	fanout_lock(f);
	g_ptr_array_add(f->members, m);
	f->changes++;
	fanout_unlock(f);
	return m;
}

void fanout_remove(struct fanout *f, struct fanout_member *m)
{
	fanout_lock(f);
	g_ptr_array_remove_fast(f->members, m);
	f->removals++;
	f->changes++;
	fanout_unlock(f);
	srtp_seal_free(m->tx);
	g_mutex_clear(&m->seal);
	branch_unref(m->branch);
	g_free(m);
}

void fanout_set_sender(struct fanout *f, struct fanout_member *m, struct srtp_seal *tx, int fd,
                       const struct sockaddr_storage *addr, socklen_t addrlen)
{
	bool up;

	fanout_lock(f);
	if (tx != NULL)
		m->tx = tx;
	m->fd = addr != NULL ? fd : -1;
	if (addr != NULL)
		memcpy(&m->addr, addr, addrlen);
	m->addrlen = addr != NULL ? addrlen : 0;
	/*
	 * DTLS is up: the gate waits for a keyframe from now on, without a hop
	 * to the main loop, and what is kept goes at once rather than with the
	 * next frame (up to a frame interval later). Sent without waiting for
	 * room: what does not fit is NACKed.
	 */
	if (f->codec == CODEC_OPUS) { /* nothing to wait for: sound alone plays at once */
		if (tx != NULL && m->leads &&
		    g_atomic_int_compare_and_exchange(&m->branch->gate, GATE_CLOSED, GATE_OPEN)) {
			g_atomic_int_set(&m->branch->sound_open, 1);
			g_message(
			    "viewer %s: sound only, sent from %.1f ms after the offer", m->sid,
			    (double)(g_get_monotonic_time() - m->branch->created_us) / 1000.0);
		}
		fanout_unlock(f);
		return;
	}
	up = tx != NULL &&
	     g_atomic_int_compare_and_exchange(&m->branch->gate, GATE_CLOSED, GATE_WAIT_KEYFRAME);
	if (up && m->fd >= 0)
		if (gop_send(f, &f->joining, &f->joining_gop, m, gop_after_newest(f->gop), 0))
			fanout_batch_flush(f, &f->joining, 0);
	fanout_unlock(f);
}
