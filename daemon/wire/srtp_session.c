/*
 * srtp_session.c - libsrtp2 sessions from DTLS-SRTP keys (RFC 5764): one
 * outbound session per viewer for its media, one inbound for its RTCP.
 * libsrtp keeps the rollover counters and the replay window; a session is
 * used by one thread only, so the two directions never share one.
 */
#define G_LOG_DOMAIN "srtp"
#include <glib.h>
#include <string.h>

#include "srtp_session.h"

#define SRTP_REPLAY_WINDOW 1024 /* packets: wide enough for a burst of reordering */

int srtp_session_init(char **err)
{
	srtp_err_status_t st = srtp_init();

	if (st != srtp_err_status_ok) {
		*err = g_strdup_printf("libsrtp2 failed to start (error %d)", (int)st);
		return -1;
	}
	return 0;
}

int srtp_session_new(srtp_t *out, enum dtls_srtp_profile profile, const uint8_t *key, size_t len,
                     bool outbound)
{
	uint8_t master[DTLS_SRTP_KEY_MAX];
	srtp_policy_t policy;
	srtp_err_status_t st;

	*out = NULL;
	if (len > sizeof(master))
		return -1;
	memset(&policy, 0, sizeof(policy));
	if (profile == DTLS_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&policy.rtp);
		srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
	}
	memcpy(master, key, len);
	policy.key = master;
	policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	policy.window_size = SRTP_REPLAY_WINDOW;
	/* A viewer that lost a packet and asks again must not be refused by us. */
	policy.allow_repeat_tx = 1;
	st = srtp_create(out, &policy);
	memset(master, 0, sizeof(master));
	if (st != srtp_err_status_ok) {
		*out = NULL;
		return -1;
	}
	return 0;
}
