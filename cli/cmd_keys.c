/* cmd_keys.c: a city's keys over the years: key rotate, recover, cert import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "ctlj.h"

/* What a succession did, for a person or a script. */
static int print_succession(const struct args *a, const struct ag_ctl_succession *s,
                            const char *what)
{
	if (a->json)
		return cmd_json(ctlj_from(&ag_ctl_succession_shape, s));
	out_printf("%s: %s\nold key:  %s\n", what, s->key, s->old);
	return 0;
}

int cmd_key_rotate(const struct args *a)
{
	struct ag_ctl_succession s;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_KEY_ROTATE);
	if ((rc = cmd_call(a, &req, &s)) != 0)
		return rc;
	rc = print_succession(a, &s, "new key");
	ag_ctl_resp_clear(&ag_ctl_succession_shape, &s);
	return rc;
}
