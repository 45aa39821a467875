/*
 * udp.h - the direct path's sockets (one per local address, shared by
 * every viewer) and its one receive thread ("direct-rx"), which hands each
 * batch of datagrams to the peer registry (peer.h). Main thread.
 */
#ifndef WHEPCAMD_LITE_UDP_H
#define WHEPCAMD_LITE_UDP_H

#include <glib.h>

#include "base/config.h"

/* Open the sockets on the configured addresses and start the receive thread. */
int udp_start(const struct daemon_config *cfg, char **err);
/* Stop the receive thread and close the sockets. Idempotent; fine after a failed start. */
void udp_stop(void);
/* Host candidates of our sockets ("candidate:…"), borrowed until udp_stop. */
const GPtrArray *udp_candidates(void);

#endif
