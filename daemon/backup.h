/*
 * backup.h: agora backup DEST: a hot, consistent, compacted copy of the
 * node's store (store_copy, on libuv's thread pool, so the node keeps
 * serving) and of its agorad.conf, laid out as DIR is: DEST/agorad.conf and
 * DEST/data. Never node.key nor node.head (DESIGN.md): a restored node
 * gets its key put back by hand, and waits to learn its own feed from a
 * peer before it publishes. Loop thread only.
 */
#ifndef AGORA_BACKUP_H
#define AGORA_BACKUP_H

#include <uv.h>

#include "ctl_resp.h"

struct node;

/* The copy is over: status 0 with b, or an AG_CTL_E* status with err. */
typedef void backup_done_fn(void *arg, int status, const struct ag_ctl_backup *b, const char *err);

/*
 * Starts a copy into dest, an absolute path that does not exist (its parent
 * does) or is an empty directory. 0: done(arg, ...) is called on the loop
 * once the copy is over, never before this returns. Else an AG_CTL_E*
 * status with err saying why, and done is never called.
 */
int backup_start(uv_loop_t *, struct node *, const char *dest, backup_done_fn *done, void *arg,
                 char *err, size_t errlen);

#endif
