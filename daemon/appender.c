/*
 * appender.c: a FIFO of tasks for one thread, answered through a uv_async.
 * One thread, not libuv's pool: the store takes one writer at a time, and
 * the tasks must be done in order.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "appender.h"
#include "log.h"

struct appender {
	uv_async_t async; /* the thread says a task is worked */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock: tasks to work, oldest first, then tasks worked, for the loop. */
	struct appender_task *todo, **todo_tail;
	struct appender_task *worked, **worked_tail;
	bool stopping; /* under lock: the thread ends once todo is empty */
	/* Under lock: work for when todo is empty (appender_set_idle), and its arg. */
	appender_idle_fn *idle;
	void *idle_arg;
	/* The loop's: tasks handed over whose done has not run, and whether it stopped. */
	size_t out;
	bool stopped;
};

static struct appender_task *take(struct appender_task **head, struct appender_task ***tail)
{
	struct appender_task *t = *head;

	if (t && !(*head = t->next))
		*tail = head;
	return t;
}

static void put(struct appender_task ***tail, struct appender_task *t)
{
	t->next = NULL;
	**tail = t;
	*tail = &t->next;
}

/*
 * Tasks in order; between them, while none waits, the idle work a piece at
 * a time, so that a task handed over waits for one piece at most. After a
 * task, the idle work is asked again: the task may have made some.
 */
static void *appender_main(void *arg)
{
	struct appender *a = arg;
	struct appender_task *t;
	bool idle_more = false;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->todo && !a->stopping && !(a->idle && idle_more))
			pthread_cond_wait(&a->cond, &a->lock);
		if (!a->todo && a->stopping)
			break;
		if (!(t = take(&a->todo, &a->todo_tail))) {
			appender_idle_fn *fn = a->idle;
			void *fn_arg = a->idle_arg;

			pthread_mutex_unlock(&a->lock);
			idle_more = fn(fn_arg) > 0;
			pthread_mutex_lock(&a->lock);
			continue;
		}
		pthread_mutex_unlock(&a->lock);
		t->work(t);
		pthread_mutex_lock(&a->lock);
		put(&a->worked_tail, t);
		uv_async_send(&a->async);
		idle_more = true;
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* On the loop: the done of every task worked, in order. */
static void on_worked(uv_async_t *h)
{
	struct appender *a = h->data;
	struct appender_task *list, *t;

	pthread_mutex_lock(&a->lock);
	list = a->worked;
	a->worked = NULL;
	a->worked_tail = &a->worked;
	pthread_mutex_unlock(&a->lock);
	while ((t = list)) {
		list = t->next;
		t->done(t);
		a->out--;
	}
	/* Idle, the handle does not keep the loop alive. */
	if (a->out == 0)
		uv_unref((uv_handle_t *)&a->async);
}

struct appender *appender_new(uv_loop_t *loop)
{
	struct appender *a = calloc(1, sizeof(*a));

	if (!a) {
		log_error("appender: out of memory");
		return NULL;
	}
	a->todo_tail = &a->todo;
	a->worked_tail = &a->worked;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (uv_async_init(loop, &a->async, on_worked) != 0) {
		log_error("appender: cannot make its handle");
		appender_free(a);
		return NULL;
	}
	a->async.data = a;
	uv_unref((uv_handle_t *)&a->async);
	if (pthread_create(&a->thread, NULL, appender_main, a) != 0) {
		log_error("appender: cannot start its thread");
		a->stopped = true;
		uv_close((uv_handle_t *)&a->async, NULL);
		return a; /* it works each task at once, on the loop */
	}
	return a;
}

void appender_submit(struct appender *a, struct appender_task *t)
{
	if (a->stopped) {
		t->work(t);
		while (a->idle && a->idle(a->idle_arg) > 0)
			; /* no thread to leave it to */
		t->done(t);
		return;
	}
	if (a->out++ == 0)
		uv_ref((uv_handle_t *)&a->async);
	pthread_mutex_lock(&a->lock);
	put(&a->todo_tail, t);
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void appender_set_idle(struct appender *a, appender_idle_fn *fn, void *arg)
{
	pthread_mutex_lock(&a->lock);
	a->idle = fn;
	a->idle_arg = arg;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void appender_stop(struct appender *a)
{
	if (!a || a->stopped)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	a->stopped = true;
	on_worked(&a->async); /* the last tasks' done, which the handle may not call now */
	uv_close((uv_handle_t *)&a->async, NULL);
}

void appender_free(struct appender *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}
