/*
 * lite.c - the direct media path's life cycle and its struct session_ops:
 * started at start-up when main.c picks ICE mode lite, a peer made per
 * offer (our ICE credentials, DTLS state, the answer) and released when its
 * viewer goes, and a fan-out on every track. The session layer owns
 * viewers; this path owns each viewer's struct lite_viewer and its peer.
 */
#define G_LOG_DOMAIN "direct"
#include <string.h>
#include <sys/random.h>

#include "consent.h"
#include "fanout.h"
#include "lite.h"
#include "peer.h"
#include "udp.h"
#include "wire/answer.h"
#include "wire/dtls.h"
#include "whepcam.h"

/* One viewer on this path: main thread creates and frees it. */
struct lite_viewer {
	char id[WHEPCAM_SESSION_HEX + 1];   /* what the session_host callbacks take */
	struct track *video;                /* where its keyframe requests go; NULL: sound only */
	struct peer *peer;                  /* owned */
	struct fanout *fanout[PEER_TRACKS]; /* its tracks' (PEER_VIDEO, PEER_AUDIO), or NULL */
	struct fanout_member *member[PEER_TRACKS]; /* its place there, owned */
	gint64 last_keyframe_request_us; /* its last PLI/FIR passed on; the receive thread's */
};

static struct {
	bool started;
	const struct session_host *host;
	guint64 answers;     /* o= session ids */
	GHashTable *fanouts; /* struct track * -> struct fanout *, owned */
	guint renew_timer;   /* DTLS certificate renewal */
} D;

/* ---- the peers' events: receive thread, registry lock held (peer.h) ---- */

static void on_peer_state(void *user, enum peer_state st)
{
	static const enum session_link link[] = {
	    [PEER_CHECKED] = SESSION_LINK_CHECKED,
	    [PEER_CONNECTED] = SESSION_LINK_CONNECTED,
	    [PEER_FAILED] = SESSION_LINK_FAILED,
	    [PEER_CLOSED] = SESSION_LINK_CLOSED,
	};
	struct lite_viewer *lv = user;

	D.host->link(lv->id, link[st]);
}

/* One request per KEYFRAME_VIEWER_INTERVAL_MS from each viewer reaches the track. */
static void on_peer_keyframe_request(void *user)
{
	struct lite_viewer *lv = user;
	gint64 now = g_get_monotonic_time();

	if (lv->last_keyframe_request_us != 0 &&
	    now - lv->last_keyframe_request_us < KEYFRAME_VIEWER_INTERVAL_MS * 1000)
		return;
	lv->last_keyframe_request_us = now;
	if (lv->video != NULL)
		track_request_keyframe_any_thread(lv->video, KEYFRAME_FOR_PLI);
}

static const struct peer_events peer_events = {
    .state = on_peer_state,
    .keyframe_request = on_peer_keyframe_request,
};

/* ---- start-up ---- */

/* Main loop: a new DTLS certificate for new viewers before the current one expires. */
static gboolean renew_certificate_cb(gpointer data)
{
	char *err = NULL;

	switch (dtls_renew_if_due(g_get_real_time() / G_USEC_PER_SEC, &err)) {
	case 1:
		g_message("DTLS certificate renewed: %s", dtls_fingerprint());
		break;
	case -1:
		g_warning("cannot renew the DTLS certificate (will retry): %s", err);
		g_free(err);
		break;
	default:
		break;
	}
	return G_SOURCE_CONTINUE;
}

/* The DTLS certificate's lifetime: a year, or WHEPCAM_DTLS_CERT_LIFETIME_S (tests). */
static gint64 certificate_lifetime(void)
{
	const char *env = g_getenv("WHEPCAM_DTLS_CERT_LIFETIME_S");

	return env != NULL ? g_ascii_strtoll(env, NULL, 10) : DTLS_CERT_LIFETIME_S;
}

/*
 * RFC 7675 timing: a check every 5 s, an answer good for 30 s; tests shorten
 * them with WHEPCAM_CONSENT_INTERVAL_MS and WHEPCAM_CONSENT_EXPIRY_S.
 */
static void consent_timing(void)
{
	const char *interval = g_getenv("WHEPCAM_CONSENT_INTERVAL_MS");
	const char *expiry = g_getenv("WHEPCAM_CONSENT_EXPIRY_S");

	consent_set_timing(interval != NULL ? (int)g_ascii_strtoll(interval, NULL, 10)
	                                    : DIRECT_CONSENT_INTERVAL_MS,
	                   expiry != NULL ? (int)g_ascii_strtoll(expiry, NULL, 10)
	                                  : WHEPCAM_PEER_SILENCE_S);
	if (interval != NULL || expiry != NULL)
		g_message("consent checks every %s ms, an answer good for %d s (test settings)",
		          interval != NULL ? interval : "5000", consent_expiry_s());
}

int lite_init(const struct daemon_config *cfg, const struct session_host *host, char **err)
{
	gint64 lifetime = certificate_lifetime();

	D.started = true;
	D.host = host;
	D.fanouts =
	    g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)fanout_free);
	dtls_set_cert_lifetime(lifetime);
	consent_timing();
	if (dtls_init(err) != 0 || udp_start(cfg, err) != 0)
		return -1;
	/* Checked often enough to renew in time for any lifetime, at most hourly. */
	D.renew_timer =
	    g_timeout_add_seconds((guint)CLAMP(lifetime / (2 * DTLS_RENEW_FRACTION), 1, 3600),
	                          renew_certificate_cb, NULL);
	g_message("ICE mode lite: every viewer on the ports above, DTLS %s", dtls_fingerprint());
	if (cfg->stun != NULL)
		g_message("stun %s is given to players; an ICE-lite server does not use it",
		          cfg->stun);
	return 0;
}

void lite_shutdown(void)
{
	if (!D.started)
		return;
	g_clear_handle_id(&D.renew_timer, g_source_remove);
	udp_stop();
	dtls_shutdown();
	g_clear_pointer(&D.fanouts, g_hash_table_destroy);
	D.started = false;
}

int lite_track_added(struct stream *s, struct track *t, char **err)
{
	struct fanout *f = fanout_new(s->pipeline, t, (unsigned)s->cfg->bitrate_kbps, err);

	if (f == NULL)
		return -1;
	g_hash_table_insert(D.fanouts, t, f);
	return 0;
}

void lite_stream_back(struct stream *s)
{
	guint i;

	for (i = 0; i < CODEC_COUNT; i++) {
		struct fanout *f =
		    s->tracks[i] != NULL ? g_hash_table_lookup(D.fanouts, s->tracks[i]) : NULL;

		if (f != NULL)
			fanout_forget_gop(f);
	}
}

void lite_track_removed(struct stream *s, struct track *t)
{
	g_hash_table_remove(D.fanouts, t);
}

int lite_live_peers(void)
{
	return peer_live();
}

void lite_resends(guint64 *packets, guint64 *bytes, guint64 *refused_budget,
                  guint64 *refused_repeat)
{
	struct fanout_resend_totals t;

	fanout_resend_totals(&t);
	*packets = t.packets;
	*bytes = t.bytes;
	*refused_budget = t.refused_budget;
	*refused_repeat = t.refused_repeat;
}

/* ---- struct session_ops ---- */

/* ICE ufrag/pwd characters (RFC 8839 ice-char): 6 random bits each, no bias. */
static int random_ice_chars(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t raw[32];
	size_t i;

	if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = alphabet[raw[i] & 63];
	out[n] = '\0';
	return 0;
}

static const char *offer_fingerprint(const GstSDPMessage *offer)
{
	guint i;

	for (i = 0; i < gst_sdp_message_medias_len(offer); i++) {
		const GstSDPMedia *m = gst_sdp_message_get_media(offer, i);
		const char *fp = gst_sdp_media_get_attribute_val(m, "fingerprint");

		if (fp != NULL && (g_strcmp0(gst_sdp_media_get_media(m), "video") == 0 ||
		                   g_strcmp0(gst_sdp_media_get_media(m), "audio") == 0))
			return fp; /* one DTLS for the bundle: the first m-line's */
	}
	return gst_sdp_message_get_attribute_val(offer, "fingerprint");
}

/* Main thread: the direct path answers at once: no agent to gather, no promise to wait for. */
static enum session_start lite_start(const struct session_offer *o, void **path,
                                     struct session_answer *answer, struct session_error *err)
{
	struct lite_viewer *lv = g_new0(struct lite_viewer, 1);
	char ufrag[DIRECT_UFRAG_LEN + 1], pwd[DIRECT_PWD_LEN + 1];
	const char *fp = offer_fingerprint(o->sdp);
	struct answer_params a;
	char *text;

	g_strlcpy(lv->id, o->id, sizeof(lv->id));
	lv->video = o->video;
	if (o->video != NULL)
		lv->fanout[PEER_VIDEO] = g_hash_table_lookup(D.fanouts, o->video);
	if (o->audio != NULL)
		lv->fanout[PEER_AUDIO] = g_hash_table_lookup(D.fanouts, o->audio);
	*err =
	    (struct session_error){.status = 400, .error = "bad-offer", .reason = "offer-rejected"};
	if (random_ice_chars(ufrag, DIRECT_UFRAG_LEN) != 0 ||
	    random_ice_chars(pwd, DIRECT_PWD_LEN) != 0) {
		err->status = 500;
		err->error = "internal";
		g_snprintf(err->detail, sizeof(err->detail), "no random bytes for ICE credentials");
		goto fail;
	}
	lv->peer = fp != NULL ? peer_new(o->sid, ufrag, pwd, fp, &peer_events, lv) : NULL;
	if (lv->peer == NULL) {
		g_snprintf(err->detail, sizeof(err->detail),
		           "the offer's a=fingerprint is missing or not usable");
		goto fail;
	}
	a = (struct answer_params){.ufrag = ufrag,
	                           .pwd = pwd,
	                           .fingerprint = dtls_fingerprint(),
	                           .pt = o->video != NULL ? o->pt : -1,
	                           .audio_pt = o->audio != NULL ? o->audio_pt : -1,
	                           .encoding = codec_name(o->codec->codec),
	                           .fmtp = o->codec->fmtp,
	                           .session_version = ++D.answers};
	text = answer_build(o->sdp, &a, err->detail, sizeof(err->detail));
	if (text == NULL)
		goto fail;
	/* Our consent checks (RFC 7675) carry the viewer's own credentials. */
	if (peer_set_remote_ice(lv->peer, a.remote_ufrag, a.remote_pwd) != 0) {
		g_free(text);
		g_snprintf(err->detail, sizeof(err->detail),
		           "the offer's a=ice-ufrag or a=ice-pwd is empty or longer than %d "
		           "characters, or its ufrag has a ':' (RFC 8839)",
		           DIRECT_MAX_ICE_CHARS);
		goto fail;
	}

	*answer = (struct session_answer){.sdp = text, .candidates = udp_candidates()};
	if (lv->fanout[PEER_VIDEO] != NULL) {
		lv->member[PEER_VIDEO] =
		    fanout_add(lv->fanout[PEER_VIDEO], o->pt, o->branch, o->sid, true);
		peer_set_media(lv->peer, PEER_VIDEO, lv->fanout[PEER_VIDEO], lv->member[PEER_VIDEO],
		               a.nack);
		answer->ssrc = fanout_ssrc(lv->fanout[PEER_VIDEO]);
	}
	if (lv->fanout[PEER_AUDIO] != NULL) {
		/* Beside a picture, the sound starts with its keyframe; alone, at once. */
		lv->member[PEER_AUDIO] = fanout_add(lv->fanout[PEER_AUDIO], o->audio_pt, o->branch,
		                                    o->sid, o->video == NULL);
		peer_set_media(lv->peer, PEER_AUDIO, lv->fanout[PEER_AUDIO], lv->member[PEER_AUDIO],
		               false);
		answer->audio_ssrc = fanout_ssrc(lv->fanout[PEER_AUDIO]);
	}
	peer_register(lv->peer);
	/*
	 * Its DTLS is up in tens of ms, about as long as the encoder takes for
	 * a keyframe: asked for now, it is out by then, kept by the fan-out
	 * (gop.h), and sent the moment the gate opens.
	 */
	if (lv->video != NULL)
		track_request_keyframe(lv->video, KEYFRAME_FOR_JOIN);
	*path = lv;
	return SESSION_START_ANSWERED;
fail:
	if (lv->peer != NULL)
		peer_free(lv->peer);
	g_free(lv);
	return SESSION_START_FAILED;
}

/* Main thread: out of both threads' reach first; then it is ours alone to close and free. */
static void lite_stop(void *path)
{
	struct lite_viewer *lv = path;

	int i;

	peer_unregister(lv->peer);
	for (i = 0; i < PEER_TRACKS; i++)
		if (lv->member[i] != NULL)
			fanout_remove(lv->fanout[i], lv->member[i]);
	peer_close(lv->peer);
	peer_free(lv->peer);
	g_free(lv);
}

/*
 * Main thread: an ICE restart. New credentials of ours; the viewer's new ones
 * matter only for the checks it sends (ICE-lite sends none of its own).
 */
static char *lite_restart_ice(void *path, const char *mid, const char *remote_ufrag,
                              const char *remote_pwd, struct session_error *err)
{
	struct lite_viewer *lv = path;
	const GPtrArray *cands = udp_candidates();
	char ufrag[DIRECT_UFRAG_LEN + 1], pwd[DIRECT_PWD_LEN + 1];
	GString *frag;
	guint i;

	if (random_ice_chars(ufrag, DIRECT_UFRAG_LEN) != 0 ||
	    random_ice_chars(pwd, DIRECT_PWD_LEN) != 0) {
		*err = (struct session_error){.status = 500, .error = "internal"};
		g_snprintf(err->detail, sizeof(err->detail), "no random bytes for ICE credentials");
		return NULL;
	}
	if (peer_restart_ice(lv->peer, ufrag, pwd, remote_ufrag, remote_pwd) != 0) {
		*err = (struct session_error){.status = 400, .error = "bad-fragment"};
		g_snprintf(
		    err->detail, sizeof(err->detail),
		    "the fragment's a=ice-ufrag/a=ice-pwd are not usable (RFC 8839 sizes, no ':')");
		return NULL;
	}
	/* RFC 8840 §4.1: the credentials, then the bundle's m-line with our candidates. */
	frag = g_string_new(NULL);
	g_string_append_printf(frag, "a=ice-lite\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag,
	                       pwd);
	g_string_append(frag, "m=video 9 UDP/TLS/RTP/SAVPF 0\r\n");
	if (mid != NULL)
		g_string_append_printf(frag, "a=mid:%s\r\n", mid);
	for (i = 0; i < cands->len; i++)
		g_string_append_printf(frag, "a=%s\r\n", (const char *)g_ptr_array_index(cands, i));
	g_string_append(frag, "a=end-of-candidates\r\n");
	return g_string_free(frag, FALSE);
}

static int lite_last_rx_s(void *path)
{
	struct lite_viewer *lv = path;

	return peer_last_rx_s(lv->peer);
}

const struct session_ops lite_session_ops = {
    .join_note = " (direct)",
    .keyframe_at_offer = true,
    .start = lite_start,
    .add_candidate = NULL, /* ICE-lite learns the peer's address from its checks */
    .restart_ice = lite_restart_ice,
    .last_rx_s = lite_last_rx_s,
    .stop = lite_stop,
};
