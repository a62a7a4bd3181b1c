/*
 * test_pool_one.c: a pool of one thread at the loop's nice, as the sync's
 * appender is: tasks worked in order, and done on the loop in the same
 * order; idle work between them only while none waits.
 */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "pool.h"

#define NTASKS 64

struct task {
	struct pool_task t; /* first */
	int i;
	int worked_at; /* its place in the thread's order; -1 before its work */
	bool worked_off_loop;
};

static pthread_t loop_thread;
static atomic_int pieces;      /* idle pieces begun */
static atomic_int pieces_max;  /* the idle work says none is left once pieces reach it */
static atomic_int seen_queued; /* idle pieces begun while tasks were handed over and not worked */
static atomic_int submitted;   /* tasks handed over */
static sem_t first_go;         /* the first task's work waits for it */
static int worked[NTASKS], nworked; /* the pool's thread writes them, in turn */
static int done[NTASKS], ndone;
static int pieces_at_work[NTASKS]; /* idle pieces begun when each task was worked */
static bool done_on_loop = true, done_after_work = true;

static void work(struct pool_task *t)
{
	struct task *k = (struct task *)t;
	struct timespec ts = {0, 200000}; /* 0.2 ms: the loop is ahead of the thread */

	nanosleep(&ts, NULL);
	k->worked_off_loop = !pthread_equal(pthread_self(), loop_thread);
	k->worked_at = nworked;
	pieces_at_work[k->i] = atomic_load(&pieces);
	worked[nworked++] = k->i;
}

static void task_done(struct pool_task *t)
{
	struct task *k = (struct task *)t;

	done_on_loop &= pthread_equal(pthread_self(), loop_thread) != 0;
	/* The task alone is the loop's to read here: the thread goes on with the next. */
	done_after_work &= k->worked_at == ndone;
	done[ndone++] = k->i;
}

/* Every task fresh, a loop and a pool of one thread on it. */
static struct pool *start(uv_loop_t *loop, struct task *tasks)
{
	struct pool *a;

	loop_thread = pthread_self();
	nworked = ndone = 0;
	done_on_loop = done_after_work = true;
	for (int i = 0; i < NTASKS; i++)
		tasks[i] = (struct task){{NULL, work, task_done}, i, -1, false};
	assert_int_equal(uv_loop_init(loop), 0);
	assert_non_null(a = pool_new(loop, 1, 0));
	return a;
}

/* The loop runs while tasks are out, and closes with none left open once stopped. */
static void loop_closes(uv_loop_t *loop, struct pool *a)
{
	pool_stop(a);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
	pool_free(a);
}

/* Work off the loop, done on it, both in the order handed over; idle, the loop may end. */
static void test_order(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct pool *a;

	(void)state;
	a = start(&loop, tasks);
	assert_int_equal(uv_loop_alive(&loop), 0); /* idle: nothing keeps the loop */
	for (int i = 0; i < NTASKS; i++)
		pool_submit(a, &tasks[i].t);
	assert_int_equal(uv_loop_alive(&loop), 1);
	uv_run(&loop, UV_RUN_DEFAULT); /* returns once every done ran */
	assert_int_equal(ndone, NTASKS);
	for (int i = 0; i < NTASKS; i++) {
		assert_int_equal(worked[i], i);
		assert_int_equal(done[i], i);
		assert_true(tasks[i].worked_off_loop);
	}
	assert_true(done_on_loop);
	assert_true(done_after_work);
	loop_closes(&loop, a);
}

/* Stopping stores and answers what was handed over; what comes after is done at once. */
static void test_stop_drains(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct pool *a;

	(void)state;
	a = start(&loop, tasks);
	for (int i = 0; i < NTASKS - 1; i++)
		pool_submit(a, &tasks[i].t);
	pool_stop(a); /* the loop has not run */
	assert_int_equal(ndone, NTASKS - 1);
	assert_true(done_on_loop);
	assert_true(done_after_work);
	pool_submit(a, &tasks[NTASKS - 1].t);
	assert_int_equal(ndone, NTASKS);
	assert_int_equal(done[NTASKS - 1], NTASKS - 1);
	loop_closes(&loop, a); /* a second stop is nothing */
}

/* ---- idle work ---- */

static void nap_us(long us)
{
	struct timespec ts = {0, us * 1000};

	nanosleep(&ts, NULL);
}

/* A piece of idle work: 1 ms, unless it is left to do. Notes whether a task was waiting. */
static int idle_piece(void *arg)
{
	(void)arg;
	if (atomic_load(&submitted) > nworked)
		atomic_fetch_add(&seen_queued, 1);
	if (atomic_fetch_add(&pieces, 1) + 1 > atomic_load(&pieces_max))
		return 0;
	nap_us(1000);
	return atomic_load(&pieces) < atomic_load(&pieces_max);
}

/* The first task waits until every task is handed over: the others queue behind it. */
static void work_first_waits(struct pool_task *t)
{
	if (((struct task *)t)->i == 0)
		sem_wait(&first_go);
	work(t);
}

/* Tasks queued together are all worked before idle work begins, which then runs to its end. */
static void test_idle_after_tasks(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct pool *a;

	(void)state;
	a = start(&loop, tasks);
	atomic_store(&pieces, 0);
	atomic_store(&pieces_max, 5);
	atomic_store(&seen_queued, 0);
	atomic_store(&submitted, 0);
	assert_int_equal(sem_init(&first_go, 0, 0), 0);
	pool_set_idle(a, idle_piece, NULL);
	nap_us(5000);
	assert_int_equal(atomic_load(&pieces), 0); /* no task yet: no idle work asked */
	for (int i = 0; i < NTASKS; i++) {
		tasks[i].t.work = work_first_waits;
		atomic_fetch_add(&submitted, 1);
		pool_submit(a, &tasks[i].t);
	}
	sem_post(&first_go);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(ndone, NTASKS);
	while (atomic_load(&pieces) < 5)
		nap_us(1000);
	nap_us(5000);
	assert_int_equal(atomic_load(&pieces), 5); /* none left: not asked again */
	assert_int_equal(atomic_load(&seen_queued), 0);
	for (int i = 0; i < NTASKS; i++)
		assert_int_equal(worked[i], i);
	loop_closes(&loop, a);
	sem_destroy(&first_go);
}

/*
 * Idle work that never ends waits for a task handed over one piece at most
 * (the one under way, or one begun as the task came), and stops with the
 * pool.
 */
static void test_idle_yields_and_stops(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct pool *a;
	int before;

	(void)state;
	a = start(&loop, tasks);
	atomic_store(&pieces, 0);
	atomic_store(&pieces_max, 1 << 30);
	atomic_store(&submitted, 0);
	pool_set_idle(a, idle_piece, NULL);
	pool_submit(a, &tasks[0].t); /* the task after which idle work is asked */
	uv_run(&loop, UV_RUN_DEFAULT);
	for (int i = 1; i < 9; i++) {
		int at;

		while (atomic_load(&pieces) < 3 * i)
			nap_us(200);
		at = atomic_load(&pieces);
		pool_submit(a, &tasks[i].t);
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(ndone, i + 1);
		assert_true(tasks[i].worked_at == i);
		assert_true(pieces_at_work[i] - at <= 1);
	}
	pool_stop(a);
	before = atomic_load(&pieces);
	nap_us(5000);
	assert_int_equal(atomic_load(&pieces), before); /* stopped: no more idle work */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	pool_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_stop_drains),
	    cmocka_unit_test(test_idle_after_tasks),
	    cmocka_unit_test(test_idle_yields_and_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
