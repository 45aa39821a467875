/* The daemon socket protocol's request validation (common/proto.c): each rejection path. */
#include <string.h>

#include "proto.h"

#include "base/util.h"

static void expect_reject(const char *line, int want_status, const char *want_detail)
{
	struct proto_request req;
	char err[160] = "";
	int status = 0;

	g_assert_cmpint(proto_parse_request(line, strlen(line), &req, &status, err, sizeof(err)),
	                ==, -1);
	g_assert_cmpint(status, ==, want_status);
	if (strstr(err, want_detail) == NULL)
		g_error("for %s: wanted \"%s\" in \"%s\"", line, want_detail, err);
	g_assert_null(req.root);
}

static void test_accepts_offer(void)
{
	const char *line = "{\"op\":\"offer\",\"stream\":\"cam\",\"sdp\":\"v=0\\r\\n\","
	                   "\"token\":\"t\",\"peer\":\"127.0.0.1\"}";
	struct proto_request req;
	char err[160];
	int status;

	g_assert_cmpint(proto_parse_request(line, strlen(line), &req, &status, err, sizeof(err)),
	                ==, 0);
	g_assert_cmpstr(req.op, ==, "offer");
	g_assert_cmpstr(req.stream, ==, "cam");
	g_assert_cmpstr(req.sdp, ==, "v=0\r\n");
	g_assert_cmpstr(req.token, ==, "t");
	g_assert_cmpstr(req.peer, ==, "127.0.0.1");
	proto_request_clear(&req);
}

static void test_rejections(void)
{
	char *deep, *long_name, *long_sdp;
	GString *g = g_string_new("");
	int i;

	expect_reject("", 400, "invalid JSON");
	expect_reject("{", 400, "invalid JSON");
	expect_reject("not json", 400, "invalid JSON");
	expect_reject("[1,2]", 400, "not a JSON object");
	expect_reject("\"offer\"", 400, "not a JSON object");
	expect_reject("{\"op\":\"health\"} {}", 400, "");
	expect_reject("{\"op\":\"health\",}", 400, "invalid JSON"); /* strict mode */
	expect_reject("{'op':'health'}", 400, "invalid JSON");
	expect_reject("{}", 400, "missing field op");
	expect_reject("{\"op\":5}", 400, "op must be a string");
	expect_reject("{\"op\":\"reboot\"}", 400, "unknown op");
	expect_reject("{\"op\":\"health\",\"x\":1}", 400, "unknown field x");
	expect_reject("{\"op\":\"offer\",\"stream\":\"cam\"}", 400, "missing field sdp");
	expect_reject("{\"op\":\"offer\",\"sdp\":\"v=0\"}", 400, "missing field stream");
	expect_reject("{\"op\":\"offer\",\"stream\":\"cam\",\"sdp\":7}", 400,
	              "sdp must be a string");
	expect_reject("{\"op\":\"offer\",\"stream\":\"cam\",\"sdp\":null}", 400,
	              "must be a string");
	expect_reject("{\"op\":\"offer\",\"stream\":\"c/m\",\"sdp\":\"v=0\"}", 404, "stream name");
	expect_reject("{\"op\":\"offer\",\"stream\":\"\",\"sdp\":\"v=0\"}", 404, "stream name");
	expect_reject("{\"op\":\"delete\",\"stream\":\"cam\",\"session\":\"XYZ\"}", 404,
	              "session id");
	expect_reject("{\"op\":\"delete\",\"stream\":\"cam\",\"session\":"
	              "\"0123456789ABCDEF0123456789abcdef\"}",
	              404, "session id");
	expect_reject("{\"op\":\"delete\",\"stream\":\"cam\"}", 400, "missing field session");
	expect_reject("{\"op\":\"offer\",\"stream\":\"cam\",\"sdp\":\"a\\u0000b\"}", 400, "NUL");
	expect_reject("{\"op\":\"health\",\"op\":\"\xff\"}", 400, "invalid JSON"); /* bad UTF-8 */

	for (i = 0; i < 9; i++)
		g_string_append(g, "{\"a\":");
	g_string_append(g, "1");
	for (i = 0; i < 9; i++)
		g_string_append(g, "}");
	deep = g_string_free(g, FALSE);
	expect_reject(deep, 400, "invalid JSON");
	g_free(deep);

	long_name = g_strdup_printf("{\"op\":\"offer\",\"stream\":\"%0*d\",\"sdp\":\"v=0\"}",
	                            WHEPCAM_MAX_STREAM_NAME + 1, 0);
	expect_reject(long_name, 400, "stream longer than");
	g_free(long_name);

	g = g_string_new("{\"op\":\"offer\",\"stream\":\"cam\",\"sdp\":\"");
	for (i = 0; i <= WHEPCAM_MAX_SDP_BYTES; i++)
		g_string_append_c(g, 'x');
	g_string_append(g, "\"}");
	long_sdp = g_string_free(g, FALSE);
	expect_reject(long_sdp, 400, "sdp longer than");
	g_free(long_sdp);
}

static void test_names(void)
{
	g_assert_true(proto_valid_stream_name("cam-1_B"));
	g_assert_false(proto_valid_stream_name("../x"));
	g_assert_false(proto_valid_stream_name("a b"));
	g_assert_true(proto_valid_session_id("0123456789abcdef0123456789abcdef"));
	g_assert_false(proto_valid_session_id("0123456789abcdef0123456789abcde"));
}

static void test_error_reply(void)
{
	char *line = proto_error_reply(404, "unknown-stream", "no stream \"x\"");

	g_assert_cmpstr(
	    line, ==,
	    "{\"status\":404,\"error\":\"unknown-stream\",\"detail\":\"no stream \\\"x\\\"\"}\n");
	free(line);
}

static void test_utf8(void)
{
	g_assert_true(proto_valid_utf8("v=0\r\n", 5));
	g_assert_true(proto_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5", 14));
	g_assert_false(proto_valid_utf8("a\0b", 3));
	g_assert_false(proto_valid_utf8("\xff", 1));
	g_assert_false(proto_valid_utf8("\xc3", 1));             /* truncated */
	g_assert_false(proto_valid_utf8("\xe2\x82", 2));         /* truncated */
	g_assert_false(proto_valid_utf8("\xc0\xaf", 2));         /* overlong */
	g_assert_false(proto_valid_utf8("\xed\xa0\x80", 3));     /* surrogate */
	g_assert_false(proto_valid_utf8("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	/* A text body: what JSON escapes to six bytes (controls but tab, CR, LF) is refused. */
	g_assert_true(proto_valid_text("v=0\r\n\ta=x \"/\\ caf\xc3\xa9", 19));
	g_assert_false(proto_valid_text("v=0\r\n\x01", 6));
	g_assert_false(proto_valid_text("v=0\x7f", 4));
	g_assert_false(proto_valid_text("v=0\x1b[0m", 7));
	g_assert_false(proto_valid_text("\xff", 1));
}

static void test_session_ids(void)
{
	char a[WHEPCAM_SESSION_HEX + 1], b[WHEPCAM_SESSION_HEX + 1];

	g_assert_cmpint(session_id_new(a), ==, 0);
	g_assert_cmpint(session_id_new(b), ==, 0);
	g_assert_true(proto_valid_session_id(a));
	g_assert_cmpstr(a, !=, b);
	g_assert_true(util_secret_equal("s3cret", "s3cret"));
	g_assert_false(util_secret_equal("s3cre", "s3cret"));
	g_assert_false(util_secret_equal("s3cret!", "s3cret"));
	g_assert_false(util_secret_equal("", "s3cret"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proto/accepts-offer", test_accepts_offer);
	g_test_add_func("/proto/rejections", test_rejections);
	g_test_add_func("/proto/names", test_names);
	g_test_add_func("/proto/error-reply", test_error_reply);
	g_test_add_func("/proto/session-ids", test_session_ids);
	g_test_add_func("/proto/utf8", test_utf8);
	return g_test_run();
}
