/*
 * client.h: agora's side of the control socket (PROTOCOL.md, section 2): one
 * connection to DIR/agorad.sock, one request at a time, each answer awaited
 * with a timeout. Requests are JSON objects encoded as canonical msgpack;
 * responses come back as JSON, checked bounded before they are unpacked.
 */
#ifndef AGORA_CLIENT_H
#define AGORA_CLIENT_H

#include <jansson.h>
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

/*
 * Sends a request of type (enum ag_ctl_type) whose fields are req (a JSON
 * object; NULL for none) and waits for its response. 0 with *resp the
 * response (a JSON object, "ok" included) that the caller frees; or the CLI
 * exit status (exits.h) with err saying why in one line: EXIT_NOTFOUND,
 * EXIT_REFUSED and EXIT_FAILED (the node failed) in agorad's words;
 * EXIT_UNREACHABLE when agorad cannot be reached, does not answer in time, is
 * busy or speaks another version ("agora and agorad versions differ ...").
 */
int client_call(struct client *, unsigned type, const json_t *req, json_t **resp, char *err,
                size_t errlen);

struct ag_ctl_shape;

/*
 * client_call for a response that ctl_resp.h types (ag_ctl_resp_shape): 0
 * with resp, a struct of shape s decoded strictly, freed with
 * ag_ctl_resp_clear; or the exit status with err as client_call says.
 */
int client_ask(struct client *, unsigned type, const json_t *req, const struct ag_ctl_shape *s,
               void *resp, char *err, size_t errlen);

/* Encodes a request body: the JSON object req as canonical msgpack at a message's top level. */
int client_encode(const json_t *req, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Decodes a response body into JSON after ag_ctl_resp_check; NULL with err if it is not one. */
json_t *client_decode(const uint8_t *body, size_t len, char *err, size_t errlen);

#endif
