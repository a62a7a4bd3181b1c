/* pool.c: libuv's worker threads below the loop thread's priority. */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"

#define POOL_THREADS_MAX 1024 /* libuv's own bound on UV_THREADPOOL_SIZE */

struct lower {
	uv_work_t work;
	uv_barrier_t *all;
	int err;
};

/* How many threads libuv starts: UV_THREADPOOL_SIZE, read as libuv reads it, else 4. */
static unsigned pool_size(void)
{
	const char *v = getenv("UV_THREADPOOL_SIZE");
	long n = v ? atol(v) : 4;

	return n < 1 ? 1 : n > POOL_THREADS_MAX ? POOL_THREADS_MAX : (unsigned)n;
}

/*
 * On a worker: its own nice value (Linux's setpriority on a thread id touches
 * that thread only), then the barrier, so that no worker takes two of these.
 */
static void lower_work(uv_work_t *w)
{
	struct lower *l = w->data;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	errno = 0;
	if (setpriority(PRIO_PROCESS, (id_t)tid, getpriority(PRIO_PROCESS, (id_t)tid) + POOL_NICE))
		l->err = errno;
	uv_barrier_wait(l->all);
}

static void lower_done(uv_work_t *w, int status)
{
	(void)w;
	(void)status;
}

void pool_lower_priority(uv_loop_t *loop)
{
	unsigned n = pool_size(), failed = 0;
	struct lower *l = calloc(n, sizeof(*l));
	uv_barrier_t all;

	if (!l || uv_barrier_init(&all, n) != 0) {
		free(l);
		log_error("worker threads: out of memory: their priority is not lowered");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		l[i] = (struct lower){.work.data = &l[i], .all = &all};
		(void)uv_queue_work(loop, &l[i].work, lower_work,
		                    lower_done); /* fails on NULL only */
	}
	/* Each worker waits at the barrier until all are there: one each, then the loop is dry. */
	uv_run(loop, UV_RUN_DEFAULT);
	for (unsigned i = 0; i < n; i++)
		failed += l[i].err != 0;
	if (failed > 0)
		log_warnx("worker threads: the priority of %u of %u is not lowered", failed, n);
	uv_barrier_destroy(&all);
	free(l);
}
