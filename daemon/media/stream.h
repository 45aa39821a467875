/*
 * stream.h - the daemon's camera streams: one pipeline per stream,
 * source ! convert/scale/rate ! caps, then one encoded track (track.h) that
 * every viewer of the stream shares. A failing source takes the stream
 * offline and it is retried; its state and viewer count are read by the
 * layers above. Main loop only; the streams are the table's (stream_*_all).
 */
#ifndef WHEPCAMD_MEDIA_STREAM_H
#define WHEPCAMD_MEDIA_STREAM_H

#include <glib.h>
#include <gst/gst.h>
#include <stdbool.h>

#include "base/config.h"
#include "track.h"

/*
 * A bin a media path adds to the pipeline per viewer is named with this
 * prefix: an error inside it is that viewer's, logged, and not the
 * stream's (which would take the stream offline).
 */
#define STREAM_VIEWER_BIN_PREFIX "v-"

enum stream_state { STREAM_STARTING, STREAM_LIVE, STREAM_OFFLINE };

struct stream {
	struct stream_config *cfg;
	char *source; /* resolved source spec in use */
	GstElement *pipeline;
	struct track *video;
	guint bus_watch;
	enum stream_state state;
	unsigned viewers; /* counted by the session layer */
	guint restart_timer;
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
	/* The source failed: the stream is offline and will be retried. End its viewers. */
	void (*offline)(struct stream *s);
};

/* The daemon's streams, built from `configs` (struct stream_config *, borrowed). */
int stream_start_all(GPtrArray *configs, const struct stream_hooks *hooks, char **err);
void stream_stop_all(void);
struct stream *stream_find(const char *name);
GPtrArray *stream_list(void);
const char *stream_state_name(enum stream_state st);
/* The GStreamer description of source + convert/scale/rate + caps. Caller frees. */
char *stream_source_description(const struct stream_config *cfg, const char *source);

/* track.c: main loop, the first frame came out of the encoder (data: the stream). */
gboolean stream_mark_live_cb(gpointer data);

#endif
