/* strangers.c: unknown keys that complete message 1, logged once an hour each. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "key.h"
#include "log.h"
#include "noise.h"
#include "strangers.h"

struct stranger {
	uint8_t x_pk[32];
	uint64_t logged_ms; /* 0: free */
};

struct strangers {
	struct stranger kept[STRANGERS_KEPT];
	/* Many new keys at once (someone trying keys) must not flood the log. */
	struct log_ratelimit rl;
};

struct strangers *strangers_new(void)
{
	struct strangers *s = calloc(1, sizeof(*s));

	if (s)
		s->rl = LOG_RATELIMIT_INIT(10, 60000);
	return s;
}

void strangers_free(struct strangers *s)
{
	free(s);
}

/* The entry of x_pk, or NULL; in lru, the one to reuse. */
static struct stranger *find(struct strangers *s, const uint8_t x_pk[32], struct stranger **lru)
{
	*lru = &s->kept[0];
	for (size_t i = 0; i < STRANGERS_KEPT; i++) {
		struct stranger *k = &s->kept[i];

		if (k->logged_ms && sodium_memcmp(k->x_pk, x_pk, 32) == 0)
			return k;
		if (k->logged_ms < (*lru)->logged_ms)
			*lru = k;
	}
	return NULL;
}

static void log_stranger(struct strangers *s, const uint8_t x_pk[32], const char *addr)
{
	uint8_t ed[2][32];
	char x[AG_B64_LEN + 1], a[AG_B64_LEN + 1], b[AG_B64_LEN + 1];

	ag_key_to_b64(x, x_pk);
	if (ag_noise_ed25519_candidates(ed, x_pk) != 2) {
		log_ratelimited(&s->rl, LOG_LEVEL_WARN, NULL,
		                "%s: an unknown key tried to connect: Noise key %s (not made from "
		                "an Ed25519 key)",
		                addr, x);
		return;
	}
	ag_key_to_b64(a, ed[0]);
	ag_key_to_b64(b, ed[1]);
	log_ratelimited(&s->rl, LOG_LEVEL_WARN, NULL,
	                "%s: an unknown key tried to connect: its public key is %s or %s (Noise "
	                "key %s)",
	                addr, a, b, x);
}

void strangers_seen(struct strangers *s, const uint8_t x_pk[static 32], const char *addr,
                    uint64_t now_ms)
{
	struct stranger *lru, *k = find(s, x_pk, &lru);

	now_ms += 1; /* never 0: 0 marks a free entry */
	if (k && now_ms - k->logged_ms < STRANGERS_EVERY_MS)
		return;
	if (!k) {
		k = lru;
		memcpy(k->x_pk, x_pk, 32);
	}
	k->logged_ms = now_ms;
	log_stranger(s, x_pk, addr);
}
