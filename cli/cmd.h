/*
 * cmd.h: agora's commands. cmd.c holds the command table, the argument
 * parser and help; cmd_node.c the node's commands (init, id, status, peer);
 * cmd_record.c the records' (put, get, list, search, retract, history, log);
 * cmd_ops.c the IT team's (check, metrics, backup).
 * A command returns its exit status (exits.h); it has printed one line on
 * stderr if not EXIT_DONE.
 */
#ifndef AGORA_CMD_H
#define AGORA_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exits.h"
#include "out.h"

#define CMD_DIR_DEFAULT "/var/lib/agora"

/* Every option of every command; each command allows some (struct command.opts). */
enum cmd_opt {
	OPT_DIR,
	OPT_JSON,
	OPT_HELP,
	OPT_NAME,
	OPT_LISTEN,
	OPT_ENDPOINT,
	OPT_FILE,
	OPT_FORCE,
	OPT_CITY,
	OPT_TOPIC,
	OPT_TYPE,
	OPT_LIMIT,
	OPT_SINCE,
	OPT_ID,
	OPT_TITLE,
	OPT_SUMMARY,
	OPT_DESCRIPTION,
	OPT_STAKEHOLDER,
	OPT_YEAR,
	OPT_RESULTS,
	OPT_CONTACT,
	OPT_LINK,
	OPT_LANG,
	OPT_REPLACE,
	OPT_DATE,
	OPT_DONE,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_PURGE,
	OPT_RECOVERY_KEY,
	OPT_OLD_KEY,
	OPT_ROLE,
	OPT_ALL,
	OPT_END
};

#define CMD_POS_MAX 16

struct command;

/* A command line, parsed. */
struct args {
	const struct command *cmd;
	const char *dir; /* --dir, else $AGORA_DIR, else CMD_DIR_DEFAULT */
	bool json;
	const char *pos[CMD_POS_MAX];
	int npos;
	const char *opt[OPT_END]; /* an option's value ("" for a flag), NULL if not given */
	char **argv;              /* the command's own arguments, for repeated options */
	int argc;
};

typedef int cmd_fn(const struct args *);

struct command {
	const char *name; /* one or two words: "peer add" */
	cmd_fn *fn;
	const char *summary;
	const char *synopsis; /* after the name: "TYPE ID [--file FILE]" */
	const char *pos_names[CMD_POS_MAX];
	int min_pos, max_pos;
	uint64_t opts; /* 1 << enum cmd_opt, beyond --dir, --json and --help */
	const char *help;
};

/* The whole program: parses argv and runs a command. Returns the exit status. */
int cmd_main(int argc, char **argv);

/* "agora: CMD: why" on stderr; returns status. */
int cmd_fail(const struct args *, int status, const char *fmt, ...) OUT_PRINTF(3, 4);

struct ag_ctl_req;

/*
 * Asks agorad (at args->dir) for req, on a connection of its own: 0 with
 * resp, the struct that ctl_resp.h gives its response (ag_ctl_resp_shape),
 * decoded strictly, which the caller frees with ag_ctl_resp_clear; or the
 * exit status with the error printed.
 */
int cmd_call(const struct args *, const struct ag_ctl_req *req, void *resp);

/* The same without printing: the exit status, and err saying why. */
int cmd_ask(const struct args *, const struct ag_ctl_req *req, void *resp, char *err,
            size_t errlen);

/*
 * Sets a string field of a request (ag_ctl_req_set): 0, or EXIT_REFUSED
 * printed as agorad would refuse it, "bad list request: city: too big".
 */
int cmd_req_set(const struct args *, struct ag_ctl_req *, uint32_t bit, const char *s);

/* Prints err as cmd_call would for status rc; returns rc. */
int cmd_report(const struct args *, int rc, const char *err);

/* Prints doc (consumed) as the command's JSON document; returns 0, or 3 if stdout fails. */
int cmd_json(json_t *doc);

/* Refusals, each printed as cmd_fail does: 0 if good, else 2. */
int cmd_check_type(const struct args *, const char *type);
/*
 * A type to read: this release's, or any other name a newer release may have
 * given one ([a-z-]{1,32}) unless it is a near miss of a known type (a typo).
 */
int cmd_check_read_type(const struct args *, const char *type);
int cmd_check_topic(const struct args *, const char *topic);
int cmd_check_key(const struct args *, const char *what, const char *key);
int cmd_uint(const struct args *, enum cmd_opt, uint64_t *v);

/* The option's name without dashes, "city". */
const char *cmd_opt_name(enum cmd_opt);

/*
 * Every value given to a repeatable option (--topic a --topic b), in order:
 * up to max of them in vals; returns how many were given (may exceed max).
 */
size_t cmd_opt_values(const struct args *, enum cmd_opt, const char **vals, size_t max);

/* The commands. */
int cmd_init(const struct args *);
int cmd_id(const struct args *);
int cmd_status(const struct args *);
int cmd_sync(const struct args *); /* cmd_sync.c */
int cmd_peer_add(const struct args *);
int cmd_peer_remove(const struct args *);
int cmd_peer_list(const struct args *);
int cmd_put(const struct args *);
int cmd_get(const struct args *);
int cmd_list(const struct args *);
int cmd_search(const struct args *);
int cmd_retract(const struct args *);
int cmd_history(const struct args *);
int cmd_log(const struct args *);
int cmd_practice_add(const struct args *);
int cmd_profile_set(const struct args *);
int cmd_profile_show(const struct args *);
int cmd_pilot_milestone(const struct args *);
int cmd_pilot_status(const struct args *);
int cmd_comment(const struct args *);
int cmd_show(const struct args *);
int cmd_export(const struct args *);
int cmd_compact(const struct args *);
int cmd_fork_list(const struct args *);
int cmd_peer_log(const struct args *);
/* agora history member KEY without --city: the roster's history of that key. */
int cmd_history_member(const struct args *, const char *key);
int cmd_schema(const struct args *);
int cmd_report_html(const struct args *);
int cmd_edit(const struct args *);
int cmd_news(const struct args *);
int cmd_check(const struct args *);
int cmd_metrics(const struct args *);
int cmd_backup(const struct args *);
int cmd_key_rotate(const struct args *); /* cmd_keys.c */
int cmd_key_new(const struct args *);
int cmd_recover(const struct args *);
int cmd_cert_import(const struct args *);

#endif
