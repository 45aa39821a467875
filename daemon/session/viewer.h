/*
 * viewer.h - the session layer: the table of viewers (the only owner of
 * viewers) and what both media paths share: offer checks, capacity,
 * session ids, the answer's completion and ETag, PATCH, the ICE timeout and
 * the silence sweep, the join gate. A viewer's media is its media path's,
 * reached only through struct session_ops (media/session_ops.h).
 * Main loop only.
 */
#ifndef WHEPCAMD_SESSION_VIEWER_H
#define WHEPCAMD_SESSION_VIEWER_H

#include <glib.h>
#include <stdbool.h>

#include "base/config.h"
#include "media/session_ops.h"
#include "media/stream.h"

/* What the session layer tells the layer above it (ctl/), handed to viewer_init. Main loop. */
struct session_hooks {
	/* Send `line` (taken) to control client `client_id`; false when that client has gone. */
	bool (*reply)(guint64 client_id, char *line);
	/* A session ended: why, and the RTP packets and encoded bytes it was sent. */
	void (*ended)(const char *reason, guint64 packets, guint64 bytes);
};

/*
 * Start the table. `ops` is the media path every viewer uses, `hooks` where
 * replies and ends go; both must outlive viewer_shutdown.
 */
void viewer_init(GMainContext *ctx, const struct daemon_config *cfg, const struct session_ops *ops,
                 const struct session_hooks *hooks);
/* Ends every viewer (the media path's stop() for each) and frees the table. */
void viewer_shutdown(void);
/* What the media path calls back (media/session_ops.h); valid before viewer_init. */
const struct session_host *viewer_host(void);

/* Starts an offer; the reply line comes later through hooks->reply. */
void viewer_offer(struct stream *s, const char *sdp, const char *peer, guint64 client_id);
/* Returns the HTTP status: 200, or 404 when there is no such session on that stream. */
int viewer_delete(struct stream *s, const char *session);
/* What a PATCH that restarted ICE answers with (200). */
struct patch_reply {
	char *frag;       /* our new ICE credentials and candidates; the caller frees */
	const char *etag; /* the session's new ETag; the session's own */
};

/*
 * Apply a trickle-ice-sdpfrag to a session: 204 (candidates added), 200 (an
 * ICE restart: *out filled), 400 (malformed), 404, 412 (If-Match is not the
 * ETag or "*"), 422 (an ICE restart the media path cannot do; the session is
 * kept).
 */
int viewer_patch(struct stream *s, const char *session, const char *frag, const char *if_match,
                 struct patch_reply *out, char *detail, size_t detail_len);
unsigned viewer_count(void);
/* Add the RTP packets and encoded bytes sent to the viewers there are now. */
void viewer_traffic(guint64 *packets, guint64 *bytes);
/*
 * Main thread: stream `s`'s source is back after being offline: each of its
 * connected viewers waits for a keyframe again (its player lost the
 * picture's references meanwhile), and one is asked for.
 */
void viewer_stream_back(struct stream *s);

#endif
