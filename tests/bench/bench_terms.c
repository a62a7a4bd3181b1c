/*
 * bench_terms.c: the CPU that a body's index terms take (index_prepare: the
 * fold, the stems, the gathering without repeats), apart from the rest of
 * store_prepare, and a digest of every term, tf and weight it gave, so that
 * a change meant to make the terms cheaper is shown to change none of them
 * (issue 21): run it before and after, and compare the digests.
 *
 *   terms.prepare_us_per_body  index_prepare of one of textgen's bodies,
 *                              in this thread's CPU time over all of them,
 *                              the least of ROUNDS rounds
 *   terms.mp_check_us_per_body ag_mp_check of the body, the canonical msgpack
 *                              and UTF-8 walk of the receiver's body check
 *   terms.per_body             distinct terms a body gives, on average
 *   terms.words_per_body       its words, repeats included
 *   terms.digest               BLAKE2b of each body's words and terms, in
 *                              order: each term's bytes, tf and weight
 *
 * Usage: bench-terms [--bodies N] (20,000 by default)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <sodium.h>

#include "index.h"
#include "index_internal.h"
#include "mp.h"
#include "textgen.h"

#define ROUNDS 3

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A version's terms into the digest: the fields, not the padding between them. */
static void digest_terms(crypto_generichash_state *st, const struct index_terms *l)
{
	const struct tref *r = (const struct tref *)l->data;
	uint64_t head[2] = {l->n, l->words};

	crypto_generichash_update(st, (const uint8_t *)head, sizeof(head));
	for (size_t i = 0; i < l->n; i++, r = tref_next(r)) {
		uint8_t f[4] = {r->len, r->weight, (uint8_t)(r->tf >> 8), (uint8_t)r->tf};

		crypto_generichash_update(st, f, sizeof(f));
		crypto_generichash_update(st, (const uint8_t *)(r + 1), r->len);
	}
}

int main(int argc, char **argv)
{
	static const uint8_t author[32] = {7};
	size_t nbodies = 20000;
	msgpack_sbuffer *bodies;
	struct index_terms **lists;
	double best = 0, check = 0;
	size_t terms = 0, words = 0;
	uint8_t digest[32];

	if (argc == 3 && strcmp(argv[1], "--bodies") == 0)
		nbodies = strtoul(argv[2], NULL, 10);
	if (nbodies == 0 || sodium_init() < 0 || !(bodies = calloc(nbodies, sizeof(*bodies))) ||
	    !(lists = calloc(nbodies, sizeof(*lists))))
		return 1;
	textgen_init();
	for (size_t i = 0; i < nbodies; i++) {
		msgpack_sbuffer_init(&bodies[i]);
		textgen_body(&bodies[i], textgen_types[i % TEXTGEN_NTYPES]);
	}
	for (int round = 0; round < ROUNDS; round++) {
		double t0 = thread_cpu(), cpu;

		for (size_t i = 0; i < nbodies; i++)
			if (ag_mp_check((const uint8_t *)bodies[i].data, bodies[i].size, 8, NULL) !=
			    0)
				return 1;
		cpu = thread_cpu() - t0;
		if (round == 0 || cpu < check)
			check = cpu;
	}
	for (int round = 0; round < ROUNDS; round++) {
		crypto_generichash_state st;
		double t0 = thread_cpu(), cpu;

		/* Timed whole, the lists kept: a clock read per body cost more than a tenth of it.
		 */
		for (size_t i = 0; i < nbodies; i++) {
			const char *type = textgen_types[i % TEXTGEN_NTYPES];
			struct index_doc d = {(uint32_t)i + 1,
			                      1700000000000ull + i,
			                      type,
			                      author,
			                      (const uint8_t *)bodies[i].data,
			                      bodies[i].size};
			int rc = index_prepare(&d, &lists[i]);

			if (rc != 0) {
				fprintf(stderr, "bench-terms: index_prepare: %d\n", rc);
				return 1;
			}
		}
		cpu = thread_cpu() - t0;
		if (round == 0 || cpu < best)
			best = cpu;
		crypto_generichash_init(&st, NULL, 0, sizeof(digest));
		for (size_t i = 0; i < nbodies; i++) {
			digest_terms(&st, lists[i]);
			terms += lists[i]->n;
			words += lists[i]->words;
			index_terms_free(lists[i]);
		}
		crypto_generichash_final(&st, digest, sizeof(digest));
	}
	printf("terms.mp_check_us_per_body: %.3f\n", check * 1e6 / (double)nbodies);
	printf("terms.prepare_us_per_body: %.2f\n", best * 1e6 / (double)nbodies);
	printf("terms.per_body: %.1f\n", (double)terms / ROUNDS / (double)nbodies);
	printf("terms.words_per_body: %.1f\n", (double)words / ROUNDS / (double)nbodies);
	printf("terms.digest: ");
	for (size_t i = 0; i < sizeof(digest); i++)
		printf("%02x", digest[i]);
	printf("\n");
	for (size_t i = 0; i < nbodies; i++)
		msgpack_sbuffer_destroy(&bodies[i]);
	free(bodies);
	free(lists);
	return 0;
}
