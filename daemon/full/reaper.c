/*
 * reaper.c - releases the elements of removed viewers, off the main loop
 * and off streaming threads, in the order docs/webrtcbin.md found safe: block
 * the tee pad with an idle probe and unlink it, then on the reaper thread
 * release the request pad, set the viewer's bin to NULL and remove it.
 * Also counts webrtcbins until they are finalized, so a leak shows.
 */
#define G_LOG_DOMAIN "reaper"
#include <malloc.h>

#include "full.h"
#include "full_viewer.h"

#define REAPER_SHUTDOWN_WAIT_MS 5000

/* Elements of a removed viewer; every reference here is owned. */
struct teardown {
	GstElement *pipeline, *bin;
	GstElement *tee[2]; /* the picture's and the sound's, each NULL when not used */
	GstPad *tee_pad[2];
	gint unlinking; /* tee pads not unlinked yet: the bin goes once none feeds it */
	char sid[16];
};

static GThreadPool *pool;
static gint pending;         /* teardowns queued or running */
static gint live_webrtcbins; /* created and not yet finalized */

/* Reaper thread: neither a streaming thread nor inside a webrtcbin callback. */
static void teardown_run(gpointer data, gpointer unused)
{
	struct teardown *t = data;

	int i;

	for (i = 0; i < 2; i++) {
		if (t->tee_pad[i] != NULL) {
			gst_element_release_request_pad(t->tee[i], t->tee_pad[i]);
			gst_object_unref(t->tee_pad[i]);
		}
		if (t->tee[i] != NULL)
			gst_object_unref(t->tee[i]);
	}
	if (t->bin != NULL) {
		gst_element_set_state(t->bin, GST_STATE_NULL);
		if (GST_OBJECT_PARENT(t->bin) != NULL)
			gst_bin_remove(GST_BIN(t->pipeline), t->bin);
		gst_object_unref(t->bin);
	}
	gst_object_unref(t->pipeline);
	g_debug("viewer %s: elements released", t->sid);
	g_free(t);
	/*
	 * Each viewer's threads allocate from their own malloc arenas; without a
	 * trim, what they freed stays in the process (RSS after 150 viewers left
	 * stayed ~125 MB above the start). Once the queue is empty, give it back.
	 */
	if (g_atomic_int_dec_and_test(&pending))
		malloc_trim(0);
}

/* Streaming thread or the caller: the tee pad is idle, so it can be unlinked. */
static GstPadProbeReturn unlink_idle_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct teardown *t = data;
	GstPad *peer = gst_pad_get_peer(pad);

	if (peer != NULL) {
		gst_pad_unlink(pad, peer);
		gst_object_unref(peer);
	}
	if (g_atomic_int_dec_and_test(&t->unlinking))
		g_thread_pool_push(pool, t, NULL);
	return GST_PAD_PROBE_REMOVE;
}

void reaper_init(void)
{
	pool = g_thread_pool_new(teardown_run, NULL, 1, FALSE, NULL);
}

void reaper_release(GstElement *pipeline, GstElement *tee, GstPad *tee_pad, GstElement *bin,
                    const char *sid)
{
	reaper_release_two(pipeline, tee, tee_pad, NULL, NULL, bin, sid);
}

void reaper_release_two(GstElement *pipeline, GstElement *tee, GstPad *tee_pad, GstElement *tee2,
                        GstPad *tee_pad2, GstElement *bin, const char *sid)
{
	struct teardown *t = g_new0(struct teardown, 1);
	GstPad *pads[2];
	int i;

	g_atomic_int_inc(&pending);
	t->pipeline = gst_object_ref(pipeline);
	t->tee[0] = tee != NULL ? gst_object_ref(tee) : NULL;
	t->tee_pad[0] = tee_pad;
	t->tee[1] = tee2 != NULL ? gst_object_ref(tee2) : NULL;
	t->tee_pad[1] = tee_pad2;
	t->bin = bin;
	g_strlcpy(t->sid, sid, sizeof(t->sid));
	t->unlinking = (tee_pad != NULL) + (tee_pad2 != NULL);
	if (t->unlinking == 0) {
		g_thread_pool_push(pool, t, NULL);
		return;
	}
	/* t may be freed as soon as the last probe runs (at once, on an idle pad): not read after.
	 */
	pads[0] = tee_pad;
	pads[1] = tee_pad2;
	for (i = 0; i < 2; i++)
		if (pads[i] != NULL)
			gst_pad_add_probe(pads[i], GST_PAD_PROBE_TYPE_IDLE, unlink_idle_probe, t,
			                  NULL);
}

void reaper_shutdown(void)
{
	int waited_ms = 0;

	/* Idle probes may still be queueing teardowns: let them all land first. */
	while (g_atomic_int_get(&pending) > 0 && waited_ms < REAPER_SHUTDOWN_WAIT_MS) {
		g_usleep(10000);
		waited_ms += 10;
	}
	if (g_atomic_int_get(&pending) > 0) {
		g_warning("%d viewer(s) not released at shutdown", g_atomic_int_get(&pending));
		return; /* the pool must outlive a late probe: leave it */
	}
	if (pool != NULL)
		g_thread_pool_free(pool, FALSE, TRUE);
	pool = NULL;
}

static void webrtcbin_finalized_cb(gpointer data, GObject *where)
{
	g_atomic_int_add(&live_webrtcbins, -1);
}

void reaper_count_webrtcbin(GstElement *webrtc)
{
	g_atomic_int_inc(&live_webrtcbins);
	g_object_weak_ref(G_OBJECT(webrtc), webrtcbin_finalized_cb, NULL);
}

int reaper_live_webrtcbins(void)
{
	return g_atomic_int_get(&live_webrtcbins);
}
