/*
 * fcgi.h - whepcam-fcgi: a stateless HTTP <-> JSON translator between
 * nginx (FastCGI) and whepcamd (unix socket). Types and prototypes,
 * grouped by file. It keeps no state and reads no stream config.
 */
#ifndef WHEPCAM_FCGI_H
#define WHEPCAM_FCGI_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "whepcam.h"

#define FCGI_DEFAULT_WORKERS 8
#define FCGI_MAX_WORKERS     256
/*
 * Connections nginx may have waiting for a worker on --listen: a join
 * burst (200 players at once) queues here, and past the backlog nginx's
 * connect fails and the player gets 502. systemd's socket defaults to
 * SOMAXCONN.
 */
#define FCGI_LISTEN_BACKLOG 1024
#define FCGI_MAX_PATH       256 /* longer request paths are 404 */
#define FCGI_CORS_MAX_AGE_S 86400

struct fcgi_config {
	const char *daemon_socket;
	const char *cors_origin;
	bool log_requests;
};

/* ---- http.c: request parsing and response writing ---- */

enum route_kind {
	ROUTE_NONE,
	ROUTE_LIST,
	ROUTE_STREAM,
	ROUTE_SESSION,
	ROUTE_METRICS,
	ROUTE_HEALTHZ
};

struct route {
	enum route_kind kind;
	char stream[WHEPCAM_MAX_STREAM_NAME + 1];
	char session[WHEPCAM_SESSION_HEX + 1];
};

/* Split a request path into a WHEP route; ROUTE_NONE when it is not one of ours. */
enum route_kind http_parse_path(const char *path, struct route *r);
/* The methods a route answers, as an Allow header value. */
const char *http_allowed_methods(enum route_kind kind);
bool http_method_allowed(enum route_kind kind, const char *method);
/* True when `value` is `type` (case-insensitive), optionally followed by ;parameters. */
bool http_content_type_is(const char *value, const char *type);
/* Parse CONTENT_LENGTH: 0 with *len set, or -1 when missing or malformed. */
int http_parse_length(const char *value, size_t *len);
/* The token of an "Authorization: Bearer TOKEN" header, or NULL. Points into `value`. */
const char *http_bearer_token(const char *value, size_t *len);
const char *http_reason(int status);

struct response {
	int status;
	const char *content_type;
	const char *body;
	size_t body_len;
	char *headers; /* extra header lines, each ending in \r\n; owned */
};

void response_header(struct response *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An RFC 9457 problem+json response with a one-line detail; `body` owned by the caller's buf. */
void response_problem(struct response *res, char *buf, size_t buflen, int status,
                      const char *detail);
void response_write(FCGX_Stream *out, const struct response *res, const struct fcgi_config *cfg);
void response_clear(struct response *res);

/* ---- relay.c: the daemon client ---- */

/*
 * Send `request` (one JSON object) to the daemon and wait up to
 * WHEPCAM_RELAY_TIMEOUT_MS for its reply. Returns the validated reply
 * (caller puts), or NULL with *http_status 503 (unreachable), 504 (too
 * slow) or 502 (bad reply) and a reason in err.
 */
json_object *relay_call(const char *socket_path, json_object *request, int *http_status, char *err,
                        size_t errlen);

/* ---- whep.c: the WHEP resources ---- */

/* Handle one FastCGI request completely. */
void whep_handle(FCGX_Request *req, const struct fcgi_config *cfg);

#endif
