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

/* ---- config.c ---- */

struct stream_config {
	char *name;
	char *source; /* "auto", "test:", "v4l2:/dev/videoN", "file:PATH" */
	int width, height, fps;
	int bitrate_kbps;
	int keyframe_interval; /* frames between forced keyframes */
	int encoder_speed;     /* vp8enc cpu-used: higher is cheaper and blurrier */
	int max_viewers;       /* 0: only the daemon-wide limit */
	char *token;           /* NULL or empty: open */
};

struct daemon_config {
	char *socket_path;
	int max_viewers;
	int ice_timeout_s;
	int gather_timeout_ms;
	char **ice_addresses; /* NULL: every interface; else only these */
	int min_port, max_port;
	gboolean ice_tcp;    /* also gather and accept ICE-TCP candidates */
	char *stun;          /* "stun:host:port" or NULL */
	char *turn;          /* "turn:host:port?transport=udp" (or turns:) or NULL */
	char *turn_secret;   /* shared secret for time-limited credentials, or NULL */
	char *turn_username; /* static credentials, or NULL */
	char *turn_password;
	int turn_ttl_s;       /* lifetime of time-limited credentials */
	char *public_address; /* announced beside host candidates (1:1 NAT), or NULL */
	char *ice_mode;       /* "auto", "lite" (direct path) or "full" (webrtcbin per viewer) */
	char *log_level;      /* error, warning, message, info, debug */
	GPtrArray *streams;   /* struct stream_config * */
};

/*
 * Fill `cfg` from argv (and the --config file it names). Returns 0, or -1
 * with a message in *err (caller frees). config_clear frees what it holds.
 */
int config_load(struct daemon_config *cfg, int argc, char **argv, char **err);
int config_load_keyfile(struct daemon_config *cfg, GKeyFile *kf, char **err);
void config_clear(struct daemon_config *cfg);
void config_defaults(struct daemon_config *cfg);
/* "auto" becomes v4l2:DEVICE when `device` opens as a capture device, else test:. Caller frees. */
char *config_resolve_source(const char *source, const char *device);

/* ---- sdp.c (pure text functions, unit-tested) ---- */

enum sdp_check {
	SDP_OK = 0,
	SDP_NOT_SDP,  /* 400 */
	SDP_NO_VIDEO, /* 400 */
	SDP_NO_CODEC, /* 406 */
};

/*
 * True when the offer's m-section is in use: a port other than 0, or port 0
 * with a=bundle-only (RFC 9143 7.2: "only inside the BUNDLE group", as
 * Firefox and webrtcbin mark every m-line after the first under max-bundle).
 */
bool sdp_media_in_use(const GstSDPMedia *m);

/*
 * Check an offer: parseable, at most WHEPCAM_MAX_MLINES m-sections, has a
 * video m-section in use (sdp_media_in_use) offering VP8 with
 * a 90 kHz clock. On SDP_OK *vp8_pt holds the payload type of the first
 * VP8 rtpmap in the first video m-line. `detail` gets a one-line reason.
 */
enum sdp_check sdp_check_offer(const char *sdp, int *vp8_pt, char *detail, size_t detail_len);

/*
 * Return a copy of `answer` in which every m-section with a non-zero port
 * carries the candidates (each "candidate:…" or "a=candidate:…") and ends
 * with a=end-of-candidates. Candidates already present are kept and not
 * repeated. Caller frees with g_free.
 */
char *sdp_splice_candidates(const char *answer, const GPtrArray *candidates);

/*
 * Return a copy of `answer` whose first active video section announces
 * `ssrc` with a=msid and a=ssrc lines (unless it has them). Caller frees.
 */
char *sdp_add_video_ssrc(const char *answer, guint32 ssrc, const char *msid);

/*
 * For hosts behind a 1:1 NAT: a copy of `candidates` where every host
 * candidate is followed by the same one on `public_address` (a new
 * foundation, priority one lower). NULL address: a plain copy. Caller unrefs.
 */
GPtrArray *sdp_public_candidates(const GPtrArray *candidates, const char *public_address);

/*
 * webrtcbin's answer: the player starts DTLS (RFC 8842: an answer to
 * actpass may be passive), so turn a=setup:active into passive.
 */
void sdp_answer_passive(GstSDPMessage *sdp);
/* A strong ETag for an answer: from its ICE ufrag, which names the ICE session. Caller frees. */
char *sdp_etag(const char *sdp);

/* ---- sdpfrag.c ---- */

struct sdpfrag_candidate {
	char *mid;  /* the a=mid before it, or NULL */
	char *line; /* "candidate:…" */
};

struct sdpfrag {
	char *ufrag, *pwd;     /* NULL unless the fragment carries credentials */
	GPtrArray *candidates; /* struct sdpfrag_candidate * */
	bool end_of_candidates;
};

/* Parse a trickle-ice-sdpfrag body. 0, or -1 with a one-line reason. sdpfrag_clear frees. */
int sdpfrag_parse(const char *text, struct sdpfrag *out, char *err, size_t errlen);
void sdpfrag_clear(struct sdpfrag *f);
/* True when `cand` ("candidate:…") has the shape of RFC 8839 §5.1. */
bool sdpfrag_candidate_ok(const char *cand);

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

/* ---- ice_servers.c ---- */

/* TURN username and credential (caller frees both; NULL when none are configured). */
void ice_servers_turn_credentials(const struct daemon_config *cfg, gint64 now_s, char **username,
                                  char **credential);
/* The Link header values for the configured STUN and TURN servers. Caller puts. */
json_object *ice_servers_links(const struct daemon_config *cfg, gint64 now_s);
/* turn(s)://USER:PASS@HOST:PORT for webrtcbin's turn-server, or NULL. Caller frees. */
char *ice_servers_turn_uri(const struct daemon_config *cfg, gint64 now_s);

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

/* ---- notify.c ---- */
/* Sends `state` ("READY=1", "STOPPING=1", ...) to systemd when it asked for it. */
void notify_systemd(const char *state);

/* ---- util.c ---- */
void util_mark_start(void);
/* Seconds since util_mark_start(). */
gint64 util_uptime_s(void);
/* 128 random bits as 32 lowercase hex digits into out[WHEPCAM_SESSION_HEX + 1]. */
int session_id_new(char out[WHEPCAM_SESSION_HEX + 1]);
/*
 * An interface address as text into buf (INET6_ADDRSTRLEN): true for IPv4
 * and IPv6 but link-local, which ICE cannot use without a scope.
 */
bool util_usable_address(const struct sockaddr *sa, char *buf, size_t len);
/* Constant-time string comparison. */
bool util_secret_equal(const char *a, const char *b);

#endif
