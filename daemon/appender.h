/*
 * appender.h: one thread that runs writes handed over by the loop, one at a
 * time, in the order they were handed over, then tells the loop. The sync's
 * appends go there (sync.c), so that while a batch commits and waits for its
 * fsync the loop goes on reading and the thread pool verifying the next.
 *
 * Loop thread only, but for each task's work, which runs on the appender's
 * thread; its done then runs on the loop, in the same order. Between tasks
 * the thread may do idle work (appender_set_idle).
 */
#ifndef AGORA_APPENDER_H
#define AGORA_APPENDER_H

#include <uv.h>

struct appender;

struct appender_task {
	struct appender_task *next;           /* the appender's */
	void (*work)(struct appender_task *); /* on the appender's thread */
	void (*done)(struct appender_task *); /* on the loop, after work */
};

/* Starts the thread. NULL on failure, logged. */
struct appender *appender_new(uv_loop_t *loop);

/* Hands t over; while tasks are out, the loop stays alive (as for uv_queue_work). */
void appender_submit(struct appender *, struct appender_task *t);

/*
 * Work for the thread when no task waits (the store's index merges): fn(arg)
 * runs on the appender's thread, one piece a call, while no task is handed
 * over, and returns whether more is left (> 0). After each task it is
 * called again, until it says none is left. Not once appender_stop has
 * begun, but for a task handed over after it (or without a thread), which
 * is worked at once with all the idle work after it. A piece should be
 * short: a task handed over waits for it.
 */
typedef int appender_idle_fn(void *arg);
void appender_set_idle(struct appender *, appender_idle_fn *fn, void *arg);

/*
 * Waits for every task handed over (their work, then their done, on the
 * loop), ends the thread and closes the loop's handle. A task handed over
 * after is worked and done at once, on the loop. Twice is fine.
 */
void appender_stop(struct appender *);

/* After appender_stop, once the loop has run (the handle's close). NULL-safe. */
void appender_free(struct appender *);

#endif
