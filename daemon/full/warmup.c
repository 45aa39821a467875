/*
 * warmup.c - pays the first answer's one-off costs (plugin loading, the
 * DTLS certificate, first-use initialisation: 30-900 ms) at start-up,
 * with a throwaway webrtcbin and a canned offer, so the first real viewer
 * is as fast as the rest.
 */
#define G_LOG_DOMAIN "warmup"
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include "full.h"

/* A minimal recvonly VP8 offer, answered once at start-up. */
static const char warm_up_offer[] =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=ice-ufrag:warm\r\na=ice-pwd:warmupwarmupwarmupwarmup\r\n"
    "a=fingerprint:sha-256 "
    "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:"
    "2C:19:08\r\n"
    "a=setup:actpass\r\na=rtcp-mux\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n";

void warmup_run(void)
{
	/*
	 * The first answer of a process pays for the DTLS certificate, plugin
	 * loading and first-use initialisation (30-900 ms). Pay it here, at
	 * start-up, with a throwaway webrtcbin and a canned offer.
	 */
	GstElement *pipe = gst_pipeline_new("warm-up");
	GstElement *w = gst_element_factory_make("webrtcbin", NULL);
	GstWebRTCSessionDescription *desc;
	GstSDPMessage *msg = NULL;
	GstPromise *p;
	gint64 t0 = g_get_monotonic_time();

	if (pipe == NULL || w == NULL)
		goto out;
	gst_bin_add(GST_BIN(pipe), w);
	gst_element_set_state(pipe, GST_STATE_PLAYING);
	gst_sdp_message_new_from_text(warm_up_offer, &msg);
	desc = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, msg);
	p = gst_promise_new();
	g_signal_emit_by_name(w, "set-remote-description", desc, p);
	gst_promise_wait(p);
	gst_promise_unref(p);
	gst_webrtc_session_description_free(desc);
	p = gst_promise_new();
	g_signal_emit_by_name(w, "create-answer", NULL, p);
	gst_promise_wait(p);
	gst_promise_unref(p);
	gst_element_set_state(pipe, GST_STATE_NULL);
	g_info("warm-up answer took %.1f ms", (double)(g_get_monotonic_time() - t0) / 1000.0);
out:
	if (pipe != NULL)
		gst_object_unref(pipe);
	else if (w != NULL)
		gst_object_unref(w);
}
