/* test_appender.c: tasks worked on the appender's thread, in order, and done on the loop. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "appender.h"

#define NTASKS 64

struct task {
	struct appender_task t; /* first */
	int i;
	int worked_at; /* its place in the appender's order; -1 before its work */
	bool worked_off_loop;
};

static pthread_t loop_thread;
static int worked[NTASKS], nworked; /* the appender's thread writes them, in turn */
static int done[NTASKS], ndone;
static bool done_on_loop = true, done_after_work = true;

static void work(struct appender_task *t)
{
	struct task *k = (struct task *)t;
	struct timespec ts = {0, 200000}; /* 0.2 ms: the loop is ahead of the thread */

	nanosleep(&ts, NULL);
	k->worked_off_loop = !pthread_equal(pthread_self(), loop_thread);
	k->worked_at = nworked;
	worked[nworked++] = k->i;
}

static void task_done(struct appender_task *t)
{
	struct task *k = (struct task *)t;

	done_on_loop &= pthread_equal(pthread_self(), loop_thread) != 0;
	/* The task alone is the loop's to read here: the thread goes on with the next. */
	done_after_work &= k->worked_at == ndone;
	done[ndone++] = k->i;
}

/* Every task fresh, a loop and an appender on it. */
static struct appender *start(uv_loop_t *loop, struct task *tasks)
{
	struct appender *a;

	loop_thread = pthread_self();
	nworked = ndone = 0;
	done_on_loop = done_after_work = true;
	for (int i = 0; i < NTASKS; i++)
		tasks[i] = (struct task){{NULL, work, task_done}, i, -1, false};
	assert_int_equal(uv_loop_init(loop), 0);
	assert_non_null(a = appender_new(loop));
	return a;
}

/* The loop runs while tasks are out, and closes with none left open once stopped. */
static void loop_closes(uv_loop_t *loop, struct appender *a)
{
	appender_stop(a);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
	appender_free(a);
}

/* Work off the loop, done on it, both in the order handed over; idle, the loop may end. */
static void test_order(void **state)
{
	static struct task tasks[NTASKS];
	uv_loop_t loop;
	struct appender *a;

	(void)state;
	a = start(&loop, tasks);
	assert_int_equal(uv_loop_alive(&loop), 0); /* idle: nothing keeps the loop */
	for (int i = 0; i < NTASKS; i++)
		appender_submit(a, &tasks[i].t);
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
	struct appender *a;

	(void)state;
	a = start(&loop, tasks);
	for (int i = 0; i < NTASKS - 1; i++)
		appender_submit(a, &tasks[i].t);
	appender_stop(a); /* the loop has not run */
	assert_int_equal(ndone, NTASKS - 1);
	assert_true(done_on_loop);
	assert_true(done_after_work);
	appender_submit(a, &tasks[NTASKS - 1].t);
	assert_int_equal(ndone, NTASKS);
	assert_int_equal(done[NTASKS - 1], NTASKS - 1);
	loop_closes(&loop, a); /* a second stop is nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_stop_drains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
