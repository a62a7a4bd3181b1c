/*
 * bench_store.c: the store's figures for issue 3.
 *
 *   store.append_per_s       entries appended per second by the writer thread
 *                            (signatures made and checked beforehand, not
 *                            timed), in batches as they come from the network:
 *                            2,048 at a time (--batch sets another size; a
 *                            daemon in a large sync hands the store some
 *                            600, SYNC_APPLY_BYTES of verify jobs in
 *                            sync.c, split by STORE_TXN_BYTES): 100,000 entries of
 *                            10 authors, interleaved,
 *                            ~500-byte bodies, each prepared (store_prepare:
 *                            its hash and index terms) beforehand, as the
 *                            daemon's verify threads do; freeing the preps is
 *                            timed, as the loop thread does it
 *   store.append_per_cpu_s   the same appends per CPU second (user and system)
 *                            of this process, in which only the writer runs
 *                            then: steadier than the wall figure on a shared
 *                            machine, it leaves out waits for the disk
 *   store.write_bytes_per_entry
 *                            bytes the writer handed the kernel to write while
 *                            appending (wchar: LMDB writes whole pages), per
 *                            entry: what a batch costs in writes, tree pages
 *                            rewritten and index merges included. Not the
 *                            kernel's write_bytes, which counts a whole large
 *                            folio of the page cache for one page written
 *   store.prepare_per_s      store_prepare of those entries on one thread
 *   store.prepare_per_cpu_s  the same per CPU second: steadier on a shared machine
 *   store.append_unprepared_per_s
 *                            the same appends, into a new store, without
 *                            preps: the writer does all the work itself
 *   store.search_p50_ms      median time of a search over those 100,000
 *   store.search_p99_ms      records: one-word and three-word queries, each
 *                            with a filter (type, city or topic), 20 results
 *                            at most, each result decoded
 *   store.search_p99_cpu_ms  the 99th percentile of the CPU time the same
 *                            searches took (this thread's): on a loaded machine
 *                            the wall p99 counts the waits for a CPU too, a
 *                            time slice of another process being 4 ms or more
 *   store.db_bytes_per_entry disk blocks of data.mdb divided by the entries
 *   store.index_bytes_per_entry
 *                            bytes of the pages the search index takes (its
 *                            segments, blocks and dead list) per entry
 *
 * For issue 20's figures at scale: bench-store --entries 1000000 (about
 * ten minutes and 8 GB of memory; not the default run). BENCH_SLOW=MS in
 * the environment prints each query slower than MS milliseconds on stderr.
 *
 * The text is synthetic (textgen.c, shared with bench-sync's agora-fill):
 * words of Latin script (with accents) and of Arabic script drawn from a
 * 20,000-word vocabulary by a Zipf law, as words are in real text, so
 * postings lists have realistic lengths. Usage:
 * bench-store [--entries N] [--batch N] [--queries N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <msgpack.h>

#include "entry.h"
#include "key.h"
#include "log.h"
#include "schema.h"
#include "store.h"
#include "textgen.h"

#define AUTHORS 10

/* CPU seconds, user and system, this process has used. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Bytes this process has passed to write calls, or -1 if the kernel does not say. */
static double written(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	double v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %lf", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct author {
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	uint64_t seq;
	uint8_t head[AG_HASH_LEN];
};

/* n entries, author after author, signed and decoded as the network would give them. */
static struct ag_entry *entries_make(size_t n, struct author *au, const uint8_t network[32])
{
	struct ag_entry *es = calloc(n, sizeof(*es));
	msgpack_sbuffer sb;
	uint8_t buf[AG_HEADER_MAX];

	msgpack_sbuffer_init(&sb);
	for (size_t i = 0; es && i < n; i++) {
		struct author *a = &au[i % AUTHORS];
		struct ag_entry e = {.h = {.seq = a->seq + 1, .has_prev = a->seq > 0}};
		char id[32];
		size_t len;
		uint8_t *raw;

		strcpy(e.h.type, textgen_types[textgen_rnd() % TEXTGEN_NTYPES]);
		textgen_body(&sb, e.h.type);
		snprintf(id, sizeof(id), "rec-%zu", i);
		memcpy(e.h.network, network, 32);
		memcpy(e.h.author, a->pk, AG_PK_LEN);
		memcpy(e.h.prev, a->head, AG_HASH_LEN);
		e.h.id = id;
		e.h.id_len = strlen(id);
		e.h.timestamp = 1700000000000ull + i * 1000 + textgen_rnd() % 5000;
		e.body = (const uint8_t *)sb.data;
		e.body_len = sb.size;
		/* The header, then its body, in one allocation. */
		if (ag_entry_sign(&e, a->sk, buf, sizeof(buf), &len) != 0 ||
		    !(raw = malloc(len + sb.size)))
			abort();
		memcpy(raw, buf, len);
		memcpy(raw + len, sb.data, sb.size);
		if (ag_entry_open(&es[i], raw, len, raw + len, sb.size, NULL, NULL) != 0 ||
		    ag_header_verify(&es[i].h, network) != 0 ||
		    ag_schema_check(es[i].h.type, es[i].h.id, es[i].h.id_len, es[i].body,
		                    es[i].body_len, NULL, 0) != 0)
			abort();
		a->seq = e.h.seq;
		ag_entry_hash(&es[i], a->head);
	}
	msgpack_sbuffer_destroy(&sb);
	return es;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int hit(const struct ag_entry *e, void *arg)
{
	*(size_t *)arg += e->body_len;
	return 0;
}

static double search_bench(struct store *st, struct author *au, int nq, double *p99,
                           double *p99_cpu)
{
	double *t = calloc((size_t)nq, sizeof(*t)), *c = calloc((size_t)nq, sizeof(*c)), p50;
	size_t sink = 0;

	for (int i = 0; i < nq; i++) {
		char text[256] = "";
		struct index_query q = {.text = text, .limit = 20};
		int words = i % 2 ? 3 : 1;
		double t0, c0;

		for (int w = 0; w < words; w++) {
			strcat(text, textgen_word());
			strcat(text, " ");
		}
		switch (textgen_rnd() % 3) {
		case 0:
			q.type = textgen_types[textgen_rnd() % TEXTGEN_NTYPES];
			break;
		case 1:
			q.author = au[textgen_rnd() % AUTHORS].pk;
			break;
		default:
			q.topic = textgen_topics[textgen_rnd() % TEXTGEN_NTOPICS];
		}
		t0 = now();
		c0 = thread_cpu();
		if (store_search(st, &q, hit, &sink) < 0)
			exit(1);
		c[i] = (thread_cpu() - c0) * 1e3;
		t[i] = (now() - t0) * 1e3;
		if (getenv("BENCH_SLOW") && t[i] > atof(getenv("BENCH_SLOW")))
			fprintf(stderr, "%.2f ms (%.2f ms CPU): %s| type %s topic %s city %d\n",
			        t[i], c[i], text, q.type ? q.type : "-", q.topic ? q.topic : "-",
			        q.author != NULL);
	}
	qsort(t, (size_t)nq, sizeof(*t), dbl_cmp);
	qsort(c, (size_t)nq, sizeof(*c), dbl_cmp);
	p50 = t[nq / 2];
	*p99 = t[(size_t)(nq * 0.99)];
	*p99_cpu = c[(size_t)(nq * 0.99)];
	free(t);
	free(c);
	return p50;
}

/*
 * Appends the n entries in batches, with their preps if prep is not NULL,
 * freeing each batch's preps after it as the daemon does. Returns the
 * seconds taken, or -1.
 */
static double append_all(struct store *st, const struct ag_entry *es, struct store_prep *prep,
                         size_t n, size_t batch, struct store_result *res)
{
	double t0 = now();

	for (size_t i = 0; i < n; i += batch) {
		size_t k = n - i < batch ? n - i : batch;

		if (store_append_prepared(st, es + i, prep ? prep + i : NULL, k, res) != 0)
			return -1;
		for (size_t j = 0; j < k; j++) {
			if (res[j].status != STORE_STORED)
				return -1;
			if (prep)
				store_prep_clear(&prep[i + j]);
		}
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	size_t n = 100000, batch = 2048;
	int nq = 2000;
	struct author au[AUTHORS] = {{{0}}};
	uint8_t network[32];
	char tmpl[] = "/tmp/agora-bench-store-XXXXXX", path[256], cmd[300];
	struct ag_entry *es;
	struct store_prep *prep;
	struct store_result *res;
	struct store *st;
	struct stat sbuf;
	struct store_stats stats;
	double t0, t1, c0, c1, w0, w1, p50, p99, p99_cpu, tprep, cprep, tplain;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--entries") == 0)
			n = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0)
			batch = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--queries") == 0)
			nq = atoi(argv[i + 1]);
	}
	if (ag_init() != 0 || !mkdtemp(tmpl))
		return 1;
	log_set_level(LOG_LEVEL_WARN);
	ag_network_default(network);
	for (int i = 0; i < AUTHORS; i++)
		ag_key_generate(au[i].pk, au[i].sk);
	textgen_init();
	es = entries_make(n, au, network);
	res = calloc(batch, sizeof(*res));
	prep = calloc(n, sizeof(*prep));
	if (!es || !res || !prep)
		return 1;

	snprintf(path, sizeof(path), "%s/plain", tmpl);
	if (!(st = store_open(path, 0)) || (tplain = append_all(st, es, NULL, n, batch, res)) < 0)
		return 1;
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		return 1;

	t0 = now();
	c0 = cpu_now();
	for (size_t i = 0; i < n; i++)
		if (store_prepare(&prep[i], &es[i]) != 0)
			return 1;
	tprep = now() - t0;
	cprep = cpu_now() - c0;
	snprintf(path, sizeof(path), "%s/data", tmpl);
	if (!(st = store_open(path, 0)))
		return 1;
	w0 = written();
	c0 = cpu_now();
	t0 = now();
	if (append_all(st, es, prep, n, batch, res) < 0)
		return 1;
	t1 = now();
	c1 = cpu_now();
	w1 = written();
	p50 = search_bench(st, au, nq, &p99, &p99_cpu);
	if (store_stats(st, &stats) != 0)
		return 1;
	store_close(st);
	snprintf(path, sizeof(path), "%s/data/data.mdb", tmpl);
	if (stat(path, &sbuf) != 0)
		return 1;

	printf("store.append_per_s: %.0f\n", (double)n / (t1 - t0));
	printf("store.append_per_cpu_s: %.0f\n", (double)n / (c1 - c0));
	if (w0 >= 0 && w1 >= 0)
		printf("store.write_bytes_per_entry: %.0f\n", (w1 - w0) / (double)n);
	printf("store.prepare_per_s: %.0f\n", (double)n / tprep);
	printf("store.prepare_per_cpu_s: %.0f\n", (double)n / cprep);
	printf("store.append_unprepared_per_s: %.0f\n", (double)n / tplain);
	printf("store.search_p50_ms: %.3f\n", p50);
	printf("store.search_p99_ms: %.3f\n", p99);
	printf("store.search_p99_cpu_ms: %.3f\n", p99_cpu);
	printf("store.db_bytes_per_entry: %.0f\n", (double)sbuf.st_blocks * 512 / (double)n);
	printf("store.index_bytes_per_entry: %.0f\n", (double)stats.index / (double)n);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	for (size_t i = 0; i < n; i++)
		free((void *)(uintptr_t)es[i].h.raw);
	free(es);
	free(res);
	free(prep);
	return system(cmd) == 0 ? 0 : 1;
}
