/* members.c: the replicated set, our member records, and the names of cities. */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "config.h"
#include "key.h"
#include "log.h"
#include "members.h"
#include "store.h"

struct members {
	struct store *store;
	uint8_t self[32];
	uint8_t (*keys)[32]; /* in the order they joined the set */
	size_t n, cap;
	/*
	 * Open addressing over keys: 0 is a free slot, else an index + 1. The
	 * keys of member records are chosen by their authors, so the hash is
	 * keyed (SipHash, a random key per node): nobody can aim at one slot.
	 */
	uint32_t *slots;
	size_t nslots; /* a power of two, at least twice n */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

struct members *members_new(struct store *store, const uint8_t self[static 32])
{
	struct members *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->store = store;
	memcpy(m->self, self, 32);
	crypto_shorthash_keygen(m->hkey);
	return m;
}

void members_free(struct members *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->slots);
	free(m);
}

static size_t slot_of(const struct members *m, const uint8_t pk[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, pk, 32, m->hkey);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (m->nslots - 1);
}

/* The slot that holds pk, or the free slot where it would go. */
static size_t probe(const struct members *m, const uint8_t pk[32])
{
	size_t s = slot_of(m, pk);

	while (m->slots[s] && memcmp(m->keys[m->slots[s] - 1], pk, 32) != 0)
		s = (s + 1) & (m->nslots - 1);
	return s;
}

int members_has(const struct members *m, const uint8_t pk[static 32])
{
	return m->nslots > 0 && m->slots[probe(m, pk)] != 0;
}

size_t members_count(const struct members *m)
{
	return m->n;
}

const uint8_t *members_key(const struct members *m, size_t i)
{
	return m->keys[i];
}

/* Room for one more key: the arrays doubled, the table rebuilt, when full. 0 or -1. */
static int grow(struct members *m)
{
	size_t cap = m->cap ? 2 * m->cap : 16;
	uint8_t(*k)[32];
	uint32_t *slots;

	if (m->n < m->cap)
		return 0;
	if (cap > UINT32_MAX / 2 || !(k = realloc(m->keys, cap * sizeof(*k))))
		return -1;
	m->keys = k;
	if (!(slots = calloc(2 * cap, sizeof(*slots))))
		return -1;
	free(m->slots);
	m->slots = slots;
	m->nslots = 2 * cap;
	m->cap = cap;
	for (size_t i = 0; i < m->n; i++)
		m->slots[probe(m, m->keys[i])] = (uint32_t)i + 1;
	return 0;
}

/* 1 added, 0 already in, -1 out of memory. */
static int add(struct members *m, const uint8_t pk[32])
{
	size_t s;

	if (members_has(m, pk))
		return 0;
	if (grow(m) != 0)
		return -1;
	s = probe(m, pk);
	memcpy(m->keys[m->n++], pk, 32);
	m->slots[s] = (uint32_t)m->n;
	return 1;
}

/* The string field `field` of a member record's body, copied into out (empty if none). */
static void body_str(const struct ag_entry *e, const char *field, char *out, size_t cap)
{
	msgpack_unpacked up;
	size_t off = 0, flen = strlen(field);

	out[0] = '\0';
	msgpack_unpacked_init(&up);
	if (e->body &&
	    msgpack_unpack_next(&up, (const char *)e->body, e->body_len, &off) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_MAP)
		for (uint32_t i = 0; i < up.data.via.map.size; i++) {
			const msgpack_object_kv *kv = &up.data.via.map.ptr[i];

			if (kv->key.via.str.size == flen &&
			    memcmp(kv->key.via.str.ptr, field, flen) == 0 &&
			    kv->val.type == MSGPACK_OBJECT_STR)
				snprintf(out, cap, "%.*s", (int)kv->val.via.str.size,
				         kv->val.via.str.ptr);
		}
	msgpack_unpacked_destroy(&up);
}

/* The "key" field of a member record's body, as a public key. */
static int member_key(const struct ag_entry *e, uint8_t pk[32])
{
	char key[AG_B64_LEN + 2];

	body_str(e, "key", key, sizeof(key));
	return strlen(key) == AG_B64_LEN && ag_key_from_b64(pk, key) == 0 ? 0 : -1;
}

static int on_member(const struct ag_entry *e, void *arg)
{
	uint8_t pk[32];

	if (member_key(e, pk) == 0)
		(void)add(arg, pk);
	return 0;
}

int members_recompute(struct members *m, const uint8_t (*roots)[32], size_t nroots, int hops)
{
	size_t before = m->n, from = 0, to;

	m->n = 0;
	if (m->slots)
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
	for (size_t i = 0; i < nroots; i++)
		(void)add(m, roots[i]);
	/* Hop h introduces the members named by the feeds of hop h - 1. */
	for (int hop = 2; hop <= hops; hop++) {
		to = m->n;
		for (size_t i = from; i < to; i++) {
			/* A copy: the callback may move m->keys as it grows. */
			uint8_t author[32];
			struct index_query q = {.type = "member", .author = author};

			memcpy(author, m->keys[i], 32);
			(void)store_search(m->store, &q, on_member, m);
		}
		from = to;
	}
	return m->n > before;
}

/* ---- our member records ---- */

/* The member record that vouches for a peer: {"key", "name", "role"}, keys in order. */
static void publish_member(members_publish_fn *publish, void *arg, const uint8_t pk[32],
                           const char *name, int retract)
{
	msgpack_sbuffer sb;
	msgpack_packer pk_;
	char key[AG_B64_LEN + 1], err[160];

	ag_key_to_b64(key, pk);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk_, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk_, 3);
	msgpack_pack_str_with_body(&pk_, "key", 3);
	msgpack_pack_str_with_body(&pk_, key, AG_B64_LEN);
	msgpack_pack_str_with_body(&pk_, "name", 4);
	msgpack_pack_str_with_body(&pk_, name, strlen(name));
	msgpack_pack_str_with_body(&pk_, "role", 4);
	msgpack_pack_str_with_body(&pk_, "partner", 7);
	if (publish(arg, "member", key, AG_B64_LEN, retract ? NULL : (uint8_t *)sb.data, sb.size,
	            err, sizeof(err)) != 0)
		log_error("member record for %s: %s", name, err);
	msgpack_sbuffer_destroy(&sb);
}

struct our_members {
	char (*keys)[AG_B64_LEN + 1];
	size_t n, cap;
};

static int collect_member(const struct ag_entry *e, void *arg)
{
	struct our_members *m = arg;
	char(*k)[AG_B64_LEN + 1];

	if (e->h.id_len != AG_B64_LEN)
		return 0;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		if (!(k = realloc(m->keys, m->cap * sizeof(*k))))
			return 1;
		m->keys = k;
	}
	memcpy(m->keys[m->n], e->h.id, AG_B64_LEN);
	m->keys[m->n++][AG_B64_LEN] = '\0';
	return 0;
}

static int have_member(const struct our_members *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0)
			return 1;
	return 0;
}

void members_reconcile(struct members *ms, const struct config *cfg, members_publish_fn *publish,
                       void *arg)
{
	struct index_query q = {.type = "member", .author = ms->self};
	struct our_members m = {0};
	char key[AG_B64_LEN + 1];
	uint8_t pk[32];

	if (store_search(ms->store, &q, collect_member, &m) < 0) {
		free(m.keys);
		return;
	}
	for (size_t i = 0; i < cfg->npeers; i++) {
		ag_key_to_b64(key, cfg->peers[i].pk);
		if (!have_member(&m, key))
			publish_member(publish, arg, cfg->peers[i].pk, cfg->peers[i].name, 0);
	}
	for (size_t i = 0; i < m.n; i++)
		if (ag_key_from_b64(pk, m.keys[i]) == 0 && !config_peer_find(cfg, pk))
			publish_member(publish, arg, pk, "", 1);
	free(m.keys);
}

/* ---- names ---- */

struct name_find {
	const uint8_t *pk; /* find the name of this key, or */
	const char *name;  /* the key of this name */
	uint8_t found_pk[32];
	char found_name[CONFIG_NAME_MAX + 1];
	int found;
};

static int on_member_name(const struct ag_entry *e, void *arg)
{
	struct name_find *f = arg;
	char name[CONFIG_NAME_MAX + 1];
	uint8_t pk[32];

	if (member_key(e, pk) != 0)
		return 0;
	body_str(e, "name", name, sizeof(name));
	if ((f->pk && memcmp(pk, f->pk, 32) == 0) || (f->name && strcmp(name, f->name) == 0)) {
		memcpy(f->found_pk, pk, 32);
		snprintf(f->found_name, sizeof(f->found_name), "%s", name);
		f->found = 1;
		return 1;
	}
	return 0;
}

/* A name and key that match f: this node's, a configured peer's, then a member record's. */
static int find_name(struct members *m, const struct config *cfg, struct name_find *f)
{
	struct index_query q = {.type = "member"};

	if ((f->pk && memcmp(f->pk, m->self, 32) == 0) ||
	    (f->name && strcmp(f->name, cfg->name) == 0)) {
		memcpy(f->found_pk, m->self, 32);
		snprintf(f->found_name, sizeof(f->found_name), "%s", cfg->name);
		return 1;
	}
	for (size_t i = 0; i < cfg->npeers; i++) {
		const struct config_peer *cp = &cfg->peers[i];

		if ((f->pk && memcmp(f->pk, cp->pk, 32) == 0) ||
		    (f->name && strcmp(f->name, cp->name) == 0)) {
			memcpy(f->found_pk, cp->pk, 32);
			snprintf(f->found_name, sizeof(f->found_name), "%s", cp->name);
			return 1;
		}
	}
	(void)store_search(m->store, &q, on_member_name, f);
	return f->found;
}

int members_resolve_city(struct members *m, const struct config *cfg, const char *key_or_name,
                         uint8_t pk[static 32])
{
	struct name_find f = {.name = key_or_name};

	if (ag_key_from_b64(pk, key_or_name) == 0)
		return 0;
	if (!find_name(m, cfg, &f))
		return -1;
	memcpy(pk, f.found_pk, 32);
	return 0;
}

const char *members_city_name(struct members *m, const struct config *cfg,
                              const uint8_t pk[static 32])
{
	static struct name_find f; /* loop thread only: valid until the next call */

	memset(&f, 0, sizeof(f));
	f.pk = pk;
	return find_name(m, cfg, &f) ? f.found_name : NULL;
}
