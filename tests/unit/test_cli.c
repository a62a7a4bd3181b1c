/*
 * test_cli.c: agora's command line without a daemon: arguments refused with
 * one clear line and exit status 2, help for every command, exit status 3
 * and its message when agorad cannot be reached, 4 when the node failed, init and id offline,
 * the output layer's column widths over French and Arabic text, and its cleaning of
 * what a record's text holds that would drive a terminal.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <dirent.h>
#include <sodium.h>
#include <stdbool.h>

#include <cmocka.h>

#include "cmd.h"
#include "ctl.h"
#include "key.h"
#include "keyfile.h"
#include "out.h"
#include "recovery.h"
#include "testutil.h"

#define KEY "VUrkMAS3avEWf+hpOE/F/hoXLqVyOvQeh+Iu/99oB/k="

static char *tmp;

struct run {
	int rc;
	char *out, *err;
	size_t outlen, errlen;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Runs agora with the words of line (split on '|'), its output to out and err. */
static int run_files(const char *line, FILE *out, FILE *err)
{
	char *copy = strdup(line), *argv[32], *save;
	int argc = 0, rc;

	assert_non_null(copy);
	argv[argc++] = "agora";
	save = copy;
	/* strsep, not strtok: an empty word is an argument too. */
	for (char *w; *line && (w = strsep(&save, "|")) != NULL;)
		argv[argc++] = w;
	argv[argc] = NULL;
	out_set_files(out, err);
	rc = cmd_main(argc, argv);
	out_set_files(NULL, NULL);
	free(copy);
	return rc;
}

/* Runs agora with the words of line (split on '|'), catching stdout and stderr. */
static struct run run_line(const char *line)
{
	struct run r = {0};
	FILE *out = open_memstream(&r.out, &r.outlen), *err = open_memstream(&r.err, &r.errlen);

	assert_non_null(out);
	assert_non_null(err);
	r.rc = run_files(line, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Arguments refused: status, and the start of the one line on stderr. */
static const struct usage_case {
	const char *line;
	int rc;
	const char *err;
} usage_cases[] = {
    {"", 2, "agora: no command given (see agora help)"},
    {"frob", 2, "agora: unknown command \"frob\" (see agora help)"},
    {"--frob|status", 2, "agora: unknown option --frob"},
    {"--dir", 2, "agora: option --dir needs a value"},
    {"peer", 2, "agora: peer: missing subcommand (one of: add, remove, list, log)"},
    {"peer|frob", 2, "agora: peer: unknown subcommand \"frob\" (one of: add, remove, list, log)"},
    {"peer|add", 2, "agora: peer add: missing KEY"},
    {"peer|add|xyz|--name|Tunis", 2, "agora: peer add: bad key \"xyz\": a key is 44 characters"},
    {"peer|add|AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=|--name|T", 2,
     "agora: peer add: bad key \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\": not an Ed25519"},
    {"peer|add|" KEY, 2, "agora: peer add: missing --name NAME"},
    {"peer|add|" KEY "|--name", 2, "agora: peer add: option --name needs a value"},
    {"peer|add|" KEY "|--name|T|extra", 2, "agora: peer add: unexpected argument \"extra\""},
    {"peer|remove", 2, "agora: peer remove: missing KEY"},
    {"peer|list|x", 2, "agora: peer list: unexpected argument \"x\""},
    {"put", 2, "agora: put: missing TYPE (usage: agora put TYPE ID [--file FILE] [--force])"},
    {"put|practice", 2, "agora: put: missing ID"},
    {"put|practice|p1|p2", 2, "agora: put: unexpected argument \"p2\""},
    {"put|practise|p1", 2, "agora: put: unknown record type \"practise\" (one of: profile,"},
    {"put|Practice|p1", 2, "agora: put: unknown record type \"Practice\""},
    {"put|practice|a\nb", 2, "agora: put: bad record id \"a b\""},
    {"put|practice|p1|--city|Tunis", 2, "agora: put: unknown option --city (see agora help put)"},
    {"put|practice|p1|--file", 2, "agora: put: option --file needs a value"},
    {"put|practice|p1|--file|/nonexistent/x.json", 2,
     "agora: put: cannot read /nonexistent/x.json: No such file or directory"},
    {"put|practice|p1|--force=yes", 2, "agora: put: option --force takes no value"},
    {"get|practice", 2, "agora: get: missing ID"},
    {"get|practice|p1|--topic|health", 2, "agora: get: unknown option --topic"},
    {"list|practice|--type|pilot", 2, "agora: list: two types given"},
    {"list|--topic|weather", 2, "agora: list: unknown topic \"weather\" (one of: housing,"},
    {"list|--limit|ten", 2, "agora: list: bad --limit \"ten\": expected a whole number"},
    {"list|--limit|-1", 2, "agora: list: bad --limit \"-1\""},
    {"list|--limit|99999999999999999999", 2, "agora: list: bad --limit"},
    {"list|--limit=", 2, "agora: list: bad --limit \"\""},
    {"list|widgets", 2, "agora: list: unknown record type \"widgets\""},
    {"search", 2, "agora: search: missing TEXT"},
    {"search|x|--type|thing", 2, "agora: search: unknown record type \"thing\""},
    {"retract|practice", 2, "agora: retract: missing ID"},
    {"history|practice", 2, "agora: history: missing ID"},
    {"log|--since|x", 2, "agora: log: bad --since \"x\""},
    {"log|extra", 2, "agora: log: unexpected argument \"extra\""},
    {"init", 2, "agora: init: missing --name NAME"},
    {"help|frob", 2, "agora: help: unknown command \"frob\""},
    {"-x", 2, "agora: unknown option -x"},
};

static void test_usage(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]); i++) {
		const struct usage_case *c = &usage_cases[i];
		struct run r = run_line(c->line);

		if (r.rc != c->rc || strncmp(r.err, c->err, strlen(c->err)) != 0 ||
		    lines(r.err) != 1 || r.outlen != 0)
			fail_msg(
			    "agora %s: status %d, stderr \"%s\", stdout \"%s\"; want %d and \"%s\"",
			    c->line, r.rc, r.err, r.out, c->rc, c->err);
		run_free(&r);
	}
}

static const char *const commands[] = {
    "init", "id",   "status", "peer|add", "peer|remove", "peer|list", "put",
    "get",  "list", "search", "retract",  "history",     "log",       "key|rotate",
};

static void test_help(void **state)
{
	char line[64], want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *forms[] = {"%s|--help", "%s|-h", "help|%s", "--json|%s|--help"};

		snprintf(want, sizeof(want), "usage: agora [--dir DIR] [--json] %s", commands[i]);
		for (char *p = want; *p; p++)
			*p = *p == '|' ? ' ' : *p;
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			struct run r;

			snprintf(line, sizeof(line), forms[f], commands[i]);
			r = run_line(line);
			if (r.rc != 0 || strncmp(r.out, want, strlen(want)) != 0 || r.errlen != 0)
				fail_msg("agora %s: status %d, stdout \"%s\", stderr \"%s\"", line,
				         r.rc, r.out, r.err);
			/* Every option of the command is explained. */
			assert_non_null(strstr(r.out, "--dir DIR"));
			assert_non_null(strstr(r.out, "--json"));
			run_free(&r);
		}
	}
}

static void test_help_general(void **state)
{
	struct run r;

	(void)state;
	r = run_line("help");
	assert_int_equal(r.rc, 0);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "  %s", commands[i]);
		for (char *p = name; *p; p++)
			*p = *p == '|' ? ' ' : *p;
		if (!strstr(r.out, name))
			fail_msg("agora help does not list %s", name);
	}
	assert_non_null(strstr(r.out, "Exit status: 0 done; 1 not found; 2 usage"));
	run_free(&r);
	r = run_line("--help");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "Commands:"));
	run_free(&r);
	r = run_line("--version");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "agora " AGORA_VERSION "\n");
	run_free(&r);
	r = run_line("help|topics");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "housing         hébergement"));
	run_free(&r);
	r = run_line("help|peer");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "agora peer add KEY --name NAME"));
	run_free(&r);
}

/* Every command that needs agorad says so in one line, status 3, when none runs. */
static void test_unreachable(void **state)
{
	static const char *const lines_[] = {
	    "status",
	    ("peer|add|" KEY "|--name|Tunis"),
	    ("peer|remove|" KEY),
	    "peer|remove|Tunis",
	    "peer|list",
	    "get|practice|p1",
	    "list",
	    "list|practice|--topic|health|--city|Tunis|--limit|3",
	    "search|hébergement",
	    "retract|practice|p1",
	    "history|practice|p1",
	    "log|--since|3",
	    "--json|status",
	    "id",
	};
	char want[512], line[512];

	(void)state;
	snprintf(want, sizeof(want), "agora: cannot reach agorad at %s/agorad.sock: ", tmp);
	for (size_t i = 0; i < sizeof(lines_) / sizeof(lines_[0]); i++) {
		struct run r;

		snprintf(line, sizeof(line), "--dir|%s|%s", tmp, lines_[i]);
		r = run_line(line);
		if (r.rc != 3 || strncmp(r.err, want, strlen(want)) != 0 || lines(r.err) != 1 ||
		    r.outlen != 0)
			fail_msg("agora %s: status %d, stderr \"%s\"", line, r.rc, r.err);
		run_free(&r);
	}
}

/* AGORA_DIR picks the node when --dir does not; --dir wins. */
static void test_dir_choice(void **state)
{
	char want[512], line[512];
	struct run r;

	(void)state;
	setenv("AGORA_DIR", tmp, 1);
	r = run_line("status");
	snprintf(want, sizeof(want), "agora: cannot reach agorad at %s/agorad.sock", tmp);
	assert_int_equal(r.rc, 3);
	assert_true(strncmp(r.err, want, strlen(want)) == 0);
	run_free(&r);
	snprintf(line, sizeof(line), "status|--dir|%s/other", tmp);
	r = run_line(line);
	snprintf(want, sizeof(want), "agora: cannot reach agorad at %s/other/agorad.sock", tmp);
	assert_true(strncmp(r.err, want, strlen(want)) == 0);
	run_free(&r);
	unsetenv("AGORA_DIR");
}

/* Bad JSON is told as FILE:LINE:COL, status 2, before any daemon is asked (none runs here). */
static void test_put_bad_json(void **state)
{
	static const struct {
		const char *doc, *err;
	} cases[] = {
	    {"{\"title\": \"x\",\n \"year\": }", ":2:10: unexpected token near '}'"},
	    {"{\"title\": \"x\"", ":1:13: '}' expected near end of file"},
	    {"", ":1:0: '[' or '{' expected near end of file"},
	    {"{\"a\": 1, \"a\": 2}", ":1:12: duplicate object key near '\"a\"'"},
	    {"[1, 2]", ": a record is a JSON object ({...}), not an array"},
	    {"{\"t\": \"\\u0000\"}", ":1:14: \\u0000 is not allowed in text"},
	    {"{\"n\": 18446744073709551616}", ":1:26: too big integer near '18446744073709551616'"},
	};
	char *file = tu_path(tmp, "doc.json"), line[512], want[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;

		assert_int_equal(tu_write_file(file, cases[i].doc, strlen(cases[i].doc)), 0);
		snprintf(line, sizeof(line), "--dir|%s|put|practice|p1|--file|%s", tmp, file);
		snprintf(want, sizeof(want), "%s%s", file, cases[i].err);
		r = run_line(line);
		if (r.rc != 2 || !strstr(r.err, want) || lines(r.err) != 1)
			fail_msg("%s: status %d, stderr \"%s\", want \"%s\"", cases[i].doc, r.rc,
			         r.err, want);
		run_free(&r);
	}
	free(file);
}

static void test_put_too_deep(void **state)
{
	char *file = tu_path(tmp, "deep.json"), line[512], doc[256] = "";
	struct run r;

	(void)state;
	/* 16 levels of objects: one more than a body may nest. */
	for (int i = 0; i < 16; i++)
		strcat(doc, "{\"a\": ");
	strcat(doc, "1");
	for (int i = 0; i < 16; i++)
		strcat(doc, "}");
	assert_int_equal(tu_write_file(file, doc, strlen(doc)), 0);
	snprintf(line, sizeof(line), "--dir|%s|put|practice|p1|--file|%s", tmp, file);
	r = run_line(line);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "nested deeper than 15 levels"));
	run_free(&r);
	free(file);
}

/* Whether any file directly in dir holds the n bytes of needle. */
static bool dir_holds(const char *dir, const void *needle, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while (!found && (de = readdir(d))) {
		char *path = tu_path(dir, de->d_name), *text;
		size_t len = 0;

		if ((text = tu_read_file(path, &len)))
			found = memmem(text, len, needle, n) != NULL;
		free(text);
		free(path);
	}
	closedir(d);
	return found;
}

/*
 * agora init printed the recovery key (its text between the dashes), which
 * reads back as a recovery key file, whose public half is DIR/recovery.pub;
 * no file in DIR holds its secret, as raw bytes, seed or base64.
 */
static void recovery_printed_once(const char *dir, const char *out, const char *key)
{
	const char *from = strstr(out, "-----\n"), *to;
	char *file = tu_path(tmp, "saved.key"), *pubpath = tu_path(dir, "recovery.pub"), *pub,
	     err[256];
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	char b64[AG_B64_LEN + 1], sk64[89];

	assert_non_null(from);
	from += 6;
	assert_non_null(to = strstr(from, "-----\n"));
	assert_non_null(strstr(from, key)); /* the comment names the node */
	assert_int_equal(tu_write_file(file, from, (size_t)(to - from)), 0);
	assert_int_equal(recovery_read(file, pk, sk, err, sizeof(err)), 0);
	ag_key_to_b64(b64, pk);
	assert_non_null(pub = tu_read_file(pubpath, NULL));
	assert_int_equal(strncmp(pub, b64, AG_B64_LEN), 0);
	sodium_bin2base64(sk64, sizeof(sk64), sk, AG_SK_LEN, sodium_base64_VARIANT_ORIGINAL);
	assert_false(dir_holds(dir, sk, 32));
	assert_false(dir_holds(dir, sk64, 88));
	assert_false(dir_holds(dir, sk64, 40)); /* no part of its base64 */
	/* A file of two secret lines, or none, is not a recovery key. */
	assert_int_equal(tu_write_file(file, "# nothing\n", 10), 0);
	assert_int_equal(recovery_read(file, pk, sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a recovery key"));
	unlink(file);
	free(pub);
	free(pubpath);
	free(file);
}

static void test_init_and_id_offline(void **state)
{
	char *dir = tu_path(tmp, "lyon"), line[512], key[AG_B64_LEN + 2];
	struct run r;
	struct stat st;

	(void)state;
	snprintf(line, sizeof(line), "init|--dir|%s|--name|Lyon|--listen|127.0.0.1:17447", dir);
	r = run_line(line);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.errlen, 0);
	assert_true(r.outlen > AG_B64_LEN + 1 && r.out[AG_B64_LEN] == '\n');
	memcpy(key, r.out, AG_B64_LEN);
	key[AG_B64_LEN] = '\0';
	recovery_printed_once(dir, r.out, key);
	run_free(&r);
	assert_int_equal(stat(dir, &st), 0);

	/* A second init changes nothing and says why. */
	r = run_line(line);
	assert_int_equal(r.rc, 2);
	assert_true(strncmp(r.err, "agora: init: ", 13) == 0);
	assert_int_equal(lines(r.err), 1);
	run_free(&r);

	/* No daemon, but the directory is readable: id answers from it. */
	snprintf(line, sizeof(line), "id|--dir|%s", dir);
	r = run_line(line);
	assert_int_equal(r.rc, 0);
	assert_true(strncmp(r.out, key, AG_B64_LEN) == 0);
	assert_non_null(strstr(r.out, "Lyon"));
	run_free(&r);
	snprintf(line, sizeof(line), "--json|id|--dir|%s", dir);
	r = run_line(line);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "\"name\": \"Lyon\""));
	assert_non_null(strstr(r.out, key));
	run_free(&r);
	free(dir);
}

static void test_init_refused(void **state)
{
	static const char *const bad[] = {
	    "--name||--listen|127.0.0.1:1",         /* empty name */
	    "--name|Lyon|--listen|nowhere",         /* not ADDR:PORT */
	    "--name|Lyon|--listen|127.0.0.1:99999", /* port */
	};
	char line[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = tu_path(tmp, "refused"), *key = tu_path(dir, "node.key");
		struct run r;
		struct stat st;

		snprintf(line, sizeof(line), "init|--dir|%s|%s", dir, bad[i]);
		r = run_line(line);
		if (r.rc != 2 || strncmp(r.err, "agora: init: ", 13) != 0 || lines(r.err) != 1)
			fail_msg("agora %s: status %d, stderr \"%s\"", line, r.rc, r.err);
		/* Nothing written. */
		assert_int_not_equal(stat(key, &st), 0);
		run_free(&r);
		tu_rmtree(dir);
		free(key);
		free(dir);
	}
}

static void test_init_json(void **state)
{
	char *dir = tu_path(tmp, "tunis"), line[512];
	struct run r;

	(void)state;
	snprintf(line, sizeof(line), "--json|init|--dir|%s|--name|تونس", dir);
	r = run_line(line);
	assert_int_equal(r.rc, 0);
	assert_true(r.out[0] == '{');
	assert_non_null(strstr(r.out, "\"name\": \"تونس\""));
	run_free(&r);
	free(dir);
}

/*
 * The recovery secret never waits in stdio's buffer, where it would stay until
 * agora exits: init writes it past the buffer (text and --json), so a buffer
 * of the test's own, given to the output's stream, never holds it.
 */
static void test_init_secret_unbuffered(void **state)
{
	static char held[1 << 16];
	const char *forms[] = {"init|--dir|%s|--name|Sfax", "--json|init|--dir|%s|--name|Oran"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *dir = tu_path(tmp, i ? "oran" : "sfax"), *path = tu_path(tmp, "init.out");
		char line[512], *text, *at;
		FILE *f = fopen(path, "w+");
		size_t len;

		assert_non_null(f);
		assert_int_equal(setvbuf(f, held, _IOFBF, sizeof(held)), 0);
		snprintf(line, sizeof(line), forms[i], dir);
		assert_int_equal(run_files(line, f, NULL), 0);
		/* The secret's line, from what reached the file. */
		assert_non_null(text = tu_read_file(path, &len));
		at = strstr(text, i ? "keep it offline\\n" : "keep it offline\n");
		assert_non_null(at);
		at += i ? 17 : 16;
		assert_true(strlen(at) > KEYFILE_B64);
		assert_null(memmem(held, sizeof(held), at, KEYFILE_B64));
		fclose(f);
		sodium_memzero(text, len);
		free(text);
		free(path);
		free(dir);
	}
}

/*
 * A fake agorad: answers one request on DIR/agorad.sock with the bytes given
 * (a header whose request id 0 is replaced by the request's), so that the
 * client's reading of answers the real daemon never gives can be tried.
 */
struct fake {
	int fd;
	uint8_t answer[128];
	size_t len;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	uint8_t hdr[AG_CTL_HDR_LEN], buf[4096];
	int c = accept(f->fd, NULL, NULL);

	if (c >= 0 && recv(c, hdr, sizeof(hdr), MSG_WAITALL) == (ssize_t)sizeof(hdr)) {
		size_t len =
		    (size_t)hdr[8] << 24 | (size_t)hdr[9] << 16 | (size_t)hdr[10] << 8 | hdr[11];

		if (len <= sizeof(buf))
			(void)!recv(c, buf, len, MSG_WAITALL);
		if (f->len >= AG_CTL_HDR_LEN && !memcmp(f->answer + 4, "\0\0\0\0", 4))
			memcpy(f->answer + 4, hdr + 4, 4);
		(void)!send(c, f->answer, f->len, MSG_NOSIGNAL);
	}
	if (c >= 0)
		close(c);
	return NULL;
}

static const struct fake_case {
	const char *what, *line, *hex;
	int rc;
	const char *err;
} fake_cases[] = {
    {"another version, its words", "id",
     "0002ffff000000000000004683a26f6bc2a673746174757304a56572726f72d93161676f726120616e642061676f7"
     "261642076657273696f6e73206469666665723a2061676f72616420737065616b732032",
     3, "agora: agora and agorad versions differ: agorad speaks 2"},
    {"another version, a body of another shape", "status", "000280020000000000000001c0", 3,
     "agora: agora and agorad versions differ (agora speaks 1, agorad 2)"},
    {"a malformed body", "status", "00018002000000000000000281a2", 3,
     "agora: agorad sent a malformed response: truncated input"},
    {"ok not first", "status", "00018002000000000000000882a16101a26f6bc3", 3,
     "agora: agorad sent a malformed response: wrong type or number of fields"},
    {"closed without an answer", "status", "", 3, "closed the connection without an answer"},
    {"an answer to another request", "status", "00018002000000990000000581a26f6bc3", 3,
     "agora: agorad answered another request"},
    {"a response of 4 GiB", "status", "0001800200000000ffffffff", 3,
     "agora: agorad sent a response of 4294967295 bytes, over the limit"},
    {"a response of 64 MiB announced, 2 bytes sent", "status", "00018002000000000400000081a2", 3,
     "closed the connection without an answer"},
    {"an unknown type", "status", "00011234000000000000000581a26f6bc3", 3,
     "agora: agorad sent a message of unknown type 4660"},
    {"not found", "get|practice|p9",
     "0001ffff000000000000002283a26f6bc2a673746174757301a56572726f72ae6e6f207072616374696365207039",
     1, "agora: get: no practice p9"},
    {"refused", "list",
     "0001ffff000000000000002483a26f6bc2a673746174757302a56572726f72b0626164206c6973742072657175657"
     "374",
     2, "agora: list: bad list request"},
    {"the daemon failed", "list",
     "0001ffff000000000000002483a26f6bc2a673746174757305a56572726f72b07468652073746f7265206661696c6"
     "564",
     4, "agora: list: the store failed"},
    {"busy", "list",
     "0001ffff000000000000002283a26f6bc2a673746174757303a56572726f72ae61676f7261642069732062757379",
     3, "agora: agorad is busy"},
};

/* fake_run DIR HEX LINE: agora LINE against a daemon in DIR that answers its one request with HEX.
 */
static struct run fake_run(const char *dir, const char *hex, const char *cmd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct fake f = {.len = strlen(hex) / 2};
	char line[512];
	pthread_t t;
	struct run r;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/agorad.sock", dir);
	assert_int_equal(tu_hex_decode(f.answer, f.len, hex), 0);
	f.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(sa.sun_path);
	assert_int_equal(bind(f.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f.fd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
	snprintf(line, sizeof(line), "--dir|%s|%s", dir, cmd);
	r = run_line(line);
	pthread_join(t, NULL);
	close(f.fd);
	unlink(sa.sun_path);
	return r;
}

static void test_fake_daemon(void **state)
{
	char *dir = tu_path(tmp, "fake");

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < sizeof(fake_cases) / sizeof(fake_cases[0]); i++) {
		const struct fake_case *c = &fake_cases[i];
		struct run r = fake_run(dir, c->hex, c->line);

		if (r.rc != c->rc || !strstr(r.err, c->err) || lines(r.err) != 1 || r.outlen != 0)
			fail_msg("%s: status %d, stderr \"%s\"; want %d and \"%s\"", c->what, r.rc,
			         r.err, c->rc, c->err);
		run_free(&r);
	}
	free(dir);
}

/*
 * A feed with no entries: LOG answers {ok: true, entries: [], next: nil}, whose
 * empty array decodes to no array at all. agora log says so and exits 0; under
 * UBSan a copy from that NULL (as log_take made) stops it.
 */
static void test_log_empty(void **state)
{
	char *dir = tu_path(tmp, "fake-log");
	struct run r;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	r = fake_run(dir, "0001800c000000000000001483a26f6bc3a7656e747269657390a46e657874c0",
	             "log");
	if (r.rc != 0 || r.errlen != 0)
		fail_msg("log of an empty feed: status %d, stderr \"%s\"", r.rc, r.err);
	run_free(&r);
	free(dir);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(out_width("abc", 3), 3);
	assert_int_equal(out_width("hébergement", strlen("hébergement")), 11);
	/* Arabic letters are one column each; their vowel marks take none. */
	assert_int_equal(out_width("سَكَن", strlen("سَكَن")), 3);
	/* East Asian wide characters take two. */
	assert_int_equal(out_width("日本", strlen("日本")), 4);
	/* Invalid bytes count one each, never crash. */
	assert_int_equal(out_width("\xff\xfe", 2), 2);
}

static void test_table_golden(void **state)
{
	static const char *const head[] = {"CITY", "TITLE", "SEQ"};
	static const char *const rows[][3] = {
	    {"Lyon", "Hébergement d'urgence", "1"},
	    {"تونس", "سكن", "12"},
	    {"Napoli", "a title\nwith a newline", NULL},
	    {"Marseille", "a title far too long for the column it is given here", "3"},
	};
	static const char want[] = "CITY       TITLE                  SEQ\n"
	                           "Lyon       Hébergement d'urgence  1\n"
	                           "تونس       سكن                    12\n"
	                           "Napoli     a title with a newli…  -\n"
	                           "Marseille  a title far too long…  3\n";
	struct table *t = table_new(3, head);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(t);
	table_limit(t, 1, 21);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(table_add(t, rows[i]), 0);
	assert_int_equal(table_rows(t), 4);
	out_set_files(f, NULL);
	table_print(t);
	out_set_files(NULL, NULL);
	fclose(f);
	if (strcmp(buf, want) != 0)
		fail_msg("table:\n%s\nwant:\n%s", buf, want);
	free(buf);
	table_free(t);
}

/* What a record's text may hold, and what people are shown of it (out_clean). */
static const struct clean_case {
	const char *in;
	int flags;
	const char *want;
} clean_cases[] = {
    {"Hébergement d'urgence", 0, "Hébergement d'urgence"},
    {"سَكَنٌ « logement » 日本", 0, "سَكَنٌ « logement » 日本"},
    /* ESC [ 2 J clears the screen; BEL rings; BS and DEL rub out what was shown. */
    {"\x1b[2Jcleared", 0, "\\x1b[2Jcleared"},
    {"ring\a", 0, "ring\\x07"},
    {"ab\bc\x7f", 0, "ab\\x08c\\x7f"},
    /* C1: U+009B is CSI to many terminals, U+0085 a line break to some. */
    {"\xc2\x9b"
     "2J",
     0, "\\u009b2J"},
    {"x\xc2\x85y\xc2\x80", 0, "x\\u0085y\\u0080"},
    /* Bidi embeddings, overrides and isolates would reorder the line as it is shown. */
    {"evil\xe2\x80\xae"
     "txt.exe",
     0, "evil\\u202etxt.exe"},
    {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", 0, "\\u202a\\u202b\\u202c\\u202d"},
    {"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 0, "\\u2066\\u2067\\u2068\\u2069"},
    {"a\xe2\x80\xa8"
     "b\xe2\x80\xa9",
     0, "a\\u2028b\\u2029"},
    /* Marks that Arabic text uses (RLM, ALM, ZWJ) are left as they are. */
    {"\xe2\x80\x8f\xd8\x9c\xe2\x80\x8d", 0, "\xe2\x80\x8f\xd8\x9c\xe2\x80\x8d"},
    /* A CR alone would send the cursor back over the line: escaped. */
    {"fake\rreal", 0, "fake\\x0dreal"},
    {"fake\rreal", OUT_LINES, "fake\\x0dreal"},
    /* Line breaks: one line (a space each) or kept; CR LF as one; a tab is a space. */
    {"one\ntwo\r\nthree\tfour", 0, "one two three four"},
    {"one\ntwo\r\nthree\tfour", OUT_LINES, "one\ntwo\nthree four"},
    /* Bytes that are not UTF-8, and an encoded surrogate, each shown as its byte. */
    {"\xff\xfe", 0, "\\xff\\xfe"},
    {"a\xc3", 0, "a\\xc3"},
    {"\xed\xa0\x80", 0, "\\xed\\xa0\\x80"},
    /* The escape's backslash is not doubled: a reader sees what was written. */
    {"C:\\x1b", 0, "C:\\x1b"},
};

static void test_clean(void **state)
{
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(clean_cases) / sizeof(clean_cases[0]); i++) {
		const struct clean_case *c = &clean_cases[i];
		size_t n = out_clean(buf, sizeof(buf), c->in, strlen(c->in), c->flags);
		char *dup = out_clean_dup(c->in, c->flags);

		if (strcmp(buf, c->want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, buf, c->want);
		assert_int_equal(n, strlen(c->want));
		assert_non_null(dup);
		assert_string_equal(dup, c->want);
		free(dup);
	}
	/* A buffer too small: cut before an escape or a character that does not fit whole. */
	assert_int_equal(out_clean(buf, 6, "abc\x1b[2J", 7, 0), strlen("abc\\x1b[2J"));
	assert_string_equal(buf, "abc");
	assert_int_equal(out_clean(buf, 3, "aé", 3, 0), 3);
	assert_string_equal(buf, "a");
	assert_int_equal(out_clean(buf, 1, "abc", 3, 0), 3);
	assert_string_equal(buf, "");
}

/* Every way agora prints for people cleans; the bold of a snippet is agora's own. */
static void test_clean_paths(void **state)
{
	static const char *const head[] = {"TITLE"};
	const char *row[] = {"\x1b[2J\xc2\x9b\a\r\xe2\x80\xae"};
	struct table *t = table_new(1, head);
	char *out = NULL, *err = NULL;
	size_t outlen = 0, errlen = 0;
	FILE *fo = open_memstream(&out, &outlen), *fe = open_memstream(&err, &errlen);

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_add(t, row), 0);
	out_set_files(fo, fe);
	table_print(t);
	out_printf("%s\n", row[0]);
	out_line("%s\n%s", "title", row[0]);
	out_err("no such record \"%s\"\nsecond", row[0]);
	out_set_files(NULL, NULL);
	fclose(fo);
	fclose(fe);
	assert_string_equal(out, "TITLE\n"
	                         "\\x1b[2J\\u009b\\x07\\x0d\\u202e\n"
	                         "\\x1b[2J\\u009b\\x07\\x0d\\u202e\n"
	                         "title \\x1b[2J\\u009b\\x07\\x0d\\u202e\n");
	assert_string_equal(err,
	                    "agora: no such record \"\\x1b[2J\\u009b\\x07\\x0d\\u202e\" second\n");
	free(out);
	free(err);
	table_free(t);
}

static void test_short_and_time(void **state)
{
	char buf[64];

	(void)state;
	out_short(buf, sizeof(buf), KEY, 10);
	assert_string_equal(buf, "VUrkMAS3av…");
	out_short(buf, sizeof(buf), "short", 10);
	assert_string_equal(buf, "short");
	setenv("TZ", "UTC", 1);
	out_time(buf, sizeof(buf), 1740837900000ull);
	assert_string_equal(buf, "2025-03-01 14:05");
	out_time(buf, sizeof(buf), 0);
	assert_string_equal(buf, "-");
}

static int setup(void **state)
{
	(void)state;
	unsetenv("AGORA_DIR");
	if (ag_init() != 0 || !(tmp = tu_tmpdir("cli")))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_help_general),
	    cmocka_unit_test(test_unreachable),
	    cmocka_unit_test(test_dir_choice),
	    cmocka_unit_test(test_put_bad_json),
	    cmocka_unit_test(test_put_too_deep),
	    cmocka_unit_test(test_init_and_id_offline),
	    cmocka_unit_test(test_init_refused),
	    cmocka_unit_test(test_init_json),
	    cmocka_unit_test(test_init_secret_unbuffered),
	    cmocka_unit_test(test_fake_daemon),
	    cmocka_unit_test(test_log_empty),
	    cmocka_unit_test(test_width),
	    cmocka_unit_test(test_table_golden),
	    cmocka_unit_test(test_short_and_time),
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_clean_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
