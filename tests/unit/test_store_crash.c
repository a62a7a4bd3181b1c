/*
 * test_store_crash.c: a child process appends batches of entries in a loop
 * (new records, new versions, retractions, so the index merges and kills),
 * half of the batches prepared beforehand (store_prepare) as the daemon's
 * verify threads do, and is killed with SIGKILL at a random moment, KILLS
 * times. After each
 * kill the store opens, and:
 *   - store_check holds: every feed is a hash chain from seq 1 to its head,
 *     every record's state is its newest version, the index holds exactly
 *     the postings of the live versions;
 *   - every entry that the child was told was committed is there, and every
 *     entry's signature verifies, walked here independently of store_check;
 *   - the newest committed entry of each feed is found by a search for its
 *     marker word, when it is still its record's current version.
 * Every other child merges as the sync's appender does (store_merge_idle):
 * a piece or a few between batches, in pieces of 4 KiB, so it is killed
 * while merges are under way with batches flushed between their pieces.
 * The child's appends after each crash show that the store takes writes
 * again; a child that fails exits instead of being killed, which fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "entry.h"
#include "key.h"
#include "log.h"
#include "store.h"
#include "store_internal.h" /* the index, to make its merges of many pieces */
#include "testutil.h"

#define KILLS   60
#define AUTHORS 3
#define RECORDS 40 /* ids per author, so records get new versions */

struct author {
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	uint64_t seq;
	uint8_t head[AG_HASH_LEN];
};

/* What the child tells the parent after each committed batch. */
struct committed {
	uint32_t author;
	uint64_t seq;
};

static uint8_t network[32];

static void author_init(struct author *a, int i)
{
	uint8_t seed[32];

	memset(seed, 0x70 + i, sizeof(seed));
	ag_key_from_seed(a->pk, a->sk, seed);
	a->seq = 0;
}

/*
 * The marker word of an entry: unique, one word once folded, and all of one
 * width, so that a search for one, read as a prefix too (its last word of 4
 * letters or more), finds no other: "mka1" found mka10 to mka19.
 */
static void marker(char *out, size_t cap, int author, uint64_t seq)
{
	snprintf(out, cap, "mk%c%08llu", 'a' + author, (unsigned long long)seq);
}

/* A valid practice or meeting (schema.h) holding the marker and a few words. */
static void body_pack(msgpack_sbuffer *sb, int author, uint64_t seq, const char *type)
{
	int meeting = strcmp(type, "meeting") == 0;
	static const char *words[] = {"hébergement", "santé",  "école", "المدينة",
	                              "migrants",    "emploi", "ville", "droits"};
	static const char *topics[] = {"housing", "health", "rights"};
	char text[256];
	msgpack_packer pk;

	marker(text, sizeof(text), author, seq);
	for (int i = 0; i < 4; i++) {
		strcat(text, " ");
		strcat(text, words[rand() % 8]);
	}
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, meeting ? 4 : 3);
	if (meeting) {
		msgpack_pack_str_with_body(&pk, "date", 4);
		msgpack_pack_str_with_body(&pk, "2024-05-14", 10);
	}
	msgpack_pack_str_with_body(&pk, meeting ? "notes" : "summary", meeting ? 5 : 7);
	msgpack_pack_str_with_body(&pk, text, strlen(text));
	msgpack_pack_str_with_body(&pk, "title", 5);
	msgpack_pack_str_with_body(&pk, "t", 1);
	msgpack_pack_str_with_body(&pk, "topics", 6);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, topics[seq % 3], strlen(topics[seq % 3]));
}

/* The author's next entry into buf; one in eight retracts its record. */
static int entry_next(struct author *a, int ai, uint8_t *buf, msgpack_sbuffer *sb,
                      struct ag_entry *e)
{
	const uint8_t *body;
	char id[16];
	size_t len, blen;

	snprintf(id, sizeof(id), "r%llu", (unsigned long long)((a->seq + 1) % RECORDS));
	*e = (struct ag_entry){.h = {.seq = a->seq + 1, .has_prev = a->seq > 0}};
	memcpy(e->h.network, network, 32);
	memcpy(e->h.author, a->pk, AG_PK_LEN);
	memcpy(e->h.prev, a->head, AG_HASH_LEN);
	strcpy(e->h.type, a->seq % 2 ? "practice" : "meeting");
	e->h.id = id;
	e->h.id_len = strlen(id);
	e->h.timestamp = 1700000000000ull + a->seq * 1000;
	if (rand() % 8) {
		body_pack(sb, ai, a->seq + 1, e->h.type);
		if (sb->size > AG_BODY_MAX)
			return -1;
		/* The header at buf, its body after it. */
		e->body = memcpy(buf + AG_HEADER_MAX, sb->data, sb->size);
		e->body_len = sb->size;
	}
	body = e->body;
	blen = e->body_len;
	if (ag_entry_sign(e, a->sk, buf, AG_HEADER_MAX, &len) != 0 ||
	    ag_entry_open(e, buf, len, body, blen, NULL, NULL) != 0)
		return -1;
	a->seq = e->h.seq;
	ag_entry_hash(e, a->head);
	return 0;
}

/* The child: append batches for ever, telling the parent what each commit holds. */
static _Noreturn void child(const char *data, int fd, unsigned seed, bool idle)
{
	static uint8_t bufs[16][AG_HEADER_MAX + AG_BODY_MAX];
	struct author au[AUTHORS];
	struct ag_entry es[16];
	struct store_prep prep[16];
	struct store_result res[16];
	msgpack_sbuffer sb;
	struct store *st = store_open(data, 1 << 20);

	srand(seed);
	msgpack_sbuffer_init(&sb);
	if (!st)
		_exit(2);
	if (idle) { /* merges of many pieces, between batches, as the sync's appender does them */
		store_merge_idle(st, true);
		index_set_piece(st->ix, 4096);
	}
	for (int i = 0; i < AUTHORS; i++) {
		author_init(&au[i], i);
		if (store_head(st, au[i].pk, &au[i].seq, au[i].head) < 0)
			_exit(3);
	}
	for (;;) {
		int n = 1 + rand() % 16, who[16], prepared = rand() % 2;

		for (int i = 0; i < n; i++) {
			who[i] = rand() % AUTHORS;
			if (entry_next(&au[who[i]], who[i], bufs[i], &sb, &es[i]) != 0)
				_exit(4);
			if (prepared && store_prepare(&prep[i], &es[i]) != 0)
				_exit(8);
		}
		if (store_append_prepared(st, es, prepared ? prep : NULL, (size_t)n, res) != 0)
			_exit(5);
		for (int p = idle ? rand() % 4 : 0; p > 0 && store_merge_piece(st) > 0; p--)
			;
		for (int i = 0; i < n; i++) {
			struct committed c = {(uint32_t)who[i], es[i].h.seq};

			if (prepared)
				store_prep_clear(&prep[i]);
			if (res[i].status != STORE_STORED)
				_exit(6);
			if (write(fd, &c, sizeof(c)) != sizeof(c))
				_exit(7);
		}
	}
}

struct walk {
	uint64_t next;
	uint8_t prev[AG_HASH_LEN];
	int bad;
};

/* Each entry in order, chained to the one before, and signed by its author. */
static int walk_fn(const struct ag_entry *e, void *arg)
{
	struct walk *w = arg;

	if (e->h.seq != w->next || (e->h.seq > 1 && memcmp(e->h.prev, w->prev, AG_HASH_LEN) != 0) ||
	    ag_header_verify(&e->h, network) != 0)
		w->bad = 1;
	ag_entry_hash(e, w->prev);
	w->next++;
	return w->bad;
}

struct found {
	uint64_t seq;
	size_t n;
};

static int found_fn(const struct ag_entry *e, void *arg)
{
	struct found *f = arg;

	f->seq = e->h.seq;
	f->n++;
	return 0;
}

static int current_fn(const struct ag_entry *e, void *arg)
{
	*(uint64_t *)arg = e->body ? e->h.seq : 0;
	return 0;
}

/* Is the newest committed entry of author a found by its marker? */
static void check_search(struct store *st, struct author *a, int ai, uint64_t seq)
{
	struct index_query q = {.author = a->pk};
	struct found f = {0};
	uint64_t current = 0;
	char word[32], id[16];

	snprintf(id, sizeof(id), "r%llu", (unsigned long long)(seq % RECORDS));
	assert_int_equal(store_get(st, seq % 2 ? "meeting" : "practice", a->pk, id, strlen(id),
	                           current_fn, &current),
	                 1);
	if (current != seq)
		return; /* retracted, or replaced by a later entry */
	marker(word, sizeof(word), ai, seq);
	q.text = word;
	assert_int_equal(store_search(st, &q, found_fn, &f), 1);
	assert_int_equal(f.seq, seq);
}

static void verify(const char *data, struct author *au, const uint64_t *committed,
                   struct walk *walks)
{
	struct store *st = store_open(data, 0);
	char why[256];

	assert_non_null(st);
	assert_int_equal(store_check(st, NULL, why, sizeof(why)), 0);
	for (int a = 0; a < AUTHORS; a++) {
		uint8_t hash[AG_HASH_LEN];
		uint64_t head = 0;

		assert_true(store_head(st, au[a].pk, &head, hash) >= 0);
		assert_true(head >= committed[a]);
		while (walks[a].next <= head) {
			assert_true(store_feed(st, au[a].pk, walks[a].next, 64, 1 << 20, walk_fn,
			                       &walks[a]) > 0);
			assert_false(walks[a].bad);
		}
		if (committed[a])
			check_search(st, &au[a], a, committed[a]);
	}
	store_close(st);
}

struct fixture {
	char *dir, *data;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tu_tmpdir("store-crash");
	assert_non_null(f->dir);
	f->data = tu_path(f->dir, "data");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f->data);
	free(f->dir);
	free(f);
	return 0;
}

static void test_sigkill(void **state)
{
	struct fixture *f = *state;
	struct author au[AUTHORS];
	struct walk walks[AUTHORS];
	uint64_t committed[AUTHORS] = {0}, total = 0;
	const char *data = f->data;
	char why[256];
	struct store *st;

	assert_int_equal(ag_init(), 0);
	ag_network_default(network);
	srand(1);
	for (int a = 0; a < AUTHORS; a++) {
		author_init(&au[a], a);
		walks[a] = (struct walk){.next = 1};
	}
	/* The environment exists before the first kill: its creation is not under test. */
	st = store_open(data, 1 << 20);
	assert_non_null(st);
	store_close(st);

	for (int k = 0; k < KILLS; k++) {
		struct committed c;
		int fds[2], status;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child(data, fds[1], (unsigned)k + 1, k % 2 == 1);
		}
		close(fds[1]);
		nanosleep(&(struct timespec){0, (2 + rand() % 40) * 1000000L}, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("child %d ended by itself, status %d", k, status);
		while (read(fds[0], &c, sizeof(c)) == sizeof(c)) {
			assert_true(c.author < AUTHORS);
			committed[c.author] =
			    c.seq > committed[c.author] ? c.seq : committed[c.author];
			total++;
		}
		close(fds[0]);
		verify(data, au, committed, walks);
	}
	print_message("%d kills, %llu entries committed before them\n", KILLS,
	              (unsigned long long)total);
	assert_true(total > 0);
	/* Last, every signature through store_check as well. */
	st = store_open(data, 0);
	assert_non_null(st);
	assert_int_equal(store_check(st, network, why, sizeof(why)), 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sigkill, setup, teardown),
	};

	log_set_level(LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
