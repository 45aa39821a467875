/*
 * libFuzzer: the WHEP PATCH body parser (daemon/wire/sdpfrag.c,
 * application/trickle-ice-sdpfrag, RFC 8840) on arbitrary text. Besides the
 * sanitizers: a refusal leaves nothing behind and says why; what is taken
 * has the shape the parser promises (credentials in pairs, every candidate
 * well-formed, at most SDPFRAG_MAX_CANDIDATES of them).
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/sdpfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CANDIDATES 64 /* SDPFRAG_MAX_CANDIDATES in sdpfrag.c */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_sdpfrag: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* What json-c hands the daemon: a NUL-terminated string, cut at the first NUL. */
	char *text = g_strndup((const char *)data, size);
	struct sdpfrag f;
	char err[160];
	guint i;

	err[0] = '\0';
	if (sdpfrag_parse(text, &f, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || strlen(err) >= sizeof(err))
			die("a refusal without a reason");
		if (f.ufrag != NULL || f.pwd != NULL || f.candidates != NULL)
			die("a refusal left something behind");
	} else {
		if ((f.ufrag == NULL) != (f.pwd == NULL))
			die("ice-ufrag without ice-pwd, or the other way round");
		if (f.candidates == NULL || f.candidates->len > MAX_CANDIDATES)
			die("no candidate array, or too many candidates");
		if (f.candidates->len == 0 && !f.end_of_candidates && f.ufrag == NULL)
			die("an empty fragment was taken");
		for (i = 0; i < f.candidates->len; i++) {
			const struct sdpfrag_candidate *c = g_ptr_array_index(f.candidates, i);

			if (!sdpfrag_candidate_ok(c->line) || strchr(c->line, '\n') != NULL)
				die("a candidate taken that does not have the shape of RFC 8839");
		}
		sdpfrag_clear(&f);
		sdpfrag_clear(&f); /* idempotent */
	}
	/* The candidate check alone, on any text (a line without the "a=" prefix). */
	(void)sdpfrag_candidate_ok(text);
	g_free(text);
	return 0;
}
