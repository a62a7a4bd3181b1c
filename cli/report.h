/*
 * report.h: agora report, the network's knowledge as one HTML page for city
 * officers: the cities, a chart of practices by topic and city, pilots on a
 * timeline, what is new, and every record with a filter box. The page is
 * one self-contained file: its style, script and charts are inline, and its
 * Content-Security-Policy forbids every fetch, so it opens offline, from a
 * mail or an intranet, and prints.
 *
 * report.c builds the model from what agorad answers (fetch.h); the
 * report_*.c files each write a part of the page from it.
 */
#ifndef AGORA_REPORT_H
#define AGORA_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fetch.h"
#include "schema.h"

#define REPORT_NEW_DAYS 30

/* A city of the network: a feed this node replicates. */
struct report_city {
	const char *key;
	const char *name;      /* as the node names it; the key when it has none */
	const char *role;      /* partner or associate, as member records say; NULL */
	const char *region;    /* from its profile; NULL */
	const json_t *country; /* its profile's country (text); NULL */
	bool self, peer, connected;
	uint64_t last_contact; /* ms; peers only, 0 if never */
	uint64_t latest;       /* ms of its newest record */
	size_t nrecords;       /* its live records, introductions (member) aside */
	size_t practices[AG_TOPIC_COUNT];
};

struct report {
	FILE *f;
	uint64_t now;   /* ms since the epoch */
	char today[11]; /* YYYY-MM-DD, UTC */
	const char *node_name;
	const struct fetch_rec **recs; /* every live record, by city, type and id */
	size_t nrecs;
	struct report_city *cities;
	size_t ncities;
};

/*
 * Builds the model from STATUS's answer and the records (fetch_records),
 * both only borrowed, so they must outlive it. 0, or -1 out of memory.
 */
int report_init(struct report *, const struct ag_ctl_node *status, const struct fetch_recs *records,
                uint64_t now);
void report_clear(struct report *);

/* The city whose key is key, or NULL. */
const struct report_city *report_city(const struct report *, const char *key);

/* The record's position in recs, or -1: for links from comments to what they answer. */
long report_find(const struct report *, const char *author, const char *type, const char *id);

/* The whole page, to r->f. 0, or -1 if out of memory. */
int report_write(struct report *);

/* The parts of the page, each in its own file. */
void report_network(struct report *);          /* report_page.c */
void report_new(struct report *);              /* report_page.c */
void report_chart(struct report *);            /* report_chart.c: practices by topic and city */
void report_pilots(struct report *);           /* report_chart.c: pilots on a timeline */
void report_record(struct report *, size_t i); /* report_record.c: one <article> */

/* A pilot's milestones, numbered, done, due or overdue (report_record.c). */
void report_milestones(struct report *, const json_t *milestones);

/* A text field as the reader's language, else any (rec_text_pick); "" if none. */
const char *report_pick(const json_t *v);

/* What stands for a record's title: its title, name, city, text or id. */
const char *report_title(const struct fetch_rec *);

/* "2025-03-01" from ms since the epoch, UTC. */
void report_day(char out[static 11], uint64_t ms);

/* The text of a city: its name as this node knows it, else the key. */
const char *report_city_name(const struct report *, const char *key);

#endif
