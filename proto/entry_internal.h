/* entry_internal.h: what the entry codecs of proto share. */
#ifndef AGORA_ENTRY_INTERNAL_H
#define AGORA_ENTRY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

/* A record type at buf[*pos] ([a-z-]{1,32}), copied NUL-terminated into out. */
int ag__entry_read_type(const uint8_t *buf, size_t len, size_t *pos, char out[AG_TYPE_MAX + 1]);

#endif
