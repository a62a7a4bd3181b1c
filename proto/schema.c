/*
 * schema.c: the record types of DESIGN.md as data, and one checker over it.
 *
 * Each type is a table of fields; the checker walks a canonical msgpack body
 * against its table and stops at the first fault with one line that says where
 * and what. The same tables print `agora schema`, so the docs cannot drift from
 * what is enforced. The walk is driven by the table, not the input: it never
 * goes deeper than the deepest table, and it allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "entry.h"
#include "key.h"
#include "mp.h"
#include "mp_internal.h"
#include "near.h"
#include "schema.h"

/* ---- the vocabularies ---- */

/*
 * Labels in the network's five languages. The Arabic, Spanish and Italian ones
 * are the words city officers use for these fields of policy (السكن, vivienda,
 * alloggio for housing); label is French / English / Arabic, as show prints it.
 */
const struct ag_vocab ag_topics[AG_TOPIC_COUNT] = {
    {"housing", "hébergement / housing / السكن", "hébergement", "housing", "السكن", "vivienda",
     "alloggio"},
    {"health", "santé / health / الصحة", "santé", "health", "الصحة", "salud", "salute"},
    {"education", "éducation / education / التعليم", "éducation", "education", "التعليم",
     "educación", "istruzione"},
    {"employment", "emploi / employment / التشغيل", "emploi", "employment", "التشغيل", "empleo",
     "lavoro"},
    {"urban-planning", "planification urbaine / urban planning / التخطيط العمراني",
     "planification urbaine", "urban planning", "التخطيط العمراني", "planificación urbana",
     "pianificazione urbana"},
    {"exchange", "échange / exchange / التبادل", "échange", "exchange", "التبادل", "intercambio",
     "scambio"},
    {"understanding", "compréhension / understanding / الفهم", "compréhension", "understanding",
     "الفهم", "comprensión", "comprensione"},
    {"governance", "gouvernance de la migration / migration governance / حوكمة الهجرة",
     "gouvernance de la migration", "migration governance", "حوكمة الهجرة",
     "gobernanza de la migración", "governance della migrazione"},
    {"ownership", "appropriation / ownership / التملك", "appropriation", "ownership", "التملك",
     "apropiación", "appropriazione"},
    {"inclusion", "approche inclusive / inclusive approach / النهج الشامل", "approche inclusive",
     "inclusive approach", "النهج الشامل", "enfoque inclusivo", "approccio inclusivo"},
    {"leadership", "leadership / leadership / القيادة", "leadership", "leadership", "القيادة",
     "liderazgo", "leadership"},
    {"rights", "accès aux droits / access to rights / الوصول إلى الحقوق", "accès aux droits",
     "access to rights", "الوصول إلى الحقوق", "acceso a los derechos", "accesso ai diritti"},
    {"services", "accès aux services / access to services / الوصول إلى الخدمات",
     "accès aux services", "access to services", "الوصول إلى الخدمات", "acceso a los servicios",
     "accesso ai servizi"},
};

const struct ag_vocab ag_stakeholders[AG_STAKEHOLDER_COUNT] = {
    {"national-authorities", "autorités nationales / national authorities / السلطات الوطنية",
     "autorités nationales", "national authorities", "السلطات الوطنية", "autoridades nacionales",
     "autorità nazionali"},
    {"city-administration", "administration municipale / city administration / الإدارة البلدية",
     "administration municipale", "city administration", "الإدارة البلدية",
     "administración municipal", "amministrazione comunale"},
    {"civil-society", "société civile / civil society / المجتمع المدني", "société civile",
     "civil society", "المجتمع المدني", "sociedad civil", "società civile"},
    {"academia", "milieu universitaire / academia / الأوساط الأكاديمية", "milieu universitaire",
     "academia", "الأوساط الأكاديمية", "mundo académico", "mondo accademico"},
    {"private-sector", "secteur privé / private sector / القطاع الخاص", "secteur privé",
     "private sector", "القطاع الخاص", "sector privado", "settore privato"},
    {"international-organisation",
     "organisation internationale / international organisation / منظمة دولية",
     "organisation internationale", "international organisation", "منظمة دولية",
     "organización internacional", "organizzazione internazionale"},
};

static const struct ag_vocab *vocab_find(const struct ag_vocab *v, size_t n, const char *key,
                                         size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].key) == len && memcmp(v[i].key, key, len) == 0)
			return &v[i];
	return NULL;
}

const struct ag_vocab *ag_topic_find(const char *key, size_t len)
{
	return vocab_find(ag_topics, AG_TOPIC_COUNT, key, len);
}

const struct ag_vocab *ag_stakeholder_find(const char *key, size_t len)
{
	return vocab_find(ag_stakeholders, AG_STAKEHOLDER_COUNT, key, len);
}

const char *ag_vocab_label(const struct ag_vocab *v, const char *lang)
{
	const char *const by[][2] = {
	    {"fr", v->fr}, {"en", v->en}, {"ar", v->ar}, {"es", v->es}, {"it", v->it},
	};

	for (size_t i = 0; lang && i < sizeof(by) / sizeof(by[0]); i++)
		if (strcmp(lang, by[i][0]) == 0)
			return by[i][1];
	return v->en;
}

/* ---- the tables ---- */

#define SHORT   300   /* bytes per language of a title, name or place */
#define LONG    20000 /* bytes per language of a summary, description, notes */
#define STR     300   /* bytes of a plain string */
#define URLMAX  2048
#define LISTMAX 64

#define F_TEXT(n, req, max, h)                                                                     \
	{                                                                                          \
		n, AG_F_TEXT, req, 1, max, NULL, NULL, h                                           \
	}
#define F_STR(n, req, min, max, h)                                                                 \
	{                                                                                          \
		n, AG_F_STR, req, min, max, NULL, NULL, h                                          \
	}
#define F_YEAR(n, req, h)                                                                          \
	{                                                                                          \
		n, AG_F_INT, req, 1900, 2100, NULL, NULL, h                                        \
	}
#define F_INT(n, req, min, max, h)                                                                 \
	{                                                                                          \
		n, AG_F_INT, req, min, max, NULL, NULL, h                                          \
	}
#define F_KIND(n, kind, req, h)                                                                    \
	{                                                                                          \
		n, kind, req, 0, 0, NULL, NULL, h                                                  \
	}
#define F_ENUM(n, req, vals, h)                                                                    \
	{                                                                                          \
		n, AG_F_ENUM, req, 0, 0, vals, NULL, h                                             \
	}
#define F_LIST(n, req, min, max, el, h)                                                            \
	{                                                                                          \
		n, AG_F_LIST, req, min, max, NULL, el, h                                           \
	}
#define F_OBJ(n, req, fields, h)                                                                   \
	{                                                                                          \
		n, AG_F_OBJECT, req, 0, 0, NULL, fields, h                                         \
	}
#define F_END                                                                                      \
	{                                                                                          \
		NULL, 0, 0, 0, 0, NULL, NULL, NULL                                                 \
	}

static const char *const source_kinds[] = {"research",   "survey", "analysis",
                                           "statistics", "other",  NULL};
static const char *const regions[] = {"europe", "south-mediterranean", NULL};
static const char *const priority_status[] = {"draft", "adopted", "revised", NULL};
static const char *const area_status[] = {"planned", "in-progress", "done", NULL};
static const char *const pilot_status[] = {"planned", "running", "done", NULL};
static const char *const member_roles[] = {"partner", "associate", NULL};

static const struct ag_field source_fields[] = {
    F_TEXT("title", 1, SHORT, "what the source is called"),
    F_ENUM("kind", 1, source_kinds, "what sort of source it is"),
    F_YEAR("year", 0, "the year it was published"),
    {"url", AG_F_URL, 0, 0, URLMAX, NULL, NULL, "where to read it"},
    F_END,
};
static const struct ag_field source_el[] = {
    F_OBJ(NULL, 1, source_fields, "a research, survey, analysis or statistics source"),
};
static const struct ag_field long_text_el[] = {
    F_TEXT(NULL, 1, LONG, "a paragraph"),
};
static const struct ag_field short_text_el[] = {
    F_TEXT(NULL, 1, SHORT, "a line"),
};
static const struct ag_field url_el[] = {
    {NULL, AG_F_URL, 1, 0, URLMAX, NULL, NULL, "a link"},
};

static const struct ag_field count_fields[] = {
    F_INT("value", 1, 0, INT64_MAX, "the number of people"),
    F_YEAR("year", 1, "the year it was counted"),
    F_STR("source", 0, 1, STR, "who counted it"),
    F_END,
};
static const struct ag_field section_fields[] = {
    F_KIND("topic", AG_F_TOPIC, 1, "the topic the section analyses"),
    F_TEXT("text", 1, LONG, "the situation on this topic"),
    F_LIST("sources", 0, 0, LISTMAX, source_el, "the research, surveys and analyses used"),
    F_END,
};
static const struct ag_field section_el[] = {
    F_OBJ(NULL, 1, section_fields, "the analysis of one topic"),
};
static const struct ag_field profile_fields[] = {
    F_TEXT("city", 1, SHORT, "the city's name"),
    F_TEXT("country", 1, SHORT, "the country's name"),
    F_ENUM("region", 1, regions, "where the city is"),
    F_OBJ("population", 0, count_fields, "the city's population"),
    F_OBJ("migrant_population", 0, count_fields, "the city's migrant population"),
    F_TEXT("summary", 0, LONG, "the migration situation in brief"),
    F_LIST("sections", 0, 0, AG_TOPIC_COUNT, section_el, "the analysis, topic by topic"),
    F_LIST("sources", 0, 0, LISTMAX, source_el, "the research, surveys and analyses used"),
    F_END,
};

static const struct ag_field area_fields[] = {
    F_TEXT("title", 1, SHORT, "the priority area"),
    {"topics", AG_F_TOPICS, 1, 1, AG_TOPIC_COUNT, NULL, NULL, "the topics it covers"},
    {"stakeholders", AG_F_STAKEHOLDERS, 0, 0, AG_STAKEHOLDER_COUNT, NULL, NULL,
     "the stakeholders involved"},
    F_LIST("actions", 0, 0, LISTMAX, long_text_el, "the actions planned"),
    F_ENUM("status", 0, area_status, "how far it has come"),
    F_END,
};
static const struct ag_field area_el[] = {
    F_OBJ(NULL, 1, area_fields, "one priority area"),
};
static const struct ag_field priority_fields[] = {
    F_TEXT("title", 1, SHORT, "the document's title"),
    F_TEXT("summary", 0, LONG, "the document in brief"),
    F_YEAR("year", 0, "the year it covers"),
    F_ENUM("status", 0, priority_status, "where the document stands"),
    F_LIST("areas", 1, 1, 32, area_el, "the priority areas"),
    F_END,
};

static const struct ag_field practice_fields[] = {
    F_TEXT("title", 1, SHORT, "what the practice is called"),
    F_TEXT("summary", 1, LONG, "what the city did, in brief"),
    F_TEXT("description", 0, LONG, "what the city did, in full"),
    {"topics", AG_F_TOPICS, 1, 1, AG_TOPIC_COUNT, NULL, NULL, "the topics it covers"},
    {"stakeholders", AG_F_STAKEHOLDERS, 0, 0, AG_STAKEHOLDER_COUNT, NULL, NULL, "who took part"},
    F_YEAR("year", 0, "the year it started"),
    F_TEXT("results", 0, LONG, "what came out of it"),
    F_STR("contact", 0, 1, STR, "whom to ask about it"),
    F_LIST("links", 0, 0, 32, url_el, "where to read more"),
    F_END,
};

static const struct ag_field expert_fields[] = {
    F_STR("name", 1, 1, STR, "the expert's name"),
    F_TEXT("role", 0, SHORT, "their role in the team"),
    F_STR("organisation", 0, 1, STR, "where they work"),
    F_END,
};
static const struct ag_field expert_el[] = {
    F_OBJ(NULL, 1, expert_fields, "one member of the expert team"),
};
static const struct ag_field milestone_fields[] = {
    F_KIND("date", AG_F_DATE, 1, "when it is due or was reached"),
    F_TEXT("text", 1, LONG, "what the milestone is"),
    F_KIND("done", AG_F_BOOL, 0, "whether it was reached"),
    F_END,
};
static const struct ag_field milestone_el[] = {
    F_OBJ(NULL, 1, milestone_fields, "one milestone"),
};
static const struct ag_field pilot_fields[] = {
    F_TEXT("title", 1, SHORT, "what the pilot is called"),
    F_TEXT("summary", 0, LONG, "what it tests, in brief"),
    {"priority", AG_F_RECID, 0, 1, 128, NULL, NULL, "the id of the priority record it serves"},
    F_KIND("topic", AG_F_TOPIC, 1, "the urgent priority's topic"),
    F_ENUM("status", 1, pilot_status, "where it stands"),
    F_KIND("start", AG_F_DATE, 0, "when it starts"),
    F_KIND("end", AG_F_DATE, 0, "when it ends; not before start"),
    F_LIST("expert_team", 0, 0, LISTMAX, expert_el, "the expert team"),
    F_LIST("milestones", 0, 0, 128, milestone_el, "the milestones"),
    F_LIST("capacity_building", 0, 0, LISTMAX, long_text_el, "the capacity-building activities"),
    F_TEXT("outcomes", 0, LONG, "what came out of it"),
    F_END,
};

static const struct ag_field step_fields[] = {
    F_TEXT("title", 1, SHORT, "the step in a line"),
    F_TEXT("text", 1, LONG, "how to take it"),
    F_END,
};
static const struct ag_field step_el[] = {
    F_OBJ(NULL, 1, step_fields, "one step"),
};
static const struct ag_field tool_fields[] = {
    F_TEXT("name", 1, SHORT, "the tool's name"),
    F_TEXT("description", 0, LONG, "what it does"),
    {"url", AG_F_URL, 0, 0, URLMAX, NULL, NULL, "where to find it"},
    F_END,
};
static const struct ag_field tool_el[] = {
    F_OBJ(NULL, 1, tool_fields, "one practical tool"),
};
static const struct ag_field toolbox_fields[] = {
    F_TEXT("title", 1, SHORT, "what the guide is called"),
    F_KIND("topic", AG_F_TOPIC, 1, "the topic it guides on"),
    F_TEXT("summary", 0, LONG, "the guide in brief"),
    F_LIST("steps", 1, 1, LISTMAX, step_el, "the steps, in order"),
    F_LIST("policy_options", 0, 0, LISTMAX, long_text_el, "the policy options"),
    F_LIST("tools", 0, 0, LISTMAX, tool_el, "the practical tools"),
    F_END,
};

static const struct ag_field participant_fields[] = {
    F_STR("city", 1, 1, STR, "the participant's city"),
    F_KIND("stakeholder", AG_F_STAKEHOLDER, 0, "whom they represent"),
    F_STR("name", 0, 1, STR, "the participant's name"),
    F_END,
};
static const struct ag_field participant_el[] = {
    F_OBJ(NULL, 1, participant_fields, "one participant"),
};
static const struct ag_field meeting_fields[] = {
    F_TEXT("title", 1, SHORT, "what the meeting is called"),
    F_KIND("date", AG_F_DATE, 1, "when it took place"),
    F_TEXT("place", 0, SHORT, "where it took place"),
    F_LIST("participants", 0, 0, 256, participant_el, "who took part"),
    F_LIST("agenda", 0, 0, LISTMAX, short_text_el, "the agenda's items"),
    F_TEXT("notes", 0, LONG, "what was said and decided"),
    {"topics", AG_F_TOPICS, 0, 1, AG_TOPIC_COUNT, NULL, NULL, "the topics discussed"},
    F_END,
};

static const struct ag_field on_fields[] = {
    F_KIND("author", AG_F_KEY, 1, "the key of the city that wrote the record"),
    {"type", AG_F_RECTYPE, 1, 1, 32, NULL, NULL, "the record's type"},
    {"id", AG_F_RECID, 1, 1, 128, NULL, NULL, "the record's id"},
    F_END,
};
static const struct ag_field comment_fields[] = {
    F_OBJ("on", 1, on_fields, "the record it answers"),
    F_TEXT("text", 1, LONG, "the reply"),
    F_END,
};

static const struct ag_field member_fields[] = {
    F_KIND("key", AG_F_KEY, 1, "the member's public key"),
    F_STR("name", 1, 1, 64, "the member's name"),
    F_ENUM("role", 1, member_roles, "partner or associate city"),
    F_END,
};

static const struct ag_field identity_fields[] = {
    F_KIND("recovery", AG_F_KEY, 0,
           "self: the city's recovery key (fixed by its first feed, carried to each successor)"),
    F_KIND("predecessor", AG_F_KEY, 0, "self, after a succession: the key this one follows"),
    F_KIND("successor", AG_F_KEY, 0, "successor: the key that takes this feed's place"),
    F_END,
};

/* A purge names at most this many seqs: a record has at most this many versions to erase at once.
 */
#define PURGE_SEQS_MAX 4096
static const struct ag_field seq_el[] = {
    F_INT(NULL, 1, 1, INT64_MAX, "a seq of the author's own feed"),
};
static const struct ag_field purge_fields[] = {
    F_LIST("seqs", 1, 1, PURGE_SEQS_MAX, seq_el,
           "the author's earlier entries whose bodies are erased on every node"),
    F_END,
};

static const struct ag_schema schemas[] = {
    {"profile", "the city's migration profile: the situation, by topic, with its sources",
     "always \"main\": one profile per city", "main", profile_fields},
    {"priority", "the city's priority document: priority areas with their stakeholders", NULL, NULL,
     priority_fields},
    {"practice", "a good practice: what a city did, on which topic, with whom, what came out", NULL,
     NULL, practice_fields},
    {"pilot", "a pilot project: one urgent priority tackled, with its team and milestones", NULL,
     NULL, pilot_fields},
    {"toolbox", "a toolbox guide: step-by-step guidance, policy options, practical tools", NULL,
     NULL, toolbox_fields},
    {"meeting", "a peer meeting: agenda, participants and notes", NULL, NULL, meeting_fields},
    {"comment", "a reply by one city to a record of another", NULL, NULL, comment_fields},
    {"member", "a roster entry: a city introduces another member's key",
     "by convention the member's key, so that each key has one entry", NULL, member_fields},
    {"purge", "erases the bodies of some of the author's earlier entries, for good",
     "by convention the seq of the retraction it follows", NULL, purge_fields},
    {"identity", "the feed's own: its recovery key and its succession (agorad writes it)",
     "self (the feed's first entry) or successor (its last, at agora key rotate)", NULL,
     identity_fields},
};

#define NSCHEMAS (sizeof(schemas) / sizeof(schemas[0]))

const struct ag_schema *ag_schema_find(const char *type)
{
	for (size_t i = 0; i < NSCHEMAS; i++)
		if (strcmp(schemas[i].type, type) == 0)
			return &schemas[i];
	return NULL;
}

const struct ag_schema *ag_schema_all(size_t *n)
{
	*n = NSCHEMAS;
	return schemas;
}

const char *ag_field_kind_name(enum ag_field_kind kind)
{
	static const char *const names[] = {
	    [AG_F_TEXT] = "text",
	    [AG_F_STR] = "string",
	    [AG_F_INT] = "integer",
	    [AG_F_BOOL] = "boolean",
	    [AG_F_DATE] = "date",
	    [AG_F_ENUM] = "enum",
	    [AG_F_TOPIC] = "topic",
	    [AG_F_TOPICS] = "topics",
	    [AG_F_STAKEHOLDER] = "stakeholder",
	    [AG_F_STAKEHOLDERS] = "stakeholders",
	    [AG_F_KEY] = "key",
	    [AG_F_URL] = "url",
	    [AG_F_OBJECT] = "object",
	    [AG_F_LIST] = "list",
	    [AG_F_RECTYPE] = "type",
	    [AG_F_RECID] = "id",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
		return "?";
	return names[kind];
}

/* ---- the checker ---- */

struct chk {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	char path[192]; /* where the walk is: "areas[2].topics[0]" */
	size_t plen;
	char *why;
	size_t whylen;
};

/* Up to 48 bytes of s for a message: controls become '?', a cut ends at a character. */
static void quote(char out[static 64], const char *s, size_t len)
{
	size_t n = len > 48 ? 48 : len, o = 0;

	while (n < len && n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++)
		out[o++] = ((uint8_t)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (n < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* The fault, prefixed by the path when there is one. Always AG_ESCHEMA. */
__attribute__((format(printf, 2, 3))) static int fail(struct chk *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (c->whylen == 0)
		return AG_ESCHEMA;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->why, c->whylen, "%s%s%s", c->path, c->plen ? ": " : "", msg);
	return AG_ESCHEMA;
}

/* The path is for the message only: a caller that asks for none (the store) pays for none. */
static size_t path_push_name(struct chk *c, const char *name, size_t len)
{
	size_t old = c->plen;
	char q[64];

	if (c->whylen == 0)
		return old;
	quote(q, name, len);
	snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", q);
	c->plen = strlen(c->path);
	return old;
}

static size_t path_push_index(struct chk *c, uint64_t i)
{
	size_t old = c->plen;

	if (c->whylen == 0)
		return old;
	snprintf(c->path + old, sizeof(c->path) - old, "[%llu]", (unsigned long long)i);
	c->plen = strlen(c->path);
	return old;
}

static void path_pop(struct chk *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* What the value at pos is, for "expected X, got Y". */
static const char *got(const struct chk *c)
{
	uint8_t t = c->buf[c->pos];

	if (t <= 0x7f || t >= 0xe0 || (t >= 0xcc && t <= 0xd3))
		return "an integer";
	if (t >= 0x80 && t <= 0x8f)
		return "a map";
	if (t >= 0x90 && t <= 0x9f)
		return "an array";
	if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb))
		return "a string";
	switch (t) {
	case 0xc0:
		return "nil";
	case 0xc2:
	case 0xc3:
		return "a boolean";
	case 0xcb:
		return "a float";
	case 0xdc:
	case 0xdd:
		return "an array";
	case 0xde:
	case 0xdf:
		return "a map";
	default:
		return "binary data";
	}
}

static int expected(struct chk *c, const char *what)
{
	return fail(c, "expected %s, got %s", what, got(c));
}

/* A string value: its bytes, or a "expected" fault. */
static int read_str(struct chk *c, const char *what, const char **s, size_t *len)
{
	if (ag__mp_read_str(c->buf, c->len, &c->pos, s, len) != 0)
		return expected(c, what);
	return 0;
}

/* Do the 8 bytes at s hold only printable ASCII (0x20 to 0x7e)? Most text does. */
static int printable8(const char *s)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t v;

	memcpy(&v, s, 8);
	/* A high bit set by "v - 0x20" or "v + 1" marks a byte under 0x20 or at 0x7f. */
	return ((v | (v - 0x20 * ones) | (v + ones)) & high) == 0;
}

/*
 * Control characters would let a peer's record drive the reader's terminal;
 * only multi-line text (over SHORT bytes) may hold tab and newline.
 */
static int check_controls(struct chk *c, const char *s, size_t len, int multiline)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b;

		while (len - i >= 8 && printable8(s + i))
			i += 8;
		if (i == len)
			break;
		b = (uint8_t)s[i];
		if (multiline && (b == '\t' || b == '\n' || b == '\r'))
			continue;
		if (b < 0x20 || b == 0x7f ||
		    (b == 0xc2 && i + 1 < len && (uint8_t)s[i + 1] >= 0x80 &&
		     (uint8_t)s[i + 1] <= 0x9f))
			return fail(c, "control character at byte %zu", i);
	}
	return 0;
}

static int check_bytes(struct chk *c, const struct ag_field *f, const char *s, size_t len)
{
	if (len == 0 && f->min > 0)
		return fail(c, "empty");
	if ((int64_t)len < f->min)
		return fail(c, "%zu bytes, at least %lld", len, (long long)f->min);
	if ((int64_t)len > f->max)
		return fail(c, "%zu bytes, at most %lld", len, (long long)f->max);
	return check_controls(c, s, len, f->max > SHORT);
}

static int check_str(struct chk *c, const struct ag_field *f)
{
	const char *s;
	size_t len;
	int rc = read_str(c, "a string", &s, &len);

	return rc != 0 ? rc : check_bytes(c, f, s, len);
}

/* A language code: fr, ast, fr-TN, ar-Latn. */
static int lang_ok(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (i == len)
		return 1;
	if (s[i] != '-')
		return 0;
	s += i + 1;
	len -= i + 1;
	if (len == 2)
		return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
	if (len != 4 || s[0] < 'A' || s[0] > 'Z')
		return 0;
	for (i = 1; i < 4; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

static int check_text_map(struct chk *c, const struct ag_field *f, uint64_t n)
{
	if (n == 0)
		return fail(c, "empty map: give at least one language");
	for (uint64_t i = 0; i < n; i++) {
		const char *k, *s;
		size_t klen, len, old;
		char q[64];
		int rc;

		(void)ag__mp_read_str(c->buf, c->len, &c->pos, &k, &klen); /* keys are strings */
		old = path_push_name(c, k, klen);
		if (!lang_ok(k, klen)) {
			quote(q, k, klen);
			return fail(c, "bad language code \"%s\" (want fr, ar, en, fr-TN, ...)", q);
		}
		if ((rc = read_str(c, "a string", &s, &len)) != 0 ||
		    (rc = check_bytes(c, f, s, len)) != 0)
			return rc;
		path_pop(c, old);
	}
	return 0;
}

static int check_text(struct chk *c, const struct ag_field *f)
{
	uint64_t n;

	if (ag__mp_read_map(c->buf, c->len, &c->pos, &n) == 0)
		return check_text_map(c, f, n);
	if (strcmp(got(c), "a string") != 0)
		return expected(c, "text (a string, or a map of language code to string)");
	return check_str(c, f);
}

static int check_int(struct chk *c, const struct ag_field *f)
{
	int64_t v;
	int rc = ag__mp_read_int(c->buf, c->len, &c->pos, &v);

	if (rc == AG_ETOOBIG)
		return fail(c, "too large");
	if (rc != 0)
		return expected(c, "an integer");
	if (v < f->min && f->max == INT64_MAX)
		return fail(c, "%lld, at least %lld", (long long)v, (long long)f->min);
	if (v < f->min || v > f->max)
		return fail(c, "%lld is out of range %lld..%lld", (long long)v, (long long)f->min,
		            (long long)f->max);
	return 0;
}

static int check_bool(struct chk *c)
{
	int v;

	if (ag__mp_read_bool(c->buf, c->len, &c->pos, &v) != 0)
		return expected(c, "true or false");
	return 0;
}

static int digits(const char *s, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* "YYYY-MM-DD", a day that exists, in the years a record may speak of. */
static int date_ok(const char *s, size_t len)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, leap;

	if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
	    !digits(s + 8, 2, &d))
		return 0;
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

static int check_date(struct chk *c, const char **out)
{
	const char *s;
	size_t len;
	char q[64];
	int rc = read_str(c, "a date (YYYY-MM-DD)", &s, &len);

	if (rc != 0)
		return rc;
	if (!date_ok(s, len)) {
		quote(q, s, len);
		return fail(c, "bad date \"%s\" (want YYYY-MM-DD, a real day, 1900..2100)", q);
	}
	*out = s;
	return 0;
}

static int check_enum(struct chk *c, const struct ag_field *f)
{
	const char *s;
	size_t len;
	char q[64], list[160] = "";
	int rc = read_str(c, "a string", &s, &len);

	if (rc != 0)
		return rc;
	for (size_t i = 0; f->values[i]; i++) {
		if (strlen(f->values[i]) == len && memcmp(f->values[i], s, len) == 0)
			return 0;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
		         f->values[i]);
	}
	quote(q, s, len);
	return fail(c, "unknown value \"%s\" (one of %s)", q, list);
}

/* One vocabulary key; *idx gets its index. what: "topic" or "stakeholder". */
static int check_vocab(struct chk *c, const struct ag_vocab *v, size_t n, const char *what,
                       size_t *idx)
{
	const char *s, *near;
	size_t len;
	char q[64];
	int rc = read_str(c, "a string", &s, &len);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].key) == len && memcmp(v[i].key, s, len) == 0) {
			*idx = i;
			return 0;
		}
	quote(q, s, len);
	near = ag_nearest(s, len, &v[0].key, sizeof(v[0]), n);
	if (near)
		return fail(c, "unknown %s \"%s\" (did you mean \"%s\"?)", what, q, near);
	return fail(c, "unknown %s \"%s\" (`agora schema %ss` lists them)", what, q, what);
}

static int check_count(struct chk *c, const struct ag_field *f, uint64_t n)
{
	if (n == 0 && f->min > 0)
		return fail(c, "empty, at least %lld item%s", (long long)f->min,
		            f->min > 1 ? "s" : "");
	if ((int64_t)n < f->min)
		return fail(c, "%llu items, at least %lld", (unsigned long long)n,
		            (long long)f->min);
	if (n > (uint64_t)f->max)
		return fail(c, "%llu items, at most %lld", (unsigned long long)n,
		            (long long)f->max);
	return 0;
}

/* An array of distinct keys of a vocabulary (at most 64 keys). */
static int check_vocab_list(struct chk *c, const struct ag_field *f, const struct ag_vocab *v,
                            size_t nv, const char *what)
{
	uint64_t n, seen = 0;
	int rc;

	if (ag__mp_read_array(c->buf, c->len, &c->pos, &n) != 0)
		return expected(c, "an array of keys");
	if ((rc = check_count(c, f, n)) != 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t old = path_push_index(c, i), idx = 0;

		if ((rc = check_vocab(c, v, nv, what, &idx)) != 0)
			return rc;
		if (seen & ((uint64_t)1 << idx))
			return fail(c, "duplicate %s \"%s\"", what, v[idx].key);
		seen |= (uint64_t)1 << idx;
		path_pop(c, old);
	}
	return 0;
}

static int check_key(struct chk *c)
{
	const char *s;
	size_t len;
	char b64[AG_B64_LEN + 1];
	uint8_t pk[AG_PK_LEN];
	int rc = read_str(c, "a public key (44 characters of base64)", &s, &len);

	if (rc != 0)
		return rc;
	if (len == AG_B64_LEN) {
		memcpy(b64, s, len);
		b64[len] = '\0';
		if (ag_key_from_b64(pk, b64) == 0)
			return 0;
	}
	return fail(c, "not a public key (44 characters of base64)");
}

static int check_url(struct chk *c, const struct ag_field *f)
{
	const char *s;
	size_t len, scheme;
	char q[64];
	int rc = read_str(c, "a URL", &s, &len);

	if (rc != 0)
		return rc;
	if ((int64_t)len > f->max)
		return fail(c, "%zu bytes, at most %lld", len, (long long)f->max);
	scheme = len >= 7 && memcmp(s, "http://", 7) == 0    ? 7
	         : len >= 8 && memcmp(s, "https://", 8) == 0 ? 8
	                                                     : 0;
	if (scheme == 0 || scheme == len || s[scheme] == '/') {
		quote(q, s, len);
		return fail(c, "not an http:// or https:// URL: \"%s\"", q);
	}
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)s[i] <= 0x20 || s[i] == 0x7f ||
		    ((uint8_t)s[i] == 0xc2 && i + 1 < len && (uint8_t)s[i + 1] <= 0x9f))
			return fail(c, "space or control character at byte %zu of the URL", i);
	return 0;
}

static int check_ref(struct chk *c, const struct ag_field *f)
{
	const char *s;
	size_t len;
	int rc = read_str(c, "a string", &s, &len);

	if (rc != 0)
		return rc;
	if (f->kind == AG_F_RECTYPE && ag_rectype_check(s, len) != 0)
		return fail(c, "not a record type (1..32 of a-z and -)");
	if (f->kind == AG_F_RECID && ag_recid_check(s, len) != 0)
		return fail(c, "not a record id (1..128 bytes, no control characters)");
	return 0;
}

static int check_object(struct chk *c, const struct ag_field *fields);

static int check_list(struct chk *c, const struct ag_field *f);

static int check_value(struct chk *c, const struct ag_field *f, const char **date)
{
	size_t idx;

	switch (f->kind) {
	case AG_F_TEXT:
		return check_text(c, f);
	case AG_F_STR:
		return check_str(c, f);
	case AG_F_INT:
		return check_int(c, f);
	case AG_F_BOOL:
		return check_bool(c);
	case AG_F_DATE:
		return check_date(c, date);
	case AG_F_ENUM:
		return check_enum(c, f);
	case AG_F_TOPIC:
		return check_vocab(c, ag_topics, AG_TOPIC_COUNT, "topic", &idx);
	case AG_F_TOPICS:
		return check_vocab_list(c, f, ag_topics, AG_TOPIC_COUNT, "topic");
	case AG_F_STAKEHOLDER:
		return check_vocab(c, ag_stakeholders, AG_STAKEHOLDER_COUNT, "stakeholder", &idx);
	case AG_F_STAKEHOLDERS:
		return check_vocab_list(c, f, ag_stakeholders, AG_STAKEHOLDER_COUNT, "stakeholder");
	case AG_F_KEY:
		return check_key(c);
	case AG_F_URL:
		return check_url(c, f);
	case AG_F_OBJECT:
		return check_object(c, f->sub);
	case AG_F_LIST:
		return check_list(c, f);
	case AG_F_RECTYPE:
	case AG_F_RECID:
		return check_ref(c, f);
	}
	return fail(c, "no rule for this field"); /* a table error, not the input's */
}

static int check_list(struct chk *c, const struct ag_field *f)
{
	uint64_t n;
	const char *date = NULL;
	int rc;

	if (ag__mp_read_array(c->buf, c->len, &c->pos, &n) != 0)
		return expected(c, "an array");
	if ((rc = check_count(c, f, n)) != 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t old = path_push_index(c, i);

		if ((rc = check_value(c, &f->sub[0], &date)) != 0)
			return rc;
		path_pop(c, old);
	}
	return 0;
}

static const struct ag_field *field_find(const struct ag_field *fields, const char *k, size_t len,
                                         size_t *idx)
{
	for (size_t i = 0; fields[i].name; i++)
		if (strlen(fields[i].name) == len && memcmp(fields[i].name, k, len) == 0) {
			*idx = i;
			return &fields[i];
		}
	return NULL;
}

static int unknown_field(struct chk *c, const struct ag_field *fields, const char *k, size_t len)
{
	const char *near = ag_nearest(k, len, &fields[0].name, sizeof(fields[0]), SIZE_MAX);
	char q[64];

	quote(q, k, len);
	if (near)
		return fail(c, "unknown field \"%s\" (did you mean \"%s\"?)", q, near);
	return fail(c, "unknown field \"%s\"", q);
}

/* Dates named "start" and "end" in one object must be in order. */
static int check_span(struct chk *c, const char *start, const char *end)
{
	size_t old;
	int rc;

	if (!start || !end || memcmp(end, start, 10) >= 0)
		return 0;
	old = path_push_name(c, "end", 3);
	rc = fail(c, "%.10s is before start %.10s", end, start);
	path_pop(c, old);
	return rc;
}

static int check_object(struct chk *c, const struct ag_field *fields)
{
	uint64_t n, seen = 0;
	const char *start = NULL, *end = NULL;
	int rc;

	if (ag__mp_read_map(c->buf, c->len, &c->pos, &n) != 0)
		return expected(c, "an object (a map of field to value)");
	for (uint64_t i = 0; i < n; i++) {
		const struct ag_field *f;
		const char *k, *date = NULL;
		size_t klen, idx = 0, old;

		(void)ag__mp_read_str(c->buf, c->len, &c->pos, &k, &klen); /* keys are strings */
		if (!(f = field_find(fields, k, klen, &idx)))
			return unknown_field(c, fields, k, klen);
		seen |= (uint64_t)1 << idx;
		old = path_push_name(c, k, klen);
		if ((rc = check_value(c, f, &date)) != 0)
			return rc;
		path_pop(c, old);
		if (date && strcmp(f->name, "start") == 0)
			start = date;
		if (date && strcmp(f->name, "end") == 0)
			end = date;
	}
	for (size_t i = 0; fields[i].name; i++)
		if (fields[i].required && !(seen & ((uint64_t)1 << i)))
			return fail(c, "missing field \"%s\"", fields[i].name);
	return check_span(c, start, end);
}

static int check_id(struct chk *c, const struct ag_schema *s, const char *id, size_t id_len)
{
	char q[64];

	if (!s->fixed_id || (strlen(s->fixed_id) == id_len && memcmp(s->fixed_id, id, id_len) == 0))
		return 0;
	quote(q, id, id_len);
	return fail(c, "id must be \"%s\" (%s), not \"%s\"", s->fixed_id, s->id_rule, q);
}

int ag_schema_value_check(const struct ag_field *f, const uint8_t *val, size_t len)
{
	struct chk c = {.buf = val, .len = len};
	const char *date = NULL;
	int rc;

	if ((rc = ag_mp_check(val, len, AG_DEPTH_MAX - 1, NULL)) != 0)
		return rc;
	if ((rc = check_value(&c, f, &date)) != 0)
		return rc;
	return c.pos == len ? 0 : AG_ESCHEMA;
}

int ag_schema_check(const char *type, const char *id, size_t id_len, const uint8_t *body,
                    size_t body_len, char *why, size_t whylen)
{
	const struct ag_schema *s = ag_schema_find(type);
	struct chk c = {.buf = body, .len = body_len, .why = why, .whylen = whylen};
	size_t where = 0;
	int rc;

	if (whylen > 0)
		why[0] = '\0';
	if (!s || !body)
		return 0;
	if ((rc = ag_mp_check(body, body_len, AG_DEPTH_MAX - 1, &where)) != 0) {
		if (whylen > 0)
			snprintf(why, whylen, "body: %s at byte %zu", ag_strerror(rc), where);
		return rc;
	}
	if ((rc = check_id(&c, s, id, id_len)) != 0)
		return rc;
	if (body[0] != 0xde && body[0] != 0xdf && (body[0] < 0x80 || body[0] > 0x8f)) {
		if (whylen > 0)
			snprintf(why, whylen, "body: not a map");
		return AG_EBODY;
	}
	return check_object(&c, s->fields);
}
