/*
 * srtp_session.h - libsrtp2 sessions from DTLS-SRTP keys (RFC 5764). A
 * session is used by one thread at a time; the caller owns it
 * (srtp_dealloc). The daemon seals and opens with srtp_seal.h and srtcp.h;
 * these are what the unit tests check those against, packet for packet.
 */
#ifndef WHEPCAMD_WIRE_SRTP_SESSION_H
#define WHEPCAMD_WIRE_SRTP_SESSION_H

#include <srtp2/srtp.h>
#include <stdbool.h>

#include "dtls.h"

/* Main thread, once at start-up. 0, or -1 with *err (caller frees). */
int srtp_session_init(char **err);
/* A sender (outbound) or receiver (inbound) session for the DTLS keys. 0 or -1. */
int srtp_session_new(srtp_t *out, enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                     bool outbound);

#endif
