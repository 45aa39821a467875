/* Trickle fragments (daemon/sdpfrag.c): what is taken and what is refused. */
#include <string.h>

#include "wire/sdpfrag.h"

static void test_candidates_and_mid(void)
{
	const char *frag =
	    "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
	    "m=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
	    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n"
	    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host\r\n"
	    "a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active\r\n"
	    "a=end-of-candidates\r\n";
	struct sdpfrag f;
	char err[160];
	struct sdpfrag_candidate *c;

	g_assert_cmpint(sdpfrag_parse(frag, &f, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(f.ufrag, ==, "EsAw");
	g_assert_cmpstr(f.pwd, ==, "P2uYro0UCOQ4zxjKXaWCBui1");
	g_assert_cmpuint(f.candidates->len, ==, 3);
	c = g_ptr_array_index(f.candidates, 0);
	g_assert_cmpstr(c->mid, ==, "0");
	g_assert_true(g_str_has_prefix(c->line, "candidate:1387637174 1 udp"));
	g_assert_true(f.end_of_candidates);
	sdpfrag_clear(&f);
}

static void test_one_candidate_lf_only(void)
{
	struct sdpfrag f;
	char err[160];

	g_assert_cmpint(
	    sdpfrag_parse("a=candidate:1 1 UDP 1 127.0.0.1 5000 typ host\n", &f, err, sizeof(err)),
	    ==, 0);
	g_assert_null(f.ufrag);
	g_assert_cmpuint(f.candidates->len, ==, 1);
	sdpfrag_clear(&f);
	g_assert_cmpint(sdpfrag_parse("a=end-of-candidates", &f, err, sizeof(err)), ==, 0);
	g_assert_true(f.end_of_candidates);
	sdpfrag_clear(&f);
}

static void test_refusals(void)
{
	static const char *const bad[] = {
	    "",
	    "hello",
	    "a=ice-options:trickle\r\n",
	    "a=ice-ufrag:abc\r\n",
	    "a=candidate:1 1 udp 1 127.0.0.1 5000\r\n",
	    "a=candidate:1 1 sctp 1 127.0.0.1 5000 typ host\r\n",
	    "a=candidate:1 1 udp 1 127.0.0.1 99999 typ host\r\n",
	    "a=candidate:1 1 udp x 127.0.0.1 5000 typ host\r\n",
	    "a=candidate:1 1 udp 1 127.0.0.1 5000 typ magic\r\n",
	    "a=candidate: 1 udp 1 127.0.0.1 5000 typ host\r\n",
	    "x=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n",
	};
	struct sdpfrag f;
	char err[160];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		err[0] = '\0';
		if (sdpfrag_parse(bad[i], &f, err, sizeof(err)) != -1)
			g_error("accepted: %s", bad[i]);
		g_assert_cmpuint(strlen(err), >, 0);
		g_assert_null(f.candidates);
	}
}

static void test_too_many(void)
{
	GString *g = g_string_new("");
	struct sdpfrag f;
	char err[160];
	int i;

	for (i = 0; i < 65; i++)
		g_string_append_printf(g, "a=candidate:%d 1 udp 1 127.0.0.1 %d typ host\r\n", i,
		                       5000 + i);
	g_assert_cmpint(sdpfrag_parse(g->str, &f, err, sizeof(err)), ==, -1);
	g_assert_nonnull(strstr(err, "more than 64"));
	g_string_free(g, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdpfrag/candidates-and-mid", test_candidates_and_mid);
	g_test_add_func("/sdpfrag/one-candidate-lf-only", test_one_candidate_lf_only);
	g_test_add_func("/sdpfrag/refusals", test_refusals);
	g_test_add_func("/sdpfrag/too-many", test_too_many);
	return g_test_run();
}
