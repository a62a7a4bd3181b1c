/* cmd_trust.c: trust over the years, as a node sees it: fork list. */
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

		out_printf("%s%s %s: two entries signed at seq %llu; the headers kept as proof "
		           "(agora --json fork list gives them whole):\n",
		           i ? "\n" : "", f->name[0] ? f->name : "(no name)", f->author,
		           (unsigned long long)f->seq);
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
