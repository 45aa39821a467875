/*
 * viewer_priv.h - the viewer as viewer.c and viewer_ice.c share it.
 * Private to session/; everyone else uses viewer.h. Main loop only.
 */
#ifndef WHEPCAMD_SESSION_VIEWER_PRIV_H
#define WHEPCAMD_SESSION_VIEWER_PRIV_H

#include "media/branch.h"
#include "viewer.h"
#include "whepcam.h"

#define SILENCE_SWEEP_S 5 /* how often silent viewers are looked for */

struct viewer {
	char id[WHEPCAM_SESSION_HEX + 1];
	char sid[SHORT_ID_LEN + 1]; /* for log lines */
	struct stream *stream;
	int pt;
	guint64 client_id;     /* waiting for the answer; 0 once answered */
	struct branch *branch; /* the join gate and counters; a reference */
	void *path;            /* the media path's state (session_ops); NULL until started */
	bool connected;
	guint ice_timer;
	gint64 created_us;
	char *etag;
	char *remote_ufrag; /* the offer's ICE ufrag: a PATCH with another one is an ICE restart */
};

/* ---- viewer.c ---- */
void viewer_remove(struct viewer *v, const char *reason);
/* Count a session's end in the metrics (viewer_remove does it; bulk removals call it). */
void viewer_count_end(const struct viewer *v, const char *reason);
struct viewer *viewer_lookup(const char *id);
const struct session_ops *viewer_ops(void);

/* ---- viewer_ice.c ---- */
/* Main-loop timer: reap viewers silent for WHEPCAM_PEER_SILENCE_S. data: the table. */
gboolean viewer_ice_sweep_cb(gpointer table);

#endif
