/*
 * client.h: agora's side of the control socket (PROTOCOL.md, section 2): one
 * connection to DIR/agorad.sock, one request at a time, each answer awaited
 * with a timeout. Requests and responses are proto's structs (ctl.h,
 * ctl_resp.h), encoded and decoded by the tables agorad uses.
 */
#ifndef AGORA_CLIENT_H
#define AGORA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define CLIENT_TIMEOUT_MS 60000

struct client;

/*
 * Connects to DIR/agorad.sock. NULL on failure, with err saying, in one
 * line, "cannot reach agorad at PATH: why".
 */
struct client *client_open(const char *dir, char *err, size_t errlen);
void client_close(struct client *); /* NULL-safe */

/* How long to wait for each response (CLIENT_TIMEOUT_MS by default). */
void client_set_timeout(struct client *, int ms);

struct ag_ctl_req;

/*
 * Sends req (proto/ctl.h: its type and fields, encoded by ag_ctl_req_encode)
 * and waits for its response, decoded strictly into resp, a struct of the
 * shape ctl_resp.h gives its type (ag_ctl_resp_shape), which the caller
 * frees with ag_ctl_resp_clear. 0; or the CLI exit status (exits.h) with err
 * saying why in one line: EXIT_NOTFOUND, EXIT_REFUSED and EXIT_FAILED (the
 * node failed) in agorad's words; EXIT_UNREACHABLE when agorad cannot be
 * reached, does not answer in time, is busy, speaks another version ("agora
 * and agorad versions differ ...") or sends what is not such a response.
 */
int client_ask(struct client *, const struct ag_ctl_req *req, void *resp, char *err, size_t errlen);

#endif
