/*
 * main.c - whepcam-fcgi: takes its listening FastCGI socket from a path
 * (--listen) or inherits it on fd 0 (systemd socket activation,
 * spawn-fcgi), then runs N worker threads, each accepting and answering
 * requests on its own, so one slow request never holds the others.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "fcgi.h"

static struct fcgi_config cfg = {
    .daemon_socket = WHEPCAM_DEFAULT_SOCKET,
    .cors_origin = "*",
    .log_requests = true,
};
static int listen_fd;
/* libfcgi's accept is not safe to call from several threads at once. */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *unused)
{
	FCGX_Request req;

	(void)unused;
	if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
		return NULL;
	for (;;) {
		int rc;

		pthread_mutex_lock(&accept_lock);
		rc = FCGX_Accept_r(&req);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0)
			break;
		whep_handle(&req, &cfg);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: whepcam-fcgi [--listen PATH] [--listen-mode OCTAL] [--workers N]\n"
	        "                    [--daemon-socket PATH] [--cors-origin ORIGIN] [--quiet]\n"
	        "Without --listen the FastCGI socket is inherited on fd 0.\n");
}

/* The one number helper: a decimal (or octal with base 8) in [min, max]. */
static int parse_number(const char *s, int base, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_path = NULL;
	long workers = FCGI_DEFAULT_WORKERS, mode = 0660;
	sigset_t stop_signals;
	static pthread_t *threads; /* the workers run until exit, never joined: kept, not leaked */
	int i, sig;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quiet") == 0) {
			cfg.log_requests = false;
			continue;
		}
		if (strcmp(a, "--help") == 0 || v == NULL) {
			usage();
			return strcmp(a, "--help") == 0 ? 0 : 2;
		}
		i++;
		if (strcmp(a, "--listen") == 0)
			listen_path = v;
		else if (strcmp(a, "--daemon-socket") == 0)
			cfg.daemon_socket = v;
		else if (strcmp(a, "--cors-origin") == 0 && strpbrk(v, "\r\n") == NULL)
			cfg.cors_origin = v;
		else if (strcmp(a, "--workers") == 0 &&
		         parse_number(v, 10, 1, FCGI_MAX_WORKERS, &workers) == 0)
			continue;
		else if (strcmp(a, "--listen-mode") == 0 && parse_number(v, 8, 0, 0777, &mode) == 0)
			continue;
		else {
			fprintf(stderr, "whepcam-fcgi: bad option %s %s\n", a, v);
			usage();
			return 2;
		}
	}
	openlog("whepcam-fcgi",
	        LOG_PID | (isatty(2) || getenv("INVOCATION_ID") == NULL ? LOG_PERROR : 0),
	        LOG_DAEMON);
	if (FCGX_Init() != 0) {
		syslog(LOG_ERR, "cannot initialise libfcgi");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (listen_path != NULL) {
		unlink(listen_path); /* a stale socket from a crashed run */
		listen_fd = FCGX_OpenSocket(listen_path, FCGI_LISTEN_BACKLOG);
		if (listen_fd < 0 || chmod(listen_path, (mode_t)mode) != 0) {
			syslog(LOG_ERR, "cannot listen on %s: %s", listen_path, strerror(errno));
			return 1;
		}
	} else {
		int type = 0;
		socklen_t len = sizeof(type);

		if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
			fprintf(stderr,
			        "whepcam-fcgi: no --listen and fd 0 is not a listening socket\n");
			usage();
			return 2;
		}
		listen_fd = 0;
	}
	syslog(LOG_INFO, "ready: %ld workers, daemon socket %s", workers, cfg.daemon_socket);
	/*
	 * libfcgi's SIGTERM handler only flags a shutdown that workers blocked
	 * in accept() never see. Block the stop signals in every thread and
	 * take them here: requests are stateless, so stopping at once is safe.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	threads = calloc((size_t)workers, sizeof(*threads));
	if (threads == NULL)
		return 1;
	for (i = 0; i < workers; i++)
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
			syslog(LOG_ERR, "cannot start worker %d", i);
			return 1;
		}
	sigwait(&stop_signals, &sig);
	syslog(LOG_INFO, "signal %d: stopping", sig);
	if (listen_path != NULL)
		unlink(listen_path);
	return 0;
}
