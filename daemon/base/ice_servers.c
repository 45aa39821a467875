/*
 * ice_servers.c - the STUN/TURN servers players are told about (Link
 * headers, RFC 9725 §4.6) and the daemon's own agents use. TURN
 * credentials are static, or time-limited from a shared secret the way
 * coturn's use-auth-secret checks them: username "EXPIRY:whepcam",
 * credential base64(HMAC-SHA1(secret, username)).
 */
#include <string.h>

#include "ice_servers.h"

#define TURN_REST_USER "whepcam"

void ice_servers_turn_credentials(const struct daemon_config *cfg, gint64 now_s, char **username,
                                  char **credential)
{
	*username = NULL;
	*credential = NULL;
	if (cfg->turn_secret != NULL) {
		GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)cfg->turn_secret,
		                      strlen(cfg->turn_secret));
		guint8 digest[20];
		gsize len = sizeof(digest);

		*username = g_strdup_printf("%" G_GINT64_FORMAT ":%s", now_s + cfg->turn_ttl_s,
		                            TURN_REST_USER);
		g_hmac_update(h, (const guchar *)*username, (gssize)strlen(*username));
		g_hmac_get_digest(h, digest, &len);
		g_hmac_unref(h);
		*credential = g_base64_encode(digest, len);
	} else if (cfg->turn_username != NULL) {
		*username = g_strdup(cfg->turn_username);
		*credential = g_strdup(cfg->turn_password != NULL ? cfg->turn_password : "");
	}
}

json_object *ice_servers_links(const struct daemon_config *cfg, gint64 now_s)
{
	json_object *links = json_object_new_array();
	char *l, *user, *cred;

	if (cfg->stun != NULL) {
		l = g_strdup_printf("<%s>; rel=\"ice-server\"", cfg->stun);
		json_object_array_add(links, json_object_new_string(l));
		g_free(l);
	}
	if (cfg->turn != NULL) {
		ice_servers_turn_credentials(cfg, now_s, &user, &cred);
		if (user != NULL)
			l = g_strdup_printf("<%s>; rel=\"ice-server\"; username=\"%s\"; "
			                    "credential=\"%s\"; credential-type=\"password\"",
			                    cfg->turn, user, cred);
		else
			l = g_strdup_printf("<%s>; rel=\"ice-server\"", cfg->turn);
		json_object_array_add(links, json_object_new_string(l));
		g_free(l);
		g_free(user);
		g_free(cred);
	}
	return links;
}

char *ice_servers_turn_uri(const struct daemon_config *cfg, gint64 now_s)
{
	const char *rest;
	char *user, *cred, *u, *c, *uri;
	bool tls;

	if (cfg->turn == NULL)
		return NULL;
	tls = g_str_has_prefix(cfg->turn, "turns:");
	rest = cfg->turn + (tls ? 6 : 5);
	ice_servers_turn_credentials(cfg, now_s, &user, &cred);
	if (user == NULL)
		return g_strdup_printf("%s://%s", tls ? "turns" : "turn", rest);
	/* webrtcbin wants turn(s)://USER:PASS@HOST:PORT; REST usernames hold ':'. */
	u = g_uri_escape_string(user, NULL, FALSE);
	c = g_uri_escape_string(cred, NULL, FALSE);
	uri = g_strdup_printf("%s://%s:%s@%s", tls ? "turns" : "turn", u, c, rest);
	g_free(u);
	g_free(c);
	g_free(user);
	g_free(cred);
	return uri;
}
