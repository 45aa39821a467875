/*
 * admission.c - who may open a session, and what is left of one that ended.
 * Sessions not yet proven real (no valid ICE check) are what a flood of
 * canned offers makes: they have their own cap (max-pending) and deadline,
 * and one client address may hold only a few of them and a bounded number
 * of sessions in all (issue 13, docs/security.md). Offers from local
 * control-socket clients (no peer address) are not counted: such a client
 * could stop the daemon anyway. A session that ended without a DELETE leaves
 * a tombstone, so that a player that closes first and deletes after gets
 * 200. Owns the per-address counts and the tombstones. Main loop only.
 */
#define G_LOG_DOMAIN "viewer"
#include <string.h>

#include "viewer_priv.h"

/* The sessions one client address holds, for the per-address limits. */
struct address_load {
	guint sessions, pending;
};

/* A session that ended without a DELETE: its URL answers DELETE with 200 a while longer. */
struct tombstone {
	char id[WHEPCAM_SESSION_HEX + 1];
	const struct stream *stream;
	gint64 expires_us;
};

static struct {
	const struct daemon_config *cfg;
	guint pending;          /* sessions with a peer address, not yet checked */
	GHashTable *addresses;  /* peer address -> struct address_load, both owned */
	GHashTable *tombstones; /* id (inside the tombstone) -> struct tombstone, owned */
	GQueue tombstone_order; /* the same tombstones, oldest first (borrowed) */
} A;

void admission_init(const struct daemon_config *cfg)
{
	A.cfg = cfg;
	A.pending = 0;
	A.addresses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	A.tombstones = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_queue_init(&A.tombstone_order);
}

void admission_shutdown(void)
{
	g_queue_clear(&A.tombstone_order);
	g_clear_pointer(&A.tombstones, g_hash_table_destroy);
	g_clear_pointer(&A.addresses, g_hash_table_destroy);
}

/* ---- what each address holds ---- */

static struct address_load *address_load(const char *peer)
{
	return peer != NULL && A.addresses != NULL ? g_hash_table_lookup(A.addresses, peer) : NULL;
}

int admission_check(const char *peer, const char **error, char *detail, size_t len)
{
	struct address_load *a = address_load(peer);
	bool per_address = A.cfg->max_viewers_per_address > 0;

	if (peer == NULL)
		return 0;
	*error = "too-many-sessions";
	if (A.pending >= (guint)A.cfg->max_pending) {
		g_snprintf(detail, len,
		           "%u sessions are still connecting; try again in a few seconds",
		           A.pending);
		*error = "at-capacity";
		return 503;
	}
	if (a != NULL && per_address && a->sessions >= (guint)A.cfg->max_viewers_per_address) {
		g_snprintf(detail, len,
		           "%u sessions from %s already, the most one address may hold",
		           a->sessions, peer);
		return 429;
	}
	if (a != NULL && per_address && a->pending >= WHEPCAM_MAX_PENDING_PER_ADDRESS) {
		g_snprintf(detail, len, "%u sessions from %s are still connecting; wait for them",
		           a->pending, peer);
		return 429;
	}
	return 0;
}

void admission_join(struct viewer *v)
{
	struct address_load *a;

	if (v->peer == NULL) {
		v->checked = true; /* never pending */
		return;
	}
	A.pending++;
	a = address_load(v->peer);
	if (a == NULL) {
		a = g_new0(struct address_load, 1);
		g_hash_table_insert(A.addresses, g_strdup(v->peer), a);
	}
	a->sessions++;
	a->pending++;
}

void admission_checked(struct viewer *v)
{
	struct address_load *a = address_load(v->peer);

	if (v->first_check_timer != 0) {
		g_source_remove(v->first_check_timer);
		v->first_check_timer = 0;
	}
	if (v->checked)
		return;
	v->checked = true;
	A.pending--;
	if (a != NULL)
		a->pending--;
}

void admission_leave(struct viewer *v)
{
	struct address_load *a = address_load(v->peer);

	if (!v->checked) {
		A.pending--;
		if (a != NULL)
			a->pending--;
	}
	if (a != NULL && --a->sessions == 0)
		g_hash_table_remove(A.addresses, v->peer);
}

/* ---- tombstones ---- */

static void tombstones_expire(gint64 now_us)
{
	struct tombstone *t;

	while ((t = g_queue_peek_head(&A.tombstone_order)) != NULL &&
	       (t->expires_us <= now_us ||
	        g_queue_get_length(&A.tombstone_order) > WHEPCAM_MAX_TOMBSTONES)) {
		g_queue_pop_head(&A.tombstone_order);
		g_hash_table_remove(A.tombstones, t->id);
	}
}

void tombstone_add(const char *id, const struct stream *s)
{
	struct tombstone *t;
	gint64 now = g_get_monotonic_time();

	if (A.tombstones == NULL)
		return;
	t = g_new0(struct tombstone, 1);
	g_strlcpy(t->id, id, sizeof(t->id));
	t->stream = s;
	t->expires_us = now + (gint64)WHEPCAM_TOMBSTONE_S * G_USEC_PER_SEC;
	if (g_hash_table_lookup(A.tombstones, t->id) != NULL) { /* never twice in the queue */
		g_free(t);
		return;
	}
	g_hash_table_insert(A.tombstones, t->id, t);
	g_queue_push_tail(&A.tombstone_order, t);
	tombstones_expire(now);
}

bool tombstone_take(const struct stream *s, const char *id)
{
	struct tombstone *t;

	if (A.tombstones == NULL)
		return false;
	tombstones_expire(g_get_monotonic_time());
	t = g_hash_table_lookup(A.tombstones, id);
	if (t == NULL || t->stream != s)
		return false;
	g_queue_remove(&A.tombstone_order, t);
	g_hash_table_remove(A.tombstones, id);
	return true;
}
