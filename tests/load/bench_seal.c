/*
 * bench_seal - what sealing one RTP packet for one viewer costs, libsrtp2
 * (srtp_session.c's sessions) against wire/srtp_seal.c, both DTLS-SRTP
 * profiles. As fanout.c does it: each packet is copied into the send
 * buffer, given the viewer's payload type and sealed once per viewer, the
 * viewers round-robin (so -v 1000 also shows the caches missing). Prints
 * ns per packet, min and median over the reps (the implementations take
 * turns within each rep, so load on the box hits them alike), the heap
 * one session costs, and "copy" alone as the floor.
 * Usage: bench_seal [-v viewers] [-p packets] [-r reps] [-s size] [-P gcm|cm|both]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/srtp_seal.h"
#include "wire/srtp_session.h"

#define MAX_SIZE 1400
#define MAX_REPS 64

enum impl { IMPL_COPY, IMPL_LIBSRTP, IMPL_OURS, IMPL_N };
static const char *const impl_name[IMPL_N] = {"copy", "libsrtp2", "srtp_seal"};

struct viewer {
	srtp_t ref;
	struct srtp_seal *ours;
};

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static unsigned long arg(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0) {
		fprintf(stderr, "bench_seal: not a positive number: %s\n", s);
		exit(2);
	}
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One pass: every packet to every viewer. ns per sealed packet. */
static double pass(enum impl impl, struct viewer *v, unsigned long nv, unsigned long np,
                   const uint8_t *src, int size, uint16_t *seq)
{
	static uint32_t buf[(MAX_SIZE + SRTP_SEAL_MAX_TRAILER + 3) / 4];
	uint8_t *out = (uint8_t *)buf;
	unsigned long p, i;
	double t0 = now_ns();
	int len;

	for (p = 0; p < np; p++, (*seq)++) {
		for (i = 0; i < nv; i++) {
			len = size;
			memcpy(out, src, (size_t)size);
			out[1] = (uint8_t)((out[1] & 0x80) | 96);
			out[2] = (uint8_t)(*seq >> 8);
			out[3] = (uint8_t)*seq;
			if (impl == IMPL_LIBSRTP && srtp_protect(v[i].ref, out, &len) != 0)
				abort();
			if (impl == IMPL_OURS && srtp_seal(v[i].ours, out, &len) != 0)
				abort();
		}
	}
	__asm__ volatile("" : : "r"(out) : "memory"); /* the copy is not optimised away */
	return (now_ns() - t0) / (double)(np * nv);
}

static void bench(enum dtls_srtp_profile profile, unsigned long nv, unsigned long np,
                  unsigned long reps, int size)
{
	struct viewer *v = calloc(nv, sizeof(*v));
	double ns[IMPL_N][MAX_REPS], heap[IMPL_N] = {0};
	uint8_t key[30], src[MAX_SIZE];
	size_t klen = profile == DTLS_SRTP_AEAD_AES_128_GCM ? 28 : 30;
	uint16_t seq[IMPL_N] = {0};
	size_t before;
	unsigned long i, r;
	int k;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 11);
	for (k = 0; k < size; k++)
		src[k] = (uint8_t)(k * 7);
	src[0] = 0x80;
	src[8] = 0x12, src[9] = 0x34, src[10] = 0x56, src[11] = 0x78;
	/* Heap per session after its first packet: libsrtp makes the SSRC's stream then. */
	before = mallinfo2().uordblks;
	for (i = 0; i < nv; i++)
		if (srtp_session_new(&v[i].ref, profile, key, klen, true) != 0)
			abort();
	pass(IMPL_LIBSRTP, v, nv, 1, src, size, &seq[IMPL_LIBSRTP]);
	heap[IMPL_LIBSRTP] = (double)(mallinfo2().uordblks - before) / (double)nv;
	before = mallinfo2().uordblks;
	for (i = 0; i < nv; i++)
		if ((v[i].ours = srtp_seal_new(profile, key, klen)) == NULL)
			abort();
	pass(IMPL_OURS, v, nv, 1, src, size, &seq[IMPL_OURS]);
	heap[IMPL_OURS] = (double)(mallinfo2().uordblks - before) / (double)nv;
	for (r = 0; r < reps; r++)
		for (k = 0; k < IMPL_N; k++)
			ns[k][r] = pass((enum impl)k, v, nv, np, src, size, &seq[k]);
	for (k = 0; k < IMPL_N; k++) {
		qsort(ns[k], reps, sizeof(double), cmp_double);
		printf("%-4s %-9s viewers=%-5lu size=%d  ns/packet min %7.0f  median %7.0f",
		       profile == DTLS_SRTP_AEAD_AES_128_GCM ? "gcm" : "cm", impl_name[k], nv, size,
		       ns[k][0], ns[k][reps / 2]);
		if (k != IMPL_COPY)
			printf("  heap/session %6.0f B", heap[k]);
		printf("\n");
	}
	printf("%-4s ratio libsrtp2/srtp_seal: min %.2f  median %.2f  (less the copy: %.2f)\n",
	       profile == DTLS_SRTP_AEAD_AES_128_GCM ? "gcm" : "cm",
	       ns[IMPL_LIBSRTP][0] / ns[IMPL_OURS][0],
	       ns[IMPL_LIBSRTP][reps / 2] / ns[IMPL_OURS][reps / 2],
	       (ns[IMPL_LIBSRTP][0] - ns[IMPL_COPY][0]) / (ns[IMPL_OURS][0] - ns[IMPL_COPY][0]));
	for (i = 0; i < nv; i++) {
		srtp_dealloc(v[i].ref);
		srtp_seal_free(v[i].ours);
	}
	free(v);
}

int main(int argc, char **argv)
{
	unsigned long nv = 1, np = 20000, reps = 9;
	int size = 1200, i;
	const char *which = "both";
	char *err = NULL;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-v") == 0)
			nv = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-p") == 0)
			np = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-r") == 0)
			reps = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-s") == 0)
			size = (int)arg(argv[i + 1]);
		else if (strcmp(argv[i], "-P") == 0)
			which = argv[i + 1];
		else
			break;
	}
	if (i != argc || reps > MAX_REPS || size < 12 || size > MAX_SIZE) {
		fprintf(stderr,
		        "usage: bench_seal [-v viewers] [-p packets] [-r reps<=%d] "
		        "[-s size 12..%d] [-P gcm|cm|both]\n",
		        MAX_REPS, MAX_SIZE);
		return 2;
	}
	if (srtp_session_init(&err) != 0) {
		fprintf(stderr, "bench_seal: %s\n", err);
		return 1;
	}
	if (strcmp(which, "cm") != 0)
		bench(DTLS_SRTP_AEAD_AES_128_GCM, nv, np, reps, size);
	if (strcmp(which, "gcm") != 0)
		bench(DTLS_SRTP_AES128_CM_SHA1_80, nv, np, reps, size);
	return 0;
}
