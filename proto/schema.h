/*
 * schema.h: what each record type of DESIGN.md holds. One table serves three
 * readers: the CLI and agorad check a body before this node signs it, the CLI
 * lays out what it knows of a body and shows the rest raw (a body from the
 * network is never refused for its schema: DESIGN.md "Versions live side by
 * side"), and `agora schema` prints it.
 */
#ifndef AGORA_SCHEMA_H
#define AGORA_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The closed vocabularies. Index order is stable; it is the order users see. */
#define AG_TOPIC_COUNT       13
#define AG_STAKEHOLDER_COUNT 6

struct ag_vocab {
	const char *key;   /* "housing" */
	const char *label; /* "hébergement / housing / السكن" */
	const char *fr;    /* "hébergement" */
	const char *en;    /* "housing" */
	const char *ar;    /* "السكن" */
	const char *es;    /* "vivienda" */
	const char *it;    /* "alloggio" */
};

/* The label of v in a language ("fr", "en", "ar", "es", "it"); English for another. */
const char *ag_vocab_label(const struct ag_vocab *v, const char *lang);

extern const struct ag_vocab ag_topics[AG_TOPIC_COUNT];
extern const struct ag_vocab ag_stakeholders[AG_STAKEHOLDER_COUNT];

/* The vocabulary entry for key, or NULL when key is not in it. */
const struct ag_vocab *ag_topic_find(const char *key, size_t len);
const struct ag_vocab *ag_stakeholder_find(const char *key, size_t len);

/* What a field holds. */
enum ag_field_kind {
	AG_F_TEXT,         /* multilingual: a string, or a map of language code to string */
	AG_F_STR,          /* a plain string */
	AG_F_INT,          /* an integer in [min, max] */
	AG_F_BOOL,         /* true or false */
	AG_F_DATE,         /* "YYYY-MM-DD", a real calendar day */
	AG_F_ENUM,         /* a string from the field's own list */
	AG_F_TOPIC,        /* one topic key */
	AG_F_TOPICS,       /* an array of distinct topic keys */
	AG_F_STAKEHOLDER,  /* one stakeholder key */
	AG_F_STAKEHOLDERS, /* an array of distinct stakeholder keys */
	AG_F_KEY,          /* a public key in base64 (44 characters) */
	AG_F_URL,          /* an http:// or https:// URL */
	AG_F_OBJECT,       /* a map with its own fields (sub) */
	AG_F_LIST,         /* an array of the element described by sub[0] */
	AG_F_RECTYPE,      /* a record type name, [a-z-]{1,32} */
	AG_F_RECID,        /* a record id: 1..128 bytes of UTF-8 without control characters */
};

/* The word for a kind in `agora schema` ("text", "topics", "list"); never NULL. */
const char *ag_field_kind_name(enum ag_field_kind kind);

struct ag_field {
	const char *name;
	enum ag_field_kind kind;
	int required;
	/* INT: value bounds; TEXT, STR, URL, RECID: bytes (TEXT: per language);
	 * LIST, TOPICS, STAKEHOLDERS: item count. */
	int64_t min, max;
	const char *const *values;  /* ENUM: NULL-terminated list */
	const struct ag_field *sub; /* OBJECT: fields, ended by a zeroed one; LIST: its element */
	const char *help;           /* one line for users */
};

struct ag_schema {
	const char *type;              /* "practice" */
	const char *help;              /* one line: what the record is */
	const char *id_rule;           /* how its id is chosen, for users; NULL: free */
	const char *fixed_id;          /* the one id allowed ("main" for profile), or NULL */
	const struct ag_field *fields; /* ended by a zeroed one */
};

/* The schema of a record type, or NULL for a type this release does not know. */
const struct ag_schema *ag_schema_find(const char *type);

/* All schemas, in the order of DESIGN.md; *n gets their count. */
const struct ag_schema *ag_schema_all(size_t *n);

/*
 * Checks a record: its id against the schema's id rule and its body (canonical
 * msgpack map, as in an entry; NULL means a retraction, always valid) against
 * its fields. Returns 0, AG_ESCHEMA when the record breaks the schema, or a
 * codec error when body is not a canonical map. why gets one line that says
 * where and what, e.g. "topics[1]: unknown topic \"hosing\"".
 */
int ag_schema_check(const char *type, const char *id, size_t id_len, const uint8_t *body,
                    size_t body_len, char *why, size_t whylen) AG_WUR;

/*
 * Checks one value (canonical msgpack, val[0..len)) against field f as
 * ag_schema_check checks it inside a body: 0 when this release's schema
 * knows it wholly, AG_ESCHEMA (or a codec error) when it does not, as for a
 * newer release's topic or a field whose kind a newer release gave it.
 * Readers use it to show such a value raw (DESIGN.md "Versions live side by side").
 */
int ag_schema_value_check(const struct ag_field *f, const uint8_t *val, size_t len) AG_WUR;

#endif
