/* members.c: the replicated set, our member records, and the names of cities. */
#include <stdbool.h>
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

#define MEMBERS_NOBODY UINT32_MAX

/* One member record that introduces a key of the set, by another key of the set. */
struct intro {
	uint32_t key, by; /* indexes into keys */
	uint32_t next;    /* the key's next introduction, or MEMBERS_NOBODY */
	char name[CONFIG_NAME_MAX + 1];
	char role[MEMBERS_ROLE_MAX + 1];
};

struct members {
	struct store *store;
	uint8_t self[32];
	uint8_t (*keys)[32]; /* in the order they joined the set */
	/* What the introductions of each key say: every distinct name, " / " between. */
	char (*names)[MEMBERS_SHOWN_MAX + 1];
	char (*roles)[MEMBERS_SHOWN_MAX + 1];
	uint32_t *first, *last; /* each key's introductions, a list through intro.next */
	size_t n, cap;
	struct intro *intros;
	size_t nintros, intros_cap;
	/*
	 * Open addressing over keys and over introductions' names: 0 is a free
	 * slot, else an index + 1. The keys and names of member records are
	 * chosen by their authors, so the hash is keyed (SipHash, a random key
	 * per node): nobody can aim at one slot. A name's slot holds its first
	 * introduction; name_other the first other key it names (+ 1), 0 if none.
	 */
	uint32_t *slots, *name_slots, *name_other;
	size_t nslots;      /* a power of two, at least twice n */
	size_t nname_slots; /* a power of two, at least twice nintros */
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
	free(m->roles);
	free(m->first);
	free(m->last);
	free(m->intros);
	free(m->slots);
	free(m->name_slots);
	free(m->name_other);
	free(m->capped);
	free(m);
}

static size_t slot_of(const struct members *m, const void *p, size_t len, size_t nslots)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, p, len, m->hkey);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (nslots - 1);
}

/* The slot that holds pk, or the free slot where it would go. */
static size_t probe(const struct members *m, const uint8_t pk[32])
{
	size_t s = slot_of(m, pk, 32, m->nslots);

	while (m->slots[s] && memcmp(m->keys[m->slots[s] - 1], pk, 32) != 0)
		s = (s + 1) & (m->nslots - 1);
	return s;
}

/* The slot of the first introduction that gives name, or the free slot where it would go. */
static size_t probe_name(const struct members *m, const char *name)
{
	size_t s = slot_of(m, name, strlen(name), m->nname_slots);

	while (m->name_slots[s] && strcmp(m->intros[m->name_slots[s] - 1].name, name) != 0)
		s = (s + 1) & (m->nname_slots - 1);
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

/* realloc of *p to n elements of size each; 0 or -1 (*p unchanged). */
static int resize(void *p, size_t n, size_t size)
{
	void *q = realloc(*(void **)p, n * size);

	if (!q)
		return -1;
	*(void **)p = q;
	return 0;
}

/* Room for one more key: the arrays doubled, the key table rebuilt, when full. 0 or -1. */
static int grow(struct members *m)
{
	size_t cap = m->cap ? 2 * m->cap : 16;
	uint32_t *slots;

	if (m->n < m->cap)
		return 0;
	if (cap > UINT32_MAX / 4 || resize(&m->keys, cap, sizeof(*m->keys)) ||
	    resize(&m->names, cap, sizeof(*m->names)) ||
	    resize(&m->roles, cap, sizeof(*m->roles)) ||
	    resize(&m->first, cap, sizeof(*m->first)) || resize(&m->last, cap, sizeof(*m->last)) ||
	    !(slots = calloc(2 * cap, sizeof(*slots))))
		return -1;
	free(m->slots);
	m->slots = slots;
	m->nslots = 2 * cap;
	m->cap = cap;
	for (size_t i = 0; i < m->n; i++)
		m->slots[probe(m, m->keys[i])] = (uint32_t)i + 1;
	return 0;
}

/* pk joins the set. Its index, or -1 when out of memory. */
static ssize_t add(struct members *m, const uint8_t pk[32])
{
	ssize_t i = find(m, pk);

	if (i >= 0)
		return i;
	if (grow(m) != 0)
		return -1;
	memcpy(m->keys[m->n], pk, 32);
	m->names[m->n][0] = m->roles[m->n][0] = '\0';
	m->first[m->n] = m->last[m->n] = MEMBERS_NOBODY;
	m->slots[probe(m, pk)] = (uint32_t)m->n + 1;
	return (ssize_t)m->n++;
}

/* Key `key` is introduced by key `by` as name, role: kept in the key's list. 0 or -1. */
static int add_intro(struct members *m, size_t key, size_t by, const char *name, const char *role)
{
	struct intro *in;
	size_t cap = m->intros_cap ? 2 * m->intros_cap : 16;

	if (m->nintros == m->intros_cap) {
		if (cap > UINT32_MAX / 4 || resize(&m->intros, cap, sizeof(*m->intros)) != 0)
			return -1;
		m->intros_cap = cap;
	}
	in = &m->intros[m->nintros];
	*in = (struct intro){.key = (uint32_t)key, .by = (uint32_t)by, .next = MEMBERS_NOBODY};
	snprintf(in->name, sizeof(in->name), "%s", name);
	snprintf(in->role, sizeof(in->role), "%s", role);
	if (m->last[key] == MEMBERS_NOBODY)
		m->first[key] = (uint32_t)m->nintros;
	else
		m->intros[m->last[key]].next = (uint32_t)m->nintros;
	m->last[key] = (uint32_t)m->nintros++;
	return 0;
}

/*
 * The string field `field` of a member record's body, copied into out (empty
 * if none). Bodies from the network are not held to their schema (DESIGN.md
 * "Versions live side by side"), so a name with control characters, which a
 * terminal would obey, counts as none.
 */
void members_body_str(const struct ag_entry *e, const char *field, char *out, size_t cap)
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

	members_body_str(e, "key", key, sizeof(key));
	return strlen(key) == AG_B64_LEN && ag_key_from_b64(pk, key) == 0 ? 0 : -1;
}

/* One introducer's member records as the set is rebuilt: at most max of them count. */
struct scan {
	struct members *m;
	size_t by; /* the introducer's index */
	size_t seen, max;
};

static int on_member(const struct ag_entry *e, void *arg)
{
	struct scan *sc = arg;
	char name[CONFIG_NAME_MAX + 1], role[MEMBERS_ROLE_MAX + 1];
	uint8_t pk[32];
	ssize_t k;

	if (sc->seen++ == sc->max)
		return 1; /* one more than the bound: the introducer is over it */
	/* A key's own records never name it (DESIGN.md "Roles and names"). */
	if (member_key(e, pk) != 0 || memcmp(pk, e->h.author, 32) == 0)
		return 0;
	members_body_str(e, "name", name, sizeof(name));
	members_body_str(e, "role", role, sizeof(role));
	if ((k = add(sc->m, pk)) >= 0)
		(void)add_intro(sc->m, (size_t)k, sc->by, name, role);
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

/* Whether the shown list out holds name as one of its " / "-separated parts. */
static bool shown_has(const char *out, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = out; (p = strstr(p, name)); p++)
		if ((p == out || (p - out >= 3 && memcmp(p - 3, " / ", 3) == 0)) &&
		    (p[len] == '\0' || strncmp(p + len, " / ", 3) == 0))
			return true;
	return false;
}

/*
 * Adds name to the list out of what the introductions say, unless it is
 * there: disagreements are shown, never resolved by order ("Lyon / Lione").
 * Past the room, the list ends in "…".
 */
static void shown_add(char *out, size_t cap, const char *name)
{
	size_t used = strlen(out), need = strlen(name) + (used ? 3 : 0);

	if (!name[0] || shown_has(out, name) || (used >= 3 && !strcmp(out + used - 3, "…")))
		return;
	if (used + need < cap)
		snprintf(out + used, cap - used, "%s%s", used ? " / " : "", name);
	else if (used + 6 < cap)
		snprintf(out + used, cap - used, " / …");
}

/* The names and roles each key's introductions give, and the index of names. 0 or -1. */
static int members_index_names(struct members *m)
{
	size_t want = 16, s;
	struct intro *in;

	for (size_t k = 0; k < m->n; k++)
		for (uint32_t j = m->first[k]; j != MEMBERS_NOBODY; j = m->intros[j].next) {
			shown_add(m->names[k], sizeof(m->names[k]), m->intros[j].name);
			shown_add(m->roles[k], sizeof(m->roles[k]), m->intros[j].role);
		}
	while (want < 2 * m->nintros)
		want *= 2;
	free(m->name_slots);
	free(m->name_other);
	m->name_slots = calloc(want, sizeof(*m->name_slots));
	m->name_other = calloc(want, sizeof(*m->name_other));
	m->nname_slots = m->name_slots && m->name_other ? want : 0;
	if (!m->nname_slots)
		return -1;
	for (size_t j = 0; j < m->nintros; j++) {
		if (!(in = &m->intros[j])->name[0])
			continue;
		if (!m->name_slots[s = probe_name(m, in->name)])
			m->name_slots[s] = (uint32_t)j + 1;
		else if (m->intros[m->name_slots[s] - 1].key != in->key && !m->name_other[s])
			m->name_other[s] = in->key + 1;
	}
	return 0;
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

	if (old)
		memcpy(old, m->keys, before * sizeof(*old));
	m->n = m->nintros = 0;
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
			struct scan sc = {m, i, 0, max_introduced};

			memcpy(author, m->keys[i], 32);
			(void)store_search(m->store, &q, on_member, &sc);
			if (sc.seen > max_introduced)
				tell_capped(m, author, max_introduced);
		}
		from = to;
	}
	if (members_index_names(m) != 0)
		log_error("out of memory: names of members are not known");
	kept = old ? members_kept(m, (const uint8_t(*)[32])old, before) : 0;
	grew = old || before == 0 ? m->n > kept : m->n > before;
	free(old);
	return grew;
}

/* ---- our member records ---- */

/* The member record that vouches for a peer: {"key", "name", "role"}, keys in order. */
static void publish_member(members_publish_fn *publish, void *arg, const uint8_t pk[32],
                           const char *name, const char *role)
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
	msgpack_pack_str_with_body(&pk_, role ? role : "", role ? strlen(role) : 0);
	if (publish(arg, "member", key, AG_B64_LEN, role ? (uint8_t *)sb.data : NULL,
	            role ? sb.size : 0, err, sizeof(err)) != 0)
		log_error("member record for %s: %s", key, err);
	msgpack_sbuffer_destroy(&sb);
}

/* What our live member record of a peer says; all "" if there is none. */
struct vouch {
	char name[CONFIG_NAME_MAX + 1], role[MEMBERS_ROLE_MAX + 1];
	bool live;
};

static int read_vouch(const struct ag_entry *e, void *arg)
{
	struct vouch *v = arg;

	v->live = e->body != NULL;
	members_body_str(e, "name", v->name, sizeof(v->name));
	members_body_str(e, "role", v->role, sizeof(v->role));
	return 0;
}

/* Our live records for keys that are no longer peers, gathered before any is retracted. */
struct gone {
	const struct config *cfg;
	uint8_t (*keys)[32];
	size_t n, cap;
	bool failed;
};

static int gather_gone(const struct ag_entry *e, void *arg)
{
	struct gone *g = arg;
	uint8_t pk[32];

	if (member_key(e, pk) != 0 || config_peer_find(g->cfg, pk))
		return 0;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		if (resize(&g->keys, g->cap, sizeof(*g->keys)) != 0) {
			g->failed = true;
			return 1;
		}
	}
	memcpy(g->keys[g->n++], pk, 32);
	return 0;
}

void members_reconcile(struct members *ms, const struct config *cfg, members_publish_fn *publish,
                       void *arg)
{
	struct index_query q = {.type = "member", .author = ms->self};
	struct gone g = {.cfg = cfg};
	char key[AG_B64_LEN + 1];

	/* A peer's record says its name and role as the config does, or a new one is published. */
	for (size_t i = 0; i < cfg->npeers; i++) {
		const struct config_peer *p = &cfg->peers[i];
		const char *role = config_role_name(p->role);
		struct vouch v = {0};

		ag_key_to_b64(key, p->pk);
		if (store_get(ms->store, "member", ms->self, key, AG_B64_LEN, read_vouch, &v) < 0)
			return;
		if (!v.live || strcmp(v.name, p->name) != 0 || strcmp(v.role, role) != 0)
			publish_member(publish, arg, p->pk, p->name, role);
	}
	/* The writes come after the read: a search's transaction is not held across them. */
	if (store_search(ms->store, &q, gather_gone, &g) >= 0 && !g.failed)
		for (size_t i = 0; i < g.n; i++)
			publish_member(publish, arg, g.keys[i], "", NULL);
	free(g.keys);
}

/* ---- names ---- */

/* The name of key pk: ours or a peer's from the config, else its introductions'. NULL: none. */
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

const char *members_city_role(struct members *m, const struct config *cfg,
                              const uint8_t pk[static 32])
{
	const struct config_peer *cp;
	ssize_t i;

	if ((cp = config_peer_find(cfg, pk)))
		return config_role_name(cp->role);
	if ((i = find(m, pk)) < 0 || m->roles[i][0] == '\0')
		return NULL;
	return m->roles[i];
}

int members_resolve_city(struct members *m, const struct config *cfg, const char *key_or_name,
                         uint8_t pk[static 32], uint8_t *other)
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
	if (m->nname_slots == 0 || key_or_name[0] == '\0' ||
	    !m->name_slots[s = probe_name(m, key_or_name)])
		return -1;
	memcpy(pk, m->keys[m->intros[m->name_slots[s] - 1].key], 32);
	if (!m->name_other[s])
		return 0;
	if (other)
		memcpy(other, m->keys[m->name_other[s] - 1], 32);
	return -2;
}

size_t members_intros(struct members *m, const uint8_t pk[static 32], members_intro_fn *fn,
                      void *arg)
{
	ssize_t i = find(m, pk);
	size_t count = 0;

	if (i < 0)
		return 0;
	for (uint32_t j = m->first[i]; j != MEMBERS_NOBODY; j = m->intros[j].next, count++) {
		const struct intro *in = &m->intros[j];

		fn(m->keys[in->by], in->name, in->role, arg);
	}
	return count;
}
