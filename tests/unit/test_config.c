/* Config defaults, ini parsing, command-line overrides, source selection (daemon/config.c,
 * daemon/stream.c's source description: the v4l2 path is built here without a camera). */
#include <glib/gstdio.h>
#include <string.h>

#include "base/config.h"
#include "media/stream.h"

static int load_args(struct daemon_config *cfg, const char *const *args, char **err)
{
	int argc = 0;

	while (args[argc] != NULL)
		argc++;
	return config_load(cfg, argc, (char **)args, err);
}

static void test_defaults(void)
{
	const char *args[] = {"whepcamd", NULL};
	struct daemon_config cfg;
	struct stream_config *sc;
	char *err = NULL;

	g_assert_cmpint(load_args(&cfg, args, &err), ==, 0);
	g_assert_cmpstr(cfg.socket_path, ==, WHEPCAM_DEFAULT_SOCKET);
	g_assert_cmpint(cfg.max_viewers, ==, 200);
	g_assert_cmpint(cfg.ice_timeout_s, ==, 15);
	g_assert_cmpint(cfg.turn_ttl_s, ==, 86400);
	g_assert_cmpuint(cfg.streams->len, ==, 1);
	sc = g_ptr_array_index(cfg.streams, 0);
	g_assert_cmpstr(sc->name, ==, "cam");
	g_assert_cmpstr(sc->source, ==, "auto");
	g_assert_cmpint(sc->width, ==, 1280);
	g_assert_cmpint(sc->height, ==, 720);
	g_assert_cmpint(sc->fps, ==, 30);
	g_assert_cmpint(sc->bitrate_kbps, ==, 2000);
	g_assert_cmpint(sc->encoder_speed, ==, 8);
	g_assert_cmpstr(sc->audio, ==, "auto");
	g_assert_null(sc->token);
	config_clear(&cfg);
}

static void test_keyfile_and_overrides(void)
{
	const char *ini =
	    "[daemon]\nsocket = /tmp/x.sock\nmax-viewers = 7\nturn-ttl-s = 600\n"
	    "[ice]\nport-range = 40000-40010\nstun = stun:stun.example.org:3478\n"
	    "addresses = 127.0.0.1\n"
	    "[stream front]\nsource = test:ball\nwidth = 640\nheight = 360\n"
	    "token = s3cret\naudio = test\naudio-kbps = 32\n"
	    "[stream back]\nsource = v4l2:/dev/video2\nfps = 15\nencoder-speed = 16\n"
	    "audio = alsa:hw:1,0\n";
	char *path = g_build_filename(g_get_tmp_dir(), "whepcam-test.conf", NULL);
	const char *args[] = {"whepcamd", "--config", path, "--fps", "20", "--max-viewers=9", NULL};
	struct daemon_config cfg;
	struct stream_config *front, *back;
	char *err = NULL;

	g_assert_true(g_file_set_contents(path, ini, -1, NULL));
	g_assert_cmpint(load_args(&cfg, args, &err), ==, 0);
	g_assert_cmpstr(cfg.socket_path, ==, "/tmp/x.sock");
	g_assert_cmpint(cfg.max_viewers, ==, 9); /* the command line wins */
	g_assert_cmpint(cfg.turn_ttl_s, ==, 600);
	g_assert_cmpint(cfg.min_port, ==, 40000);
	g_assert_cmpint(cfg.max_port, ==, 40010);
	g_assert_cmpstr(cfg.stun, ==, "stun:stun.example.org:3478");
	g_assert_cmpstr(cfg.ice_addresses[0], ==, "127.0.0.1");
	g_assert_cmpuint(cfg.streams->len, ==, 2);
	front = g_ptr_array_index(cfg.streams, 0);
	back = g_ptr_array_index(cfg.streams, 1);
	g_assert_cmpstr(front->name, ==, "front");
	g_assert_cmpstr(front->source, ==, "test:ball");
	g_assert_cmpint(front->width, ==, 640);
	g_assert_cmpint(front->fps, ==, 20); /* stream options apply to the first stream */
	g_assert_cmpstr(front->token, ==, "s3cret");
	g_assert_cmpstr(back->source, ==, "v4l2:/dev/video2");
	g_assert_cmpint(back->fps, ==, 15);
	g_assert_cmpint(back->encoder_speed, ==, 16);
	g_assert_cmpint(front->encoder_speed, ==, 8);
	g_assert_cmpstr(front->audio, ==, "test");
	g_assert_cmpint(front->audio_kbps, ==, 32);
	g_assert_cmpstr(back->audio, ==, "alsa:hw:1,0");
	g_assert_cmpint(back->audio_kbps, ==, WHEPCAM_DEFAULT_AUDIO_KBPS);
	config_clear(&cfg);
	g_unlink(path);
	g_free(path);
}

static void expect_error(const char *const *args, const char *want)
{
	struct daemon_config cfg;
	char *err = NULL;

	g_assert_cmpint(load_args(&cfg, args, &err), ==, -1);
	g_assert_nonnull(err);
	if (strstr(err, want) == NULL)
		g_error("wanted \"%s\" in \"%s\"", want, err);
	g_free(err);
	config_clear(&cfg);
}

static void test_errors(void)
{
	const char *a1[] = {"whepcamd", "--width", "0", NULL};
	const char *a2[] = {"whepcamd", "--fps", "30x", NULL};
	const char *a3[] = {"whepcamd", "--bogus", "1", NULL};
	const char *a4[] = {"whepcamd", "--source", "rtmp://x", NULL};
	const char *a5[] = {"whepcamd", "--port-range", "5-1", NULL};
	const char *a6[] = {"whepcamd", "--config", "/nonexistent/whepcam.conf", NULL};
	const char *a7[] = {"whepcamd", "--width", NULL};
	const char *a8[] = {"whepcamd", "--source", "v4l2:/dev/video0\" ! evil", NULL};
	const char *a9[] = {"whepcamd", "--config=/nonexistent/whepcam.conf", NULL};
	const char *a10[] = {"whepcamd", "--encoder-speed", "17", NULL};
	const char *a11[] = {"whepcamd", "--audio", "mic", NULL};
	const char *a12[] = {"whepcamd", "--audio", "alsa:", NULL};
	const char *a13[] = {"whepcamd", "--audio", "alsa:hw:0\" ! evil", NULL};
	const char *a14[] = {"whepcamd", "--audio-kbps", "5", NULL};

	expect_error(a1, "width must be a number from 16");
	expect_error(a2, "fps must be a number");
	expect_error(a3, "unknown key bogus");
	expect_error(a4, "source must be");
	expect_error(a5, "port-range must be");
	expect_error(a6, "/nonexistent/whepcam.conf");
	expect_error(a7, "needs a value");
	expect_error(a8, "source must be");
	expect_error(a9, "/nonexistent/whepcam.conf"); /* --config=FILE is read too */
	expect_error(a10, "encoder-speed must be a number from 0 to 16");
	expect_error(a11, "audio must be none, auto, test, alsa:DEVICE or pulse:DEVICE");
	expect_error(a12, "audio must be");
	expect_error(a13, "audio must be");
	expect_error(a14, "audio-kbps must be a number from 6 to 510");
}

/*
 * gather-timeout-ms stops below the control socket's own deadline (and that
 * below whepcam-fcgi's): a longer wait would only end in a dropped client.
 */
static void test_gather_timeout_bound(void)
{
	char *max = g_strdup_printf("%d", WHEPCAM_MAX_GATHER_TIMEOUT_MS);
	char *over = g_strdup_printf("%d", WHEPCAM_MAX_GATHER_TIMEOUT_MS + 1);
	char *want = g_strdup_printf("gather-timeout-ms must be a number from 10 to %d",
	                             WHEPCAM_MAX_GATHER_TIMEOUT_MS);
	const char *ok[] = {"whepcamd", "--gather-timeout-ms", max, NULL};
	const char *bad[] = {"whepcamd", "--gather-timeout-ms", over, NULL};
	const char *sixty[] = {"whepcamd", "--gather-timeout-ms", "60000", NULL};
	struct daemon_config cfg;
	char *err = NULL;

	g_assert_cmpint(WHEPCAM_MAX_GATHER_TIMEOUT_MS, <, WHEPCAM_CTL_READ_TIMEOUT_MS);
	g_assert_cmpint(WHEPCAM_CTL_READ_TIMEOUT_MS, <, WHEPCAM_RELAY_TIMEOUT_MS);
	g_assert_cmpint(load_args(&cfg, ok, &err), ==, 0);
	g_assert_cmpint(cfg.gather_timeout_ms, ==, WHEPCAM_MAX_GATHER_TIMEOUT_MS);
	config_clear(&cfg);
	expect_error(bad, want);
	expect_error(sixty, want);
	g_free(max);
	g_free(over);
	g_free(want);
}

static void test_interfaces(void)
{
	const char *ok[] = {"whepcamd", "--interfaces", "lo", NULL};
	const char *bad[] = {"whepcamd", "--interfaces", "no-such-if0", NULL};
	struct daemon_config cfg;
	char *err = NULL;
	guint i;
	bool v4 = false;

	g_assert_cmpint(load_args(&cfg, ok, &err), ==, 0);
	for (i = 0; cfg.ice_addresses[i] != NULL; i++)
		v4 |= strcmp(cfg.ice_addresses[i], "127.0.0.1") == 0;
	g_assert_true(v4);
	config_clear(&cfg);
	expect_error(bad, "no-such-if0 has no usable address");

	/* Empty (as in the example config, uncommented) means every interface. */
	for (i = 0; i < 2; i++) {
		const char *empty[] = {"whepcamd", i == 0 ? "--addresses" : "--interfaces", "",
		                       NULL};

		g_assert_cmpint(load_args(&cfg, empty, &err), ==, 0);
		g_assert_null(cfg.ice_addresses);
		config_clear(&cfg);
	}
}

/* A bad value in a file names the file, the section and the key. */
static void test_file_error_names_key(void)
{
	char *path = g_build_filename(g_get_tmp_dir(), "whepcam-test-bad.conf", NULL);
	const char *args[] = {"whepcamd", "--config", path, NULL};
	char *want = g_strdup_printf("%s: [daemon] max-viewers must be a number", path);

	g_assert_true(
	    g_file_set_contents(path, "[daemon]\nmax-viewers = 200 ; a comment\n", -1, NULL));
	expect_error(args, want);
	g_assert_true(g_file_set_contents(path, "[stream cam]\nwidht = 320\n", -1, NULL));
	g_free(want);
	want = g_strdup_printf("%s: [stream cam] unknown key widht", path);
	expect_error(args, want);
	g_unlink(path);
	g_free(want);
	g_free(path);
}

static void test_source_selection(void)
{
	char *s;

	s = config_resolve_source("auto", "/nonexistent/video0");
	g_assert_cmpstr(s, ==, "test:");
	g_free(s);
	s = config_resolve_source("auto", "/dev/null"); /* opens, but is no capture device */
	g_assert_cmpstr(s, ==, "test:");
	g_free(s);
	s = config_resolve_source("v4l2:/dev/video3", "/dev/video0");
	g_assert_cmpstr(s, ==, "v4l2:/dev/video3");
	g_free(s);
}

static void test_source_descriptions(void)
{
	struct stream_config sc = {.width = 640, .height = 480, .fps = 15};
	GstElement *bin;
	char *d;

	d = stream_source_description(&sc, "v4l2:/dev/video1");
	g_assert_true(g_str_has_prefix(d, "v4l2src device=\"/dev/video1\" ! decodebin "));
	g_assert_nonnull(strstr(d, "width=640,height=480,framerate=15/1"));
	/* It must be a description GStreamer accepts, even with no camera here. */
	bin = gst_parse_bin_from_description(d, TRUE, NULL);
	g_assert_nonnull(bin);
	gst_object_unref(bin);
	g_free(d);

	d = stream_source_description(&sc, "test:");
	g_assert_true(g_str_has_prefix(d, "videotestsrc is-live=true pattern=smpte"));
	g_assert_nonnull(strstr(d, "clockoverlay"));
	bin = gst_parse_bin_from_description(d, TRUE, NULL);
	g_assert_nonnull(bin);
	gst_object_unref(bin);
	g_free(d);

	d = stream_source_description(&sc, "test:ball");
	g_assert_nonnull(strstr(d, "pattern=ball"));
	g_free(d);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/keyfile-and-overrides", test_keyfile_and_overrides);
	g_test_add_func("/config/errors", test_errors);
	g_test_add_func("/config/gather-timeout-bound", test_gather_timeout_bound);
	g_test_add_func("/config/source-selection", test_source_selection);
	g_test_add_func("/config/interfaces", test_interfaces);
	g_test_add_func("/config/file-error-names-key", test_file_error_names_key);
	g_test_add_func("/config/source-descriptions", test_source_descriptions);
	return g_test_run();
}
