/*
 * sdpfrag.h - the body of a WHEP PATCH: application/trickle-ice-sdpfrag
 * (RFC 8840). Pure, unit-tested; any thread.
 */
#ifndef WHEPCAMD_WIRE_SDPFRAG_H
#define WHEPCAMD_WIRE_SDPFRAG_H

#include <glib.h>
#include <stdbool.h>

struct sdpfrag_candidate {
	char *mid;  /* the a=mid before it, or NULL */
	char *line; /* "candidate:…" */
};

struct sdpfrag {
	char *ufrag, *pwd;     /* NULL unless the fragment carries credentials */
	GPtrArray *candidates; /* struct sdpfrag_candidate * */
	bool end_of_candidates;
};

/* Parse a trickle-ice-sdpfrag body. 0, or -1 with a one-line reason. sdpfrag_clear frees. */
int sdpfrag_parse(const char *text, struct sdpfrag *out, char *err, size_t errlen);
void sdpfrag_clear(struct sdpfrag *f);
/* True when `cand` ("candidate:…") has the shape of RFC 8839 §5.1. */
bool sdpfrag_candidate_ok(const char *cand);

#endif
