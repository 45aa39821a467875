/*
 * audio.c - a stream's sound: where it comes from (`audio =` in its
 * config: a test tone, an ALSA or PulseAudio capture device), encoded once
 * to Opus and ending in the stream's audio track, which every viewer that
 * asked for sound shares. The test tone beeps once a second, and with a
 * test pattern the picture flashes white at the same instants: what the
 * lip-sync tests and the bench measure. Main loop, unless said otherwise.
 */
#define G_LOG_DOMAIN "stream"
#include <gst/video/video.h>
#include <string.h>

#include "stream.h"

#define AUDIO_BEEP_HZ    1000 /* the test tone's pitch: what the players' analysers listen for */
#define AUDIO_BEEP_MS    100  /* each beep (and each white flash) lasts this long */
#define AUDIO_FRAME_MS   20   /* Opus frame: one RTP packet each, 50 a second */
#define AUDIO_LOSS_GUESS 5    /* % loss Opus's in-band FEC is sized for */
#define AUDIO_RETRY_S    2    /* a failed capture device (unplugged) is tried again this often */

/* Where the sound comes from, before it is made 48 kHz and encoded; NULL: none. */
static char *capture_head(const char *audio)
{
	if (strcmp(audio, "test") == 0)
		/*
		 * Ticks of AUDIO_BEEP_HZ, AUDIO_BEEP_MS long, starting at every whole
		 * second of the stream's running time (sample-exact: the tone's
		 * timestamps are its sample count), where the test picture flashes.
		 */
		return g_strdup_printf("audiotestsrc name=tone is-live=true wave=ticks freq=%d "
		                       "sine-periods-per-tick=%d tick-interval=%" G_GUINT64_FORMAT
		                       " volume=0.8 samplesperbuffer=%d",
		                       AUDIO_BEEP_HZ, AUDIO_BEEP_HZ * AUDIO_BEEP_MS / 1000,
		                       (guint64)GST_SECOND, 48000 * AUDIO_FRAME_MS / 1000);
	if (g_str_has_prefix(audio, "alsa:"))
		return g_strdup_printf("alsasrc device=\"%s\" ! queue", audio + 5);
	if (g_str_has_prefix(audio, "pulse:"))
		return g_strdup_printf("pulsesrc device=\"%s\" ! queue", audio + 6);
	if (strcmp(audio, AUDIO_FROM_SOURCE) == 0) /* an RTSP camera's RTP, a clip's track */
		/* clocksync: a clip's sound at its pace (a camera's comes at it already) */
		return g_strdup("queue name=ain ! decodebin ! clocksync name=apace");
	return NULL;
}

char *audio_describe(const struct stream_config *cfg, const char *audio)
{
	char *head = capture_head(audio), *desc;

	if (head == NULL)
		return NULL;
	/* DTX off: a player's jitter buffer and level meter expect a packet every frame. */
	desc = g_strdup_printf("%s ! audioconvert ! audioresample ! audio/x-raw,rate=48000 ! "
	                       "opusenc bitrate=%d frame-size=%d inband-fec=true dtx=false "
	                       "packet-loss-percentage=%d ! "
	                       "capsfilter name=aout caps=audio/x-opus",
	                       head, cfg->audio_kbps * 1000, AUDIO_FRAME_MS, AUDIO_LOSS_GUESS);
	g_free(head);
	return desc;
}

bool audio_flash_at(gint64 running, gint64 tone_origin)
{
	return tone_origin >= 0 && running >= tone_origin &&
	       (running - tone_origin) % GST_SECOND < AUDIO_BEEP_MS * GST_MSECOND;
}

gint64 audio_running_time(GstPad *pad, GstBuffer *buf)
{
	GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
	const GstSegment *seg;
	GstClockTime t = GST_CLOCK_TIME_NONE;

	if (ev != NULL) {
		gst_event_parse_segment(ev, &seg);
		t = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
		gst_event_unref(ev);
	}
	return GST_CLOCK_TIME_IS_VALID(t) ? (gint64)t : -1;
}

/*
 * Streaming thread (the tone's): where its first sample falls on the
 * running time. Its ticks are counted in samples from there, and each
 * source's timestamps start where that source started: under load the
 * picture and the tone started up to half a second apart, so the flashes
 * are drawn on the tone's origin, not at whole seconds of the picture's own.
 */
static GstPadProbeReturn tone_origin_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct stream *s = data;
	gint64 t = audio_running_time(pad, GST_PAD_PROBE_INFO_BUFFER(info));

	if (t < 0)
		return GST_PAD_PROBE_OK;
	g_atomic_pointer_set(&s->tone_origin, GSIZE_TO_POINTER((gsize)t + 1)); /* 0: not yet */
	return GST_PAD_PROBE_REMOVE;
}

/*
 * Streaming thread: a test picture due within a beep is painted white, so
 * that a player can tell how far apart it shows the two.
 */
static GstPadProbeReturn flash_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct stream *s = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	gsize origin = GPOINTER_TO_SIZE(g_atomic_pointer_get(&s->tone_origin));
	GstVideoInfo vinfo;
	GstVideoFrame frame;
	GstCaps *caps;
	guint p;

	if (origin == 0 || !audio_flash_at(audio_running_time(pad, buf), (gint64)origin - 1) ||
	    (caps = gst_pad_get_current_caps(pad)) == NULL)
		return GST_PAD_PROBE_OK;
	if (!gst_video_info_from_caps(&vinfo, caps)) {
		gst_caps_unref(caps);
		return GST_PAD_PROBE_OK;
	}
	gst_caps_unref(caps);
	buf = gst_buffer_make_writable(buf);
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	if (!gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE))
		return GST_PAD_PROBE_OK;
	for (p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); p++) {
		/* I420: Y white, U and V neutral */
		guint8 value = p == 0 ? 235 : 128;
		guint row, rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p);

		for (row = 0; row < rows; row++)
			memset((guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&frame, p) +
			           (gsize)row * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p),
			       value, (size_t)GST_VIDEO_FRAME_COMP_WIDTH(&frame, p));
	}
	gst_video_frame_unmap(&frame);
	return GST_PAD_PROBE_OK;
}

/*
 * What `audio` means for this stream: auto is the source's own sound, and
 * the test pattern that `source = auto` falls back to without a camera has
 * the test tone (what `make run` shows a new user); an explicit `test:`
 * source stays silent unless asked.
 */
static const char *audio_wanted(const struct stream *s)
{
	if (strcmp(s->cfg->audio, "auto") == 0 && strcmp(s->cfg->source, "auto") == 0 &&
	    g_str_has_prefix(s->source, "test:"))
		return "test";
	return s->cfg->audio;
}

GstElement *audio_bin_new(const struct stream *s, const char *audio, char **err)
{
	char *desc = audio_describe(s->cfg, audio);
	GError *gerr = NULL;
	GstElement *bin, *e;
	GstPad *p;

	if (desc == NULL)
		return NULL; /* none, or auto with a source that has no sound of its own */
	bin = gst_parse_bin_from_description(desc, FALSE, &gerr);
	g_free(desc);
	if (bin == NULL) {
		*err = g_strdup_printf(
		    "stream %s: audio %s: %s (install gstreamer1.0-plugins-base, "
		    "-good and -alsa/-pulseaudio)",
		    s->cfg->name, audio, gerr != NULL ? gerr->message : "cannot build");
		g_clear_error(&gerr);
		return NULL;
	}
	gst_object_set_name(GST_OBJECT(bin), "audio-source");
	e = gst_bin_get_by_name(GST_BIN(bin), "aout");
	p = gst_element_get_static_pad(e, "src");
	gst_element_add_pad(bin, gst_ghost_pad_new("src", p));
	gst_object_unref(p);
	gst_object_unref(e);
	if ((e = gst_bin_get_by_name(GST_BIN(bin), "ain")) != NULL) { /* fed by the source */
		p = gst_element_get_static_pad(e, "sink");
		gst_element_add_pad(bin, gst_ghost_pad_new("sink", p));
		gst_object_unref(p);
		gst_object_unref(e);
	}
	return bin;
}

int audio_attach(struct stream *s, GstPad *video_out, char **err)
{
	const char *audio = audio_wanted(s);

	if (strcmp(audio, "auto") == 0) /* the source's own, once it shows some */
		return audio_watch_source(s, err);
	s->audio_bin = audio_bin_new(s, audio, err);
	if (s->audio_bin == NULL)
		return *err != NULL ? -1 : 0;
	/*
	 * A capture device may be missing or busy: it starts on its own once
	 * the stream is live (audio_start), so that it cannot fail the
	 * pipeline's start. The test tone starts with the picture: its
	 * timestamps are the ones the flashes are drawn at.
	 */
	if (strcmp(audio, "test") != 0)
		gst_element_set_locked_state(s->audio_bin, TRUE);
	gst_bin_add(GST_BIN(s->pipeline), s->audio_bin);
	s->audio = track_new_passthrough(s, CODEC_OPUS, s->audio_bin, err);
	if (s->audio == NULL)
		return -1;
	if (strcmp(audio, "test") == 0 && g_str_has_prefix(s->source, "test:")) {
		GstElement *tone = gst_bin_get_by_name(GST_BIN(s->audio_bin), "tone");
		GstPad *pad = gst_element_get_static_pad(tone, "src");

		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, tone_origin_probe, s, NULL);
		gst_pad_add_probe(video_out, GST_PAD_PROBE_TYPE_BUFFER, flash_probe, s, NULL);
		gst_object_unref(pad);
		gst_object_unref(tone);
	}
	g_message("stream %s: audio %s, Opus %d kbps", s->cfg->name, audio, s->cfg->audio_kbps);
	return 0;
}

void audio_start(struct stream *s)
{
	GstClock *clock;

	if (s->audio_bin == NULL || s->audio_retry_timer != 0)
		return;
	if (!gst_element_is_locked_state(s->audio_bin)) { /* it goes with the pipeline */
		gst_element_sync_state_with_parent(s->audio_bin);
		return;
	}
	/* On the pipeline's clock and running time, as if the pipeline had started it. */
	clock = gst_pipeline_get_pipeline_clock(GST_PIPELINE(s->pipeline));
	gst_element_set_clock(s->audio_bin, clock);
	gst_object_unref(clock);
	gst_element_set_base_time(s->audio_bin, gst_element_get_base_time(s->pipeline));
	if (gst_element_set_state(s->audio_bin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		audio_failed(s, "the device cannot be opened");
	} else if (s->audio_down) {
		s->audio_down = false;
		g_message("stream %s: sound %s back", s->cfg->name, s->cfg->audio);
	}
}

static gboolean audio_retry_cb(gpointer data)
{
	struct stream *s = data;

	s->audio_retry_timer = 0;
	audio_start(s);
	return G_SOURCE_REMOVE;
}

void audio_failed(struct stream *s, const char *why)
{
	if (s->audio_retry_timer != 0)
		return;
	/* Logged once until it is back: a device that stays away is tried every 2 s. */
	if (!s->audio_down)
		g_warning("stream %s: sound %s failed: %s; the picture plays on, retrying every "
		          "%d s",
		          s->cfg->name, s->cfg->audio, why, AUDIO_RETRY_S);
	s->audio_down = true;
	gst_element_set_state(s->audio_bin, GST_STATE_NULL);
	s->audio_retry_timer = g_timeout_add_seconds(AUDIO_RETRY_S, audio_retry_cb, s);
}
