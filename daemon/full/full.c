/*
 * full.c - mode full's struct session_ops: a viewer's webrtcbin from the
 * offer to a complete answer (after gathering) and on to its ICE and
 * connection states. Every webrtcbin callback carries a copy of the session
 * id and hops to the main loop, which looks the viewer up in this path's
 * table, so a callback that races a stop() finds nothing instead of freed
 * memory. The session layer owns viewers; this table only borrows them.
 */
#define G_LOG_DOMAIN "viewer"
#include <gst/sdp/sdp.h>
#include <string.h>

#include "full.h"
#include "full_viewer.h"
#include "wire/sdp.h"

#define DISCONNECT_GRACE_S 5  /* ICE "disconnected" this long ends the session */
#define MAX_CANDIDATES     64 /* gathered candidates kept for the answer */

enum event_kind { EV_REMOTE_SET, EV_ANSWER, EV_CANDIDATE, EV_GATHERED, EV_ICE };

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
	const struct session_host *host;
	GHashTable *viewers; /* id -> struct full_viewer, from start() to stop() */
} F;

static double elapsed_ms(const struct full_viewer *fv)
{
	return (double)(g_get_monotonic_time() - fv->created_us) / 1000.0;
}

/* ---- hopping from webrtcbin's threads to the main loop ---- */

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
	g_main_context_invoke_full(F.ctx, G_PRIORITY_DEFAULT, event_dispatch, ev, event_free);
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

/*
 * Main thread: emit webrtcbin's `signal` (arg, promise); the reply comes back
 * to the main loop as a `kind` event for viewer `id`. webrtcbin holds its own
 * reference to the promise until it replies, so ours is dropped here.
 */
static void emit_with_promise(GstElement *webrtc, const char *signal, gpointer arg,
                              enum event_kind kind, const char *id)
{
	GstPromise *promise =
	    gst_promise_new_with_change_func(promise_done_cb, event_new(kind, id), NULL);

	g_signal_emit_by_name(webrtc, signal, arg, promise);
	gst_promise_unref(promise);
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

/* webrtcbin thread: the session layer hops it to the main loop. */
static void on_connection_state_cb(GstElement *webrtc, GParamSpec *pspec, gpointer id)
{
	GstWebRTCPeerConnectionState st;

	g_object_get(webrtc, "connection-state", &st, NULL);
	if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
		F.host->link(id, SESSION_LINK_CONNECTED);
	else if (st == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
		F.host->link(id, SESSION_LINK_FAILED);
	else if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
		F.host->link(id, SESSION_LINK_CLOSED);
}

/* webrtcbin thread. */
static void on_ice_state_cb(GstElement *webrtc, GParamSpec *pspec, gpointer id)
{
	struct event *ev = event_new(EV_ICE, id);
	GstWebRTCICEConnectionState st;

	g_object_get(webrtc, "ice-connection-state", &st, NULL);
	ev->value = (int)st;
	event_post(ev);
	/* A check answered both ways: the viewer is really there. */
	if (st == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED ||
	    st == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
		F.host->link(id, SESSION_LINK_CHECKED);
}

static void free_id_closure(gpointer id, GClosure *closure)
{
	g_free(id);
}

void full_connect_signals(struct full_viewer *fv)
{
	fv->signals[0] =
	    g_signal_connect_data(fv->webrtc, "on-ice-candidate", G_CALLBACK(on_ice_candidate_cb),
	                          g_strdup(fv->id), free_id_closure, 0);
	fv->signals[1] = g_signal_connect_data(fv->webrtc, "notify::ice-gathering-state",
	                                       G_CALLBACK(on_gathering_state_cb), g_strdup(fv->id),
	                                       free_id_closure, 0);
	fv->signals[2] = g_signal_connect_data(fv->webrtc, "notify::connection-state",
	                                       G_CALLBACK(on_connection_state_cb), g_strdup(fv->id),
	                                       free_id_closure, 0);
	fv->signals[3] = g_signal_connect_data(fv->webrtc, "notify::ice-connection-state",
	                                       G_CALLBACK(on_ice_state_cb), g_strdup(fv->id),
	                                       free_id_closure, 0);
}

/* ---- the offer, the answer ---- */

/* Main thread: the offer is in; add our video sender and ask for the answer. */
static void on_remote_set(struct full_viewer *fv, GstPromise *promise)
{
	const GstStructure *r = gst_promise_get_reply(promise);
	GstPadTemplate *templ;
	GstWebRTCRTPTransceiver *trans = NULL, *sound = NULL;
	GError *gerr = NULL;
	GArray *all = NULL;
	GstCaps *caps;
	GstPad *sink, *src;
	guint i;

	g_debug("viewer %s: remote description set at %.1f ms", fv->sid, elapsed_ms(fv));
	if (r != NULL && gst_structure_get(r, "error", G_TYPE_ERROR, &gerr, NULL)) {
		F.host->failed(fv->id, 400, "bad-offer", gerr->message, "offer-rejected");
		g_error_free(gerr);
		return;
	}
	if (fv->video == NULL) /* sound only */
		goto others;
	caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video",
	                           "encoding-name", G_TYPE_STRING, codec_name(fv->codec.codec),
	                           "payload", G_TYPE_INT, fv->pt, "clock-rate", G_TYPE_INT, 90000,
	                           "ssrc", G_TYPE_UINT, fv->ssrc, NULL);
	/* H.264: the offered fmtp of the payload type chosen, so webrtcbin's answer matches it. */
	if (fv->codec.codec == CODEC_H264) {
		gst_caps_set_simple(caps, "packetization-mode", G_TYPE_STRING, "1",
		                    "profile-level-id", G_TYPE_STRING, fv->codec.profile_level_id,
		                    NULL);
		if (fv->codec.level_asymmetry)
			gst_caps_set_simple(caps, "level-asymmetry-allowed", G_TYPE_STRING, "1",
			                    NULL);
	}
	templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(fv->webrtc), "sink_%u");
	sink = gst_element_request_pad(fv->webrtc, templ, NULL, caps);
	gst_caps_unref(caps);
	if (sink == NULL) {
		F.host->failed(fv->id, 500, "internal", "webrtcbin refused a video sender",
		               "no-sender");
		return;
	}
	/* Players that attach event.streams[0] show nothing without an msid. */
	g_object_set(sink, "msid", "whepcam", NULL);
	src = gst_element_get_static_pad(fv->pay, "src");
	gst_pad_link(src, sink);
	gst_object_unref(src);
	g_object_get(sink, "transceiver", &trans, NULL);
	gst_object_unref(sink);
	if (trans != NULL) {
		g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
		             NULL);
		gst_object_unref(trans);
	}
others:
	sound = sound_add_sender(fv);
	if (fv->audio != NULL && sound == NULL) {
		F.host->failed(fv->id, 500, "internal", "webrtcbin refused a sound sender",
		               "no-sender");
		return;
	}
	/* Other m-lines (no sound to send, a second video) have no sender: answer them inactive. */
	g_signal_emit_by_name(fv->webrtc, "get-transceivers", &all);
	for (i = 0; all != NULL && i < all->len; i++) {
		GstWebRTCRTPTransceiver *t = g_array_index(all, GstWebRTCRTPTransceiver *, i);
		GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;

		g_object_get(t, "kind", &kind, NULL);
		if (t != sound && (kind != GST_WEBRTC_KIND_VIDEO || fv->video == NULL))
			g_object_set(t, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE,
			             NULL);
	}
	if (all != NULL)
		g_array_unref(all);
	if (sound != NULL)
		gst_object_unref(sound);
	bin_watch_peer(fv);
	emit_with_promise(fv->webrtc, "create-answer", NULL, EV_ANSWER, fv->id);
}

static void on_answer(struct full_viewer *fv, GstPromise *promise)
{
	const GstStructure *r = gst_promise_get_reply(promise);
	GstWebRTCSessionDescription *answer = NULL;
	GError *gerr = NULL;

	g_debug("viewer %s: answer created at %.1f ms", fv->sid, elapsed_ms(fv));
	if (r != NULL)
		gst_structure_get(r, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer,
		                  "error", G_TYPE_ERROR, &gerr, NULL);
	if (answer == NULL) {
		F.host->failed(fv->id, 406, "no-answer",
		               gerr != NULL ? gerr->message
		                            : "webrtcbin could not answer this offer",
		               "no-answer");
		g_clear_error(&gerr);
		return;
	}
	sdp_answer_passive(answer->sdp);
	if (fv->codec.fmtp[0] != '\0')
		sdp_answer_set_fmtp(answer->sdp, fv->pt, fv->codec.fmtp);
	g_signal_emit_by_name(fv->webrtc, "set-local-description", answer, NULL);
	gst_webrtc_session_description_free(answer);
}

enum sent { NOT_READY, SENT, GONE };

/*
 * Main thread: gathering finished (or its timeout): send the complete
 * answer. GONE: the client had gone, the viewer is stopped and fv freed.
 */
static enum sent send_answer(struct full_viewer *fv)
{
	GstWebRTCSessionDescription *local = NULL;
	struct session_answer answer;
	GstPad *qsink;

	if (fv->answer_sent)
		return SENT;
	g_object_get(fv->webrtc, "local-description", &local, NULL);
	if (local == NULL)
		return NOT_READY; /* not set yet: the gathering event comes back once it is */
	if (fv->gather_timer != 0) {
		g_source_remove(fv->gather_timer);
		fv->gather_timer = 0;
	}
	answer = (struct session_answer){.sdp = gst_sdp_message_as_text(local->sdp),
	                                 .ssrc = fv->video != NULL ? fv->ssrc : 0,
	                                 .audio_ssrc = fv->audio != NULL ? fv->audio_ssrc : 0,
	                                 .candidates = fv->candidates};
	gst_webrtc_session_description_free(local);
	fv->answer_sent = true;
	if (!F.host->answered(fv->id, &answer))
		return GONE;
	/* Media flows into the branch now; the gate holds it until the peer is connected. */
	sound_start(fv);
	if (fv->video == NULL)
		return SENT;
	fv->tee_pad = gst_element_request_pad_simple(track_tee(fv->video), "src_%u");
	qsink = gst_element_get_static_pad(fv->bin, "sink");
	gst_pad_link(fv->tee_pad, qsink);
	gst_object_unref(qsink);
	return SENT;
}

static gboolean gather_timeout_cb(gpointer data)
{
	struct full_viewer *fv = data;

	fv->gather_timer = 0;
	g_info("viewer %s: gathering not complete after %d ms; answering with %u candidates",
	       fv->sid, F.cfg->gather_timeout_ms, fv->candidates->len);
	if (send_answer(fv) == NOT_READY)
		F.host->failed(fv->id, 504, "answer-timeout", "no answer within the time limit",
		               "answer-timeout");
	return G_SOURCE_REMOVE;
}

/* ---- ICE ---- */

static gboolean disconnect_timeout_cb(gpointer data)
{
	struct full_viewer *fv = data;

	fv->disconnect_timer = 0;
	F.host->end(fv->id, "ice-disconnected");
	return G_SOURCE_REMOVE;
}

static void on_ice_state(struct full_viewer *fv, GstWebRTCICEConnectionState st)
{
	switch (st) {
	case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
		F.host->end(fv->id, "ice-failed");
		break;
	case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
		F.host->end(fv->id, "ice-closed");
		break;
	case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
		if (fv->disconnect_timer == 0)
			fv->disconnect_timer =
			    g_timeout_add_seconds(DISCONNECT_GRACE_S, disconnect_timeout_cb, fv);
		break;
	case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
	case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
		if (fv->disconnect_timer != 0) {
			g_source_remove(fv->disconnect_timer);
			fv->disconnect_timer = 0;
		}
		break;
	default:
		break;
	}
}

static gboolean event_dispatch(gpointer p)
{
	struct event *ev = p;
	struct full_viewer *fv = F.viewers != NULL ? g_hash_table_lookup(F.viewers, ev->id) : NULL;

	if (fv == NULL)
		return G_SOURCE_REMOVE; /* stopped meanwhile */
	switch (ev->kind) {
	case EV_REMOTE_SET:
		on_remote_set(fv, ev->promise);
		break;
	case EV_ANSWER:
		on_answer(fv, ev->promise);
		break;
	case EV_CANDIDATE:
		if (fv->candidates->len < MAX_CANDIDATES)
			g_ptr_array_add(fv->candidates, g_strdup(ev->candidate));
		break;
	case EV_GATHERED:
		g_debug("viewer %s: gathering complete at %.1f ms", fv->sid, elapsed_ms(fv));
		send_answer(fv);
		break;
	case EV_ICE:
		on_ice_state(fv, (GstWebRTCICEConnectionState)ev->value);
		break;
	}
	return G_SOURCE_REMOVE;
}

/* ---- struct session_ops ---- */

/* The offer's a=mid values by m-line index: where a trickled candidate goes. */
static GPtrArray *offer_mids(const GstSDPMessage *msg)
{
	GPtrArray *mids = g_ptr_array_new_with_free_func(g_free);
	guint i;

	for (i = 0; i < gst_sdp_message_medias_len(msg); i++) {
		const char *mid =
		    gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(msg, i), "mid");

		g_ptr_array_add(mids, g_strdup(mid != NULL ? mid : ""));
	}
	return mids;
}

/* Main thread. Safe on a half-built viewer; the reaper owns the elements afterwards. */
static void full_stop(void *path)
{
	struct full_viewer *fv = path;
	size_t i;

	if (fv->gather_timer != 0)
		g_source_remove(fv->gather_timer);
	if (fv->disconnect_timer != 0)
		g_source_remove(fv->disconnect_timer);
	for (i = 0; i < MAX_SIGNALS; i++)
		if (fv->signals[i] != 0)
			g_signal_handler_disconnect(fv->webrtc, fv->signals[i]);
	g_hash_table_remove(F.viewers, fv->id);
	reaper_release_two(fv->stream->pipeline, fv->video != NULL ? track_tee(fv->video) : NULL,
	                   fv->tee_pad, fv->audio != NULL ? track_tee(fv->audio) : NULL,
	                   fv->audio_tee_pad, fv->bin, fv->sid);
	g_ptr_array_unref(fv->candidates);
	if (fv->mids != NULL)
		g_ptr_array_unref(fv->mids);
	g_free(fv);
}

static enum session_start full_start(const struct session_offer *o, void **path,
                                     struct session_answer *answer, struct session_error *err)
{
	struct full_viewer *fv = g_new0(struct full_viewer, 1);
	GstWebRTCSessionDescription *desc;
	GstSDPMessage *copy = NULL;

	g_strlcpy(fv->id, o->id, sizeof(fv->id));
	g_strlcpy(fv->sid, o->sid, sizeof(fv->sid));
	fv->stream = o->stream;
	fv->video = o->video;
	fv->audio = o->audio;
	fv->audio_pt = o->audio_pt;
	fv->audio_ssrc = g_random_int();
	fv->pt = o->pt;
	fv->codec = *o->codec;
	fv->ssrc = g_random_int();
	fv->created_us = o->created_us;
	fv->candidates = g_ptr_array_new_with_free_func(g_free);
	if (bin_build(fv, o->branch, F.cfg) != 0) {
		*err = (struct session_error){.status = 500, .error = "internal"};
		g_strlcpy(err->detail, "cannot build the viewer's elements", sizeof(err->detail));
		full_stop(fv);
		return SESSION_START_FAILED;
	}
	g_debug("viewer %s: elements built at %.1f ms; offer:\n%s", fv->sid, elapsed_ms(fv),
	        o->text);
	fv->gather_timer = g_timeout_add((guint)F.cfg->gather_timeout_ms, gather_timeout_cb, fv);
	fv->mids = offer_mids(o->sdp);
	g_hash_table_insert(F.viewers, fv->id, fv);
	*path = fv;

	gst_sdp_message_copy(o->sdp, &copy);
	if (sdp_unify_bundle_credentials(copy) > 0)
		g_debug(
		    "viewer %s: the offer's bundled m-lines take the tagged one's ICE credentials",
		    fv->sid);
	desc = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, copy);
	emit_with_promise(fv->webrtc, "set-remote-description", desc, EV_REMOTE_SET, fv->id);
	gst_webrtc_session_description_free(desc);
	return SESSION_START_PENDING;
}

/* The m-line index a trickled candidate belongs to: by its mid, else the first (BUNDLE). */
static guint mline_of(const struct full_viewer *fv, const char *mid)
{
	guint i;

	for (i = 0; mid != NULL && fv->mids != NULL && i < fv->mids->len; i++)
		if (strcmp(g_ptr_array_index(fv->mids, i), mid) == 0)
			return i;
	return 0;
}

static void full_add_candidate(void *path, const char *mid, const char *line)
{
	struct full_viewer *fv = path;

	g_signal_emit_by_name(fv->webrtc, "add-ice-candidate", mline_of(fv, mid), line);
}

static int full_last_rx_s(void *path)
{
	struct full_viewer *fv = path;

	return fv->last_rx_s != NULL ? g_atomic_int_get(fv->last_rx_s) : -1;
}

const struct session_ops full_session_ops = {
    .join_note = "",
    .start = full_start,
    .add_candidate = full_add_candidate,
    .last_rx_s = full_last_rx_s,
    .stop = full_stop,
};

int full_track_added(struct stream *s, struct track *t, char **err)
{
	track_keep_gop(t);
	return 0;
}

void full_init(GMainContext *ctx, const struct daemon_config *cfg, const struct session_host *host)
{
	F.ctx = ctx;
	F.cfg = cfg;
	F.host = host;
	F.viewers = g_hash_table_new(g_str_hash, g_str_equal);
	reaper_init();
	/* The start-up line about the media path, in the domain it has always had. */
	g_log("direct", G_LOG_LEVEL_MESSAGE, "ICE mode full: a webrtcbin per viewer%s",
	      cfg->turn != NULL || cfg->ice_tcp ? " (TURN or ICE-TCP is configured)" : "");
}

void full_shutdown(void)
{
	reaper_shutdown();
	g_clear_pointer(&F.viewers, g_hash_table_destroy);
}
