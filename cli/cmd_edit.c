/*
 * cmd_edit.c: agora edit TYPE ID: a record in the user's editor, as crontab
 * -e and visudo do it. The file is the record as JSON, under comment lines
 * (// ...) that say what each field of its type holds; a new record starts
 * from a template of its schema, the optional fields commented out. On save
 * the comments are dropped (and a comma before } or ], which hand-written
 * JSON often leaves), the record is checked as agora put checks it, and
 * published; if it is refused, the file reopens with the reasons on top. A
 * file saved unchanged publishes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "exits.h"
#include "rec.h"
#include "schema.h"

#define REFUSED "// agora: refused: "

/* ---- the file ---- */

/* A value to start a field from: the kind's shape, to be filled in. */
static json_t *blank(const struct ag_field *f);

static json_t *blank_object(const struct ag_field *fields)
{
	json_t *o = json_object();

	for (const struct ag_field *f = fields; f->name; f++)
		if (f->required)
			json_object_set_new(o, f->name, blank(f));
	return o;
}

static json_t *blank(const struct ag_field *f)
{
	char today[11];
	time_t now = time(NULL);

	switch (f->kind) {
	case AG_F_TEXT:
		return json_pack("{s:s}", "fr", "");
	case AG_F_INT:
		return json_integer(f->min == 1900 ? 1900 + localtime(&now)->tm_year : f->min);
	case AG_F_BOOL:
		return json_false();
	case AG_F_DATE:
		strftime(today, sizeof(today), "%Y-%m-%d", localtime(&now));
		return json_string(today);
	case AG_F_ENUM:
		return json_string(f->values[0]);
	case AG_F_URL:
		return json_string("https://");
	case AG_F_OBJECT:
		return blank_object(f->sub);
	case AG_F_LIST:
		return f->min > 0 ? json_pack("[o]", blank(&f->sub[0])) : json_array();
	case AG_F_TOPICS:
	case AG_F_STAKEHOLDERS:
		return json_array();
	default:
		return json_string("");
	}
}

static void vocab_line(FILE *f, const char *what, const struct ag_vocab *v, size_t n)
{
	fprintf(f, "// %s:", what);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s%s", v[i].key, i + 1 < n ? "," : "\n");
}

/* The comments on top: what the file is, how to write it, each field of the type. */
static void header(FILE *f, const struct args *a, const struct ag_schema *s, bool fresh)
{
	fprintf(f,
	        "// agora edit %s %s: %s this city's %s.\n"
	        "// JSON; lines that start with // are ignored, and so is a comma before } or ].\n"
	        "// Text is \"...\" or one per language, {\"fr\": \"...\", \"ar\": \"...\"}. Save "
	        "and quit to\n// publish; leave the file as it was to publish nothing.\n",
	        a->pos[0], a->pos[1], fresh ? "a new record of" : "the record of", a->pos[0]);
	if (!s)
		return;
	fprintf(f, "// %s: %s. Fields (* required; agora schema %s says more):\n", s->type, s->help,
	        s->type);
	for (const struct ag_field *fd = s->fields; fd->name; fd++)
		fprintf(f, "//   %s%s (%s): %s\n", fd->name, fd->required ? "*" : "",
		        ag_field_kind_name(fd->kind), fd->help);
	vocab_line(f, "topics", ag_topics, AG_TOPIC_COUNT);
	vocab_line(f, "stakeholders", ag_stakeholders, AG_STAKEHOLDER_COUNT);
}

/* A new record: the required fields to fill in, the optional ones as comments to uncomment. */
static void template(FILE *f, const struct ag_schema *s)
{
	char *v;

	fputs("{\n", f);
	for (const struct ag_field *fd = s ? s->fields : NULL; fd && fd->name; fd++) {
		json_t *b = blank(fd);

		v = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
		fprintf(f, "%s  \"%s\": %s,\n", fd->required ? "" : "//", fd->name, v ? v : "null");
		free(v);
		json_decref(b);
	}
	fputs("}\n", f);
}

/* The whole first text of the file, as a string the caller frees. */
static char *first_text(const struct args *a, const struct ag_schema *s, const json_t *body)
{
	char *text = NULL, *v;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	header(f, a, s, body == NULL);
	if (body) {
		v = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fprintf(f, "%s\n", v ? v : "{}");
		free(v);
	} else {
		template(f, s);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- reading it back ---- */

/*
 * The JSON in text: comment lines blanked and a comma before } or ] made a
 * space, in place, so that jansson's line and column still point into the
 * file as the user sees it.
 */
static void strip(char *text)
{
	bool in_str = false, line_start = true;

	for (char *p = text; *p; p++) {
		if (line_start && !in_str) {
			char *q = p + strspn(p, " \t");

			if (q[0] == '/' && q[1] == '/')
				for (p = q; *p && *p != '\n'; p++)
					*p = ' ';
		}
		line_start = *p == '\n';
		if (!*p)
			break;
		if (in_str && *p == '\\' && p[1]) {
			p++;
		} else if (*p == '"') {
			in_str = !in_str;
		} else if (!in_str && *p == ',' && strchr("}]", p[strspn(p + 1, " \t\r\n") + 1]) &&
		           p[strspn(p + 1, " \t\r\n") + 1]) {
			*p = ' ';
		}
	}
}

/* The record in the file, or NULL with why it is not one. */
static json_t *parse(char *text, char *why, size_t whylen)
{
	json_error_t e;
	json_t *body;

	strip(text);
	if (text[strspn(text, " \t\r\n")] == '\0') {
		snprintf(why, whylen, "the file holds no record");
		return NULL;
	}
	if (!(body = json_loads(text, JSON_REJECT_DUPLICATES, &e))) {
		snprintf(why, whylen, "line %d, column %d: %s", e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		snprintf(why, whylen, "a record is a JSON object ({...})");
		return NULL;
	}
	return body;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&s, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(s);
		return strdup("");
	}
	return s;
}

static int spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0;
	return (fclose(f) != 0 || rc) ? -1 : 0;
}

/* The text again with the reasons on top, the previous round's taken away. */
static char *with_reasons(const char *text, const char *why)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s%s\n// agora: fix it and save, or leave the file as it is to give up.\n",
	        REFUSED, why);
	while (strncmp(text, "// agora: ", 10) == 0 && strchr(text, '\n'))
		text = strchr(text, '\n') + 1;
	fputs(text, f);
	return fclose(f) == 0 ? out : (free(out), NULL);
}

/* ---- the editor ---- */

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* $EDITOR (a command line, as git takes it), else editor, else vi, on path. 0 if it exited 0. */
static int run_editor(const char *path)
{
	const char *ed = getenv("EDITOR");
	pid_t pid;
	int st;

	if (!ed || !*ed)
		ed = on_path("editor") ? "editor" : "vi";
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ---- the command ---- */

struct edit {
	const struct args *a;
	char path[4200];
	const json_t *old; /* the record's body now, NULL for a new one */
	char *shown;       /* what the file held when the editor opened it */
};

/* One round: the editor, then the file read back. 0 published or nothing to do, 2 refused, -1
 * again. */
static int round_trip(struct edit *e)
{
	char *text, why[400];
	json_t *body;
	int rc;

	if (spit(e->path, e->shown) != 0)
		return cmd_fail(e->a, 2, "cannot write %s: %s", e->path, strerror(errno));
	if (run_editor(e->path) != 0)
		return cmd_fail(e->a, 2, "the editor failed: nothing published");
	if (!(text = slurp(e->path)))
		return cmd_fail(e->a, 2, "cannot read %s: %s", e->path, strerror(errno));
	if (strcmp(text, e->shown) == 0) {
		bool refused = strncmp(text, REFUSED, strlen(REFUSED)) == 0;

		free(text);
		if (refused)
			return cmd_fail(e->a, 2, "left as refused: nothing published");
		out_printf("no change: nothing published\n");
		return 0;
	}
	body = parse(text, why, sizeof(why));
	if (body && e->old && json_equal(body, e->old)) {
		json_decref(body);
		free(text);
		out_printf("no change: nothing published\n");
		return 0;
	}
	if (body && rec_body_check(e->a->pos[0], e->a->pos[1], body, why, sizeof(why)) == 0) {
		free(text);
		return rec_publish(e->a, e->a->pos[0], e->a->pos[1], body);
	}
	json_decref(body);
	/* Read again the user's own text, not the stripped one. */
	free(text);
	text = slurp(e->path);
	out_err("edit %s %s: refused: %s", e->a->pos[0], e->a->pos[1], why);
	free(e->shown);
	e->shown = text ? with_reasons(text, why) : NULL;
	free(text);
	rc = e->shown ? -1 : cmd_fail(e->a, 3, "out of memory");
	return rc;
}

static int edit_file(struct edit *e)
{
	int fd, rc;

	snprintf(e->path, sizeof(e->path), "%s/agora-edit-XXXXXX.json",
	         getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemps(e->path, 5)) < 0)
		return cmd_fail(e->a, 2, "cannot make a file in %s: %s", e->path, strerror(errno));
	close(fd);
	while ((rc = round_trip(e)) < 0)
		;
	unlink(e->path);
	return rc;
}

int cmd_edit(const struct args *a)
{
	const struct ag_schema *s;
	struct edit e = {.a = a};
	struct rec rec;
	int rc;

	if ((rc = cmd_check_type(a, a->pos[0])) != 0)
		return rc;
	if (ag_recid_check(a->pos[1], strlen(a->pos[1])) != 0)
		return cmd_fail(a, EXIT_REFUSED,
		                "bad record id \"%s\": 1 to %d bytes without control characters",
		                a->pos[1], AG_ID_MAX);
	s = ag_schema_find(a->pos[0]);
	if ((rc = rec_get(a, a->pos[0], a->pos[1], NULL, true, &rec)) != 0 && rc != 1)
		return rc;
	e.old = rec.body; /* NULL when there is none */
	if (!(e.shown = first_text(a, s, e.old)))
		rc = cmd_fail(a, EXIT_LOCAL, "out of memory");
	else
		rc = edit_file(&e);
	free(e.shown);
	rec_clear(&rec);
	return rc;
}
