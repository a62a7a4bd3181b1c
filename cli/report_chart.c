/*
 * report_chart.c: the report's two drawings, as inline SVG written here
 * (no chart library, nothing fetched): good practices by topic and city, a
 * grid of dots whose area grows with the count; and each pilot on a
 * timeline from its start to its end, its milestones as dots, done, due or
 * overdue, and today marked.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "rec.h"
#include "report.h"

/* ---- practices by topic and city ---- */

#define LABEL_W 500 /* the topics' labels: French / English at the left, Arabic at the right */
#define CELL_W  54
#define CELL_H  30
#define HEAD_H  120 /* the cities' names, slanted */
#define TOTAL_W 150

static size_t max_count(const struct report *r, size_t *totals)
{
	size_t max = 0;

	for (size_t t = 0; t < AG_TOPIC_COUNT; t++) {
		totals[t] = 0;
		for (size_t c = 0; c < r->ncities; c++) {
			totals[t] += r->cities[c].practices[t];
			max = r->cities[c].practices[t] > max ? r->cities[c].practices[t] : max;
		}
	}
	return max;
}

static void chart_heads(struct report *r)
{
	for (size_t c = 0; c < r->ncities; c++) {
		int x = LABEL_W + (int)c * CELL_W + CELL_W / 2, y = HEAD_H - 8;

		fprintf(r->f,
		        "<text x=\"%d\" y=\"%d\" transform=\"rotate(-40 %d %d)\" font-size=\"13\">",
		        x, y, x, y);
		html_text(r->f, r->cities[c].name);
		fputs("</text>", r->f);
	}
	fprintf(r->f,
	        "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#5b6472\">all cities</text>\n",
	        LABEL_W + (int)r->ncities * CELL_W + 10, HEAD_H - 8);
}

static void chart_row(struct report *r, size_t t, size_t max, size_t total, size_t maxtotal)
{
	int y = HEAD_H + (int)t * CELL_H + CELL_H / 2, x0 = LABEL_W + (int)r->ncities * CELL_W;

	fprintf(r->f, "<text x=\"6\" y=\"%d\" font-size=\"13\">", y + 4);
	html_text(r->f, ag_topics[t].fr);
	fputs(" / ", r->f);
	html_text(r->f, ag_topics[t].en);
	fprintf(r->f, "</text><text x=\"%d\" y=\"%d\" font-size=\"13\" direction=\"rtl\">",
	        LABEL_W - 12, y + 4);
	html_text(r->f, ag_topics[t].ar);
	fputs("</text>", r->f);
	for (size_t c = 0; c < r->ncities; c++) {
		size_t n = r->cities[c].practices[t];
		int x = LABEL_W + (int)c * CELL_W + CELL_W / 2;

		if (n == 0) {
			fprintf(r->f, "<circle cx=\"%d\" cy=\"%d\" r=\"2\" fill=\"#c5ccd6\"/>", x,
			        y);
			continue;
		}
		fprintf(r->f,
		        "<circle cx=\"%d\" cy=\"%d\" r=\"%.1f\" fill=\"#0b5cad\"><title>%zu</title>"
		        "</circle><text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#fff\" "
		        "text-anchor=\"middle\">%zu</text>",
		        x, y, 7 + 6 * sqrt((double)n / (double)max), n, x, y + 4, n);
	}
	fprintf(r->f,
	        "<rect x=\"%d\" y=\"%d\" width=\"%zu\" height=\"14\" fill=\"#9dbbe0\"/>"
	        "<text x=\"%zu\" y=\"%d\" font-size=\"12\">%zu</text>\n",
	        x0 + 10, y - 7, maxtotal ? total * (TOTAL_W - 40) / maxtotal : 0,
	        x0 + 14 + (maxtotal ? total * (TOTAL_W - 40) / maxtotal : 0), y + 4, total);
}

void report_chart(struct report *r)
{
	size_t totals[AG_TOPIC_COUNT], max = max_count(r, totals), maxtotal = 0;
	int w = LABEL_W + (int)r->ncities * CELL_W + TOTAL_W, h = HEAD_H + AG_TOPIC_COUNT * CELL_H;

	for (size_t t = 0; t < AG_TOPIC_COUNT; t++)
		maxtotal = totals[t] > maxtotal ? totals[t] : maxtotal;
	fputs("<section id=\"practices\">\n<h2>Good practices by topic and city</h2>\n<p "
	      "class=\"note\">How many good practices each city shares on each topic (a practice "
	      "counts under each of its topics), and all cities together.</p>\n",
	      r->f);
	fprintf(r->f,
	        "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
	        "aria-labelledby=\"chart-title\">"
	        "<title id=\"chart-title\">Good practices by topic and city</title>\n",
	        w, h);
	chart_heads(r);
	for (size_t t = 0; t < AG_TOPIC_COUNT; t++) {
		if (t % 2 == 0)
			fprintf(
			    r->f,
			    "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f3f5f8\"/>",
			    HEAD_H + (int)t * CELL_H, w, CELL_H);
		chart_row(r, t, max ? max : 1, totals[t], maxtotal);
	}
	fputs("</svg>\n</section>\n", r->f);
}

/* ---- pilots on a timeline ---- */

#define LINE_W  900
#define LINE_X0 30
#define LINE_H  78

/* Days since 1970-01-01 of "YYYY-MM-DD" (H. Hinnant's days_from_civil); -1 if not a date. */
static long day_number(const char *s)
{
	int y, m, d;

	if (!s || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12)
		return -1;
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

struct span {
	long first, last;
};

static void widen(struct span *s, long day)
{
	if (day < 0)
		return;
	if (s->first < 0 || day < s->first)
		s->first = day;
	if (day > s->last)
		s->last = day;
}

static int xof(const struct span *s, long day)
{
	return LINE_X0 + (int)((double)(day - s->first) * LINE_W / (double)(s->last - s->first));
}

/* A tick and the year at each 1 January of the span. */
static void years(struct report *r, const struct span *s)
{
	char jan[11];

	for (int y = 1900; y <= 2100; y++) {
		snprintf(jan, sizeof(jan), "%04d-01-01", y);
		long d = day_number(jan);

		if (d < s->first || d > s->last)
			continue;
		fprintf(r->f,
		        "<line x1=\"%d\" y1=\"44\" x2=\"%d\" y2=\"52\" stroke=\"#5b6472\"/><text "
		        "x=\"%d\" y=\"66\" font-size=\"12\" text-anchor=\"middle\" "
		        "fill=\"#5b6472\">%d</text>",
		        xof(s, d), xof(s, d), xof(s, d), y);
	}
}

static void dots(struct report *r, const struct span *s, const json_t *ms)
{
	const json_t *m;
	size_t i;

	json_array_foreach(ms, i, m)
	{
		const char *date = rec_str(m, "date");
		bool done = json_is_true(json_object_get(m, "done"));
		bool late = !done && date && strcmp(date, r->today) < 0;
		int x = xof(s, day_number(date));

		if (day_number(date) < 0)
			continue;
		fprintf(r->f,
		        "<circle cx=\"%d\" cy=\"40\" r=\"7\" fill=\"%s\" stroke=\"%s\" "
		        "stroke-width=\"2\"><title>",
		        x,
		        done   ? "#1e7b3a"
		        : late ? "#b3261e"
		               : "#fff",
		        late   ? "#b3261e"
		        : done ? "#1e7b3a"
		               : "#0b5cad");
		html_text(r->f, date);
		fprintf(r->f,
		        "%s</title></circle><text x=\"%d\" y=\"24\" font-size=\"12\" "
		        "text-anchor=\"middle\"%s>%zu</text>",
		        done   ? ": done"
		        : late ? ": overdue"
		               : ": due",
		        x, late ? " fill=\"#b3261e\" font-weight=\"bold\"" : "", i + 1);
	}
}

static void timeline(struct report *r, const json_t *body)
{
	const json_t *ms = json_object_get(body, "milestones"), *m;
	struct span s = {-1, -1};
	long today = day_number(r->today), a = day_number(rec_str(body, "start")),
	     b = day_number(rec_str(body, "end"));
	size_t i;

	widen(&s, a);
	widen(&s, b);
	widen(&s, today);
	json_array_foreach(ms, i, m) widen(&s, day_number(rec_str(m, "date")));
	if (s.last - s.first < 30) {
		s.first -= 15;
		s.last += 15;
	}
	fprintf(r->f,
	        "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"timeline\" "
	        "><line x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"40\" "
	        "stroke=\"#c5ccd6\" stroke-width=\"2\"/>",
	        LINE_W + 2 * LINE_X0, LINE_H, LINE_X0, LINE_X0 + LINE_W);
	if (a >= 0 && b >= 0)
		fprintf(r->f,
		        "<rect x=\"%d\" y=\"35\" width=\"%d\" height=\"10\" rx=\"5\" "
		        "fill=\"#cfe0f3\"><title>from start to end</title></rect>",
		        xof(&s, a), xof(&s, b) - xof(&s, a));
	years(r, &s);
	fprintf(r->f,
	        "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"56\" stroke=\"#1d2430\" "
	        "stroke-dasharray=\"3 3\"/><text x=\"%d\" y=\"76\" font-size=\"11\" "
	        "text-anchor=\"middle\">today</text>",
	        xof(&s, today), xof(&s, today), xof(&s, today));
	dots(r, &s, ms);
	fputs("</svg>\n", r->f);
}

static size_t overdue(const struct report *r, const json_t *body)
{
	const json_t *m;
	size_t i, n = 0;

	json_array_foreach(json_object_get(body, "milestones"), i, m)
	{
		const char *date = rec_str(m, "date");

		n +=
		    !json_is_true(json_object_get(m, "done")) && date && strcmp(date, r->today) < 0;
	}
	return n;
}

static void pilot(struct report *r, size_t i)
{
	const json_t *body = r->recs[i]->body;
	const char *topic = rec_str(body, "topic");
	const struct ag_vocab *t = topic ? ag_topic_find(topic, strlen(topic)) : NULL;
	size_t late = overdue(r, body);

	fprintf(r->f, "<div class=\"pilot\"><h3><a href=\"#r%zu\" dir=\"auto\">", i);
	html_text(r->f, report_title(r->recs[i]));
	fputs("</a></h3>\n<p class=\"meta\">", r->f);
	fputs("<bdi>", r->f);
	html_text(r->f, report_city_name(r, r->recs[i]->r.author));
	fputs("</bdi> · <span class=\"badge\">", r->f);
	html_text(r->f, rec_str(body, "status") ? rec_str(body, "status") : "?");
	/* Isolated, so that the Arabic at the label's end does not carry the dates after it. */
	fputs("</span> · <bdi>", r->f);
	html_text(r->f, t ? t->label : topic ? topic : "-");
	fputs("</bdi> · ", r->f);
	html_text(r->f, rec_str(body, "start") ? rec_str(body, "start") : "?");
	fputs(" → ", r->f);
	html_text(r->f, rec_str(body, "end") ? rec_str(body, "end") : "?");
	if (late)
		fprintf(r->f, " · <span class=\"badge late\">%zu milestone%s overdue</span>", late,
		        late == 1 ? "" : "s");
	fputs("</p>\n", r->f);
	timeline(r, body);
	report_milestones(r, json_object_get(body, "milestones"));
	fputs("</div>\n", r->f);
}

void report_pilots(struct report *r)
{
	size_t n = 0;

	fprintf(r->f,
	        "<section id=\"pilots\">\n<h2>Pilots</h2>\n<p class=\"note\">Each pilot from its "
	        "start to its end, with its milestones numbered as in the record: green when done, "
	        "red when their day (before %s) passed undone.</p>\n",
	        r->today);
	for (size_t i = 0; i < r->nrecs; i++)
		if (strcmp(r->recs[i]->r.type, "pilot") == 0 && ++n)
			pilot(r, i);
	fputs(n ? "</section>\n"
	        : "<p class=\"note\">No city has published a pilot.</p></section>\n",
	      r->f);
}
