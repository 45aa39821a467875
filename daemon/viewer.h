/*
 * viewer.h - the viewer as viewer.c and viewer_ice.c share it. Private to
 * those two files; everyone else uses the prototypes in daemon.h.
 */
#ifndef WHEPCAMD_VIEWER_H
#define WHEPCAMD_VIEWER_H

#include <gst/webrtc/webrtc.h>

#include "daemon.h"

#define SHORT_ID_LEN       8
#define MAX_SIGNALS        4
#define DISCONNECT_GRACE_S 5 /* ICE "disconnected" this long ends the session */
#define SILENCE_SWEEP_S    5 /* how often silent viewers are looked for */

enum gate { GATE_CLOSED, GATE_WAIT_KEYFRAME, GATE_OPEN };

/*
 * Shared by the branch's pad probes (streaming threads) and read by the
 * main loop: atomics only. Reference-counted (g_rc_box): each probe holds
 * a reference, so it lives as long as the elements whatever order they go.
 */
struct branch {
	gint gate;         /* enum gate */
	guint64 bytes;     /* encoded bytes let through the gate */
	guint64 packets;   /* RTP packets out of the payloader */
	gint64 created_us; /* the join, for the first-keyframe log line */
	char sid[SHORT_ID_LEN + 1];
};

struct viewer {
	char id[WHEPCAM_SESSION_HEX + 1];
	char sid[SHORT_ID_LEN + 1]; /* for log lines */
	struct stream *stream;
	GstElement *bin; /* holds queue, pay and webrtc */
	GstElement *queue, *pay, *webrtc;
	GstPad *tee_pad;
	gulong signals[MAX_SIGNALS];
	int pt;
	guint32 ssrc;
	guint64 client_id; /* waiting for the answer; 0 once answered */
	GPtrArray *candidates;
	struct branch *branch; /* borrowed from the probes, valid while our elements are */
	gint *last_rx_s;       /* monotonic s of the last packet from the peer; NULL until watched.
	                          Owned by the nicesrc probe, which lives as long as our elements. */
	bool answer_sent, connected;
	guint gather_timer, ice_timer, disconnect_timer;
	gint64 created_us;
	char *etag;
	char *remote_ufrag; /* the offer's ICE ufrag: a PATCH with another one is an ICE restart */
	GPtrArray *mids;    /* the offer's a=mid values, by m-line index */
	struct peer *peer;  /* on the direct path (then no elements above), owned */
};

/* ---- viewer.c ---- */
void viewer_remove(struct viewer *v, const char *reason);
/* Count a session's end in the metrics (viewer_remove does it; bulk removals call it). */
void viewer_count_end(const struct viewer *v, const char *reason);
void viewer_send_error(guint64 client_id, int status, const char *error, const char *detail,
                       int retry_after);
struct viewer *viewer_lookup(const char *id);
/* Any thread: the peer connection of session `id` reached `st` (handled on the main loop). */
void viewer_post_connection(const char *id, GstWebRTCPeerConnectionState st);
const struct daemon_config *viewer_config(void);

/* ---- direct.c ---- */
/*
 * Main thread: make v's direct-path peer for `offer` and return the answer
 * without candidates (caller frees), or NULL with an HTTP status and reason.
 */
char *direct_answer(struct viewer *v, const GstSDPMessage *offer, int *status, char *detail,
                    size_t detail_len);
/* Main thread: stop and free v's peer; nothing when it has none. */
void direct_release(struct viewer *v);

/* ---- viewer_ice.c ---- */
/* Set up the viewer's ICE agent from the config: no UPnP, ports, addresses, TCP. */
void viewer_ice_configure(struct viewer *v);
/* Once the transport exists: note every packet from the peer (liveness). */
void viewer_ice_watch(struct viewer *v);
/* Main-loop timer: reap viewers silent for WHEPCAM_PEER_SILENCE_S. data: the table. */
gboolean viewer_ice_sweep_cb(gpointer table);
void viewer_ice_state(struct viewer *v, GstWebRTCICEConnectionState st);

#endif
