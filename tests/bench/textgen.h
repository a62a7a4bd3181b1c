/*
 * textgen.h: synthetic multilingual record bodies, for benchmarks and
 * agora-fill. Words of Latin script (some accented) and of Arabic script,
 * drawn from a 20,000-word vocabulary by a Zipf law, as words are in real
 * text, so the index's postings lists and the stemmers' work have realistic
 * sizes. One deterministic generator per process: the same calls give the
 * same text. Not thread-safe.
 */
#ifndef AGORA_TEXTGEN_H
#define AGORA_TEXTGEN_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define TEXTGEN_NTYPES  5
#define TEXTGEN_NTOPICS 13

/* The record types and topics bodies are made for. */
extern const char *const textgen_types[TEXTGEN_NTYPES];
extern const char *const textgen_topics[TEXTGEN_NTOPICS];

/* Makes the vocabulary; call once before the rest. */
void textgen_init(void);

/* Another stream of text over the same vocabulary (one per author, say); seed not 0. */
void textgen_seed(uint64_t seed);

/* The generator's next pseudo-random number (xorshift64). */
uint64_t textgen_rnd(void);

/* A word of the vocabulary, by its Zipf law. */
const char *textgen_word(void);

/*
 * Clears sb and packs into it a body of about 500 bytes that type's schema
 * (proto/schema.c) takes, keys in canonical order: a summary in three
 * languages, a title in two, and what the type requires besides.
 */
void textgen_body(msgpack_sbuffer *sb, const char *type);

#endif
