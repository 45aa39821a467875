/* libFuzzer: STUN parsing, integrity checks and responses (daemon/stun.c) on raw datagrams. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything the daemon does with one datagram; every output must itself be valid STUN. */
static void one_datagram(const uint8_t *p, size_t n)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
	uint8_t out[STUN_MAX_RESPONSE];
	struct stun_request req;
	int len;

	stun_is_stun(p, n);
	if (stun_parse_binding_request(p, n, &req) != 0) {
		if (req.username[0] != '\0' || req.integrity_at != 0)
			abort(); /* a failed parse leaves nothing behind */
		return;
	}
	if (strlen(req.username) > STUN_MAX_USERNAME || req.integrity_at >= n ||
	    req.fingerprint_at >= n)
		abort();
	stun_check_integrity(p, n, &req, "VOkJxbRl1RmTxUk/WvJxBt");
	stun_check_integrity(p, n, &req, "");
	memcpy(sin6.sin6_addr.s6_addr, p + 4, 16); /* cookie and txid: sometimes v4-mapped */
	len = stun_binding_success(&req, (const struct sockaddr *)&sin, "pwd", out, sizeof(out));
	if (len < 0 || !stun_is_stun(out, (size_t)len))
		abort();
	len = stun_binding_success(&req, (const struct sockaddr *)&sin6, "pwd", out, sizeof(out));
	if (len < 0 || !stun_is_stun(out, (size_t)len))
		abort();
	len = stun_binding_error(req.txid, 401, "Unauthorized", out, sizeof(out));
	if (len < 0 || !stun_is_stun(out, (size_t)len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	size_t n;

	one_datagram(data, size);

	/* Random bytes almost never carry the magic cookie and a matching length,
	 * so also feed an exact-size copy with the header repaired: that is where
	 * the attribute walk, the part that matters, gets exercised. */
	if (size < STUN_HEADER_LEN || size - STUN_HEADER_LEN > 0xffff)
		return 0;
	n = size & ~(size_t)3;
	fixed = g_malloc(n);
	memcpy(fixed, data, n);
	fixed[0] = 0x00;
	fixed[1] = 0x01; /* Binding request */
	fixed[2] = (uint8_t)((n - STUN_HEADER_LEN) >> 8);
	fixed[3] = (uint8_t)(n - STUN_HEADER_LEN);
	fixed[4] = 0x21;
	fixed[5] = 0x12;
	fixed[6] = 0xa4;
	fixed[7] = 0x42;
	one_datagram(fixed, n);
	/* The same bytes as a success response to a consent check of ours (RFC 7675). */
	fixed[1] = 0x01;
	fixed[0] = 0x01;
	(void)stun_check_binding_success(fixed, n, fixed + 8, "pwd");
	g_free(fixed);
	return 0;
}
