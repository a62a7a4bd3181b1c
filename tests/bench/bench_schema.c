/*
 * bench_schema.c: what checking a record against its schema costs, beside
 * decoding and verifying its entry (the work store_prepare hides it behind).
 * Prints "name: value" lines only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonmp.h"
#include "key.h"
#include "schema.h"

#define N 200000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Checks one body N times; prints the rate and returns ns per check. */
static double rate(const char *name, const char *type, const char *id, const char *json)
{
	char err[160], why[256];
	json_error_t jerr;
	json_t *v = json_loads(json, 0, &jerr);
	uint8_t *mp = NULL;
	size_t len = 0;
	double t0, dt;

	if (!v || jsonmp_encode(v, &mp, &len, err, sizeof(err)) != 0)
		exit(1);
	t0 = now();
	for (int i = 0; i < N; i++)
		if (ag_schema_check(type, id, strlen(id), mp, len, why, sizeof(why)) != 0)
			exit(1);
	dt = now() - t0;
	printf("schema_%s_bytes: %zu\n", name, len);
	printf("schema_%s_checks_per_s: %.0f\n", name, N / dt);
	free(mp);
	json_decref(v);
	return dt / N * 1e9;
}

int main(void)
{
	char big[9000];

	if (ag_init() != 0)
		return 1;
	rate("practice", "practice", "p",
	     "{\"title\": {\"fr\": \"Guichet unique\", \"en\": \"One-stop shop\"}, \"summary\": "
	     "{\"fr\": \"Un guichet commun oriente les nouveaux arrivants vers le logement, la "
	     "santé et l'emploi.\", \"ar\": \"شباك موحد للسكن\"}, \"topics\": [\"housing\", "
	     "\"services\"], \"stakeholders\": [\"city-administration\", \"civil-society\"], "
	     "\"year\": 2019, \"links\": [\"https://example.org/guichet\"]}");
	snprintf(big, sizeof(big),
	         "{\"title\": \"Pilote\", \"topic\": \"employment\", \"status\": \"running\", "
	         "\"start\": \"2024-01-01\", \"end\": \"2025-12-31\", \"milestones\": [");
	for (int i = 0; i < 100; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		         "%s{\"date\": \"2024-%02d-%02d\", \"text\": \"Étape %d\", \"done\": %s}",
		         i ? ", " : "", 1 + i % 12, 1 + i % 28, i, i % 2 ? "true" : "false");
	strcat(big, "]}");
	rate("pilot100", "pilot", "p", big);
	return 0;
}
