/*
 * rx_report.c - the text of whep_rx's replies on stdout (whep_rx.c has the
 * protocol): one JSON object a line, numbers and our own fixed strings only,
 * so no escaping is needed. Main thread; owns nothing.
 */
#include <stdio.h>
#include <sys/resource.h>

#include "rx.h"

static double ms(double t, double t0)
{
	return t > 0 ? t - t0 : -1;
}

/* A time as JSON: a number, or null when it never happened. */
void report_ms(const char *key, double t, double t0, bool comma)
{
	if (t > 0)
		printf("\"%s\":%.2f%s", key, ms(t, t0), comma ? "," : "");
	else
		printf("\"%s\":null%s", key, comma ? "," : "");
}

static void put_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("\"cpu\":{\"user\":%lld,\"system\":%lld}",
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
}

void report_stats(struct viewer *const *held, size_t n)
{
	printf("{\"viewers\":[");
	for (size_t i = 0; i < n; i++) {
		const struct viewer *v = held[i];

		printf(
		    "%s{\"id\":%d,\"ssrc\":%u,\"answerSsrc\":%u,\"packets\":%llu,\"missing\":%llu,"
		    "\"dups\":%llu,\"late\":%llu,\"bytes\":%llu,\"foreignSsrc\":%llu,\"rtcp\":%llu,"
		    "\"badPt\":%llu,\"early\":%llu,\"other\":%llu,\"firstIsKeyframe\":%s,"
		    "\"width\":%d,\"height\":%d,\"decrypts\":%d,\"decryptOk\":%d,"
		    "\"decryptFail\":%d,\"consentAnswered\":%llu,\"stunOther\":%llu,"
		    "\"keepaliveSent\":%llu,\"keepaliveOk\":%llu,\"dtlsAfter\":%llu,"
		    "\"firstSeq\":%lld,\"maxSeq\":%lld,\"profile\":\"%s\",",
		    i ? "," : "", v->id, v->ssrc, v->ans.ssrc, (unsigned long long)v->pkts,
		    (unsigned long long)viewer_missing(v), (unsigned long long)v->dups,
		    (unsigned long long)v->late, (unsigned long long)v->bytes,
		    (unsigned long long)v->foreign, (unsigned long long)v->rtcp,
		    (unsigned long long)v->bad_pt, (unsigned long long)v->early,
		    (unsigned long long)v->other, v->first_is_key ? "true" : "false", v->width,
		    v->height, v->decrypts, v->decrypt_ok, v->decrypt_fail,
		    (unsigned long long)v->consent_answered, (unsigned long long)v->stun_other,
		    (unsigned long long)v->keepalive_sent, (unsigned long long)v->keepalive_ok,
		    (unsigned long long)v->dtls_after, (long long)v->first_ext,
		    (long long)v->max_ext,
		    v->srtp.profile == RX_PROFILE_GCM ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
		printf("\"audioSsrc\":%u,\"answerAudioSsrc\":%u,\"audioPackets\":%llu,"
		       "\"audioBytes\":%llu,\"audioMissing\":%llu,\"audioBeforeVideo\":%llu,"
		       "\"audioForeignSsrc\":%llu,\"audioDecryptOk\":%d,\"audioDecryptFail\":%d,"
		       "\"srVideo\":%llu,\"srAudio\":%llu,\"srOther\":%llu,",
		       v->a_ssrc, v->ans.audio_ssrc, (unsigned long long)v->a_pkts,
		       (unsigned long long)v->a_bytes, (unsigned long long)viewer_audio_missing(v),
		       (unsigned long long)v->a_before_video, (unsigned long long)v->a_foreign,
		       v->a_decrypt_ok, v->a_decrypt_fail, (unsigned long long)v->sr_video,
		       (unsigned long long)v->sr_audio, (unsigned long long)v->sr_other);
		report_ms("firstRtp", v->t_first, v->t0, true);
		report_ms("firstKey", v->t_key, v->t0, false);
		printf("}");
	}
	printf("],");
	put_cpu();
	printf(",\"loop\":{\"wakeups\":%llu,\"recvCalls\":%llu,\"datagrams\":%llu}}\n",
	       (unsigned long long)G.wakeups, (unsigned long long)G.recv_calls,
	       (unsigned long long)G.datagrams);
	fflush(stdout);
}

void report_error(const char *what)
{
	printf("{\"error\":\"%s\"}\n", what);
	fflush(stdout);
}

/* counts: every RTP packet each viewer got (picture and sound: what the
 * daemon's packet counter counts); audioCounts: the sound's alone. */
void report_counts(struct viewer *const *held, size_t n)
{
	printf("{\"counts\":[");
	for (size_t i = 0; i < n; i++)
		printf("%s%llu", i ? "," : "",
		       (unsigned long long)(held[i]->pkts + held[i]->a_pkts));
	printf("],\"audioCounts\":[");
	for (size_t i = 0; i < n; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)held[i]->a_pkts);
	printf("],");
	put_cpu();
	printf("}\n");
	fflush(stdout);
}
