/*
 * report_page.c: the report's page: its head (the policy that forbids every
 * fetch, the inline style), the header with the figures an officer reads
 * first, the network's table, what is new, the records with their filter,
 * and the inline script with the fold table it filters by.
 */
#include <sodium.h>
#include <string.h>

#include "html.h"
#include "rec.h"
#include "report.h"
#include "report_assets.h"
#include "report_filter.h"

#define DAY_MS (24ull * 3600 * 1000)

/* 'sha256-...' of an inline style or script, for the page's Content-Security-Policy. */
static void csp_hash(char *out, size_t len, const char *s)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	                                   sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "'sha256-%s'", b64);
}

static void head(struct report *r)
{
	char css[64], js[64];

	csp_hash(css, sizeof(css), report_css);
	csp_hash(js, sizeof(js), report_js);
	fputs("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"utf-8\">\n",
	      r->f);
	/* Nothing may be fetched: no image, font, frame, form target or connection. */
	fprintf(r->f,
	        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	        "style-src %s; script-src %s; base-uri 'none'; form-action 'none'\">\n",
	        css, js);
	fputs("<meta name=\"referrer\" content=\"no-referrer\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"agora " AGORA_VERSION "\">\n<title>",
	      r->f);
	fputs("The network&#39;s report from ", r->f);
	html_text(r->f, r->node_name);
	fprintf(r->f, ", %s</title>\n<style>%s</style>\n</head>\n", r->today, report_css);
}

static size_t count_new(const struct report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nrecs; i++)
		n += r->recs[i]->r.timestamp + REPORT_NEW_DAYS * DAY_MS >= r->now;
	return n;
}

static void figure(FILE *f, size_t n, const char *what)
{
	fprintf(f, "<div class=\"figure\"><b>%zu</b>%s</div>", n, what);
}

static void top(struct report *r)
{
	size_t practices = 0, pilots = 0;

	for (size_t i = 0; i < r->nrecs; i++) {
		practices += strcmp(r->recs[i]->r.type, "practice") == 0;
		pilots += strcmp(r->recs[i]->r.type, "pilot") == 0;
	}
	fputs("<header class=\"top\">\n<h1>The network&#39;s knowledge</h1>\n<p>As the node of ",
	      r->f);
	html_text(r->f, r->node_name);
	fprintf(r->f,
	        " holds it on %s (UTC). Every city&#39;s records, readable offline; this page "
	        "fetches nothing.</p>\n<div class=\"figures\">",
	        r->today);
	figure(r->f, r->ncities, "cities");
	figure(r->f, r->nrecs, "records");
	figure(r->f, practices, "good practices");
	figure(r->f, pilots, "pilots");
	figure(r->f, count_new(r), "new in 30 days");
	fputs(
	    "</div>\n<nav><a href=\"#network\">The network</a><a href=\"#practices\">Practices by "
	    "topic</a><a href=\"#pilots\">Pilots</a><a href=\"#new\">New in 30 days</a><a "
	    "href=\"#records\">Every record</a></nav>\n</header>\n",
	    r->f);
}

/* ---- the network ---- */

static void when(FILE *f, uint64_t ms)
{
	char day[11];

	report_day(day, ms);
	fputs(ms ? day : "-", f);
}

static void network_row(struct report *r, const struct report_city *c)
{
	fprintf(r->f, "<tr%s><td dir=\"auto\">", c->self ? " class=\"self\"" : "");
	html_text(r->f, c->name);
	fputs(c->self ? " <span class=\"badge\">this node</span>" : "", r->f);
	fputs("</td><td>", r->f);
	html_text(r->f, c->role ? c->role : "-");
	fputs("</td><td>", r->f);
	html_text(r->f, c->region ? c->region : "-");
	fputs("</td><td dir=\"auto\">", r->f);
	html_text(r->f, c->country ? report_pick(c->country) : "-");
	fputs("</td><td>", r->f);
	if (c->self)
		fputs("-", r->f);
	else if (c->peer) {
		when(r->f, c->last_contact);
		fputs(c->connected ? " <span class=\"badge ok\">connected</span>"
		                   : " <span class=\"badge\">not connected</span>",
		      r->f);
	} else
		fputs("<span class=\"note\">through peers</span>", r->f);
	fputs("</td><td>", r->f);
	when(r->f, c->latest);
	fprintf(r->f, "</td><td class=\"num\">%zu</td></tr>\n", c->nrecords);
}

void report_network(struct report *r)
{
	fputs("<section id=\"network\">\n<h2>The network</h2>\n<p class=\"note\">Each city whose "
	      "records this node holds: its role as the cities that introduce it say, its region "
	      "and country as its profile says, when this node last heard from it (direct peers "
	      "only; the others reach it through them), its newest record, and how many records it "
	      "shares.</p>\n<table>\n<thead><tr><th>City</th><th>Role</th><th>Region</th>"
	      "<th>Country</th><th>Last contact</th><th>Newest record</th><th>Records</th></tr>"
	      "</thead>\n<tbody>\n",
	      r->f);
	for (size_t i = 0; i < r->ncities; i++)
		network_row(r, &r->cities[i]);
	fputs("</tbody>\n</table>\n</section>\n", r->f);
}

/* ---- what is new ---- */

static int newest_first(const void *x, const void *y)
{
	uint64_t a = (*(const struct fetch_rec *const *)x)->r.timestamp;
	uint64_t b = (*(const struct fetch_rec *const *)y)->r.timestamp;

	return a < b ? 1 : a > b ? -1 : 0;
}

void report_new(struct report *r)
{
	const struct fetch_rec **recs = calloc(r->nrecs + 1, sizeof(*recs));
	size_t n = 0;
	char day[11];

	fprintf(r->f, "<section id=\"new\">\n<h2>New in the last %d days</h2>\n", REPORT_NEW_DAYS);
	for (size_t i = 0; recs && i < r->nrecs; i++)
		if (r->recs[i]->r.timestamp + REPORT_NEW_DAYS * DAY_MS >= r->now)
			recs[n++] = r->recs[i];
	qsort(recs, n, sizeof(*recs), newest_first);
	fputs(n ? "<ul class=\"new\">\n"
	        : "<p class=\"note\">Nothing was published or updated.</p>\n",
	      r->f);
	for (size_t i = 0; i < n; i++) {
		const struct ag_ctl_record *x = &recs[i]->r;

		report_day(day, x->timestamp);
		fprintf(r->f, "<li>%s · ", day);
		html_text(r->f, report_city_name(r, x->author));
		fputs(" · ", r->f);
		html_text(r->f, x->type);
		fprintf(r->f, " · <a href=\"#r%ld\" dir=\"auto\">",
		        report_find(r, x->author, x->type, x->id));
		html_text(r->f, report_title(recs[i]));
		fputs("</a></li>\n", r->f);
	}
	fputs(n ? "</ul>\n</section>\n" : "</section>\n", r->f);
	free(recs);
}

/* ---- every record ---- */

static void records(struct report *r)
{
	const char *author = NULL;

	fprintf(r->f,
	        "<section id=\"records\">\n<h2>Every record</h2>\n<div class=\"filter\" "
	        "role=\"search\"><label for=\"q\">Filter</label><input id=\"q\" type=\"search\" "
	        "autocomplete=\"off\" spellcheck=\"false\" placeholder=\"hébergement, سكن, "
	        "salud…\"><span id=\"count\" aria-live=\"polite\">%zu records</span></div>\n"
	        "<p class=\"note noprint\">Words match as <code>agora search</code> matches them: "
	        "each word you type must be a word of the record, in any of its languages, case, "
	        "accents and Arabic harakat aside. Introductions of members are summed up in the "
	        "network&#39;s table.</p>\n",
	        r->nrecs);
	for (size_t i = 0; i < r->nrecs; i++) {
		const char *a = r->recs[i]->r.author;

		if (!author || strcmp(author, a) != 0) {
			fputs(author ? "</div>\n" : "", r->f);
			author = a;
			fputs("<div class=\"city-group\"><h3 class=\"city\" dir=\"auto\">", r->f);
			html_text(r->f, report_city_name(r, a));
			fputs("</h3>\n", r->f);
		}
		report_record(r, i);
	}
	fputs(author ? "</div>\n</section>\n" : "</section>\n", r->f);
}

int report_write(struct report *r)
{
	head(r);
	fputs("<body>\n", r->f);
	top(r);
	fputs("<main>\n", r->f);
	report_network(r);
	report_chart(r);
	report_pilots(r);
	report_new(r);
	records(r);
	fputs("</main>\n<script type=\"application/json\" id=\"agora-fold\">", r->f);
	if (filter_table(r->f) != 0)
		return -1;
	fprintf(r->f, "</script>\n<script>%s</script>\n</body>\n</html>\n", report_js);
	return ferror(r->f) ? -1 : 0;
}
