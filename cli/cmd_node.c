/* cmd_node.c: the node's commands: init, id, status, peer add, peer remove, peer list. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "ctl.h"
#include "key.h"
#include "nodedir.h"

int cmd_init(const struct args *a)
{
	uint8_t pk[AG_PK_LEN];
	char key[AG_B64_LEN + 1], why[1024];
	json_t *doc;

	if (!a->opt[OPT_NAME])
		return cmd_fail(a, EXIT_REFUSED,
		                "missing --name NAME (usage: agora init --dir DIR --name NAME)");
	if (nodedir_init(a->dir, a->opt[OPT_NAME], a->opt[OPT_LISTEN], pk, why, sizeof(why)) != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s", why);
	ag_key_to_b64(key, pk);
	if (!a->json) {
		out_printf("%s\n", key);
		return 0;
	}
	doc = json_pack("{s:s, s:s, s:s}", "key", key, "name", a->opt[OPT_NAME], "dir", a->dir);
	return cmd_json(doc);
}

static int print_id(const struct args *a, json_t *resp)
{
	const char *key = json_string_value(json_object_get(resp, "key"));
	const char *name = json_string_value(json_object_get(resp, "name"));

	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	out_printf("%s  %s\n", key ? key : "-", name ? name : "-");
	json_decref(resp);
	return 0;
}

/* Without a daemon: the key and name from DIR, if this user may read them. */
static json_t *id_offline(const struct args *a)
{
	char key[AG_B64_LEN + 1], name[CONFVAL_NAME_MAX + 1], err[1024];
	uint8_t pk[AG_PK_LEN];

	if (nodedir_id(a->dir, pk, name, err, sizeof(err)) != 0)
		return NULL;
	ag_key_to_b64(key, pk);
	return json_pack("{s:s, s:s}", "key", key, "name", name);
}

int cmd_id(const struct args *a)
{
	json_t *resp, *offline;
	char err[800];
	int rc = cmd_ask(a, AG_CTL_ID, NULL, &resp, err, sizeof(err));

	if (rc == 0)
		return print_id(a, resp);
	if (rc == EXIT_UNREACHABLE && (offline = id_offline(a)) != NULL)
		return print_id(a, offline);
	return cmd_report(a, rc, err);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A peer as a table row: short keys in status, whole ones in peer list. */
static int peer_row(struct table *t, const json_t *p, bool whole_key, bool counts)
{
	char key[64], last[32], behind[24], received[24];
	const char *row[7];

	if (whole_key)
		snprintf(key, sizeof(key), "%s", str(p, "key") ? str(p, "key") : "-");
	else
		out_short(key, sizeof(key), str(p, "key") ? str(p, "key") : "-", 10);
	out_time(last, sizeof(last), (uint64_t)num(p, "last_contact_ms"));
	snprintf(behind, sizeof(behind), "%lld", (long long)num(p, "behind"));
	snprintf(received, sizeof(received), "%lld", (long long)num(p, "received"));
	row[0] = str(p, "name");
	row[1] = key;
	row[2] = str(p, "endpoint") ? str(p, "endpoint") : "(calls us)";
	row[3] = json_is_true(json_object_get(p, "connected")) ? "yes" : "no";
	row[4] = last;
	row[5] = counts ? behind : NULL;
	row[6] = counts ? received : NULL;
	return table_add(t, row);
}

static void print_peers(const json_t *peers, bool whole_key, bool counts)
{
	static const char *const head[] = {"PEER",         "KEY",    "ENDPOINT", "CONNECTED",
	                                   "LAST CONTACT", "BEHIND", "RECEIVED"};
	struct table *t = table_new(counts ? 7 : 5, head);
	size_t i;
	json_t *p;

	if (!t)
		return;
	json_array_foreach(peers, i, p) peer_row(t, p, whole_key, counts);
	if (table_rows(t) == 0)
		out_printf("no peers (agora peer add KEY --name NAME --endpoint HOST:PORT)\n");
	else
		table_print(t);
	table_free(t);
}

static void print_feeds(const json_t *feeds)
{
	static const char *const head[] = {"FEED", "KEY", "SEQ"};
	struct table *t = table_new(3, head);
	char key[64], seq[24];
	size_t i;
	json_t *f;

	if (!t)
		return;
	json_array_foreach(feeds, i, f)
	{
		const char *row[3] = {str(f, "name"), key, seq};

		out_short(key, sizeof(key), str(f, "author") ? str(f, "author") : "-", 10);
		snprintf(seq, sizeof(seq), "%lld%s", (long long)num(f, "seq"),
		         json_is_true(json_object_get(f, "forked")) ? " forked" : "");
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
}

int cmd_status(const struct args *a)
{
	json_t *resp, *st;
	int rc;

	if ((rc = cmd_call(a, AG_CTL_STATUS, NULL, &resp)) != 0)
		return rc;
	st = json_incref(json_object_get(resp, "status"));
	json_decref(resp);
	if (a->json)
		return cmd_json(st);
	out_printf("node   %s  %s\n", str(st, "name") ? str(st, "name") : "-",
	           str(st, "key") ? str(st, "key") : "-");
	out_printf("ready  %s\n\n", json_is_false(json_object_get(st, "ready"))
	                                ? "no: waiting to learn its own feed from a peer"
	                                : "yes");
	print_peers(json_object_get(st, "peers"), false, true);
	out_printf("\n");
	print_feeds(json_object_get(st, "feeds"));
	json_decref(st);
	return 0;
}

int cmd_peer_add(const struct args *a)
{
	json_t *req, *resp;
	int rc;

	if ((rc = cmd_check_key(a, "key", a->pos[0])) != 0)
		return rc;
	if (!a->opt[OPT_NAME])
		return cmd_fail(a, EXIT_REFUSED,
		                "missing --name NAME (usage: agora peer add KEY --name NAME "
		                "[--endpoint HOST:PORT])");
	req = json_pack("{s:s, s:s}", "key", a->pos[0], "name", a->opt[OPT_NAME]);
	if (a->opt[OPT_ENDPOINT])
		json_object_set_new(req, "endpoint", json_string(a->opt[OPT_ENDPOINT]));
	if ((rc = cmd_call(a, AG_CTL_PEER_ADD, req, &resp)) != 0)
		return rc;
	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	out_printf("added peer %s %s\n", a->opt[OPT_NAME], a->pos[0]);
	json_decref(resp);
	return 0;
}

/* A peer to remove by key, or by name through agorad. */
static int peer_key(const struct args *a, char key[static AG_B64_LEN + 1])
{
	uint8_t pk[AG_PK_LEN];
	json_t *resp;
	int rc;

	if (ag_key_from_b64(pk, a->pos[0]) == 0) {
		snprintf(key, AG_B64_LEN + 1, "%s", a->pos[0]);
		return 0;
	}
	if (strlen(a->pos[0]) > AG_CTL_CITY_MAX)
		return cmd_check_key(a, "key", a->pos[0]);
	rc = cmd_call(a, AG_CTL_RESOLVE, json_pack("{s:s}", "city", a->pos[0]), &resp);
	if (rc != 0)
		return rc;
	snprintf(key, AG_B64_LEN + 1, "%s", str(resp, "key") ? str(resp, "key") : "");
	json_decref(resp);
	return 0;
}

int cmd_peer_remove(const struct args *a)
{
	char key[AG_B64_LEN + 1];
	json_t *resp;
	int rc;

	if ((rc = peer_key(a, key)) != 0)
		return rc;
	if ((rc = cmd_call(a, AG_CTL_PEER_REMOVE, json_pack("{s:s}", "key", key), &resp)) != 0)
		return rc;
	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	out_printf("removed peer %s\n", key);
	json_decref(resp);
	return 0;
}

int cmd_peer_list(const struct args *a)
{
	json_t *resp;
	int rc;

	if ((rc = cmd_call(a, AG_CTL_PEER_LIST, NULL, &resp)) != 0)
		return rc;
	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	print_peers(json_object_get(resp, "peers"), true, false);
	json_decref(resp);
	return 0;
}
