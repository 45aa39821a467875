/*
 * full_viewer.h - one viewer of mode full as full.c, bin.c and reaper.c
 * share it. Private to full/. Created by full.c's start() and freed by its
 * stop(), on the main loop; the elements go to the reaper (reaper.c).
 */
#ifndef WHEPCAMD_FULL_FULL_VIEWER_H
#define WHEPCAMD_FULL_FULL_VIEWER_H

#include <gst/webrtc/webrtc.h>
#include <stdbool.h>

#include "base/config.h"
#include "media/branch.h"
#include "media/stream.h"
#include "whepcam.h"

#define MAX_SIGNALS 4

struct full_viewer {
	char id[WHEPCAM_SESSION_HEX + 1];
	char sid[SHORT_ID_LEN + 1]; /* for log lines */
	struct stream *stream;
	struct track *video; /* NULL: sound only */
	struct track *audio; /* NULL: no sound */
	GstElement *bin;     /* holds queue, pay and webrtc (and aqueue, apay) */
	GstElement *queue, *pay, *webrtc;
	GstPad *tee_pad;
	gulong signals[MAX_SIGNALS];
	int pt;
	struct codec_pick codec; /* what the viewer is sent (wire/codec.h) */
	guint32 ssrc;
	int audio_pt;
	guint32 audio_ssrc;
	GstElement *apay;      /* the sound's payloader, or NULL */
	GstPad *audio_tee_pad; /* on the audio tee, once the answer is sent */
	GPtrArray *candidates; /* ours, as webrtcbin gathers them */
	gint *last_rx_s;       /* monotonic s of the last packet from the peer; NULL until watched.
	                          Owned by the nicesrc probe, which lives as long as our elements. */
	bool answer_sent;
	guint gather_timer, disconnect_timer;
	gint64 created_us;
	GPtrArray *mids; /* the offer's a=mid values, by m-line index */
};

/* ---- full.c ---- */
/* Main thread, while bin_build runs: connect webrtcbin's signals to full.c's hops. */
void full_connect_signals(struct full_viewer *fv);

/* ---- bin.c ---- */
/*
 * Main thread: queue ! rtpvp8pay ! webrtcbin in a bin of their own, added
 * to the stream's pipeline, with the join gate on `b` (the probes take
 * references) and the ICE agent set up from `cfg`. 0, or -1 with whatever
 * was built left in fv for the reaper.
 */
int bin_build(struct full_viewer *fv, struct branch *b, const struct daemon_config *cfg);
/* Main thread, once the transport exists: note every packet from the peer (liveness). */
void bin_watch_peer(struct full_viewer *fv);

/* ---- sound.c ---- */
/* Main thread, in bin_build: the sound's queue and payloader, gated on `b`. 0, or -1. */
int sound_build(struct full_viewer *fv, struct branch *b);
/* Main thread, the offer set: the sound's webrtcbin sender, sendonly; its transceiver or NULL. */
GstWebRTCRTPTransceiver *sound_add_sender(struct full_viewer *fv);
/* Main thread, the answer sent: sound flows into the bin (the gate holds it). */
void sound_start(struct full_viewer *fv);

/* ---- reaper.c ---- */
void reaper_init(void);
/*
 * Release a removed viewer's elements: unlink `tee_pad` when idle, then on
 * the reaper thread release it from `tee` and set `bin` to NULL and remove
 * it from `pipeline`. Takes ownership of tee_pad and bin (either may be NULL).
 */
void reaper_release(GstElement *pipeline, GstElement *tee, GstPad *tee_pad, GstElement *bin,
                    const char *sid);
/* The same for a viewer fed from two tees (picture and sound); any of them may be NULL. */
void reaper_release_two(GstElement *pipeline, GstElement *tee, GstPad *tee_pad, GstElement *tee2,
                        GstPad *tee_pad2, GstElement *bin, const char *sid);
/* Wait (bounded) for queued releases, then stop the reaper thread. */
void reaper_shutdown(void);
/* Count `webrtc` until it is finalized. */
void reaper_count_webrtcbin(GstElement *webrtc);

#endif
