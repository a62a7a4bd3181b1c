/*
 * fill.c: `agora-fill DIR N [BODY_BYTES|text [AUTHOR_DIR]]` writes
 * N practice records of the feed of the node in DIR (or of AUTHOR_DIR's key,
 * as if received from it) straight into DIR's store (agorad must not be
 * running), signed here and appended in transactions of 1,000 as a sync would.
 * Each body's summary is one word of BODY_BYTES letters (400), or with
 * `text` multilingual text of about 500 bytes (tests/bench/textgen.c, as
 * bench-store's), different for each author. The feed must be empty. For
 * tests and benchmarks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <msgpack.h>
#include <sodium.h>

#include "config.h"
#include "entry.h"
#include "keyfile.h"
#include "store.h"
#include "textgen.h"

/* body_bytes 0: textgen's text. */
static size_t make_body(uint8_t *buf, size_t cap, unsigned i, size_t body_bytes)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char title[64], *text;
	size_t n;

	if (body_bytes == 0) {
		msgpack_sbuffer_init(&sb);
		textgen_body(&sb, "practice");
		n = sb.size < cap ? sb.size : 0;
		memcpy(buf, sb.data, n);
		msgpack_sbuffer_destroy(&sb);
		return n;
	}
	text = malloc(body_bytes + 1);
	memset(text, 'a' + (int)(i % 26), body_bytes);
	text[body_bytes] = '\0';
	snprintf(title, sizeof(title), "practice %u", i);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "summary", 7);
	msgpack_pack_str_with_body(&pk, text, body_bytes);
	msgpack_pack_str_with_body(&pk, "title", 5);
	msgpack_pack_str_with_body(&pk, title, strlen(title));
	msgpack_pack_str_with_body(&pk, "topics", 6);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, "housing", 7);
	n = sb.size < cap ? sb.size : 0;
	memcpy(buf, sb.data, n);
	msgpack_sbuffer_destroy(&sb);
	free(text);
	return n;
}

#define BATCH 1000

/* Signs entries seq from..from+n-1 into bufs, chained from prev, and appends them at once. */
static int fill_batch(struct store *st, const struct config *cfg, const uint8_t pk[32],
                      const uint8_t sk[64], uint64_t from, unsigned n, size_t body_bytes,
                      uint8_t prev[32], uint8_t (*bufs)[2048], struct ag_entry *es)
{
	static struct store_result res[BATCH];
	char id[32];
	size_t len, blen;

	for (unsigned i = 0; i < n; i++) {
		struct ag_entry *e = &es[i];
		uint64_t seq = from + i;
		/* The header at the start of bufs[i], the body after it. */
		uint8_t *body = bufs[i] + AG_HEADER_MAX;

		memset(e, 0, sizeof(*e));
		e->h.timestamp = 1700000000000ull + seq;
		memcpy(e->h.network, cfg->network, 32);
		memcpy(e->h.author, pk, 32);
		e->h.seq = seq;
		e->h.has_prev = seq > 1;
		memcpy(e->h.prev, prev, 32);
		strcpy(e->h.type, "practice");
		e->h.id_len =
		    (size_t)snprintf(id, sizeof(id), "fill-%llu", (unsigned long long)seq);
		e->h.id = id;
		e->body = body;
		e->body_len = blen =
		    make_body(body, sizeof(bufs[i]) - AG_HEADER_MAX, (unsigned)seq, body_bytes);
		if (ag_entry_sign(e, sk, bufs[i], AG_HEADER_MAX, &len) != 0)
			return -1;
		ag_entry_hash(e, prev);
		/* The decoded view points into bufs[i], not at the reused id. */
		if (ag_entry_open(e, bufs[i], len, body, blen, NULL, NULL) != 0)
			return -1;
	}
	if (store_append(st, es, n, res) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (res[i].status != STORE_STORED)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][2048];
	static struct ag_entry es[BATCH];
	uint8_t pk[32], sk[64], prev[32] = {0};
	char path[4096], err[4300];
	struct config *cfg;
	struct store *st;
	unsigned n;
	size_t body_bytes;

	if (argc < 3 || ag_init() != 0)
		return 2;
	n = (unsigned)strtoul(argv[2], NULL, 10);
	body_bytes = argc > 3 ? strtoul(argv[3], NULL, 10) : 400;
	if (body_bytes > 1500 || (body_bytes == 0 && argc > 3 && strcmp(argv[3], "text") != 0))
		return 2;
	snprintf(path, sizeof(path), "%s/node.key", argc > 4 ? argv[4] : argv[1]);
	if (keyfile_load(path, pk, sk, err, sizeof(err)) != 0) {
		fprintf(stderr, "agora-fill: %s\n", err);
		return 1;
	}
	if (body_bytes == 0) {
		uint64_t seed;

		memcpy(&seed, pk, sizeof(seed));
		textgen_init();
		textgen_seed(seed);
	}
	snprintf(path, sizeof(path), "%s/agorad.conf", argv[1]);
	if (!(cfg = config_load(path, pk, NULL)))
		return 1;
	snprintf(path, sizeof(path), "%s/data", argv[1]);
	mkdir(path, 0750);
	if (!(st = store_open(path, 0)))
		return 1;
	/* A fresh feed only: its first seq is 1. */
	for (unsigned done = 0; done < n; done += BATCH) {
		unsigned k = n - done < BATCH ? n - done : BATCH;

		if (fill_batch(st, cfg, pk, sk, done + 1, k, body_bytes, prev, bufs, es) != 0) {
			fprintf(stderr, "agora-fill: append failed at seq %u\n", done + 1);
			return 1;
		}
	}
	store_close(st);
	config_free(cfg);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}
