/*
 * ctl.c - the control socket: one JSON request and one JSON reply per
 * connection (docs/protocol.md). Every client is a non-blocking fd with
 * GLib watches, a read deadline and a capped buffer, so a silent, slow or
 * hostile client never holds the main loop or another client.
 * Owns the listening socket and the table of connected clients.
 */
#define G_LOG_DOMAIN "ctl"
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/ice_servers.h"
#include "base/util.h"
#include "ctl.h"
#include "media/stream.h"
#include "proto.h"
#include "ratelimit.h"
#include "session/viewer.h"

#define CTL_MAX_CLIENTS 512 /* connections at once; past it new ones are closed */
#define CTL_READ_CHUNK  16384
#define CTL_BACKLOG     256 /* connects not yet accepted: one per FastCGI worker at most (256) */

struct client {
	guint64 id;
	int fd;
	GString *in;
	char *out;
	size_t out_len, out_off;
	guint read_watch, write_watch, timer;
	bool is_offer;                         /* its reply's status goes into the offer metrics */
	char op[WHEPCAM_MAX_OP_BYTES + 1];     /* for the log line of a refusal */
	char peer[WHEPCAM_MAX_PEER_BYTES + 1]; /* the player's address, as nginx saw it */
};

static struct {
	int fd;
	guint watch;
	char *path;
	GHashTable *clients; /* id -> struct client, owned */
	const struct daemon_config *cfg;
	const struct metrics_sources *src;
	guint64 next_id;
	struct ratelimit refusals; /* log lines about refused requests */
} C = {.fd = -1};

static void client_free(gpointer p)
{
	struct client *c = p;

	if (c->read_watch != 0)
		g_source_remove(c->read_watch);
	if (c->write_watch != 0)
		g_source_remove(c->write_watch);
	if (c->timer != 0)
		g_source_remove(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	if (c->in != NULL)
		g_string_free(c->in, TRUE);
	free(c->out);
	g_free(c);
}

static void client_close(struct client *c)
{
	g_hash_table_remove(C.clients, &c->id);
}

static gboolean client_write_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct client *c = data;

	while (c->out_off < c->out_len) {
		ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		if (n <= 0)
			break; /* the client went away: nothing more to do for it */
		c->out_off += (size_t)n;
	}
	c->write_watch = 0;
	client_close(c);
	return G_SOURCE_REMOVE;
}

/*
 * One log line per refused request (status >= 400) with its reason, so that
 * a player's 400 can be explained from the server's side; rate-limited so a
 * flood cannot fill the disk (the count of lines held back is logged after).
 */
static void log_refusal(struct client *c, int status, const char *line)
{
	json_object *o = json_tokener_parse(line), *v;
	const char *error = "", *detail = "";
	unsigned long held = 0;

	if (!ratelimit_allow(&C.refusals, g_get_monotonic_time(), &held)) {
		json_object_put(o);
		return;
	}
	if (o != NULL && json_object_object_get_ex(o, "error", &v))
		error = json_object_get_string(v);
	if (o != NULL && json_object_object_get_ex(o, "detail", &v))
		detail = json_object_get_string(v);
	if (held > 0)
		g_message("%lu refusals not logged (more than %d a second)", held,
		          WHEPCAM_REFUSAL_LOG_PER_S);
	g_message("refused %s from %s: %d %s: %s", c->op[0] != '\0' ? c->op : "request",
	          c->peer[0] != '\0' ? c->peer : "-", status, error, detail);
	json_object_put(o);
}

static void client_send(struct client *c, char *line)
{
	int status;

	if (line == NULL) {
		client_close(c);
		return;
	}
	if (c->read_watch != 0) {
		g_source_remove(c->read_watch);
		c->read_watch = 0;
	}
	/* Every reply line starts {"status":N (proto_line and the replies built here). */
	status = g_str_has_prefix(line, "{\"status\":") ? (int)strtol(line + 10, NULL, 10) : 0;
	if (c->is_offer && status != 0)
		metrics_offer(status);
	if (status >= 400)
		log_refusal(c, status, line);
	free(c->out);
	c->out = line;
	c->out_len = strlen(line);
	c->out_off = 0;
	if (c->timer != 0) {
		g_source_remove(c->timer);
		c->timer = 0;
	}
	c->write_watch = g_unix_fd_add(c->fd, G_IO_OUT, client_write_cb, c);
}

bool ctl_reply(guint64 client_id, char *line)
{
	struct client *c = C.clients != NULL ? g_hash_table_lookup(C.clients, &client_id) : NULL;

	if (c == NULL) {
		free(line);
		return false;
	}
	client_send(c, line);
	return true;
}

/* While an answer is being prepared: a client that hangs up is forgotten at once. */
static gboolean client_gone_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct client *c = data;
	char b[256];
	ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return G_SOURCE_CONTINUE; /* stray bytes after the request: ignored */
	c->read_watch = 0;
	client_close(c);
	return G_SOURCE_REMOVE;
}

static void reply_error(struct client *c, int status, const char *error, const char *detail)
{
	client_send(c, proto_error_reply(status, error, detail));
}

static bool authorized(struct stream *s, const char *token)
{
	return s->cfg->token == NULL || (token != NULL && util_secret_equal(token, s->cfg->token));
}

static long read_status_kb(const char *key)
{
	char *text = NULL, *p;
	long v = -1;

	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return -1;
	p = strstr(text, key);
	if (p != NULL)
		v = strtol(p + strlen(key), NULL, 10);
	g_free(text);
	return v;
}

static void op_health(struct client *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_int(200));
	json_object_object_add(o, "viewers", json_object_new_int((int)viewer_count()));
	json_object_object_add(o, "webrtcbins", json_object_new_int(C.src->live_webrtcbins()));
	json_object_object_add(o, "peers", json_object_new_int(C.src->live_peers()));
	json_object_object_add(o, "threads", json_object_new_int((int)read_status_kb("Threads:")));
	json_object_object_add(o, "rss_kb", json_object_new_int((int)read_status_kb("VmRSS:")));
	json_object_object_add(o, "uptime_s", json_object_new_int((int)util_uptime_s()));
	client_send(c, proto_line(o));
	json_object_put(o);
}

static void op_streams(struct client *c)
{
	GPtrArray *all = stream_list();
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	guint i;

	for (i = 0; i < all->len; i++) {
		struct stream *s = g_ptr_array_index(all, i);
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(s->cfg->name));
		json_object_object_add(e, "state",
		                       json_object_new_string(stream_state_name(s->state)));
		json_object *codecs = json_object_new_array();
		guint k;

		for (k = 0; k < s->n_codecs; k++)
			json_object_array_add(codecs,
			                      json_object_new_string(codec_name(s->order[k])));
		json_object_object_add(e, "source", json_object_new_string(s->source_public));
		/* the preferred codec (the first of codecs), as before there were several */
		json_object_object_add(e, "codec", json_object_new_string(codec_name(s->order[0])));
		json_object_object_add(e, "codecs", codecs);
		json_object_object_add(e, "width", json_object_new_int(s->cfg->width));
		json_object_object_add(e, "height", json_object_new_int(s->cfg->height));
		json_object_object_add(e, "fps", json_object_new_int(s->cfg->fps));
		json_object_object_add(e, "viewers", json_object_new_int((int)s->viewers));
		json_object_object_add(e, "protected",
		                       json_object_new_boolean(s->cfg->token != NULL));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "status", json_object_new_int(200));
	json_object_object_add(o, "streams", arr);
	client_send(c, proto_line(o));
	json_object_put(o);
}

static const char *patch_error_code(int status)
{
	switch (status) {
	case 404:
		return "unknown-session";
	case 412:
		return "etag-mismatch";
	case 422:
		return "ice-restart-unsupported";
	case 500:
		return "internal";
	default:
		return "bad-fragment";
	}
}

static void handle_request(struct client *c, const char *buf, size_t len)
{
	struct proto_request req;
	struct stream *s = NULL;
	char err[160];
	int status;

	if (proto_parse_request(buf, len, &req, &status, err, sizeof(err)) != 0) {
		reply_error(c, status, status == 404 ? "not-found" : "bad-request", err);
		return;
	}
	c->is_offer = strcmp(req.op, "offer") == 0;
	g_strlcpy(c->op, req.op, sizeof(c->op));
	if (req.peer != NULL)
		g_strlcpy(c->peer, req.peer, sizeof(c->peer));
	if (req.stream != NULL) {
		s = stream_find(req.stream);
		if (s == NULL) {
			g_snprintf(err, sizeof(err), "no stream named %s", req.stream);
			reply_error(c, 404, "unknown-stream", err);
			goto out;
		}
		if (!authorized(s, req.token)) {
			reply_error(c, 401, "unauthorized",
			            req.token == NULL
			                ? "this stream needs a Bearer token"
			                : "the Bearer token is not valid for this stream");
			goto out;
		}
	}
	if (strcmp(req.op, "offer") == 0) {
		c->read_watch =
		    g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, client_gone_cb, c);
		viewer_offer(s, req.sdp, req.peer, c->id);
	} else if (strcmp(req.op, "delete") == 0) {
		if (viewer_delete(s, req.session) == 200) {
			client_send(c, strdup("{\"status\":200}\n"));
		} else {
			g_snprintf(err, sizeof(err), "no session %.32s on stream %s", req.session,
			           req.stream);
			reply_error(c, 404, "unknown-session", err);
		}
	} else if (strcmp(req.op, "patch") == 0) {
		struct patch_reply pr = {0};

		status =
		    viewer_patch(s, req.session, req.frag, req.if_match, &pr, err, sizeof(err));
		if (status == 204) {
			client_send(c, strdup("{\"status\":204}\n"));
		} else if (status == 200) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "status", json_object_new_int(200));
			json_object_object_add(o, "frag", json_object_new_string(pr.frag));
			json_object_object_add(o, "etag", json_object_new_string(pr.etag));
			client_send(c, proto_line(o));
			json_object_put(o);
		} else {
			reply_error(c, status, patch_error_code(status), err);
		}
		g_free(pr.frag);
	} else if (strcmp(req.op, "streams") == 0) {
		op_streams(c);
	} else if (strcmp(req.op, "metrics") == 0) {
		json_object *o = json_object_new_object();
		char *text = metrics_text(C.src);

		json_object_object_add(o, "status", json_object_new_int(200));
		json_object_object_add(o, "text", json_object_new_string(text));
		g_free(text);
		client_send(c, proto_line(o));
		json_object_put(o);
	} else if (strcmp(req.op, "ice_servers") == 0) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_object_new_int(200));
		json_object_object_add(
		    o, "links", ice_servers_links(C.cfg, g_get_real_time() / G_USEC_PER_SEC));
		client_send(c, proto_line(o));
		json_object_put(o);
	} else {
		op_health(c);
	}
out:
	proto_request_clear(&req);
}

static gboolean client_timeout_cb(gpointer data)
{
	struct client *c = data;

	c->timer = 0;
	g_debug("client %" G_GUINT64_FORMAT ": no request within %d ms, dropped", c->id,
	        WHEPCAM_CTL_READ_TIMEOUT_MS);
	client_close(c);
	return G_SOURCE_REMOVE;
}

static void request_complete(struct client *c, size_t line_len)
{
	size_t i;

	g_source_remove(c->read_watch);
	c->read_watch = 0;
	/* Only whitespace may follow the one request line. */
	for (i = line_len + 1; i < c->in->len; i++) {
		if (!g_ascii_isspace(c->in->str[i])) {
			reply_error(c, 400, "bad-request", "bytes after the request line");
			return;
		}
	}
	handle_request(c, c->in->str, line_len);
}

static gboolean client_read_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct client *c = data;
	char buf[CTL_READ_CHUNK];
	ssize_t n;
	char *nl;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		c->read_watch = 0;
		if (n == 0 && c->in->len > 0) {
			/* Peer shut down its side after a request without '\n': take it. */
			handle_request(c, c->in->str, c->in->len);
			return G_SOURCE_REMOVE;
		}
		client_close(c);
		return G_SOURCE_REMOVE;
	}
	g_string_append_len(c->in, buf, n);
	nl = memchr(c->in->str + (c->in->len - (size_t)n), '\n', (size_t)n);
	if (nl != NULL) {
		request_complete(c, (size_t)(nl - c->in->str));
		return G_SOURCE_REMOVE;
	}
	if (c->in->len > WHEPCAM_MAX_MSG_BYTES) {
		c->read_watch = 0;
		reply_error(c, 413, "too-large", "request longer than 256 KiB");
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean accept_cb(gint fd, GIOCondition cond, gpointer data)
{
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;

		if (cfd < 0)
			break;
		if (g_hash_table_size(C.clients) >= CTL_MAX_CLIENTS) {
			g_warning("more than %d control clients; closing a new one",
			          CTL_MAX_CLIENTS);
			close(cfd);
			continue;
		}
		c = g_new0(struct client, 1);
		c->id = ++C.next_id;
		c->fd = cfd;
		c->in = g_string_sized_new(4096);
		c->read_watch =
		    g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, client_read_cb, c);
		c->timer = g_timeout_add(WHEPCAM_CTL_READ_TIMEOUT_MS, client_timeout_cb, c);
		g_hash_table_insert(C.clients, &c->id, c);
	}
	return G_SOURCE_CONTINUE;
}

int ctl_listen(const struct daemon_config *cfg, const struct metrics_sources *src, char **err)
{
	const char *path = cfg->socket_path;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(addr.sun_path)) {
		*err = g_strdup_printf("socket path too long: %s", path);
		return -1;
	}
	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	C.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (C.fd < 0)
		goto fail;
	unlink(path); /* a stale socket from a crashed run */
	if (bind(C.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || chmod(path, 0660) != 0 ||
	    listen(C.fd, CTL_BACKLOG) != 0)
		goto fail;
	C.path = g_strdup(path);
	C.cfg = cfg;
	C.src = src;
	ratelimit_init(&C.refusals, WHEPCAM_REFUSAL_LOG_PER_S, WHEPCAM_REFUSAL_LOG_BURST);
	C.clients = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, client_free);
	C.watch = g_unix_fd_add(C.fd, G_IO_IN, accept_cb, NULL);
	return 0;
fail:
	*err = g_strdup_printf("socket %s: %s", path, g_strerror(errno));
	if (C.fd >= 0)
		close(C.fd);
	C.fd = -1;
	return -1;
}

void ctl_close(void)
{
	if (C.watch != 0)
		g_source_remove(C.watch);
	C.watch = 0;
	if (C.clients != NULL)
		g_hash_table_destroy(C.clients);
	C.clients = NULL;
	if (C.fd >= 0) {
		close(C.fd);
		unlink(C.path);
	}
	C.fd = -1;
	g_free(C.path);
	C.path = NULL;
}
