/* cmd_node.c: the node's commands: init, id, status, peer add, peer remove, peer list. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "ctlj.h"
#include "key.h"
#include "nodedir.h"
#include "recovery.h"

/*
 * Writes n bytes of s, which hold the recovery secret, past stdio: what stdio
 * holds is flushed, then s goes straight to the output's file descriptor, so
 * that no copy of it waits in stdio's buffer until agora exits. A stream
 * without a descriptor (a test's memory stream) takes it as any other. 0 or -1.
 */
static int put_secret(const char *s, size_t n)
{
	FILE *f = out_file();
	int fd = fileno(f);
	ssize_t w;

	if (fflush(f) != 0)
		return -1;
	if (fd < 0)
		return fwrite(s, 1, n, f) == n ? 0 : -1;
	for (; n > 0; s += w, n -= (size_t)w)
		if ((w = write(fd, s, n)) < 0 && errno != EINTR)
			return -1;
		else if (w < 0)
			w = 0;
	return 0;
}

/* The recovery key, shown this once, with what to do with it. */
static int print_recovery(const char *text)
{
	out_printf("\n"
	           "Below is the city's RECOVERY KEY. agora keeps no copy of it: it is shown\n"
	           "this once. Save the lines between the dashes to a file and keep it\n"
	           "OFFLINE: on a USB stick in a safe, or printed on paper; never on this\n"
	           "machine, in DIR or in its backups. If node.key is lost or stolen, or the\n"
	           "node's feed forks, `agora recover --recovery-key FILE` gives the city a\n"
	           "new key with it. Whoever holds it can take the city's place.\n"
	           "-----\n");
	if (put_secret(text, strlen(text)) != 0)
		return -1;
	out_printf("-----\n");
	return 0;
}

/*
 * jansson's allocator while a document holds the recovery secret: each block
 * carries its size, so that it is wiped before it is freed.
 */
#define WIPE_HEAD sizeof(max_align_t)

static void *wipe_malloc(size_t n)
{
	unsigned char *p = n <= SIZE_MAX - WIPE_HEAD ? malloc(n + WIPE_HEAD) : NULL;

	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + WIPE_HEAD;
}

static void wipe_free(void *q)
{
	unsigned char *p = q ? (unsigned char *)q - WIPE_HEAD : NULL;
	size_t n;

	if (!p)
		return;
	memcpy(&n, p, sizeof(n));
	sodium_memzero(p, n + WIPE_HEAD);
	free(p);
}

/*
 * --json: the secret passes through jansson's buffers, which are wiped as
 * they go, and past stdio's (put_secret).
 */
static int init_json(const struct args *a, const char *key, const char *text)
{
	char *s = NULL;
	json_t *doc;
	int rc;

	json_set_alloc_funcs(wipe_malloc, wipe_free);
	doc = json_pack("{s:s, s:s, s:s, s:s}", "key", key, "name", a->opt[OPT_NAME], "dir", a->dir,
	                "recovery_key", text);
	if (doc)
		s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	rc = s && put_secret(s, strlen(s)) == 0 && put_secret("\n", 1) == 0 ? 0 : -1;
	wipe_free(s); /* json_dumps took it from wipe_malloc */
	json_decref(doc);
	json_set_alloc_funcs(malloc, free);
	return rc;
}

static int init_done(const struct args *a, const uint8_t pk[static AG_PK_LEN], const char *text)
{
	char key[AG_B64_LEN + 1];
	int rc;

	ag_key_to_b64(key, pk);
	if (a->json) {
		rc = init_json(a, key, text);
	} else {
		out_printf("%s\n", key);
		rc = print_recovery(text);
	}
	if (rc != 0)
		return cmd_fail(a, EXIT_LOCAL, "the recovery key cannot be printed: %s",
		                strerror(errno));
	return 0;
}

int cmd_init(const struct args *a)
{
	uint8_t pk[AG_PK_LEN], rsk[AG_SK_LEN];
	char why[1024], text[RECOVERY_TEXT_MAX];
	int rc;

	if (!a->opt[OPT_NAME])
		return cmd_fail(a, EXIT_REFUSED,
		                "missing --name NAME (usage: agora init --dir DIR --name NAME)");
	if (nodedir_init(a->dir, a->opt[OPT_NAME], a->opt[OPT_LISTEN], pk, rsk, why, sizeof(why)) !=
	    0)
		return cmd_fail(a, EXIT_REFUSED, "%s", why);
	recovery_text(text, rsk, a->opt[OPT_NAME], pk);
	sodium_memzero(rsk, sizeof(rsk));
	rc = init_done(a, pk, text);
	sodium_memzero(text, sizeof(text));
	return rc;
}

static int print_id(const struct args *a, const struct ag_ctl_id *id)
{
	if (a->json)
		return cmd_json(ctlj_from(&ag_ctl_id_shape, id));
	out_line("%s  %s", id->key, id->name);
	return 0;
}

/* Without a daemon: the key and name from DIR, if this user may read them (no network). */
static int id_offline(const struct args *a, struct ag_ctl_id *id)
{
	uint8_t pk[AG_PK_LEN];
	char err[1024];

	memset(id, 0, sizeof(*id));
	if (nodedir_id(a->dir, pk, id->name, err, sizeof(err)) != 0)
		return -1;
	ag_key_to_b64(id->key, pk);
	return 0;
}

int cmd_id(const struct args *a)
{
	struct ag_ctl_req req;
	struct ag_ctl_id id;
	char err[800];
	int rc;

	ag_ctl_req_init(&req, AG_CTL_ID);
	rc = cmd_ask(a, &req, &id, err, sizeof(err));

	if (rc == 0)
		return print_id(a, &id);
	if (rc == EXIT_UNREACHABLE && id_offline(a, &id) == 0)
		return print_id(a, &id);
	return cmd_report(a, rc, err);
}

/* A lag figure: "?" when never known; a disconnected peer's says when it was known. */
static void lag_cell(char *buf, size_t len, const struct ag_ctl_peer *p, uint64_t n)
{
	char when[32];

	if (p->lag_known_ms == 0) {
		snprintf(buf, len, "?");
		return;
	}
	if (p->connected) {
		snprintf(buf, len, "%llu", (unsigned long long)n);
		return;
	}
	out_time(when, sizeof(when), p->lag_known_ms);
	snprintf(buf, len, "%llu (at %s)", (unsigned long long)n, when);
}

/* What the peer runs, as its last HELLO said: "agorad 0.1.0 (protocol 2)", or "-" before one. */
static const char *peer_runs(char *buf, size_t len, const struct ag_ctl_peer *p)
{
	if (p->protocol == 0)
		return "-";
	snprintf(buf, len, "%s%s(protocol %llu)", p->software, p->software[0] ? " " : "",
	         (unsigned long long)p->protocol);
	return buf;
}

/* A peer as a table row: short keys in status, whole ones in peer list. */
static int peer_row(struct table *t, const struct ag_ctl_peer *p, bool whole_key, bool counts)
{
	char key[64], last[32], we[48], they[48], received[24], runs[AG_CTL_SOFTWARE_MAX + 40];
	const char *row[10];

	if (whole_key)
		snprintf(key, sizeof(key), "%s", p->key);
	else
		out_short(key, sizeof(key), p->key, 10);
	out_time(last, sizeof(last), p->last_contact_ms);
	lag_cell(we, sizeof(we), p, p->we_lack);
	lag_cell(they, sizeof(they), p, p->they_lack);
	snprintf(received, sizeof(received), "%llu", (unsigned long long)p->received);
	row[0] = p->name[0] ? p->name : NULL;
	row[1] = p->role[0] ? p->role : NULL;
	row[2] = key;
	row[3] = p->endpoint[0] ? p->endpoint : "(calls us)";
	row[4] = p->connected ? "yes" : "no";
	row[5] = last;
	row[6] = counts ? we : NULL;
	row[7] = counts ? they : NULL;
	row[8] = counts ? received : NULL;
	row[counts ? 9 : 6] = peer_runs(runs, sizeof(runs), p);
	return table_add(t, row);
}

static void print_peers(const struct ag_ctl_peer *peers, size_t n, bool whole_key, bool counts)
{
	static const char *const head[] = {"PEER",      "ROLE",         "KEY",     "ENDPOINT",
	                                   "CONNECTED", "LAST CONTACT", "WE LACK", "THEY LACK",
	                                   "RECEIVED",  "RUNS"};
	static const char *const head_list[] = {"PEER",      "ROLE",         "KEY", "ENDPOINT",
	                                        "CONNECTED", "LAST CONTACT", "RUNS"};
	struct table *t = counts ? table_new(10, head) : table_new(7, head_list);

	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		peer_row(t, &peers[i], whole_key, counts);
	if (table_rows(t) == 0)
		out_printf("no peers (agora peer add KEY --name NAME --endpoint HOST:PORT)\n");
	else
		table_print(t);
	table_free(t);
}

/* A size for people: 812 B, 3.4 KiB, 256.0 MiB, 16.0 GiB. */
static void size_cell(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	for (v /= 1024; v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]); u++)
		v /= 1024;
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* What a feed's limits did to it: "" when nothing. */
static void feed_note(char *buf, size_t len, const struct ag_ctl_feed *f)
{
	snprintf(buf, len, "%s%s%s", f->forked ? "forked; " : "",
	         f->capped ? "at QuotaEntries: no more stored; " : "",
	         f->over_quota ? "over Quota: new bodies dropped; " : "");
	if (f->dropped && strlen(buf) + 40 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), "%llu bodies dropped; ",
		         (unsigned long long)f->dropped);
	if (strlen(buf) >= 2)
		buf[strlen(buf) - 2] = '\0'; /* the last "; " */
}

static void print_feeds(const struct ag_ctl_feed *feeds, size_t n)
{
	static const char *const head[] = {"FEED", "KEY", "SEQ", "ROLE", "BODIES", "NOTE"};
	struct table *t = table_new(6, head);
	char key[64], seq[24], bytes[24], note[160];

	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *row[6] = {feeds[i].name[0] ? feeds[i].name : NULL, key,   seq,
		                      feeds[i].role[0] ? feeds[i].role : NULL, bytes, note};

		out_short(key, sizeof(key), feeds[i].author, 10);
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)feeds[i].seq);
		size_cell(bytes, sizeof(bytes), feeds[i].body_bytes);
		feed_note(note, sizeof(note), &feeds[i]);
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
}

/* The peers that have (reached) or have not reached a purge, by name: "Tunis, Oran (offline)". */
static void purge_names(char *buf, size_t len, const struct ag_ctl_purge *pu, bool reached)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pu->npeers && at < len; i++) {
		const struct ag_ctl_purge_peer *p = &pu->peers[i];

		if (p->reached != reached)
			continue;
		at += (size_t)snprintf(buf + at, len - at, "%s%s%s", at ? ", " : "", p->name,
		                       p->connected ? "" : " (offline)");
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

/*
 * This node's own purges, and which peers hold its feed as far as each: they
 * have erased what it names; the others have not yet.
 */
static void print_purges(const struct ag_ctl_purge *purges, size_t n)
{
	static const char *const head[] = {"PURGE", "SEQ", "PUBLISHED", "REACHED", "NOT YET"};
	char seq[24], when[32], reached[512], waiting[512];
	struct table *t;

	if (n == 0 || !(t = table_new(5, head)))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *row[5] = {purges[i].id, seq, when, reached, waiting};

		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)purges[i].seq);
		out_time(when, sizeof(when), purges[i].ts);
		purge_names(reached, sizeof(reached), &purges[i], true);
		purge_names(waiting, sizeof(waiting), &purges[i], false);
		table_add(t, row);
	}
	out_printf("\n");
	table_print(t);
	table_free(t);
}

/* The store against MaxDisk, and whether it still takes entries from peers. */
static void print_store(const struct ag_ctl_node *st)
{
	char used[24], max[24], quota[24];

	size_cell(used, sizeof(used), st->store_bytes);
	size_cell(max, sizeof(max), st->max_disk);
	size_cell(quota, sizeof(quota), st->quota);
	out_printf("store  %s of MaxDisk %s; Quota %s and %llu entries per feed\n", used, max,
	           quota, (unsigned long long)st->quota_entries);
	if (st->store_full)
		out_printf("       FULL: entries from peers are not stored until there is room\n"
		           "       (raise MaxDisk, lower Quota, or free the disk)\n");
}

/* The succession certificates held, and the feeds that take nothing more, by name or short key. */
static void print_closed(const struct ag_ctl_node *st)
{
	char list[512] = "", who[AG_CTL_NAME_MAX + 16];
	size_t at = 0;

	for (size_t i = 0; i < st->nclosed && at < sizeof(list); i++) {
		if (st->closed[i].name[0])
			snprintf(who, sizeof(who), "%s", st->closed[i].name);
		else
			out_short(who, sizeof(who), st->closed[i].key, 10);
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "", who);
	}
	out_line("keys   %llu succession certificate%s held; closed feeds: %s",
	         (unsigned long long)st->certs, st->certs == 1 ? "" : "s", list[0] ? list : "none");
}

/* Whether the node may publish; when not, why, and what to do, in plain words. */
static void print_ready(const struct ag_ctl_node *st)
{
	size_t connected = 0;

	for (size_t i = 0; i < st->npeers; i++)
		connected += st->peers[i].connected;
	if (st->ready) {
		out_printf("ready  yes\n\n");
		return;
	}
	out_printf("ready  NO: this node is not ready: it waits to learn its own feed from a peer\n"
	           "       (%zu of %zu peers connected), and refuses to publish until then;\n",
	           connected, st->npeers);
	if (st->waiting[0])
		out_printf("       it waits since %s;\n", st->waiting);
	out_printf("       agora put --force goes ahead, at the risk of forking its feed\n\n");
}

/* A node whose own feed forked says so, and how to recover, before anything else. */
static void print_own_fork(const struct ag_ctl_node *st)
{
	for (size_t i = 0; i < st->nfeeds; i++)
		if (st->feeds[i].forked && strcmp(st->feeds[i].author, st->key) == 0)
			out_printf("FORKED %s (agora fork list shows the proof)\n\n",
			           AG_CTL_RECOVER_HINT);
}

int cmd_status(const struct args *a)
{
	struct ag_ctl_status_resp resp;
	const struct ag_ctl_node *st = &resp.status;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_STATUS);
	if ((rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	if (a->json) {
		rc = cmd_json(ctlj_from(&ag_ctl_status_shape, st));
	} else {
		out_line("node   %s  %s", st->name[0] ? st->name : "-", st->key);
		print_store(st);
		print_closed(st);
		print_ready(st);
		print_own_fork(st);
		print_peers(st->peers, st->npeers, false, true);
		out_printf("\n");
		print_feeds(st->feeds, st->nfeeds);
		print_purges(st->purges, st->npurges);
	}
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &resp);
	return rc;
}

/* A peer request: its key, and maybe a name and an endpoint. 0, or the exit status printed. */
static int peer_req(const struct args *a, struct ag_ctl_req *req, unsigned type, const char *key,
                    const char *name, const char *endpoint)
{
	int rc;

	ag_ctl_req_init(req, type);
	if ((rc = cmd_req_set(a, req, AG_CTL_F_KEY, key)) != 0)
		return rc;
	if (name && (rc = cmd_req_set(a, req, AG_CTL_F_NAME, name)) != 0)
		return rc;
	if (endpoint && (rc = cmd_req_set(a, req, AG_CTL_F_ENDPOINT, endpoint)) != 0)
		return rc;
	return 0;
}

/* What peer add and peer remove print: the response with --json, else line. */
static int print_city(const struct args *a, const struct ag_ctl_shape *s,
                      const struct ag_ctl_city *city, const char *line)
{
	if (a->json)
		return cmd_json(ctlj_from(s, city));
	out_line("%s", line);
	return 0;
}

int cmd_peer_add(const struct args *a)
{
	struct ag_ctl_city city;
	struct ag_ctl_req req;
	char line[256];
	int rc;

	if ((rc = cmd_check_key(a, "key", a->pos[0])) != 0)
		return rc;
	if (!a->opt[OPT_NAME])
		return cmd_fail(a, EXIT_REFUSED,
		                "missing --name NAME (usage: agora peer add KEY --name NAME "
		                "[--endpoint HOST:PORT])");
	if ((rc = peer_req(a, &req, AG_CTL_PEER_ADD, a->pos[0], a->opt[OPT_NAME],
	                   a->opt[OPT_ENDPOINT])) != 0 ||
	    (a->opt[OPT_ROLE] &&
	     (rc = cmd_req_set(a, &req, AG_CTL_F_ROLE, a->opt[OPT_ROLE])) != 0) ||
	    (rc = cmd_call(a, &req, &city)) != 0)
		return rc;
	snprintf(line, sizeof(line), "added peer %s %s (%s)", a->opt[OPT_NAME], a->pos[0],
	         a->opt[OPT_ROLE] ? a->opt[OPT_ROLE] : "partner");
	return print_city(a, &ag_ctl_city_shape, &city, line);
}

/* A peer to remove by key, or by name through agorad. */
static int peer_key(const struct args *a, char key[static AG_B64_LEN + 1])
{
	uint8_t pk[AG_PK_LEN];
	struct ag_ctl_city city;
	struct ag_ctl_req req;
	int rc;

	if (ag_key_from_b64(pk, a->pos[0]) == 0) {
		snprintf(key, AG_B64_LEN + 1, "%s", a->pos[0]);
		return 0;
	}
	if (strlen(a->pos[0]) > AG_CTL_CITY_MAX)
		return cmd_check_key(a, "key", a->pos[0]);
	ag_ctl_req_init(&req, AG_CTL_RESOLVE);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_CITY, a->pos[0])) != 0 ||
	    (rc = cmd_call(a, &req, &city)) != 0)
		return rc;
	snprintf(key, AG_B64_LEN + 1, "%s", city.key);
	return 0;
}

int cmd_peer_remove(const struct args *a)
{
	struct ag_ctl_city city;
	struct ag_ctl_req req;
	char key[AG_B64_LEN + 1], line[128];
	int rc;

	if ((rc = peer_key(a, key)) != 0 ||
	    (rc = peer_req(a, &req, AG_CTL_PEER_REMOVE, key, NULL, NULL)) != 0 ||
	    (rc = cmd_call(a, &req, &city)) != 0)
		return rc;
	snprintf(line, sizeof(line), "removed peer %s", key);
	return print_city(a, &ag_ctl_city_key_shape, &city, line);
}

int cmd_peer_list(const struct args *a)
{
	struct ag_ctl_peers resp;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_PEER_LIST);
	if ((rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	if (a->json)
		rc = cmd_json(ctlj_from(&ag_ctl_peers_shape, &resp));
	else
		print_peers(resp.peers, resp.npeers, true, false);
	ag_ctl_resp_clear(&ag_ctl_peers_shape, &resp);
	return rc;
}

int cmd_compact(const struct args *a)
{
	struct ag_ctl_req req;
	char done; /* COMPACT's response has no field */
	int rc;

	ag_ctl_req_init(&req, AG_CTL_COMPACT);
	if ((rc = cmd_call(a, &req, &done)) != 0)
		return rc;
	if (a->json)
		return cmd_json(ctlj_from(&ag_ctl_done_shape, &done));
	out_printf("compacted\n");
	return 0;
}
