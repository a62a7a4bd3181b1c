/*
 * cmd_report.c: agora report --output FILE.html: the network's knowledge as
 * one page for city officers (report.h), written whole or not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "exits.h"
#include "fetch.h"
#include "report.h"

static uint64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* The page into FILE.part, renamed to FILE once whole; stdout without --output. */
static int write_page(const struct args *a, struct report *r)
{
	const char *path = a->opt[OPT_OUTPUT];
	char tmp[4200];
	int rc;

	r->f = out_file();
	if (path) {
		snprintf(tmp, sizeof(tmp), "%s.part", path);
		if (strlen(path) > 4000)
			return cmd_fail(a, EXIT_REFUSED, "cannot write %s: name too long", path);
		if (!(r->f = out_part_open(tmp)))
			return cmd_fail(a, EXIT_REFUSED, "cannot write %s: %s", tmp,
			                out_part_strerror(errno));
	}
	rc = report_write(r);
	if (!path)
		return rc ? cmd_fail(a, EXIT_LOCAL, "cannot write the report") : 0;
	rc |= ferror(r->f);
	rc |= fclose(r->f);
	if (rc != 0 || rename(tmp, path) != 0) {
		rc = cmd_fail(a, EXIT_REFUSED, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

static int done(const struct args *a, const struct report *r)
{
	const char *path = a->opt[OPT_OUTPUT];

	if (!path)
		return 0;
	if (a->json)
		return cmd_json(json_pack("{s:s, s:I, s:I}", "output", path, "records",
		                          (json_int_t)r->nrecs, "cities", (json_int_t)r->ncities));
	out_printf("wrote %s: %zu records of %zu cities\n", path, r->nrecs, r->ncities);
	return 0;
}

int cmd_report_html(const struct args *a)
{
	struct ag_ctl_status_resp st;
	struct fetch_recs records = {0};
	struct report r;
	int rc;

	if ((rc = fetch_status(a, &st)) != 0)
		return rc;
	if ((rc = fetch_records(a, &st.status, &records)) != 0)
		goto out;
	if (report_init(&r, &st.status, &records, now_ms()) != 0) {
		rc = cmd_fail(a, EXIT_LOCAL, "out of memory");
	} else if ((rc = write_page(a, &r)) == 0) {
		rc = done(a, &r);
	}
	report_clear(&r);
out:
	fetch_recs_clear(&records);
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &st);
	return rc;
}
