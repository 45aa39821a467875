/* STUN/TURN Link values and TURN REST credentials (daemon/ice_servers.c). */
#include <string.h>

#include "base/ice_servers.h"

static void load(struct daemon_config *cfg, const char *const *args)
{
	char *err = NULL;
	int argc = 0;

	while (args[argc] != NULL)
		argc++;
	g_assert_cmpint(config_load(cfg, argc, (char **)args, &err), ==, 0);
}

static void test_rest_credentials(void)
{
	/* 1699913600 + 86400 = 1700000000; the expected value is coturn's check,
	 * computed independently: base64(HMAC-SHA1("sekrit", "1700000000:whepcam")). */
	const char *args[] = {"whepcamd",      "--turn", "turn:127.0.0.1:3478?transport=udp",
	                      "--turn-secret", "sekrit", NULL};
	struct daemon_config cfg;
	char *user, *cred, *uri;
	json_object *links;

	load(&cfg, args);
	ice_servers_turn_credentials(&cfg, 1699913600, &user, &cred);
	g_assert_cmpstr(user, ==, "1700000000:whepcam");
	g_assert_cmpstr(cred, ==, "Qy5nxJ9AbdramRTkYSu10qjCIWY=");
	links = ice_servers_links(&cfg, 1699913600);
	g_assert_cmpuint(json_object_array_length(links), ==, 1);
	g_assert_cmpstr(
	    json_object_get_string(json_object_array_get_idx(links, 0)), ==,
	    "<turn:127.0.0.1:3478?transport=udp>; rel=\"ice-server\"; "
	    "username=\"1700000000:whepcam\"; credential=\"Qy5nxJ9AbdramRTkYSu10qjCIWY=\"; "
	    "credential-type=\"password\"");
	uri = ice_servers_turn_uri(&cfg, 1699913600);
	g_assert_cmpstr(uri, ==,
	                "turn://1700000000%3Awhepcam:Qy5nxJ9AbdramRTkYSu10qjCIWY%3D@127.0.0.1:3478?"
	                "transport=udp");
	g_free(uri);
	json_object_put(links);
	g_free(user);
	g_free(cred);
	config_clear(&cfg);
}

static void test_static_and_stun(void)
{
	const char *args[] = {"whepcamd",
	                      "--stun",
	                      "stun:stun.example.org:3478",
	                      "--turn",
	                      "turns:turn.example.org:5349",
	                      "--turn-username",
	                      "u",
	                      "--turn-password",
	                      "p",
	                      NULL};
	struct daemon_config cfg;
	json_object *links;
	char *uri;

	load(&cfg, args);
	links = ice_servers_links(&cfg, 0);
	g_assert_cmpuint(json_object_array_length(links), ==, 2);
	g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(links, 0)), ==,
	                "<stun:stun.example.org:3478>; rel=\"ice-server\"");
	g_assert_nonnull(strstr(json_object_get_string(json_object_array_get_idx(links, 1)),
	                        "username=\"u\"; credential=\"p\""));
	uri = ice_servers_turn_uri(&cfg, 0);
	g_assert_cmpstr(uri, ==, "turns://u:p@turn.example.org:5349");
	g_free(uri);
	json_object_put(links);
	config_clear(&cfg);
}

static void test_none(void)
{
	const char *args[] = {"whepcamd", NULL};
	struct daemon_config cfg;
	json_object *links;

	load(&cfg, args);
	links = ice_servers_links(&cfg, 0);
	g_assert_cmpuint(json_object_array_length(links), ==, 0);
	g_assert_null(ice_servers_turn_uri(&cfg, 0));
	json_object_put(links);
	config_clear(&cfg);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ice-servers/rest-credentials", test_rest_credentials);
	g_test_add_func("/ice-servers/static-and-stun", test_static_and_stun);
	g_test_add_func("/ice-servers/none", test_none);
	return g_test_run();
}
