/*
 * direct.c - the direct media path's life cycle: chosen at start-up from
 * the config's ICE mode, a peer made per offer (our ICE credentials, DTLS
 * state, the answer) and released when its viewer goes. The viewer table
 * still owns viewers; a viewer on this path owns its struct peer.
 */
#define G_LOG_DOMAIN "direct"
#include <string.h>
#include <sys/random.h>

#include "direct.h"

static struct {
	bool enabled;
	guint64 answers; /* o= session ids */
	gint live;       /* peers allocated and not yet freed: a leak shows here */
} D;

bool direct_enabled(void)
{
	return D.enabled;
}

int direct_live_peers(void)
{
	return g_atomic_int_get(&D.live);
}

/* "full" (or TURN/ICE-TCP in "auto") needs a full ICE agent: webrtcbin's. */
static bool wants_direct(const struct daemon_config *cfg)
{
	if (strcmp(cfg->ice_mode, "lite") == 0)
		return true;
	if (strcmp(cfg->ice_mode, "full") == 0)
		return false;
	return cfg->turn == NULL && !cfg->ice_tcp;
}

int direct_init(const struct daemon_config *cfg, char **err)
{
	D.enabled = wants_direct(cfg);
	if (!D.enabled) {
		g_message("ICE mode full: a webrtcbin per viewer%s",
		          cfg->turn != NULL || cfg->ice_tcp ? " (TURN or ICE-TCP is configured)"
		                                            : "");
		return 0;
	}
	if (dtls_init(err) != 0 || srtp_session_init(err) != 0 || udp_start(cfg, err) != 0)
		return -1;
	g_message("ICE mode lite: every viewer on the ports above, DTLS %s", dtls_fingerprint());
	if (cfg->stun != NULL)
		g_message("stun %s is given to players; an ICE-lite server does not use it",
		          cfg->stun);
	return 0;
}

void direct_shutdown(void)
{
	if (!D.enabled)
		return;
	udp_stop();
	dtls_shutdown();
	D.enabled = false;
}

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

		if (fp != NULL && g_strcmp0(gst_sdp_media_get_media(m), "video") == 0)
			return fp;
	}
	return gst_sdp_message_get_attribute_val(offer, "fingerprint");
}

static void peer_free(struct peer *p)
{
	if (p->dtls != NULL)
		dtls_peer_free(p->dtls);
	if (p->rx != NULL)
		srtp_dealloc(p->rx);
	if (p->tx != NULL)
		srtp_dealloc(p->tx);
	if (p->branch != NULL)
		g_rc_box_release(p->branch);
	g_free(p);
	g_atomic_int_add(&D.live, -1);
}

char *direct_answer(struct viewer *v, const GstSDPMessage *offer, int *status, char *detail,
                    size_t detail_len)
{
	struct peer *p = g_new0(struct peer, 1);
	struct answer_params a;
	const char *fp = offer_fingerprint(offer);
	char *text;

	g_atomic_int_add(&D.live, 1);
	memcpy(p->id, v->id, sizeof(p->id));
	memcpy(p->sid, v->sid, sizeof(p->sid));
	p->stream = v->stream;
	p->pt = v->pt;
	p->fd = -1;
	*status = 400;
	if (random_ice_chars(p->ufrag, DIRECT_UFRAG_LEN) != 0 ||
	    random_ice_chars(p->pwd, DIRECT_PWD_LEN) != 0) {
		*status = 500;
		g_snprintf(detail, detail_len, "no random bytes for ICE credentials");
		goto fail;
	}
	p->dtls = fp != NULL ? dtls_peer_new(fp, udp_dtls_sender(), p) : NULL;
	if (p->dtls == NULL) {
		g_snprintf(detail, detail_len,
		           "the offer's a=fingerprint is missing or not usable");
		goto fail;
	}
	a = (struct answer_params){.ufrag = p->ufrag,
	                           .pwd = p->pwd,
	                           .fingerprint = dtls_fingerprint(),
	                           .pt = p->pt,
	                           .session_version = ++D.answers};
	text = answer_build(offer, &a, detail, detail_len);
	if (text == NULL)
		goto fail;
	p->nack = a.nack;

	p->branch = g_rc_box_new0(struct branch);
	p->branch->created_us = v->created_us;
	memcpy(p->branch->sid, v->sid, sizeof(p->branch->sid));
	p->last_rx_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);
	v->branch = p->branch;
	v->last_rx_s = &p->last_rx_s;
	v->ssrc = fanout_ssrc(v->stream);
	g_ptr_array_unref(v->candidates);
	v->candidates = udp_candidates();
	v->peer = p;
	udp_register(p);
	fanout_add(p->stream, p);
	return text;
fail:
	peer_free(p);
	return NULL;
}

void direct_release(struct viewer *v)
{
	struct peer *p = v->peer;

	if (p == NULL)
		return;
	v->peer = NULL;
	v->branch = NULL;
	v->last_rx_s = NULL;
	/* Out of both threads' reach first; then it is ours alone to close and free. */
	udp_unregister(p);
	fanout_remove(p->stream, p);
	udp_close_peer(p);
	peer_free(p);
}
