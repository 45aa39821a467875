/*
 * dtls_record.c - the record layer's first look at a datagram from the
 * internet, before OpenSSL parses it (RFC 6347 4.1): what could not be from
 * the peer's real DTLS 1.2 stack, or could end a session without being
 * authenticated, is dropped here. Pure: bytes in, a verdict out.
 */
#include <stdint.h>
#include <string.h>

#include "dtls.h"

#define DTLS_RECORD_HEADER 13 /* type, version, epoch, sequence number, length (RFC 6347 4.1) */

const char *dtls_datagram_check(const uint8_t *data, size_t len, size_t min_sealed)
{
	size_t at = 0, rec;
	unsigned type, epoch;

	if (len == 0 || len > DTLS_DATAGRAM_MAX)
		return "empty or oversized datagram";
	while (at < len) {
		if (len - at < DTLS_RECORD_HEADER)
			return "truncated record header";
		type = data[at];
		epoch = (unsigned)data[at + 3] << 8 | data[at + 4];
		rec = (size_t)data[at + 11] << 8 | data[at + 12];
		if (type < 20 ||
		    type > 23) /* change_cipher_spec, alert, handshake, application_data */
			return "unknown record type";
		if (data[at + 1] != 0xfe || (data[at + 2] != 0xff && data[at + 2] != 0xfd))
			return "not DTLS 1.0 or 1.2";
		if (rec == 0 || rec > len - at - DTLS_RECORD_HEADER)
			return "record length does not fit the datagram";
		if (epoch > 1)
			return "epoch past 1 (no renegotiation)";
		if (epoch == 0 && (type == 21 || type == 23))
			return "plaintext alert or application data";
		if (epoch == 1 && (min_sealed == 0 || rec < min_sealed))
			return "sealed record too short for its cipher";
		at += DTLS_RECORD_HEADER + rec;
	}
	return NULL;
}
