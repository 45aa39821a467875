/*
 * util.h - small helpers every layer may use: the daemon's uptime, session
 * ids, a constant-time comparison, interface addresses as text, and the
 * systemd readiness notification (notify.c). Any thread unless noted.
 */
#ifndef WHEPCAMD_BASE_UTIL_H
#define WHEPCAMD_BASE_UTIL_H

#include <glib.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "whepcam.h"

/* Log lines name a viewer by the first SHORT_ID_LEN hex digits of its session id. */
#define SHORT_ID_LEN 8

/* ---- util.c ---- */
/* Main thread, once at start-up. */
void util_mark_start(void);
/* Seconds since util_mark_start(). */
gint64 util_uptime_s(void);
/* 128 random bits as 32 lowercase hex digits into out[WHEPCAM_SESSION_HEX + 1]. */
int session_id_new(char out[WHEPCAM_SESSION_HEX + 1]);
/*
 * An interface address as text into buf (INET6_ADDRSTRLEN): true for IPv4
 * and IPv6 but link-local, which ICE cannot use without a scope.
 */
bool util_usable_address(const struct sockaddr *sa, char *buf, size_t len);
/* Constant-time string comparison. */
bool util_secret_equal(const char *a, const char *b);

/* ---- notify.c ---- */
/* Sends `state` ("READY=1", "STOPPING=1", ...) to systemd when it asked for it. */
void notify_systemd(const char *state);

#endif
