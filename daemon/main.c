/*
 * main.c - whepcamd: loads the config, builds every stream, listens on
 * the control socket and runs the one GLib main loop that owns all state
 * until SIGINT or SIGTERM, then closes viewers and removes the socket.
 */
#define G_LOG_DOMAIN "whepcamd"
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

static struct {
	struct daemon_config cfg;
	GMainLoop *loop;
	GLogLevelFlags max_level;
} D;

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
	    "        --gather-timeout-ms N (10-%d)  --log-level error|warning|message|info|debug\n"
	    "ice:    --ice-mode auto|lite|full  --stun stun:HOST:PORT\n"
	    "        --turn turn:HOST:PORT?transport=udp  --turn-secret SECRET  --turn-ttl-s N\n"
	    "        --turn-username USER  --turn-password PASSWORD  --port-range LOW-HIGH\n"
	    "        --addresses A,B (or --ice-address A,B)  --interfaces IF,IF\n"
	    "        --public-address IP  --ice-tcp on|off\n"
	    "stream: --source auto|test:|v4l2:/dev/videoN|file:PATH  --width N  --height N\n"
	    "        --fps N  --bitrate-kbps N  --keyframe-interval N  --encoder-speed 0-16\n"
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
			        s->cfg->name, s->source);
		else if (strcmp(s->cfg->source, "auto") == 0 &&
		         g_str_has_prefix(s->source, "test:"))
			fprintf(stderr,
			        "whepcamd: stream %s: no camera at /dev/video0: streaming a test "
			        "pattern\n",
			        s->cfg->name);
		else
			fprintf(stderr, "whepcamd: stream %s: source %s\n", s->cfg->name,
			        s->source);
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
	viewer_init(NULL, &D.cfg, ctl_reply);
	if (direct_init(&D.cfg, &err) != 0) {
		g_critical("%s", err);
		goto out;
	}
	if (!direct_enabled())
		warmup_run(); /* webrtcbin's first-use costs; the direct path has none */

	if (stream_start_all(D.cfg.streams, &err) != 0) {
		g_critical("%s", err);
		goto out;
	}
	if (ctl_listen(&D.cfg, &err) != 0) {
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
	viewer_shutdown();
	stream_stop_all();
	direct_shutdown();
	g_main_loop_unref(D.loop);
	config_clear(&D.cfg);
	gst_deinit();
	return rc;
}
