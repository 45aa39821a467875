/*
 * A USB camera's formats, as v4l2src lists them once it opened the device,
 * pick the source's description (daemon/media/source.c): H.264 passed
 * through, raw, MJPEG decoded once, or anything decoded and scaled. No
 * camera here: the caps are what real ones list (v4l2-ctl --list-formats-ext).
 */
#include <string.h>

#include <glib.h>
#include <gst/gst.h>

#include "media/stream.h"

/* Logitech C920: YUYV at 720p only up to 10 fps; MJPEG and H.264 at 720p30. */
#define C920                                                                                       \
	"video/x-raw,format=YUY2,width=1280,height=720,framerate={ (fraction)10/1, (fraction)5/1 }; " \
	"video/x-raw,format=YUY2,width=640,height=480,framerate={ (fraction)30/1, (fraction)15/1 }; " \
	"image/jpeg,width=1280,height=720,framerate={ (fraction)30/1, (fraction)15/1 }; "            \
	"video/x-h264,stream-format=byte-stream,alignment=au,width=1280,height=720,"                 \
	"framerate={ (fraction)30/1, (fraction)15/1 }"
/* A cheap USB 2 webcam: raw 640x480@30, MJPEG up to 720p30. */
#define CHEAP                                                                                      \
	"video/x-raw,format=YUY2,width=640,height=480,framerate=30/1; "                             \
	"image/jpeg,width=1280,height=720,framerate=30/1; image/jpeg,width=640,height=480,framerate=30/1"
/* The Raspberry Pi camera (bcm2835-v4l2): any size and rate, raw or H.264 from the GPU. */
#define PICAM                                                                                      \
	"video/x-raw,format=I420,width=[ 32, 2592 ],height=[ 32, 1944 ],framerate=[ 0/1, 90/1 ]; " \
	"video/x-h264,stream-format=byte-stream,alignment=au,width=[ 32, 2592 ],"                   \
	"height=[ 32, 1944 ],framerate=[ 0/1, 90/1 ]"

/* The description for `caps` (NULL: the camera could not be asked), checked to parse. */
static char *describe(const char *caps, int w, int h, int fps, const char *codecs,
                      enum source_kind *kind)
{
	struct stream_config sc = {.name = (char *)"cam", .width = w, .height = h, .fps = fps};
	GstCaps *offered = caps != NULL ? gst_caps_from_string(caps) : NULL;
	GstElement *bin;
	char *d;

	if (codecs != NULL && strcmp(codecs, "vp8") == 0) {
		sc.codecs[0] = CODEC_VP8;
		sc.n_codecs = 1;
	}
	g_assert_true(caps == NULL || offered != NULL);
	d = source_v4l2_describe(&sc, "/dev/video0", offered, kind);
	bin = gst_parse_bin_from_description(d, TRUE, NULL);
	g_assert_nonnull(bin);
	gst_object_unref(bin);
	if (offered != NULL)
		gst_caps_unref(offered);
	return d;
}

static void test_h264_passed_through(void)
{
	enum source_kind kind;
	char *d = describe(C920, 1280, 720, 30, NULL, &kind);

	g_assert_cmpint(kind, ==, SOURCE_H264);
	g_assert_true(g_str_has_prefix(
	    d, "v4l2src device=\"/dev/video0\" ! video/x-h264,width=1280,height=720,framerate=30/1 ! "
	       "h264parse"));
	g_free(d);
	d = describe(PICAM, 1280, 720, 30, NULL, &kind); /* ranges, not a list */
	g_assert_cmpint(kind, ==, SOURCE_H264);
	g_free(d);
}

static void test_raw_or_mjpeg(void)
{
	enum source_kind kind;
	char *d;

	/* A VP8-only stream: the C920's raw 720p is 10 fps at most, so MJPEG, decoded once. */
	d = describe(C920, 1280, 720, 30, "vp8", &kind);
	g_assert_cmpint(kind, ==, SOURCE_RAW);
	g_assert_true(g_str_has_prefix(
	    d, "v4l2src device=\"/dev/video0\" ! image/jpeg,width=1280,height=720,framerate=30/1 ! "
	       "jpegdec ! "));
	g_free(d);
	/* Raw where it has the size and rate: nothing to decode. */
	d = describe(CHEAP, 640, 480, 30, NULL, &kind);
	g_assert_cmpint(kind, ==, SOURCE_RAW);
	g_assert_true(g_str_has_prefix(
	    d, "v4l2src device=\"/dev/video0\" ! video/x-raw,width=640,height=480,framerate=30/1 ! "
	       "videoconvert ! "));
	g_free(d);
	d = describe(CHEAP, 1280, 720, 30, NULL, &kind);
	g_assert_nonnull(strstr(d, "image/jpeg,width=1280,height=720"));
	g_free(d);
	d = describe(PICAM, 1280, 720, 30, "vp8", &kind);
	g_assert_nonnull(strstr(d, "video/x-raw,width=1280,height=720,framerate=30/1 ! videoconvert"));
	g_free(d);
}

static void test_anything_else_scaled(void)
{
	enum source_kind kind;
	char *d;

	/* No mode at 1920x1080@30 on this webcam, or a camera that could not be asked. */
	const char *cases[] = {CHEAP, NULL};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		d = describe(cases[i], 1920, 1080, 30, NULL, &kind);
		g_assert_cmpint(kind, ==, SOURCE_RAW);
		/* decodebin's pad is linked by stream.c at each start: see test_file_source.c. */
		g_assert_true(g_str_has_prefix(d, "v4l2src device=\"/dev/video0\" ! decodebin "
		                                  "name=dynamic videoconvert name=dynamic-peer ! "
		                                  "videoscale ! videorate ! "));
		g_assert_nonnull(strstr(d, "format=I420,width=1920,height=1080,framerate=30/1"));
		g_free(d);
	}
}

/* No camera here: asking a device that is not one gives NULL, and the source still describes. */
static void test_no_camera(void)
{
	struct stream_config sc = {.name = (char *)"cam", .width = 640, .height = 480, .fps = 15};
	enum source_kind kind;
	char *d;

	g_assert_null(source_v4l2_offered("/nonexistent/video9"));
	d = stream_source_describe(&sc, "v4l2:/nonexistent/video9", &kind);
	g_assert_cmpint(kind, ==, SOURCE_RAW);
	g_assert_true(g_str_has_prefix(d, "v4l2src device=\"/nonexistent/video9\" ! decodebin "));
	g_free(d);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gst_init(NULL, NULL);
	g_test_add_func("/v4l2/h264-passed-through", test_h264_passed_through);
	g_test_add_func("/v4l2/raw-or-mjpeg", test_raw_or_mjpeg);
	g_test_add_func("/v4l2/anything-else-scaled", test_anything_else_scaled);
	g_test_add_func("/v4l2/no-camera", test_no_camera);
	return g_test_run();
}
