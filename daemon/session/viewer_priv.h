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
	struct track *track; /* its codec's, held (track_hold) while the viewer lives */
	struct codec_pick codec;
	int pt;
	guint64 client_id;     /* waiting for the answer; 0 once answered */
	struct branch *branch; /* the join gate and counters; a reference */
	void *path;            /* the media path's state (session_ops); NULL until started */
	bool connected;
	bool checked; /* a valid ICE check came: no longer only an offer (SESSION_LINK_CHECKED) */
	char *peer;   /* the client's address as nginx saw it; NULL for local clients */
	guint ice_timer;
	guint first_check_timer;
	gint64 created_us;
	char *etag;
	char *remote_ufrag; /* the offer's ICE ufrag: a PATCH with another one is an ICE restart */
	char *bundle_mid;   /* the m-line whose transport carries everything (the tagged one) */
};

/* ---- viewer.c ---- */
void viewer_remove(struct viewer *v, const char *reason);
/*
 * What viewer_remove does but the removal: media stopped, the end counted
 * and (for a session that had connected, unless a DELETE) a tombstone left; for
 * g_hash_table_foreach_remove callbacks, whose removal then frees the viewer.
 */
void viewer_retire(struct viewer *v, const char *reason);
struct viewer *viewer_lookup(const char *id);
const struct session_ops *viewer_ops(void);

/* ---- admission.c ---- */
void admission_init(const struct daemon_config *cfg);
void admission_shutdown(void);
/*
 * 0 when a session may be opened for an offer from `peer` (NULL: a local
 * client); else the status (503 max-pending, 429 a per-address limit) with
 * *error and a one-line `detail`.
 */
int admission_check(const char *peer, const char **error, char *detail, size_t len);
/* A new viewer (its peer set) joins the counts; local ones are never pending. */
void admission_join(struct viewer *v);
/* Its first valid check (or its connection): no longer pending; the first-check timer stops. */
void admission_checked(struct viewer *v);
/* It leaves the counts (from the table's destroy function). */
void admission_leave(struct viewer *v);
/*
 * A session that connected and ended without a DELETE: its id answers DELETE with 200 for
 * WHEPCAM_TOMBSTONE_S (at most WHEPCAM_MAX_TOMBSTONES kept, oldest dropped).
 */
void tombstone_add(const char *id, const struct stream *s);
/* True (and the tombstone gone) when `id` on `s` ended a moment ago without a DELETE. */
bool tombstone_take(const struct stream *s, const char *id);

/* ---- viewer_ice.c ---- */
/* Main-loop timer: reap viewers silent for WHEPCAM_PEER_SILENCE_S. data: the table. */
gboolean viewer_ice_sweep_cb(gpointer table);

#endif
