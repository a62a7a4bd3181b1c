/*
 * cmd_ops.c: the IT team's commands: check (is the node healthy), metrics
 * (its counts in Prometheus's text format) and backup (a hot copy of its
 * store and config).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "ctlj.h"

#define BACKUP_TIMEOUT_MS (6 * 3600 * 1000) /* a copy of a large store on a slow disk */

int cmd_check(const struct args *a)
{
	struct ag_ctl_check c;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_CHECK);
	if ((rc = cmd_call(a, &req, &c)) != 0)
		return rc;
	if (a->json)
		rc = cmd_json(ctlj_from(&ag_ctl_check_shape, &c));
	else if (c.nproblems == 0)
		out_printf("healthy\n");
	for (size_t i = 0; !a->json && i < c.nproblems; i++)
		out_line("%s", c.problems[i].message);
	if (rc == 0 && c.nproblems > 0)
		rc = EXIT_NOTFOUND; /* what was asked for does not hold (DESIGN.md, CLI) */
	ag_ctl_resp_clear(&ag_ctl_check_shape, &c);
	return rc;
}

/* ---- metrics ---- */

enum unit {
	U_COUNT, /* a uint64_t as it is */
	U_SECS,  /* a uint64_t of milliseconds, as seconds */
	U_BOOL,  /* a bool, as 0 or 1 */
};

/* A metric family: its name after "agora_", type, help, and where its value is. */
struct family {
	const char *name, *type, *help;
	size_t off;
	enum unit unit;
};

#define M(f) offsetof(struct ag_ctl_metrics, f)
#define P(f) offsetof(struct ag_ctl_peer, f)

static const struct family node_families[] = {
    {"ready", "gauge", "1 once the node has learned its own feed from a peer and may publish",
     M(ready), U_BOOL},
    {"uptime_seconds", "gauge", "Seconds since agorad started", M(uptime_ms), U_SECS},
    {"feeds", "gauge", "Feeds held in the store", M(feeds), U_COUNT},
    {"feeds_forked", "gauge", "Feeds flagged forked: they take nothing more", M(forked), U_COUNT},
    {"records", "gauge", "Records held, retracted ones included", M(records), U_COUNT},
    {"entries", "gauge", "Entries held, in every feed", M(entries), U_COUNT},
    {"store_bytes", "gauge", "Bytes of the store's pages in use", M(store_bytes), U_COUNT},
    {"store_max_bytes", "gauge", "MaxDisk: the store's bound", M(max_disk), U_COUNT},
    {"store_full", "gauge", "1 while entries from peers are not stored (MaxDisk or the disk)",
     M(store_full), U_BOOL},
    {"feeds_over_quota", "gauge", "Feeds whose last body was dropped over Quota", M(over_quota),
     U_COUNT},
    {"invalid_entries_total", "counter",
     "Entries refused as invalid since agorad started (their sender was cut off)", M(invalid),
     U_COUNT},
};

static const struct family peer_families[] = {
    {"peer_connected", "gauge", "1 while the peer is connected", P(connected), U_BOOL},
    {"peer_last_contact_timestamp_seconds", "gauge",
     "When the peer was last heard from, in Unix time; 0 for never since agorad started",
     P(last_contact_ms), U_SECS},
    {"peer_entries_received_total", "counter", "Entries stored from the peer", P(received),
     U_COUNT},
    {"peer_entries_sent_total", "counter", "Entries sent to the peer", P(sent), U_COUNT},
    {"peer_duplicate_entries_total", "counter", "Entries the peer sent that were held already",
     P(duplicates), U_COUNT},
    {"peer_invalid_entries_total", "counter", "Entries the peer sent that were refused as invalid",
     P(invalid), U_COUNT},
    {"peer_bytes_received_total", "counter",
     "Bytes received from the peer on its current connection", P(bytes_in), U_COUNT},
    {"peer_bytes_sent_total", "counter", "Bytes sent to the peer on its current connection",
     P(bytes_out), U_COUNT},
    {"peer_they_lack_entries", "gauge", "Entries we hold that the peer lacks, as last known",
     P(they_lack), U_COUNT},
    {"peer_we_lack_entries", "gauge", "Entries the peer announced that we lack, as last known",
     P(we_lack), U_COUNT},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The metrics are read by machines (node_exporter), so they are written exact,
 * as --json is, not cleaned for a terminal: label values are escaped below as
 * the text format wants.
 */
static void metric_printf(const char *fmt, ...) OUT_PRINTF(1, 2);

static void metric_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out_file(), fmt, ap);
	va_end(ap);
}

static void print_value(const struct family *f, const void *v)
{
	const char *p = (const char *)v + f->off;
	uint64_t n;

	if (f->unit == U_BOOL) {
		metric_printf(" %d\n", *(const bool *)p ? 1 : 0);
		return;
	}
	memcpy(&n, p, sizeof(n));
	if (f->unit == U_SECS)
		metric_printf(" %llu.%03llu\n", (unsigned long long)(n / 1000),
		              (unsigned long long)(n % 1000));
	else
		metric_printf(" %llu\n", (unsigned long long)n);
}

/* A label value, with \, " and newline escaped as the text format wants. */
static void print_label(const char *name, const char *value, bool last)
{
	metric_printf("%s=\"", name);
	for (const char *s = value; *s; s++) {
		if (*s == '\\' || *s == '"')
			metric_printf("\\%c", *s);
		else if (*s == '\n')
			metric_printf("\\n");
		else
			metric_printf("%c", *s);
	}
	metric_printf("\"%s", last ? "}" : ",");
}

static void print_family(const struct family *f)
{
	metric_printf("# HELP agora_%s %s\n# TYPE agora_%s %s\n", f->name, f->help, f->name,
	              f->type);
}

/* The text exposition format, version 0.0.4, that node_exporter's textfile collector reads. */
static void print_metrics(const struct ag_ctl_metrics *m)
{
	for (size_t i = 0; i < NELEM(node_families); i++) {
		print_family(&node_families[i]);
		metric_printf("agora_%s", node_families[i].name);
		print_value(&node_families[i], m);
	}
	print_family(&(struct family){"peers", "gauge", "Peers in the config", 0, U_COUNT});
	metric_printf("agora_peers %zu\n", m->npeers);
	for (size_t i = 0; i < NELEM(peer_families); i++) {
		print_family(&peer_families[i]);
		for (size_t j = 0; j < m->npeers; j++) {
			metric_printf("agora_%s{", peer_families[i].name);
			print_label("peer", m->peers[j].name, false);
			print_label("key", m->peers[j].key, true);
			print_value(&peer_families[i], &m->peers[j]);
		}
	}
}

int cmd_metrics(const struct args *a)
{
	struct ag_ctl_metrics m;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_METRICS);
	if ((rc = cmd_call(a, &req, &m)) != 0)
		return rc;
	if (a->json)
		rc = cmd_json(ctlj_from(&ag_ctl_metrics_shape, &m));
	else
		print_metrics(&m);
	ag_ctl_resp_clear(&ag_ctl_metrics_shape, &m);
	return rc;
}

/* ---- backup ---- */

/*
 * DEST as an absolute path without "." or "..": agorad has another working
 * directory. Its parent must exist; DEST itself may not yet.
 */
static int backup_dest(const struct args *a, char *out, size_t len)
{
	char *copy = strdup(a->pos[0]), *slash, parent[PATH_MAX];
	const char *base;
	int rc = 0;

	if (!copy)
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (*copy ? copy : "/") : ".", parent))
		rc = cmd_fail(a, EXIT_REFUSED, "%s: %s", a->pos[0], strerror(errno));
	else if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		rc = cmd_fail(a, EXIT_REFUSED, "%s: name the backup's directory itself", a->pos[0]);
	else if ((size_t)snprintf(out, len, "%s/%s", strcmp(parent, "/") ? parent : "", base) >=
	             len ||
	         strlen(out) > AG_CTL_PATH_MAX)
		rc = cmd_fail(a, EXIT_REFUSED, "%s: path too long", a->pos[0]);
	free(copy);
	return rc;
}

int cmd_backup(const struct args *a)
{
	char dest[PATH_MAX + AG_CTL_PATH_MAX + 2], err[800];
	struct ag_ctl_backup b;
	struct ag_ctl_req req;
	struct client *c;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_BACKUP);
	if ((rc = backup_dest(a, dest, sizeof(dest))) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_PATH, dest)) != 0)
		return rc;
	if (!(c = client_open(a->dir, err, sizeof(err))))
		return cmd_report(a, EXIT_UNREACHABLE, err);
	client_set_timeout(c, BACKUP_TIMEOUT_MS);
	rc = client_ask(c, &req, &b, err, sizeof(err));
	client_close(c);
	if (rc != 0)
		return cmd_report(a, rc, err);
	if (a->json)
		return cmd_json(ctlj_from(&ag_ctl_backup_shape, &b));
	out_printf("backup in %s: agorad.conf and the store (%llu bytes); node.key is not in it\n",
	           b.path, (unsigned long long)b.bytes);
	return 0;
}
