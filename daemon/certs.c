/* certs.c: succession certificates, checked, kept in the store's meta table, applied. */
#include "certs.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "succession.h"

#define PREFIX     "cert/"
#define PREFIX_LEN 5

static void cert_key(uint8_t k[static PREFIX_LEN + 32], const uint8_t old[static 32])
{
	memcpy(k, PREFIX, PREFIX_LEN);
	memcpy(k + PREFIX_LEN, old, 32);
}

/* The certificate held for old, into buf: 1, 0 if none, -1. */
static int cert_held(struct store *st, const uint8_t old[static 32],
                     uint8_t buf[static AG_CERT_MAX], size_t *len)
{
	uint8_t k[PREFIX_LEN + 32];
	int rc;

	cert_key(k, old);
	rc = store_meta_get(st, k, sizeof(k), buf, AG_CERT_MAX, len);
	return rc == 1 && *len > AG_CERT_MAX ? -1 : rc;
}

/* A feed's first entry, identity/self: its recovery key and predecessor, if it names them. */
struct first {
	uint8_t recovery[32], predecessor[32];
	int has_recovery, has_predecessor;
};

static int on_first(const struct ag_entry *e, void *arg)
{
	struct first *f = arg;

	if (succession_is(e, "self")) {
		f->has_recovery = succession_key(e, "recovery", f->recovery) == 0;
		f->has_predecessor = succession_key(e, "predecessor", f->predecessor) == 0;
	}
	return 1;
}

static int on_successor(const struct ag_entry *e, void *arg)
{
	return succession_key(e, "successor", arg) == 0 ? 0 : -1;
}

int certs_hands_to(struct store *st, const uint8_t p[static 32], const uint8_t key[static 32])
{
	uint8_t next[32] = {0}, buf[AG_CERT_MAX];
	struct ag_cert c;
	size_t len;

	if (cert_held(st, p, buf, &len) == 1 && ag_cert_decode(&c, buf, len, NULL) == 0)
		return memcmp(c.new_key, key, 32) == 0;
	return store_get(st, "identity", p, "successor", 9, on_successor, next) == 1 &&
	       memcmp(next, key, 32) == 0;
}

int certs_recovery_of(struct store *st, const uint8_t key[static 32], uint8_t recovery[static 32])
{
	uint8_t k[32];

	memcpy(k, key, 32);
	for (int hop = 0; hop < CERTS_CHAIN_MAX; hop++) {
		struct first f = {0};

		if (store_feed(st, k, 1, 1, SIZE_MAX, on_first, &f) < 0 || !f.has_recovery)
			return -1;
		memcpy(recovery, f.recovery, 32);
		/* Fixed by the city's first feed: a successor carries its predecessor's. */
		if (!f.has_predecessor || !certs_hands_to(st, f.predecessor, k))
			return 0;
		memcpy(k, f.predecessor, 32);
	}
	return 0;
}

int certs_check(struct store *st, const uint8_t network[static 32], const uint8_t *raw, size_t len,
                struct ag_cert *c, char *why, size_t whylen)
{
	uint8_t recovery[32];
	char old[AG_B64_LEN + 1];
	int rc;

	if ((rc = ag_cert_decode(c, raw, len, NULL)) != 0) {
		snprintf(why, whylen, "not a succession certificate: %s", ag_strerror(rc));
		return -1;
	}
	ag_key_to_b64(old, c->old_key);
	if (certs_recovery_of(st, c->old_key, recovery) != 0) {
		snprintf(
		    why, whylen,
		    "no recovery key known for %s (this node holds no identity/self of its feed)",
		    old);
		return -1;
	}
	if ((rc = ag_cert_verify(c, network, recovery)) != 0) {
		snprintf(why, whylen, "the certificate for %s: %s", old,
		         rc == AG_ESIG ? "not signed by its recovery key" : ag_strerror(rc));
		return -1;
	}
	return 0;
}

int certs_keep(struct store *st, const struct ag_cert *c)
{
	uint8_t k[PREFIX_LEN + 32], buf[AG_CERT_MAX];
	struct ag_cert held;
	size_t len;
	int rc = cert_held(st, c->old_key, buf, &len);

	if (rc < 0)
		return -1;
	if (rc == 1 && ag_cert_decode(&held, buf, len, NULL) == 0 &&
	    ((len == c->raw_len && memcmp(buf, c->raw, len) == 0) || !ag_cert_wins(c, &held)))
		return 0;
	cert_key(k, c->old_key);
	return store_meta_put(st, k, sizeof(k), c->raw, c->raw_len) == 0 ? 1 : -1;
}

/* The successors a feed names from seq `from` on, and the hash at a seq. */
struct scan {
	uint8_t (*succ)[32];
	size_t max, n;
	uint64_t at;
	uint8_t hash[AG_HASH_LEN];
	int found;
};

static int on_scan(const struct ag_entry *e, void *arg)
{
	struct scan *s = arg;

	if (e->h.seq == s->at) {
		ag_entry_hash(e, s->hash);
		s->found = 1;
	}
	if (s->n < s->max && succession_is(e, "successor") &&
	    succession_key(e, "successor", s->succ[s->n]) == 0)
		s->n++;
	return 0;
}

/* Voids author's entries after `after`, the feeds they named as successors into s. */
static int void_feed(struct store *st, const uint8_t author[static 32], uint64_t after,
                     struct scan *s)
{
	s->at = 0;
	if (store_feed(st, author, after + 1, SIZE_MAX, SIZE_MAX, on_scan, s) < 0)
		return -1;
	return store_void(st, author, after, STORE_FLAG_CLOSED, NULL) == 0 ? 0 : -1;
}

int certs_void(struct store *st, const struct ag_cert *c, uint8_t (*succ)[32], size_t max,
               size_t *n)
{
	struct scan s = {succ, max, 0, c->last_seq, {0}, 0};
	uint64_t after = c->last_seq;
	size_t done;

	/* A node holding another entry at the seq named voids it too: the feed forked there. */
	if (after > 0 && store_feed(st, c->old_key, after, 1, SIZE_MAX, on_scan, &s) == 1 &&
	    s.found && memcmp(s.hash, c->last_hash, AG_HASH_LEN) != 0)
		after--;
	s.n = 0;
	if (void_feed(st, c->old_key, after, &s) != 0)
		return -1;
	for (done = 0; done < s.n && done < CERTS_CHAIN_MAX; done++) {
		uint8_t t[32];

		memcpy(t, s.succ[done], 32); /* void_feed may add more after it */
		if (memcmp(t, c->new_key, 32) != 0 && void_feed(st, t, 0, &s) != 0)
			return -1;
	}
	*n = s.n;
	return 0;
}

struct each {
	int (*fn)(const uint8_t *raw, size_t len, void *arg);
	void *arg;
};

static int on_meta(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct each *e = arg;

	(void)key, (void)klen;
	return vlen <= AG_CERT_MAX ? e->fn(val, vlen, e->arg) : 0;
}

int certs_each(struct store *st, int (*fn)(const uint8_t *raw, size_t len, void *arg), void *arg)
{
	struct each e = {fn, arg};

	return store_meta_each(st, PREFIX, PREFIX_LEN, on_meta, &e);
}
