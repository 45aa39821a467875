/*
 * util.c - small helpers: the daemon's uptime, session ids from the
 * kernel's random source, a constant-time comparison for tokens and
 * interface addresses as text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "util.h"

static gint64 started_us;

void util_mark_start(void)
{
	started_us = g_get_monotonic_time();
}

gint64 util_uptime_s(void)
{
	return (g_get_monotonic_time() - started_us) / G_USEC_PER_SEC;
}

int session_id_new(char out[WHEPCAM_SESSION_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[WHEPCAM_SESSION_BYTES];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[WHEPCAM_SESSION_HEX] = '\0';
	return 0;
}

bool util_secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = la != lb;

	/* Walk the expected secret's whole length whatever the input. */
	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}

bool util_usable_address(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return false;
	return inet_ntop(sa->sa_family, a, buf, (socklen_t)len) != NULL &&
	       !g_str_has_prefix(buf, "fe80:");
}
