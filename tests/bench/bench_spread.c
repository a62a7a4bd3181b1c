/*
 * bench_spread.c: how fast, and how economically, a record spreads through a
 * network of 50 real agorad daemons on loopback. Prints only these lines:
 *
 *  spread.p50_ms, spread.p99_ms: from the moment the PUT is sent to the
 *    publishing node until every node holds the entry, for each of 1,000
 *    records (~500-byte bodies) published one at a time at random nodes.
 *    "Holds" is seen by polling each node that does not have it yet (LOG of
 *    the author from that seq, limit 1) over the control socket, in this
 *    process; a record's time is when the last node was seen with it.
 *  spread.receptions_per_entry: the receptions (received + duplicates, summed
 *    over every node and peer, STATUS taken before and after the 1,000
 *    records) divided by 1,000 * 49; 1.0 is each node receiving each entry
 *    exactly once. Target: at most 1.3.
 *  spread.bytes_per_entry_node: wire bytes received (bytes_in, summed over
 *    every node and peer, before and after: entries, HAVE, MODE, WANT, PING,
 *    with their framing and AEAD tags) divided by 1,000 * 49.
 *  spread.peak_rss_mb: the largest VmHWM among the daemons at the end.
 *
 * The network: a random 4-regular graph (pairing model, rejected until it
 * is simple, connected and of diameter at most 4, as Hops = 4 lets every node
 * replicate every feed through member records only if every node is within
 * 4 hops), drawn from a fixed seed printed on stderr. Each node has its own
 * temporary directory with Hops = 4 in [Node]; links are made with PEER_ADD
 * on both sides (the request `agora peer add` sends, so each side publishes a
 * member record for the other). The bench waits until every node holds every
 * feed at its head before it publishes.
 *
 * Everything else goes to stderr. The daemons are stopped and the directory
 * removed on every way out (failure, SIGINT, SIGTERM, the time limit); if the
 * bench itself is SIGKILLed, the daemons get SIGTERM from the kernel
 * (PR_SET_PDEATHSIG). Environment: AGORA_BIN (the build directory; default:
 * two levels above this program), SPREAD_SEED, SPREAD_NODES, SPREAD_RECORDS,
 * SPREAD_POLL_US (pause between poll rounds, default 200), KEEP_WORK=1 (keep
 * the directory, with each daemon's agorad.log).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "jsonmp.h"
#include "key.h"
#include "nodedir.h"

#define DEG             4
#define HOPS            4
#define NODES_DEFAULT   50
#define NODES_MAX       200
#define RECORDS_DEFAULT 1000
#define SEED_DEFAULT    20240501u /* any: printed, and SPREAD_SEED picks another */
#define TOTAL_S         290       /* the whole bench, then it stops itself */
#define SETUP_S         120       /* start, link, converge */
#define RECORD_S        10        /* one record to every node */
#define CALL_MS         5000      /* each control request */
#define BODY_FILL       440       /* characters of filler in each body: ~500 bytes encoded */
#define STEP            100       /* records between two progress notes */
#define GRAPH_TRIES     100000000L

struct node {
	char dir[1024 + 16];
	char name[16];
	char key[AG_B64_LEN + 1];
	uint16_t port;
	pid_t pid;
	struct client *cl;
	int pfd; /* a second control connection, for the parallel polls */
	uint8_t hdr[AG_CTL_HDR_LEN];
	uint8_t *body;
	size_t got, want; /* bytes of the response read, and its header and body */
	int nbr[DEG];
	int nnbr;
	long connects; /* "connected (" lines in its log */
};

/* Per node and peer: the counters of one STATUS. */
struct counts {
	uint64_t received, duplicates, bytes_in;
	int connected;
};

static struct node *nodes;
static int nnodes;
static char work[1024];
static char agorad[PATH_MAX + 16];
static volatile sig_atomic_t stop_sig;
static int keep_work;

/* ---- small things ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_sig)
		;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	fputs("bench-spread: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The last lines of a node's log, as evidence. */
static void log_tail(int i, int lines)
{
	char path[PATH_MAX + 16], cmd[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/agorad.log", nodes[i].dir);
	fprintf(stderr, "--- %s (%s), last %d lines of agorad.log\n", nodes[i].name, nodes[i].key,
	        lines);
	fflush(stderr);
	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, path);
	if (system(cmd) != 0)
		fprintf(stderr, "(cannot read %s)\n", path);
}

_Noreturn static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("bench-spread: FAILED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1); /* cleanup() runs from atexit */
}

static void check_stop(void)
{
	if (stop_sig == SIGALRM)
		fail("the bench ran past its limit of %d s", TOTAL_S);
	if (stop_sig)
		fail("interrupted by signal %d", (int)stop_sig);
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* Stops every daemon (SIGTERM, then SIGKILL after 5 s) and removes the directory. */
static void cleanup(void)
{
	double end = now() + 5;
	int left;

	for (int i = 0; i < nnodes; i++) {
		client_close(nodes[i].cl);
		nodes[i].cl = NULL;
		if (nodes[i].pfd > 0)
			close(nodes[i].pfd);
		nodes[i].pfd = -1;
		free(nodes[i].body);
		nodes[i].body = NULL;
		if (nodes[i].pid > 0)
			kill(nodes[i].pid, SIGTERM);
	}
	do {
		left = 0;
		for (int i = 0; i < nnodes; i++) {
			if (nodes[i].pid <= 0)
				continue;
			if (waitpid(nodes[i].pid, NULL, WNOHANG) == nodes[i].pid)
				nodes[i].pid = 0;
			else
				left++;
		}
		if (left) {
			struct timespec ts = {0, 20000000};

			nanosleep(&ts, NULL);
		}
	} while (left && now() < end);
	for (int i = 0; i < nnodes; i++) {
		if (nodes[i].pid > 0) {
			fprintf(stderr, "bench-spread: %s did not stop on SIGTERM in 5 s; killed\n",
			        nodes[i].name);
			kill(nodes[i].pid, SIGKILL);
			waitpid(nodes[i].pid, NULL, 0);
			nodes[i].pid = 0;
		}
	}
	if (!work[0])
		return;
	if (keep_work)
		fprintf(stderr, "bench-spread: work kept in %s\n", work);
	else if (nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench-spread: cannot remove %s: %s\n", work, strerror(errno));
}

/* splitmix64: a fixed seed gives the same graph and the same publishers everywhere. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int rng_below(int n)
{
	return (int)(rng() % (uint64_t)n);
}

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		fail("%s must be a number from %ld to %ld", name, lo, hi);
	return v;
}

/* ---- the graph ---- */

static int adjacent(int a, int b)
{
	for (int k = 0; k < nodes[a].nnbr; k++)
		if (nodes[a].nbr[k] == b)
			return 1;
	return 0;
}

/* One draw of the pairing model: 0 if it gave a simple graph. */
static int pairing(void)
{
	int stubs[NODES_MAX * DEG], n = nnodes * DEG;

	for (int i = 0; i < nnodes; i++)
		nodes[i].nnbr = 0;
	for (int i = 0; i < n; i++)
		stubs[i] = i / DEG;
	for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
		int j = rng_below(i + 1), t = stubs[i];

		stubs[i] = stubs[j];
		stubs[j] = t;
	}
	for (int i = 0; i < n; i += 2) {
		int a = stubs[i], b = stubs[i + 1];

		if (a == b || adjacent(a, b))
			return -1;
		nodes[a].nbr[nodes[a].nnbr++] = b;
		nodes[b].nbr[nodes[b].nnbr++] = a;
	}
	return 0;
}

/* The largest BFS distance from any node; INT_MAX if the graph is not connected. */
static int diameter(double *mean)
{
	int dist[NODES_MAX], queue[NODES_MAX], diam = 0;
	double sum = 0;

	for (int s = 0; s < nnodes; s++) {
		int head = 0, tail = 0, seen = 1;

		for (int i = 0; i < nnodes; i++)
			dist[i] = -1;
		dist[s] = 0;
		queue[tail++] = s;
		while (head < tail) {
			int u = queue[head++];

			for (int k = 0; k < nodes[u].nnbr; k++) {
				int v = nodes[u].nbr[k];

				if (dist[v] < 0) {
					dist[v] = dist[u] + 1;
					sum += dist[v];
					diam = dist[v] > diam ? dist[v] : diam;
					queue[tail++] = v;
					seen++;
				}
			}
		}
		if (seen < nnodes)
			return INT_MAX;
	}
	*mean = sum / ((double)nnodes * (nnodes - 1));
	return diam;
}

static void make_graph(uint64_t seed)
{
	long simple = 0, by_diam[8] = {0};
	double mean = 0, t0 = now();
	int d;

	rng_state = seed;
	for (long t = 1; t <= GRAPH_TRIES; t++) {
		if (pairing() != 0)
			continue;
		simple++;
		d = diameter(&mean);
		by_diam[d == INT_MAX ? 7 : d < 7 ? d : 6]++;
		if (d <= HOPS) {
			note("graph: seed %llu, %d nodes of degree %d: draw %ld of the pairing "
			     "model, simple graph %ld; diameter %d, mean distance %.2f",
			     (unsigned long long)seed, nnodes, DEG, t, simple, d, mean);
			if (simple > 1)
				note("graph: %ld simple graphs drawn before it were rejected: %ld "
				     "of diameter 5, %ld of 6 or more, %ld disconnected (Hops = %d "
				     "reaches only feeds within %d links) (%.1f s)",
				     simple - 1, by_diam[5], by_diam[6], by_diam[7], HOPS, HOPS,
				     now() - t0);
			return;
		}
	}
	fail("no simple connected %d-regular graph of diameter <= %d in %ld draws (%ld simple: "
	     "%ld of diameter 5, %ld of 6 or more, %ld disconnected)",
	     DEG, HOPS, (long)GRAPH_TRIES, simple, by_diam[5], by_diam[6], by_diam[7]);
}

/* ---- nodes ---- */

static void pick_ports(void)
{
	int fds[NODES_MAX];

	/* All held open at once, so no two nodes get the same port. */
	for (int i = 0; i < nnodes; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_addr.s_addr = htonl(0x7f000001)};
		socklen_t len = sizeof(sa);

		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
			fail("cannot find a free port on 127.0.0.1: %s", strerror(errno));
		nodes[i].port = ntohs(sa.sin_port);
	}
	for (int i = 0; i < nnodes; i++)
		close(fds[i]);
}

/* agora init, then Hops = 4 under [Node]. */
static void init_node(int i)
{
	struct node *nd = &nodes[i];
	char listen[32], conf[sizeof(nodes->dir) + 16], text[4096], err[600];
	uint8_t pk[AG_PK_LEN];
	size_t len;
	FILE *f;

	snprintf(nd->name, sizeof(nd->name), "n%02d", i);
	snprintf(nd->dir, sizeof(nd->dir), "%s/%s", work, nd->name);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", nd->port);
	if (nodedir_init(nd->dir, nd->name, listen, pk, NULL, err, sizeof(err)) != 0)
		fail("cannot make the node directory %s: %s", nd->dir, err);
	ag_key_to_b64(nd->key, pk);
	snprintf(conf, sizeof(conf), "%s/agorad.conf", nd->dir);
	if (!(f = fopen(conf, "r")))
		fail("cannot read %s: %s", conf, strerror(errno));
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	if (strncmp(text, "[Node]\n", 7) != 0 || strstr(text, "Hops"))
		fail("%s does not start with [Node] as expected", conf);
	if (!(f = fopen(conf, "w")) || fprintf(f, "[Node]\nHops = %d\n%s", HOPS, text + 7) < 0 ||
	    fclose(f) != 0)
		fail("cannot write %s: %s", conf, strerror(errno));
}

static void start_node(int i)
{
	struct node *nd = &nodes[i];
	char log[PATH_MAX + 16];
	pid_t parent = getpid(), pid;

	snprintf(log, sizeof(log), "%s/agorad.log", nd->dir);
	fflush(NULL);
	if ((pid = fork()) < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600),
		    null = open("/dev/null", O_RDONLY);

		/* Its own process group: a Ctrl-C reaches the bench, which stops the daemons. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent || fd < 0 || null < 0)
			_exit(127);
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(agorad, "agorad", "--dir", nd->dir, (char *)NULL);
		dprintf(2, "bench-spread: cannot run %s: %s\n", agorad, strerror(errno));
		_exit(127);
	}
	nd->pid = pid;
}

/* One request, its answer in resp; fails the bench, with the daemon's log, unless it is done. */
static void call(int i, const struct ag_ctl_req *req, void *resp)
{
	char err[512];
	int rc = client_ask(nodes[i].cl, req, resp, err, sizeof(err));

	check_stop();
	if (rc == 0)
		return;
	if (waitpid(nodes[i].pid, NULL, WNOHANG) == nodes[i].pid) {
		nodes[i].pid = 0;
		log_tail(i, 30);
		fail("%s: agorad exited: %s", nodes[i].name, err);
	}
	log_tail(i, 30);
	fail("%s: %s request: %s", nodes[i].name, ag_ctl_type_name(req->type), err);
}

/* A second connection to node i's control socket, for the polls. */
static void open_poller(int i)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%.*s/agorad.sock",
	                     (int)(sizeof(sa.sun_path) - 13), nodes[i].dir) >= sizeof(sa.sun_path))
		fail("%s: the socket path is too long", nodes[i].dir);
	if ((nodes[i].pfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(nodes[i].pfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail("%s: cannot connect to %s: %s", nodes[i].name, sa.sun_path, strerror(errno));
}

static void connect_node(int i, double deadline)
{
	struct ag_ctl_req req;
	struct ag_ctl_id id;
	char err[512];

	while (!(nodes[i].cl = client_open(nodes[i].dir, err, sizeof(err)))) {
		check_stop();
		if (waitpid(nodes[i].pid, NULL, WNOHANG) == nodes[i].pid) {
			nodes[i].pid = 0;
			log_tail(i, 30);
			fail("%s: agorad exited at start", nodes[i].name);
		}
		if (now() > deadline)
			fail("%s: %s", nodes[i].name, err);
		sleep_s(0.02);
	}
	client_set_timeout(nodes[i].cl, CALL_MS);
	ag_ctl_req_init(&req, AG_CTL_ID);
	call(i, &req, &id);
	open_poller(i);
}

static void peer_add(int i, int j)
{
	struct ag_ctl_req req;
	struct ag_ctl_city city;
	char ep[32];

	snprintf(ep, sizeof(ep), "127.0.0.1:%u", nodes[j].port);
	ag_ctl_req_init(&req, AG_CTL_PEER_ADD);
	if (ag_ctl_req_set(&req, AG_CTL_F_ENDPOINT, ep) != 0 ||
	    ag_ctl_req_set(&req, AG_CTL_F_KEY, nodes[j].key) != 0 ||
	    ag_ctl_req_set(&req, AG_CTL_F_NAME, nodes[j].name) != 0)
		fail("%s: a peer-add request over its limits", nodes[j].name);
	call(i, &req, &city);
}

static int node_of(const char *key)
{
	for (int i = 0; key && i < nnodes; i++)
		if (strcmp(nodes[i].key, key) == 0)
			return i;
	return -1;
}

/* Node i's status (STATUS), allocated; status_free frees it. */
static struct ag_ctl_status_resp *status_of(int i)
{
	struct ag_ctl_status_resp *st = malloc(sizeof(*st));
	struct ag_ctl_req req;

	if (!st)
		fail("out of memory");
	ag_ctl_req_init(&req, AG_CTL_STATUS);
	call(i, &req, st);
	return st;
}

static void status_free(struct ag_ctl_status_resp *st)
{
	if (st)
		ag_ctl_resp_clear(&ag_ctl_status_resp_shape, st);
	free(st);
}

/* The seq of author j's feed at the node whose status is st; -1 if it does not replicate it. */
static long long feed_seq(const struct ag_ctl_status_resp *st, int j)
{
	for (size_t k = 0; k < st->status.nfeeds; k++)
		if (node_of(st->status.feeds[k].author) == j)
			return (long long)st->status.feeds[k].seq;
	return -1;
}

/*
 * Until every node is ready, has its peers connected and holds every feed at
 * the author's own head (the member records of the links). Says where it
 * stands every few seconds, and what is missing if it never gets there.
 */
static void converge(double deadline)
{
	struct ag_ctl_status_resp **st = calloc((size_t)nnodes, sizeof(*st));
	long long *own = calloc((size_t)nnodes, sizeof(*own));
	double next_note = now() + 3, t0 = now();

	if (!st || !own)
		fail("out of memory");
	for (;;) {
		int done = 0, unready = 0, down = 0;
		long long missing = 0, nofeed = 0;

		for (int i = 0; i < nnodes; i++) {
			status_free(st[i]);
			st[i] = status_of(i);
		}
		for (int j = 0; j < nnodes; j++)
			own[j] = feed_seq(st[j], j);
		for (int i = 0; i < nnodes; i++) {
			long long miss = 0;
			int peers_up = 0, nf = (int)st[i]->status.nfeeds;

			for (size_t k = 0; k < st[i]->status.npeers; k++)
				peers_up += st[i]->status.peers[k].connected;
			for (int j = 0; j < nnodes; j++) {
				long long s = feed_seq(st[i], j);

				if (s < 0)
					nofeed++;
				miss += own[j] - (s < 0 ? 0 : s);
			}
			missing += miss;
			unready += !st[i]->status.ready;
			down += DEG - peers_up;
			done += miss == 0 && nf == nnodes && peers_up == DEG && st[i]->status.ready;
		}
		int heads_ok = 1;

		for (int j = 0; j < nnodes; j++)
			heads_ok &= own[j] == DEG;
		if (done == nnodes && heads_ok) {
			note("converged in %.1f s: every node holds all %d feeds at their heads "
			     "(%d member records each)",
			     now() - t0, nnodes, DEG);
			break;
		}
		if (now() > next_note) {
			note(
			    "converging: %d of %d nodes complete; %d not ready, %d links down (per "
			    "side), %lld feeds not replicated, %lld entries missing",
			    done, nnodes, unready, down, nofeed, missing);
			next_note = now() + 3;
		}
		if (now() > deadline) {
			int shown = 0;

			for (int i = 0; i < nnodes && shown < 10; i++)
				for (int j = 0; j < nnodes && shown < 10; j++) {
					long long s = feed_seq(st[i], j);

					if (s != own[j]) {
						note("  %s holds %s's feed at %lld (author's head "
						     "%lld)",
						     nodes[i].name, nodes[j].name, s, own[j]);
						shown++;
					}
				}
			fail("the network did not converge before the set-up limit of %d s "
			     "(%d of %d nodes complete)",
			     SETUP_S, done, nnodes);
		}
		sleep_s(0.2);
	}
	for (int i = 0; i < nnodes; i++)
		status_free(st[i]);
	free(st);
	free(own);
}

/* Counters of every node's peers, in the order of nodes[i].nbr. */
static void snapshot(struct counts (*c)[DEG])
{
	for (int i = 0; i < nnodes; i++) {
		struct ag_ctl_status_resp *st = status_of(i);

		memset(c[i], 0, sizeof(c[i]));
		for (size_t k = 0; k < st->status.npeers; k++) {
			const struct ag_ctl_peer *p = &st->status.peers[k];
			int j = node_of(p->key);

			for (int m = 0; m < nodes[i].nnbr; m++) {
				if (nodes[i].nbr[m] != j)
					continue;
				c[i][m].received = p->received;
				c[i][m].duplicates = p->duplicates;
				c[i][m].bytes_in = p->bytes_in;
				c[i][m].connected = p->connected;
			}
		}
		status_free(st);
	}
}

static uint64_t receptions(struct counts (*c)[DEG])
{
	uint64_t sum = 0;

	for (int i = 0; i < nnodes; i++)
		for (int m = 0; m < nodes[i].nnbr; m++)
			sum += c[i][m].received + c[i][m].duplicates;
	return sum;
}

/* Until the receptions stop changing for a second (at most 10 s): nothing left in flight. */
static void settle(struct counts (*c)[DEG])
{
	uint64_t last = UINT64_MAX;
	double end = now() + 10;

	for (;;) {
		snapshot(c);
		if (receptions(c) == last)
			return;
		if (now() > end) {
			note("receptions still changing after 10 s (now %llu)",
			     (unsigned long long)receptions(c));
			return;
		}
		last = receptions(c);
		sleep_s(1);
	}
}

/* "connected (" lines in a node's log: a link that came up again shows here. */
static long count_connects(int i)
{
	char path[PATH_MAX + 16], line[1200];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/agorad.log", nodes[i].dir);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, ": connected (") != NULL;
	fclose(f);
	return n;
}

static double vm_hwm_mb(int i)
{
	char path[64], line[256];
	double kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)nodes[i].pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct(const double *sorted, int n, double p)
{
	int r = (int)((p / 100) * n + 0.999999);

	return sorted[r < 1 ? 0 : r > n ? n - 1 : r - 1];
}

static json_t *record_body(int r)
{
	char fill[BODY_FILL + 1], title[64];
	static const char words[] = "hebergement sante education emploi echange inclusion "
	                            "gouvernance acces aux droits services planification urbaine ";

	for (int k = 0; k < BODY_FILL; k++)
		fill[k] = words[(k * 7 + r) % (sizeof(words) - 1)];
	fill[BODY_FILL] = '\0';
	snprintf(title, sizeof(title), "Spread record %d", r);
	return json_pack("{s:s, s:[s], s:s}", "summary", fill, "topics", "exchange", "title",
	                 title);
}

/* The PUT of record r as practice id; req->body is allocated. */
static void put_req(struct ag_ctl_req *req, const char *id, int r)
{
	json_t *body = record_body(r);
	uint8_t *mp = NULL;
	size_t len = 0;
	char err[256];

	ag_ctl_req_init(req, AG_CTL_PUT);
	if (!body || jsonmp_encode(body, &mp, &len, err, sizeof(err)) != 0 ||
	    ag_ctl_req_set(req, AG_CTL_F_ID, id) != 0 ||
	    ag_ctl_req_set(req, AG_CTL_F_TYPE, "practice") != 0)
		fail("cannot encode record %d", r);
	json_decref(body);
	req->body = mp;
	req->body_len = len;
	req->fields |= AG_CTL_F_BODY;
}

/* Sends node i the request "LOG of author a from seq, at most 1 entry". */
static void poll_send(int i, int a, uint64_t seq, uint32_t id)
{
	struct ag_ctl_hdr h = {AG_CTL_VERSION, AG_CTL_LOG, id, 0};
	uint8_t *body = NULL, msg[AG_CTL_HDR_LEN + 256];
	struct ag_ctl_req req;
	size_t len = 0;

	ag_ctl_req_init(&req, AG_CTL_LOG);
	req.limit = 1;
	req.since = seq;
	req.fields = AG_CTL_F_LIMIT | AG_CTL_F_SINCE;
	if (ag_ctl_req_set(&req, AG_CTL_F_CITY, nodes[a].key) != 0 ||
	    ag_ctl_req_encode(&req, &body, &len) != 0 || len > sizeof(msg) - AG_CTL_HDR_LEN)
		fail("cannot encode a LOG request");
	h.len = (uint32_t)len;
	ag_ctl_hdr_encode(msg, &h);
	memcpy(msg + AG_CTL_HDR_LEN, body, len);
	free(body);
	/* Small, and the socket idle: one write takes it whole. */
	if (send(nodes[i].pfd, msg, AG_CTL_HDR_LEN + len, MSG_NOSIGNAL) !=
	    (ssize_t)(AG_CTL_HDR_LEN + len))
		fail("%s: cannot send a LOG request: %s", nodes[i].name, strerror(errno));
	nodes[i].got = 0;
	nodes[i].want = AG_CTL_HDR_LEN;
}

/*
 * Reads what node i has sent of its answer: 0 while incomplete; 1 when it is
 * complete, with *has saying whether the entry was in it.
 */
static int poll_read(int i, int *has)
{
	struct node *nd = &nodes[i];
	struct ag_ctl_hdr h;
	ssize_t r;

	for (;;) {
		uint8_t *dst = nd->got < AG_CTL_HDR_LEN ? nd->hdr + nd->got
		                                        : nd->body + (nd->got - AG_CTL_HDR_LEN);

		r = recv(nd->pfd, dst, nd->want - nd->got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("%s: the control socket closed: %s", nd->name,
			     r ? strerror(errno) : "end of file");
		nd->got += (size_t)r;
		if (nd->got < nd->want)
			continue;
		if (nd->want == AG_CTL_HDR_LEN) {
			if (ag_ctl_hdr_decode(&h, nd->hdr, true) != 0)
				fail("%s: a malformed response header", nd->name);
			free(nd->body);
			if (!(nd->body = malloc(h.len ? h.len : 1)))
				fail("out of memory");
			nd->want = AG_CTL_HDR_LEN + h.len;
			if (h.len)
				continue;
		}
		break;
	}
	size_t len = nd->want - AG_CTL_HDR_LEN;
	struct ag_ctl_error e;
	struct ag_ctl_log log;
	bool ok = false;
	int rc = ag_ctl_resp_decode(&ag_ctl_log_shape, &log, &ok, nd->body, len, NULL, NULL);

	if (rc != 0 || !ok) {
		ag_ctl_resp_clear(&ag_ctl_log_shape, &log);
		if (ag_ctl_resp_decode(&ag_ctl_error_shape, &e, &ok, nd->body, len, NULL, NULL) !=
		    0)
			snprintf(e.error, sizeof(e.error), "%s", ag_strerror(rc));
		fail("%s: LOG refused: %s", nd->name, e.error);
	}
	*has = log.nentries > 0;
	ag_ctl_resp_clear(&ag_ctl_log_shape, &log);
	return 1;
}

/*
 * One poll round: asks every pending node at once whether it holds author
 * a's entry at seq, and reads the answers as they come. Keeps the nodes that
 * lack it in pending; *last is when the last holder answered.
 */
static int poll_round(int *pending, int npending, int a, uint64_t seq, double *last)
{
	struct pollfd pfds[NODES_MAX];
	int left = npending, keep = 0, has[NODES_MAX], done[NODES_MAX] = {0};
	double deadline = now() + CALL_MS / 1000.0;
	static uint32_t id;

	for (int k = 0; k < npending; k++)
		poll_send(pending[k], a, seq, ++id);
	while (left > 0) {
		int rc, ms = (int)((deadline - now()) * 1000);

		for (int k = 0; k < npending; k++)
			pfds[k] = (struct pollfd){.fd = done[k] ? -1 : nodes[pending[k]].pfd,
			                          .events = POLLIN};
		check_stop();
		if (ms <= 0)
			fail("a LOG poll was not answered in %d s", CALL_MS / 1000);
		if ((rc = poll(pfds, (nfds_t)npending, ms)) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		for (int k = 0; rc > 0 && k < npending; k++) {
			if (done[k] || !pfds[k].revents || !poll_read(pending[k], &has[k]))
				continue;
			done[k] = 1;
			left--;
			if (has[k])
				*last = now();
		}
	}
	for (int k = 0; k < npending; k++)
		if (!has[k])
			pending[keep++] = pending[k];
	return keep;
}

int main(void)
{
	struct counts(*before)[DEG], (*after)[DEG];
	int records, *pending, poll_us;
	double *lat, *put_ms, t_start = now(), deadline, peak = 0, worst_poll = 0;
	uint64_t seed, sum_recv = 0, sum_dup = 0, sum_bytes = 0;
	long rounds = 0, polls = 0;
	const char *tmp = getenv("TMPDIR"), *bin = getenv("AGORA_BIN");
	struct sigaction sa = {.sa_handler = on_signal};
	char self[PATH_MAX];
	ssize_t n;

	setvbuf(stderr, NULL, _IOLBF, 0);
	nnodes = (int)env_long("SPREAD_NODES", NODES_DEFAULT, DEG + 2, NODES_MAX);
	records = (int)env_long("SPREAD_RECORDS", RECORDS_DEFAULT, 1, 100000);
	seed = (uint64_t)env_long("SPREAD_SEED", SEED_DEFAULT, 0, LONG_MAX);
	poll_us = (int)env_long("SPREAD_POLL_US", 200, 0, 100000);
	keep_work = getenv("KEEP_WORK") && strcmp(getenv("KEEP_WORK"), "1") == 0;
	if (ag_init() != 0)
		fail("libsodium did not initialise");

	/* agorad: $AGORA_BIN/agorad, else two levels above build/tests/bench/. */
	if (bin && *bin) {
		snprintf(agorad, sizeof(agorad), "%s/agorad", bin);
	} else {
		if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
			fail("cannot find this program's path");
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(agorad, sizeof(agorad), "%s/../../agorad", self);
	}
	if (access(agorad, X_OK) != 0)
		fail("no agorad at %s (set AGORA_BIN to the build directory)", agorad);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(TOTAL_S);

	if (!(nodes = calloc((size_t)nnodes, sizeof(*nodes))) ||
	    !(before = calloc((size_t)nnodes, sizeof(*before))) ||
	    !(after = calloc((size_t)nnodes, sizeof(*after))) ||
	    !(lat = calloc((size_t)records, sizeof(*lat))) ||
	    !(put_ms = calloc((size_t)records, sizeof(*put_ms))) ||
	    !(pending = calloc((size_t)nnodes, sizeof(*pending))))
		fail("out of memory");
	make_graph(seed);

	snprintf(work, sizeof(work), "%s/agora-bench-spread-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(work)) {
		work[0] = '\0';
		fail("cannot make a temporary directory: %s", strerror(errno));
	}
	atexit(cleanup);
	note("%d daemons in %s, Hops = %d, %d records", nnodes, work, HOPS, records);

	deadline = now() + SETUP_S;
	pick_ports();
	for (int i = 0; i < nnodes; i++)
		init_node(i);
	for (int i = 0; i < nnodes; i++)
		start_node(i);
	for (int i = 0; i < nnodes; i++)
		connect_node(i, deadline);
	note("%d daemons answer (%.1f s)", nnodes, now() - t_start);
	for (int i = 0; i < nnodes; i++)
		for (int m = 0; m < nodes[i].nnbr; m++)
			if (nodes[i].nbr[m] > i) {
				peer_add(i, nodes[i].nbr[m]);
				peer_add(nodes[i].nbr[m], i);
			}
	note("%d links added on both sides (%.1f s)", nnodes * DEG / 2, now() - t_start);
	converge(deadline);

	settle(before);
	for (int i = 0; i < nnodes; i++)
		nodes[i].connects = count_connects(i);

	/*
	 * What a poll round of every node costs on the idle network, the bench's
	 * resolution: when they lack the entry (most polls), and when they hold it
	 * (once per node and record).
	 */
	{
		double idle[2][21], unused;

		for (int k = 0; k < 42; k++) {
			int npending = 0, hit = k % 2;
			double tr = now();

			for (int i = 1; i < nnodes; i++)
				pending[npending++] = i;
			if (poll_round(pending, npending, 0, hit ? 1 : 1000000, &unused) !=
			    (hit ? 0 : npending))
				fail("n00's feed is not where it was");
			idle[hit][k / 2] = (now() - tr) * 1000;
		}
		qsort(idle[0], 21, sizeof(double), cmp_double);
		qsort(idle[1], 21, sizeof(double), cmp_double);
		note(
		    "a poll round of %d nodes on the idle network takes %.2f ms (median) when they "
		    "lack the entry, %.2f ms when they hold it",
		    nnodes - 1, idle[0][10], idle[1][10]);
	}

	/* The records, one at a time. */
	double t_records = now(), t_snaps = 0;
	uint64_t prev_recv = receptions(before);
	int prev_r = 0;

	for (int r = 0; r < records; r++) {
		int a = rng_below(nnodes), npending = 0;
		char id[32];
		double t0, t1, last = 0;
		struct ag_ctl_published pub;
		struct ag_ctl_req req;
		uint64_t seq;

		snprintf(id, sizeof(id), "spread-%05d", r);
		put_req(&req, id, r);
		t0 = now();
		call(a, &req, &pub);
		t1 = now();
		seq = pub.seq;
		free((void *)(uintptr_t)req.body);
		put_ms[r] = (t1 - t0) * 1000;
		for (int i = 0; i < nnodes; i++)
			if (i != a)
				pending[npending++] = i;
		while (npending > 0) {
			double tr = now();

			rounds++;
			polls += npending;
			npending = poll_round(pending, npending, a, seq, &last);
			worst_poll = now() - tr > worst_poll ? now() - tr : worst_poll;
			if (npending == 0)
				break;
			if (now() - t0 > RECORD_S) {
				for (int k = 0; k < npending && k < 10; k++) {
					struct ag_ctl_status_resp *st = status_of(pending[k]);

					note("  %s holds %s's feed at %lld, not %llu",
					     nodes[pending[k]].name, nodes[a].name, feed_seq(st, a),
					     (unsigned long long)seq);
					status_free(st);
				}
				for (int k = 0; k < npending && k < 3; k++)
					log_tail(pending[k], 20);
				fail("record %d (%s's seq %llu) did not reach %d of %d nodes in %d "
				     "s",
				     r, nodes[a].name, (unsigned long long)seq, npending,
				     nnodes - 1, RECORD_S);
			}
			if (now() - t_start > TOTAL_S - 15)
				fail("out of time after %d of %d records", r, records);
			if (poll_us)
				sleep_s(poll_us / 1e6);
		}
		lat[r] = (last - t0) * 1000;
		/* Every STEP records, outside every timing: the receptions so far. */
		if ((r + 1) % STEP == 0 && r + 1 < records) {
			double ts = now(), *l = lat + prev_r;
			int cnt = r + 1 - prev_r;
			uint64_t rc;

			snapshot(after);
			rc = receptions(after);
			qsort(l, (size_t)cnt, sizeof(*l), cmp_double);
			note(
			    "records %d-%d: %.3f receptions per entry and node, spread p50 %.1f ms "
			    "(%.0f s)",
			    prev_r + 1, r + 1,
			    (double)(rc - prev_recv) / ((double)cnt * (nnodes - 1)),
			    pct(l, cnt, 50), now() - t_records);
			prev_recv = rc;
			prev_r = r + 1;
			t_snaps += now() - ts;
		}
	}
	double t_done = now();
	uint64_t end_recv;

	settle(after);
	end_recv = receptions(after);
	if (records - prev_r > 0)
		note("records %d-%d: %.3f receptions per entry and node", prev_r + 1, records,
		     (double)(end_recv - prev_recv) / ((double)(records - prev_r) * (nnodes - 1)));
	for (int i = 0; i < nnodes; i++) {
		for (int m = 0; m < nodes[i].nnbr; m++) {
			struct counts *b = &before[i][m], *e = &after[i][m];

			if (!b->connected || !e->connected || e->bytes_in < b->bytes_in)
				note("%s's link to %s was down or reset during the records: its "
				     "bytes_in are not all counted",
				     nodes[i].name, nodes[nodes[i].nbr[m]].name);
			sum_recv += e->received - b->received;
			sum_dup += e->duplicates - b->duplicates;
			sum_bytes +=
			    e->bytes_in >= b->bytes_in ? e->bytes_in - b->bytes_in : e->bytes_in;
		}
		long c = count_connects(i);

		if (c != nodes[i].connects)
			note("%s: %ld links came up again during the records", nodes[i].name,
			     c - nodes[i].connects);
		double mb = vm_hwm_mb(i);

		peak = mb > peak ? mb : peak;
	}

	double denom = (double)records * (nnodes - 1);

	qsort(lat, (size_t)records, sizeof(*lat), cmp_double);
	qsort(put_ms, (size_t)records, sizeof(*put_ms), cmp_double);
	note("records phase %.1f s (%.1f s of it in STATUS between records); %ld poll rounds, %ld "
	     "LOG polls, slowest round %.1f ms; pause between rounds %d us",
	     t_done - t_records, t_snaps, rounds, polls, worst_poll * 1000, poll_us);
	note("spread: min %.1f ms, p90 %.1f ms, max %.1f ms; PUT answered in p50 %.1f ms, p99 "
	     "%.1f ms",
	     lat[0], pct(lat, records, 90), lat[records - 1], pct(put_ms, records, 50),
	     pct(put_ms, records, 99));
	note("receptions: %llu stored (%.3f per entry and node; 1 expected), %llu duplicates "
	     "(%.3f)",
	     (unsigned long long)sum_recv, (double)sum_recv / denom, (unsigned long long)sum_dup,
	     (double)sum_dup / denom);
	note("total %.1f s", now() - t_start);

	printf("spread.p50_ms: %.1f\n", pct(lat, records, 50));
	printf("spread.p99_ms: %.1f\n", pct(lat, records, 99));
	printf("spread.receptions_per_entry: %.3f\n", (double)(sum_recv + sum_dup) / denom);
	printf("spread.bytes_per_entry_node: %.0f\n", (double)sum_bytes / denom);
	printf("spread.peak_rss_mb: %.1f\n", peak);
	fflush(stdout);
	return 0;
}
