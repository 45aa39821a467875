/*
 * metrics.c - the daemon's counters and their Prometheus text form
 * (GET /metrics through whepcam-fcgi). Counters are bumped on the main
 * loop, except where a comment says a streaming thread does it atomically.
 */
#include <string.h>

#include "base/util.h"
#include "media/stream.h"
#include "metrics.h"
#include "session/viewer.h"

#define METRICS_MAX_KEYS 32 /* distinct statuses / reasons kept; more fold into "other" */

struct keyed {
	char key[32];
	guint64 count;
};

static struct {
	struct keyed offers[METRICS_MAX_KEYS]; /* by HTTP status */
	struct keyed reaped[METRICS_MAX_KEYS]; /* by reason */
	guint64 ice_failures;
	guint64 packets_of_gone_viewers, bytes_of_gone_viewers;
} M;

static void bump(struct keyed *table, const char *key)
{
	size_t i;

	for (i = 0; i < METRICS_MAX_KEYS; i++) {
		if (table[i].key[0] == '\0')
			g_strlcpy(table[i].key, i == METRICS_MAX_KEYS - 1 ? "other" : key,
			          sizeof(table[i].key));
		if (strcmp(table[i].key, key) == 0 || i == METRICS_MAX_KEYS - 1) {
			table[i].count++;
			return;
		}
	}
}

void metrics_offer(int status)
{
	char key[8];

	g_snprintf(key, sizeof(key), "%d", status);
	bump(M.offers, key);
}

void metrics_reaped(const char *reason, guint64 packets, guint64 bytes)
{
	bump(M.reaped, reason);
	if (g_str_has_prefix(reason, "ice-") || strcmp(reason, "connection-failed") == 0)
		M.ice_failures++;
	M.packets_of_gone_viewers += packets;
	M.bytes_of_gone_viewers += bytes;
}

static void keyed_lines(GString *out, const char *name, const char *help, const char *label,
                        const struct keyed *table)
{
	size_t i;

	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < METRICS_MAX_KEYS && table[i].key[0] != '\0'; i++)
		g_string_append_printf(out, "%s{%s=\"%s\"} %" G_GUINT64_FORMAT "\n", name, label,
		                       table[i].key, table[i].count);
}

static guint64 get_viewers(const struct stream *s)
{
	return s->viewers;
}

static guint64 get_up(const struct stream *s)
{
	return s->state == STREAM_LIVE;
}

/* Sum `get` over the stream's tracks; `encoders`: only those with an encoder. */
static guint64 sum_tracks(const struct stream *s, bool encoders,
                          guint64 (*get)(const struct track *))
{
	guint64 sum = 0;
	guint i;

	for (i = 0; i < CODEC_COUNT; i++)
		if (s->tracks[i] != NULL && (!encoders || !track_passthrough(s->tracks[i])))
			sum += get(s->tracks[i]);
	return sum;
}

static guint64 track_fps64(const struct track *t)
{
	return track_fps(t);
}

static guint64 track_encoding64(const struct track *t)
{
	return track_encoding(t);
}

static guint64 get_frames(const struct stream *s)
{
	return sum_tracks(s, true, track_frames);
}

static guint64 get_fps(const struct stream *s)
{
	return sum_tracks(s, true, track_fps64);
}

static guint64 get_keyframes(const struct stream *s)
{
	return sum_tracks(s, false, track_keyframes_forced);
}

static guint64 get_encoders(const struct stream *s)
{
	return sum_tracks(s, false, track_encoding64);
}

/* Frames out of each track, by stream and codec (passed through or encoded). */
static void per_track_frames(GString *out)
{
	GPtrArray *streams = stream_list();
	guint i, c;

	g_string_append(out, "# HELP whepcam_track_frames_total Frames sent out of each track "
	                     "(encoded or passed through), by stream and codec.\n"
	                     "# TYPE whepcam_track_frames_total counter\n");
	for (i = 0; i < streams->len; i++) {
		const struct stream *s = g_ptr_array_index(streams, i);

		for (c = 0; c < CODEC_COUNT; c++)
			if (s->tracks[c] != NULL)
				g_string_append_printf(
				    out,
				    "whepcam_track_frames_total{stream=\"%s\",codec=\"%s\"} "
				    "%" G_GUINT64_FORMAT "\n",
				    s->cfg->name, codec_name(c), track_frames(s->tracks[c]));
	}
}

/* One metric with a value per stream. */
static void per_stream(GString *out, const char *name, const char *type, const char *help,
                       guint64 (*get)(const struct stream *))
{
	GPtrArray *streams = stream_list();
	guint i;

	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (i = 0; i < streams->len; i++) {
		const struct stream *s = g_ptr_array_index(streams, i);

		g_string_append_printf(out, "%s{stream=\"%s\"} %" G_GUINT64_FORMAT "\n", name,
		                       s->cfg->name, get(s));
	}
}

/* NACK resends (mode lite): what went again, and what each viewer's budget refused. */
static void resend_lines(GString *out, const struct metrics_sources *src)
{
	guint64 packets, bytes, budget, repeat;

	src->resends(&packets, &bytes, &budget, &repeat);
	g_string_append_printf(
	    out,
	    "# HELP whepcam_rtp_packets_resent_total RTP packets sent again on viewers' NACKs "
	    "(mode lite).\n"
	    "# TYPE whepcam_rtp_packets_resent_total counter\n"
	    "whepcam_rtp_packets_resent_total %" G_GUINT64_FORMAT "\n"
	    "# HELP whepcam_rtp_bytes_resent_total RTP bytes (before SRTP) sent again on viewers' "
	    "NACKs (mode lite).\n"
	    "# TYPE whepcam_rtp_bytes_resent_total counter\n"
	    "whepcam_rtp_bytes_resent_total %" G_GUINT64_FORMAT "\n"
	    "# HELP whepcam_rtp_resends_refused_total Packets viewers NACKed and were not sent "
	    "again: over the viewer's resend budget, or resent moments before (mode lite).\n"
	    "# TYPE whepcam_rtp_resends_refused_total counter\n"
	    "whepcam_rtp_resends_refused_total{reason=\"budget\"} %" G_GUINT64_FORMAT "\n"
	    "whepcam_rtp_resends_refused_total{reason=\"repeat\"} %" G_GUINT64_FORMAT "\n",
	    packets, bytes, budget, repeat);
}

char *metrics_text(const struct metrics_sources *src)
{
	GString *out = g_string_sized_new(4096);
	guint64 packets = M.packets_of_gone_viewers, bytes = M.bytes_of_gone_viewers;

	viewer_traffic(&packets, &bytes);
	per_stream(out, "whepcam_viewers", "gauge", "Viewers connected now, by stream.",
	           get_viewers);
	per_stream(out, "whepcam_stream_up", "gauge", "1 when the stream's source is producing.",
	           get_up);
	per_stream(out, "whepcam_encoder_frames_total", "counter", "Frames encoded, by stream.",
	           get_frames);
	per_stream(out, "whepcam_encoder_fps", "gauge", "Frames encoded over the last second.",
	           get_fps);
	per_stream(out, "whepcam_keyframes_forced_total", "counter",
	           "Keyframes asked of the encoder (joins, PLI/FIR), by stream.", get_keyframes);
	per_stream(out, "whepcam_encoders_running", "gauge",
	           "Encoders running now, by stream (0: every codec sent is passed through).",
	           get_encoders);
	per_track_frames(out);
	g_string_append_printf(
	    out,
	    "# HELP whepcam_rtp_packets_sent_total RTP packets sent to viewers.\n"
	    "# TYPE whepcam_rtp_packets_sent_total counter\n"
	    "whepcam_rtp_packets_sent_total %" G_GUINT64_FORMAT "\n"
	    "# HELP whepcam_media_bytes_sent_total Encoded video bytes sent to "
	    "viewers (before RTP/SRTP overhead).\n"
	    "# TYPE whepcam_media_bytes_sent_total counter\n"
	    "whepcam_media_bytes_sent_total %" G_GUINT64_FORMAT "\n",
	    packets, bytes);
	keyed_lines(out, "whepcam_offers_total", "Offers answered, by HTTP status.", "status",
	            M.offers);
	keyed_lines(out, "whepcam_sessions_reaped_total", "Sessions ended, by reason.", "reason",
	            M.reaped);
	g_string_append_printf(out,
	                       "# HELP whepcam_ice_failures_total Sessions ended by ICE or DTLS "
	                       "failure or timeout.\n"
	                       "# TYPE whepcam_ice_failures_total counter\n"
	                       "whepcam_ice_failures_total %" G_GUINT64_FORMAT "\n"
	                       "# HELP whepcam_uptime_seconds Seconds since the daemon started.\n"
	                       "# TYPE whepcam_uptime_seconds gauge\n"
	                       "whepcam_uptime_seconds %" G_GINT64_FORMAT "\n",
	                       M.ice_failures, util_uptime_s());
	resend_lines(out, src);
	return g_string_free(out, FALSE);
}
