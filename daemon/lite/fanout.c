/*
 * fanout.c - one payloader per track for every direct viewer:
 * tee ! queue ! rtpvp8pay|rtph264pay ! appsink, and on the queue's thread each frame's
 * packets are copied, given the viewer's payload type, SRTP-protected and
 * sent with one sendmmsg per viewer and batch. Payloading once instead of
 * per viewer, and no thread per viewer, is what makes a viewer cheap here.
 * Owns its bin's elements (through the pipeline), the NACK history and a
 * member per viewer, from fanout_add to fanout_remove.
 */
#define G_LOG_DOMAIN "fanout"
#include <errno.h>
#include <gst/app/gstappsink.h>
#include <poll.h>
#include <string.h>

#include "fanout.h"
#include "gop.h"
#include "lite.h"
#include "media/track.h"
#include "wire/resend.h"
#include "wire/rtp.h"

#define FANOUT_QUEUE_BUFFERS 30   /* frames: a stalled send thread drops old ones */
#define FANOUT_MAX_PACKETS   512  /* packets of one frame we handle (a 720p keyframe: ~100) */
#define FANOUT_SEND_WAIT_MS  200  /* per frame: how long a full socket buffer is waited for */
#define FANOUT_HISTORY       512  /* packets kept for NACKs: ~2 s at 2 Mbps, by sequence number */
#define FANOUT_GOP_PACKETS   2048 /* a passed-through GOP kept for joins: 4 s at ~5 Mbps */
#define FANOUT_FRESH_PACKETS 256  /* our encoder's: the join's keyframe and what followed */

/* One batch of protected packets for sendmmsg: a thread's scratch. */
struct batch {
	uint8_t out[DIRECT_BATCH][DIRECT_MAX_PACKET + SRTP_SEAL_MAX_TRAILER];
	struct mmsghdr msgs[DIRECT_BATCH];
	struct iovec iov[DIRECT_BATCH];
};

/* A packet as the payloader made it, for viewers that lost it (RFC 4585 NACK). */
struct sent_packet {
	uint16_t seq;
	uint16_t len; /* 0: empty */
	uint8_t data[DIRECT_MAX_PACKET];
};

/* NACK resends, every fan-out; atomic */
static struct {
	guint64 packets, bytes;                 /* sent again (bytes: RTP, before SRTP) */
	guint64 refused_budget, refused_repeat; /* not sent: see wire/resend.h */
} resends;

/*
 * One viewer: main thread creates and frees it. tx, fd and addr are
 * written on the receive thread (fanout_set_sender) under the fanout lock;
 * the send thread reads them under that lock, the receive thread (resends)
 * without it. Every srtp_seal with tx holds `seal`: the send thread's and
 * the receive thread's would otherwise race on libsrtp's stream state.
 */
struct fanout_member {
	int pt;                     /* the viewer's payload type: written into every packet */
	struct branch *branch;      /* gate and counters, shared with the session layer */
	char sid[SHORT_ID_LEN + 1]; /* for log lines */
	struct srtp_seal *tx;       /* NULL until the DTLS handshake ends */
	GMutex seal;                /* taken with tx in use; after the fanout lock, if both */
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct resend_budget resend; /* the receive thread's alone */
	bool asked_keyframe;         /* the send thread's: it waits, and nothing kept would do */
};

struct fanout {
	GMutex lock;        /* members, and each member's sender */
	GPtrArray *members; /* struct fanout_member *, owned: fanout_add to fanout_remove */
	guint32 ssrc;
	enum codec codec;
	unsigned kbps;   /* the stream's configured bitrate: each member's resend budget */
	guint first;     /* rotates: when a frame cannot reach everyone, not always the same lose */
	guint removals;  /* bumped by fanout_remove: a wait without the lock checks it after */
	GstElement *tee; /* a reference: the tee_pad is released from it */
	GstPad *tee_pad;
	GstElement *bin;
	struct batch sending; /* the send thread's */
	struct batch joining; /* the receive thread's: a GOP sent as DTLS comes up */
	struct gop_packets sending_gop, joining_gop;
	GstMapInfo maps[FANOUT_MAX_PACKETS];
	const uint8_t *data[FANOUT_MAX_PACKETS]; /* the frame's packets, as maps[] */
	gsize len[FANOUT_MAX_PACKETS];
	struct sent_packet *history; /* FANOUT_HISTORY slots, under the lock */
	struct track *track;         /* whose keyframes a waiting viewer asks for */
	struct gop *gop;             /* the frames since the last keyframe, for joins: gop.h */
};

/* Send thread, lock held: keep the frame's packets for NACKs. */
static void remember(struct fanout *f, guint npackets)
{
	guint i;

	for (i = 0; i < npackets; i++) {
		const GstMapInfo *m = &f->maps[i];
		struct sent_packet *h;
		uint16_t seq;

		if (m->size < 12 || m->size > DIRECT_MAX_PACKET)
			continue;
		seq = (uint16_t)((m->data[2] << 8) | m->data[3]);
		h = &f->history[seq % FANOUT_HISTORY];
		h->seq = seq;
		h->len = (uint16_t)m->size;
		memcpy(h->data, m->data, m->size);
	}
}

/*
 * Send thread, fanout lock held: `batch` prepared datagrams on `fd`; how
 * many left. The socket is shared by every viewer, so a keyframe sent to
 * many at once can fill its buffer while the NIC's queue drains (the kernel
 * caps the buffer at net.core.wmem_max). Wait for room rather than drop,
 * until `deadline_us`; frames arriving meanwhile wait in the leaky queue
 * upstream. The wait is without the lock, so joins and leaves never wait for
 * a slow network; a viewer removed meanwhile gets nothing more.
 */
static guint send_batch(struct fanout *f, struct batch *b, int fd, guint batch, gint64 deadline_us)
{
	guint done = 0, removals = f->removals;

	while (done < batch) {
		int n = sendmmsg(fd, b->msgs + done, batch - done, MSG_DONTWAIT);
		gint64 left_ms;
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};

		if (n > 0) {
			done += (guint)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			done++; /* this datagram cannot go (no route, ...): the next may */
			continue;
		}
		left_ms = (deadline_us - g_get_monotonic_time()) / 1000;
		if (left_ms <= 0)
			break;
		g_mutex_unlock(&f->lock);
		poll(&pfd, 1, (int)MIN(left_ms, 5));
		g_mutex_lock(&f->lock);
		if (f->removals != removals)
			break; /* the viewer (and the address msgs point to) may be gone */
	}
	return done;
}

/*
 * Fanout lock held: packets data[i] (len[i] bytes) to one viewer, with RTP
 * timestamp ts[i] instead of their own when ts is not NULL, prepared in
 * `b`: the send thread's, or the receive thread's (which never waits).
 */
static void send_to(struct fanout *f, struct batch *b, struct fanout_member *m,
                    const uint8_t *const *data, const gsize *lens, const guint32 *ts,
                    guint npackets, gint64 deadline_us)
{
	guint i = 0, batch, sent = 0, removals = f->removals;
	guint64 bytes = 0;
	int len;

	while (i < npackets) {
		g_mutex_lock(&m->seal);
		for (batch = 0; batch < DIRECT_BATCH && i < npackets; i++) {
			len = (int)lens[i];
			if (len > DIRECT_MAX_PACKET || len < 12)
				continue;
			memcpy(b->out[batch], data[i], (size_t)len);
			b->out[batch][1] = (uint8_t)((b->out[batch][1] & 0x80) | m->pt);
			if (ts != NULL) {
				b->out[batch][4] = (uint8_t)(ts[i] >> 24);
				b->out[batch][5] = (uint8_t)(ts[i] >> 16);
				b->out[batch][6] = (uint8_t)(ts[i] >> 8);
				b->out[batch][7] = (uint8_t)ts[i];
			}
			if (srtp_seal(m->tx, b->out[batch], &len) != 0)
				continue;
			bytes += lens[i];
			b->iov[batch].iov_base = b->out[batch];
			b->iov[batch].iov_len = (size_t)len;
			memset(&b->msgs[batch], 0, sizeof(b->msgs[batch]));
			b->msgs[batch].msg_hdr.msg_iov = &b->iov[batch];
			b->msgs[batch].msg_hdr.msg_iovlen = 1;
			b->msgs[batch].msg_hdr.msg_name = &m->addr;
			b->msgs[batch].msg_hdr.msg_namelen = m->addrlen;
			batch++;
		}
		g_mutex_unlock(&m->seal);
		sent += send_batch(f, b, m->fd, batch, deadline_us);
		if (f->removals != removals)
			return; /* m may have been freed while send_batch waited */
	}
	__atomic_fetch_add(&m->branch->packets, sent, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->branch->bytes, bytes, __ATOMIC_RELAXED);
}

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
	send_to(f, b, m, out->data, out->lens, out->ts, n, deadline_us);
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

/* Send thread (the queue's): one frame's packets, as a list or a single buffer. */
static GstFlowReturn on_new_sample_cb(GstAppSink *sink, gpointer data)
{
	struct fanout *f = data;
	GstSample *sample = gst_app_sink_pull_sample(sink);
	GstBufferList *list;
	GstBuffer *one;
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
	keyframe = frame_is_keyframe(f, n);
	deadline_us = g_get_monotonic_time() + FANOUT_SEND_WAIT_MS * 1000;
	g_mutex_lock(&f->lock);
	remember(f, n);
	for (i = 0; i < f->members->len; i++) {
		struct fanout_member *m =
		    g_ptr_array_index(f->members, (f->first + i) % f->members->len);

		if (m->tx == NULL || m->fd < 0)
			continue;
		if (!keyframe && n > 0 && f->len[0] >= 12 &&
		    g_atomic_int_get(&m->branch->gate) == GATE_WAIT_KEYFRAME)
			gop_send_or_ask(f, m, GST_READ_UINT32_BE(f->data[0] + 4), deadline_us);
		if (gate_pass(m, keyframe))
			send_to(f, &f->sending, m, f->data, f->len, NULL, n, deadline_us);
	}
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
	g_mutex_lock(&f->lock);
	gop_forget(f->gop);
	g_mutex_unlock(&f->lock);
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
	const char *name = c == CODEC_VP8 ? "fanout" : "fanout-h264";
	struct fanout *f;
	GstElement *queue, *pay, *sink;
	GstPad *pad;

	queue = gst_element_factory_make("queue", name);
	pay = gst_element_factory_make(c == CODEC_VP8 ? "rtpvp8pay" : "rtph264pay", NULL);
	sink = gst_element_factory_make("appsink", NULL);
	if (queue == NULL || pay == NULL || sink == NULL) {
		*err = g_strdup("queue, rtpvp8pay, rtph264pay or appsink missing: install "
		                "gstreamer1.0-plugins-base and -good");
		gst_clear_object(&queue);
		gst_clear_object(&pay);
		gst_clear_object(&sink);
		return NULL;
	}
	f = g_new0(struct fanout, 1);
	g_mutex_init(&f->lock);
	f->members = g_ptr_array_new();
	f->ssrc = g_random_int();
	f->codec = c;
	f->kbps = kbps;
	f->history = g_new0(struct sent_packet, FANOUT_HISTORY);
	f->track = t;
	/* A camera's whole GOP; our encoder's from the keyframe a join asked for (fanout.h). */
	f->gop = gop_new(track_passthrough(t) ? FANOUT_GOP_PACKETS : FANOUT_FRESH_PACKETS);
	gop_packets_init(&f->sending_gop, f->gop);
	gop_packets_init(&f->joining_gop, f->gop);
	f->tee = gst_object_ref(track_tee(t));
	f->bin = gst_bin_new(name);
	gst_bin_add_many(GST_BIN(f->bin), queue, pay, sink, NULL);
	g_object_set(queue, "leaky", 2, "max-size-buffers", FANOUT_QUEUE_BUFFERS, "max-size-bytes",
	             0, "max-size-time", (guint64)0, NULL);
	/* The viewers' payload types differ: each packet gets its own as it is sent. */
	g_object_set(pay, "pt", 96u, "ssrc", f->ssrc, "mtu", (guint)DIRECT_RTP_MTU, NULL);
	if (c == CODEC_VP8)
		g_object_set(pay, "picture-id-mode", 2, NULL);
	else /* SPS and PPS before every IDR, aggregated with it (STAP-A) when they fit */
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
	gop_free(f->gop);
	gop_packets_clear(&f->sending_gop);
	gop_packets_clear(&f->joining_gop);
	g_mutex_clear(&f->lock);
	g_free(f);
}

struct fanout_member *fanout_add(struct fanout *f, int pt, struct branch *b, const char *sid)
{
	struct fanout_member *m = g_new0(struct fanout_member, 1);

	m->pt = pt;
	m->branch = branch_ref(b);
	m->fd = -1;
	g_strlcpy(m->sid, sid, sizeof(m->sid));
	g_mutex_init(&m->seal);
	/* The stream's own packets are at most DIRECT_RTP_MTU long (the payloader's mtu). */
	resend_budget_init(&m->resend, f->kbps, DIRECT_RTP_MTU);
	g_mutex_lock(&f->lock);
	g_ptr_array_add(f->members, m);
	g_mutex_unlock(&f->lock);
	return m;
}

void fanout_remove(struct fanout *f, struct fanout_member *m)
{
	g_mutex_lock(&f->lock);
	g_ptr_array_remove_fast(f->members, m);
	f->removals++;
	g_mutex_unlock(&f->lock);
	srtp_seal_free(m->tx);
	g_mutex_clear(&m->seal);
	branch_unref(m->branch);
	g_free(m);
}

void fanout_set_sender(struct fanout *f, struct fanout_member *m, struct srtp_seal *tx, int fd,
                       const struct sockaddr_storage *addr, socklen_t addrlen)
{
	bool up;

	g_mutex_lock(&f->lock);
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
	up = tx != NULL &&
	     g_atomic_int_compare_and_exchange(&m->branch->gate, GATE_CLOSED, GATE_WAIT_KEYFRAME);
	if (up && m->fd >= 0)
		gop_send(f, &f->joining, &f->joining_gop, m, gop_after_newest(f->gop), 0);
	g_mutex_unlock(&f->lock);
}

/* Receive thread: packet `seq` from the history into `out`; its length, 0 when no longer kept. */
static int history_copy(struct fanout *f, uint16_t seq, uint8_t *out)
{
	const struct sent_packet *h;
	int len = 0;

	g_mutex_lock(&f->lock);
	h = &f->history[seq % FANOUT_HISTORY];
	if (h->len != 0 && h->seq == seq) {
		len = h->len;
		memcpy(out, h->data, (size_t)len);
	}
	g_mutex_unlock(&f->lock);
	return len;
}

guint fanout_resend(struct fanout *f, struct fanout_member *m, const uint16_t *seqs, size_t n,
                    uint8_t *scratch)
{
	gint64 now = g_get_monotonic_time();
	guint sent = 0, over = 0, repeats = 0;
	guint64 bytes = 0;
	size_t i;

	/* tx and the address change only on this thread; the gate is atomic. */
	if (m->tx == NULL || g_atomic_int_get(&m->branch->gate) != GATE_OPEN)
		return 0;
	for (i = 0; i < n; i++) {
		int st;
		int len, rtp_len;

		switch (resend_budget_check(&m->resend, seqs[i], now)) {
		case RESEND_REPEAT:
			repeats++;
			continue;
		case RESEND_BUDGET:
			over++;
			continue;
		case RESEND_OK:
			break;
		}
		/* Copied under the fanout lock, sealed and sent without it: frames keep going. */
		rtp_len = len = history_copy(f, seqs[i], scratch);
		if (len == 0)
			continue; /* too old: the viewer will ask for a keyframe instead */
		resend_budget_spend(&m->resend, seqs[i], (size_t)len, now);
		scratch[1] = (uint8_t)((scratch[1] & 0x80) | m->pt);
		/* The same packet again under the same index (within SRTP_SEAL_WINDOW). */
		g_mutex_lock(&m->seal);
		st = srtp_seal(m->tx, scratch, &len);
		g_mutex_unlock(&m->seal);
		if (st == 0 && sendto(m->fd, scratch, (size_t)len, MSG_DONTWAIT,
		                      (struct sockaddr *)&m->addr, m->addrlen) > 0) {
			sent++;
			bytes += (guint64)rtp_len;
		}
	}
	__atomic_fetch_add(&resends.packets, sent, __ATOMIC_RELAXED);
	__atomic_fetch_add(&resends.bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&resends.refused_budget, over, __ATOMIC_RELAXED);
	__atomic_fetch_add(&resends.refused_repeat, repeats, __ATOMIC_RELAXED);
	return sent;
}

void fanout_resend_totals(struct fanout_resend_totals *t)
{
	t->packets = __atomic_load_n(&resends.packets, __ATOMIC_RELAXED);
	t->bytes = __atomic_load_n(&resends.bytes, __ATOMIC_RELAXED);
	t->refused_budget = __atomic_load_n(&resends.refused_budget, __ATOMIC_RELAXED);
	t->refused_repeat = __atomic_load_n(&resends.refused_repeat, __ATOMIC_RELAXED);
}
