/*
 * proto.c - parsing and validation of the daemon socket protocol.
 * Each op has a field table; a request with an unknown op or field, a
 * wrong type, an over-long value, over-deep JSON or trailing bytes is
 * refused with a 400-class status and a one-line reason.
 */
#include "proto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "whepcam.h"

#define F_OP                                                                                       \
	{                                                                                          \
		"op", PROTO_STRING, true, WHEPCAM_MAX_OP_BYTES                                     \
	}
#define F_STREAM(req)                                                                              \
	{                                                                                          \
		"stream", PROTO_STRING, req, WHEPCAM_MAX_STREAM_NAME                               \
	}
#define F_SESSION                                                                                  \
	{                                                                                          \
		"session", PROTO_STRING, true, WHEPCAM_SESSION_HEX                                 \
	}
#define F_TOKEN                                                                                    \
	{                                                                                          \
		"token", PROTO_STRING, false, WHEPCAM_MAX_TOKEN_BYTES                              \
	}
#define F_END                                                                                      \
	{                                                                                          \
		NULL, 0, false, 0                                                                  \
	}

static const struct proto_field offer_fields[] = {
    F_OP,
    F_STREAM(true),
    {"sdp", PROTO_STRING, true, WHEPCAM_MAX_SDP_BYTES},
    F_TOKEN,
    {"peer", PROTO_STRING, false, WHEPCAM_MAX_PEER_BYTES},
    F_END,
};
static const struct proto_field patch_fields[] = {
    F_OP,
    F_STREAM(true),
    F_SESSION,
    {"frag", PROTO_STRING, true, WHEPCAM_MAX_FRAG_BYTES},
    {"if_match", PROTO_STRING, false, WHEPCAM_MAX_ETAG_BYTES},
    F_TOKEN,
    F_END,
};
static const struct proto_field delete_fields[] = {
    F_OP, F_STREAM(true), F_SESSION, F_TOKEN, F_END,
};
static const struct proto_field bare_fields[] = {F_OP, F_END};

static const struct {
	const char *op;
	const struct proto_field *fields;
} ops[] = {
    {"offer", offer_fields},      {"patch", patch_fields}, {"delete", delete_fields},
    {"streams", bare_fields},     {"health", bare_fields}, {"metrics", bare_fields},
    {"ice_servers", bare_fields},
};

const struct proto_field proto_reply_fields[] = {
    {"status", PROTO_INT, true, 599},
    {"session", PROTO_STRING, false, WHEPCAM_SESSION_HEX},
    {"sdp", PROTO_STRING, false, WHEPCAM_MAX_SDP_BYTES},
    {"frag", PROTO_STRING, false, WHEPCAM_MAX_FRAG_BYTES},
    {"etag", PROTO_STRING, false, WHEPCAM_MAX_ETAG_BYTES},
    {"links", PROTO_ARRAY_OF_STRINGS, false, 16},
    {"error", PROTO_STRING, false, 64},
    {"detail", PROTO_STRING, false, 512},
    {"retry_after", PROTO_INT, false, 3600},
    {"streams", PROTO_ARRAY, false, 1024},
    {"viewers", PROTO_INT, false, 1000000},
    {"webrtcbins", PROTO_INT, false, 1000000},
    {"peers", PROTO_INT, false, 1000000},
    {"threads", PROTO_INT, false, 1000000},
    {"rss_kb", PROTO_INT, false, INT32_MAX},
    {"uptime_s", PROTO_INT, false, INT32_MAX},
    {"text", PROTO_STRING, false, WHEPCAM_MAX_MSG_BYTES},
    F_END,
};

json_object *proto_parse_object(const char *buf, size_t len, char *err, size_t errlen)
{
	json_tokener *tok = json_tokener_new_ex(WHEPCAM_MAX_JSON_DEPTH);
	json_object *obj = NULL;
	size_t used;

	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if (len > WHEPCAM_MAX_MSG_BYTES) {
		snprintf(err, errlen, "message longer than %d bytes", WHEPCAM_MAX_MSG_BYTES);
		goto fail;
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		snprintf(err, errlen, "invalid JSON: %s",
		         e == json_tokener_continue ? "incomplete" : json_tokener_error_desc(e));
		goto fail;
	}
	used = json_tokener_get_parse_end(tok);
	for (; used < len; used++) {
		if (!isspace((unsigned char)buf[used])) {
			snprintf(err, errlen, "trailing bytes after the JSON object");
			goto fail;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "request is not a JSON object");
		goto fail;
	}
	json_tokener_free(tok);
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}

static const struct proto_field *find_field(const struct proto_field *fields, const char *name)
{
	for (; fields->name != NULL; fields++)
		if (strcmp(fields->name, name) == 0)
			return fields;
	return NULL;
}

static int check_value(json_object *v, const struct proto_field *f, char *err, size_t errlen)
{
	size_t i, n;

	switch (f->type) {
	case PROTO_STRING:
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "field %s must be a string", f->name);
			return -1;
		}
		if ((size_t)json_object_get_string_len(v) > f->max_len) {
			snprintf(err, errlen, "field %s longer than %zu bytes", f->name,
			         f->max_len);
			return -1;
		}
		if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
			snprintf(err, errlen, "field %s contains a NUL byte", f->name);
			return -1;
		}
		return 0;
	case PROTO_INT:
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
		    json_object_get_int64(v) > (int64_t)f->max_len) {
			snprintf(err, errlen, "field %s must be an integer 0..%zu", f->name,
			         f->max_len);
			return -1;
		}
		return 0;
	case PROTO_ARRAY:
	case PROTO_ARRAY_OF_STRINGS:
		if (!json_object_is_type(v, json_type_array)) {
			snprintf(err, errlen, "field %s must be an array", f->name);
			return -1;
		}
		n = json_object_array_length(v);
		if (n > f->max_len) {
			snprintf(err, errlen, "field %s has more than %zu elements", f->name,
			         f->max_len);
			return -1;
		}
		for (i = 0; f->type == PROTO_ARRAY_OF_STRINGS && i < n; i++) {
			if (!json_object_is_type(json_object_array_get_idx(v, i),
			                         json_type_string)) {
				snprintf(err, errlen, "field %s must hold strings", f->name);
				return -1;
			}
		}
		return 0;
	}
	return -1;
}

int proto_check_fields(json_object *obj, const struct proto_field *fields, char *err, size_t errlen)
{
	const struct proto_field *f;

	json_object_object_foreach(obj, key, val)
	{
		f = find_field(fields, key);
		if (f == NULL) {
			snprintf(err, errlen, "unknown field %.40s", key);
			return -1;
		}
		if (check_value(val, f, err, errlen) != 0)
			return -1;
	}
	for (f = fields; f->name != NULL; f++) {
		if (f->required && !json_object_object_get_ex(obj, f->name, NULL)) {
			snprintf(err, errlen, "missing field %s", f->name);
			return -1;
		}
	}
	return 0;
}

static const char *get_string(json_object *obj, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool proto_valid_stream_name(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
			return false;
	return n > 0 && n <= WHEPCAM_MAX_STREAM_NAME;
}

bool proto_valid_session_id(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!isdigit((unsigned char)s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
			return false;
	return n == WHEPCAM_SESSION_HEX;
}

int proto_parse_request(const char *buf, size_t len, struct proto_request *req, int *status,
                        char *err, size_t errlen)
{
	const struct proto_field *fields = NULL;
	const char *op;
	size_t i;

	memset(req, 0, sizeof(*req));
	*status = 400;
	req->root = proto_parse_object(buf, len, err, errlen);
	if (req->root == NULL)
		goto fail;
	op = get_string(req->root, "op");
	if (op == NULL) {
		snprintf(err, errlen,
		         json_object_object_get_ex(req->root, "op", NULL)
		             ? "field op must be a string"
		             : "missing field op");
		goto fail;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].op, op) == 0)
			fields = ops[i].fields;
	if (fields == NULL) {
		snprintf(err, errlen, "unknown op %.20s", op);
		goto fail;
	}
	if (proto_check_fields(req->root, fields, err, errlen) != 0)
		goto fail;
	req->op = op;
	req->stream = get_string(req->root, "stream");
	req->session = get_string(req->root, "session");
	req->sdp = get_string(req->root, "sdp");
	req->frag = get_string(req->root, "frag");
	req->token = get_string(req->root, "token");
	req->peer = get_string(req->root, "peer");
	req->if_match = get_string(req->root, "if_match");
	if (req->stream != NULL && !proto_valid_stream_name(req->stream)) {
		*status = 404;
		snprintf(err, errlen, "invalid stream name");
		goto fail;
	}
	if (req->session != NULL && !proto_valid_session_id(req->session)) {
		*status = 404;
		snprintf(err, errlen, "invalid session id");
		goto fail;
	}
	return 0;
fail:
	proto_request_clear(req);
	return -1;
}

void proto_request_clear(struct proto_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

char *proto_line(json_object *obj)
{
	size_t n;
	const char *s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *line = malloc(n + 2);

	if (line == NULL)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *proto_error_reply(int status, const char *error, const char *detail)
{
	json_object *o = json_object_new_object();
	char *line;

	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	line = proto_line(o);
	json_object_put(o);
	return line;
}

bool proto_valid_utf8(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n, k;
		unsigned cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (n >= len - i)
			return false; /* truncated sequence */
		for (k = 1; k <= n; k++) {
			unsigned char cc = (unsigned char)s[i + k];

			if ((cc & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool proto_valid_text(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return false;
	}
	return proto_valid_utf8(s, len);
}
