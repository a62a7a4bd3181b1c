/*
 * ctlj.h: a typed control response (ctl_resp.h) as the JSON document that
 * --json prints, built by walking its shape's table: keys in the wire's
 * order, a nil name as null, an empty optional field left out. So --json
 * says what agorad sent, and no key is written twice.
 */
#ifndef AGORA_CTLJ_H
#define AGORA_CTLJ_H

#include <jansson.h>

#include "ctl_resp.h"

/* v, a struct of shape s, as a JSON object; NULL when out of memory. */
json_t *ctlj_from(const struct ag_ctl_shape *s, const void *v);

#endif
