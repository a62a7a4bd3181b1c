/*
 * lineage.c: the roster's history (lineage.h). Each version of a member
 * record is an event of its author's: the first live one introduces the key,
 * a live one after a live one changes its name or role, a retraction
 * removes it. identity/successor names the key a feed rotated to, and
 * identity/self's predecessor the key a feed succeeds (DESIGN.md "Trust over
 * the years"); each succession certificate held says that a feed was
 * recovered to a new key.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "certs.h"
#include "key.h"
#include "lineage.h"
#include "members.h"
#include "node.h"
#include "store.h"

struct lineage {
	struct node *node;
	const uint8_t *key; /* NULL: every key */
	struct ag_ctl_events *out;
	size_t cap;
	bool failed;
	/* The record whose versions are being read, and what its last version said. */
	char id[AG_ID_MAX + 1];
	bool live;
	char name[AG_CTL_NAME_MAX + 1], role[AG_CTL_ROLE_MAX + 1];
};

/* A new event of by's about key, at by's seq and time, or NULL when out of memory. */
static struct ag_ctl_event *event_new(struct lineage *l, const uint8_t *by, const char *kind,
                                      const char *key, uint64_t seq, uint64_t timestamp)
{
	struct ag_ctl_events *o = l->out;
	struct ag_ctl_event *ev, *grown;
	const char *by_name = node_city_name(l->node, by);

	if (o->nevents == l->cap) {
		if (!(grown = realloc(o->events, (l->cap ? 2 * l->cap : 32) * sizeof(*grown)))) {
			l->failed = true;
			return NULL;
		}
		o->events = grown;
		l->cap = l->cap ? 2 * l->cap : 32;
	}
	ev = memset(&o->events[o->nevents++], 0, sizeof(*ev));
	ag_key_to_b64(ev->by, by);
	snprintf(ev->by_name, sizeof(ev->by_name), "%s", by_name ? by_name : "");
	snprintf(ev->key, sizeof(ev->key), "%s", key);
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
	ev->seq = seq;
	ev->timestamp = timestamp;
	return ev;
}

/* A new event of e's author about key, or NULL when out of memory. */
static struct ag_ctl_event *event_add(struct lineage *l, const struct ag_entry *e, const char *kind,
                                      const char *key)
{
	return event_new(l, e->h.author, kind, key, e->h.seq, e->h.timestamp);
}

/* One version of a member record; versions come oldest first, record by record. */
static int on_member(const struct ag_entry *e, void *arg)
{
	struct lineage *l = arg;
	char name[AG_CTL_NAME_MAX + 1], role[AG_CTL_ROLE_MAX + 1], id[AG_ID_MAX + 1];
	struct ag_ctl_event *ev;
	const char *kind;

	snprintf(id, sizeof(id), "%.*s", (int)e->h.id_len, e->h.id);
	if (strcmp(id, l->id) != 0) { /* another record: no version before this one */
		memcpy(l->id, id, sizeof(id));
		l->live = false;
	}
	members_body_str(e, "name", name, sizeof(name));
	members_body_str(e, "role", role, sizeof(role));
	if (!e->h.has_body)
		kind = l->live ? "removed" : NULL;
	else if (!l->live)
		kind = "introduced";
	else
		kind = strcmp(name, l->name) || strcmp(role, l->role) ? "changed" : NULL;
	l->live = e->h.has_body;
	memcpy(l->name, name, sizeof(name));
	memcpy(l->role, role, sizeof(role));
	if (!kind || e->h.id_len != AG_B64_LEN || !(ev = event_add(l, e, kind, id)))
		return l->failed;
	memcpy(ev->name, name, sizeof(name));
	memcpy(ev->role, role, sizeof(role));
	return 0;
}

/* Whether an event between the author and key belongs to the log asked for. */
static bool about(const struct lineage *l, const uint8_t *author, const char *key)
{
	char b64[AG_B64_LEN + 1];

	if (!l->key || memcmp(author, l->key, AG_PK_LEN) == 0)
		return true;
	ag_key_to_b64(b64, l->key);
	return strcmp(b64, key) == 0;
}

/* identity/successor: the feed rotated to a key; identity/self's predecessor: it succeeds one. */
static int on_identity(const struct ag_entry *e, void *arg)
{
	struct lineage *l = arg;
	char key[AG_B64_LEN + 2] = "";
	const char *kind = NULL;
	uint8_t pk[AG_PK_LEN];

	if (e->h.id_len == 9 && memcmp(e->h.id, "successor", 9) == 0) {
		members_body_str(e, "successor", key, sizeof(key));
		if (!key[0])
			members_body_str(e, "key", key, sizeof(key));
		kind = "rotated";
	} else if (e->h.id_len == 4 && memcmp(e->h.id, "self", 4) == 0) {
		members_body_str(e, "predecessor", key, sizeof(key));
		kind = "succeeds";
	}
	if (!kind || ag_key_from_b64(pk, key) != 0 || !about(l, e->h.author, key))
		return 0;
	return event_add(l, e, kind, key) ? 0 : 1;
}

/*
 * A succession certificate held (DESIGN.md "Recovery"): a "recovered" event
 * by the old key about the new one, at the last valid seq it names and the
 * certificate's time. One that does not decode was never kept; skipped.
 */
static int on_cert(const uint8_t *raw, size_t len, void *arg)
{
	struct lineage *l = arg;
	char key[AG_B64_LEN + 1];
	struct ag_cert c;
	size_t where;

	if (ag_cert_decode(&c, raw, len, &where) != 0)
		return 0;
	ag_key_to_b64(key, c.new_key);
	if (!about(l, c.old_key, key))
		return 0;
	return event_new(l, c.old_key, "recovered", key, c.last_seq, c.timestamp) ? 0 : 1;
}

/* Every certificate this node holds. 0 or -1. */
static int lineage_certs(struct lineage *l)
{
	if (certs_each(node_store(l->node), on_cert, l) < 0)
		return -1;
	return l->failed ? -1 : 0;
}

static int event_cmp(const void *a, const void *b)
{
	const struct ag_ctl_event *x = a, *y = b;
	int c;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	if ((c = strcmp(x->by, y->by)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The member and identity records of one feed. 0 or -1. */
static int lineage_feed(struct lineage *l, const uint8_t *author)
{
	struct store *st = node_store(l->node);
	char key[AG_B64_LEN + 1];

	l->id[0] = '\0';
	if (l->key)
		ag_key_to_b64(key, l->key);
	if (store_history(st, "member", author, l->key ? key : NULL, l->key ? AG_B64_LEN : 0,
	                  on_member, l) < 0 ||
	    store_history(st, "identity", author, NULL, 0, on_identity, l) < 0)
		return -1;
	return l->failed ? -1 : 0;
}

int lineage_fill(struct node *n, const uint8_t *key, struct ag_ctl_events *out)
{
	struct lineage l = {.node = n, .key = key, .out = out};
	size_t count = node_feed_count(n);

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < count; i++)
		if (lineage_feed(&l, node_feed_at(n, i)) != 0) {
			ag_ctl_resp_clear(&ag_ctl_events_shape, out);
			return -1;
		}
	if (lineage_certs(&l) != 0) {
		ag_ctl_resp_clear(&ag_ctl_events_shape, out);
		return -1;
	}
	if (out->nevents)
		qsort(out->events, out->nevents, sizeof(*out->events), event_cmp);
	return 0;
}
