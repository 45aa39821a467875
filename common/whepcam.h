/*
 * whepcam.h - limits and names shared by whepcamd and whepcam-fcgi.
 * Every request limit of the project is a named constant here, so the
 * daemon, the FastCGI handler and nginx's client_max_body_size agree.
 */
#ifndef WHEPCAM_H
#define WHEPCAM_H

#include <stddef.h>

#define WHEPCAM_VERSION "0.1.0"

/* HTTP bodies (nginx's client_max_body_size is WHEPCAM_MAX_SDP_BYTES). */
#define WHEPCAM_MAX_SDP_BYTES  (64 * 1024)
#define WHEPCAM_MAX_FRAG_BYTES (16 * 1024)
/* m= sections an offer may have: a player offers two or three; the answer repeats ICE and DTLS
 * lines in each, so more would only make an answer too big to deliver. */
#define WHEPCAM_MAX_MLINES 16

/* Daemon socket: one JSON object per line, each way. */
#define WHEPCAM_MAX_MSG_BYTES  (256 * 1024)
#define WHEPCAM_MAX_JSON_DEPTH 8
/* A text body (proto_valid_text) at most doubles when JSON-escaped: the largest offer, with
 * its token and the rest of the request, fits one socket message. */
_Static_assert(2 * WHEPCAM_MAX_SDP_BYTES + 16 * 1024 <= WHEPCAM_MAX_MSG_BYTES,
               "an escaped offer must fit a socket message");

/*
 * Time limits of one request, innermost first; each must end before the one
 * around it, so the inner side's answer (or error) is the one a player sees:
 *   gather-timeout-ms (config, at most WHEPCAM_MAX_GATHER_TIMEOUT_MS): mode
 *     full answers with the candidates found so far;
 *   WHEPCAM_CTL_READ_TIMEOUT_MS, from accepting a control connection to the
 *     reply: the daemon drops a client that sent nothing, or whose answer is
 *     not ready by then, without a reply;
 *   WHEPCAM_RELAY_TIMEOUT_MS: whepcam-fcgi gives up and answers 504;
 *   nginx's fastcgi_read_timeout (15 s in nginx/whepcam-site.conf.in).
 */
#define WHEPCAM_MAX_GATHER_TIMEOUT_MS 4000
#define WHEPCAM_CTL_READ_TIMEOUT_MS   5000
#define WHEPCAM_RELAY_TIMEOUT_MS      10000
_Static_assert(
    WHEPCAM_MAX_GATHER_TIMEOUT_MS + 1000 <= WHEPCAM_CTL_READ_TIMEOUT_MS,
    "an answer after the longest gathering must be sent before the daemon drops its client");
_Static_assert(WHEPCAM_CTL_READ_TIMEOUT_MS < WHEPCAM_RELAY_TIMEOUT_MS,
               "the daemon must give up on a request before whepcam-fcgi does");

/* Request fields. */
#define WHEPCAM_MAX_STREAM_NAME 64
#define WHEPCAM_SESSION_BYTES   16 /* 128 bits from getrandom() */
#define WHEPCAM_SESSION_HEX     (WHEPCAM_SESSION_BYTES * 2)
#define WHEPCAM_MAX_TOKEN_BYTES 1024
#define WHEPCAM_MAX_PEER_BYTES  64
#define WHEPCAM_MAX_ETAG_BYTES  80
#define WHEPCAM_MAX_OP_BYTES    16 /* longest op name, "ice_servers" */

/* Viewers and timeouts (daemon defaults, overridable in config). */
#define WHEPCAM_DEFAULT_MAX_VIEWERS       200
#define WHEPCAM_DEFAULT_ICE_TIMEOUT_S     15
#define WHEPCAM_DEFAULT_GATHER_TIMEOUT_MS 2000
#define WHEPCAM_RETRY_AFTER_S             5
#define WHEPCAM_DEFAULT_AUDIO_KBPS        48 /* Opus, 48 kHz stereo-capable, with FEC */
/*
 * Sessions not yet proven real (no valid ICE check yet) are what a flood of
 * canned offers makes: they get their own, smaller cap and a short deadline,
 * and one client address may hold only a few of them and a bounded number
 * of sessions in all (max-viewers-per-address 0: neither per-address limit).
 * Offers from local control-socket clients (no peer address) are exempt.
 */
#define WHEPCAM_DEFAULT_MAX_PENDING     32
#define WHEPCAM_DEFAULT_FIRST_CHECK_S   5
#define WHEPCAM_DEFAULT_MAX_PER_ADDRESS 20
#define WHEPCAM_MAX_PENDING_PER_ADDRESS 4
/* An ended session's URL still answers DELETE with 200 this long (players close, then DELETE). */
#define WHEPCAM_TOMBSTONE_S    60
#define WHEPCAM_MAX_TOMBSTONES 4096
#define WHEPCAM_PEER_SILENCE_S 30 /* nothing from a viewer this long: reaped (RFC 7675) */

#define WHEPCAM_DEFAULT_SOCKET "/run/whepcam/whepcamd.sock"

#endif
