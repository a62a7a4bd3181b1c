/*
 * lineage.h: who introduced, changed, removed, rotated or recovered whom in
 * the network, and when (agora peer log, agora history member KEY): read
 * from the member and identity records of the feeds this node replicates.
 * Loop thread only.
 */
#ifndef AGORA_LINEAGE_H
#define AGORA_LINEAGE_H

#include <stdint.h>

#include "ctl_resp.h"

struct node;

/*
 * Fills out with the events about key (NULL: about every key), oldest first
 * by their authors' clocks. Freed with ag_ctl_resp_clear(&ag_ctl_events_shape,
 * out). 0, or -1 (out cleared; the store's failure logged).
 */
int lineage_fill(struct node *, const uint8_t *key, struct ag_ctl_events *out);

#endif
