/*
 * waitsync.c: agora-waitsync [-p PID] DIR TOTAL [SECONDS [AUTHOR]]. Waits until the node
 * at DIR holds TOTAL entries (the seqs of its feeds, summed, as `agora status`
 * shows them; of AUTHOR's feed alone if given), asking every 10 ms on one control connection, so
 * that bench-sync times a sync to within 10 ms without starting a process per look: three processes
 * every 100 ms took about 4% of the machine the sync runs on. Exits 0 once they are there, 1 after
 * SECONDS (600) with how many there were, 3 if agorad cannot be asked.
 *
 * With -p, it also reads process PID's RssAnon and RssFile every 2 ms meanwhile and prints their
 * high-water marks, "peak_anon_kb: N" and "peak_file_kb: N", on stdout. The kernel keeps a
 * high-water mark of the whole RSS only (VmHWM), not of its anonymous part, which is what the
 * daemon's heap costs (LMDB's mapped pages are the kernel's cache): sampled so often, a peak
 * shorter than 2 ms can still be missed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "client.h"
#include "ctl.h"
#include "ctl_resp.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct peaks {
	pid_t pid; /* 0: none watched */
	long anon_kb, file_kb;
};

/* Takes PID's RssAnon and RssFile into the high-water marks. */
static void peaks_sample(struct peaks *p)
{
	char path[64], line[128];
	FILE *f;
	long v;

	if (p->pid == 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)p->pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "RssAnon: %ld", &v) == 1 && v > p->anon_kb)
			p->anon_kb = v;
		else if (sscanf(line, "RssFile: %ld", &v) == 1 && v > p->file_kb)
			p->file_kb = v;
	}
	fclose(f);
}

/* The entries the node holds, or -1 with err saying why. */
static long long held(struct client *c, const char *author, char *err, size_t errlen)
{
	struct ag_ctl_status_resp resp;
	struct ag_ctl_req req;
	long long sum = 0;

	ag_ctl_req_init(&req, AG_CTL_STATUS);
	if (client_ask(c, &req, &resp, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < resp.status.nfeeds; i++)
		if (!author || strcmp(resp.status.feeds[i].author, author) == 0)
			sum += (long long)resp.status.feeds[i].seq;
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &resp);
	return sum;
}

int main(int argc, char **argv)
{
	const struct timespec tick = {0, 2 * 1000 * 1000}; /* a status every 5 */
	struct peaks peaks = {0};
	char err[256];
	struct client *c;
	long long total, have = 0;
	double limit, t0 = now();

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		peaks.pid = (pid_t)atol(argv[2]);
		argc -= 2, argv += 2;
	}
	if (argc < 3 || (total = atoll(argv[2])) <= 0) {
		fprintf(stderr, "usage: agora-waitsync [-p PID] DIR TOTAL [SECONDS [AUTHOR]]\n");
		return 2;
	}
	limit = argc > 3 ? atof(argv[3]) : 600;
	if (!(c = client_open(argv[1], err, sizeof(err)))) {
		fprintf(stderr, "agora-waitsync: %s\n", err);
		return 3;
	}
	for (unsigned n = 0;; n++) {
		peaks_sample(&peaks);
		if (n % 5 == 0 &&
		    ((have = held(c, argc > 4 ? argv[4] : NULL, err, sizeof(err))) < 0 ||
		     have >= total || now() - t0 >= limit))
			break;
		nanosleep(&tick, NULL);
	}
	client_close(c);
	if (peaks.pid) {
		printf("peak_anon_kb: %ld\n", peaks.anon_kb);
		printf("peak_file_kb: %ld\n", peaks.file_kb);
	}
	if (have < 0) {
		fprintf(stderr, "agora-waitsync: %s\n", err);
		return 3;
	}
	if (have < total) {
		fprintf(stderr, "agora-waitsync: %lld of %lld entries after %.0f s\n", have, total,
		        limit);
		return 1;
	}
	return 0;
}
