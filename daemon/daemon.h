/*
 * daemon.h - whepcamd's types and prototypes, grouped by file.
 * One GLib main loop owns every structure here; GStreamer callbacks hop
 * onto it (g_main_context_invoke) before touching a table.
 */
#ifndef WHEPCAMD_H
#define WHEPCAMD_H

#include <glib.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto.h"
#include "whepcam.h"

#include "base/config.h"
#include "base/ice_servers.h"
#include "base/util.h"
#include "wire/sdp.h"
#include "wire/sdpfrag.h"

/* ---- stream.c ---- */

enum stream_state { STREAM_STARTING, STREAM_LIVE, STREAM_OFFLINE };

struct stream {
	struct stream_config *cfg;
	char *source; /* resolved source spec in use */
	GstElement *pipeline;
	GstElement *encoder;
	GstElement *tee;
	guint bus_watch;
	enum stream_state state;
	unsigned viewers;
	/* keyframe requests: coalesced and rate-limited */
	gint keyframe_pending; /* atomic: the streaming thread clears it */
	gint64 last_keyframe_request_us;
	gint64 last_pli_us;
	guint keyframe_timer;
	guint64 keyframes_forced;
	guint restart_timer;
	gpointer frames;      /* frames encoded; atomic (gsize), bumped by the encoder thread */
	gsize frames_at_tick; /* for fps_measured */
	guint fps_measured;   /* frames encoded over the last second */
	guint fps_timer;
	struct fanout *fanout; /* the direct path's shared payloader and its viewers, or NULL */
};

struct stream *stream_new(struct stream_config *cfg, char **err);
void stream_free(struct stream *s);
enum keyframe_reason { KEYFRAME_FOR_JOIN, KEYFRAME_FOR_PLI };
/*
 * Ask the encoder for a keyframe soon. Calls while one is on its way share
 * it; joins force at most one per 100 ms, viewers' PLI/FIR one per 500 ms.
 */
void stream_request_keyframe(struct stream *s, enum keyframe_reason why);
/* Any thread: a viewer's PLI/FIR, handed to the main loop's stream_request_keyframe. */
void stream_request_keyframe_any_thread(struct stream *s);
const char *stream_state_name(enum stream_state st);
/* The daemon's streams, built from `configs` (struct stream_config *, borrowed). */
int stream_start_all(GPtrArray *configs, char **err);
void stream_stop_all(void);
struct stream *stream_find(const char *name);
GPtrArray *stream_list(void);
/* The GStreamer description of source + convert/scale/rate + caps. Caller frees. */
char *stream_source_description(const struct stream_config *cfg, const char *source);

/* ---- viewer.c ---- */

struct viewer;
/* Sends `line` (taken) to a control client; false when that client has gone. */
typedef bool (*viewer_reply_fn)(guint64 client_id, char *line);

void viewer_init(GMainContext *ctx, const struct daemon_config *cfg, viewer_reply_fn reply);
void viewer_shutdown(void);
/* Starts an offer; the reply line comes later through the reply function. */
void viewer_offer(struct stream *s, const char *sdp, const char *peer, guint64 client_id);
/* Returns the HTTP status: 200, or 404 when there is no such session on that stream. */
int viewer_delete(struct stream *s, const char *session);
/*
 * Apply a trickle-ice-sdpfrag to a session: 204 (candidates added), 400
 * (malformed), 404, 412 (If-Match is not the ETag or "*"), 422 (an ICE
 * restart, which webrtcbin cannot do here; the session is kept).
 */
int viewer_patch(struct stream *s, const char *session, const char *frag, const char *if_match,
                 char *detail, size_t detail_len);
unsigned viewer_count(void);
/* Add the RTP packets and encoded bytes sent to the viewers there are now. */
void viewer_traffic(guint64 *packets, guint64 *bytes);

void viewer_reap_stream(struct stream *s, const char *reason);

/* ---- direct.c ---- */

/* Start the direct path (ICE-lite sockets, DTLS certificate) unless the ICE mode is full. */
int direct_init(const struct daemon_config *cfg, char **err);
void direct_shutdown(void);
/* Whether viewers use the direct path (the config's ICE mode). */
bool direct_enabled(void);
/* Packets sent again on viewers' NACKs, all streams (fanout.c; for /metrics). */
guint64 fanout_resent_total(void);
/* Direct-path peers allocated and not yet freed: a leak shows here. */
int direct_live_peers(void);

/* ---- reaper.c ---- */

void reaper_init(void);
/*
 * Release a removed viewer's elements: unlink `tee_pad` when idle, then on
 * the reaper thread release it from `tee` and set `bin` to NULL and remove
 * it from `pipeline`. Takes ownership of tee_pad and bin (either may be NULL).
 */
void reaper_release(GstElement *pipeline, GstElement *tee, GstPad *tee_pad, GstElement *bin,
                    const char *sid);
/* Wait (bounded) for queued releases, then stop the reaper thread. */
void reaper_shutdown(void);
/* Count `webrtc` until it is finalized. */
void reaper_count_webrtcbin(GstElement *webrtc);
/* webrtcbins created and not yet finalized: a leak shows here. */
int reaper_live_webrtcbins(void);

/* ---- warmup.c ---- */

/* Answer one canned offer with a throwaway webrtcbin: first-viewer costs at start-up. */
void warmup_run(void);

/* ---- metrics.c ---- */

void metrics_offer(int status);
/* A session ended: count its reason and keep the traffic it had. */
void metrics_reaped(const char *reason, guint64 packets, guint64 bytes);
/* Everything in Prometheus text format. Caller frees. */
char *metrics_text(void);

/* ---- ctl.c ---- */

/* Listen on cfg->socket_path (mode 0660); cfg must outlive the socket. */
int ctl_listen(const struct daemon_config *cfg, char **err);
void ctl_close(void);
/* Send `line` (takes ownership) to a waiting client; false (line dropped) if it has gone. */
bool ctl_reply(guint64 client_id, char *line);

#endif
