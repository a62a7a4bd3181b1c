/*
 * index.h: the search index. The words of a record's text, folded, point to
 * the records that hold them, newest first; so do its type, its author and
 * its topics, so that a filter is one more word to intersect and a listing is
 * a search without words.
 *
 * store.c owns the LMDB environment and its transactions. The writer queues a
 * record's postings with index_add and index_remove while it writes the
 * record, and index_flush applies them, sorted, in the same transaction, so
 * the index is never ahead of or behind the records. Queries only read the
 * database handle and may run on any thread in any read transaction.
 */
#ifndef AGORA_INDEX_H
#define AGORA_INDEX_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#define INDEX_WORD_MAX  64   /* bytes of one folded word; longer words are cut */
#define INDEX_TEXT_MAX  1024 /* bytes of a query's text */
#define INDEX_WORDS_MAX 16   /* distinct words in a query */
#define INDEX_TOPIC_MAX 64   /* bytes of a topic name; longer ones are not indexed */

struct index;

/* A record version as the index sees it: its place in the lists is (timestamp, docno). */
struct index_doc {
	uint32_t docno; /* the record's number, the same for all its versions */
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
};

/* Opens (creating) the index's database in txn, a write transaction. NULL on failure. */
struct index *index_open(MDB_txn *txn);
void index_free(struct index *); /* NULL-safe */

/*
 * Queue the postings of a version that enters (index_add) or leaves
 * (index_remove) the index. 0, or ENOMEM or EINVAL (a body that is not
 * msgpack), in LMDB's style of error codes.
 */
int index_add(struct index *, const struct index_doc *);
int index_remove(struct index *, const struct index_doc *);

/* Applies the queued postings in txn and empties the queue. 0 or an LMDB error code. */
int index_flush(struct index *, MDB_txn *txn);

/* Forgets the queued postings, after an aborted transaction. */
void index_reset(struct index *);

/*
 * Calls fn with the docno of each match, newest first, until the limit, the
 * last match, or fn returning non-zero; *hits receives the number of calls.
 * 0, or an LMDB error code (EINVAL: too many words, too long a text, type
 * or topic).
 */
typedef int index_hit_fn(uint32_t docno, void *arg);
int index_search(const struct index *, MDB_txn *txn, const struct index_query *, index_hit_fn *fn,
                 void *arg, size_t *hits);

/*
 * Counts the postings of one version that the index holds, and how many it
 * should hold: equal counts mean the version is fully indexed. For checks.
 */
int index_doc_check(const struct index *, MDB_txn *txn, const struct index_doc *, size_t *present,
                    size_t *expected);

/* The number of postings in the index, for checks and statistics. */
int index_postings(const struct index *, MDB_txn *txn, size_t *count);

/*
 * Splits text into folded words: case, accents and compatibility forms
 * folded (NFKD, case folding, combining marks dropped), Arabic tatweel
 * dropped, alef maqsura and teh marbuta written as yeh and heh, Arabic-Indic
 * digits as ASCII. Words of one character are skipped. fn returning non-zero
 * stops; that value is returned.
 */
typedef int index_word_fn(const char *word, size_t len, void *arg);
int index_words(const char *text, size_t len, index_word_fn *fn, void *arg);

#endif
