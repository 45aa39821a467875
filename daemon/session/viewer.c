/*
 * viewer.c - one WebRTC viewer: tee ! queue ! rtpvp8pay ! webrtcbin,
 * from the offer to a complete answer (all candidates spliced in) and on
 * to teardown. The viewer table here is the only owner of viewers; every
 * webrtcbin callback carries a copy of the session id and hops to the
 * main loop, which looks the viewer up, so a callback that races a
 * teardown finds nothing instead of freed memory.
 */
#define G_LOG_DOMAIN "viewer"
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <string.h>

#include "viewer.h"

enum event_kind { EV_REMOTE_SET, EV_ANSWER, EV_CANDIDATE, EV_GATHERED, EV_CONNECTION, EV_ICE };

struct event {
	enum event_kind kind;
	char id[WHEPCAM_SESSION_HEX + 1];
	GstPromise *promise;
	char *candidate;
	int value;
};

static struct {
	GMainContext *ctx;
	const struct daemon_config *cfg;
	viewer_reply_fn reply;
	GHashTable *table; /* id -> struct viewer, owned */
	guint silence_sweep;
} V;

void viewer_send_error(guint64 client_id, int status, const char *error, const char *detail,
                       int retry_after)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	if (retry_after > 0)
		json_object_object_add(o, "retry_after", json_object_new_int(retry_after));
	V.reply(client_id, proto_line(o));
	json_object_put(o);
}

struct viewer *viewer_lookup(const char *id)
{
	return V.table != NULL ? g_hash_table_lookup(V.table, id) : NULL;
}

const struct daemon_config *viewer_config(void)
{
	return V.cfg;
}

static double elapsed_ms(const struct viewer *v)
{
	return (double)(g_get_monotonic_time() - v->created_us) / 1000.0;
}

/* ---- hopping from GStreamer threads to the main loop ---- */

static void event_free(gpointer p)
{
	struct event *ev = p;

	if (ev->promise != NULL)
		gst_promise_unref(ev->promise);
	g_free(ev->candidate);
	g_free(ev);
}

static gboolean event_dispatch(gpointer p);

/* Any thread: queue `ev` (taken) for the main loop. */
static void event_post(struct event *ev)
{
	g_main_context_invoke_full(V.ctx, G_PRIORITY_DEFAULT, event_dispatch, ev, event_free);
}

static struct event *event_new(enum event_kind kind, const char *id)
{
	struct event *ev = g_new0(struct event, 1);

	ev->kind = kind;
	g_strlcpy(ev->id, id, sizeof(ev->id));
	return ev;
}

/* webrtcbin thread: a promise we made resolved. */
static void promise_done_cb(GstPromise *promise, gpointer data)
{
	struct event *ev = data;

	ev->promise = gst_promise_ref(promise);
	event_post(ev);
}

static GstPromise *promise_for(enum event_kind kind, const char *id)
{
	return gst_promise_new_with_change_func(promise_done_cb, event_new(kind, id), NULL);
}

/* webrtcbin thread. */
static void on_ice_candidate_cb(GstElement *webrtc, guint mline, const char *cand, gpointer id)
{
	struct event *ev = event_new(EV_CANDIDATE, id);

	ev->candidate = g_strdup(cand);
	ev->value = (int)mline;
	event_post(ev);
}

/* webrtcbin thread. */
static void on_gathering_state_cb(GstElement *webrtc, GParamSpec *pspec, gpointer id)
{
	GstWebRTCICEGatheringState st;

	g_object_get(webrtc, "ice-gathering-state", &st, NULL);
	if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
		event_post(event_new(EV_GATHERED, id));
}

/* webrtcbin thread. */
static void on_connection_state_cb(GstElement *webrtc, GParamSpec *pspec, gpointer id)
{
	GstWebRTCPeerConnectionState st;

	g_object_get(webrtc, "connection-state", &st, NULL);
	viewer_post_connection(id, st);
}

void viewer_post_connection(const char *id, GstWebRTCPeerConnectionState st)
{
	struct event *ev = event_new(EV_CONNECTION, id);

	ev->value = (int)st;
	event_post(ev);
}

/* webrtcbin thread. */
static void on_ice_state_cb(GstElement *webrtc, GParamSpec *pspec, gpointer id)
{
	struct event *ev = event_new(EV_ICE, id);
	GstWebRTCICEConnectionState st;

	g_object_get(webrtc, "ice-connection-state", &st, NULL);
	ev->value = (int)st;
	event_post(ev);
}

/* Streaming thread: nothing before the peer is connected, then a keyframe first. */
static GstPadProbeReturn gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct branch *b = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	gint gate = g_atomic_int_get(&b->gate);

	if (gate != GATE_OPEN) {
		if (gate == GATE_CLOSED || GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
			return GST_PAD_PROBE_DROP;
		g_atomic_int_set(&b->gate, GATE_OPEN);
		g_message("viewer %s: first keyframe sent %.1f ms after the offer", b->sid,
		          (double)(g_get_monotonic_time() - b->created_us) / 1000.0);
	}
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

/* ---- teardown ---- */

/* Main thread: the table's destroy function. Safe on a half-built viewer. */
static void viewer_destroy(gpointer p)
{
	struct viewer *v = p;
	size_t i;

	if (v->client_id != 0)
		viewer_send_error(v->client_id, 503, "viewer-reaped",
		                  "the session ended before its answer was ready",
		                  WHEPCAM_RETRY_AFTER_S);
	if (v->gather_timer != 0)
		g_source_remove(v->gather_timer);
	if (v->ice_timer != 0)
		g_source_remove(v->ice_timer);
	if (v->disconnect_timer != 0)
		g_source_remove(v->disconnect_timer);
	for (i = 0; i < MAX_SIGNALS; i++)
		if (v->signals[i] != 0)
			g_signal_handler_disconnect(v->webrtc, v->signals[i]);
	v->stream->viewers--;

	if (v->peer != NULL)
		direct_release(v);
	else /* The reaper owns the elements now; nothing of ours is touched again. */
		reaper_release(v->stream->pipeline, v->stream->tee, v->tee_pad, v->bin, v->sid);
	if (v->candidates != NULL)
		g_ptr_array_unref(v->candidates);
	g_free(v->etag);
	g_free(v->remote_ufrag);
	if (v->mids != NULL)
		g_ptr_array_unref(v->mids);
	g_free(v);
}

void viewer_count_end(const struct viewer *v, const char *reason)
{
	metrics_reaped(reason,
	               v->branch ? __atomic_load_n(&v->branch->packets, __ATOMIC_RELAXED) : 0,
	               v->branch ? __atomic_load_n(&v->branch->bytes, __ATOMIC_RELAXED) : 0);
}

void viewer_traffic(guint64 *packets, guint64 *bytes)
{
	GHashTableIter it;
	gpointer value;

	if (V.table == NULL)
		return;
	g_hash_table_iter_init(&it, V.table);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct viewer *v = value;

		if (v->branch == NULL)
			continue;
		*packets += __atomic_load_n(&v->branch->packets, __ATOMIC_RELAXED);
		*bytes += __atomic_load_n(&v->branch->bytes, __ATOMIC_RELAXED);
	}
}

void viewer_remove(struct viewer *v, const char *reason)
{
	viewer_count_end(v, reason);
	g_message("viewer %s: leave (%s) after %.1f s, stream %s", v->sid, reason,
	          (double)(g_get_monotonic_time() - v->created_us) / 1e6, v->stream->cfg->name);
	g_hash_table_remove(V.table, v->id);
}

/* ---- building a viewer ---- */

static void free_id_closure(gpointer id, GClosure *closure)
{
	g_free(id);
}

static int build_elements(struct viewer *v)
{
	GstPad *pad;
	char name[32];

	g_snprintf(name, sizeof(name), "v-%s", v->sid);
	v->bin = gst_bin_new(name);
	gst_object_ref_sink(v->bin);
	/*
	 * The bin settles its own children's state changes: a new webrtcbin
	 * (whose sinks wait for data to preroll) must not pull the running
	 * pipeline back to PAUSED and freeze every other viewer.
	 */
	g_object_set(v->bin, "async-handling", TRUE, NULL);
	v->webrtc = gst_element_factory_make("webrtcbin", "webrtc");
	v->queue = gst_element_factory_make("queue", "queue");
	v->pay = gst_element_factory_make("rtpvp8pay", "pay");
	if (v->webrtc == NULL || v->queue == NULL || v->pay == NULL)
		return -1;
	gst_bin_add_many(GST_BIN(v->bin), v->queue, v->pay, v->webrtc, NULL);
	reaper_count_webrtcbin(v->webrtc);

	gst_util_set_object_arg(G_OBJECT(v->webrtc), "bundle-policy", "max-bundle");
	if (V.cfg->stun != NULL)
		g_object_set(v->webrtc, "stun-server", V.cfg->stun, NULL);
	viewer_ice_configure(v);
	/* A slow viewer loses its oldest frames, never stalls the tee. */
	g_object_set(v->queue, "leaky", 2, "max-size-buffers", 60, "max-size-bytes", 0,
	             "max-size-time", (guint64)0, NULL);
	g_object_set(v->pay, "pt", (guint)v->pt, "ssrc", v->ssrc, "picture-id-mode", 2, NULL);

	v->signals[0] =
	    g_signal_connect_data(v->webrtc, "on-ice-candidate", G_CALLBACK(on_ice_candidate_cb),
	                          g_strdup(v->id), free_id_closure, 0);
	v->signals[1] = g_signal_connect_data(v->webrtc, "notify::ice-gathering-state",
	                                      G_CALLBACK(on_gathering_state_cb), g_strdup(v->id),
	                                      free_id_closure, 0);
	v->signals[2] = g_signal_connect_data(v->webrtc, "notify::connection-state",
	                                      G_CALLBACK(on_connection_state_cb), g_strdup(v->id),
	                                      free_id_closure, 0);
	v->signals[3] =
	    g_signal_connect_data(v->webrtc, "notify::ice-connection-state",
	                          G_CALLBACK(on_ice_state_cb), g_strdup(v->id), free_id_closure, 0);
	if (!gst_element_link(v->queue, v->pay))
		return -1;
	pad = gst_element_get_static_pad(v->queue, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, private_copy_probe, NULL, NULL);
	gst_object_unref(pad);
	v->branch = g_rc_box_new0(struct branch);
	v->branch->created_us = v->created_us;
	memcpy(v->branch->sid, v->sid, sizeof(v->branch->sid));
	pad = gst_element_get_static_pad(v->pay, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
	                  packets_probe, g_rc_box_acquire(v->branch), g_rc_box_release);
	gst_object_unref(pad);
	pad = gst_element_get_static_pad(v->queue, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, v->branch, g_rc_box_release);
	gst_element_add_pad(v->bin, gst_ghost_pad_new("sink", pad));
	gst_object_unref(pad);
	gst_bin_add(GST_BIN(v->stream->pipeline), v->bin);
	gst_element_sync_state_with_parent(v->bin);
	return 0;
}

static gboolean ice_timeout_cb(gpointer data)
{
	struct viewer *v = data;

	v->ice_timer = 0;
	if (!v->connected)
		viewer_remove(v, "ice-timeout");
	return G_SOURCE_REMOVE;
}

static gboolean gather_timeout_cb(gpointer data);

/* What a later PATCH is checked against: the offer's ufrag and its m-lines' mids. */
static void remember_offer_ice(struct viewer *v, const GstSDPMessage *msg)
{
	const char *ufrag = gst_sdp_message_get_attribute_val(msg, "ice-ufrag");
	guint i;

	v->mids = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < gst_sdp_message_medias_len(msg); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
		const char *mid = gst_sdp_media_get_attribute_val(m, "mid");

		g_ptr_array_add(v->mids, g_strdup(mid != NULL ? mid : ""));
		if (ufrag == NULL)
			ufrag = gst_sdp_media_get_attribute_val(m, "ice-ufrag");
	}
	v->remote_ufrag = g_strdup(ufrag);
}

static bool reply_answer(struct viewer *v, char *text);

/* Main thread: the direct path answers at once: no agent to gather, no promise to wait for. */
static void offer_direct(struct viewer *v, const GstSDPMessage *msg, guint64 client_id,
                         const char *peer)
{
	char detail[160];
	int status = 500;
	char *text = direct_answer(v, msg, &status, detail, sizeof(detail));

	if (text == NULL) {
		viewer_send_error(client_id, status, status == 400 ? "bad-offer" : "internal",
		                  detail, 0);
		viewer_remove(v, "offer-rejected");
		return;
	}
	v->client_id = client_id;
	g_message("viewer %s: join from %s, stream %s, VP8 pt %d (direct)", v->sid,
	          peer != NULL ? peer : "local", v->stream->cfg->name, v->pt);
	remember_offer_ice(v, msg);
	v->ice_timer = g_timeout_add_seconds((guint)V.cfg->ice_timeout_s, ice_timeout_cb, v);
	reply_answer(v, text);
}

void viewer_offer(struct stream *s, const char *sdp, const char *peer, guint64 client_id)
{
	struct viewer *v = NULL;
	GstWebRTCSessionDescription *desc;
	GstSDPMessage *msg = NULL;
	char detail[160];
	int pt = -1;
	unsigned max;

	switch (sdp_check_offer(sdp, &pt, detail, sizeof(detail))) {
	case SDP_OK:
		break;
	case SDP_NO_CODEC:
		viewer_send_error(client_id, 406, "no-common-codec", detail, 0);
		return;
	default:
		viewer_send_error(client_id, 400, "bad-offer", detail, 0);
		return;
	}
	if (g_hash_table_size(V.table) >= (guint)V.cfg->max_viewers ||
	    (s->cfg->max_viewers > 0 && s->viewers >= (unsigned)s->cfg->max_viewers)) {
		max = s->cfg->max_viewers > 0 && s->viewers >= (unsigned)s->cfg->max_viewers
		          ? (unsigned)s->cfg->max_viewers
		          : (unsigned)V.cfg->max_viewers;
		g_snprintf(detail, sizeof(detail), "at capacity: %u viewers; try again later", max);
		viewer_send_error(client_id, 503, "at-capacity", detail, WHEPCAM_RETRY_AFTER_S);
		return;
	}
	if (s->state == STREAM_OFFLINE) {
		g_snprintf(detail, sizeof(detail), "stream %s is offline; it is being restarted",
		           s->cfg->name);
		viewer_send_error(client_id, 409, "stream-offline", detail, WHEPCAM_RETRY_AFTER_S);
		return;
	}
	if (gst_sdp_message_new_from_text(sdp, &msg) != GST_SDP_OK) {
		viewer_send_error(client_id, 400, "bad-offer", "SDP offer does not parse", 0);
		return;
	}

	v = g_new0(struct viewer, 1);
	if (session_id_new(v->id) != 0) {
		gst_sdp_message_free(msg);
		g_free(v);
		viewer_send_error(client_id, 500, "internal", "no random bytes for a session id",
		                  0);
		return;
	}
	memcpy(v->sid, v->id, SHORT_ID_LEN);
	v->stream = s;
	v->pt = pt;
	v->ssrc = g_random_int();
	v->created_us = g_get_monotonic_time();
	v->candidates = g_ptr_array_new_with_free_func(g_free);
	s->viewers++;
	g_hash_table_insert(V.table, v->id, v);
	if (direct_enabled()) {
		offer_direct(v, msg, client_id, peer);
		gst_sdp_message_free(msg);
		return;
	}
	if (build_elements(v) != 0) {
		viewer_send_error(client_id, 500, "internal", "cannot build the viewer's elements",
		                  0);
		g_hash_table_remove(V.table, v->id);
		gst_sdp_message_free(msg);
		return;
	}
	v->client_id = client_id;
	g_message("viewer %s: join from %s, stream %s, VP8 pt %d", v->sid,
	          peer != NULL ? peer : "local", s->cfg->name, pt);
	g_debug("viewer %s: elements built at %.1f ms; offer:\n%s", v->sid, elapsed_ms(v), sdp);
	v->ice_timer = g_timeout_add_seconds((guint)V.cfg->ice_timeout_s, ice_timeout_cb, v);
	v->gather_timer = g_timeout_add((guint)V.cfg->gather_timeout_ms, gather_timeout_cb, v);

	remember_offer_ice(v, msg);
	desc = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, msg);
	g_signal_emit_by_name(v->webrtc, "set-remote-description", desc,
	                      promise_for(EV_REMOTE_SET, v->id));
	gst_webrtc_session_description_free(desc);
}

/* Main thread: the offer is in; add our video sender and ask for the answer. */
static void on_remote_set(struct viewer *v, GstPromise *promise)
{
	const GstStructure *r = gst_promise_get_reply(promise);
	GstPadTemplate *templ;
	GstWebRTCRTPTransceiver *trans = NULL;
	GError *gerr = NULL;
	GArray *all = NULL;
	GstCaps *caps;
	GstPad *sink, *src;
	guint i;

	g_debug("viewer %s: remote description set at %.1f ms", v->sid, elapsed_ms(v));
	if (r != NULL && gst_structure_get(r, "error", G_TYPE_ERROR, &gerr, NULL)) {
		viewer_send_error(v->client_id, 400, "bad-offer", gerr->message, 0);
		v->client_id = 0;
		g_error_free(gerr);
		viewer_remove(v, "offer-rejected");
		return;
	}
	caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video",
	                           "encoding-name", G_TYPE_STRING, "VP8", "payload", G_TYPE_INT,
	                           v->pt, "clock-rate", G_TYPE_INT, 90000, "ssrc", G_TYPE_UINT,
	                           v->ssrc, NULL);
	templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(v->webrtc), "sink_%u");
	sink = gst_element_request_pad(v->webrtc, templ, NULL, caps);
	gst_caps_unref(caps);
	if (sink == NULL) {
		viewer_send_error(v->client_id, 500, "internal", "webrtcbin refused a video sender",
		                  0);
		v->client_id = 0;
		viewer_remove(v, "no-sender");
		return;
	}
	/* Players that attach event.streams[0] show nothing without an msid. */
	g_object_set(sink, "msid", "whepcam", NULL);
	src = gst_element_get_static_pad(v->pay, "src");
	gst_pad_link(src, sink);
	gst_object_unref(src);
	g_object_get(sink, "transceiver", &trans, NULL);
	gst_object_unref(sink);
	if (trans != NULL) {
		g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
		             NULL);
		gst_object_unref(trans);
	}
	/* Audio (or any other) m-lines have no sender: answer them inactive. */
	g_signal_emit_by_name(v->webrtc, "get-transceivers", &all);
	for (i = 0; all != NULL && i < all->len; i++) {
		GstWebRTCRTPTransceiver *t = g_array_index(all, GstWebRTCRTPTransceiver *, i);
		GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;

		g_object_get(t, "kind", &kind, NULL);
		if (kind != GST_WEBRTC_KIND_VIDEO)
			g_object_set(t, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE,
			             NULL);
	}
	if (all != NULL)
		g_array_unref(all);
	viewer_ice_watch(v);
	g_signal_emit_by_name(v->webrtc, "create-answer", NULL, promise_for(EV_ANSWER, v->id));
}

static void on_answer(struct viewer *v, GstPromise *promise)
{
	const GstStructure *r = gst_promise_get_reply(promise);
	GstWebRTCSessionDescription *answer = NULL;
	GError *gerr = NULL;

	g_debug("viewer %s: answer created at %.1f ms", v->sid, elapsed_ms(v));
	if (r != NULL)
		gst_structure_get(r, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer,
		                  "error", G_TYPE_ERROR, &gerr, NULL);
	if (answer == NULL) {
		viewer_send_error(
		    v->client_id, 406, "no-answer",
		    gerr != NULL ? gerr->message : "webrtcbin could not answer this offer", 0);
		v->client_id = 0;
		g_clear_error(&gerr);
		viewer_remove(v, "no-answer");
		return;
	}
	sdp_answer_passive(answer->sdp);
	g_signal_emit_by_name(v->webrtc, "set-local-description", answer, NULL);
	gst_webrtc_session_description_free(answer);
}

/*
 * Main thread: add the SSRC and candidate lines to `text` (taken) and send
 * the 201. False when the client has gone and the viewer was removed.
 */
static bool reply_answer(struct viewer *v, char *text)
{
	GPtrArray *cands;
	char *full;
	bool delivered;
	json_object *o;

	full = sdp_add_video_ssrc(text, v->ssrc, "whepcam");
	g_free(text);
	text = full;
	cands = sdp_public_candidates(v->candidates, V.cfg->public_address);
	full = sdp_splice_candidates(text, cands);
	g_ptr_array_unref(cands);
	g_free(text);
	v->etag = sdp_etag(full);

	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_int(201));
	json_object_object_add(o, "session", json_object_new_string(v->id));
	json_object_object_add(o, "sdp", json_object_new_string(full));
	json_object_object_add(o, "etag", json_object_new_string(v->etag));
	json_object_object_add(o, "links",
	                       ice_servers_links(V.cfg, g_get_real_time() / G_USEC_PER_SEC));
	delivered = V.reply(v->client_id, proto_line(o));
	json_object_put(o);
	v->client_id = 0;
	v->answer_sent = true;
	if (!delivered) {
		/* Nobody has the session id, so nobody could ever delete it. */
		g_free(full);
		viewer_remove(v, "client-gone");
		return false;
	}
	g_info("viewer %s: answered in %.1f ms", v->sid, elapsed_ms(v));
	g_debug("viewer %s: answer:\n%s", v->sid, full);
	g_free(full);
	return true;
}

/* Main thread: gathering finished (or its timeout): send the complete answer. */
static void send_answer(struct viewer *v)
{
	GstWebRTCSessionDescription *local = NULL;
	GstPad *qsink;

	if (v->answer_sent)
		return;
	g_object_get(v->webrtc, "local-description", &local, NULL);
	if (local == NULL)
		return; /* not set yet: the gathering event comes back once it is */
	if (v->gather_timer != 0) {
		g_source_remove(v->gather_timer);
		v->gather_timer = 0;
	}
	if (!reply_answer(v, gst_sdp_message_as_text(local->sdp))) {
		gst_webrtc_session_description_free(local);
		return;
	}
	gst_webrtc_session_description_free(local);
	/* Media flows into the branch now; the gate holds it until the peer is connected. */
	v->tee_pad = gst_element_request_pad_simple(v->stream->tee, "src_%u");
	qsink = gst_element_get_static_pad(v->bin, "sink");
	gst_pad_link(v->tee_pad, qsink);
	gst_object_unref(qsink);
}

static gboolean gather_timeout_cb(gpointer data)
{
	struct viewer *v = data;

	v->gather_timer = 0;
	g_info("viewer %s: gathering not complete after %d ms; answering with %u candidates",
	       v->sid, V.cfg->gather_timeout_ms, v->candidates->len);
	send_answer(v);
	if (!v->answer_sent) {
		viewer_send_error(v->client_id, 504, "answer-timeout",
		                  "no answer within the time limit", 0);
		v->client_id = 0;
		viewer_remove(v, "answer-timeout");
	}
	return G_SOURCE_REMOVE;
}

static void on_connection(struct viewer *v, GstWebRTCPeerConnectionState st)
{
	switch (st) {
	case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
		if (v->connected)
			return;
		v->connected = true;
		if (v->ice_timer != 0) {
			g_source_remove(v->ice_timer);
			v->ice_timer = 0;
		}
		g_message("viewer %s: connected after %.1f ms", v->sid, elapsed_ms(v));
		/* A keyframe sent before DTLS is up is lost: ask for it now. */
		g_atomic_int_set(&v->branch->gate, GATE_WAIT_KEYFRAME);
		stream_request_keyframe(v->stream, KEYFRAME_FOR_JOIN);
		break;
	case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
		viewer_remove(v, "connection-failed");
		break;
	case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
		viewer_remove(v, "connection-closed");
		break;
	default:
		break;
	}
}

static gboolean event_dispatch(gpointer p)
{
	struct event *ev = p;
	struct viewer *v = g_hash_table_lookup(V.table, ev->id);

	if (v == NULL)
		return G_SOURCE_REMOVE; /* reaped meanwhile */
	switch (ev->kind) {
	case EV_REMOTE_SET:
		on_remote_set(v, ev->promise);
		break;
	case EV_ANSWER:
		on_answer(v, ev->promise);
		break;
	case EV_CANDIDATE:
		if (v->candidates->len < 64)
			g_ptr_array_add(v->candidates, g_strdup(ev->candidate));
		break;
	case EV_GATHERED:
		g_debug("viewer %s: gathering complete at %.1f ms", v->sid, elapsed_ms(v));
		send_answer(v);
		break;
	case EV_CONNECTION:
		on_connection(v, (GstWebRTCPeerConnectionState)ev->value);
		break;
	case EV_ICE:
		viewer_ice_state(v, (GstWebRTCICEConnectionState)ev->value);
		break;
	}
	return G_SOURCE_REMOVE;
}

/* ---- the table ---- */

void viewer_init(GMainContext *ctx, const struct daemon_config *cfg, viewer_reply_fn reply)
{
	V.ctx = ctx;
	V.cfg = cfg;
	V.reply = reply;
	V.table = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, viewer_destroy);
	reaper_init();
	V.silence_sweep = g_timeout_add_seconds(SILENCE_SWEEP_S, viewer_ice_sweep_cb, V.table);
}

void viewer_shutdown(void)
{
	if (V.silence_sweep != 0)
		g_source_remove(V.silence_sweep);
	V.silence_sweep = 0;
	if (V.table != NULL) {
		g_hash_table_destroy(V.table);
		V.table = NULL;
	}
	reaper_shutdown();
}

int viewer_delete(struct stream *s, const char *session)
{
	struct viewer *v = g_hash_table_lookup(V.table, session);

	if (v == NULL || v->stream != s)
		return 404;
	viewer_remove(v, "delete");
	return 200;
}

unsigned viewer_count(void)
{
	return V.table != NULL ? g_hash_table_size(V.table) : 0;
}

struct reap {
	struct stream *stream;
	const char *reason;
};

static gboolean on_stream_of(gpointer key, gpointer value, gpointer data)
{
	struct viewer *v = value;
	struct reap *r = data;

	if (v->stream != r->stream)
		return FALSE;
	g_message("viewer %s: leave (%s)", v->sid, r->reason);
	viewer_count_end(v, r->reason);
	return TRUE;
}

void viewer_reap_stream(struct stream *s, const char *reason)
{
	struct reap r = {s, reason};

	if (V.table != NULL)
		g_hash_table_foreach_remove(V.table, on_stream_of, &r);
}
