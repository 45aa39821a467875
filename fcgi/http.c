/*
 * http.c - the HTTP side of whepcam-fcgi: WHEP paths and methods by
 * table, header values parsed with bounded helpers, and responses written
 * with CORS headers on every one of them (errors included) so a player on
 * another origin can read them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

#define WHEP_PREFIX "/whep"

static const struct {
	enum route_kind kind;
	const char *allow;
} method_table[] = {
    {ROUTE_LIST, "GET, HEAD, OPTIONS"},
    {ROUTE_STREAM, "POST, GET, HEAD, OPTIONS"},
    {ROUTE_SESSION, "PATCH, DELETE, OPTIONS"},
    {ROUTE_METRICS, "GET, HEAD"},
    {ROUTE_HEALTHZ, "GET, HEAD"},
};

const char *http_allowed_methods(enum route_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(method_table) / sizeof(method_table[0]); i++)
		if (method_table[i].kind == kind)
			return method_table[i].allow;
	return "";
}

bool http_method_allowed(enum route_kind kind, const char *method)
{
	const char *allow = http_allowed_methods(kind), *p;
	size_t n = strlen(method);

	if (n == 0)
		return false;
	for (p = strstr(allow, method); p != NULL; p = strstr(p + 1, method))
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* Copy one path segment (up to '/' or end) into out; -1 when invalid. */
static int take_segment(const char **p, char *out, size_t outlen)
{
	size_t n = strcspn(*p, "/");

	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

enum route_kind http_parse_path(const char *path, struct route *r)
{
	const char *p;

	memset(r, 0, sizeof(*r));
	if (path != NULL && strcmp(path, "/metrics") == 0)
		return r->kind = ROUTE_METRICS;
	if (path != NULL && strcmp(path, "/healthz") == 0)
		return r->kind = ROUTE_HEALTHZ;
	if (path == NULL || strlen(path) > FCGI_MAX_PATH || strncmp(path, WHEP_PREFIX, 5) != 0)
		return ROUTE_NONE;
	p = path + strlen(WHEP_PREFIX);
	if (*p == '\0' || strcmp(p, "/") == 0)
		return r->kind = ROUTE_LIST;
	if (*p++ != '/' || take_segment(&p, r->stream, sizeof(r->stream)) != 0 ||
	    !proto_valid_stream_name(r->stream))
		return ROUTE_NONE;
	if (*p == '\0')
		return r->kind = ROUTE_STREAM;
	if (*p++ != '/' || take_segment(&p, r->session, sizeof(r->session)) != 0 || *p != '\0' ||
	    !proto_valid_session_id(r->session))
		return ROUTE_NONE;
	return r->kind = ROUTE_SESSION;
}

bool http_content_type_is(const char *value, const char *type)
{
	size_t n = strlen(type);

	if (value == NULL)
		return false;
	while (*value == ' ')
		value++;
	if (strncasecmp(value, type, n) != 0)
		return false;
	value += n;
	while (*value == ' ')
		value++;
	return *value == '\0' || *value == ';';
}

int http_parse_length(const char *value, size_t *len)
{
	unsigned long long v;
	char *end;

	if (value == NULL || !isdigit((unsigned char)value[0]))
		return -1;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v > (unsigned long long)SIZE_MAX / 2)
		return -1;
	*len = (size_t)v;
	return 0;
}

const char *http_bearer_token(const char *value, size_t *len)
{
	if (value == NULL || strncasecmp(value, "Bearer ", 7) != 0)
		return NULL;
	value += 7;
	while (*value == ' ')
		value++;
	*len = strcspn(value, " \t");
	return *len > 0 ? value : NULL;
}

const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	    {200, "OK"},
	    {201, "Created"},
	    {204, "No Content"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {406, "Not Acceptable"},
	    {409, "Conflict"},
	    {411, "Length Required"},
	    {412, "Precondition Failed"},
	    {413, "Content Too Large"},
	    {415, "Unsupported Media Type"},
	    {422, "Unprocessable Content"},
	    {428, "Precondition Required"},
	    {429, "Too Many Requests"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
}

void response_header(struct response *res, const char *fmt, ...)
{
	char line[1024];
	size_t old = res->headers != NULL ? strlen(res->headers) : 0;
	va_list ap;
	int n;
	char *grown;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || strpbrk(line, "\r\n") != NULL)
		return; /* never let a value split the header block */
	grown = realloc(res->headers, old + (size_t)n + 3);
	if (grown == NULL)
		return;
	memcpy(grown + old, line, (size_t)n);
	memcpy(grown + old + (size_t)n, "\r\n", 3);
	res->headers = grown;
}

void response_problem(struct response *res, char *buf, size_t buflen, int status,
                      const char *detail)
{
	json_object *o = json_object_new_object();
	int n;

	json_object_object_add(o, "type", json_object_new_string("about:blank"));
	json_object_object_add(o, "title", json_object_new_string(http_reason(status)));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	n = snprintf(buf, buflen, "%s\n",
	             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	res->status = status;
	res->content_type = "application/problem+json";
	res->body = buf;
	res->body_len = n > 0 && (size_t)n < buflen ? (size_t)n : 0;
}

void response_write(FCGX_Stream *out, const struct response *res, const struct fcgi_config *cfg)
{
	char head[1024];
	int n;

	/* snprintf, not FCGX_FPrintF: libfcgi's own printf lacks %zu. */
	n = snprintf(head, sizeof(head),
	             "Status: %d %s\r\n"
	             "Access-Control-Allow-Origin: %s\r\n"
	             "Access-Control-Expose-Headers: Location, ETag, Link, Accept-Patch, "
	             "Accept-Post, Retry-After\r\n"
	             "Cache-Control: no-store\r\n"
	             "%s%s%s%s",
	             res->status, http_reason(res->status), cfg->cors_origin,
	             strcmp(cfg->cors_origin, "*") != 0 ? "Vary: Origin\r\n" : "",
	             res->content_type != NULL ? "Content-Type: " : "",
	             res->content_type != NULL ? res->content_type : "",
	             res->content_type != NULL ? "\r\n" : "");
	if (n > 0 && (size_t)n < sizeof(head))
		FCGX_PutStr(head, n, out);
	if (res->headers != NULL)
		FCGX_PutS(res->headers, out);
	n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n\r\n", res->body_len);
	FCGX_PutStr(head, n, out);
	if (res->body_len > 0)
		FCGX_PutStr(res->body, (int)res->body_len, out);
}

void response_clear(struct response *res)
{
	free(res->headers);
	memset(res, 0, sizeof(*res));
}
