/*
 * index_internal.h: what the index's files share (index.c says which is
 * which): the posting and term formats, the queue, segments' readers and
 * writers. Only the index's own files include it.
 */
#ifndef AGORA_INDEX_INTERNAL_H
#define AGORA_INDEX_INTERNAL_H

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "bytes.h"
#include "entry.h"
#include "index.h"
#include "stem.h"

#define POST_LEN     11                /* a posting: its key, then its weight in ranking */
#define POST_KEY     10                /* the bytes that order postings and name a version */
#define POST_ENC_MAX 13                /* a posting encoded in a block (index_post.c), at most */
#define TS_MAX       0xffffffffffffULL /* 48 bits of milliseconds: year 10889 */
#define TERM_MAX     (2 + INDEX_WORD_MAX)
#define TERM_ALL     "\1*"
#define BODY_DEPTH   (AG_DEPTH_MAX - 1)
#define BLOCK_MAX    4080 /* a block fills one 4 KiB overflow page */
#define FANIN        16   /* segments of a tier merged at once */
#define SEGS_MAX     256
#define SEGS_CROWD   48  /* segments past which a merge that is due cannot wait (index_merge_due) */
#define SEGS_FULL    224 /* nor even for a bulk sync (INDEX_DUE_FULL) */
#define SEGKEY_MAX   (4 + TERM_MAX)
#define BM25_K1      1.2
#define BM25_B       0.75
#define BM25_AVGLEN  80.0 /* words in a record, about */

/*
 * A term of one version, before the queue; its bytes follow it, padded to 4.
 * Eight bytes, not more: thousands of versions' terms wait in memory for
 * the writer during a sync (about a hundred per version).
 */
struct tref {
	uint32_t hash;
	uint16_t tf;    /* its occurrences, each counted by its field's weight (saturating); 0 for a
	                   filter */
	uint8_t len;    /* at most TERM_MAX */
	uint8_t weight; /* its posting's last byte: tf against the version's length, BM25's way */
};

/*
 * The distinct terms of one version, in the order the body first gives
 * them: one allocation, so that index_prepare's work costs the writer one
 * free.
 */
struct index_terms {
	size_t n;        /* terms */
	size_t len, cap; /* bytes used and allocated in data */
	size_t words;    /* the version's words, repeats included: its length for ranking */
	uint64_t data[]; /* trefs, each followed by its bytes */
};

/* A term waiting in the queue; its bytes are in the arena. */
struct pterm {
	uint64_t pfx, pfx2;
	uint32_t off;
	uint8_t len;
};

/*
 * A slot of the intern table. It holds enough of its term (8 bytes, hash
 * and length) that a lookup of a short term reads nothing else, and of a
 * longer one only its queued term (struct pterm), which a frequent word
 * keeps in the cache. Sixteen bytes, so that the table of a transaction's
 * thousands of terms stays in the cache too.
 */
struct slot {
	uint64_t pfx;
	uint32_t hl;   /* the hash, its low byte replaced by the length */
	uint32_t term; /* index + 1, 0 for an empty slot */
};

/* A term being sorted: its first 8 bytes, and its number. */
struct tkey {
	uint64_t pfx;
	uint32_t t;
};

/* A version waiting in the queue: its posting, and where its terms end in ops. */
struct qdoc {
	uint8_t val[POST_LEN];
	uint8_t killed;
	uint32_t docno;
	uint32_t end;
};

struct merge;

struct index {
	MDB_dbi segs, blocks, dead;
	char *arena;
	size_t arena_len, arena_cap;
	struct pterm *terms;
	size_t nterms, terms_cap;
	struct slot *slots; /* open addressing */
	size_t nslots;
	struct qdoc *docs;
	size_t ndocs, docs_cap;
	uint32_t *ops; /* the terms of each doc in turn, no repeats */
	size_t nops, ops_cap;
	uint8_t *opw; /* the weight of each of ops */
	size_t opw_cap;
	struct index_terms *scratch; /* the terms of the version being added */
	uint32_t *order, *start;     /* scratch for index_flush, per term */
	struct tkey *keys, *ktmp;
	size_t scratch_cap;
	uint32_t *grp; /* doc numbers grouped by term */
	size_t grp_cap;
	uint8_t *grpw; /* and their weights */
	size_t grpw_cap;
	uint32_t *dorder; /* doc numbers in posting order */
	size_t dorder_cap;
	uint32_t first_docno; /* the docnos queued in this transaction, 0 for none */
	uint32_t last_docno;
	uint32_t *killed; /* queued docnos that are no longer current */
	size_t nkilled, killed_cap;
	struct merge *merge; /* the merge under way (index_merge_step), NULL for none */
	int due;             /* merge work may be left: a merge stopped, or garbage to drop */
	size_t piece;        /* bytes a transaction of a merge writes, about */
};

/* A term of a version, and its weight: the weight of its field for a word, 0 for a filter. */
typedef int term_fn(const char *term, size_t len, unsigned weight, void *arg);

/* Postings compare as 80-bit big-endian numbers; this runs in every inner loop. */
static inline int post_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x = be64_get(a), y = be64_get(b);

	if (x != y)
		return x < y ? -1 : 1;
	x = (uint64_t)a[8] << 8 | a[9];
	y = (uint64_t)b[8] << 8 | b[9];
	return (x > y) - (x < y);
}

static inline int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, n * size)))
		return ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static inline void posting_make(uint8_t out[static POST_LEN], uint64_t ts, uint32_t docno)
{
	uint64_t inv = TS_MAX - (ts < TS_MAX ? ts : TS_MAX);

	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(inv >> (40 - 8 * i));
	be32_put(out + 6, docno);
}

static inline uint32_t posting_docno(const uint8_t *v)
{
	return be32_get(v + 6);
}

static inline int term_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static inline long u32_find(const uint32_t *a, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == x ? (long)lo : -1;
}

static inline uint32_t term_hl(uint32_t hash, size_t len)
{
	return (hash & ~0xffu) | (uint32_t)len;
}

static inline size_t tref_size(size_t len)
{
	return sizeof(struct tref) + ((len + 3) & ~(size_t)3);
}

/* A term's bytes from off, 8 of them, big endian, zero padded: most comparisons end there. */
static inline uint64_t term_prefix(const char *t, size_t len, size_t off)
{
	return len > off ? __builtin_bswap64(ag_le_load(t + off, len - off < 8 ? len - off : 8))
	                 : 0;
}

static inline const struct tref *tref_next(const struct tref *r)
{
	return (const struct tref *)((const uint8_t *)r + tref_size(r->len));
}

static inline const struct tref *tref_at(const struct index_terms *l, uint32_t off)
{
	return (const struct tref *)((const uint8_t *)l->data + off);
}

struct seginfo {
	uint32_t seg;
	int tier;
	uint64_t npost;
	uint32_t lo, hi; /* the docnos it may hold */
};

/* Writes the blocks of one new segment, in key order. */
struct writer {
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t seg[4];
	uint8_t key[SEGKEY_MAX];
	size_t klen;
	uint8_t *buf;
	size_t len, cap;
	uint8_t term[TERM_MAX]; /* the entry begun, its postings whole in post */
	size_t tlen;
	uint8_t *post, *enc;
	size_t post_cap, enc_cap;
	uint64_t npost;
	size_t written; /* bytes of blocks put: what the transaction has dirtied */
	unsigned flags; /* of mdb_put: MDB_APPEND for a segment that no other follows */
};

/*
 * Reads a segment's entries in term order. Each block is copied: writes in
 * the same transaction may move the database's dirty pages.
 */
struct reader {
	uint8_t seg[4];
	uint8_t key[SEGKEY_MAX];
	size_t klen;
	uint8_t *blk;
	size_t blen, bcap, pos;
	const uint8_t *term;
	size_t tlen;
	uint8_t *post; /* the entry's postings, decoded */
	size_t post_cap;
	uint32_t n;
	int started, done;
};

/* Docnos in "dead", sorted, with a mark for each one a merge drops. */
struct dead_set {
	uint32_t *d;
	uint8_t *seen;
	size_t n, cap;
};

/* A term's postings in one segment, and how far a search has read them. */
struct run {
	const uint8_t *p;
	size_t n, i;
};

/* ---- index_terms.c ---- */

/* A filter term: 0x01, a kind letter, a value. Returns its length. */
size_t index_term_make(char out[static TERM_MAX], char kind, const void *v, size_t n);

/*
 * Calls fn for every term of a version, repeats included: its words, the
 * stems of its words ("\2" and the stem, whatever its language), and its filters
 * ("\1" and a letter: '*' every record, 't' type, 'a' author, 'p' topic,
 * 'l' a language its text is in). *words, if words is not NULL, receives
 * how many words it holds.
 */
int index_doc_terms(const struct index_doc *d, term_fn *fn, void *arg, size_t *words);

/*
 * This thread's stemmers (Snowball's keep state, and a cache of stems
 * that makes them cheap): made at first use, freed when the thread ends.
 * NULL when out of memory.
 */
struct ag_stemmer *index_stemmer(void);

/* The stem term of an Arabic word with its first letter kept (ag_stem_whole), or 0. */
size_t index_stem_whole_term(struct ag_stemmer *st, const char *word, size_t len,
                             char out[static TERM_MAX]);

/* The stem term of a folded word in lang into out: its length, 0 when it has none. */
size_t index_stem_term(struct ag_stemmer *st, enum ag_lang lang, const char *word, size_t len,
                       char out[static TERM_MAX]);

/* Gathers d's distinct terms into *lp, emptied first; it may move. */
int index_terms_gather(const struct index_doc *d, struct index_terms **lp);
struct index_terms *index_terms_new(size_t cap);

/* ---- index_post.c ---- */

/* A term's entry in a block, its postings still encoded. */
struct entry {
	const uint8_t *term, *enc;
	size_t tlen, elen;
	uint32_t n;
};

/* The bytes index_entry_encode may write for a term of tlen bytes and n postings. */
#define ENTRY_MAX(tlen, n) (1 + (tlen) + 20 + (size_t)(n)*POST_ENC_MAX)

/* Writes term's entry with its n postings (whole, POST_LEN each) into out; returns its length. */
size_t index_entry_encode(uint8_t *out, const void *term, size_t tlen, const uint8_t *post,
                          size_t n);

/* Parses the entry at *pos of a block, and moves *pos past it. 0 or MDB_CORRUPTED. */
int index_entry_parse(const uint8_t *b, size_t len, size_t *pos, struct entry *e);

/* Decodes e's postings into out, room for e->n whole ones. 0 or MDB_CORRUPTED. */
int index_entry_postings(const struct entry *e, uint8_t *out);

/* ---- index_seg.c ---- */

/* Buffers of decoded postings that a search's runs point into, freed with it. */
struct postbuf {
	uint8_t **v;
	size_t n, cap;
};
void index_postbuf_free(struct postbuf *pb);

/* The segments, oldest first; a segment's entry. */
int index_catalog_load(const struct index *ix, MDB_txn *txn, struct seginfo *out, size_t *n);
int index_catalog_put(struct index *ix, MDB_txn *txn, const struct seginfo *si);

/*
 * Starts term's entry, with room for n postings: *post receives where they
 * go, whole (POST_LEN each), so they are put in place, not copied.
 * index_writer_end says how many there are and encodes them into the block
 * (a block that has no room left for them is written first);
 * index_writer_emit writes the last block; index_writer_free frees the
 * writer's buffers.
 */
int index_writer_begin(struct writer *w, const void *term, size_t tlen, size_t n, uint8_t **post);
int index_writer_end(struct writer *w, size_t m);
int index_writer_emit(struct writer *w);
void index_writer_free(struct writer *w);

/* The reader's next entry, its postings decoded; r->done at the segment's end. */
int index_reader_next(struct reader *r, MDB_cursor *c);

/* The dead docnos from lo to hi: only those a merge of segments holding that range can meet. */
int index_dead_load(const struct index *ix, MDB_txn *txn, uint32_t lo, uint32_t hi,
                    struct dead_set *ds);
void index_dead_free(struct dead_set *ds);

/*
 * The number for a new segment: past the catalog's last and past every
 * block's, so that MDB_APPEND holds and no segment left unregistered
 * (index_merge_step) is written into.
 */
int index_seg_next(const struct index *ix, MDB_txn *txn, uint32_t *seg);

/* Deletes every block of a segment that the catalog does not name (index_open). */
int index_orphans_drop(struct index *ix, MDB_txn *txn);

/*
 * Finds term in segment seg: *run is empty if the segment lacks it. Its
 * postings are decoded into a buffer that pb keeps; with pb NULL, only
 * run->n is set.
 */
int index_seg_find(MDB_cursor *c, uint32_t seg, const void *term, size_t tlen, struct run *run,
                   struct postbuf *pb);

/* Moves r to its first posting at or after cand, galloping: cand only grows. */
void index_run_seek(struct run *r, const uint8_t *cand);

/* A term with a prefix, and its postings in one segment, decoded into a buffer pb keeps. */
typedef int index_prefix_fn(const uint8_t *term, size_t len, const uint8_t *post, uint32_t n,
                            void *arg);
int index_seg_prefix(MDB_cursor *c, uint32_t seg, const void *prefix, size_t plen,
                     struct postbuf *pb, index_prefix_fn *fn, void *arg);

/* Whether docno is dead: *dead. 0 or an LMDB error. */
int index_is_dead(const struct index *ix, MDB_txn *txn, uint32_t docno, int *dead);

/* ---- index_topics.c ---- */

/*
 * The topics that a folded query word names in one of the network's
 * languages ("logement", "housing", "سكن", "vivienda", "alloggio"), or by
 * their key: their keys into keys, at most max; returns how many.
 */
size_t index_topics_named(struct ag_stemmer *st, const char *word, size_t len, const char **keys,
                          size_t max);

#endif
