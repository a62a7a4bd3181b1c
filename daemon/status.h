/*
 * status.h: what the control socket tells of the node itself: its peers
 * (PEER_LIST) and its status (STATUS), as PROTOCOL.md, section 2, lays them
 * out. It reads the node through node.h's accessors. Loop thread only.
 */
#ifndef AGORA_STATUS_H
#define AGORA_STATUS_H

#include <msgpack.h>

struct node;

/* Packs, as one msgpack map, the node, its peers and its feeds (see agora status). */
void status_pack(struct node *, msgpack_packer *);
/* Packs the configured peers as an array of maps. */
void status_peers_pack(struct node *, msgpack_packer *);

#endif
