/*
 * pool.h: worker threads below the loop thread's CPU priority, so that a
 * peer that keeps them busy with valid work cannot starve the loop: the
 * control socket, the other peers' connections and their deadlines.
 *
 * pool_new's threads run tasks handed over by the loop, oldest first,
 * each task's done then running on the loop: sync.c's entry verification
 * on four at nice +10, and its appends on one of its own at the loop's
 * nice (its "appender"), whose tasks are so done in the order handed over,
 * and which does the store's index merges when idle (pool_set_idle). They tell the loop through an
 * eventfd, not a uv_async: libuv 1.44's uv_async_send keeps a flag set across its write(2), and the
 * loop, woken by that write, spins in uv__async_spin until the sender clears it, which a worker at
 * nice +10, preempted by the very loop it woke, does late (2 to 4% of a syncing receiver's CPU went
 * to that spin). Loop thread only, but for each task's work.
 */
#ifndef AGORA_POOL_H
#define AGORA_POOL_H

#include <uv.h>

#define POOL_NICE 10 /* added to the workers' nice value */

/*
 * Lowers every thread of libuv's own pool likewise, which copies a backup
 * (backup.c): waits until each has done so; failures are logged. Before the
 * loop runs.
 */
void pool_lower_priority(uv_loop_t *);

struct pool;

struct pool_task {
	struct pool_task *next;           /* the pool's */
	void (*work)(struct pool_task *); /* on a worker */
	void (*done)(struct pool_task *); /* on the loop, after work */
};

/*
 * Starts threads workers (UV_THREADPOOL_SIZE's, as libuv reads it, when 0),
 * each at nice more than the loop's (POOL_NICE, or 0). NULL on failure, logged.
 */
struct pool *pool_new(uv_loop_t *loop, unsigned threads, int nice);

/*
 * Hands t over; while tasks are out, the loop stays alive (as for
 * uv_queue_work). A pool that pool_new could not make (NULL) works and
 * dones t at once, on the loop.
 */
void pool_submit(struct pool *, struct pool_task *t);

/*
 * Work for the threads when no task waits (the store's index merges, for
 * the appender): fn(arg) runs on a thread, one piece a call, while no task
 * is handed over, and returns whether more is left (> 0). After each task
 * it is called again, until it says none is left. Not once pool_stop has
 * begun, but for a task handed over after it (or without a thread), which
 * is worked at once with all the idle work after it. A piece should be
 * short: a task handed over waits for it. Meant for a pool of one thread;
 * with more, each may call fn at once.
 */
typedef int pool_idle_fn(void *arg);
void pool_set_idle(struct pool *, pool_idle_fn *fn, void *arg);

/*
 * Waits for every task handed over (their work, then their done, on the
 * loop), ends the threads and closes the loop's handle. A task handed over
 * after is worked and done at once, on the loop. Twice is fine.
 */
void pool_stop(struct pool *);

/* After pool_stop, once the loop has run (the handle's close). NULL-safe. */
void pool_free(struct pool *);

#endif
