/*
 * leave.h: keys that left the replicated set (DESIGN.md "Leaving"). A feed
 * this node holds whose key is no longer reachable from its peers through
 * live member records leaves lists and search at once (members_has), and
 * its entries are dropped once it has stayed out for LeaveGrace. When each
 * key left is kept in the store's meta table ("left:" KEY -> ms since the
 * epoch), so that a restart does not start its grace again. Loop thread only.
 */
#ifndef AGORA_LEAVE_H
#define AGORA_LEAVE_H

#include <stdint.h>

struct members;
struct store;

/*
 * One pass, at now_ms: each feed held that is out of the set is marked (at
 * now, if it was not), a mark of a key back in the set or with no feed goes,
 * and a feed out for grace_ms or more is dropped (store_feed_drop, logged).
 * At most a few hundred writes a pass: the rest wait for the next. 0, or -1
 * (logged).
 */
int leave_scan(struct store *, const struct members *, uint64_t now_ms, uint64_t grace_ms);

#endif
