/*
 * health.h: what agora check finds wrong with the node (CHECK), one problem
 * a line: not ready, no peer connected, a peer silent for longer than
 * [Node] SilentAfter, the disk of DIR/data nearly full, a forked feed. It
 * reads the node as agora status does (status.c). Loop thread only.
 */
#ifndef AGORA_HEALTH_H
#define AGORA_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_resp.h"

struct node;

#define HEALTH_DISK_MIN_FREE (UINT64_C(1) << 30) /* bytes: under a GiB free is nearly full */
#define HEALTH_DISK_MIN_PCT  5                   /* or under this share of the file system */
#define HEALTH_STORE_PCT     90 /* the store past this share of MaxDisk is nearly at it */

/*
 * Fills c with the node's problems, none when it is healthy; its array is
 * freed by ag_ctl_resp_clear(&ag_ctl_check_shape, c). 0, or -1 when out of
 * memory (c cleared).
 */
int health_check(struct node *, struct ag_ctl_check *c);

/* Whether a file system with avail bytes free for agorad of total is nearly full. */
bool health_disk_low(uint64_t avail, uint64_t total);

/* "3 h 5 min", "45 s", "2 d 4 h": a duration in ms, in its two largest units. */
void health_duration(char *buf, size_t len, uint64_t ms);

#endif
