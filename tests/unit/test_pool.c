/* test_pool.c: tasks worked on the pool's threads, at a lower priority, and done on the loop. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "pool.h"

#define NTASKS  64
#define THREADS 4

struct task {
	struct pool_task t; /* first */
	int i;
	int nice;              /* the worker's nice value, as its work saw it */
	_Atomic bool worked;   /* set by its work */
	bool worked_off_loop;  /* set by its work */
	bool worked_when_done; /* set by its done */
};

static pthread_t loop_thread;
static int done_count[NTASKS], ndone;
static bool done_on_loop;
static pthread_barrier_t all_busy; /* THREADS tasks meet here: THREADS workers run at once */

static void work(struct pool_task *t)
{
	struct task *k = (struct task *)t;
	struct timespec ts = {0, 100000}; /* 0.1 ms: the loop is ahead of the threads */

	nanosleep(&ts, NULL);
	k->worked_off_loop = !pthread_equal(pthread_self(), loop_thread);
	k->nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	atomic_store(&k->worked, true);
}

static void work_together(struct pool_task *t)
{
	pthread_barrier_wait(&all_busy);
	work(t);
}

static void task_done(struct pool_task *t)
{
	struct task *k = (struct task *)t;

	done_on_loop &= pthread_equal(pthread_self(), loop_thread) != 0;
	k->worked_when_done = atomic_load(&k->worked);
	done_count[k->i]++;
	ndone++;
}

/* Every task fresh, a loop and a pool on it. */
static struct pool *start(uv_loop_t *loop, struct task *tasks, void (*w)(struct pool_task *))
{
	struct pool *p;

	loop_thread = pthread_self();
	ndone = 0;
	done_on_loop = true;
	for (int i = 0; i < NTASKS; i++) {
		tasks[i] = (struct task){.t = {NULL, w, task_done}, .i = i, .nice = -100};
		done_count[i] = 0;
	}
	assert_int_equal(uv_loop_init(loop), 0);
	assert_non_null(p = pool_new(loop, THREADS, POOL_NICE));
	return p;
}

/* The loop runs while tasks are out, and closes with none left open once stopped. */
static void loop_closes(uv_loop_t *loop, struct pool *p)
{
	pool_stop(p);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
	pool_free(p);
}

/* Each task's done, once, on the loop, after its work off the loop at POOL_NICE below it. */
static void assert_each_once(const struct task *tasks, int n)
{
	int loop_nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));

	assert_int_equal(ndone, n);
	assert_true(done_on_loop);
	for (int i = 0; i < n; i++) {
		assert_int_equal(done_count[i], 1);
		assert_true(tasks[i].worked_off_loop);
		assert_true(tasks[i].worked_when_done);
		assert_int_equal(tasks[i].nice,
		                 loop_nice + POOL_NICE > 19 ? 19 : loop_nice + POOL_NICE);
	}
}

/* Work off the loop, done on it; idle, the loop may end; every worker works at once. */
static void test_work_done(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct pool *p;

	(void)state;
	assert_int_equal(pthread_barrier_init(&all_busy, NULL, THREADS), 0);
	p = start(&loop, tasks, work);
	assert_int_equal(uv_loop_alive(&loop), 0); /* idle: nothing keeps the loop */
	for (int i = 0; i < THREADS; i++)
		tasks[i].t.work = work_together; /* would wait for ever on fewer threads */
	for (int i = 0; i < NTASKS; i++)
		pool_submit(p, &tasks[i].t);
	assert_int_equal(uv_loop_alive(&loop), 1);
	uv_run(&loop, UV_RUN_DEFAULT); /* returns once every done ran */
	assert_each_once(tasks, NTASKS);
	assert_int_equal(uv_loop_alive(&loop), 0);
	loop_closes(&loop, p);
	pthread_barrier_destroy(&all_busy);
}

/* Stopping works and answers what was handed over; what comes after is done at once. */
static void test_stop_drains(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct pool *p;

	(void)state;
	p = start(&loop, tasks, work);
	for (int i = 0; i < NTASKS - 1; i++)
		pool_submit(p, &tasks[i].t);
	pool_stop(p); /* the loop has not run */
	assert_each_once(tasks, NTASKS - 1);
	pool_submit(p, &tasks[NTASKS - 1].t);
	assert_int_equal(ndone, NTASKS);
	assert_int_equal(done_count[NTASKS - 1], 1);
	assert_false(tasks[NTASKS - 1].worked_off_loop);
	loop_closes(&loop, p); /* a second stop is nothing */
}

/* Without a pool, a task is worked and done at once, on the loop. */
static void test_no_pool(void **state)
{
	static struct task tasks[NTASKS];

	(void)state;
	loop_thread = pthread_self();
	ndone = 0;
	done_on_loop = true;
	tasks[0] = (struct task){.t = {NULL, work, task_done}, .i = 0};
	done_count[0] = 0;
	pool_submit(NULL, &tasks[0].t);
	assert_int_equal(ndone, 1);
	assert_true(tasks[0].worked_when_done);
	assert_false(tasks[0].worked_off_loop);
	pool_stop(NULL);
	pool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_work_done),
	    cmocka_unit_test(test_stop_drains),
	    cmocka_unit_test(test_no_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
