/*
 * full.h - mode full, the webrtcbin media path: per viewer a bin
 * tee ! queue ! rtpvp8pay ! webrtcbin with its own ICE agent (libnice),
 * DTLS and SRTP, for a daemon-side TURN relay or ICE-TCP. It implements
 * struct session_ops; main.c is the only file that includes this.
 */
#ifndef WHEPCAMD_FULL_FULL_H
#define WHEPCAMD_FULL_FULL_H

#include <glib.h>

#include "base/config.h"
#include "media/session_ops.h"
#include "media/stream.h"

/* ---- full.c ---- */
/*
 * Main thread, before any viewer: remember `cfg` and `host` (both must
 * outlive full_shutdown) and start the reaper.
 */
void full_init(GMainContext *ctx, const struct daemon_config *cfg, const struct session_host *host);
/* After the session layer has ended every viewer: wait for the reaper and stop it. */
void full_shutdown(void);
extern const struct session_ops full_session_ops;
/*
 * struct stream_hooks' track_added: a passed-through track keeps its GOP,
 * which each joining viewer's branch is fed first (bin.c). Always 0.
 */
int full_track_added(struct stream *s, struct track *t, char **err);

/* ---- reaper.c ---- */
/* webrtcbins created and not yet finalized: a leak shows here. Any thread. */
int reaper_live_webrtcbins(void);

/* ---- warmup.c ---- */
/* Answer one canned offer with a throwaway webrtcbin: first-viewer costs at start-up. */
void warmup_run(void);

#endif
