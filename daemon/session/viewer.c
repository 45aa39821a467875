/*
 * viewer.c - the table of viewers, the only owner of viewers: an offer
 * checked and turned into a viewer, the answer its media path makes
 * completed (SSRC, every candidate, ETag) and sent, the ICE timeout, and
 * teardown. Media path events carry a copy of the session id and hop to the
 * main loop, which looks the viewer up, so an event that races a teardown
 * finds nothing instead of freed memory.
 */
#define G_LOG_DOMAIN "viewer"
#include <stdlib.h>
#include <string.h>

#include "base/ice_servers.h"
#include "base/trim.h"
#include "base/util.h"
#include "proto.h"
#include "viewer_priv.h"
#include "wire/sdp.h"

/* A media path's link event on its way to the main loop. */
struct link_event {
	char id[WHEPCAM_SESSION_HEX + 1];
	enum session_link st;
};

static struct {
	GMainContext *ctx;
	const struct daemon_config *cfg;
	const struct session_ops *ops;
	const struct session_hooks *hooks;
	GHashTable *table; /* id -> struct viewer, owned */
	guint silence_sweep;
} V;

static void send_error(guint64 client_id, int status, const char *error, const char *detail,
                       int retry_after)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	if (retry_after > 0)
		json_object_object_add(o, "retry_after", json_object_new_int(retry_after));
	V.hooks->reply(client_id, proto_line(o));
	json_object_put(o);
}

struct viewer *viewer_lookup(const char *id)
{
	return V.table != NULL ? g_hash_table_lookup(V.table, id) : NULL;
}

const struct session_ops *viewer_ops(void)
{
	return V.ops;
}

static double elapsed_ms(const struct viewer *v)
{
	return (double)(g_get_monotonic_time() - v->created_us) / 1000.0;
}

/* ---- teardown ---- */

/* Main thread: the table's destroy function. Safe on a half-built viewer. */
static void viewer_destroy(gpointer p)
{
	struct viewer *v = p;

	if (v->client_id != 0)
		send_error(v->client_id, 503, "viewer-reaped",
		           "the session ended before its answer was ready", WHEPCAM_RETRY_AFTER_S);
	if (v->ice_timer != 0)
		g_source_remove(v->ice_timer);
	if (v->first_check_timer != 0)
		g_source_remove(v->first_check_timer);
	admission_leave(v);
	v->stream->viewers--;
	if (v->track != NULL)
		track_release(v->track);
	/* The media path releases its part; nothing of it is touched again. */
	if (v->path != NULL)
		V.ops->stop(v->path);
	branch_unref(v->branch);
	g_free(v->etag);
	g_free(v->remote_ufrag);
	g_free(v->bundle_mid);
	g_free(v->peer);
	g_free(v);
	trim_soon(); /* base/trim.c: the arenas' free pages back once teardowns pause */
}

/* Count a session's end in the metrics, with what it was sent. */
static void viewer_count_end(const struct viewer *v, const char *reason)
{
	V.hooks->ended(reason, __atomic_load_n(&v->branch->packets, __ATOMIC_RELAXED),
	               __atomic_load_n(&v->branch->bytes, __ATOMIC_RELAXED));
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

		*packets += __atomic_load_n(&v->branch->packets, __ATOMIC_RELAXED);
		*bytes += __atomic_load_n(&v->branch->bytes, __ATOMIC_RELAXED);
	}
}

/* The media path lets go first, so no packet is sent after the count (viewer_count_end). */
static void stop_media(struct viewer *v)
{
	if (v->path != NULL)
		V.ops->stop(v->path);
	v->path = NULL;
}

void viewer_retire(struct viewer *v, const char *reason)
{
	stop_media(v);
	viewer_count_end(v, reason);
	/* Only a session that played leaves one: canned offers that never connect leave nothing. */
	if (v->connected && strcmp(reason, "delete") != 0)
		tombstone_add(v->id, v->stream);
}

void viewer_remove(struct viewer *v, const char *reason)
{
	viewer_retire(v, reason);
	g_message("viewer %s: leave (%s) after %.1f s, stream %s", v->sid, reason,
	          (double)(g_get_monotonic_time() - v->created_us) / 1e6, v->stream->cfg->name);
	g_hash_table_remove(V.table, v->id);
}

/* ---- the answer ---- */

static gboolean first_check_cb(gpointer data)
{
	struct viewer *v = data;

	v->first_check_timer = 0;
	if (!v->checked)
		viewer_remove(v, "no-ice-check");
	return G_SOURCE_REMOVE;
}

static gboolean ice_timeout_cb(gpointer data)
{
	struct viewer *v = data;

	v->ice_timer = 0;
	if (!v->connected)
		viewer_remove(v, "ice-timeout");
	return G_SOURCE_REMOVE;
}

/*
 * What a later PATCH is checked against: the ICE ufrag of the offer's
 * transport (the bundle's tagged m-line, else the session's or the first
 * m-line's), and that m-line's mid, under which an ICE restart answers.
 */
static void remember_offer_ice(struct viewer *v, const GstSDPMessage *msg)
{
	const GstSDPMedia *t = sdp_bundle_tagged(msg);
	const char *ufrag = t != NULL ? gst_sdp_media_get_attribute_val(t, "ice-ufrag") : NULL;
	guint i;

	if (ufrag == NULL)
		ufrag = gst_sdp_message_get_attribute_val(msg, "ice-ufrag");
	for (i = 0; ufrag == NULL && i < gst_sdp_message_medias_len(msg); i++)
		ufrag =
		    gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(msg, i), "ice-ufrag");
	if (t == NULL && gst_sdp_message_medias_len(msg) > 0)
		t = gst_sdp_message_get_media(msg, 0);
	v->remote_ufrag = g_strdup(ufrag);
	v->bundle_mid = t != NULL ? g_strdup(gst_sdp_media_get_attribute_val(t, "mid")) : NULL;
}

/*
 * Main thread: add the SSRC and candidate lines to the path's answer (its
 * sdp taken) and send the 201. False when the client has gone and the
 * viewer was removed.
 */
static bool reply_answer(struct viewer *v, struct session_answer *a)
{
	GPtrArray *cands;
	char *text, *full, *line, detail[160];
	bool delivered;
	json_object *o;

	text = sdp_add_ssrcs(a->sdp, a->ssrc, a->audio_ssrc, "whepcam");
	g_free(a->sdp);
	a->sdp = NULL;
	cands = sdp_public_candidates(a->candidates, V.cfg->public_address);
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
	line = proto_line(o);
	json_object_put(o);
	/*
	 * A reply whepcam-fcgi would refuse as too long would leave a session
	 * nobody has the id of, holding a slot: refuse the offer instead. The
	 * m-line cap (sdp_check_offer) keeps answers far below this.
	 */
	if (line != NULL && strlen(line) > WHEPCAM_MAX_MSG_BYTES) {
		g_snprintf(
		    detail, sizeof(detail),
		    "the answer to this offer would be %zu bytes, more than a reply may carry",
		    strlen(line));
		free(line);
		g_free(full);
		send_error(v->client_id, 400, "bad-offer", detail, 0);
		v->client_id = 0;
		viewer_remove(v, "answer-too-large");
		return false;
	}
	delivered = V.hooks->reply(v->client_id, line);
	v->client_id = 0;
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

/* Capacity and stream state; false (and the client told why) when the offer must wait. */
static bool may_join(struct stream *s, const char *peer, guint64 client_id)
{
	char detail[160];
	const char *error;
	int status = admission_check(peer, &error, detail, sizeof(detail));
	unsigned max;

	if (status != 0) {
		send_error(client_id, status, error, detail, WHEPCAM_RETRY_AFTER_S);
		return false;
	}
	if (g_hash_table_size(V.table) >= (guint)V.cfg->max_viewers ||
	    (s->cfg->max_viewers > 0 && s->viewers >= (unsigned)s->cfg->max_viewers)) {
		max = s->cfg->max_viewers > 0 && s->viewers >= (unsigned)s->cfg->max_viewers
		          ? (unsigned)s->cfg->max_viewers
		          : (unsigned)V.cfg->max_viewers;
		g_snprintf(detail, sizeof(detail), "at capacity: %u viewers; try again later", max);
		send_error(client_id, 503, "at-capacity", detail, WHEPCAM_RETRY_AFTER_S);
		return false;
	}
	if (s->state == STREAM_OFFLINE) {
		g_snprintf(detail, sizeof(detail), "stream %s is offline; it is being restarted",
		           s->cfg->name);
		send_error(client_id, 409, "stream-offline", detail, WHEPCAM_RETRY_AFTER_S);
		return false;
	}
	return true;
}

/* Main thread: v (in the table) goes to its media path; the answer now or later. */
static void start_media(struct viewer *v, const GstSDPMessage *msg, const char *sdp,
                        const char *peer, guint64 client_id)
{
	struct session_offer o = {.id = v->id,
	                          .sid = v->sid,
	                          .stream = v->stream,
	                          .video = v->track,
	                          .branch = v->branch,
	                          .pt = v->pt,
	                          .audio = v->codec.audio_pt > 0 ? v->stream->audio : NULL,
	                          .audio_pt = v->codec.audio_pt,
	                          .codec = &v->codec,
	                          .created_us = v->created_us,
	                          .sdp = msg,
	                          .text = sdp};
	struct session_answer answer = {0};
	struct session_error err = {0};
	enum session_start st = V.ops->start(&o, &v->path, &answer, &err);

	if (st == SESSION_START_FAILED) {
		v->path = NULL;
		send_error(client_id, err.status, err.error, err.detail, 0);
		if (err.reason != NULL)
			viewer_remove(v, err.reason);
		else
			g_hash_table_remove(V.table, v->id);
		return;
	}
	v->client_id = client_id;
	g_message("viewer %s: join from %s, stream %s, %s pt %d%s%s%s%s", v->sid,
	          peer != NULL ? peer : "local", v->stream->cfg->name, codec_name(v->codec.codec),
	          v->codec.codec == CODEC_OPUS ? v->codec.audio_pt : v->pt,
	          v->codec.fmtp[0] != '\0' ? " (" : "", v->codec.fmtp,
	          v->codec.fmtp[0] != '\0' ? ")" : "",
	          v->codec.audio_pt > 0 && v->codec.codec != CODEC_OPUS ? ", with sound" : "");
	remember_offer_ice(v, msg);
	v->ice_timer = g_timeout_add_seconds((guint)V.cfg->ice_timeout_s, ice_timeout_cb, v);
	if (!v->checked)
		v->first_check_timer =
		    g_timeout_add_seconds((guint)V.cfg->first_check_timeout_s, first_check_cb, v);
	if (st == SESSION_START_ANSWERED)
		reply_answer(v, &answer);
}

void viewer_offer(struct stream *s, const char *sdp, const char *peer, guint64 client_id)
{
	struct viewer *v = NULL;
	GstSDPMessage *msg = NULL;
	struct codec_sends sends;
	struct codec_pick pick;
	char detail[160];

	stream_codec_sends(s, &sends);
	switch (sdp_check_offer_codecs(sdp, &sends, &pick, detail, sizeof(detail))) {
	case SDP_OK:
		break;
	case SDP_NO_CODEC:
		send_error(client_id, 406, "no-common-codec", detail, 0);
		return;
	case SDP_NOT_YET:
		send_error(client_id, 503, "stream-starting", detail, 1);
		return;
	default:
		send_error(client_id, 400, "bad-offer", detail, 0);
		return;
	}
	if (!may_join(s, peer, client_id))
		return;
	if (gst_sdp_message_new_from_text(sdp, &msg) != GST_SDP_OK) {
		send_error(client_id, 400, "bad-offer", "SDP offer does not parse", 0);
		return;
	}

	v = g_new0(struct viewer, 1);
	if (session_id_new(v->id) != 0) {
		gst_sdp_message_free(msg);
		g_free(v);
		send_error(client_id, 500, "internal", "no random bytes for a session id", 0);
		return;
	}
	memcpy(v->sid, v->id, SHORT_ID_LEN);
	v->stream = s;
	v->codec = pick;
	v->pt = pick.pt;
	if (pick.codec != CODEC_OPUS) { /* else sound only */
		v->track = stream_track(s, pick.codec);
		track_hold(v->track);
	}
	v->created_us = g_get_monotonic_time();
	v->branch = branch_new(v->sid, v->created_us);
	v->peer = g_strdup(peer);
	s->viewers++;
	admission_join(v);
	g_hash_table_insert(V.table, v->id, v);
	start_media(v, msg, sdp, peer, client_id);
	gst_sdp_message_free(msg);
}

/* ---- what the media path tells us (struct session_host) ---- */

static void on_link(struct viewer *v, enum session_link st)
{
	switch (st) {
	case SESSION_LINK_CHECKED:
		admission_checked(v);
		break;
	case SESSION_LINK_CONNECTED:
		if (v->connected)
			return;
		admission_checked(v); /* a path that reports no check of its own */
		v->connected = true;
		if (v->ice_timer != 0) {
			g_source_remove(v->ice_timer);
			v->ice_timer = 0;
		}
		g_message("viewer %s: connected after %.1f ms", v->sid, elapsed_ms(v));
		/*
		 * A keyframe sent before DTLS is up is lost: ask for it now (unless
		 * the path did). Only a closed gate waits: the path may have opened
		 * it already.
		 */
		g_atomic_int_compare_and_exchange(&v->branch->gate, GATE_CLOSED,
		                                  v->track != NULL ? GATE_WAIT_KEYFRAME
		                                                   : GATE_OPEN);
		if (!V.ops->keyframe_at_offer && v->track != NULL)
			track_request_keyframe(v->track, KEYFRAME_FOR_JOIN);
		break;
	case SESSION_LINK_FAILED:
		viewer_remove(v, "connection-failed");
		break;
	case SESSION_LINK_CLOSED:
		viewer_remove(v, "connection-closed");
		break;
	}
}

static gboolean link_dispatch(gpointer p)
{
	struct link_event *ev = p;
	struct viewer *v = viewer_lookup(ev->id);

	if (v != NULL) /* else reaped meanwhile */
		on_link(v, ev->st);
	return G_SOURCE_REMOVE;
}

/* Any thread: hop to the main loop. */
static void host_link(const char *id, enum session_link st)
{
	struct link_event *ev = g_new0(struct link_event, 1);

	g_strlcpy(ev->id, id, sizeof(ev->id));
	ev->st = st;
	g_main_context_invoke_full(V.ctx, G_PRIORITY_DEFAULT, link_dispatch, ev, g_free);
}

static bool host_answered(const char *id, struct session_answer *answer)
{
	struct viewer *v = viewer_lookup(id);

	if (v == NULL) {
		g_free(answer->sdp);
		return false;
	}
	return reply_answer(v, answer);
}

static void host_failed(const char *id, int status, const char *error, const char *detail,
                        const char *reason)
{
	struct viewer *v = viewer_lookup(id);

	if (v == NULL)
		return;
	send_error(v->client_id, status, error, detail, 0);
	v->client_id = 0;
	viewer_remove(v, reason);
}

static void host_end(const char *id, const char *reason)
{
	struct viewer *v = viewer_lookup(id);

	if (v != NULL)
		viewer_remove(v, reason);
}

static const struct session_host host = {
    .link = host_link,
    .answered = host_answered,
    .failed = host_failed,
    .end = host_end,
};

const struct session_host *viewer_host(void)
{
	return &host;
}

/* ---- the table ---- */

void viewer_init(GMainContext *ctx, const struct daemon_config *cfg, const struct session_ops *ops,
                 const struct session_hooks *hooks)
{
	V.ctx = ctx;
	V.cfg = cfg;
	V.ops = ops;
	V.hooks = hooks;
	V.table = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, viewer_destroy);
	admission_init(cfg);
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
	trim_cancel();
	admission_shutdown();
}

int viewer_delete(struct stream *s, const char *session)
{
	struct viewer *v = g_hash_table_lookup(V.table, session);

	if (v != NULL && v->stream == s) {
		viewer_remove(v, "delete");
		return 200;
	}
	if (v == NULL && tombstone_take(s, session)) {
		g_info("viewer %.8s: DELETE after its session ended", session);
		return 200;
	}
	return 404;
}

unsigned viewer_count(void)
{
	return V.table != NULL ? g_hash_table_size(V.table) : 0;
}

void viewer_stream_back(struct stream *s)
{
	GHashTableIter it;
	gpointer value;

	if (V.table == NULL)
		return;
	g_hash_table_iter_init(&it, V.table);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct viewer *v = value;

		if (v->stream != s || !v->connected || v->track == NULL) /* sound: no keyframes */
			continue;
		g_atomic_int_set(&v->branch->gate, GATE_WAIT_KEYFRAME);
		track_request_keyframe(v->track, KEYFRAME_FOR_JOIN);
	}
}
