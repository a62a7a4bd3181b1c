/* cmd_trust.c: trust over the years, as a node sees it: fork list, peer log, history member. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "ctlj.h"

static void print_proofs(const struct ag_ctl_fork *f)
{
	static const char *const head[] = {"SEQ", "TIME", "TYPE", "ID", "HASH"};
	struct table *t = table_new(5, head);
	char seq[24], when[32];

	if (!t)
		return;
	for (size_t i = 0; i < f->nproofs; i++) {
		const struct ag_ctl_proof *p = &f->proofs[i];
		const char *row[5] = {seq, when, p->type, p->id, p->hash};

		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)p->seq);
		out_time(when, sizeof(when), p->timestamp);
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
}

static void print_forks(const struct ag_ctl_forks *r)
{
	if (r->nforks == 0) {
		out_printf("no forked feed\n");
		return;
	}
	for (size_t i = 0; i < r->nforks; i++) {
		const struct ag_ctl_fork *f = &r->forks[i];

		if (i)
			out_printf("\n");
		out_line("%s %s: two entries signed at seq %llu; the headers kept as proof "
		         "(agora --json fork list gives them whole):",
		         f->name[0] ? f->name : "(no name)", f->author, (unsigned long long)f->seq);
		print_proofs(f);
		if (f->own)
			out_printf("%s\n", AG_CTL_RECOVER_HINT);
	}
}

int cmd_fork_list(const struct args *a)
{
	struct ag_ctl_forks resp;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_FORKS);
	if ((rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	if (a->json)
		rc = cmd_json(ctlj_from(&ag_ctl_forks_shape, &resp));
	else
		print_forks(&resp);
	ag_ctl_resp_clear(&ag_ctl_forks_shape, &resp);
	return rc;
}

/* What an event did, in words: "introduced Lyon (partner)". */
static void event_what(char *buf, size_t len, const struct ag_ctl_event *ev)
{
	if (ev->name[0] || ev->role[0])
		snprintf(buf, len, "%s %s%s%s%s", ev->kind, ev->name[0] ? ev->name : "(no name)",
		         ev->role[0] ? " (" : "", ev->role, ev->role[0] ? ")" : "");
	else
		snprintf(buf, len, "%s", ev->kind);
}

static void print_events(const struct ag_ctl_events *r, bool whole_key)
{
	static const char *const head[] = {"TIME", "BY", "SEQ", "EVENT", "KEY"};
	struct table *t = table_new(5, head);
	char when[32], by[AG_CTL_NAME_MAX + 16], seq[24], what[2 * AG_CTL_NAME_MAX + 64], key[64];

	if (!t)
		return;
	for (size_t i = 0; i < r->nevents; i++) {
		const struct ag_ctl_event *ev = &r->events[i];
		const char *row[5] = {when, by, seq, what, key};

		out_time(when, sizeof(when), ev->timestamp);
		if (ev->by_name[0])
			snprintf(by, sizeof(by), "%s", ev->by_name);
		else
			out_short(by, sizeof(by), ev->by, 10);
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)ev->seq);
		event_what(what, sizeof(what), ev);
		if (whole_key)
			snprintf(key, sizeof(key), "%s", ev->key);
		else
			out_short(key, sizeof(key), ev->key, 10);
		table_add(t, row);
	}
	if (table_rows(t) == 0)
		out_printf("nothing in the roster's history here\n");
	else
		table_print(t);
	table_free(t);
}

/* MEMBER_LOG about key (NULL: every key). */
static int member_log(const struct args *a, const char *key)
{
	struct ag_ctl_events resp;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_MEMBER_LOG);
	if (key && ((rc = cmd_check_key(a, "key", key)) != 0 ||
	            (rc = cmd_req_set(a, &req, AG_CTL_F_KEY, key)) != 0))
		return rc;
	if ((rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	if (a->json)
		rc = cmd_json(ctlj_from(&ag_ctl_events_shape, &resp));
	else
		print_events(&resp, key != NULL);
	ag_ctl_resp_clear(&ag_ctl_events_shape, &resp);
	return rc;
}

int cmd_peer_log(const struct args *a)
{
	return member_log(a, NULL);
}

int cmd_history_member(const struct args *a, const char *key)
{
	return member_log(a, key);
}
