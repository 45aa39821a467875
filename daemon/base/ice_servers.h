/*
 * ice_servers.h - the STUN and TURN servers of the config as players are
 * told about them (Link headers) and as webrtcbin's agent uses them.
 * Pure functions of the config and the time; any thread.
 */
#ifndef WHEPCAMD_BASE_ICE_SERVERS_H
#define WHEPCAMD_BASE_ICE_SERVERS_H

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "config.h"

/* TURN username and credential (caller frees both; NULL when none are configured). */
void ice_servers_turn_credentials(const struct daemon_config *cfg, gint64 now_s, char **username,
                                  char **credential);
/* The Link header values for the configured STUN and TURN servers. Caller puts. */
json_object *ice_servers_links(const struct daemon_config *cfg, gint64 now_s);
/* turn(s)://USER:PASS@HOST:PORT for webrtcbin's turn-server, or NULL. Caller frees. */
char *ice_servers_turn_uri(const struct daemon_config *cfg, gint64 now_s);

#endif
