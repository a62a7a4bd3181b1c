/*
 * bench_index.c: the CPU that the search index's writer spends, apart from
 * everything else a store or a sync does, so that a change to it shows
 * through the noise of a shared machine (issue 21).
 *
 *   index.queue_us_per_version  index_add_terms of a version whose terms
 *                               were prepared beforehand (index_prepare, as
 *                               the daemon's verify threads do; not timed)
 *   index.flush_us_per_version  index_flush of a transaction's queue, one
 *                               new segment, per version in it
 *   index.merge_us_per_version  index_merge_step's merge of those sixteen
 *                               segments (one tier) into one, per version
 *
 * Sixteen transactions of 315 versions each, as bench-sync's receiver
 * writes them: textgen's multilingual text, ten authors taking turns at
 * one timestamp each, so that segments tie at their ends. CPU time of this
 * thread, the least of ROUNDS rounds, each in a new database. Prints
 * "name: value" lines only. Usage: bench-index [--rounds N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <msgpack.h>

#include "index.h"
#include "textgen.h"

#define SEGS   16
#define DOCS   315
#define ROUNDS 5

struct figures {
	double queue, flush, merge; /* CPU seconds */
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Queues and flushes one transaction's versions, from *docno on. */
static int fill_one(MDB_env *env, struct index *ix, uint32_t *docno, struct figures *f)
{
	static const uint8_t authors[10][32] = {{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}};
	MDB_txn *txn;
	double t0;
	int rc;

	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return -1;
	for (int i = 0; i < DOCS; i++, (*docno)++) {
		const char *type = textgen_types[*docno % TEXTGEN_NTYPES];
		struct index_terms *l;
		msgpack_sbuffer sb;

		msgpack_sbuffer_init(&sb);
		textgen_body(&sb, type);
		struct index_doc d = {*docno,
		                      1700000000000ull + (*docno - 1) / 10,
		                      type,
		                      authors[*docno % 10],
		                      (const uint8_t *)sb.data,
		                      sb.size};

		rc = index_prepare(&d, &l);
		t0 = thread_cpu();
		if (rc == 0)
			rc = index_add_terms(ix, &d, l);
		f->queue += thread_cpu() - t0;
		index_terms_free(l);
		msgpack_sbuffer_destroy(&sb);
		if (rc != 0)
			goto fail;
	}
	t0 = thread_cpu();
	rc = index_flush(ix, txn);
	f->flush += thread_cpu() - t0;
	if (rc == 0)
		return mdb_txn_commit(txn) == 0 ? 0 : -1;
fail:
	mdb_txn_abort(txn);
	return -1;
}

/* Runs the merge that the sixteen segments call for, each piece committed. */
static int merge_run(MDB_env *env, struct index *ix, struct figures *f)
{
	int more = 1, rc = 0;

	while (more && rc == 0) {
		MDB_txn *txn;
		double t0;

		if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
			return -1;
		t0 = thread_cpu();
		rc = index_merge_step(ix, txn, &more);
		f->merge += thread_cpu() - t0;
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	return rc;
}

/* One round in a new database at path. */
static int round_run(const char *path, struct figures *f)
{
	MDB_env *env;
	MDB_txn *txn;
	struct index *ix = NULL;
	uint32_t docno = 1;
	int rc = -1;

	if (mdb_env_create(&env) != 0)
		return -1;
	if (mdb_env_set_maxdbs(env, 8) != 0 || mdb_env_set_mapsize(env, 1u << 30) != 0 ||
	    mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOSYNC, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0)
		goto out;
	if (!(ix = index_open(txn)) || mdb_txn_commit(txn) != 0)
		goto out;
	textgen_seed(21);
	for (int s = 0; s < SEGS; s++)
		if (fill_one(env, ix, &docno, f) != 0)
			goto out;
	rc = merge_run(env, ix, f);
out:
	index_free(ix);
	mdb_env_close(env);
	return rc;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/agora-bench-index-XXXXXX", path[64], lock[80];
	struct figures best = {1e9, 1e9, 1e9};
	int rounds = ROUNDS;

	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(path, sizeof(path), "%s/index.mdb", tmpl);
	snprintf(lock, sizeof(lock), "%s-lock", path);
	textgen_init();
	for (int r = 0; r < rounds; r++) {
		struct figures f = {0, 0, 0};

		if (round_run(path, &f) != 0 || unlink(path) != 0 || unlink(lock) != 0)
			return 1;
		best.queue = f.queue < best.queue ? f.queue : best.queue;
		best.flush = f.flush < best.flush ? f.flush : best.flush;
		best.merge = f.merge < best.merge ? f.merge : best.merge;
	}
	printf("index.queue_us_per_version: %.2f\n", best.queue * 1e6 / (SEGS * DOCS));
	printf("index.flush_us_per_version: %.2f\n", best.flush * 1e6 / (SEGS * DOCS));
	printf("index.merge_us_per_version: %.2f\n", best.merge * 1e6 / (SEGS * DOCS));
	return rmdir(tmpl) == 0 ? 0 : 1;
}
