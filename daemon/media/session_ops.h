/*
 * session_ops.h - the interface between the session layer (session/: the
 * viewer table, offers, answers, timers) and a media path (lite/: ICE-lite,
 * DTLS, SRTP and a fan-out per track; full/: a webrtcbin per viewer).
 * main.c picks one path at start-up, hands its session_ops to the session
 * layer and the session layer's session_host to the path. It lives here,
 * below all three, so that includes only go down: session/ calls it, lite/
 * and full/ implement it, and none of them includes another.
 */
#ifndef WHEPCAMD_MEDIA_SESSION_OPS_H
#define WHEPCAMD_MEDIA_SESSION_OPS_H

#include <glib.h>
#include <gst/sdp/sdp.h>
#include <stdbool.h>

#include "branch.h"
#include "stream.h"

/* A new viewer, as the session layer hands it to its media path. Borrowed for the call. */
struct session_offer {
	const char *id;        /* the session id: what the session_host callbacks take */
	const char *sid;       /* its short form, for log lines */
	struct stream *stream; /* the stream it watches */
	struct track *video;   /* the picture it is sent: its codec's track; NULL: sound only */
	struct branch *branch; /* its join gate and counters: take a reference to keep it */
	int pt;                /* the offer's payload type for that codec */
	struct track *audio;   /* the stream's sound (Opus), when the offer asked for it; or NULL */
	int audio_pt;          /* the offer's payload type for Opus */
	const struct codec_pick *codec; /* the codec chosen, its fmtp (wire/codec.h) */
	gint64 created_us;              /* when the offer came in */
	const GstSDPMessage *sdp;       /* the offer, parsed and checked (sdp_check_offer) */
	const char *text;               /* the same offer as it came, for debug logs */
};

/* An answer for the session layer to complete (SSRC lines, candidates, ETag) and send. */
struct session_answer {
	char *sdp;          /* no candidates, no SSRC lines yet; the session layer frees it */
	guint32 ssrc;       /* the video SSRC the viewer receives (0: none) */
	guint32 audio_ssrc; /* the sound's (0: none) */
	const GPtrArray *candidates; /* our "candidate:…" lines; borrowed for the call */
};

/* Why a start failed: what the client is told, and how the end is logged. */
struct session_error {
	int status;         /* HTTP status */
	const char *error;  /* problem type, e.g. "bad-offer" */
	char detail[160];   /* one line a person can act on */
	const char *reason; /* the session's end in the log and metrics; NULL: neither */
};

enum session_start {
	SESSION_START_ANSWERED, /* *answer is filled */
	SESSION_START_PENDING,  /* session_host answered() or failed() follows */
	SESSION_START_FAILED,   /* *err is filled; nothing of the viewer is left in the path */
};

/* What the session layer asks of its media path. Every op is called on the main loop. */
struct session_ops {
	/* Appended to the "join from" log line (" (direct)" on the direct path). */
	const char *join_note;
	/*
	 * The path asks for the viewer's first keyframe itself, with the offer,
	 * and opens its gate when DTLS is up (lite: its fan-out keeps the frames
	 * since a fresh keyframe). false: the session layer opens the gate and
	 * asks at SESSION_LINK_CONNECTED.
	 */
	bool keyframe_at_offer;
	/*
	 * Start sending `o`'s viewer its track. Unless it fails, *path is the
	 * path's state for this viewer, handed to every op below until stop().
	 */
	enum session_start (*start)(const struct session_offer *o, void **path,
	                            struct session_answer *answer, struct session_error *err);
	/* A candidate trickled in a PATCH, for the m-line with a=mid `mid` (NULL: the first). */
	void (*add_candidate)(void *path, const char *mid, const char *line);
	/*
	 * An ICE restart (a WHEP PATCH with new credentials, RFC 8840 / WHEP
	 * §4.3): the viewer's new ICE ufrag/pwd; DTLS and media go on. Returns the
	 * fragment to answer with (our new ufrag/pwd, and our candidates under an
	 * m-line with a=mid `mid`; caller frees), or NULL with *err filled (its
	 * reason unused: the session is kept). NULL op: the path cannot restart
	 * ICE (the PATCH gets 422).
	 */
	char *(*restart_ice)(void *path, const char *mid, const char *remote_ufrag,
	                     const char *remote_pwd, struct session_error *err);
	/*
	 * Monotonic second the viewer last proved it is there; -1 while nothing
	 * watches. Only what a third party cannot forge counts (lite: an answer
	 * to our consent check, SRTCP that unprotects, the handshake's end; not
	 * the viewer's own checks, whose source address anyone can forge).
	 */
	int (*last_rx_s)(void *path);
	/* The viewer is gone: release everything. No session_host call names it afterwards. */
	void (*stop)(void *path);
};

/*
 * How a viewer's transport went, as its media path reports it. CHECKED: the
 * viewer proved it is there (a valid ICE check arrived, or ICE connected):
 * until then a session is only an offer anyone could have sent.
 */
enum session_link {
	SESSION_LINK_CHECKED,
	SESSION_LINK_CONNECTED,
	SESSION_LINK_FAILED,
	SESSION_LINK_CLOSED
};

/*
 * What a media path tells the session layer, handed to the path when it is
 * created (main.c). `id` is the viewer's session id.
 */
struct session_host {
	/*
	 * Any thread (the receive thread, a webrtcbin thread), any locks held:
	 * the viewer's transport is up, failed or closed. It only copies `id`
	 * and hops to the main loop, where a viewer gone meanwhile is skipped.
	 */
	void (*link)(const char *id, enum session_link st);
	/*
	 * Main loop, after a PENDING start: the answer. False when the client
	 * has gone: the viewer has then been ended and stop() has run, so the
	 * path must not touch its state for it again.
	 */
	bool (*answered)(const char *id, struct session_answer *answer);
	/*
	 * Main loop, after a PENDING start and before answered(): the offer
	 * failed; the client gets `status`, `error` and `detail`, and the
	 * session ends with `reason`. stop() has run when it returns.
	 */
	void (*failed)(const char *id, int status, const char *error, const char *detail,
	               const char *reason);
	/* Main loop: end the session (ICE failed, gone silent...). stop() has run when it returns.
	 */
	void (*end)(const char *id, const char *reason);
};

#endif
