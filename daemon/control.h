/*
 * control.h: the control socket, DIR/agorad.sock, through which agora asks
 * the node (PROTOCOL.md, section 2). Many clients at once, each with a
 * bounded buffer; a bad request gets an error response, never a crash or a
 * hang. Loop thread only.
 */
#ifndef AGORA_CONTROL_H
#define AGORA_CONTROL_H

#include <uv.h>

struct control;
struct node;

#define CONTROL_SOCKET      "agorad.sock"
#define CONTROL_CLIENTS_MAX 64    /* connected at once; one more is answered "busy" */
#define CONTROL_IDLE_MS     30000 /* a client that neither sends nor reads this long is closed */

/*
 * Bytes of responses written to clients and not yet read by them, in all:
 * a response that would take the total past CONTROL_PENDING_MAX is answered
 * "busy" instead, so clients that never read pin at most this much. One of
 * at most CONTROL_PENDING_SMALL bytes always goes (64 clients hold at most
 * 4 MiB more of those).
 */
#define CONTROL_PENDING_MAX   (64u << 20)
#define CONTROL_PENDING_SMALL (64u << 10)

/*
 * Listens on path, a Unix socket of mode 0660 (bound under umask 0117, so it
 * is never briefly open to others). A socket at path that a live daemon
 * still answers on is left alone and refused; a stale one is replaced;
 * anything else at path is refused. NULL on failure, logged.
 */
struct control *control_new(uv_loop_t *, struct node *, const char *path);

/*
 * Stops listening, closes every client (a response being written is
 * dropped) and removes the socket. The memory goes in the last close
 * callback, so the loop must run once more. NULL-safe.
 */
void control_free(struct control *);

#endif
