/*
 * bin.c - a mode-full viewer's elements: queue ! rtpvp8pay|rtph264pay ! webrtcbin in
 * a bin of its own hung off the track's tee, the probes on them (the join
 * gate, a private copy of each frame, packet counts, the peer's liveness)
 * and the settings of webrtcbin's ICE agent. The elements belong to the
 * stream's pipeline and, once the viewer is removed, to the reaper.
 */
#define G_LOG_DOMAIN "viewer"
#include <gst/rtp/gstrtpbuffer.h>
#include <nice/agent.h>
#include <string.h>

#include "base/ice_servers.h"
#include "full_viewer.h"
#include "media/gopcache.h"

/*
 * A viewer's queue holds this many frames beyond what is fed at its join:
 * a slow viewer loses its oldest frames, never stalls the tee.
 */
#define BIN_QUEUE_FRAMES 60

/* What the gate probe holds; freed with the probe (the queue's pad), after the viewer. */
struct viewer_gate {
	struct branch *branch;
	struct gopcache *gop; /* the track's GOP kept (passed through), or NULL */
	guint passed_gop;     /* the GOP of the last frame let through (gopcache_gop); 0 none */
};

static void gate_free(gpointer p)
{
	struct viewer_gate *g = p;

	branch_unref(g->branch);
	gopcache_unref(g->gop);
	g_free(g);
}

/*
 * Streaming thread (the tee's), at a viewer's first delta frame `live`
 * while it waits for a keyframe: the frames kept since the camera's last
 * keyframe go first (their timestamps drawn together just before live's:
 * gopcache.h), opening the gate; `live` follows as the probe returns.
 * They are chained into the queue's sink `pad` from within its own probe:
 * its stream lock is recursive, the probe sees them pass an open gate,
 * and the tee pushes nothing else meanwhile, so nothing is lost or sent
 * twice between the kept frames and the live ones. Frames of a GOP this
 * viewer already had part of (its gate closed again when the source came
 * back) are not sent again: it waits for the next keyframe. A teardown
 * meanwhile waits: the reaper's idle probe on the tee pad fires after.
 */
static void feed_gop(struct viewer_gate *g, GstPad *pad, GstBuffer *live)
{
	GstBuffer *kept[GOPCACHE_MAX_FRAMES];
	guint i = 0, gop = 0, n = gopcache_before(g->gop, live, kept, &gop);

	if (n > 0 && gop != g->passed_gop && branch_gate(g->branch, true) == GATE_OPENED) {
		g_message("viewer %s: first keyframe sent %.1f ms after the offer (the GOP kept, "
		          "%u frames)",
		          g->branch->sid,
		          (double)(g_get_monotonic_time() - g->branch->created_us) / 1000.0, n);
		/* gst_pad_chain takes each buffer, whatever it returns (flushing: a teardown). */
		while (i < n && gst_pad_chain(pad, kept[i++]) == GST_FLOW_OK)
			;
	}
	for (; i < n; i++)
		gst_buffer_unref(kept[i]);
}

/* Streaming thread: nothing before the peer is connected, then a keyframe first. */
static GstPadProbeReturn gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct viewer_gate *g = data;
	struct branch *b = g->branch;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	bool keyframe = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);

	if (!keyframe && g->gop != NULL && g_atomic_int_get(&b->gate) == GATE_WAIT_KEYFRAME)
		feed_gop(g, pad, buf);
	switch (branch_gate(b, keyframe)) {
	case GATE_DROP:
		return GST_PAD_PROBE_DROP;
	case GATE_OPENED:
		g_message("viewer %s: first keyframe sent %.1f ms after the offer", b->sid,
		          (double)(g_get_monotonic_time() - b->created_us) / 1000.0);
		break;
	case GATE_PASS:
		break;
	}
	if (g->gop != NULL)
		g->passed_gop = gopcache_gop(g->gop);
	__atomic_fetch_add(&b->bytes, gst_buffer_get_size(buf), __ATOMIC_RELAXED);
	return GST_PAD_PROBE_OK;
}

/*
 * Viewer's queue thread: hand the payloader a private copy of the frame.
 * Every viewer's payloader slices the same encoded memory, and GStreamer
 * tracks a memory's buffers in one spin-locked parent list: with 50 viewers
 * payloading the same frame at once, gst_mini_object_add_parent was 37 % of
 * the viewer path's CPU (perf). A copy of a frame (KBs) costs far less.
 */
static GstPadProbeReturn private_copy_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *shared = GST_PAD_PROBE_INFO_BUFFER(info);

	GST_PAD_PROBE_INFO_DATA(info) = gst_buffer_copy_deep(shared);
	gst_buffer_unref(shared);
	return GST_PAD_PROBE_OK;
}

/*
 * A payloader sends payload types 96-127 only (its template; its `pt` is
 * fixated into that range), and webrtcbin matches the offer against what
 * the payloader says it sends. Chromium offers its High H.264 profiles as
 * payload types 39-49: webrtcbin answered another (Constrained Baseline)
 * payload type, and the packets went out as 96, which Chromium took for
 * VP8. For a viewer's payload type below 96, the payloader's src pad says
 * it sends that one (pay_caps_probe) and does (pay_pt_probe), as the
 * direct path writes each viewer's into every packet.
 */
#define BIN_PT_DYNAMIC_MIN 96

/* Main thread (webrtcbin's answer) or a streaming thread: what the payloader can send. */
static GstPadProbeReturn pay_caps_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstQuery *q = GST_PAD_PROBE_INFO_QUERY(info);
	GstCaps *filter = NULL, *caps;
	guint i;

	if (GST_QUERY_TYPE(q) != GST_QUERY_CAPS)
		return GST_PAD_PROBE_OK;
	gst_query_parse_caps(q, &filter);
	caps = gst_caps_copy(GST_PAD_TEMPLATE_CAPS(GST_PAD_PAD_TEMPLATE(pad)));
	for (i = 0; i < gst_caps_get_size(caps); i++)
		gst_structure_set(gst_caps_get_structure(caps, i), "payload", G_TYPE_INT,
		                  GPOINTER_TO_INT(data), NULL);
	if (filter != NULL) {
		GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);

		gst_caps_unref(caps);
		caps = both;
	}
	gst_query_set_caps_result(q, caps);
	gst_caps_unref(caps);
	return GST_PAD_PROBE_HANDLED;
}

/* The viewer's queue thread: one packet gets payload type `data`. */
static gboolean set_pt(GstBuffer **buf, guint idx, gpointer data)
{
	GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

	*buf = gst_buffer_make_writable(*buf);
	if (gst_rtp_buffer_map(*buf, GST_MAP_WRITE, &rtp)) {
		gst_rtp_buffer_set_payload_type(&rtp, (guint8)GPOINTER_TO_UINT(data));
		gst_rtp_buffer_unmap(&rtp);
	}
	return TRUE;
}

/* The viewer's queue thread: packets and caps leaving the payloader get payload type `data`. */
static GstPadProbeReturn pay_pt_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
		GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

		set_pt(&buf, 0, data);
		GST_PAD_PROBE_INFO_DATA(info) = buf;
	} else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
		GstBufferList *list =
		    gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));

		gst_buffer_list_foreach(list, set_pt, data);
		GST_PAD_PROBE_INFO_DATA(info) = list;
	} else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS) {
		GstCaps *caps;

		gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
		caps = gst_caps_copy(caps);
		gst_caps_set_simple(caps, "payload", G_TYPE_INT, GPOINTER_TO_INT(data), NULL);
		gst_event_unref(GST_PAD_PROBE_INFO_EVENT(info));
		GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_caps(caps);
		gst_caps_unref(caps);
	}
	return GST_PAD_PROBE_OK;
}

/* Streaming thread: count RTP packets leaving the payloader. */
static GstPadProbeReturn packets_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct branch *b = data;
	guint n = 1;

	if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
		n = gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
	__atomic_fetch_add(&b->packets, n, __ATOMIC_RELAXED);
	return GST_PAD_PROBE_OK;
}

/* The viewer's ICE agent from the config: no UPnP, ports, addresses, TCP. */
static void configure_ice(struct full_viewer *fv, const struct daemon_config *cfg)
{
	GObject *ice = NULL, *agent = NULL;
	char *turn;
	guint i;

	g_object_get(fv->webrtc, "ice-agent", &ice, NULL);
	if (ice == NULL)
		return;
	turn = ice_servers_turn_uri(cfg, g_get_real_time() / G_USEC_PER_SEC);
	if (turn != NULL) {
		g_object_set(fv->webrtc, "turn-server", turn, NULL);
		g_free(turn);
	}
	/* UDP only unless configured: fewer candidates, and most players never use TCP. */
	g_object_set(ice, "ice-tcp", cfg->ice_tcp, NULL);
	if (cfg->min_port > 0)
		g_object_set(ice, "min-rtp-port", (guint)cfg->min_port, "max-rtp-port",
		             (guint)cfg->max_port, NULL);
	g_object_get(ice, "agent", &agent, NULL);
	if (agent != NULL) {
		/*
		 * UPnP adds ~200 ms and threads to every answer (docs/webrtcbin.md).
		 * Keepalives that need an answer make a vanished viewer's ICE
		 * fail, so it is reaped (consent freshness is construct-only).
		 */
		g_object_set(agent, "upnp", FALSE, "keepalive-conncheck", TRUE, NULL);
		for (i = 0; cfg->ice_addresses != NULL && cfg->ice_addresses[i] != NULL; i++) {
			NiceAddress addr;

			if (nice_address_set_from_string(&addr, cfg->ice_addresses[i]))
				nice_agent_add_local_address(NICE_AGENT(agent), &addr);
		}
		g_object_unref(agent);
	}
	g_object_unref(ice);
}

/*
 * Sender reports from the capture time of what was sent, not the time it
 * was sent: with rtpbin's default (send time) the RTP timestamps of
 * webrtcbin's reports ran at twice the wall clock's rate here, and a
 * player lines sound and picture up by them (tests/integration/daemon_audio).
 */
static void set_report_clock(GstElement *webrtc)
{
	GstElement *rtpbin = gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin");

	if (rtpbin == NULL)
		return;
	g_object_set(rtpbin, "rtcp-sync-send-time", FALSE, NULL);
	gst_object_unref(rtpbin);
}

int bin_build(struct full_viewer *fv, struct branch *b, const struct daemon_config *cfg)
{
	struct viewer_gate *gate = g_new0(struct viewer_gate, 1);
	struct gopcache *gop =
	    fv->video != NULL ? track_gop(fv->video) : NULL; /* NULL: sound only */
	GstPad *pad;
	char name[32];

	gate->branch = branch_ref(b);
	gate->gop = gop != NULL ? gopcache_ref(gop) : NULL;
	g_snprintf(name, sizeof(name), STREAM_VIEWER_BIN_PREFIX "%s", fv->sid);
	fv->bin = gst_bin_new(name);
	gst_object_ref_sink(fv->bin);
	/*
	 * The bin settles its own children's state changes: a new webrtcbin
	 * (whose sinks wait for data to preroll) must not pull the running
	 * pipeline back to PAUSED and freeze every other viewer.
	 */
	g_object_set(fv->bin, "async-handling", TRUE, NULL);
	fv->webrtc = gst_element_factory_make("webrtcbin", "webrtc");
	fv->queue = gst_element_factory_make("queue", "queue");
	fv->pay = gst_element_factory_make(
	    fv->codec.codec == CODEC_H264 ? "rtph264pay" : "rtpvp8pay", "pay");
	if (fv->webrtc == NULL || fv->queue == NULL || fv->pay == NULL) {
		gate_free(gate);
		return -1;
	}
	gst_bin_add_many(GST_BIN(fv->bin), fv->queue, fv->pay, fv->webrtc, NULL);
	reaper_count_webrtcbin(fv->webrtc);

	gst_util_set_object_arg(G_OBJECT(fv->webrtc), "bundle-policy", "max-bundle");
	set_report_clock(fv->webrtc);
	if (cfg->stun != NULL)
		g_object_set(fv->webrtc, "stun-server", cfg->stun, NULL);
	configure_ice(fv, cfg);
	/*
	 * A slow viewer loses its oldest frames, never stalls the tee; with room
	 * for a GOP fed at its join on top, none of which may be lost.
	 */
	g_object_set(fv->queue, "leaky", 2, "max-size-buffers",
	             BIN_QUEUE_FRAMES + (gop != NULL ? GOPCACHE_MAX_FRAMES : 0), "max-size-bytes",
	             0, "max-size-time", (guint64)0, NULL);
	g_object_set(fv->pay, "pt", (guint)fv->pt, "ssrc", fv->ssrc, NULL);
	if (fv->codec.codec == CODEC_H264) /* SPS and PPS with every IDR, aggregated (STAP-A) */
		g_object_set(fv->pay, "config-interval", -1, "aggregate-mode", 1, NULL);
	else
		g_object_set(fv->pay, "picture-id-mode", 2, NULL);

	full_connect_signals(fv);
	if (!gst_element_link(fv->queue, fv->pay)) {
		gate_free(gate);
		return -1;
	}
	pad = gst_element_get_static_pad(fv->queue, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, private_copy_probe, NULL, NULL);
	gst_object_unref(pad);
	pad = gst_element_get_static_pad(fv->pay, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
	                  packets_probe, branch_ref(b), branch_unref);
	if (fv->pt < BIN_PT_DYNAMIC_MIN) {
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, pay_caps_probe,
		                  GINT_TO_POINTER(fv->pt), NULL);
		gst_pad_add_probe(pad,
		                  GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
		                      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
		                  pay_pt_probe, GINT_TO_POINTER(fv->pt), NULL);
	}
	gst_object_unref(pad);
	pad = gst_element_get_static_pad(fv->queue, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, gate, gate_free);
	gst_element_add_pad(fv->bin, gst_ghost_pad_new("sink", pad));
	gst_object_unref(pad);
	if (sound_build(fv, b) != 0)
		return -1;
	gst_bin_add(GST_BIN(fv->stream->pipeline), fv->bin);
	gst_element_sync_state_with_parent(fv->bin);
	return 0;
}

/* Streaming thread (nicesrc): the peer is alive; any STUN, DTLS or RTCP counts. */
static GstPadProbeReturn rx_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	g_atomic_int_set((gint *)data, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
	return GST_PAD_PROBE_OK;
}

void bin_watch_peer(struct full_viewer *fv)
{
	GstIterator *it = gst_bin_iterate_recurse(GST_BIN(fv->webrtc));
	GValue item = G_VALUE_INIT;

	while (fv->last_rx_s == NULL && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
		GstElement *e = g_value_get_object(&item);
		GstElementFactory *f = gst_element_get_factory(e);

		if (f != NULL && strcmp(GST_OBJECT_NAME(f), "nicesrc") == 0) {
			GstPad *pad = gst_element_get_static_pad(e, "src");

			fv->last_rx_s = g_new(gint, 1);
			*fv->last_rx_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);
			gst_pad_add_probe(
			    pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
			    rx_probe, fv->last_rx_s, g_free);
			gst_object_unref(pad);
		}
		g_value_reset(&item);
	}
	g_value_unset(&item);
	gst_iterator_free(it);
}
