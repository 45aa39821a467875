/*
 * whep.c - the WHEP resources (draft-ietf-wish-whep-03): each HTTP request
 * becomes one daemon request, and the daemon's reply becomes the HTTP
 * response. Everything stream-specific (sessions, ETags, Links, limits)
 * comes from the daemon; this file only maps it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <syslog.h>
#include <time.h>

#include "fcgi.h"
#include "ratelimit.h"

#define PROBLEM_BUF 1024

struct ctx {
	FCGX_Request *req;
	const struct fcgi_config *cfg;
	struct route route;
	const char *method;
	struct response res;
	char problem[PROBLEM_BUF];
	char *body;         /* request body, owned */
	char why[256];      /* the refusal's reason, for the log */
	json_object *reply; /* daemon reply, owned */
	char *out;          /* response body we built, owned */
};

static const char *param(struct ctx *c, const char *name)
{
	return FCGX_GetParam(name, c->req->envp);
}

static void problem(struct ctx *c, int status, const char *detail)
{
	response_problem(&c->res, c->problem, sizeof(c->problem), status, detail);
	snprintf(c->why, sizeof(c->why), "%s", detail);
}

static const char *reply_string(json_object *reply, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(reply, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int reply_int(json_object *reply, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(reply, name, &v) ? json_object_get_int(v) : -1;
}

/* Read exactly `len` bytes of body (len already checked against `max`). 0 or -1. */
static int read_body(struct ctx *c, size_t max, const char *what)
{
	size_t len = 0;
	int got;

	if (http_parse_length(param(c, "CONTENT_LENGTH"), &len) != 0 || len == 0) {
		problem(c, 400, "the request has no body; send an SDP offer");
		return -1;
	}
	if (len > max) {
		char d[160];

		snprintf(d, sizeof(d), "%s is %zu bytes; the limit is %zu", what, len, max);
		problem(c, 413, d);
		return -1;
	}
	c->body = malloc(len + 1);
	if (c->body == NULL) {
		problem(c, 503, "out of memory");
		return -1;
	}
	got = FCGX_GetStr(c->body, (int)len, c->req->in);
	if (got < 0 || (size_t)got != len) {
		problem(c, 400, "the body is shorter than its Content-Length");
		return -1;
	}
	c->body[len] = '\0';
	if (!proto_valid_text(c->body, len)) {
		problem(c, 400, "the body is not UTF-8 text (or has control characters)");
		return -1;
	}
	return 0;
}

/* Common request fields: op, stream, session, token, peer. Caller puts. */
static json_object *daemon_request(struct ctx *c, const char *op)
{
	json_object *o = json_object_new_object();
	const char *token;
	size_t tlen;

	json_object_object_add(o, "op", json_object_new_string(op));
	if (c->route.kind >= ROUTE_STREAM)
		json_object_object_add(o, "stream", json_object_new_string(c->route.stream));
	if (c->route.kind == ROUTE_SESSION)
		json_object_object_add(o, "session", json_object_new_string(c->route.session));
	token = http_bearer_token(param(c, "HTTP_AUTHORIZATION"), &tlen);
	if (token != NULL && tlen <= WHEPCAM_MAX_TOKEN_BYTES)
		json_object_object_add(o, "token", json_object_new_string_len(token, (int)tlen));
	return o;
}

/* Relay `request` (taken); on a daemon error reply, fill the problem response. 0 or -1. */
static int relay(struct ctx *c, json_object *request)
{
	char err[256];
	int status, retry;

	c->reply = relay_call(c->cfg->daemon_socket, request, &status, err, sizeof(err));
	json_object_put(request);
	if (c->reply == NULL) {
		problem(c, status, err);
		if (status == 503)
			response_header(&c->res, "Retry-After: %d", WHEPCAM_RETRY_AFTER_S);
		return -1;
	}
	status = reply_int(c->reply, "status");
	if (status < 400)
		return 0;
	problem(c, status,
	        reply_string(c->reply, "detail") ? reply_string(c->reply, "detail")
	                                         : http_reason(status));
	retry = reply_int(c->reply, "retry_after");
	if (retry > 0)
		response_header(&c->res, "Retry-After: %d", retry);
	if (status == 401)
		response_header(&c->res, "WWW-Authenticate: Bearer realm=\"whepcam\"");
	if (status == 405)
		response_header(&c->res, "Allow: %s", http_allowed_methods(c->route.kind));
	return -1;
}

/* One Link header per value of the reply's "links" array. */
static void add_links(struct ctx *c, json_object *reply)
{
	json_object *links;
	size_t i;

	if (!json_object_object_get_ex(reply, "links", &links))
		return;
	for (i = 0; i < json_object_array_length(links); i++)
		response_header(&c->res, "Link: %s",
		                json_object_get_string(json_object_array_get_idx(links, i)));
}

static void do_offer(struct ctx *c)
{
	json_object *rq;
	const char *sdp, *session, *etag, *peer;

	if (!http_content_type_is(param(c, "CONTENT_TYPE"), "application/sdp")) {
		problem(c, 415, "send the offer with Content-Type: application/sdp");
		return;
	}
	if (read_body(c, WHEPCAM_MAX_SDP_BYTES, "the offer") != 0)
		return;
	if (strncmp(c->body, "v=0", 3) != 0) {
		problem(c, 400, "the body is not an SDP offer (it must start with v=0)");
		return;
	}
	rq = daemon_request(c, "offer");
	json_object_object_add(rq, "sdp", json_object_new_string(c->body));
	peer = param(c, "REMOTE_ADDR");
	if (peer != NULL && strlen(peer) <= WHEPCAM_MAX_PEER_BYTES)
		json_object_object_add(rq, "peer", json_object_new_string(peer));
	if (relay(c, rq) != 0)
		return;
	sdp = reply_string(c->reply, "sdp");
	session = reply_string(c->reply, "session");
	etag = reply_string(c->reply, "etag");
	if (reply_int(c->reply, "status") != 201 || sdp == NULL || session == NULL ||
	    !proto_valid_session_id(session)) {
		problem(c, 502, "the whepcam daemon sent an incomplete answer");
		return;
	}
	c->res.status = 201;
	c->res.content_type = "application/sdp";
	c->res.body = sdp;
	c->res.body_len = strlen(sdp);
	response_header(&c->res, "Location: /whep/%s/%s", c->route.stream, session);
	if (etag != NULL)
		response_header(&c->res, "ETag: %s", etag);
	response_header(&c->res, "Accept-Patch: application/trickle-ice-sdpfrag");
	add_links(c, c->reply);
}

static void do_patch(struct ctx *c)
{
	json_object *rq;
	const char *frag, *etag, *if_match = param(c, "HTTP_IF_MATCH");

	if (!http_content_type_is(param(c, "CONTENT_TYPE"), "application/trickle-ice-sdpfrag")) {
		problem(c, 415,
		        "send candidates with Content-Type: application/trickle-ice-sdpfrag");
		return;
	}
	if (read_body(c, WHEPCAM_MAX_FRAG_BYTES, "the fragment") != 0)
		return;
	rq = daemon_request(c, "patch");
	json_object_object_add(rq, "frag", json_object_new_string(c->body));
	if (if_match != NULL && strlen(if_match) <= WHEPCAM_MAX_ETAG_BYTES)
		json_object_object_add(rq, "if_match", json_object_new_string(if_match));
	if (relay(c, rq) != 0)
		return;
	c->res.status = reply_int(c->reply, "status");
	frag = reply_string(c->reply, "frag");
	etag = reply_string(c->reply, "etag");
	if (frag != NULL) {
		c->res.content_type = "application/trickle-ice-sdpfrag";
		c->res.body = frag;
		c->res.body_len = strlen(frag);
	}
	if (etag != NULL)
		response_header(&c->res, "ETag: %s", etag);
}

static void do_delete(struct ctx *c)
{
	if (relay(c, daemon_request(c, "delete")) == 0)
		c->res.status = 200;
}

/* GET/HEAD /whep/ lists the streams; GET/HEAD /whep/{stream} says whether it exists. */
static void do_get(struct ctx *c, bool head)
{
	json_object *streams, *o;
	size_t i;
	json_object *rq = json_object_new_object();

	json_object_object_add(rq, "op", json_object_new_string("streams"));
	if (relay(c, rq) != 0)
		return;
	if (!json_object_object_get_ex(c->reply, "streams", &streams)) {
		problem(c, 502, "the whepcam daemon sent no stream list");
		return;
	}
	if (c->route.kind == ROUTE_LIST) {
		o = json_object_new_object();
		json_object_object_add(o, "streams", json_object_get(streams));
		c->out = strdup(json_object_to_json_string_ext(
		    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		c->res.status = 200;
		c->res.content_type = "application/json";
		c->res.body = c->out;
		c->res.body_len = head || c->out == NULL ? 0 : strlen(c->out);
		return;
	}
	for (i = 0; i < json_object_array_length(streams); i++) {
		json_object *name, *s = json_object_array_get_idx(streams, i);

		if (json_object_object_get_ex(s, "name", &name) &&
		    strcmp(json_object_get_string(name), c->route.stream) == 0) {
			c->res.status = head ? 200 : 204; /* draft-ietf-wish-whep-03 §4.1 */
			response_header(&c->res, "Accept-Post: application/sdp");
			return;
		}
	}
	problem(c, 404, "no such stream");
}

/* Best effort: without the daemon, OPTIONS still answers, just without Links. */
static void add_ice_server_links(struct ctx *c)
{
	json_object *rq = json_object_new_object(), *reply;
	char err[128];
	int status;

	json_object_object_add(rq, "op", json_object_new_string("ice_servers"));
	reply = relay_call(c->cfg->daemon_socket, rq, &status, err, sizeof(err));
	json_object_put(rq);
	if (reply != NULL)
		add_links(c, reply);
	json_object_put(reply);
}

static void do_options(struct ctx *c)
{
	c->res.status = 204;
	response_header(&c->res, "Access-Control-Allow-Methods: %s",
	                http_allowed_methods(c->route.kind));
	response_header(&c->res,
	                "Access-Control-Allow-Headers: Content-Type, Authorization, If-Match");
	response_header(&c->res, "Access-Control-Max-Age: %d", FCGI_CORS_MAX_AGE_S);
	response_header(&c->res, "Allow: %s", http_allowed_methods(c->route.kind));
	if (c->route.kind == ROUTE_STREAM)
		response_header(&c->res, "Accept-Post: application/sdp");
	if (c->route.kind == ROUTE_SESSION)
		response_header(&c->res, "Accept-Patch: application/trickle-ice-sdpfrag");
	/* A plain OPTIONS (not a CORS preflight) also learns the ICE servers (WHEP §4.4). */
	if (c->route.kind == ROUTE_STREAM && param(c, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") == NULL)
		add_ice_server_links(c);
}

/* GET /metrics: the daemon's Prometheus text, as it sent it. */
static void do_metrics(struct ctx *c)
{
	json_object *rq = json_object_new_object();
	const char *text;

	json_object_object_add(rq, "op", json_object_new_string("metrics"));
	if (relay(c, rq) != 0)
		return;
	text = reply_string(c->reply, "text");
	c->res.status = 200;
	c->res.content_type = "text/plain; version=0.0.4; charset=utf-8";
	c->res.body = text != NULL ? text : "";
	c->res.body_len = strlen(c->res.body);
}

/* GET /healthz, for load balancers: 200 while the daemon answers, else 503/504. */
static void do_healthz(struct ctx *c)
{
	json_object *rq = json_object_new_object();
	char body[128];
	int n;

	json_object_object_add(rq, "op", json_object_new_string("health"));
	if (relay(c, rq) != 0)
		return;
	n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"viewers\":%d,\"uptime_s\":%d}\n",
	             reply_int(c->reply, "viewers"), reply_int(c->reply, "uptime_s"));
	c->out = strndup(body, n > 0 ? (size_t)n : 0);
	c->res.status = 200;
	c->res.content_type = "application/json";
	c->res.body = c->out;
	c->res.body_len = c->out != NULL ? strlen(c->out) : 0;
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * One line per request (unless --quiet), with the reason when it was refused;
 * rate-limited across the workers so that a flood cannot fill the disk.
 */
static void log_request(const struct ctx *c, const struct fcgi_config *cfg, const char *path,
                        double ms)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct ratelimit limit = {.per_s = WHEPCAM_REFUSAL_LOG_PER_S,
	                                 .burst = WHEPCAM_REFUSAL_LOG_BURST,
	                                 .tokens = WHEPCAM_REFUSAL_LOG_BURST};
	struct timespec now;
	unsigned long held = 0;
	bool go;

	if (!cfg->log_requests)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&lock);
	go = ratelimit_allow(&limit, (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, &held);
	pthread_mutex_unlock(&lock);
	if (!go)
		return;
	if (held > 0)
		syslog(LOG_INFO, "%lu requests not logged (more than %d a second)", held,
		       WHEPCAM_REFUSAL_LOG_PER_S);
	syslog(LOG_INFO, "%s %.200s %d %.1f ms%s%.256s", c->method, path != NULL ? path : "-",
	       c->res.status, ms, c->res.status >= 400 ? ": " : "",
	       c->res.status >= 400 ? c->why : "");
}

void whep_handle(FCGX_Request *req, const struct fcgi_config *cfg)
{
	struct ctx c = {.req = req, .cfg = cfg};
	const char *path;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c.method = param(&c, "REQUEST_METHOD");
	path = param(&c, "DOCUMENT_URI");
	if (path == NULL)
		path = param(&c, "SCRIPT_NAME");
	if (c.method == NULL)
		c.method = "";
	if (http_parse_path(path, &c.route) == ROUTE_NONE) {
		problem(&c, 404, "not a WHEP resource: use /whep/STREAM or /whep/STREAM/SESSION");
	} else if (!http_method_allowed(c.route.kind, c.method)) {
		problem(&c, 405, "method not allowed here; see the Allow header");
		response_header(&c.res, "Allow: %s", http_allowed_methods(c.route.kind));
	} else if (c.route.kind == ROUTE_METRICS) {
		do_metrics(&c);
	} else if (c.route.kind == ROUTE_HEALTHZ) {
		do_healthz(&c);
	} else if (strcmp(c.method, "OPTIONS") == 0) {
		do_options(&c);
	} else if (strcmp(c.method, "POST") == 0) {
		do_offer(&c);
	} else if (strcmp(c.method, "PATCH") == 0) {
		do_patch(&c);
	} else if (strcmp(c.method, "DELETE") == 0) {
		do_delete(&c);
	} else {
		do_get(&c, strcmp(c.method, "HEAD") == 0);
	}
	response_write(req->out, &c.res, cfg);
	log_request(&c, cfg, path, elapsed_ms(&t0));
	response_clear(&c.res);
	json_object_put(c.reply);
	free(c.body);
	free(c.out);
}
