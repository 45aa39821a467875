/*
 * ctl.h - the control socket whepcam-fcgi talks to: one JSON request and
 * one JSON reply per connection (docs/protocol.md). Main loop.
 */
#ifndef WHEPCAMD_CTL_CTL_H
#define WHEPCAMD_CTL_CTL_H

#include <glib.h>
#include <stdbool.h>

#include "base/config.h"
#include "metrics.h"

/*
 * Listen on cfg->socket_path (mode 0660). `cfg` and `src` must outlive the
 * socket. 0, or -1 with *err (caller frees).
 */
int ctl_listen(const struct daemon_config *cfg, const struct metrics_sources *src, char **err);
void ctl_close(void);
/* Send `line` (takes ownership) to a waiting client; false (line dropped) if it has gone. */
bool ctl_reply(guint64 client_id, char *line);

#endif
