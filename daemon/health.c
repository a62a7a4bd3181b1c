/* health.c: agora check's problems, from what agora status shows and the disk. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "health.h"
#include "node.h"
#include "status.h"

#define MIB (UINT64_C(1) << 20)

struct problems {
	struct ag_ctl_check *c;
	size_t cap;
};

static void add(struct problems *p, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct problems *p, const char *kind, const char *fmt, ...)
{
	struct ag_ctl_problem *pr;
	va_list ap;

	if (p->c->nproblems == p->cap)
		return; /* sized for every problem there can be */
	pr = &p->c->problems[p->c->nproblems++];
	snprintf(pr->kind, sizeof(pr->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(pr->message, sizeof(pr->message), fmt, ap);
	va_end(ap);
}

bool health_disk_low(uint64_t avail, uint64_t total)
{
	return avail < HEALTH_DISK_MIN_FREE || avail < total / 100 * HEALTH_DISK_MIN_PCT;
}

void health_duration(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		const char *name;
		uint64_t secs;
	} units[] = {{"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}};
	uint64_t s = ms / 1000;
	size_t i = 0;

	while (i + 1 < sizeof(units) / sizeof(units[0]) && s < units[i].secs)
		i++;
	if (i + 1 < sizeof(units) / sizeof(units[0]) && s % units[i].secs >= units[i + 1].secs)
		snprintf(buf, len, "%llu %s %llu %s", (unsigned long long)(s / units[i].secs),
		         units[i].name, (unsigned long long)(s % units[i].secs / units[i + 1].secs),
		         units[i + 1].name);
	else
		snprintf(buf, len, "%llu %s", (unsigned long long)(s / units[i].secs),
		         units[i].name);
}

/* A peer not connected and not heard from for longer than SilentAfter (since start, if never). */
static void check_silent(struct problems *p, const struct ag_ctl_peer *peer, int64_t started,
                         int64_t now, uint32_t silent_after)
{
	int64_t since = peer->last_contact_ms ? (int64_t)peer->last_contact_ms : started;
	char d[48];

	if (peer->connected || now - since <= (int64_t)silent_after * 1000)
		return;
	health_duration(d, sizeof(d), (uint64_t)(now - since));
	if (peer->last_contact_ms)
		add(p, "silent", "peer %s silent for %s (SilentAfter is %u s)", peer->name, d,
		    silent_after);
	else
		add(p, "silent", "peer %s not heard from since agorad started, %s ago", peer->name,
		    d);
}

static void check_peers(struct problems *p, struct node *n, const struct ag_ctl_node *st)
{
	struct timespec ts;
	int64_t now;
	size_t connected = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (size_t i = 0; i < st->npeers; i++)
		connected += st->peers[i].connected;
	if (st->npeers == 0)
		add(p, "no-peer",
		    "no peer configured (agora peer add KEY --name NAME --endpoint "
		    "HOST:PORT)");
	else if (connected == 0)
		add(p, "no-peer", "no peer connected (%zu configured)", st->npeers);
	for (size_t i = 0; i < st->npeers; i++)
		check_silent(p, &st->peers[i], node_started_ms(n), now,
		             node_config(n)->silent_after);
}

static void check_disk(struct problems *p, struct node *n)
{
	char data[4096 + 16];
	struct statvfs vfs;
	uint64_t avail, total;

	snprintf(data, sizeof(data), "%s/data", node_dir(n));
	if (statvfs(data, &vfs) != 0) {
		add(p, "disk", "cannot tell how full the disk of %s is", data);
		return;
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	if (health_disk_low(avail, total))
		add(p, "disk",
		    "disk nearly full: %llu MiB free of %llu MiB on the file system of %s",
		    (unsigned long long)(avail / MIB), (unsigned long long)(total / MIB), data);
}

/* The store near MaxDisk: at 15/16 it stores nothing more from peers, at MaxDisk it refuses
 * to publish. */
static void check_store(struct problems *p, const struct ag_ctl_node *st)
{
	unsigned long long used = st->store_bytes >> 20, max = st->max_disk >> 20;

	if (st->store_full)
		add(p, "disk",
		    "store full: it takes %llu MiB of MaxDisk %llu MiB (or its disk is nearly "
		    "full): entries from peers are not stored, and publishing is refused at "
		    "MaxDisk",
		    used, max);
	else if (st->max_disk && st->store_bytes >= st->max_disk / 100 * HEALTH_STORE_PCT)
		add(p, "disk", "store nearly at MaxDisk: it takes %llu MiB of %llu MiB", used, max);
}

static void check_forks(struct problems *p, const struct ag_ctl_node *st)
{
	for (size_t i = 0; i < st->nfeeds; i++) {
		const struct ag_ctl_feed *f = &st->feeds[i];

		if (f->forked && strcmp(f->author, st->key) == 0)
			add(p, "fork", "%s", AG_CTL_RECOVER_HINT);
		else if (f->forked)
			add(p, "fork",
			    "feed of %s (%s) is forked: %llu entries kept as proof; it takes "
			    "nothing more until its recovery names where it ends",
			    f->name[0] ? f->name : "an unnamed city", f->author,
			    (unsigned long long)f->forks);
	}
}

int health_check(struct node *n, struct ag_ctl_check *c)
{
	struct ag_ctl_node st;
	struct problems p = {c, 0};

	memset(c, 0, sizeof(*c));
	if (status_fill(n, &st) != 0)
		return -1;
	/* Ready, no peer, disk, store; one per peer and feed; no more than a response may hold. */
	p.cap = 4 + st.npeers + st.nfeeds;
	if (p.cap > AG_CTL_PEERS_MAX)
		p.cap = AG_CTL_PEERS_MAX;
	if (!(c->problems = calloc(p.cap, sizeof(*c->problems)))) {
		ag_ctl_resp_clear(&ag_ctl_status_shape, &st);
		return -1;
	}
	if (!st.ready)
		add(&p, "not-ready",
		    "not ready: waiting to learn its own feed from a peer (publishing is "
		    "refused until then), since %s",
		    st.waiting[0] ? st.waiting : "it has not heard from one");
	check_peers(&p, n, &st);
	check_disk(&p, n);
	check_store(&p, &st);
	check_forks(&p, &st);
	ag_ctl_resp_clear(&ag_ctl_status_shape, &st);
	return 0;
}
