/*
 * main.c - whepcamd: loads the config, builds every stream, listens on
 * the control socket and runs the one GLib main loop that owns all state
 * until SIGINT or SIGTERM, then closes viewers and removes the socket.
 * The composition root: the only file that knows both media paths. It
 * picks one and wires the layers' callbacks (docs/architecture.md).
 */
#define G_LOG_DOMAIN "whepcamd"
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/util.h"
#include "ctl/ctl.h"
#include "ctl/metrics.h"
#include "full/full.h"
#include "lite/lite.h"
#include "media/stream.h"
#include "session/viewer.h"

static struct {
	struct daemon_config cfg;
	GMainLoop *loop;
	GLogLevelFlags max_level;
	bool lite; /* the media path: the direct one (ICE-lite), or a webrtcbin per viewer */
} D;

/* "full" (or TURN/ICE-TCP in "auto") needs a full ICE agent: webrtcbin's. */
static bool wants_lite(const struct daemon_config *cfg)
{
	if (strcmp(cfg->ice_mode, "lite") == 0)
		return true;
	if (strcmp(cfg->ice_mode, "full") == 0)
		return false;
	return cfg->turn == NULL && !cfg->ice_tcp;
}

/* ---- the callbacks that carry events up, wired here ---- */

/*
 * media -> session, lite: a failed source keeps its viewers (their players
 * see a pause; new offers get 409); when it is back each needs a keyframe,
 * and the direct path's kept GOP from before must not reach anyone.
 */
static void on_stream_online(struct stream *s)
{
	if (D.lite)
		lite_stream_back(s);
	viewer_stream_back(s);
}

static const struct stream_hooks lite_stream_hooks = {
    .track_added = lite_track_added,
    .track_removed = lite_track_removed,
    .online = on_stream_online,
};

static const struct stream_hooks full_stream_hooks = {
    .track_added = full_track_added,
    .online = on_stream_online,
};

/* session -> ctl: replies go to control clients, ends to the metrics. */
static const struct session_hooks session_hooks = {
    .reply = ctl_reply,
    .ended = metrics_reaped,
};

/* lite, full -> ctl: each path's counters (0 from the path not in use). */
static const struct metrics_sources metrics_sources = {
    .resends = lite_resends,
    .live_peers = lite_live_peers,
    .live_webrtcbins = reaper_live_webrtcbins,
};

static GLogLevelFlags parse_level(const char *name)
{
	static const struct {
		const char *name;
		GLogLevelFlags level;
	} levels[] = {
	    {"error", G_LOG_LEVEL_CRITICAL},  {"warning", G_LOG_LEVEL_WARNING},
	    {"message", G_LOG_LEVEL_MESSAGE}, {"info", G_LOG_LEVEL_INFO},
	    {"debug", G_LOG_LEVEL_DEBUG},
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(levels); i++)
		if (g_ascii_strcasecmp(name, levels[i].name) == 0)
			return levels[i].level;
	return G_LOG_LEVEL_MESSAGE;
}

/* One line per message on stderr (journald adds the time under systemd). */
static void log_handler(const char *domain, GLogLevelFlags level, const char *msg, gpointer data)
{
	static const char *const names[] = {"error",   "critical", "warning",
	                                    "message", "info",     "debug"};
	GLogLevelFlags lv = level & G_LOG_LEVEL_MASK;
	int idx = 0;

	if (lv > D.max_level)
		return;
	while (idx < 5 && !(lv & (G_LOG_LEVEL_ERROR << idx)))
		idx++;
	fprintf(stderr, "whepcamd %s: %s: %s\n", names[idx], domain != NULL ? domain : "gst", msg);
}

static gboolean on_signal_cb(gpointer data)
{
	g_message("%s: shutting down", (const char *)data);
	g_main_loop_quit(D.loop);
	return G_SOURCE_REMOVE;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: whepcamd [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n"
	    "                [--stream NAME [stream options]]...\n"
	    "daemon: --socket PATH  --max-viewers N  --ice-timeout-s N\n"
	    "        --max-pending N  --max-viewers-per-address N  --first-check-timeout-s N\n"
	    "        --gather-timeout-ms N (10-%d)  --log-level error|warning|message|info|debug\n"
	    "ice:    --ice-mode auto|lite|full  --stun stun:HOST:PORT\n"
	    "        --turn turn:HOST:PORT?transport=udp  --turn-secret SECRET  --turn-ttl-s N\n"
	    "        --turn-username USER  --turn-password PASSWORD  --port-range LOW-HIGH\n"
	    "        --addresses A,B (or --ice-address A,B)  --interfaces IF,IF\n"
	    "        --public-address IP  --ice-tcp on|off\n"
	    "stream: --source auto|test:|v4l2:/dev/videoN|file:PATH|rtsp://URL  --width N\n"
	    "        --height N  --fps N  --bitrate-kbps N  --keyframe-interval N\n"
	    "        --encoder-speed 0-16  --codecs vp8,h264  --h264-encoder auto|x264|v4l2\n"
	    "        --rtsp-transport auto|tcp|udp\n"
	    "        --audio none|auto|test|alsa:DEVICE|pulse:DEVICE  --audio-kbps N (6-510)\n"
	    "        --max-viewers N (after --stream)  --token SECRET\n"
	    "Every option is also a key of the config file: man whepcam.conf.\n",
	    WHEPCAM_MAX_GATHER_TIMEOUT_MS);
}

/*
 * What each stream shows as the daemon gets ready, at every log level: a
 * camera that is missing must not hide behind "ready" (a failed source keeps
 * being retried, so a camera plugged in later still starts).
 */
static void report_streams(void)
{
	GPtrArray *streams = stream_list();
	guint i;

	for (i = 0; i < streams->len; i++) {
		const struct stream *s = g_ptr_array_index(streams, i);

		if (s->state == STREAM_OFFLINE)
			fprintf(stderr,
			        "whepcamd: stream %s: offline: source %s did not start; retrying "
			        "(offers get 409 until it does)\n",
			        s->cfg->name, s->source_public);
		else if (strcmp(s->cfg->source, "auto") == 0 &&
		         g_str_has_prefix(s->source, "test:"))
			fprintf(stderr,
			        "whepcamd: stream %s: no camera at /dev/video0: streaming a test "
			        "pattern\n",
			        s->cfg->name);
		else
			fprintf(stderr, "whepcamd: stream %s: source %s\n", s->cfg->name,
			        s->source_public);
	}
}

int main(int argc, char **argv)
{
	char *err = NULL;
	int rc = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage();
		return 0;
	}
	D.max_level = G_LOG_LEVEL_MESSAGE;
	g_log_set_default_handler(log_handler, NULL);
	if (config_load(&D.cfg, argc, argv, &err) != 0) {
		/* One line naming the option, or the file, section and key. */
		fprintf(stderr, "whepcamd: %s\n", err);
		g_free(err);
		config_clear(&D.cfg);
		return 2;
	}
	D.max_level = parse_level(D.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	gst_init(NULL, NULL);
	util_mark_start();
	D.loop = g_main_loop_new(NULL, FALSE);
	D.lite = wants_lite(&D.cfg);
	viewer_init(NULL, &D.cfg, D.lite ? &lite_session_ops : &full_session_ops, &session_hooks);
	if (D.lite) {
		if (lite_init(&D.cfg, viewer_host(), &err) != 0) {
			g_critical("%s", err);
			goto out;
		}
	} else {
		full_init(NULL, &D.cfg, viewer_host());
		warmup_run(); /* webrtcbin's first-use costs; the direct path has none */
	}

	if (stream_start_all(D.cfg.streams, D.lite ? &lite_stream_hooks : &full_stream_hooks,
	                     &err) != 0) {
		g_critical("%s", err);
		goto out;
	}
	if (ctl_listen(&D.cfg, &metrics_sources, &err) != 0) {
		g_critical("%s", err);
		goto out;
	}
	g_unix_signal_add(SIGINT, on_signal_cb, (gpointer) "SIGINT");
	g_unix_signal_add(SIGTERM, on_signal_cb, (gpointer) "SIGTERM");
	report_streams();
	/* Printed at every log level: launchers and tests wait for this line. */
	fprintf(stderr, "whepcamd: ready: %u stream(s), control socket %s\n", stream_list()->len,
	        D.cfg.socket_path);
	notify_systemd("READY=1\nSTATUS=serving WHEP offers");
	g_main_loop_run(D.loop);
	notify_systemd("STOPPING=1");
	rc = 0;
out:
	g_free(err);
	ctl_close();
	viewer_shutdown(); /* every viewer's stop(): the media paths let go of them */
	if (!D.lite)
		full_shutdown(); /* the reaper, before the pipelines it releases from go */
	stream_stop_all();
	if (D.lite)
		lite_shutdown(); /* after the fan-outs went with their tracks */
	g_main_loop_unref(D.loop);
	config_clear(&D.cfg);
	gst_deinit();
	return rc;
}
