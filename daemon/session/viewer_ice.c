/*
 * viewer_ice.c - a viewer's ICE side as the session layer sees it:
 * trickled candidates and ICE restarts from WHEP PATCH (RFC 8840), and
 * noticing when a peer falls silent. What ICE does with a candidate is the
 * media path's (session_ops add_candidate). Main loop.
 */
#define G_LOG_DOMAIN "viewer"
#include <string.h>

#include "viewer_priv.h"
#include "wire/sdp.h"
#include "wire/sdpfrag.h"

static gboolean is_silent(gpointer key, gpointer value, gpointer now_s)
{
	struct viewer *v = value;
	int last;

	if (!v->connected)
		return FALSE;
	last = viewer_ops()->last_rx_s(v->path);
	if (last < 0 || GPOINTER_TO_INT(now_s) - last <= WHEPCAM_PEER_SILENCE_S)
		return FALSE;
	g_message("viewer %s: leave (peer-silent: nothing for %d s) after %.1f s", v->sid,
	          WHEPCAM_PEER_SILENCE_S, (double)(g_get_monotonic_time() - v->created_us) / 1e6);
	viewer_retire(v, "peer-silent");
	return TRUE;
}

/* Main thread: a viewer that proves nothing (no consent answers, no RTCP: last_rx_s) is gone. */
gboolean viewer_ice_sweep_cb(gpointer table)
{
	gint now_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);

	g_hash_table_foreach_remove(table, is_silent, GINT_TO_POINTER(now_s));
	return G_SOURCE_CONTINUE;
}

/*
 * An ICE restart (WHEP §4.3, RFC 8840): the media path takes the viewer's
 * new credentials and gives ours; the session gets a new ETag, and the
 * fragment with our new credentials goes back in a 200.
 */
static int restart_ice(struct viewer *v, const struct sdpfrag *f, struct patch_reply *out,
                       char *detail, size_t detail_len)
{
	struct session_error err = {0};
	char *frag;

	if (viewer_ops()->restart_ice == NULL) {
		/* webrtcbin 1.22 restarts ICE only through a new offer/answer round. */
		g_snprintf(
		    detail, detail_len,
		    "ICE restart is not supported in ICE mode full; the session is unchanged "
		    "(start a new one to reconnect)");
		return 422;
	}
	frag = viewer_ops()->restart_ice(v->path, v->bundle_mid, f->ufrag, f->pwd, &err);
	if (frag == NULL) {
		g_strlcpy(detail, err.detail, detail_len);
		return err.status;
	}
	g_free(v->remote_ufrag);
	v->remote_ufrag = g_strdup(f->ufrag);
	g_free(v->etag);
	v->etag = sdp_etag(frag);
	out->frag = frag;
	out->etag = v->etag;
	g_message("viewer %s: ICE restart", v->sid);
	return 200;
}

int viewer_patch(struct stream *s, const char *session, const char *frag, const char *if_match,
                 struct patch_reply *out, char *detail, size_t detail_len)
{
	struct viewer *v = viewer_lookup(session);
	struct sdpfrag f;
	guint i;
	int status;

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
		status = restart_ice(v, &f, out, detail, detail_len);
		sdpfrag_clear(&f);
		return status;
	}
	for (i = 0; i < f.candidates->len; i++) {
		struct sdpfrag_candidate *c = g_ptr_array_index(f.candidates, i);

		/* ICE-lite (the direct path) learns the peer's address from its checks instead. */
		if (viewer_ops()->add_candidate != NULL && v->path != NULL)
			viewer_ops()->add_candidate(v->path, c->mid, c->line);
	}
	g_info("viewer %s: %u trickled candidate(s)%s", v->sid, f.candidates->len,
	       f.end_of_candidates ? ", end of candidates" : "");
	sdpfrag_clear(&f);
	return 204;
}
