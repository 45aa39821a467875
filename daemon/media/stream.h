/*
 * stream.h - the daemon's camera streams: one pipeline per stream, its
 * source (raw frames: source ! convert/scale/rate ! caps ! tee; or H.264 from
 * the camera, parsed) and a track per codec it sends (track.h), each shared
 * by every viewer of the stream that gets that codec. A failing source
 * takes the stream offline and it is retried; its state and viewer count
 * are read by the layers above. Main loop only; the streams are the
 * table's (stream_*_all).
 */
#ifndef WHEPCAMD_MEDIA_STREAM_H
#define WHEPCAMD_MEDIA_STREAM_H

#include <glib.h>
#include <gst/gst.h>
#include <stdbool.h>

#include "base/config.h"
#include "track.h"
#include "wire/codec.h"

/*
 * A bin a media path adds to the pipeline per viewer is named with this
 * prefix: an error inside it is that viewer's, logged, and not the
 * stream's (which would take the stream offline).
 */
#define STREAM_VIEWER_BIN_PREFIX "v-"

enum stream_state { STREAM_STARTING, STREAM_LIVE, STREAM_OFFLINE };

/* What a source gives: raw frames to encode, or H.264 to pass through. */
enum source_kind { SOURCE_RAW, SOURCE_H264 };

/*
 * In a source's description: an element whose pads come when data does
 * (rtspsrc, parsebin, decodebin), left unlinked, and the element that its
 * video pad links to, at each start of the source (stream.c).
 */
#define SOURCE_DYNAMIC      "dynamic"
#define SOURCE_DYNAMIC_PEER "dynamic-peer"

struct stream {
	struct stream_config *cfg;
	char *source;        /* resolved source spec in use (may hold credentials: never log it) */
	char *source_public; /* the same without credentials: for logs and the stream list */
	enum source_kind kind;
	/*
	 * A clip (file:): played from its start again at its end. Its bin's state
	 * is locked (the pipeline's changes leave it alone): stream.c starts it
	 * with a base time and pad offset of its own at each run (source_play).
	 */
	bool loops;
	GstElement *pipeline;
	struct track *tracks[CODEC_COUNT]; /* by enum codec; NULL: not sent */
	enum codec order[CODEC_COUNT];     /* the codecs sent, in order of preference */
	guint n_codecs;
	GstElement *source_bin;    /* the pipeline's: what restarts when the source fails */
	GstElement *audio_bin;     /* the pipeline's; NULL: no sound (audio.c) */
	struct track *audio;       /* Opus, shared by every viewer that asked for sound; or NULL */
	guint audio_retry_timer;   /* a failed sound source's next try */
	bool audio_down;           /* it failed and is not back yet (logged once) */
	gint sound_seen;           /* atomic: the source showed a pad of sound (audio = auto) */
	struct track *sound_track; /* audio = auto: the track, s->audio once sound_seen */
	gpointer
	    tone_origin; /* atomic: the test tone's first sample's running time + 1; 0: not yet */
	guint bus_watch;
	enum stream_state state;
	unsigned viewers;                /* counted by the session layer */
	guint restart_timer, restart_ms; /* the next try, and the delay (backoff) it was given */
	guint stall_timer;
	gint last_frame_s; /* atomic: monotonic second of the source's last frame */
	gint run_frames; /* atomic: frames out of the source since it last started (a clip's run) */
	gint64 run_start_us; /* a clip's run: when it started (monotonic; main loop) */
};

/*
 * What a stream tells the layers above it; main.c sets it once, before the
 * streams start. Every call is on the main loop; a NULL member is skipped.
 */
struct stream_hooks {
	/*
	 * A track was built, before the pipeline first plays: hang what the
	 * media path needs off its tee (the direct path's fan-out). 0, or -1
	 * with *err set (caller frees): the stream then fails to start.
	 */
	int (*track_added)(struct stream *s, struct track *t, char **err);
	/* The pipeline is NULL and `t` is about to be freed: let go of what track_added made. */
	void (*track_removed)(struct stream *s, struct track *t);
	/*
	 * The source failed (an error, end of stream, SOURCE_STALL_S without a
	 * frame): the stream is offline and retried with backoff. Its viewers
	 * stay; new offers get 409.
	 */
	void (*offline)(struct stream *s);
	/* The source sends again after being offline: its viewers need a keyframe. */
	void (*online)(struct stream *s);
};

/* The daemon's streams, built from `configs` (struct stream_config *, borrowed). */
int stream_start_all(GPtrArray *configs, const struct stream_hooks *hooks, char **err);
void stream_stop_all(void);
struct stream *stream_find(const char *name);
GPtrArray *stream_list(void);
const char *stream_state_name(enum stream_state st);
/* The track that sends codec `c`, or NULL. */
struct track *stream_track(const struct stream *s, enum codec c);
/* What the stream sends, for codec_pick(). */
void stream_codec_sends(const struct stream *s, struct codec_sends *out);
/* A track made after the stream started (its sound): the media path's track_added hook. */
int stream_track_added(struct stream *s, struct track *t, char **err);

/* ---- audio.c, audio_source.c ---- */
#define AUDIO_FROM_SOURCE "source" /* audio_describe: sound the source's pad feeds ("sink") */
/*
 * The description of the stream's sound for `audio` (the config's value):
 * capture, 48 kHz, Opus, ending in an element named "aout"; NULL when
 * there is none to build. Caller frees.
 */
char *audio_describe(const struct stream_config *cfg, const char *audio);
/* Streaming thread: a buffer's running time on `pad` (its sticky segment), or -1. */
gint64 audio_running_time(GstPad *pad, GstBuffer *buf);
/*
 * Whether a test picture at running time `running` falls within a beep of
 * the test tone whose first sample was at `tone_origin` (flashed); -1: unknown.
 */
bool audio_flash_at(gint64 running, gint64 tone_origin);
/*
 * Stream `s`'s audio bin and track, when its config asks for sound (else
 * nothing); `video_out` is the video source's pad, whose test pattern
 * flashes with the beeps. 0, or -1 with *err set (caller frees).
 */
int audio_attach(struct stream *s, GstPad *video_out, char **err);
/*
 * The bin of `audio`'s description named audio-source, its "src" ghosted
 * (and "sink", for AUDIO_FROM_SOURCE); NULL for none (*err NULL) or on an
 * error (*err set, caller frees).
 */
GstElement *audio_bin_new(const struct stream *s, const char *audio, char **err);
/*
 * audio = auto on a source that may have sound (an RTSP camera, a clip):
 * its decoder and encoder built idle, and its first sound pad makes their
 * track the stream's, on the main loop; offers from then on get sound.
 * Nothing for sources without dynamic pads. 0, or -1 with *err set.
 */
int audio_watch_source(struct stream *s, char **err);
/* The stream is live: a capture device's bin starts (a no-op for the test tone, and once started).
 */
void audio_start(struct stream *s);
/* The sound source failed (`why`): stopped and retried; the picture is not touched. */
void audio_failed(struct stream *s, const char *why);

/* ---- source.c ---- */
/*
 * The source's bin (named "source") for `source`, its src pad ghosted from
 * the description's "out", its SOURCE_DYNAMIC element's video pad linked to
 * SOURCE_DYNAMIC_PEER at every start. *kind: what it gives. NULL with *err
 * set (caller frees) when it does not parse.
 */
GstElement *source_bin_new(const struct stream_config *cfg, const char *source,
                           enum source_kind *kind, char **err);
/*
 * The GStreamer description of the source's bin and (*kind) what it gives:
 * SOURCE_RAW ends in I420 at the stream's size and rate, SOURCE_H264 in
 * parsed byte-stream H.264, one access unit a buffer. Caller frees.
 */
char *stream_source_describe(const struct stream_config *cfg, const char *source,
                             enum source_kind *kind);
/*
 * A USB camera (v4l2:): its formats at the stream's size and rate pick the
 * description: H.264 passed through (when the stream may send H.264), raw,
 * MJPEG decoded once, else whatever it gives decoded and scaled. `offered`:
 * the camera's caps (source_v4l2_offered), NULL when unknown. Caller frees.
 */
char *source_v4l2_describe(const struct stream_config *cfg, const char *device,
                           const GstCaps *offered, enum source_kind *kind);
/* v4l2src's caps once it opened `device` (every format it lists); NULL when it cannot be. */
GstCaps *source_v4l2_offered(const char *device);
/* What a clip's video is (file:). */
enum source_clip { CLIP_UNREADABLE, CLIP_H264, CLIP_OTHER };
/*
 * Read the clip's headers (GstDiscoverer, at most a few seconds): its video's
 * codec. *why (caller frees): why it cannot be read, or a warning; else NULL.
 */
enum source_clip source_file_probe(const char *path, char **why);
/*
 * A clip, looped and paced in real time: its H.264 passed through (when the
 * stream may send H.264), anything else (or a clip not readable yet) decoded
 * and scaled to the stream's size and rate. Caller frees.
 */
char *source_file_describe(const struct stream_config *cfg, const char *path, enum source_clip clip,
                           enum source_kind *kind);
/*
 * What a source's pad carries by its caps (RTP's media= for an RTSP
 * camera's): "video", "audio", "other", or NULL while its caps are not known.
 */
const char *source_pad_kind(GstPad *pad);
/* The same for a raw source (the description only). Caller frees. */
char *stream_source_description(const struct stream_config *cfg, const char *source);
/* `source` with a URL's user:password replaced by "***". Caller frees. */
char *source_public_name(const char *source);
/* `text` (a log line, an error) with `source`'s user:password replaced by "***". Caller frees. */
char *source_redact(const char *text, const char *source);

#endif
