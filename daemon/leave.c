/* leave.c: feeds whose keys left the replicated set, dropped after LeaveGrace (leave.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "be.h"
#include "key.h"
#include "leave.h"
#include "log.h"
#include "members.h"
#include "store.h"

#define LEAVE_PREFIX "left:"
#define LEAVE_PLEN   5
#define LEAVE_WRITES 256 /* store writes in one pass (each its own transaction); the rest next */

/* Keys in key order, each with when it left (0: not marked). */
struct out {
	const struct members *m;
	struct left {
		uint8_t pk[32];
		uint64_t since;
	} * k;
	size_t n, cap;
	bool failed;
};

static int out_add(struct out *o, const uint8_t *pk, uint64_t since)
{
	struct left *k;

	if (o->n == o->cap) {
		if (!(k = realloc(o->k, (o->cap ? 2 * o->cap : 16) * sizeof(*k)))) {
			o->failed = true;
			return 1;
		}
		o->k = k;
		o->cap = o->cap ? 2 * o->cap : 16;
	}
	memcpy(o->k[o->n].pk, pk, 32);
	o->k[o->n++].since = since;
	return 0;
}

/* A feed held whose key is out of the set. */
static int gather_out(const uint8_t author[AG_PK_LEN], uint64_t seq, const uint8_t *hash, void *arg)
{
	struct out *o = arg;

	(void)seq, (void)hash;
	return members_has(o->m, author) ? 0 : out_add(o, author, 0);
}

/* A mark, whatever its key: whether it still holds is judged against the feeds out. */
static int gather_mark(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	if (klen != LEAVE_PLEN + 32 || vlen != 8)
		return 0;
	return out_add(arg, (const uint8_t *)key + LEAVE_PLEN, be64_get(val));
}

static void mark_key(uint8_t key[static LEAVE_PLEN + 32], const uint8_t pk[32])
{
	memcpy(key, LEAVE_PREFIX, LEAVE_PLEN);
	memcpy(key + LEAVE_PLEN, pk, 32);
}

/* A feed out of the set and its mark: marked now, kept, or dropped past its grace. 1 if kept. */
static int leave_one(struct store *st, const uint8_t pk[32], uint64_t since, uint64_t now,
                     uint64_t grace)
{
	uint8_t key[LEAVE_PLEN + 32], v[8];
	char b64[AG_B64_LEN + 1];
	ssize_t n;

	mark_key(key, pk);
	ag_key_to_b64(b64, pk);
	if (since == 0) {
		be64_put(v, now);
		log_info("%s left the replicated set: its entries go in %llu s (LeaveGrace)", b64,
		         (unsigned long long)(grace / 1000));
		return store_meta_put(st, key, sizeof(key), v, 8) == 0 ? 1 : -1;
	}
	if (now < since + grace)
		return 1;
	if ((n = store_feed_drop(st, pk)) < 0 || store_meta_del(st, key, sizeof(key)) != 0)
		return -1;
	log_info("%s: out of the replicated set for LeaveGrace: its %zd entries dropped", b64, n);
	return 0;
}

/* The marks of keys with no feed out of the set: back in it, or dropped. */
static int unmark(struct store *st, const uint8_t pk[32])
{
	uint8_t key[LEAVE_PLEN + 32];

	mark_key(key, pk);
	return store_meta_del(st, key, sizeof(key));
}

static int left_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Walks feeds out and marks, both in key order: 0 or -1. */
static int leave_walk(struct store *st, struct out *feeds, struct out *marks, uint64_t now,
                      uint64_t grace)
{
	size_t i = 0, j = 0, writes = 0;
	int c, rc = 0;

	while (rc >= 0 && writes < LEAVE_WRITES && (i < feeds->n || j < marks->n)) {
		c = i == feeds->n ? 1 : j == marks->n ? -1 : left_cmp(&feeds->k[i], &marks->k[j]);
		if (c > 0) {
			rc = unmark(st, marks->k[j++].pk);
			writes++;
			continue;
		}
		rc = leave_one(st, feeds->k[i].pk, c == 0 ? marks->k[j].since : 0, now, grace);
		writes += c != 0 || rc == 0; /* a mark made, or a feed dropped */
		i++;
		j += c == 0;
	}
	return rc < 0 ? -1 : 0;
}

int leave_scan(struct store *st, const struct members *m, uint64_t now_ms, uint64_t grace_ms)
{
	struct out feeds = {.m = m}, marks = {.m = m};
	int rc = -1;

	if (store_heads(st, gather_out, &feeds) == 0 && !feeds.failed &&
	    store_meta_each(st, LEAVE_PREFIX, LEAVE_PLEN, gather_mark, &marks) == 0 &&
	    !marks.failed)
		rc = leave_walk(st, &feeds, &marks, now_ms, grace_ms);
	if (rc < 0)
		log_error("keys that left the replicated set: not looked at (see above)");
	free(feeds.k);
	free(marks.k);
	return rc;
}
