/*
 * proto.h - the daemon socket protocol (docs/protocol.md): requests and
 * replies are single JSON objects ending in '\n'. Both binaries validate
 * every field against a table before trusting it.
 */
#ifndef WHEPCAM_PROTO_H
#define WHEPCAM_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum proto_type { PROTO_STRING, PROTO_INT, PROTO_ARRAY, PROTO_ARRAY_OF_STRINGS };

struct proto_field {
	const char *name;
	enum proto_type type;
	bool required;
	size_t max_len; /* strings: bytes; arrays: elements; ints: max value */
};

/* A parsed request. Strings point into `root`, freed by proto_request_clear. */
struct proto_request {
	json_object *root;
	const char *op;
	const char *stream;
	const char *session;
	const char *sdp;
	const char *frag;
	const char *token;
	const char *peer;
	const char *if_match;
};

/*
 * Parse one request line of `len` bytes (without the '\n').
 * Returns 0, or -1 with the HTTP status in *status and a one-line reason
 * in err. On success the caller calls proto_request_clear().
 */
int proto_parse_request(const char *buf, size_t len, struct proto_request *req, int *status,
                        char *err, size_t errlen);
void proto_request_clear(struct proto_request *req);

/*
 * Parse `buf` as one JSON object with the project's depth limit and strict
 * mode; nothing but whitespace may follow it. Caller frees with json_object_put.
 */
json_object *proto_parse_object(const char *buf, size_t len, char *err, size_t errlen);

/* Check `obj` against `fields` (NULL-name terminated): types, required, lengths, unknowns. */
int proto_check_fields(json_object *obj, const struct proto_field *fields, char *err,
                       size_t errlen);

/* The reply fields the FastCGI handler accepts. */
extern const struct proto_field proto_reply_fields[];

/* True when `s` is a valid stream name: [A-Za-z0-9_-]{1,WHEPCAM_MAX_STREAM_NAME}. */
bool proto_valid_stream_name(const char *s);
/* True when `s` is a session id: exactly WHEPCAM_SESSION_HEX lowercase hex digits. */
bool proto_valid_session_id(const char *s);

/* True when `s` holds `len` bytes of UTF-8 without NUL bytes. */
bool proto_valid_utf8(const char *s, size_t len);
/*
 * True for a text body (SDP, trickle fragment): UTF-8 with no control
 * character but tab, CR and LF. JSON then escapes each byte to at most two
 * ('"', '\\', '/'), so the largest body fits a socket message (whepcam.h).
 */
bool proto_valid_text(const char *s, size_t len);

/* Serialize `obj` as one protocol line ending in '\n'. Caller frees with free(). */
char *proto_line(json_object *obj);

/* Build an error reply line {"status":N,"error":"…","detail":"…"}\n. Caller frees with free(). */
char *proto_error_reply(int status, const char *error, const char *detail);

#endif
