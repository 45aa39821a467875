/*
 * config_values.c - one config value turned into what it means: a bounded
 * number (the one number helper of the daemon), a port range, the addresses
 * of named interfaces, and source = auto resolved to a camera or the test
 * pattern. config.c's key tables call them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "util.h"

/* Parse a decimal int in [min, max]; the one number helper of the daemon. */
int config_parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int config_parse_port_range(const char *value, int *low, int *high, char **err)
{
	char **parts = g_strsplit(value, "-", 3);
	int rc = -1;

	if (g_strv_length(parts) == 2 && config_parse_int(parts[0], 1, 65535, low) == 0 &&
	    config_parse_int(parts[1], 1, 65535, high) == 0 && *low <= *high)
		rc = 0;
	else
		*err = g_strdup_printf("port-range must be LOW-HIGH, not \"%s\"", value);
	g_strfreev(parts);
	return rc;
}

int config_parse_interfaces(const char *value, char ***addresses, char **err)
{
	char **names = g_strsplit(value, ",", 16);
	GPtrArray *addrs = g_ptr_array_new();
	struct ifaddrs *ifs = NULL, *i;
	guint n;

	if (getifaddrs(&ifs) != 0) {
		*err = g_strdup("interfaces: cannot list the network interfaces");
		goto fail;
	}
	for (n = 0; names[n] != NULL; n++) {
		guint before = addrs->len;

		for (i = ifs; i != NULL; i = i->ifa_next) {
			char buf[INET6_ADDRSTRLEN];

			if (strcmp(i->ifa_name, g_strstrip(names[n])) == 0 &&
			    util_usable_address(i->ifa_addr, buf, sizeof(buf)))
				g_ptr_array_add(addrs, g_strdup(buf));
		}
		if (addrs->len == before) {
			*err = g_strdup_printf("interfaces: %s has no usable address", names[n]);
			goto fail;
		}
	}
	g_ptr_array_add(addrs, NULL);
	g_strfreev(*addresses);
	*addresses = (char **)g_ptr_array_free(addrs, FALSE);
	freeifaddrs(ifs);
	g_strfreev(names);
	return 0;
fail:
	g_ptr_array_set_free_func(addrs, g_free);
	g_ptr_array_unref(addrs);
	if (ifs != NULL)
		freeifaddrs(ifs);
	g_strfreev(names);
	return -1;
}

char *config_resolve_source(const char *source, const char *device)
{
	struct v4l2_capability cap;
	int fd;
	bool ok;

	if (strcmp(source, "auto") != 0)
		return g_strdup(source);
	fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return g_strdup("test:");
	ok = ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0 &&
	     ((cap.device_caps ? cap.device_caps : cap.capabilities) & V4L2_CAP_VIDEO_CAPTURE);
	close(fd);
	return ok ? g_strdup_printf("v4l2:%s", device) : g_strdup("test:");
}
