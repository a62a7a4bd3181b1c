/*
 * index.h: the search index. The words of a record version's text, folded,
 * point to the version, newest first; so do its type, its author and its
 * topics, so that a filter is one more word to intersect and a listing is a
 * search without words.
 *
 * store.c owns the LMDB environment and its transactions. The writer queues
 * a version's postings with index_add and retires a version that is no
 * longer current with index_kill, while it writes the record; index_flush
 * writes the queue in the same transaction, so the index is never ahead of
 * or behind the records. Queries only read and may run on any thread in any
 * read transaction.
 */
#ifndef AGORA_INDEX_H
#define AGORA_INDEX_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "fold.h"

#define INDEX_WORD_MAX  AG_FOLD_WORD_MAX /* bytes of one folded word (fold.h) */
#define INDEX_TEXT_MAX  1024             /* bytes of a query's text */
#define INDEX_WORDS_MAX 16               /* distinct words in a query */
#define INDEX_TOPIC_MAX 64               /* bytes of a topic name; longer ones are not indexed */
#define INDEX_RANK_MAX  300              /* matches of a search that are ranked, the newest */

struct index;

/* A record version as the index sees it: its place in the lists is (timestamp, docno). */
struct index_doc {
	uint32_t docno; /* the version's number, never 0, never used twice */
	uint64_t timestamp;
	const char *type;
	const uint8_t *author; /* 32 bytes */
	const uint8_t *body;   /* canonical msgpack map; never NULL here */
	size_t body_len;
};

/*
 * A query: every word of text, and every filter that is set, must match.
 * Without words and filters it lists every record.
 */
struct index_query {
	const char *text;      /* NULL or "" for none */
	const char *type;      /* NULL: any */
	const uint8_t *author; /* NULL: any; else 32 bytes */
	const char *topic;     /* NULL: any */
	size_t limit;          /* 0: no limit */
	const char *lang;      /* NULL: any; else a language code ("fr"): records with text in it */
};

/* Opens (creating) the index's database in txn, a write transaction. NULL on failure. */
struct index *index_open(MDB_txn *txn);
void index_free(struct index *); /* NULL-safe */

/*
 * Queues the postings of a version that becomes current. 0, or ENOMEM or
 * EINVAL (a body that is not msgpack), in LMDB's style of error codes.
 */
int index_add(struct index *, const struct index_doc *);

/*
 * The terms of a version, folded and hashed: the part of index_add that
 * needs neither the index nor a transaction, so that it may be done before,
 * on any thread. d's docno is not used.
 */
struct index_terms;

/* *out receives d's terms (NULL on failure): 0, ENOMEM or EINVAL (a body that is not msgpack). */
int index_prepare(const struct index_doc *d, struct index_terms **out);
void index_terms_free(struct index_terms *); /* NULL-safe */
/* The bytes it holds: what waiting for the writer costs. 0 for NULL. */
size_t index_terms_bytes(const struct index_terms *);

/*
 * Asks the CPU to bring the terms into its cache: they were made on another
 * thread, and the writer calls it for the next version while it stores one,
 * so that queueing them does not wait on memory line by line. NULL-safe.
 */
void index_terms_prefetch(const struct index_terms *);

/* index_add, with the terms that index_prepare gave for the same d. */
int index_add_terms(struct index *, const struct index_doc *d, const struct index_terms *);

/* A version, indexed before, is current no more: searches stop finding it. */
int index_kill(struct index *, MDB_txn *txn, uint32_t docno);

/*
 * Writes the queued postings in txn as a new segment and empties the
 * queue. 0 or an LMDB error code.
 */
int index_flush(struct index *, MDB_txn *txn);

/*
 * Merges run apart from the writes that make them due, in pieces, each in
 * a write transaction of its own: LMDB holds every page that a transaction
 * dirties in memory until it commits, and one merge of sixteen segments in
 * one transaction held tens of megabytes. A merge writes its new segment
 * block by block, unnamed by the catalog; its last piece names it and
 * unnames the segments it replaces, whose blocks later pieces delete.
 * Blocks of a segment that the catalog does not name are garbage, dropped
 * by index_open and between merges: a merge stopped at any point (a
 * crash, a failed transaction) leaves the index as it was before it, or as
 * merged, and no garbage once it opens again.
 *
 * Between a merge's pieces other transactions may write: flush new
 * segments, kill versions. The merge goes on with what it began with: the
 * segments it merges, which never change, and the versions dead when it
 * began, whose postings it drops; one killed after stays dead, its
 * postings skipped by searches, until a later merge drops them.
 *
 * Whether merge work is due, to be done with index_merge_step: *due is 0
 * for none, INDEX_DUE for work that may wait for an idle moment, or
 * INDEX_DUE_NOW when merges have fallen so far behind (too many segments:
 * every search looks in each) that the work must be done before the next
 * write, or INDEX_DUE_FULL when the catalog nears its end (SEGS_MAX), which
 * not even a bulk sync may put off (store_merge_wait).
 */
#define INDEX_DUE      1
#define INDEX_DUE_NOW  2
#define INDEX_DUE_FULL 3
int index_merge_due(const struct index *, MDB_txn *txn, int *due);

/*
 * One piece of the work due: garbage dropped, or up to about INDEX_PIECE
 * bytes of a merge's output written (a merge that is due begins). *more
 * while work is left. The caller commits txn; if it does not, it calls
 * index_merge_cancel before anything else writes (the merge's state is
 * ahead of what is stored). 0 or an LMDB error code.
 */
#define INDEX_PIECE (1u << 20)
int index_merge_step(struct index *, MDB_txn *txn, int *more);

/* Forgets the merge under way, after a piece that was not committed; the next step starts anew. */
void index_merge_cancel(struct index *);

/*
 * The bytes of a piece: tests make merges of many pieces with a small one.
 * A piece ends with the first block that reaches them: 1 makes a block a piece.
 */
void index_set_piece(struct index *, size_t bytes);

/*
 * Begins a merge of every segment into one, which drops killed versions'
 * postings and the terms that only they held; index_merge_step does it. 0
 * or an LMDB error code.
 */
int index_merge_all(struct index *, MDB_txn *txn);

/* Forgets the queued postings, after an aborted transaction. */
void index_reset(struct index *);

/*
 * Calls fn with the docno of each match until the limit, the last match, or
 * fn returning non-zero; *hits receives the number of calls. A listing (no
 * words) gives its matches newest first. A search gives them ranked by BM25
 * (title above summary above the rest; a word above its stem above a
 * prefix; a match by topic name last; ties newest first); with a limit, it
 * ranks the newest INDEX_RANK_MAX matches (or limit, if more): a query that
 * matches more finds the best of those, in bounded time (index_search.c).
 * A word of the text matches its own forms (stem.h); the last word of 4
 * letters or more, or one written "word*", every word it starts; and a
 * topic's name in any language, its topic. 0, or an LMDB error code
 * (EINVAL: too many words, too long a text, type, topic or language).
 */
typedef int index_hit_fn(uint32_t docno, void *arg);
int index_search(const struct index *, MDB_txn *txn, const struct index_query *, index_hit_fn *fn,
                 void *arg, size_t *hits);

/*
 * Counts the postings of one current version that the index holds, and how
 * many it should hold: equal counts mean it is fully indexed. For checks.
 */
int index_doc_check(const struct index *, MDB_txn *txn, const struct index_doc *, size_t *present,
                    size_t *expected);

/*
 * Reads the whole index, checking its order, and counts the postings of
 * versions not killed: with index_doc_check, a check that it holds exactly
 * the current versions. 0, or MDB_CORRUPTED or another LMDB error code.
 */
int index_check(const struct index *, MDB_txn *txn, size_t *live);

/*
 * Postings stored, those of killed versions not yet dropped included,
 * segments, and the bytes of the pages the index takes.
 */
int index_stats(const struct index *, MDB_txn *txn, size_t *postings, size_t *segments,
                size_t *bytes);

#endif
