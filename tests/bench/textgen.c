/* textgen.c: synthetic multilingual record bodies (textgen.h). */
#include <stdlib.h>
#include <string.h>

#include "textgen.h"

#define VOCAB 20000

const char *const textgen_types[TEXTGEN_NTYPES] = {"practice", "priority", "pilot", "toolbox",
                                                   "meeting"};
const char *const textgen_topics[TEXTGEN_NTOPICS] = {
    "housing",    "health",        "education",  "employment", "urban-planning",
    "exchange",   "understanding", "governance", "ownership",  "inclusion",
    "leadership", "rights",        "services"};

static char *vocab[VOCAB];
static double zipf_cdf[VOCAB];
static uint64_t rng = 88172645463325252ull;

uint64_t textgen_rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

void textgen_seed(uint64_t seed)
{
	rng = seed ? seed : 1;
}

/* Words of 2 to 5 syllables; one in five in Arabic script, some Latin ones accented. */
void textgen_init(void)
{
	static const char *lat[] = {"ka",   "lo", "mi", "ré", "tu", "sa", "ne", "vi",  "do", "pe",
	                            "gra",  "ti", "on", "é",  "mu", "ci", "la", "ber", "ge", "ment",
	                            "ción", "zi", "ò",  "ta", "ri", "ha", "po", "ni",  "so", "ve"};
	static const char *ara[] = {"ال", "م", "د", "ي", "ن", "ة", "س", "ك", "ر", "ع",
	                            "ب",  "ت", "و", "ل", "ح", "ص", "ف", "ق", "ج", "ه"};
	double sum = 0;

	for (int i = 0; i < VOCAB; i++) {
		char w[64] = "";
		int n = 2 + (int)(textgen_rnd() % 4), arabic = textgen_rnd() % 5 == 0;

		for (int s = 0; s < n; s++)
			strcat(w, arabic ? ara[textgen_rnd() % 20] : lat[textgen_rnd() % 30]);
		if (!(vocab[i] = strdup(w)))
			abort();
		sum += 1.0 / (i + 1);
		zipf_cdf[i] = sum;
	}
	for (int i = 0; i < VOCAB; i++)
		zipf_cdf[i] /= sum;
}

const char *textgen_word(void)
{
	double u = (double)(textgen_rnd() >> 11) / 9007199254740992.0;
	int lo = 0, hi = VOCAB - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return vocab[lo];
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pack_text(msgpack_packer *pk, size_t bytes)
{
	char text[1024] = "";

	while (strlen(text) < bytes) {
		strcat(text, textgen_word());
		strcat(text, " ");
	}
	pack_str(pk, text);
}

/* {"ar": .., "en": .., "fr": ..}: a summary's worth of text, about 400 bytes. */
static void pack_summary(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 3);
	pack_str(pk, "ar"), pack_text(pk, 140);
	pack_str(pk, "en"), pack_text(pk, 130);
	pack_str(pk, "fr"), pack_text(pk, 130);
}

static void pack_title(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	pack_str(pk, "en"), pack_text(pk, 25);
	pack_str(pk, "fr"), pack_text(pk, 25);
}

/* Two distinct topics, as the schemas ask. */
static void pack_topics(msgpack_packer *pk)
{
	size_t t = textgen_rnd() % TEXTGEN_NTOPICS;

	msgpack_pack_array(pk, 2);
	pack_str(pk, textgen_topics[t]);
	pack_str(pk, textgen_topics[(t + 1 + textgen_rnd() % 12) % TEXTGEN_NTOPICS]);
}

void textgen_body(msgpack_sbuffer *sb, const char *type)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (strcmp(type, "priority") == 0) {
		msgpack_pack_map(&pk, 3);
		pack_str(&pk, "areas"), msgpack_pack_array(&pk, 1), msgpack_pack_map(&pk, 2);
		pack_str(&pk, "title"), pack_title(&pk);
		pack_str(&pk, "topics"), pack_topics(&pk);
	} else if (strcmp(type, "pilot") == 0) {
		msgpack_pack_map(&pk, 4);
		pack_str(&pk, "status"), pack_str(&pk, "running");
	} else if (strcmp(type, "toolbox") == 0) {
		msgpack_pack_map(&pk, 4);
		pack_str(&pk, "steps"), msgpack_pack_array(&pk, 1), msgpack_pack_map(&pk, 2);
		pack_str(&pk, "text"), pack_text(&pk, 40);
		pack_str(&pk, "title"), pack_text(&pk, 20);
	} else if (strcmp(type, "meeting") == 0) {
		msgpack_pack_map(&pk, 4);
		pack_str(&pk, "date"), pack_str(&pk, "2025-03-01");
		pack_str(&pk, "notes"), pack_summary(&pk);
		pack_str(&pk, "title"), pack_title(&pk);
		pack_str(&pk, "topics"), pack_topics(&pk);
		return;
	} else {
		msgpack_pack_map(&pk, 3);
	}
	pack_str(&pk, "summary"), pack_summary(&pk);
	pack_str(&pk, "title"), pack_title(&pk);
	if (strcmp(type, "pilot") == 0 || strcmp(type, "toolbox") == 0)
		pack_str(&pk, "topic"),
		    pack_str(&pk, textgen_topics[textgen_rnd() % TEXTGEN_NTOPICS]);
	else if (strcmp(type, "practice") == 0)
		pack_str(&pk, "topics"), pack_topics(&pk);
}
