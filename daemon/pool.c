/* pool.c: worker threads below the loop thread's priority (pool.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
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

/* The calling thread's own nice value, by more (Linux's setpriority on a thread id touches that
 * thread only): 0, or an errno. */
static int lower_self(int more)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	errno = 0;
	if (more &&
	    setpriority(PRIO_PROCESS, (id_t)tid, getpriority(PRIO_PROCESS, (id_t)tid) + more))
		return errno;
	return 0;
}

/* On a worker: lowers it, then waits at the barrier, so that no worker takes two of these. */
static void lower_work(uv_work_t *w)
{
	struct lower *l = w->data;

	l->err = lower_self(POOL_NICE);
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

struct pool {
	uv_poll_t poll; /* on efd: a worker says a task is worked */
	int efd;
	pthread_t *threads;
	unsigned nthreads; /* started */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock: tasks to work, oldest first, and tasks worked, for the loop. */
	struct pool_task *todo, **todo_tail;
	struct pool_task *worked, **worked_tail;
	bool stopping; /* under lock: the threads end once todo is empty */
	/* Under lock: work for when todo is empty (pool_set_idle), and its arg. */
	pool_idle_fn *idle;
	void *idle_arg;
	int nice; /* added to each thread's nice value */
	/* The loop's: tasks handed over whose done has not run, and whether it stopped. */
	size_t out;
	bool stopped;
	bool lowered_failed; /* a thread's priority could not be lowered: logged once */
};

/* The next task, oldest first, under lock; NULL for none. */
static struct pool_task *take(struct pool *p)
{
	struct pool_task *t = p->todo;

	if (t && !(p->todo = t->next))
		p->todo_tail = &p->todo;
	return t;
}

/* t worked, for the loop; the loop told with no lock held (pool.h: the eventfd). */
static void tell_worked(struct pool *p, struct pool_task *t)
{
	uint64_t one = 1;

	pthread_mutex_lock(&p->lock);
	t->next = NULL;
	*p->worked_tail = t;
	p->worked_tail = &t->next;
	pthread_mutex_unlock(&p->lock);
	/* Every time: the loop takes the list whole, so a wake-up may find it empty. */
	(void)!write(p->efd, &one, sizeof(one));
}

/*
 * Tasks, oldest first; between them, while none waits, the idle work a
 * piece at a time, so that a task handed over waits for one piece at most.
 * After a task the idle work is asked again: the task may have made some.
 */
static void *pool_main(void *arg)
{
	struct pool *p = arg;
	struct pool_task *t;
	bool idle_more = false;
	int err = lower_self(p->nice);

	pthread_mutex_lock(&p->lock);
	if (err && !p->lowered_failed) {
		p->lowered_failed = true;
		errno = err;
		log_warn("worker thread: its priority is not lowered");
	}
	for (;;) {
		while (!p->todo && !p->stopping && !(p->idle && idle_more))
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->todo && p->stopping)
			break;
		if (!(t = take(p))) {
			pool_idle_fn *fn = p->idle;
			void *fn_arg = p->idle_arg;

			pthread_mutex_unlock(&p->lock);
			idle_more = fn(fn_arg) > 0;
			pthread_mutex_lock(&p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		t->work(t);
		tell_worked(p, t);
		idle_more = true;
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* On the loop: the done of every task worked. */
static void on_worked(uv_poll_t *h, int status, int events)
{
	struct pool *p = h->data;
	struct pool_task *list, *t;
	uint64_t n;

	(void)status;
	(void)events;
	(void)!read(p->efd, &n, sizeof(n)); /* non-blocking: nothing to read is fine */
	pthread_mutex_lock(&p->lock);
	list = p->worked;
	p->worked = NULL;
	p->worked_tail = &p->worked;
	pthread_mutex_unlock(&p->lock);
	while ((t = list)) {
		list = t->next;
		p->out--;
		t->done(t);
	}
	/* Idle, the handle does not keep the loop alive. */
	if (p->out == 0 && !p->stopped)
		uv_unref((uv_handle_t *)&p->poll);
}

struct pool *pool_new(uv_loop_t *loop, unsigned threads, int nice)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (threads == 0)
		threads = pool_size();
	if (!p || !(p->threads = calloc(threads, sizeof(*p->threads)))) {
		free(p);
		log_error("worker threads: out of memory");
		return NULL;
	}
	p->todo_tail = &p->todo;
	p->worked_tail = &p->worked;
	p->nice = nice;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if ((p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    uv_poll_init(loop, &p->poll, p->efd) != 0) {
		log_warn("worker threads: cannot make their eventfd");
		if (p->efd >= 0)
			close(p->efd);
		p->efd = -1;
		pool_free(p);
		return NULL;
	}
	p->poll.data = p;
	uv_poll_start(&p->poll, UV_READABLE, on_worked);
	uv_unref((uv_handle_t *)&p->poll);
	while (p->nthreads < threads &&
	       pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) == 0)
		p->nthreads++;
	if (p->nthreads == 0) {
		log_error("worker threads: none could start: tasks are worked on the loop");
		p->stopped = true;
		uv_close((uv_handle_t *)&p->poll, NULL);
	}
	return p;
}

void pool_submit(struct pool *p, struct pool_task *t)
{
	if (!p || p->stopped) {
		t->work(t);
		while (p && p->idle && p->idle(p->idle_arg) > 0)
			; /* no thread to leave it to */
		t->done(t);
		return;
	}
	if (p->out++ == 0)
		uv_ref((uv_handle_t *)&p->poll);
	t->next = NULL;
	pthread_mutex_lock(&p->lock);
	*p->todo_tail = t;
	p->todo_tail = &t->next;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pool_set_idle(struct pool *p, pool_idle_fn *fn, void *arg)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->idle = fn;
	p->idle_arg = arg;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pool_stop(struct pool *p)
{
	if (!p || p->stopped)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->stopped = true;
	on_worked(&p->poll, 0, 0); /* the last tasks' done, which the handle may not call now */
	uv_close((uv_handle_t *)&p->poll, NULL);
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	if (p->efd >= 0)
		close(p->efd);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p);
}
