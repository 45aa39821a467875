/*
 * whep_rx.c - the bench's cheap WHEP receiver (tests/load/fleet.mjs drives
 * it): options, the control protocol, the jobs and the one event loop. A
 * viewer's own work is in rx_viewer.c, the replies' text in rx_report.c. One process, one thread;
 * owns every viewer, in three lists: held (playing), the running job's, and the ones whose DELETE
 * is on its way.
 *
 * Control: one JSON object a line on stdin, one reply a line on stdout, in
 * order; the next command is read once the one before is answered.
 *   {"cmd":"join","n":N,"base":"http://IP:PORT","stream":"cam","profile":"gcm"|"cm",
 *    "parallel":P}  -> {"joined":[{id,post201,ice,connect,firstRtp,firstKey}],
 *                       "failed":K,"reasons":{…}}   (times in ms from the POST)
 *   {"cmd":"counts"} -> {"counts":[RTP packets per held viewer],"audioCounts":[the sound's],
 *                        "cpu":{"user":µs,"system":µs}}
 *   {"cmd":"stats"}  -> {"viewers":[…],"cpu":{…},"loop":{…}}   (firstSeq, maxSeq: unwrapped,
 *                       the first one as it came: one payloader's viewers share its numbers)
 *   {"cmd":"leave","n":K} -> {"left":K,"status":{"200":K}}   (the oldest K, DELETEd)
 *   {"cmd":"exit"}
 * It starts with {"ready":true,"fingerprint":"sha-256 …"}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rx.h"

#define MAX_EVENTS   1024
#define MAX_LOCALS   64
#define MAX_LINE     4096
#define TIMER_MS     20
#define MAX_DELETING 64 /* DELETEs in flight at once */

struct list {
	struct viewer **v;
	size_t n, cap;
};

static struct {
	enum { J_NONE, J_JOIN, J_LEAVE } kind;
	int want, started, parallel;
	enum rx_profile profile;
	struct list vs;
} J;

static struct list held, zombies;
static struct in_addr locals[MAX_LOCALS];
/* Once joined, sockets are read every tick_ms: a recvmmsg then takes three
 * frames of a 30 fps stream. At 2 Mbps, 150 viewers (tests/load/rx_cost.mjs):
 * 0.024 % of a core per viewer at 20 ms, 0.020 at 50, 0.017 at 100; what is
 * left is ~0.6 µs per datagram in the kernel. */
static int nlocals, next_id, tick_ms = 100;
static char line[MAX_LINE * 4];
static size_t line_len;
static struct src stdin_src = {SRC_STDIN, NULL};

static void push(struct list *l, struct viewer *v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct viewer **n = realloc(l->v, cap * sizeof(*n));

		if (n == NULL) {
			fprintf(stderr, "whep_rx: out of memory\n");
			exit(1);
		}
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = v;
}

static int set_base(const char *base, const char *stream)
{
	char ip[INET_ADDRSTRLEN];
	const char *p, *colon;
	char *end;
	long port;

	if (strncmp(base, "http://", 7) != 0 || strlen(stream) > 64)
		return -1;
	p = base + 7;
	colon = strchr(p, ':');
	if (colon == NULL || (size_t)(colon - p) >= sizeof(ip))
		return -1;
	memcpy(ip, p, (size_t)(colon - p));
	ip[colon - p] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || port <= 0 || port > 65535 || (*end != '\0' && *end != '/'))
		return -1;
	memset(&G.server, 0, sizeof(G.server));
	G.server.sin_family = AF_INET;
	G.server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &G.server.sin_addr) != 1)
		return -1;
	snprintf(G.host, sizeof(G.host), "%s:%ld", ip, port);
	snprintf(G.path, sizeof(G.path), "/whep/%s", stream);
	return 0;
}

static void reply_join(void)
{
	const char *why[32];
	int count[32], nwhy = 0, failed = 0;
	bool first = true;
	size_t i;

	printf("{\"joined\":[");
	for (i = 0; i < J.vs.n; i++) {
		struct viewer *v = J.vs.v[i];

		if (v->failed) {
			int k;

			for (k = 0; k < nwhy && strcmp(why[k], v->why) != 0; k++)
				;
			if (k == nwhy && nwhy < 32) {
				why[nwhy] = v->why;
				count[nwhy++] = 0;
			}
			if (k < nwhy)
				count[k]++;
			failed++;
			viewer_delete(v);
			push(&zombies, v);
			continue;
		}
		printf("%s{\"id\":%d,", first ? "" : ",", v->id);
		report_ms("post201", v->t201, v->t0, true);
		report_ms("ice", v->t_ice, v->t0, true);
		report_ms("connect", v->t_dtls, v->t0, true);
		report_ms("firstRtp", v->t_first, v->t0, true);
		report_ms("firstKey", v->t_key, v->t0, false);
		printf("}");
		first = false;
		push(&held, v);
	}
	printf("],\"failed\":%d,\"reasons\":{", failed);
	for (int k = 0; k < nwhy; k++)
		printf("%s\"%s\":%d", k ? "," : "", why[k], count[k]);
	printf("}}\n");
	fflush(stdout);
}

static int get_int(json_object *o, const char *key, int def)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
	           ? json_object_get_int(v)
	           : def;
}

static const char *get_str(json_object *o, const char *key, const char *def)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : def;
}

/* Reads what every held viewer's socket holds: a count asked for between
 * two ticks includes what had arrived by then, not what had by the last tick. */
static void drain(void)
{
	for (size_t i = 0; i < held.n; i++)
		viewer_on_udp(held.v[i]);
}

/* One command; false on exit. */
static bool command(const char *text)
{
	json_object *o = json_tokener_parse(text);
	const char *cmd = o != NULL ? get_str(o, "cmd", "") : "";
	bool go_on = true;

	if (o == NULL) {
		report_error("not JSON");
	} else if (strcmp(cmd, "join") == 0) {
		const char *profile = get_str(o, "profile", "");

		if (set_base(get_str(o, "base", ""), get_str(o, "stream", "cam")) != 0) {
			report_error("join: base must be http://IPv4:PORT");
		} else {
			J.kind = J_JOIN;
			J.want = get_int(o, "n", 1);
			J.parallel = get_int(o, "parallel", 20);
			J.started = 0;
			J.vs.n = 0;
			J.profile = strcmp(profile, "gcm") == 0  ? RX_PROFILE_GCM
			            : strcmp(profile, "cm") == 0 ? RX_PROFILE_CM
			                                         : RX_PROFILE_NONE;
		}
	} else if (strcmp(cmd, "leave") == 0) {
		size_t k = (size_t)get_int(o, "n", 0);

		k = k > held.n ? held.n : k;
		J.kind = J_LEAVE;
		J.vs.n = 0;
		for (size_t i = 0; i < k; i++)
			push(&J.vs, held.v[i]);
		memmove(held.v, held.v + k, (held.n - k) * sizeof(*held.v));
		held.n -= k;
		J.started = 0;
	} else if (strcmp(cmd, "counts") == 0) {
		drain();
		report_counts(held.v, held.n);
	} else if (strcmp(cmd, "stats") == 0) {
		drain();
		report_stats(held.v, held.n);
	} else if (strcmp(cmd, "exit") == 0) {
		go_on = false;
	} else {
		report_error("unknown cmd");
	}
	json_object_put(o);
	return go_on;
}

/* Moves the running job on; answers it when it is over. */
static void progress(void)
{
	size_t i, done = 0;

	if (J.kind == J_JOIN) {
		for (i = 0; i < J.vs.n; i++)
			done += J.vs.v[i]->done;
		while ((int)(J.vs.n - done) < J.parallel && J.started < J.want) {
			int id = next_id++;
			struct viewer *v = viewer_start(id, &locals[id % nlocals], J.profile);

			J.started++;
			if (v == NULL) {
				fprintf(stderr, "whep_rx: cannot open a socket: %s\n",
				        strerror(errno));
				continue;
			}
			push(&J.vs, v);
		}
		if (J.started == J.want && done == J.vs.n) {
			reply_join();
			J.vs.n = 0; /* now held, or in zombies */
			J.kind = J_NONE;
		}
	} else if (J.kind == J_LEAVE) {
		int inflight = 0, status[8] = {0}, codes[8] = {0}, nc = 0;

		for (i = 0; i < J.vs.n; i++) {
			struct viewer *v = J.vs.v[i];

			if (v->state == V_DELETE)
				inflight++;
			done += v->state == V_GONE;
		}
		for (i = J.started; i < J.vs.n && inflight < MAX_DELETING; i++, J.started++) {
			viewer_delete(J.vs.v[i]);
			inflight += J.vs.v[i]->state == V_DELETE;
		}
		if (done < J.vs.n)
			return;
		for (i = 0; i < J.vs.n; i++) {
			int c = J.vs.v[i]->delete_status, k;

			for (k = 0; k < nc && codes[k] != c; k++)
				;
			if (k == nc && nc < 8)
				codes[nc++] = c;
			if (k < nc)
				status[k]++;
			viewer_free(J.vs.v[i]);
		}
		printf("{\"left\":%zu,\"status\":{", J.vs.n);
		for (int k = 0; k < nc; k++)
			printf("%s\"%d\":%d", k ? "," : "", codes[k], status[k]);
		printf("}}\n");
		fflush(stdout);
		J.vs.n = 0;
		J.kind = J_NONE;
	}
}

/* Reads what stdin has; runs the complete lines while no job runs. false on exit or EOF. */
static bool on_stdin(bool readable)
{
	char *nl;

	if (readable) {
		ssize_t n = read(STDIN_FILENO, line + line_len, sizeof(line) - 1 - line_len);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return false;
		if (n > 0)
			line_len += (size_t)n;
		if (line_len == sizeof(line) - 1 && memchr(line, '\n', line_len) == NULL)
			line_len = 0; /* a line past the limit: dropped */
	}
	while (J.kind == J_NONE && (nl = memchr(line, '\n', line_len)) != NULL) {
		bool go_on;

		*nl = '\0';
		go_on = command(line);
		line_len -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, line_len);
		if (!go_on)
			return false;
	}
	return true;
}

static void tick_all(double now)
{
	size_t i, k = 0;

	for (i = 0; i < held.n; i++)
		viewer_tick(held.v[i], now);
	for (i = 0; i < J.vs.n; i++)
		viewer_tick(J.vs.v[i], now);
	for (i = 0; i < zombies.n; i++) {
		struct viewer *v = zombies.v[i];

		if (v->state == V_GONE)
			viewer_free(v);
		else
			zombies.v[k++] = v;
	}
	zombies.n = k;
}

static int parse_locals(const char *s)
{
	char buf[1024], *p, *comma;

	snprintf(buf, sizeof(buf), "%s", s);
	for (p = buf, nlocals = 0; p != NULL && nlocals < MAX_LOCALS; p = comma) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma++ = '\0';
		if (inet_pton(AF_INET, p, &locals[nlocals++]) != 1)
			return -1;
	}
	return nlocals > 0 ? 0 : -1;
}

static int opt_int(const char *s, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "whep_rx: %s: not a number in [%d, %d]\n", s, lo, hi);
		exit(2);
	}
	return (int)v;
}

static void usage(void)
{
	fprintf(stderr, "usage: whep_rx [--local IP[,IP…]] [--batch N] [--tick-ms N] "
	                "[--decrypt-first N] [--sample-ms N] [--keepalive-ms N] "
	                "[--rcvbuf BYTES] [--corrupt-key] [--h264] [--audio] [--gro]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"local", required_argument, NULL, 'l'},
	                                     {"batch", required_argument, NULL, 'b'},
	                                     {"tick-ms", required_argument, NULL, 't'},
	                                     {"decrypt-first", required_argument, NULL, 'd'},
	                                     {"sample-ms", required_argument, NULL, 's'},
	                                     {"keepalive-ms", required_argument, NULL, 'k'},
	                                     {"rcvbuf", required_argument, NULL, 'r'},
	                                     {"corrupt-key", no_argument, NULL, 'c'},
	                                     {"h264", no_argument, NULL, 'H'},
	                                     {"audio", no_argument, NULL, 'a'},
	                                     {"gro", no_argument, NULL, 'g'},
	                                     {NULL, 0, NULL, 0}};
	struct epoll_event evs[MAX_EVENTS], ev = {.events = EPOLLIN, .data.ptr = &stdin_src};
	double last_timer = 0;
	int c;

	G.batch = 64;
	G.decrypt_first = 8;
	G.sample_ms = 1000;
	G.keepalive_ms = 5000;
	G.rcvbuf = 1 << 20; /* a second of 2 Mbps and more: a tick late by far loses nothing */
	parse_locals("127.0.0.1");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_locals(optarg) != 0)
				usage();
			break;
		case 'b':
			G.batch = opt_int(optarg, 1, 256);
			break;
		case 't':
			tick_ms = opt_int(optarg, 0, 1000);
			break;
		case 'd':
			G.decrypt_first = opt_int(optarg, 1, 100000);
			break;
		case 's':
			G.sample_ms = opt_int(optarg, 1, 3600000);
			break;
		case 'k':
			G.keepalive_ms = opt_int(optarg, 100, 60000);
			break;
		case 'r':
			G.rcvbuf = opt_int(optarg, 0, 1 << 28);
			break;
		case 'c':
			G.corrupt_key = true;
			break;
		case 'H':
			G.h264 = true;
			break;
		case 'a':
			G.audio = true;
			break;
		case 'g':
			G.gro = true;
			break;
		default:
			usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	G.ep = epoll_create1(EPOLL_CLOEXEC);
	if (G.ep < 0 || dtls_rx_init(G.fp, sizeof(G.fp)) != 0 ||
	    epoll_ctl(G.ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0) {
		fprintf(stderr, "whep_rx: cannot start (epoll, stdin or the DTLS certificate)\n");
		return 1;
	}
	printf("{\"ready\":true,\"fingerprint\":\"%s\"}\n", G.fp);
	fflush(stdout);
	for (;;) {
		bool busy = J.kind != J_NONE || zombies.n > 0;
		double start = now_ms(), now;
		int n = epoll_wait(G.ep, evs, MAX_EVENTS,
		                   busy          ? 5
		                   : tick_ms > 0 ? tick_ms
		                                 : TIMER_MS),
		    i;

		G.wakeups++;
		for (i = 0; i < n; i++) {
			struct src *s = evs[i].data.ptr;

			if (s->kind == SRC_STDIN) {
				if (!on_stdin(true))
					goto out;
			} else if (s->kind == SRC_UDP) {
				viewer_on_udp(s->v);
			} else {
				viewer_on_http(s->v, evs[i].events);
			}
		}
		now = now_ms();
		if (now - last_timer >= TIMER_MS) {
			tick_all(now);
			last_timer = now;
		}
		progress();
		if (!on_stdin(false))
			goto out;
		/* Steady state: let a tick's packets gather, so one recvmmsg takes a frame or more.
		 */
		busy = J.kind != J_NONE || zombies.n > 0;
		if (!busy && n < MAX_EVENTS && tick_ms > 0 && now - start < tick_ms) {
			double left = tick_ms - (now - start);
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left * 1e6)};

			nanosleep(&ts, NULL);
		}
	}
out:
	for (size_t i = 0; i < held.n; i++)
		viewer_free(held.v[i]);
	for (size_t i = 0; i < J.vs.n; i++)
		viewer_free(J.vs.v[i]);
	for (size_t i = 0; i < zombies.n; i++)
		viewer_free(zombies.v[i]);
	free(held.v);
	free(J.vs.v);
	free(zombies.v);
	dtls_rx_cleanup();
	srtp_rx_cleanup();
	close(G.ep);
	return 0;
}
