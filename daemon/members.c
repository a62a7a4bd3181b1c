/* members.c: the replicated set, our member records, and the names of cities. */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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
	uint8_t (*keys)[32];                /* in the order they joined the set */
	char (*names)[CONFIG_NAME_MAX + 1]; /* the name its introduction gave each key, or "" */
	size_t n, cap;
	/*
	 * Open addressing over keys and over names: 0 is a free slot, else an
	 * index + 1. The keys and names of member records are chosen by their
	 * authors, so the hash is keyed (SipHash, a random key per node):
	 * nobody can aim at one slot.
	 */
	uint32_t *slots, *name_slots;
	size_t nslots; /* a power of two, at least twice n */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	/* Introducers told of once for reaching the bound: few, and only ever added to. */
	uint8_t (*capped)[32];
	size_t ncapped;
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

void members_set_self(struct members *m, const uint8_t pk[static 32])
{
	memcpy(m->self, pk, 32);
}

void members_free(struct members *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->names);
	free(m->slots);
	free(m->name_slots);
	free(m->capped);
	free(m);
}

static size_t slot_of(const struct members *m, const void *p, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, p, len, m->hkey);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (m->nslots - 1);
}

/* The slot that holds pk, or the free slot where it would go. */
static size_t probe(const struct members *m, const uint8_t pk[32])
{
	size_t s = slot_of(m, pk, 32);

	while (m->slots[s] && memcmp(m->keys[m->slots[s] - 1], pk, 32) != 0)
		s = (s + 1) & (m->nslots - 1);
	return s;
}

/* The slot that holds the first key named name, or the free slot where it would go. */
static size_t probe_name(const struct members *m, const char *name)
{
	size_t s = slot_of(m, name, strlen(name));

	while (m->name_slots[s] && strcmp(m->names[m->name_slots[s] - 1], name) != 0)
		s = (s + 1) & (m->nslots - 1);
	return s;
}

/* The index of key pk in the set, or -1. */
static ssize_t find(const struct members *m, const uint8_t pk[32])
{
	size_t s;

	if (m->nslots == 0)
		return -1;
	s = probe(m, pk);
	return m->slots[s] ? (ssize_t)m->slots[s] - 1 : -1;
}

int members_has(const struct members *m, const uint8_t pk[static 32])
{
	return find(m, pk) >= 0;
}

size_t members_count(const struct members *m)
{
	return m->n;
}

const uint8_t *members_key(const struct members *m, size_t i)
{
	return m->keys[i];
}

/* Puts key i (and its name, if any) in the tables. */
static void index_key(struct members *m, size_t i)
{
	size_t s;

	m->slots[probe(m, m->keys[i])] = (uint32_t)i + 1;
	if (m->names[i][0] && !m->name_slots[s = probe_name(m, m->names[i])])
		m->name_slots[s] = (uint32_t)i + 1;
}

/* Room for one more key: the arrays doubled, the tables rebuilt, when full. 0 or -1. */
static int grow(struct members *m)
{
	size_t cap = m->cap ? 2 * m->cap : 16;
	uint8_t(*k)[32];
	char(*names)[CONFIG_NAME_MAX + 1];
	uint32_t *slots, *name_slots;

	if (m->n < m->cap)
		return 0;
	if (cap > UINT32_MAX / 2 || !(k = realloc(m->keys, cap * sizeof(*k))))
		return -1;
	m->keys = k;
	if (!(names = realloc(m->names, cap * sizeof(*names))))
		return -1;
	m->names = names;
	slots = calloc(2 * cap, sizeof(*slots));
	name_slots = calloc(2 * cap, sizeof(*name_slots));
	if (!slots || !name_slots) {
		free(slots);
		free(name_slots);
		return -1;
	}
	free(m->slots);
	free(m->name_slots);
	m->slots = slots;
	m->name_slots = name_slots;
	m->nslots = 2 * cap;
	m->cap = cap;
	for (size_t i = 0; i < m->n; i++)
		index_key(m, i);
	return 0;
}

/* pk joins the set, named name (NULL or "": no name). 1 added, 0 already in, -1 out of memory. */
static int add(struct members *m, const uint8_t pk[32], const char *name)
{
	if (members_has(m, pk))
		return 0;
	if (grow(m) != 0)
		return -1;
	memcpy(m->keys[m->n], pk, 32);
	snprintf(m->names[m->n], sizeof(m->names[m->n]), "%s", name ? name : "");
	index_key(m, m->n++);
	return 1;
}

/*
 * The string field `field` of a member record's body, copied into out (empty
 * if none). Bodies from the network are not held to their schema (DESIGN.md
 * "Versions live side by side"), so a name with control characters, which a
 * terminal would obey, counts as none.
 */
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
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			out[0] = '\0';
}

/* The "key" field of a member record's body, as a public key. */
static int member_key(const struct ag_entry *e, uint8_t pk[32])
{
	char key[AG_B64_LEN + 2];

	body_str(e, "key", key, sizeof(key));
	return strlen(key) == AG_B64_LEN && ag_key_from_b64(pk, key) == 0 ? 0 : -1;
}

/* One introducer's member records as the set is rebuilt: at most max of them count. */
struct intro {
	struct members *m;
	size_t seen, max;
};

static int on_member(const struct ag_entry *e, void *arg)
{
	struct intro *in = arg;
	char name[CONFIG_NAME_MAX + 1];
	uint8_t pk[32];

	if (in->seen++ == in->max)
		return 1; /* one more than the bound: the introducer is over it */
	if (member_key(e, pk) == 0) {
		body_str(e, "name", name, sizeof(name));
		(void)add(in->m, pk, name);
	}
	return 0;
}

/* The first time an introducer is found over the bound, one line says so. */
static void tell_capped(struct members *m, const uint8_t author[32], size_t max)
{
	char key[AG_B64_LEN + 1];
	uint8_t(*c)[32];

	for (size_t i = 0; i < m->ncapped; i++)
		if (memcmp(m->capped[i], author, 32) == 0)
			return;
	if ((c = realloc(m->capped, (m->ncapped + 1) * sizeof(*c)))) {
		m->capped = c;
		memcpy(m->capped[m->ncapped++], author, 32);
	}
	ag_key_to_b64(key, author);
	log_warnx("%s introduces more than %zu members (MaxIntroduced): only its latest %zu member "
	          "records count",
	          key, max, max);
}

/* How many of the keys before (n of them) are in the set still. */
static size_t members_kept(const struct members *m, const uint8_t (*before)[32], size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		kept += members_has(m, before[i]) != 0;
	return kept;
}

int members_recompute(struct members *m, const uint8_t (*roots)[32], size_t nroots, int hops,
                      size_t max_introduced)
{
	/* The set may change without growing (a key's successor in its place): compare the keys. */
	size_t before = m->n, from = 0, to, kept;
	uint8_t(*old)[32] = before ? malloc(before * sizeof(*old)) : NULL;
	int grew;

	if (old)
		memcpy(old, m->keys, before * sizeof(*old));

	m->n = 0;
	if (m->slots) {
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
		memset(m->name_slots, 0, m->nslots * sizeof(*m->name_slots));
	}
	for (size_t i = 0; i < nroots; i++)
		(void)add(m, roots[i], NULL);
	/* Hop h introduces the members named by the feeds of hop h - 1. */
	for (int hop = 2; hop <= hops; hop++) {
		to = m->n;
		for (size_t i = from; i < to; i++) {
			/* A copy: the callback may move m->keys as it grows. */
			uint8_t author[32];
			struct index_query q = {.type = "member", .author = author};
			struct intro in = {m, 0, max_introduced};

			memcpy(author, m->keys[i], 32);
			(void)store_search(m->store, &q, on_member, &in);
			if (in.seen > max_introduced)
				tell_capped(m, author, max_introduced);
		}
		from = to;
	}
	kept = old ? members_kept(m, (const uint8_t(*)[32])old, before) : 0;
	grew = old || before == 0 ? m->n > kept : m->n > before;
	free(old);
	return grew;
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

/* The name of key pk: ours or a peer's from the config, else its introduction's. NULL: none. */
const char *members_city_name(struct members *m, const struct config *cfg,
                              const uint8_t pk[static 32])
{
	const struct config_peer *cp;
	ssize_t i;

	if (memcmp(pk, m->self, 32) == 0)
		return cfg->name;
	if ((cp = config_peer_find(cfg, pk)))
		return cp->name;
	if ((i = find(m, pk)) < 0 || m->names[i][0] == '\0')
		return NULL;
	return m->names[i];
}

int members_resolve_city(struct members *m, const struct config *cfg, const char *key_or_name,
                         uint8_t pk[static 32])
{
	const struct config_peer *cp;
	size_t s;

	if (ag_key_from_b64(pk, key_or_name) == 0)
		return 0;
	if (strcmp(key_or_name, cfg->name) == 0) {
		memcpy(pk, m->self, 32);
		return 0;
	}
	if ((cp = config_peer_find_name(cfg, key_or_name))) {
		memcpy(pk, cp->pk, 32);
		return 0;
	}
	if (m->nslots == 0 || key_or_name[0] == '\0' ||
	    !m->name_slots[s = probe_name(m, key_or_name)])
		return -1;
	memcpy(pk, m->keys[m->name_slots[s] - 1], 32);
	return 0;
}
