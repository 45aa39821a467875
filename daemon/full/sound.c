/*
 * sound.c - a mode-full viewer's sound: queue ! rtpopuspay in its bin, fed
 * from the stream's audio tee, into a second webrtcbin sender in the same
 * bundle and media stream as the picture (one msid: the player syncs them
 * by webrtcbin's sender reports). Like the direct path's, it passes only
 * once the viewer's gate is open (the picture's first keyframe), or at once
 * for a viewer that asked for sound alone. Main thread, but for the probe.
 */
#define G_LOG_DOMAIN "viewer"

#include "full_viewer.h"

/* Streaming thread: sound goes once the picture has started (or, alone, once connected). */
static GstPadProbeReturn sound_gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct branch *b = data;

	if (g_atomic_int_get(&b->gate) != GATE_OPEN)
		return GST_PAD_PROBE_DROP;
	__atomic_fetch_add(&b->bytes, gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)),
	                   __ATOMIC_RELAXED);
	return GST_PAD_PROBE_OK;
}

int sound_build(struct full_viewer *fv, struct branch *b)
{
	GstElement *queue;
	GstPad *pad;

	if (fv->audio == NULL)
		return 0;
	queue = gst_element_factory_make("queue", "aqueue");
	fv->apay = gst_element_factory_make("rtpopuspay", "apay");
	if (queue == NULL || fv->apay == NULL) {
		gst_clear_object(&queue);
		gst_clear_object(&fv->apay);
		return -1;
	}
	gst_bin_add_many(GST_BIN(fv->bin), queue, fv->apay, NULL);
	g_object_set(queue, "leaky", 2, "max-size-buffers", 50, "max-size-bytes", 0,
	             "max-size-time", (guint64)0, NULL);
	g_object_set(fv->apay, "pt", (guint)fv->audio_pt, "ssrc", fv->audio_ssrc, NULL);
	if (!gst_element_link(queue, fv->apay))
		return -1;
	pad = gst_element_get_static_pad(queue, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, sound_gate_probe, branch_ref(b),
	                  branch_unref);
	gst_element_add_pad(fv->bin, gst_ghost_pad_new("audio_sink", pad));
	gst_object_unref(pad);
	return 0;
}

GstWebRTCRTPTransceiver *sound_add_sender(struct full_viewer *fv)
{
	GstPadTemplate *templ =
	    gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(fv->webrtc), "sink_%u");
	GstWebRTCRTPTransceiver *trans = NULL;
	GstCaps *caps;
	GstPad *sink, *src;

	if (fv->audio == NULL)
		return NULL;
	caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio",
	                           "encoding-name", G_TYPE_STRING, "OPUS", "payload", G_TYPE_INT,
	                           fv->audio_pt, "clock-rate", G_TYPE_INT, 48000, "ssrc",
	                           G_TYPE_UINT, fv->audio_ssrc, NULL);
	sink = gst_element_request_pad(fv->webrtc, templ, NULL, caps);
	gst_caps_unref(caps);
	if (sink == NULL)
		return NULL;
	g_object_set(sink, "msid", "whepcam", NULL); /* the picture's: one stream, synced */
	src = gst_element_get_static_pad(fv->apay, "src");
	gst_pad_link(src, sink);
	gst_object_unref(src);
	g_object_get(sink, "transceiver", &trans, NULL);
	gst_object_unref(sink);
	if (trans != NULL)
		g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
		             NULL);
	return trans;
}

void sound_start(struct full_viewer *fv)
{
	GstPad *sink;

	if (fv->audio == NULL)
		return;
	fv->audio_tee_pad = gst_element_request_pad_simple(track_tee(fv->audio), "src_%u");
	sink = gst_element_get_static_pad(fv->bin, "audio_sink");
	gst_pad_link(fv->audio_tee_pad, sink);
	gst_object_unref(sink);
}
