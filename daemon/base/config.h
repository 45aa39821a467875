/*
 * config.h - whepcamd's settings: struct daemon_config and the stream
 * configs it owns, filled once at start-up (defaults, ini file, command
 * line) and read-only afterwards. Main thread only.
 */
#ifndef WHEPCAMD_BASE_CONFIG_H
#define WHEPCAMD_BASE_CONFIG_H

#include <glib.h>

#include "whepcam.h" /* the defaults */

/*
 * The codecs whepcam sends: video (RTP: VP8 RFC 7741, H.264 RFC 6184
 * packetization-mode 1), the first CODEC_COUNT, and Opus for sound (RFC 7587).
 */
enum codec { CODEC_VP8, CODEC_H264, CODEC_OPUS };
#define CODEC_COUNT 2 /* the video codecs: what `codecs =` orders and tracks[] holds */
/* "VP8", "H264", "opus": the RTP encoding name. */
const char *codec_name(enum codec c);

struct stream_config {
	char *name;
	char *source; /* "auto", "test:", "v4l2:/dev/videoN", "file:PATH", "rtsp://…" */
	/* the codecs viewers may get, in preference order; n_codecs 0: the source's default */
	enum codec codecs[CODEC_COUNT];
	int n_codecs;
	char *h264_encoder;   /* "auto", "x264" or "v4l2" (v4l2h264enc) */
	char *rtsp_transport; /* "auto", "tcp" or "udp" */
	/* "none", "auto" (the source's own sound), "test" (a beep a second), "alsa:DEV",
	 * "pulse:DEV" */
	char *audio;
	int audio_kbps; /* Opus bitrate */
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
	int max_pending;             /* sessions without a valid ICE check yet, all together */
	int max_viewers_per_address; /* sessions one client address may hold; 0: no limit */
	int first_check_timeout_s;   /* a session with no valid ICE check by then is reaped */
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
/* ---- config_values.c ---- */
/* A decimal int in [min, max]; 0, or -1 (nothing written). */
int config_parse_int(const char *s, int min, int max, int *out);
/* "LOW-HIGH" within 1-65535; 0, or -1 with *err set (caller frees). */
int config_parse_port_range(const char *value, int *low, int *high, char **err);
/* "if1,if2": the IPv4/IPv6 addresses those interfaces have now, into *addresses (replaced). */
int config_parse_interfaces(const char *value, char ***addresses, char **err);
/* "auto" becomes v4l2:DEVICE when `device` opens as a capture device, else test:. Caller frees. */
char *config_resolve_source(const char *source, const char *device);

#endif
