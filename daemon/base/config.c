/*
 * config.c - whepcamd's settings: defaults, the ini file (GKeyFile) and
 * command-line overrides, each value range-checked. Owns struct
 * daemon_config and the stream configs it holds.
 */
#include <stdlib.h>

#include <gio/gio.h>

#include "proto.h"

#include "config.h"
#include "util.h"

#define STREAM_PREFIX "stream "

struct int_key {
	const char *key;
	int min, max;
	size_t offset;
};

#define DKEY(k, lo, hi, field)                                                                     \
	{                                                                                          \
		k, lo, hi, offsetof(struct daemon_config, field)                                   \
	}
#define SKEY(k, lo, hi, field)                                                                     \
	{                                                                                          \
		k, lo, hi, offsetof(struct stream_config, field)                                   \
	}

static const struct int_key daemon_int_keys[] = {
    DKEY("max-viewers", 1, 100000, max_viewers),
    DKEY("ice-timeout-s", 1, 3600, ice_timeout_s),
    DKEY("max-pending", 1, 100000, max_pending),
    DKEY("max-viewers-per-address", 0, 100000, max_viewers_per_address),
    DKEY("first-check-timeout-s", 1, 3600, first_check_timeout_s),
    DKEY("gather-timeout-ms", 10, WHEPCAM_MAX_GATHER_TIMEOUT_MS, gather_timeout_ms),
    DKEY("turn-ttl-s", 60, 30 * 86400, turn_ttl_s),
    {NULL, 0, 0, 0},
};
static const struct int_key stream_int_keys[] = {
    SKEY("width", 16, 7680, width),
    SKEY("height", 16, 4320, height),
    SKEY("fps", 1, 240, fps),
    SKEY("bitrate-kbps", 50, 100000, bitrate_kbps),
    SKEY("keyframe-interval", 1, 10000, keyframe_interval),
    SKEY("audio-kbps", 6, 510, audio_kbps), /* Opus's range */
    SKEY("encoder-speed", 0, 16, encoder_speed),
    SKEY("max-viewers", 0, 100000, max_viewers),
    {NULL, 0, 0, 0},
};

static struct stream_config *stream_config_new(const char *name)
{
	struct stream_config *sc = g_new0(struct stream_config, 1);

	sc->name = g_strdup(name);
	sc->source = g_strdup("auto");
	sc->width = 1280;
	sc->height = 720;
	sc->fps = 30;
	sc->bitrate_kbps = 2000;
	sc->keyframe_interval = 300;
	sc->encoder_speed = 8;
	sc->h264_encoder = g_strdup("auto");
	sc->rtsp_transport = g_strdup("auto");
	sc->audio = g_strdup("auto");
	sc->audio_kbps = WHEPCAM_DEFAULT_AUDIO_KBPS;
	return sc;
}

static void stream_config_free(gpointer p)
{
	struct stream_config *sc = p;

	g_free(sc->name);
	g_free(sc->source);
	g_free(sc->token);
	g_free(sc->h264_encoder);
	g_free(sc->rtsp_transport);
	g_free(sc->audio);
	g_free(sc);
}

void config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_path = g_strdup(WHEPCAM_DEFAULT_SOCKET);
	cfg->max_viewers = WHEPCAM_DEFAULT_MAX_VIEWERS;
	cfg->ice_timeout_s = WHEPCAM_DEFAULT_ICE_TIMEOUT_S;
	cfg->max_pending = WHEPCAM_DEFAULT_MAX_PENDING;
	cfg->max_viewers_per_address = WHEPCAM_DEFAULT_MAX_PER_ADDRESS;
	cfg->first_check_timeout_s = WHEPCAM_DEFAULT_FIRST_CHECK_S;
	cfg->gather_timeout_ms = WHEPCAM_DEFAULT_GATHER_TIMEOUT_MS;
	cfg->turn_ttl_s = 86400;
	cfg->log_level = g_strdup("message");
	cfg->ice_mode = g_strdup("auto");
	cfg->streams = g_ptr_array_new_with_free_func(stream_config_free);
}

void config_clear(struct daemon_config *cfg)
{
	g_free(cfg->socket_path);
	g_strfreev(cfg->ice_addresses);
	g_free(cfg->stun);
	g_free(cfg->turn);
	g_free(cfg->turn_secret);
	g_free(cfg->turn_username);
	g_free(cfg->turn_password);
	g_free(cfg->public_address);
	g_free(cfg->ice_mode);
	g_free(cfg->log_level);
	if (cfg->streams != NULL)
		g_ptr_array_unref(cfg->streams);
	memset(cfg, 0, sizeof(*cfg));
}

static int set_int_key(void *base, const struct int_key *keys, const char *key, const char *value,
                       char **err)
{
	for (; keys->key != NULL; keys++) {
		if (strcmp(keys->key, key) != 0)
			continue;
		if (config_parse_int(value, keys->min, keys->max,
		                     (int *)((char *)base + keys->offset)) != 0) {
			*err = g_strdup_printf("%s must be a number from %d to %d, not \"%s\"", key,
			                       keys->min, keys->max, value);
			return -1;
		}
		return 0;
	}
	return 1; /* not an int key */
}

const char *codec_name(enum codec c)
{
	return c == CODEC_H264 ? "H264" : c == CODEC_OPUS ? "opus" : "VP8";
}

static bool valid_source(const char *s)
{
	/* Paths and URLs go into a GStreamer description: no quotes, backslashes or spaces. */
	if (strpbrk(s, "\"\\") != NULL)
		return false;
	if (g_str_has_prefix(s, "rtsp://") || g_str_has_prefix(s, "rtsps://"))
		return strpbrk(s, " \t\r\n'") == NULL && strlen(s) > strlen("rtsp://");
	return strcmp(s, "auto") == 0 || g_str_has_prefix(s, "test:") ||
	       (g_str_has_prefix(s, "v4l2:/") && strlen(s) > 6) ||
	       (g_str_has_prefix(s, "file:") && strlen(s) > 5);
}

/* "vp8,h264": each codec once, in preference order. */
static int set_codecs(struct stream_config *sc, const char *value, char **err)
{
	char **names = g_strsplit(value, ",", CODEC_COUNT + 2);
	int n = 0, rc = -1;
	guint i;

	for (i = 0; names[i] != NULL; i++) {
		const char *name = g_strstrip(names[i]);
		enum codec c;
		int j;

		if (g_ascii_strcasecmp(name, "vp8") == 0)
			c = CODEC_VP8;
		else if (g_ascii_strcasecmp(name, "h264") == 0)
			c = CODEC_H264;
		else
			goto out;
		for (j = 0; j < n; j++)
			if (sc->codecs[j] == c)
				goto out;
		if (n == CODEC_COUNT)
			goto out;
		sc->codecs[n++] = c;
	}
	sc->n_codecs = n;
	rc = 0;
out:
	if (rc != 0)
		*err = g_strdup_printf("codecs must be vp8, h264 or both in order of preference "
		                       "(vp8,h264), each once, not \"%s\"",
		                       value);
	g_strfreev(names);
	return rc;
}

/* A key whose value is one of `allowed` (NULL-terminated). */
static int set_choice(char **field, const char *key, const char *value, const char *const *allowed,
                      char **err)
{
	if (!g_strv_contains(allowed, value)) {
		char *list = g_strjoinv("|", (char **)allowed);

		*err = g_strdup_printf("%s must be %s, not \"%s\"", key, list, value);
		g_free(list);
		return -1;
	}
	g_free(*field);
	*field = g_strdup(value);
	return 0;
}

static int set_stream_key(struct stream_config *sc, const char *key, const char *value, char **err)
{
	int rc = set_int_key(sc, stream_int_keys, key, value, err);

	if (rc <= 0)
		return rc;
	if (strcmp(key, "source") == 0) {
		if (!valid_source(value)) {
			*err =
			    g_strdup_printf("source must be auto, test:, v4l2:/dev/videoN, "
			                    "file:PATH or rtsp://[USER:PASS@]HOST/PATH, not \"%s\"",
			                    value);
			return -1;
		}
		g_free(sc->source);
		sc->source = g_strdup(value);
		return 0;
	}
	if (strcmp(key, "codecs") == 0)
		return value[0] == '\0' ? (sc->n_codecs = 0) : set_codecs(sc, value, err);
	if (strcmp(key, "h264-encoder") == 0) {
		static const char *const encoders[] = {"auto", "x264", "v4l2", NULL};

		return set_choice(&sc->h264_encoder, key, value, encoders, err);
	}
	if (strcmp(key, "rtsp-transport") == 0) {
		static const char *const transports[] = {"auto", "tcp", "udp", NULL};

		return set_choice(&sc->rtsp_transport, key, value, transports, err);
	}
	if (strcmp(key, "audio") == 0) {
		if (strcmp(value, "none") != 0 && strcmp(value, "auto") != 0 &&
		    strcmp(value, "test") != 0 &&
		    !((g_str_has_prefix(value, "alsa:") || g_str_has_prefix(value, "pulse:")) &&
		      strchr(value, ':')[1] != '\0' && strpbrk(value, "\"!") == NULL)) {
			*err = g_strdup_printf("audio must be none, auto, test, alsa:DEVICE or "
			                       "pulse:DEVICE, not \"%s\"",
			                       value);
			return -1;
		}
		g_free(sc->audio);
		sc->audio = g_strdup(value);
		return 0;
	}
	if (strcmp(key, "token") == 0) {
		g_free(sc->token);
		sc->token = value[0] != '\0' ? g_strdup(value) : NULL;
		return 0;
	}
	*err = g_strdup_printf("unknown key %s", key);
	return -1;
}

/* Empty means unset. */
static int set_string(char **field, const char *value)
{
	g_free(*field);
	*field = value[0] != '\0' ? g_strdup(value) : NULL;
	return 0;
}

static int set_daemon_key(struct daemon_config *cfg, const char *key, const char *value, char **err)
{
	int rc = set_int_key(cfg, daemon_int_keys, key, value, err);

	if (rc <= 0)
		return rc;
	if (strcmp(key, "socket") == 0) {
		g_free(cfg->socket_path);
		cfg->socket_path = g_strdup(value);
	} else if (strcmp(key, "log-level") == 0) {
		g_free(cfg->log_level);
		cfg->log_level = g_strdup(value);
	} else if (strcmp(key, "stun") == 0) {
		if (value[0] != '\0' &&
		    (!g_str_has_prefix(value, "stun:") || strpbrk(value, " \"<>") != NULL)) {
			*err = g_strdup_printf("stun must look like stun:HOST:PORT, not \"%s\"",
			                       value);
			return -1;
		}
		g_free(cfg->stun);
		cfg->stun = value[0] != '\0' ? g_strdup(value) : NULL;
	} else if (strcmp(key, "turn") == 0) {
		if (value[0] != '\0' &&
		    ((!g_str_has_prefix(value, "turn:") && !g_str_has_prefix(value, "turns:")) ||
		     strpbrk(value, " \"<>@") != NULL)) {
			*err =
			    g_strdup_printf("turn must look like turn:HOST:PORT?transport=udp, not "
			                    "\"%s\"",
			                    value);
			return -1;
		}
		return set_string(&cfg->turn, value);
	} else if (strcmp(key, "turn-secret") == 0) {
		return set_string(&cfg->turn_secret, value);
	} else if (strcmp(key, "turn-username") == 0 || strcmp(key, "turn-password") == 0) {
		if (strpbrk(value, "\"") != NULL) {
			*err = g_strdup_printf("%s may not contain a double quote", key);
			return -1;
		}
		return set_string(key[5] == 'u' ? &cfg->turn_username : &cfg->turn_password, value);
	} else if (strcmp(key, "public-address") == 0) {
		GInetAddress *a = value[0] != '\0' ? g_inet_address_new_from_string(value) : NULL;

		if (value[0] != '\0' && a == NULL) {
			*err = g_strdup_printf("public-address must be an IP address, not \"%s\"",
			                       value);
			return -1;
		}
		if (a != NULL)
			g_object_unref(a);
		return set_string(&cfg->public_address, value);
	} else if (strcmp(key, "mode") == 0 || strcmp(key, "ice-mode") == 0) {
		if (strcmp(value, "auto") != 0 && strcmp(value, "lite") != 0 &&
		    strcmp(value, "full") != 0) {
			*err =
			    g_strdup_printf("mode must be auto, lite or full, not \"%s\"", value);
			return -1;
		}
		return set_string(&cfg->ice_mode, value);
	} else if (strcmp(key, "ice-tcp") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
			cfg->ice_tcp = TRUE;
		else if (strcmp(value, "false") == 0 || strcmp(value, "off") == 0)
			cfg->ice_tcp = FALSE;
		else {
			*err = g_strdup_printf("ice-tcp must be on or off, not \"%s\"", value);
			return -1;
		}
	} else if (strcmp(key, "port-range") == 0) {
		return config_parse_port_range(value, &cfg->min_port, &cfg->max_port, err);
	} else if (strcmp(key, "addresses") == 0 || strcmp(key, "ice-address") == 0) {
		/* Empty, like every other key, means the default: every address. */
		g_strfreev(cfg->ice_addresses);
		cfg->ice_addresses = value[0] != '\0' ? g_strsplit(value, ",", 16) : NULL;
	} else if (strcmp(key, "interfaces") == 0) {
		if (value[0] == '\0') {
			g_strfreev(cfg->ice_addresses);
			cfg->ice_addresses = NULL;
			return 0;
		}
		return config_parse_interfaces(value, &cfg->ice_addresses, err);
	} else {
		*err = g_strdup_printf("unknown key %s", key);
		return -1;
	}
	return 0;
}

static struct stream_config *find_or_add_stream(struct daemon_config *cfg, const char *name)
{
	struct stream_config *sc;
	guint i;

	for (i = 0; i < cfg->streams->len; i++) {
		sc = g_ptr_array_index(cfg->streams, i);
		if (strcmp(sc->name, name) == 0)
			return sc;
	}
	sc = stream_config_new(name);
	g_ptr_array_add(cfg->streams, sc);
	return sc;
}

int config_load_keyfile(struct daemon_config *cfg, GKeyFile *kf, char **err)
{
	char **groups = g_key_file_get_groups(kf, NULL);
	int rc = -1;
	guint g, k;

	for (g = 0; groups[g] != NULL; g++) {
		const char *group = groups[g];
		char **keys = g_key_file_get_keys(kf, group, NULL, NULL);
		struct stream_config *sc = NULL;
		bool is_stream = g_str_has_prefix(group, STREAM_PREFIX);

		if (is_stream) {
			const char *name = group + strlen(STREAM_PREFIX);

			if (!proto_valid_stream_name(name)) {
				*err = g_strdup_printf(
				    "[%s]: stream names are 1-%d of A-Z a-z 0-9 _ -", group,
				    WHEPCAM_MAX_STREAM_NAME);
				g_strfreev(keys);
				goto out;
			}
			sc = find_or_add_stream(cfg, name);
		} else if (strcmp(group, "daemon") != 0 && strcmp(group, "ice") != 0) {
			*err = g_strdup_printf("unknown section [%s]", group);
			g_strfreev(keys);
			goto out;
		}
		for (k = 0; keys != NULL && keys[k] != NULL; k++) {
			char *v = g_key_file_get_string(kf, group, keys[k], NULL);
			int r = v == NULL    ? -1
			        : sc != NULL ? set_stream_key(sc, keys[k], v, err)
			                     : set_daemon_key(cfg, keys[k], v, err);

			if (r != 0) {
				/* Name the section: the same key may sit in several. */
				char *why = *err;

				*err = why != NULL
				           ? g_strdup_printf("[%s] %s", group, why)
				           : g_strdup_printf("[%s] %s: bad value", group, keys[k]);
				g_free(why);
			}
			g_free(v);
			if (r != 0) {
				g_strfreev(keys);
				goto out;
			}
		}
		g_strfreev(keys);
	}
	rc = 0;
out:
	g_strfreev(groups);
	return rc;
}

/* Command-line options: "--KEY VALUE" for every daemon, ice and stream key. */
static const char *const stream_cli_keys[] = {
    "source",        "width", "height", "fps",          "bitrate-kbps",   "keyframe-interval",
    "encoder-speed", "token", "codecs", "h264-encoder", "rtsp-transport", "audio",
    "audio-kbps",    NULL};

int config_load(struct daemon_config *cfg, int argc, char **argv, char **err)
{
	const char *stream_name = NULL;
	GKeyFile *kf = NULL;
	int i;

	*err = NULL;
	config_defaults(cfg);
	/* The config file first, so the command line overrides it. */
	for (i = 1; i < argc; i++) {
		const char *path = NULL;
		GError *gerr = NULL;

		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1];
		else if (g_str_has_prefix(argv[i], "--config="))
			path = argv[i] + strlen("--config=");
		if (path == NULL)
			continue;
		if (kf != NULL)
			g_key_file_unref(kf);
		kf = g_key_file_new();
		if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
			*err = g_strdup_printf("%s: %s", path, gerr->message);
			g_error_free(gerr);
			goto fail;
		}
		if (config_load_keyfile(cfg, kf, err) != 0) {
			char *why = *err;

			*err = g_strdup_printf("%s: %s", path, why);
			g_free(why);
			goto fail;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *key, *value;
		char *eq = NULL;
		int r;

		if (!g_str_has_prefix(arg, "--")) {
			*err = g_strdup_printf("unexpected argument \"%s\"", arg);
			goto fail;
		}
		key = arg + 2;
		if ((eq = strchr(key, '=')) != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			*err = g_strdup_printf("%s needs a value", arg);
			goto fail;
		}
		{
			char *k = eq != NULL ? g_strndup(key, (gsize)(eq - key)) : g_strdup(key);

			if (strcmp(k, "config") == 0) {
				r = 0;
			} else if (strcmp(k, "stream") == 0) {
				r = proto_valid_stream_name(value) ? 0 : -1;
				if (r == 0)
					stream_name = value, find_or_add_stream(cfg, value);
				else
					*err = g_strdup_printf("bad stream name \"%s\"", value);
			} else if (g_strv_contains(stream_cli_keys, k) ||
			           (strcmp(k, "max-viewers") == 0 && stream_name != NULL)) {
				struct stream_config *sc = find_or_add_stream(
				    cfg,
				    stream_name != NULL ? stream_name
				    : cfg->streams->len > 0
				        ? ((struct stream_config *)cfg->streams->pdata[0])->name
				        : "cam");
				r = set_stream_key(sc, k, value, err);
			} else {
				r = set_daemon_key(cfg, k, value, err);
			}
			g_free(k);
			if (r != 0)
				goto fail;
		}
	}
	if (cfg->streams->len == 0)
		find_or_add_stream(cfg, "cam");
	if (kf != NULL)
		g_key_file_unref(kf);
	return 0;
fail:
	if (kf != NULL)
		g_key_file_unref(kf);
	return -1;
}
