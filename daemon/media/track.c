/*
 * track.c - one codec of a stream: its encoder (or none, passed through),
 * the valve that keeps a lazy encoder idle while no viewer needs it, the
 * tee the media paths hang off, the frames it counts and the H.264 profile
 * it sends, and its keyframe requests, coalesced and rate-limited so a crowd
 * of joins or a storm of PLIs costs the encoder one keyframe.
 * Owns its timers; the elements are the pipeline's. Encoders: encoder.c.
 */
#define G_LOG_DOMAIN "stream"
#include <gst/video/video.h>

#include "encoder.h"
#include "gopcache.h"
#include "stream.h"
#include "track.h"
#include "wire/codec.h"

#define KEYFRAME_MIN_INTERVAL_MS 100  /* joins: at most 10 forced keyframes a second */
#define KEYFRAME_PLI_INTERVAL_MS 500  /* viewers' PLI/FIR: at most 2 a second, the rest wait */
#define KEYFRAME_PENDING_MAX_MS  1000 /* a request unanswered this long is retried */

struct track {
	struct stream *stream; /* the owner */
	enum codec codec;
	GstElement *encoder; /* NULL: passed through */
	GstElement *valve;   /* NULL: always on */
	GstElement *tee;
	GstPad *kick; /* where a force-key-unit goes upstream: the encoder's or source's src */
	struct track *from; /* transcoded: the track decoded (its keyframes are asked for) */
	gint wait_keyframe; /* atomic: a decoder behind the valve drops frames up to a keyframe */
	guint users;        /* viewers holding it */
	bool running;       /* the valve is open */
	guint idle_timer;   /* the last user left: the valve shuts when it fires */
	gint h264_profile;  /* atomic (guint32): profile-level-id sent; 0 unknown */
	/* keyframe requests: coalesced and rate-limited */
	gint keyframe_pending; /* atomic: the streaming thread clears it */
	gint64 last_keyframe_request_us;
	gint64 last_pli_us;
	guint keyframe_timer; /* a keyframe scheduled: it serves every request meanwhile */
	enum keyframe_reason timer_reason; /* what keyframe_timer was set for */
	guint64 keyframes_forced;
	gpointer frames;      /* frames out; atomic (gsize), bumped by the streaming thread */
	gsize frames_at_tick; /* for fps_measured */
	guint fps_measured;   /* frames over the last second */
	guint fps_timer;
	struct gopcache *gop; /* passed through, for mode full's joins: the GOP kept; else NULL */
};

/* Streaming thread: frames leaving the track, its keyframes and (H.264) the profile of its SPS. */
static GstPadProbeReturn tee_in_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct track *t = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstMapInfo map;

	g_atomic_pointer_add(&t->frames, 1);
	if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
		return GST_PAD_PROBE_OK;
	g_atomic_int_set(&t->keyframe_pending, 0);
	if (t->codec == CODEC_H264 && gst_buffer_map(buf, &map, GST_MAP_READ)) {
		guint32 plid = codec_h264_sps_profile(map.data, MIN(map.size, 256));

		gst_buffer_unmap(buf, &map);
		if (plid != 0 && (guint32)g_atomic_int_get(&t->h264_profile) != plid) {
			g_atomic_int_set(&t->h264_profile, (gint)plid);
			g_info("stream %s: H.264 %s, profile-level-id %06x", t->stream->cfg->name,
			       codec_h264_profile_name(plid), plid);
		}
	}
	return GST_PAD_PROBE_OK;
}

/* Streaming thread, behind a transcoding track's valve: a decoder starts at a keyframe. */
static GstPadProbeReturn valve_out_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct track *t = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

	if (!g_atomic_int_get(&t->wait_keyframe))
		return GST_PAD_PROBE_OK;
	if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
		return GST_PAD_PROBE_DROP;
	g_atomic_int_set(&t->wait_keyframe, 0);
	return GST_PAD_PROBE_OK;
}

static gboolean keyframe_request_cb(gpointer data)
{
	struct track *t = data;

	t->keyframe_timer = 0;
	track_request_keyframe(t, t->timer_reason);
	return G_SOURCE_REMOVE;
}

static gboolean keyframe_for_pli_cb(gpointer data)
{
	track_request_keyframe(data, KEYFRAME_FOR_PLI);
	return G_SOURCE_REMOVE;
}

static gboolean keyframe_for_join_cb(gpointer data)
{
	track_request_keyframe(data, KEYFRAME_FOR_JOIN);
	return G_SOURCE_REMOVE;
}

void track_request_keyframe_any_thread(struct track *t, enum keyframe_reason why)
{
	g_main_context_invoke(
	    NULL, why == KEYFRAME_FOR_JOIN ? keyframe_for_join_cb : keyframe_for_pli_cb, t);
}

/* Streaming thread: a viewer's PLI/FIR travelling up the tee. */
static GstPadProbeReturn tee_upstream_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);

	if (!gst_video_event_is_force_key_unit(ev))
		return GST_PAD_PROBE_OK;
	g_main_context_invoke(NULL, keyframe_for_pli_cb, data);
	return GST_PAD_PROBE_DROP;
}

/*
 * A join is never kept waiting by viewers' PLIs: a keyframe scheduled for
 * a PLI is brought forward to the join's own (at most KEYFRAME_MIN_INTERVAL_MS)
 * and serves both. A PLI within KEYFRAME_PLI_INTERVAL_MS of the last one
 * forced waits for the interval's end rather than being dropped: one viewer
 * (limited to one request per KEYFRAME_VIEWER_INTERVAL_MS by its media path)
 * cannot make everyone else's go unanswered, and every request meanwhile
 * shares that one keyframe.
 */
void track_request_keyframe(struct track *t, enum keyframe_reason why)
{
	gint64 now = g_get_monotonic_time();
	gint64 since_ms = (now - t->last_keyframe_request_us) / 1000;
	gint64 wait_ms = 0;

	if (t->kick == NULL || (t->valve != NULL && !t->running))
		return;
	if (t->keyframe_timer != 0 && why == KEYFRAME_FOR_JOIN &&
	    t->timer_reason == KEYFRAME_FOR_PLI)
		g_clear_handle_id(&t->keyframe_timer, g_source_remove);
	if (t->keyframe_timer != 0)
		return; /* the keyframe scheduled serves this caller too */
	if (g_atomic_int_get(&t->keyframe_pending) && since_ms < KEYFRAME_PENDING_MAX_MS)
		return; /* the keyframe asked for is on its way: it serves this caller too */
	if (since_ms < KEYFRAME_MIN_INTERVAL_MS)
		wait_ms = KEYFRAME_MIN_INTERVAL_MS - since_ms;
	/* A storm of PLIs (loss on many viewers) must not turn into keyframes. */
	if (why == KEYFRAME_FOR_PLI && (now - t->last_pli_us) / 1000 < KEYFRAME_PLI_INTERVAL_MS)
		wait_ms = MAX(wait_ms, KEYFRAME_PLI_INTERVAL_MS - (now - t->last_pli_us) / 1000);
	if (wait_ms > 0) {
		t->timer_reason = why;
		t->keyframe_timer = g_timeout_add((guint)wait_ms, keyframe_request_cb, t);
		return;
	}
	if (why == KEYFRAME_FOR_PLI)
		t->last_pli_us = now;
	g_debug("stream %s: %s keyframe requested", t->stream->cfg->name, codec_name(t->codec));
	t->last_keyframe_request_us = now;
	g_atomic_int_set(&t->keyframe_pending, 1);
	t->keyframes_forced++;
	gst_pad_send_event(
	    t->kick, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

/* Main thread, every second: the track's real frame rate, for /metrics. */
static gboolean fps_tick_cb(gpointer data)
{
	struct track *t = data;
	gsize now = (gsize)g_atomic_pointer_get(&t->frames);

	t->fps_measured = (guint)(now - t->frames_at_tick);
	t->frames_at_tick = now;
	return G_SOURCE_CONTINUE;
}

/* Open or shut a lazy track's valve. */
static void track_run(struct track *t, bool on)
{
	if (t->valve == NULL || t->running == on)
		return;
	t->running = on;
	if (on && t->from != NULL)
		g_atomic_int_set(&t->wait_keyframe, 1);
	g_object_set(t->valve, "drop", !on, NULL);
	g_message("stream %s: %s encoder %s", t->stream->cfg->name, codec_name(t->codec),
	          on ? "started: a viewer needs it" : "stopped: no viewer needs it");
	if (on && t->from != NULL) /* the decoder waits for the source's next keyframe */
		track_request_keyframe(t->from, KEYFRAME_FOR_JOIN);
}

static gboolean idle_cb(gpointer data)
{
	struct track *t = data;

	t->idle_timer = 0;
	if (t->users == 0)
		track_run(t, false);
	return G_SOURCE_REMOVE;
}

void track_hold(struct track *t)
{
	if (t->users++ == 0) {
		g_clear_handle_id(&t->idle_timer, g_source_remove);
		track_run(t, true);
	}
}

void track_release(struct track *t)
{
	if (t->users > 0 && --t->users == 0 && t->valve != NULL && t->idle_timer == 0)
		t->idle_timer = g_timeout_add_seconds(TRACK_IDLE_S, idle_cb, t);
}

void track_source_back(struct track *t)
{
	if (t->from != NULL)
		g_atomic_int_set(&t->wait_keyframe, 1);
	if (t->gop != NULL)
		gopcache_forget(t->gop);
}

void track_keep_gop(struct track *t)
{
	GstPad *pad;

	if (t->encoder != NULL || t->gop != NULL || t->codec == CODEC_OPUS) /* sound: no GOP */
		return;
	t->gop = gopcache_new(t->stream->cfg->name);
	pad = gst_element_get_static_pad(t->tee, "sink");
	gopcache_watch(t->gop, pad);
	gst_object_unref(pad);
}

struct gopcache *track_gop(const struct track *t)
{
	return t->gop;
}

bool track_passthrough(const struct track *t)
{
	return t->encoder == NULL;
}

bool track_encoding(const struct track *t)
{
	return t->encoder != NULL && (t->valve == NULL || t->running);
}

guint32 track_h264_profile(const struct track *t)
{
	return (guint32)g_atomic_int_get(&((struct track *)t)->h264_profile);
}

static struct track *track_alloc(struct stream *s, enum codec c)
{
	struct track *t = g_new0(struct track, 1);
	char name[32];

	t->stream = s;
	t->codec = c;
	g_snprintf(name, sizeof(name), "tee-%s",
	           c == CODEC_H264   ? "h264"
	           : c == CODEC_OPUS ? "opus"
	                             : "vp8");
	t->tee = gst_element_factory_make("tee", name);
	if (t->tee != NULL) {
		g_object_set(t->tee, "allow-not-linked", TRUE, NULL);
		gst_bin_add(GST_BIN(s->pipeline), t->tee);
	}
	return t;
}

/* The probes on the tee, the timer; the track is complete. */
static struct track *track_finish(struct track *t)
{
	GstPad *pad = gst_element_get_static_pad(t->tee, "sink");

	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, tee_in_probe, t, NULL);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, tee_upstream_probe, t, NULL);
	gst_object_unref(pad);
	t->fps_timer = g_timeout_add_seconds(1, fps_tick_cb, t);
	return t;
}

/*
 * `head` ! encoder ! tee, where head starts with a queue and a valve when
 * the track is lazy; fed from a request pad of `feed_tee`.
 */
static struct track *build_encoding(struct track *t, GstElement *feed_tee, GstElement *head,
                                    bool lazy, char **err)
{
	const char *codec = t->codec == CODEC_H264 ? "h264" : "vp8";
	GstElement *last;
	GstPad *src, *sink;

	if (t->tee == NULL) {
		*err = g_strdup("tee missing: install gstreamer1.0-plugins-base");
		goto fail;
	}
	t->encoder = encoder_make(t->stream->pipeline, t->stream->cfg, t->codec, codec, &last, err);
	if (t->encoder == NULL)
		goto fail;
	gst_bin_add(GST_BIN(t->stream->pipeline), head);
	if (!gst_element_link(head, t->encoder) || !gst_element_link(last, t->tee))
		goto nolink;
	src = gst_element_request_pad_simple(feed_tee, "src_%u");
	sink = gst_element_get_static_pad(head, "sink");
	if (src == NULL || sink == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
		g_clear_object(&src);
		g_clear_object(&sink);
		goto nolink;
	}
	gst_object_unref(src);
	gst_object_unref(sink);
	if (lazy) {
		char name[32];

		g_snprintf(name, sizeof(name), "valve-%s", codec);
		t->valve = gst_bin_get_by_name(GST_BIN(head), name);
		gst_object_unref(t->valve); /* the pipeline holds it */
	}
	t->kick = gst_element_get_static_pad(t->encoder, "src");
	return track_finish(t);
nolink:
	*err = g_strdup_printf("stream %s: cannot link the %s encoder", t->stream->cfg->name,
	                       codec_name(t->codec));
	track_free(t);
	return NULL;
fail:
	gst_object_unref(gst_object_ref_sink(head)); /* never added to the pipeline */
	track_free(t);
	return NULL;
}

/* Ghost `element`'s static pad `pad` on `bin` as `name`. */
static void ghost(GstElement *bin, const char *element, const char *pad, const char *name)
{
	GstElement *e = gst_bin_get_by_name(GST_BIN(bin), element);
	GstPad *p = gst_element_get_static_pad(e, pad);

	gst_element_add_pad(bin, gst_ghost_pad_new(name, p));
	gst_object_unref(p);
	gst_object_unref(e);
}

/*
 * queue ! valve (shut) [! middle ! identity]: the head of a lazy branch.
 * Its pads are ghosted by name: a decodebin inside leaves pads unlinked
 * until data comes, which GStreamer's own ghosting would pick instead.
 */
static GstElement *lazy_head(const char *codec, const char *middle, char **err)
{
	GError *gerr = NULL;
	char *desc = g_strdup_printf("queue name=q-%s max-size-buffers=2 max-size-bytes=0 "
	                             "max-size-time=0 leaky=downstream ! valve name=valve-%s "
	                             "drop=true drop-mode=forward-sticky-events ! %s%s"
	                             "identity name=out-%s",
	                             codec, codec, middle != NULL ? middle : "",
	                             middle != NULL ? " ! " : "", codec);
	GstElement *bin = gst_parse_bin_from_description(desc, FALSE, &gerr);
	char q[32], out[32];

	g_free(desc);
	if (bin == NULL) {
		*err = g_strdup_printf("cannot build a %s branch: %s", codec,
		                       gerr != NULL ? gerr->message : "unknown");
		g_clear_error(&gerr);
		return NULL;
	}
	g_snprintf(q, sizeof(q), "q-%s", codec);
	g_snprintf(out, sizeof(out), "out-%s", codec);
	ghost(bin, q, "sink", "sink");
	ghost(bin, out, "src", "src");
	return bin;
}

struct track *track_new_encoded(struct stream *s, enum codec c, GstElement *raw_tee, bool lazy,
                                char **err)
{
	struct track *t = track_alloc(s, c);
	const char *codec = c == CODEC_H264 ? "h264" : "vp8";
	GstElement *head =
	    lazy ? lazy_head(codec, NULL, err) : gst_element_factory_make("queue", NULL);

	if (head == NULL) {
		if (*err == NULL)
			*err = g_strdup("queue missing: install gstreamer1.0-plugins-base");
		track_free(t);
		return NULL;
	}
	/*
	 * The always-on encoder gets a thread of its own: the source makes the
	 * next frame while this one is encoded (serially they took most of a
	 * frame's 33 ms at 720p, and a forced keyframe waited up to 58 ms for its
	 * frame). Leaky: an encoder that falls behind drops frames, not the source.
	 */
	if (!lazy)
		g_object_set(head, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time",
		             (guint64)0, "leaky", 2, NULL);
	if (c == CODEC_H264) /* what the encoder is set to make, until its first SPS says */
		t->h264_profile = ENCODER_H264_PROFILE;
	return build_encoding(t, raw_tee, head, lazy, err);
}

struct track *track_new_transcoded(struct stream *s, enum codec c, struct track *from, char **err)
{
	struct track *t = track_alloc(s, c);
	const char *codec = c == CODEC_H264 ? "h264" : "vp8";
	char *middle = g_strdup_printf(
	    "decodebin ! videoconvert ! videoscale ! "
	    "capsfilter caps=\"video/x-raw,format=I420,width=%d,height=%d,pixel-aspect-ratio=1/1\"",
	    s->cfg->width, s->cfg->height);
	GstElement *head = lazy_head(codec, middle, err);
	GstElement *valve;
	GstPad *pad;
	char name[32];

	g_free(middle);
	if (head == NULL) {
		track_free(t);
		return NULL;
	}
	t->from = from;
	g_snprintf(name, sizeof(name), "valve-%s", codec);
	valve = gst_bin_get_by_name(GST_BIN(head), name);
	pad = gst_element_get_static_pad(valve, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, valve_out_probe, t, NULL);
	gst_object_unref(pad);
	gst_object_unref(valve);
	return build_encoding(t, from->tee, head, true, err);
}

struct track *track_new_passthrough(struct stream *s, enum codec c, GstElement *upstream,
                                    char **err)
{
	struct track *t = track_alloc(s, c);

	if (t->tee == NULL || !gst_element_link(upstream, t->tee)) {
		*err = g_strdup_printf("stream %s: cannot pass its %s through", s->cfg->name,
		                       codec_name(c));
		track_free(t);
		return NULL;
	}
	t->kick = gst_element_get_static_pad(upstream, "src");
	return track_finish(t);
}

void track_free(struct track *t)
{
	if (t == NULL)
		return;
	if (t->keyframe_timer != 0)
		g_source_remove(t->keyframe_timer);
	if (t->fps_timer != 0)
		g_source_remove(t->fps_timer);
	if (t->idle_timer != 0)
		g_source_remove(t->idle_timer);
	g_clear_object(&t->kick);
	gopcache_unref(t->gop);
	g_free(t);
}

GstElement *track_tee(const struct track *t)
{
	return t->tee;
}

enum codec track_codec(const struct track *t)
{
	return t->codec;
}

guint64 track_frames(const struct track *t)
{
	return (guint64)(gsize)g_atomic_pointer_get(&((struct track *)t)->frames);
}

guint track_fps(const struct track *t)
{
	return t->fps_measured;
}

guint64 track_keyframes_forced(const struct track *t)
{
	return t->keyframes_forced;
}
