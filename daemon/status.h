/*
 * status.h: what the control socket tells of the node itself: its peers
 * (PEER_LIST), its status (STATUS) and its counts (METRICS), as the typed responses of
 * ctl_resp.h, which control.c packs. It reads the node through node.h's
 * accessors. Loop thread only.
 */
#ifndef AGORA_STATUS_H
#define AGORA_STATUS_H

#include "ctl_resp.h"

struct node;

/*
 * Fills st with the node, its peers and its feeds (see agora status); its
 * arrays are allocated, freed by ag_ctl_resp_clear(&ag_ctl_status_shape, st).
 * 0, or -1 when out of memory (st cleared).
 */
int status_fill(struct node *, struct ag_ctl_node *st);

/* Fills p with the configured peers, freed as above with ag_ctl_peers_shape. 0 or -1. */
int status_peers_fill(struct node *, struct ag_ctl_peers *p);

/*
 * Fills m with what agora metrics exposes: the peers and their counts, the
 * store's, uptime. Freed with ag_ctl_resp_clear(&ag_ctl_metrics_shape, m).
 * 0, or -1 when out of memory or the store cannot say (logged).
 */
int status_metrics_fill(struct node *, struct ag_ctl_metrics *m);

/*
 * Fills out with every feed this node holds fork proofs of: its author, name,
 * whether it is our own, and the headers kept, by seq. Freed with
 * ag_ctl_resp_clear(&ag_ctl_forks_shape, out). 0, or -1 (out cleared).
 */
int status_forks_fill(struct node *, struct ag_ctl_forks *out);

#endif
