/*
 * bench_entries.c: entries (format 2: a header and its body) signed, and
 * decoded + body checked + verified, per second, beside
 * the bare Ed25519 verify rate on the same messages in the same run.
 * Prints "name: value" lines only.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"

#define N      4000
#define ROUNDS 5

struct signed_entry {
	uint8_t raw[AG_HEADER_MAX];
	size_t len;
	uint8_t body[600];
	size_t body_len;
	uint8_t msg[AG_HEADER_MAX]; /* fields 0..9 as signed */
	size_t msg_len;
	uint8_t sig[64];
	uint8_t pk[32];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A ~500-byte body: {"summary": <480 chars>, "title": ..., "topics": [...]}. */
static size_t make_body(uint8_t *b, unsigned i)
{
	size_t n = 0;

	b[n++] = 0x83;
	memcpy(b + n, "\xa7summary\xda\x01\xe0", 11);
	n += 11;
	memset(b + n, 'a' + (char)(i % 26), 480);
	n += 480;
	n += (size_t)sprintf((char *)b + n, "\xa5title\xa8title%03u", i % 1000);
	memcpy(b + n, "\xa6topics\x91\xa7housing", 16);
	return n + 16;
}

static double bench_sign(struct signed_entry *out, const uint8_t sk[64], const uint8_t pk[32])
{
	uint8_t network[32], prev[32] = {0};
	double t0 = now();

	ag_network_default(network);
	for (unsigned i = 0; i < N; i++) {
		struct ag_entry e = {.h = {.seq = i + 1, .timestamp = 1700000000000ull + i}};
		char id[16];

		memcpy(e.h.network, network, 32);
		memcpy(e.h.author, pk, 32);
		e.h.has_prev = i > 0;
		memcpy(e.h.prev, prev, 32);
		strcpy(e.h.type, "practice");
		e.h.id_len = (size_t)snprintf(id, sizeof(id), "p-%u", i);
		e.h.id = id;
		e.body_len = out[i].body_len = make_body(out[i].body, i);
		e.body = out[i].body;
		int rc = ag_entry_sign(&e, sk, out[i].raw, sizeof(out[i].raw), &out[i].len);
		if (rc != 0) {
			fprintf(stderr, "sign: %s\n", ag_strerror(rc));
			abort();
		}
		ag_entry_hash(&e, prev);
	}
	return N / (now() - t0);
}

static double bench_verify(const struct signed_entry *in, const uint8_t network[32])
{
	double t0 = now();

	for (unsigned i = 0; i < N; i++) {
		struct ag_entry e;

		if (ag_entry_open(&e, in[i].raw, in[i].len, in[i].body, in[i].body_len, NULL,
		                  NULL) != 0 ||
		    ag_header_verify(&e.h, network) != 0)
			abort();
	}
	return N / (now() - t0);
}

static double bench_bare(const struct signed_entry *in)
{
	double t0 = now();

	for (unsigned i = 0; i < N; i++)
		if (crypto_sign_verify_detached(in[i].sig, in[i].msg, in[i].msg_len, in[i].pk) != 0)
			abort();
	return N / (now() - t0);
}

/* The bare messages: exactly what the signature covers, prepared outside the timing. */
static void prepare_bare(struct signed_entry *s, const uint8_t pk[32])
{
	for (unsigned i = 0; i < N; i++) {
		s[i].msg_len = s[i].len - 66;
		s[i].msg[0] = 0x9a;
		memcpy(s[i].msg + 1, s[i].raw + 1, s[i].msg_len - 1);
		memcpy(s[i].sig, s[i].raw + s[i].len - 64, 64);
		memcpy(s[i].pk, pk, 32);
	}
}

int main(void)
{
	uint8_t pk[32], sk[64], network[32];
	struct signed_entry *s = calloc(N, sizeof(*s));
	double sign = 0, verify = 0, bare = 0, r;

	if (!s || ag_init() != 0)
		return 1;
	ag_key_generate(pk, sk);
	ag_network_default(network);
	/* Best of interleaved rounds, so a noisy neighbour hurts both rates alike. */
	for (int round = 0; round < ROUNDS; round++) {
		if ((r = bench_sign(s, sk, pk)) > sign)
			sign = r;
		if (round == 0)
			prepare_bare(s, pk);
		if ((r = bench_verify(s, network)) > verify)
			verify = r;
		if ((r = bench_bare(s)) > bare)
			bare = r;
	}
	printf("entries.sign_per_s: %.0f\n", sign);
	printf("entries.verify_per_s: %.0f\n", verify);
	printf("entries.bare_verify_per_s: %.0f\n", bare);
	printf("entries.verify_ratio: %.3f\n", verify / bare);
	sodium_memzero(sk, sizeof(sk));
	free(s);
	return 0;
}
