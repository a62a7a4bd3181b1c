/*
 * store_check.c: the store's statistics (service.c's STATUS= line, tests)
 * and its check that it holds what it promises (store.h), which only tests
 * run.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "be.h"
#include "log.h"
#include "store.h"
#include "store_internal.h"

static int stats_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct store_stats *s = arg;
	MDB_stat es, hs;
	MDB_envinfo info;
	size_t postings = 0, segments, ibytes;
	uint64_t records;
	int rc;

	if ((rc = mdb_stat(txn, st->entries, &es)) == 0 &&
	    (rc = mdb_stat(txn, st->heads, &hs)) == 0 &&
	    (rc = store_records_count(txn, st->info, &records)) == 0 &&
	    (rc = index_stats(st->ix, txn, &postings, &segments, &ibytes)) == 0 &&
	    (rc = mdb_env_info(st->env, &info)) == 0) {
		*s = (struct store_stats){
		    es.ms_entries, hs.ms_entries,   records,
		    postings,      info.me_mapsize, (uint64_t)(info.me_last_pgno + 1) * es.ms_psize,
		    ibytes,        segments};
	}
	return rc;
}

int store_stats(struct store *st, struct store_stats *s)
{
	return store_read(st, "stats", stats_read, s) != 0 ? -1 : 0;
}

/*
 * The checks return 0 when all holds, 1 with the first problem in why, or
 * -1 with the LMDB error in err.
 */
struct check {
	struct store *st;
	MDB_txn *txn;
	const uint8_t *network;
	char *why;
	size_t whylen;
	int err, result;
	size_t entries, records, versions, postings;
};

__attribute__((format(printf, 2, 3))) static int check_fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return 1;
}

static int check_err(struct check *c, int rc)
{
	c->err = rc;
	return -1;
}

/* The bytes of bodies that usage says author holds: what its quota counts. */
static int check_usage(struct check *c, const uint8_t *author, const char *who, uint64_t held)
{
	MDB_val k = {AG_PK_LEN, (void *)(uintptr_t)author}, v;
	uint64_t said = 0;
	int rc = mdb_get(c->txn, c->st->usage, &k, &v);

	if (rc != 0 && rc != MDB_NOTFOUND)
		return check_err(c, rc);
	if (rc == 0 && v.mv_size != 17)
		return check_fail(c, "%s: its usage is damaged", who);
	if (rc == 0)
		said = be64_get(v.mv_data);
	if (said != held)
		return check_fail(c,
		                  "%s: usage says %" PRIu64 " bytes of bodies, it holds %" PRIu64,
		                  who, said, held);
	return 0;
}

/* One feed: seq 1 to the head, each prev the hash of the one before, its usage its bodies. */
static int check_feed(struct check *c, const uint8_t *author, uint64_t head,
                      const uint8_t *head_hash)
{
	uint8_t prev[AG_HASH_LEN];
	char who[AG_B64_LEN + 1];
	uint64_t held = 0;
	int rc;

	ag_key_to_b64(who, author);
	for (uint64_t seq = 1; seq <= head; seq++) {
		struct ag_entry e;

		if ((rc = store_entry_load(c->txn, c->st, author, seq, &e)) == MDB_CORRUPTED)
			return check_fail(c, "%s: entry %" PRIu64 " missing or damaged", who, seq);
		if (rc != 0)
			return check_err(c, rc);
		if (seq > 1 && (!e.h.has_prev || memcmp(e.h.prev, prev, AG_HASH_LEN) != 0))
			return check_fail(c, "%s: entry %" PRIu64 " breaks the chain", who, seq);
		if (c->network && seq == head && ag_header_verify(&e.h, c->network) != 0)
			return check_fail(c, "%s: entry %" PRIu64 " does not verify", who, seq);
		if (e.body && ag_body_check(&e.h, e.body, e.body_len, NULL) != 0)
			return check_fail(c, "%s: body %" PRIu64 " is not its header's", who, seq);
		ag_entry_hash(&e, prev);
		held += e.body ? e.body_len : 0;
		c->entries++;
	}
	if (head == 0 || memcmp(prev, head_hash, AG_HASH_LEN) != 0)
		return check_fail(c, "%s: head is not entry %" PRIu64, who, head);
	return check_usage(c, author, who, held);
}

static int check_feeds(struct check *c)
{
	MDB_cursor *cur;
	MDB_stat es, ls;
	MDB_val k, v;
	int rc, bad = 0;

	if ((rc = mdb_cursor_open(c->txn, c->st->heads, &cur)) != 0)
		return check_err(c, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && bad == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		bad = v.mv_size != HEAD_LEN || k.mv_size != AG_PK_LEN
		          ? check_fail(c, "a head is damaged")
		          : check_feed(c, k.mv_data, be64_get(v.mv_data),
		                       (const uint8_t *)v.mv_data + 8);
	mdb_cursor_close(cur);
	if (bad)
		return bad;
	if (rc != MDB_NOTFOUND)
		return check_err(c, rc);
	if ((rc = mdb_stat(c->txn, c->st->entries, &es)) != 0 ||
	    (rc = mdb_stat(c->txn, c->st->log, &ls)) != 0)
		return check_err(c, rc);
	if (es.ms_entries != c->entries || ls.ms_entries != c->entries)
		return check_fail(c, "%zu entries stored, %zu in the log, %zu in the feeds",
		                  (size_t)es.ms_entries, (size_t)ls.ms_entries, c->entries);
	return 0;
}

/* A live version's docno names it. */
static int check_doc(struct check *c, uint32_t docno, const uint8_t *author, uint64_t seq)
{
	uint8_t logno[8];
	struct ag_entry e;
	int rc;

	be64_put(logno, docno);
	if ((rc = store_log_load(c->txn, c->st, logno, &e)) != 0 && rc != MDB_CORRUPTED)
		return check_err(c, rc);
	if (rc != 0 || memcmp(e.h.author, author, AG_PK_LEN) != 0 || e.h.seq != seq)
		return check_fail(c, "docno %" PRIu32 " does not name its version", docno);
	return 0;
}

/*
 * One record, the cursor on its first line: its state, the newest line,
 * matches its entry, and it is indexed exactly when live.
 */
static int check_record(struct check *c, MDB_cursor *cur, const MDB_val *k)
{
	const uint8_t *key = k->mv_data;
	size_t tl = strnlen((const char *)key, k->mv_size), nv, have, want;
	MDB_val kk = *k, v;
	struct index_doc d;
	struct ag_entry e;
	struct rec r;
	int rc;

	if (tl + 1 + AG_PK_LEN >= k->mv_size)
		return check_fail(c, "a record key is damaged");
	if ((rc = mdb_cursor_count(cur, &nv)) != 0 ||
	    (rc = mdb_cursor_get(cur, &kk, &v, MDB_LAST_DUP)) != 0)
		return check_err(c, rc);
	if (store_rec_get(&v, &r) != 0)
		return check_fail(c, "record %s is damaged", key);
	c->records++;
	c->versions += nv;
	if ((rc = store_entry_load(c->txn, c->st, key + tl + 1, r.seq, &e)) != 0)
		return check_fail(c, "record %s: its entry is missing", key);
	if (strcmp(e.h.type, (const char *)key) != 0 || e.h.timestamp != r.ts ||
	    (e.body != NULL) != r.live || e.h.id_len != k->mv_size - tl - 1 - AG_PK_LEN ||
	    memcmp(e.h.id, key + tl + 1 + AG_PK_LEN, e.h.id_len) != 0)
		return check_fail(c, "record %s: state does not match its entry", key);
	if (!r.live)
		return r.docno == 0 ? 0 : check_fail(c, "record %s: retracted, yet indexed", key);
	if ((rc = check_doc(c, r.docno, key + tl + 1, r.seq)) != 0)
		return rc;
	d = (struct index_doc){r.docno, r.ts, e.h.type, e.h.author, e.body, e.body_len};
	if ((rc = index_doc_check(c->st->ix, c->txn, &d, &have, &want)) != 0)
		return check_err(c, rc);
	if (have != want)
		return check_fail(c, "record %s: %zu of its %zu postings indexed", key, have, want);
	c->postings += want;
	return 0;
}

static int check_records(struct check *c)
{
	MDB_stat vs;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t postings;
	uint64_t records;
	int rc, bad = 0;

	if ((rc = mdb_cursor_open(c->txn, c->st->records, &cur)) != 0)
		return check_err(c, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && bad == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP))
		bad = check_record(c, cur, &k);
	mdb_cursor_close(cur);
	if (bad)
		return bad;
	if (rc != MDB_NOTFOUND)
		return check_err(c, rc);
	if ((rc = mdb_stat(c->txn, c->st->records, &vs)) != 0 ||
	    (rc = store_records_count(c->txn, c->st->info, &records)) != 0)
		return check_err(c, rc);
	if (records != c->records)
		return check_fail(c, "%zu records counted, %zu stored", (size_t)records,
		                  c->records);
	if ((rc = index_check(c->st->ix, c->txn, &postings)) == MDB_CORRUPTED)
		return check_fail(c, "the index is damaged");
	if (rc != 0)
		return check_err(c, rc);
	if (vs.ms_entries != c->versions || c->versions != c->entries)
		return check_fail(c,
		                  "%zu versions stored, %zu of them of known records, %zu entries",
		                  (size_t)vs.ms_entries, c->versions, c->entries);
	if (postings != c->postings)
		return check_fail(c, "index holds %zu postings, live records %zu", postings,
		                  c->postings);
	return 0;
}

/* The checks in st's read transaction: their error, if any, is store_read's to log. */
static int check_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct check *c = arg;

	(void)st;
	c->txn = txn;
	if ((c->result = check_feeds(c)) == 0)
		c->result = check_records(c);
	return c->result < 0 ? c->err : 0;
}

int store_check(struct store *st, const uint8_t *network, char *why, size_t whylen)
{
	struct check c = {st, NULL, network, why, whylen, 0, 0, 0, 0, 0, 0};

	if (whylen)
		why[0] = 0;
	if (store_read(st, "check", check_read, &c) != 0)
		return -1;
	return c.result;
}
