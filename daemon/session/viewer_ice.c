/*
 * viewer_ice.c - a viewer's ICE side: the agent's settings, noticing when a
 * peer falls silent, ICE state changes, and trickled candidates from WHEP
 * PATCH (RFC 8840). Runs on the main loop unless a comment says otherwise.
 */
#define G_LOG_DOMAIN "viewer"
#include <nice/agent.h>
#include <string.h>

#include "viewer.h"

void viewer_ice_configure(struct viewer *v)
{
	GObject *ice = NULL, *agent = NULL;
	char *turn;
	guint i;

	g_object_get(v->webrtc, "ice-agent", &ice, NULL);
	if (ice == NULL)
		return;
	turn = ice_servers_turn_uri(viewer_config(), g_get_real_time() / G_USEC_PER_SEC);
	if (turn != NULL) {
		g_object_set(v->webrtc, "turn-server", turn, NULL);
		g_free(turn);
	}
	/* UDP only unless configured: fewer candidates, and most players never use TCP. */
	g_object_set(ice, "ice-tcp", viewer_config()->ice_tcp, NULL);
	if (viewer_config()->min_port > 0)
		g_object_set(ice, "min-rtp-port", (guint)viewer_config()->min_port, "max-rtp-port",
		             (guint)viewer_config()->max_port, NULL);
	g_object_get(ice, "agent", &agent, NULL);
	if (agent != NULL) {
		/*
		 * UPnP adds ~200 ms and threads to every answer (WEBRTCBIN.md).
		 * Keepalives that need an answer make a vanished viewer's ICE
		 * fail, so it is reaped (consent freshness is construct-only).
		 */
		g_object_set(agent, "upnp", FALSE, "keepalive-conncheck", TRUE, NULL);
		for (i = 0; viewer_config()->ice_addresses != NULL &&
		            viewer_config()->ice_addresses[i] != NULL;
		     i++) {
			NiceAddress addr;

			if (nice_address_set_from_string(&addr, viewer_config()->ice_addresses[i]))
				nice_agent_add_local_address(NICE_AGENT(agent), &addr);
		}
		g_object_unref(agent);
	}
	g_object_unref(ice);
}

/* Streaming thread (nicesrc): the peer is alive; any STUN, DTLS or RTCP counts. */
static GstPadProbeReturn rx_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	g_atomic_int_set((gint *)data, (gint)(g_get_monotonic_time() / G_USEC_PER_SEC));
	return GST_PAD_PROBE_OK;
}

/* Main thread, once the transport exists: watch what the peer sends us. */
void viewer_ice_watch(struct viewer *v)
{
	GstIterator *it = gst_bin_iterate_recurse(GST_BIN(v->webrtc));
	GValue item = G_VALUE_INIT;

	while (v->last_rx_s == NULL && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
		GstElement *e = g_value_get_object(&item);
		GstElementFactory *f = gst_element_get_factory(e);

		if (f != NULL && strcmp(GST_OBJECT_NAME(f), "nicesrc") == 0) {
			GstPad *pad = gst_element_get_static_pad(e, "src");

			v->last_rx_s = g_new(gint, 1);
			*v->last_rx_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);
			gst_pad_add_probe(
			    pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
			    rx_probe, v->last_rx_s, g_free);
			gst_object_unref(pad);
		}
		g_value_reset(&item);
	}
	g_value_unset(&item);
	gst_iterator_free(it);
}

static gboolean is_silent(gpointer key, gpointer value, gpointer now_s)
{
	struct viewer *v = value;

	if (!v->connected || v->last_rx_s == NULL ||
	    GPOINTER_TO_INT(now_s) - g_atomic_int_get(v->last_rx_s) <= WHEPCAM_PEER_SILENCE_S)
		return FALSE;
	g_message("viewer %s: leave (peer-silent: nothing for %d s) after %.1f s", v->sid,
	          WHEPCAM_PEER_SILENCE_S, (double)(g_get_monotonic_time() - v->created_us) / 1e6);
	viewer_count_end(v, "peer-silent");
	return TRUE;
}

/* Main thread: a viewer that sends nothing (no consent checks, no RTCP) is gone. */
gboolean viewer_ice_sweep_cb(gpointer table)
{
	gint now_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);

	g_hash_table_foreach_remove(table, is_silent, GINT_TO_POINTER(now_s));
	return G_SOURCE_CONTINUE;
}

static gboolean disconnect_timeout_cb(gpointer data)
{
	struct viewer *v = data;

	v->disconnect_timer = 0;
	viewer_remove(v, "ice-disconnected");
	return G_SOURCE_REMOVE;
}

void viewer_ice_state(struct viewer *v, GstWebRTCICEConnectionState st)
{
	switch (st) {
	case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
		viewer_remove(v, "ice-failed");
		break;
	case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
		viewer_remove(v, "ice-closed");
		break;
	case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
		if (v->disconnect_timer == 0)
			v->disconnect_timer =
			    g_timeout_add_seconds(DISCONNECT_GRACE_S, disconnect_timeout_cb, v);
		break;
	case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
	case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
		if (v->disconnect_timer != 0) {
			g_source_remove(v->disconnect_timer);
			v->disconnect_timer = 0;
		}
		break;
	default:
		break;
	}
}

/* The m-line index a trickled candidate belongs to: by its mid, else the first (BUNDLE). */
static guint mline_of(const struct viewer *v, const char *mid)
{
	guint i;

	for (i = 0; mid != NULL && v->mids != NULL && i < v->mids->len; i++)
		if (strcmp(g_ptr_array_index(v->mids, i), mid) == 0)
			return i;
	return 0;
}

int viewer_patch(struct stream *s, const char *session, const char *frag, const char *if_match,
                 char *detail, size_t detail_len)
{
	struct viewer *v = viewer_lookup(session);
	struct sdpfrag f;
	guint i;

	if (v == NULL || v->stream != s) {
		g_snprintf(detail, detail_len, "no session %.32s on stream %s", session,
		           s->cfg->name);
		return 404;
	}
	/* draft-ietf-wish-whep §4.3: If-Match is the session's ETag, or "*". */
	if (if_match != NULL && strcmp(if_match, "*") != 0 &&
	    (v->etag == NULL || strcmp(if_match, v->etag) != 0)) {
		g_snprintf(detail, detail_len, "If-Match %.40s is not this session's ETag",
		           if_match);
		return 412;
	}
	if (sdpfrag_parse(frag, &f, detail, detail_len) != 0)
		return 400;
	if (f.ufrag != NULL && g_strcmp0(f.ufrag, v->remote_ufrag) != 0) {
		/* webrtcbin 1.22 restarts ICE only through a new offer/answer round. */
		sdpfrag_clear(&f);
		g_snprintf(
		    detail, detail_len,
		    "ICE restart is not supported; the session is unchanged (start a new one "
		    "to reconnect)");
		return 422;
	}
	for (i = 0; i < f.candidates->len; i++) {
		struct sdpfrag_candidate *c = g_ptr_array_index(f.candidates, i);

		/* ICE-lite (direct path) learns the peer's address from its checks instead. */
		if (v->webrtc != NULL)
			g_signal_emit_by_name(v->webrtc, "add-ice-candidate", mline_of(v, c->mid),
			                      c->line);
	}
	g_info("viewer %s: %u trickled candidate(s)%s", v->sid, f.candidates->len,
	       f.end_of_candidates ? ", end of candidates" : "");
	sdpfrag_clear(&f);
	return 204;
}
