/*
 * audio_source.c - a source's own sound (audio = auto): an RTSP camera's
 * microphone (G.711, AAC: whatever decodebin depayloads and decodes) or a
 * clip's audio track, decoded and encoded to Opus once. Whether a camera
 * has sound is known only once it describes its streams, so the track is
 * made when its first pad of sound comes; offers from then on get sound.
 * The pad is the source bin's "audio" ghost, retargeted at each restart of
 * the source (rtspsrc's and a clip's pads come anew each time); the
 * decoder and encoder behind it are built idle at the start.
 */
#define G_LOG_DOMAIN "stream"
#include <string.h>

#include "stream.h"

/*
 * Streaming thread: the source's end of stream stops at its bin, as the
 * picture's does (stream.c): past it, the sound's decoder would take nothing
 * more when a clip loops or a camera comes back.
 */
static GstPadProbeReturn sound_eos_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP
	                                                                       : GST_PAD_PROBE_OK;
}

/*
 * Streaming thread: sound only forward in time. When a clip loops at its
 * picture's end, the tail of its sound (a little longer than the picture)
 * may still be on its way; the next run's first buffers, earlier than that
 * tail on the running time, are dropped so that the RTP timestamps never go
 * back. `data`: the running time reached, owned by the probe.
 */
static GstPadProbeReturn forward_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstClockTime *reached = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	gint64 rt = audio_running_time(pad, buf);
	GstClockTime t = rt >= 0 ? (GstClockTime)rt : GST_CLOCK_TIME_NONE;

	if (!GST_CLOCK_TIME_IS_VALID(t))
		return GST_PAD_PROBE_OK;
	if (GST_CLOCK_TIME_IS_VALID(*reached) && t < *reached)
		return GST_PAD_PROBE_DROP;
	*reached = t + (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
	return GST_PAD_PROBE_OK;
}

/* Main thread: the source showed sound for the first time: its track is the stream's now. */
static gboolean sound_seen_cb(gpointer data)
{
	struct stream *s = data;
	char *err = NULL;

	s->audio = s->sound_track;
	if (stream_track_added(s, s->audio, &err) != 0) {
		g_warning("stream %s: the source's sound is left out: %s", s->cfg->name, err);
		g_free(err);
		s->audio = NULL;
		return G_SOURCE_REMOVE;
	}
	/* The media path's new elements, hung off the track, join the playing pipeline. */
	gst_bin_sync_children_states(GST_BIN(s->pipeline));
	g_message("stream %s: sound from %s, Opus %d kbps", s->cfg->name, s->source_public,
	          s->cfg->audio_kbps);
	return G_SOURCE_REMOVE;
}

/*
 * Streaming thread (rtspsrc's, parsebin's, decodebin's): a pad of sound
 * becomes the target of the source bin's "audio" ghost, which feeds the
 * sound's decoder and encoder from the start: nothing is ever pushed
 * unlinked (rtpbin's jitter buffer stops for good on that).
 */
static void sound_pad_added_cb(GstElement *dynamic, GstPad *pad, gpointer data)
{
	struct stream *s = data;
	GstPad *ghost;

	if (g_strcmp0(source_pad_kind(pad), "audio") != 0)
		return;
	ghost = gst_element_get_static_pad(s->source_bin, "audio");
	if (!gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), pad))
		g_info("stream %s: the source's sound pad %s cannot be used", s->cfg->name,
		       GST_PAD_NAME(pad));
	gst_object_unref(ghost);
	if (g_atomic_int_compare_and_exchange(&s->sound_seen, 0, 1))
		g_main_context_invoke(NULL, sound_seen_cb, s);
}

int audio_watch_source(struct stream *s, char **err)
{
	GstElement *dynamic = gst_bin_get_by_name(GST_BIN(s->source_bin), SOURCE_DYNAMIC);
	GstPad *ghost;

	if (dynamic == NULL)
		return 0; /* a test pattern, a USB camera: no sound of their own here */
	/* Built now, idle until the source shows sound (a camera without any: for good). */
	s->audio_bin = audio_bin_new(s, AUDIO_FROM_SOURCE, err);
	if (s->audio_bin == NULL)
		goto fail;
	gst_bin_add(GST_BIN(s->pipeline), s->audio_bin);
	ghost = gst_ghost_pad_new_no_target("audio", GST_PAD_SRC);
	gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, sound_eos_probe, NULL, NULL);
	gst_element_add_pad(s->source_bin, ghost);
	if (!gst_element_link_pads(s->source_bin, "audio", s->audio_bin, "sink")) {
		*err = g_strdup_printf("stream %s: cannot link the source's sound", s->cfg->name);
		goto fail;
	}
	{
		GstElement *pace = gst_bin_get_by_name(GST_BIN(s->audio_bin), "apace");
		GstPad *out = gst_element_get_static_pad(pace, "src");
		GstClockTime *reached = g_new(GstClockTime, 1);

		*reached = GST_CLOCK_TIME_NONE;
		gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, forward_probe, reached, g_free);
		gst_object_unref(out);
		gst_object_unref(pace);
	}
	s->sound_track = track_new_passthrough(s, CODEC_OPUS, s->audio_bin, err);
	if (s->sound_track == NULL)
		goto fail;
	/* The source bin holds the element as long as the stream. */
	g_signal_connect(dynamic, "pad-added", G_CALLBACK(sound_pad_added_cb), s);
	gst_object_unref(dynamic);
	return 0;
fail:
	gst_object_unref(dynamic);
	return -1;
}
