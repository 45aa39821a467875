/*
 * A clip (file:PATH) in daemon/media/source.c: what its headers say it
 * holds (source_file_probe, on clips made here), and the description that
 * follows: H.264 passed through, anything else (or a clip not there yet)
 * decoded, both paced by clocksync, with the element whose pads come with
 * the data left unlinked for stream.c to link at every start.
 */
#include <glib/gstdio.h>
#include <string.h>

#include <glib.h>
#include <gst/gst.h>

#include "media/stream.h"

/* Runs `desc` (a pipeline that ends) to its end. */
static void make_clip(const char *desc)
{
	GError *err = NULL;
	GstElement *p = gst_parse_launch(desc, &err);
	GstBus *bus;
	GstMessage *msg;

	g_assert_no_error(err);
	gst_element_set_state(p, GST_STATE_PLAYING);
	bus = gst_element_get_bus(p);
	msg = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	g_assert_nonnull(msg);
	g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
	gst_message_unref(msg);
	gst_object_unref(bus);
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(p);
}

static void test_probe(void)
{
	char *dir = g_dir_make_tmp("whepcam-clip-XXXXXX", NULL);
	char *mp4 = g_build_filename(dir, "a.mp4", NULL);
	char *webm = g_build_filename(dir, "b.webm", NULL);
	char *text = g_build_filename(dir, "c.txt", NULL);
	char *missing = g_build_filename(dir, "none.mp4", NULL);
	char *desc, *why;

	desc = g_strdup_printf("videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=160,"
	                       "height=120 ! x264enc tune=zerolatency ! mp4mux ! filesink "
	                       "location=\"%s\"",
	                       mp4);
	make_clip(desc);
	g_free(desc);
	desc = g_strdup_printf("videotestsrc num-buffers=10 ! video/x-raw,width=160,height=120 ! "
	                       "vp8enc deadline=1 ! webmmux ! filesink location=\"%s\"",
	                       webm);
	make_clip(desc);
	g_free(desc);
	g_assert_true(g_file_set_contents(text, "not a clip\n", -1, NULL));

	g_assert_cmpint(source_file_probe(mp4, &why), ==, CLIP_H264);
	g_assert_null(why);
	g_assert_cmpint(source_file_probe(webm, &why), ==, CLIP_OTHER);
	g_assert_null(why);
	g_assert_cmpint(source_file_probe(missing, &why), ==, CLIP_UNREADABLE);
	g_assert_nonnull(why);
	g_free(why);
	g_assert_cmpint(source_file_probe(text, &why), ==, CLIP_UNREADABLE);
	g_assert_nonnull(why);
	g_free(why);

	g_unlink(mp4);
	g_unlink(webm);
	g_unlink(text);
	g_rmdir(dir);
	g_free(mp4);
	g_free(webm);
	g_free(text);
	g_free(missing);
	g_free(dir);
}

/* The description for `clip`, parsed as stream.c parses it: its dynamic element left unlinked. */
static char *describe(enum source_clip clip, const char *codecs, enum source_kind *kind)
{
	struct stream_config sc = {.name = (char *)"cam", .width = 640, .height = 480, .fps = 15};
	GstElement *bin, *dyn, *peer;
	GstPad *sink;
	char *d;

	if (codecs != NULL && strcmp(codecs, "vp8") == 0) {
		sc.codecs[0] = CODEC_VP8;
		sc.n_codecs = 1;
	}
	d = source_file_describe(&sc, "/clips/a.mp4", clip, kind);
	bin = gst_parse_bin_from_description(d, FALSE, NULL);
	g_assert_nonnull(bin);
	dyn = gst_bin_get_by_name(GST_BIN(bin), SOURCE_DYNAMIC);
	peer = gst_bin_get_by_name(GST_BIN(bin), SOURCE_DYNAMIC_PEER);
	g_assert_nonnull(dyn);
	g_assert_nonnull(peer);
	sink = gst_element_get_static_pad(peer, "sink");
	g_assert_false(gst_pad_is_linked(sink));
	gst_object_unref(sink);
	gst_object_unref(dyn);
	gst_object_unref(peer);
	gst_object_unref(bin);
	return d;
}

static void test_h264_passed_through(void)
{
	enum source_kind kind;
	char *d = describe(CLIP_H264, NULL, &kind);

	g_assert_cmpint(kind, ==, SOURCE_H264);
	g_assert_cmpstr(d, ==,
	                "filesrc location=\"/clips/a.mp4\" ! parsebin name=dynamic h264parse "
	                "name=dynamic-peer config-interval=-1 ! clocksync ! capsfilter name=out "
	                "caps=\"video/x-h264,stream-format=byte-stream,alignment=au\"");
	g_free(d);
}

static void test_others_decoded(void)
{
	const char *decoded =
	    "filesrc location=\"/clips/a.mp4\" ! decodebin name=dynamic "
	    "videoconvert name=dynamic-peer ! videoscale ! videorate ! clocksync ! "
	    "capsfilter name=out "
	    "caps=\"video/x-raw,format=I420,width=640,height=480,framerate=15/1\"";
	enum source_kind kind;
	char *d;

	/* Another codec; a clip not there at start (decoded when it comes); H.264 on a VP8-only
	 * stream. */
	d = describe(CLIP_OTHER, NULL, &kind);
	g_assert_cmpint(kind, ==, SOURCE_RAW);
	g_assert_cmpstr(d, ==, decoded);
	g_free(d);
	d = describe(CLIP_UNREADABLE, NULL, &kind);
	g_assert_cmpint(kind, ==, SOURCE_RAW);
	g_assert_cmpstr(d, ==, decoded);
	g_free(d);
	d = describe(CLIP_H264, "vp8", &kind);
	g_assert_cmpint(kind, ==, SOURCE_RAW);
	g_assert_cmpstr(d, ==, decoded);
	g_free(d);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/file/probe", test_probe);
	g_test_add_func("/file/h264-passed-through", test_h264_passed_through);
	g_test_add_func("/file/others-decoded", test_others_decoded);
	return g_test_run();
}
