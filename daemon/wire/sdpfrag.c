/*
 * sdpfrag.c - reads trickle-ice-sdpfrag bodies (RFC 8840 §9, WHEP PATCH):
 * ICE credentials, m=/a=mid: markers, a=candidate lines and
 * a=end-of-candidates. Every candidate is checked for shape (RFC 8839
 * §5.1) before webrtcbin sees it; anything else is a one-line 400 reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpfrag.h"

#define SDPFRAG_MAX_CANDIDATES 64

static bool all_digits(const char *s, size_t max_len)
{
	size_t n = strlen(s);

	if (n == 0 || n > max_len)
		return false;
	return strspn(s, "0123456789") == n;
}

/* RFC 8839 §5.1: foundation component transport priority address port typ type ... */
bool sdpfrag_candidate_ok(const char *cand)
{
	char **f = g_strsplit(cand, " ", 32);
	guint n = g_strv_length(f);
	bool ok = n >= 8 && g_str_has_prefix(f[0], "candidate:") && strlen(f[0]) > 10 &&
	          strlen(f[0]) <= 10 + 32 && all_digits(f[1], 3) &&
	          (g_ascii_strcasecmp(f[2], "udp") == 0 || g_ascii_strcasecmp(f[2], "tcp") == 0) &&
	          all_digits(f[3], 10) && strlen(f[4]) > 0 && strlen(f[4]) <= 255 &&
	          all_digits(f[5], 5) && strtol(f[5], NULL, 10) <= 65535 &&
	          strcmp(f[6], "typ") == 0 &&
	          (strcmp(f[7], "host") == 0 || strcmp(f[7], "srflx") == 0 ||
	           strcmp(f[7], "prflx") == 0 || strcmp(f[7], "relay") == 0);

	g_strfreev(f);
	return ok;
}

void sdpfrag_clear(struct sdpfrag *f)
{
	g_free(f->ufrag);
	g_free(f->pwd);
	if (f->candidates != NULL)
		g_ptr_array_unref(f->candidates);
	memset(f, 0, sizeof(*f));
}

static void cand_free(gpointer p)
{
	struct sdpfrag_candidate *c = p;

	g_free(c->mid);
	g_free(c->line);
	g_free(c);
}

int sdpfrag_parse(const char *text, struct sdpfrag *out, char *err, size_t errlen)
{
	char **lines = g_strsplit(text, "\n", -1);
	char *mid = NULL;
	int rc = -1;
	guint i;

	memset(out, 0, sizeof(*out));
	out->candidates = g_ptr_array_new_with_free_func(cand_free);
	for (i = 0; lines[i] != NULL; i++) {
		char *l = g_strchomp(lines[i]); /* drops the \r of \r\n too */

		if (*l == '\0')
			continue;
		if (g_str_has_prefix(l, "a=ice-ufrag:")) {
			g_free(out->ufrag);
			out->ufrag = g_strdup(l + 12);
		} else if (g_str_has_prefix(l, "a=ice-pwd:")) {
			g_free(out->pwd);
			out->pwd = g_strdup(l + 10);
		} else if (g_str_has_prefix(l, "a=mid:")) {
			g_free(mid);
			mid = g_strdup(l + 6);
		} else if (g_str_has_prefix(l, "a=candidate:")) {
			struct sdpfrag_candidate *c;

			if (!sdpfrag_candidate_ok(l + 2)) {
				snprintf(err, errlen, "malformed candidate line: %.60s", l);
				goto out;
			}
			if (out->candidates->len >= SDPFRAG_MAX_CANDIDATES) {
				snprintf(err, errlen, "more than %d candidates in one fragment",
				         SDPFRAG_MAX_CANDIDATES);
				goto out;
			}
			c = g_new0(struct sdpfrag_candidate, 1);
			c->mid = g_strdup(mid);
			c->line = g_strdup(l + 2);
			g_ptr_array_add(out->candidates, c);
		} else if (strcmp(l, "a=end-of-candidates") == 0) {
			out->end_of_candidates = true;
		} else if (g_str_has_prefix(l, "m=")) {
			g_free(mid);
			mid = NULL;
		} else if (!g_str_has_prefix(l, "a=")) {
			snprintf(err, errlen, "not an SDP fragment line: %.40s", l);
			goto out;
		} /* other a= lines (ice-options, group) carry nothing we need */
	}
	if ((out->ufrag == NULL) != (out->pwd == NULL)) {
		snprintf(err, errlen,
		         "a fragment with ice-ufrag needs ice-pwd, and the other way round");
		goto out;
	}
	if (out->candidates->len == 0 && !out->end_of_candidates && out->ufrag == NULL) {
		snprintf(err, errlen,
		         "the fragment has no candidates, credentials or end-of-candidates");
		goto out;
	}
	rc = 0;
out:
	g_free(mid);
	g_strfreev(lines);
	if (rc != 0)
		sdpfrag_clear(out);
	return rc;
}
