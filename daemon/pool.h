/*
 * pool.h: libuv's worker threads (entry verification) run at a lower CPU
 * priority than the loop thread, so that a peer that keeps them busy with
 * valid work cannot starve the loop: the control socket, the other peers'
 * connections and their deadlines. Loop thread only, before the loop runs.
 */
#ifndef AGORA_POOL_H
#define AGORA_POOL_H

#include <uv.h>

#define POOL_NICE 10 /* added to the workers' nice value */

/* Lowers every worker thread's priority (waits until each has done so). Failures are logged. */
void pool_lower_priority(uv_loop_t *);

#endif
