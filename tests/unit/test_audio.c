/*
 * A stream's sound (daemon/media/audio.c): what `audio =` builds (the test
 * tone, an ALSA or PulseAudio device: no sound card here, so each
 * description is parsed into real elements but not played), that none and
 * auto build nothing of their own, and when the test picture flashes.
 */
#include <string.h>

#include <glib.h>
#include <gst/gst.h>

#include "media/stream.h"

/* `audio`'s description, checked to parse into elements ending in "aout". */
static char *describe(const char *audio)
{
	struct stream_config sc = {.name = (char *)"cam", .audio_kbps = 48};
	char *d = audio_describe(&sc, audio);
	GError *err = NULL;
	GstElement *bin, *out;

	if (d == NULL)
		return NULL;
	bin = gst_parse_bin_from_description(d, FALSE, &err);
	g_assert_no_error(err);
	out = gst_bin_get_by_name(GST_BIN(bin), "aout");
	g_assert_nonnull(out);
	gst_object_unref(out);
	gst_object_unref(bin);
	return d;
}

static void test_sources(void)
{
	char *d = describe("test");

	g_assert_nonnull(strstr(d, "audiotestsrc name=tone is-live=true wave=ticks freq=1000 "
	                           "sine-periods-per-tick=100 tick-interval=1000000000"));
	g_assert_nonnull(strstr(d, "opusenc bitrate=48000 frame-size=20 inband-fec=true dtx=false"));
	g_free(d);
	d = describe("alsa:hw:1,0");
	g_assert_true(g_str_has_prefix(d, "alsasrc device=\"hw:1,0\" ! queue ! audioconvert"));
	g_free(d);
	d = describe("pulse:alsa_input.usb-046d_HD_Pro_Webcam_C920-02.analog-stereo");
	g_assert_true(g_str_has_prefix(
	    d, "pulsesrc device=\"alsa_input.usb-046d_HD_Pro_Webcam_C920-02.analog-stereo\""));
	g_free(d);
	/* none, and auto when the source has no sound of its own: nothing built */
	g_assert_null(describe("none"));
	g_assert_null(describe("auto"));
}

static void test_flash(void)
{
	const gint64 o = 343 * GST_MSECOND; /* the tone started this late */

	g_assert_true(audio_flash_at(o, o));
	g_assert_true(audio_flash_at(o + 5 * GST_SECOND + 66 * GST_MSECOND, o));
	g_assert_false(audio_flash_at(o + 5 * GST_SECOND + 100 * GST_MSECOND, o));
	g_assert_false(audio_flash_at(o + GST_SECOND - 1, o));
	g_assert_false(audio_flash_at(5 * GST_SECOND, o)); /* a whole second of the picture's own */
	g_assert_false(audio_flash_at(0, o));               /* before the tone */
	g_assert_false(audio_flash_at(o, -1));              /* no tone yet */
	g_assert_false(audio_flash_at(-1, o));
}

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/audio/sources", test_sources);
	g_test_add_func("/audio/flash", test_flash);
	return g_test_run();
}
