/*
 * notify.c - tells systemd (Type=notify) that the daemon is ready or
 * stopping, by the sd_notify datagram protocol: one "KEY=VALUE" line per
 * field sent to the unix socket named in $NOTIFY_SOCKET ('@' = abstract).
 * A dozen lines of our own rather than a libsystemd dependency for them.
 */
#define G_LOG_DOMAIN "whepcamd"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

void notify_systemd(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return; /* not started by systemd with Type=notify */
	len = strlen(path);
	if (len >= sizeof(addr.sun_path))
		return;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		g_warning("could not notify systemd: %s", g_strerror(errno));
	close(fd);
}
