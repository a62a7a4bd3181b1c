/*
 * rec.h: what the friendly record commands share (cmd_kind.c, cmd_show.c,
 * cmd_export.c): a record read from agorad, a body checked against its
 * type's schema and published as agora put publishes it, and multilingual
 * text (a string, or a map of language code to string) made and read.
 */
#ifndef AGORA_REC_H
#define AGORA_REC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "ctl_resp.h"

/* A record as GET gives it: its fields as proto types them, and its body as JSON. */
struct rec {
	struct ag_ctl_get got; /* got.record: author, name, type, id, seq, timestamp, hash */
	json_t *body;          /* the body as a JSON object */
};

/*
 * The current state of a city's record (city NULL: this node) as GET gives
 * it. 0 with *rec, which the caller clears (rec_clear, also after a
 * failure); else the exit status, the error printed, except for "no such
 * record" (EXIT_NOTFOUND) when quiet is true.
 */
int rec_get(const struct args *, const char *type, const char *id, const char *city, bool quiet,
            struct rec *rec);
void rec_clear(struct rec *);

/* The record as --json prints it, by its table (ctlj); NULL when out of memory. */
json_t *rec_json(const struct rec *);

/* A record's body as JSON: an object, or null for a retraction; NULL when out of memory. */
json_t *rec_body_json(const struct ag_ctl_record *);

enum { REC_EBODY = 1, REC_ESCHEMA = 2 };

/*
 * The body as it will be signed, checked as an entry will check it: 0 with
 * *mp (allocated, the caller frees it) its canonical msgpack, of *len
 * bytes; or REC_EBODY (it does not encode, or is over the entry's size
 * limit) or REC_ESCHEMA (its type's schema refuses it), with why in one line.
 */
int rec_body_encode(const char *type, const char *id, const json_t *body, uint8_t **mp, size_t *len,
                    char *why, size_t whylen);

/* rec_body_encode, for its verdict only. */
int rec_body_check(const char *type, const char *id, const json_t *body, char *why, size_t whylen);

/*
 * Publishes body, canonical msgpack (rec_body_encode), as this node's record
 * type id (PUT, forced with force), and prints what was published: "what
 * TYPE ID: seq N, hash H", or the response with --json. 0, or the exit
 * status; a refusal is printed as refused does (NULL: as agora prints any).
 */
int rec_put(const struct args *, const char *type, const char *id, const uint8_t *mp, size_t len,
            bool force, int (*refused)(const struct args *, const char *why));

/* What PUT and RETRACT print: "what TYPE ID: seq N, hash H", or the response with --json. */
int rec_print_published(const struct args *, const struct ag_ctl_published *, const char *what);

/* rec_body_check, with "TYPE ID: why" printed: 0, or 2. */
int rec_check(const struct args *, const char *type, const char *id, const json_t *body);

/*
 * Checks body (consumed) against the type's schema as agora put does, then
 * publishes it as this node's record type id and prints what was published:
 * "published TYPE ID: seq N, hash H", or the response with --json. Returns
 * the exit status; a body the schema refuses is EXIT_REFUSED, with the reason.
 */
int rec_publish(const struct args *, const char *type, const char *id, json_t *body);

/* Text as given on the command line: a plain string, or {CODE: s} with --lang CODE. NULL if no
 * memory. */
json_t *rec_text_new(const struct args *, const char *s);

/* The text of a text field in the reader's language ($LANG), else en, fr, ar, es, it, any. NULL if
 * none. */
const char *rec_text_pick(const json_t *v);

/* How show, get and export mark what this release's schema does not know. */
#define REC_NEWER "(from a newer version of agora)"

struct ag_field;

/*
 * Whether this release's schema knows v as field f holds it: false for a
 * field it does not know (f NULL), a topic or stakeholder outside its
 * vocabulary, or a value of another kind (DESIGN.md "Versions live side by side").
 */
bool rec_known(const struct ag_field *f, const json_t *v);

/*
 * Whether show and export lay out v under field f as they always have:
 * groups and lists are walked (their own fields judged one by one), topics
 * and stakeholders shown key by key (an unknown one marked), and any other
 * value only when rec_known. What is not laid out is shown raw, marked REC_NEWER.
 */
bool rec_laid_out(const struct ag_field *f, const json_t *v);

/* The field of that name among fields (ended by a zeroed one; NULL: none), or NULL. */
const struct ag_field *rec_field(const struct ag_field *fields, const char *name);

/*
 * The names of body's fields that a record of type holds and this release's
 * schema does not know (rec_known), comma-separated, or "" when it knows them
 * all; for an unknown type, "" (the whole record is a newer release's).
 * malloc'd, NULL if no memory.
 */
char *rec_newer_fields(const char *type, const json_t *body);

/* v as one line of JSON, for showing it raw; malloc'd, NULL if no memory. */
char *rec_raw(const json_t *v);

/*
 * Whether records of type are the network's plumbing (member, identity,
 * purge), not its knowledge: list leaves them out unless asked, the report
 * sums them up.
 */
bool rec_plumbing(const char *type);

/* A record's own string field, NULL if it is absent or empty. */
const char *rec_str(const json_t *o, const char *key);

#endif
