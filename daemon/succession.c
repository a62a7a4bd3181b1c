/* succession.c: identity bodies, and the key files of a rotation. */
#include "succession.h"

#include <errno.h>
#include <limits.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "keyfile.h"
#include "log.h"

static void pack_key(msgpack_packer *pk, const char *field, const uint8_t key[AG_PK_LEN])
{
	char b64[AG_B64_LEN + 1];

	ag_key_to_b64(b64, key);
	msgpack_pack_str_with_body(pk, field, strlen(field));
	msgpack_pack_str_with_body(pk, b64, AG_B64_LEN);
}

size_t succession_body(uint8_t out[static SUCCESSION_BODY_MAX], const uint8_t *recovery,
                       const uint8_t *predecessor, const uint8_t *successor)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* Keys in canonical order: predecessor, recovery, successor. */
	msgpack_pack_map(&pk, (predecessor != NULL) + (recovery != NULL) + (successor != NULL));
	if (predecessor)
		pack_key(&pk, "predecessor", predecessor);
	if (recovery)
		pack_key(&pk, "recovery", recovery);
	if (successor)
		pack_key(&pk, "successor", successor);
	len = sb.data && sb.size <= SUCCESSION_BODY_MAX ? sb.size : 0;
	if (len)
		memcpy(out, sb.data, len);
	msgpack_sbuffer_destroy(&sb);
	return len;
}

bool succession_is(const struct ag_entry *e, const char *id)
{
	return strcmp(e->h.type, "identity") == 0 && e->h.id_len == strlen(id) &&
	       memcmp(e->h.id, id, e->h.id_len) == 0;
}

int succession_key(const struct ag_entry *e, const char *field, uint8_t pk[static AG_PK_LEN])
{
	msgpack_unpacked up;
	size_t off = 0, flen = strlen(field);
	char b64[AG_B64_LEN + 1];
	int rc = -1;

	msgpack_unpacked_init(&up);
	if (e->body &&
	    msgpack_unpack_next(&up, (const char *)e->body, e->body_len, &off) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_MAP)
		for (uint32_t i = 0; i < up.data.via.map.size && rc != 0; i++) {
			const msgpack_object_kv *kv = &up.data.via.map.ptr[i];

			if (kv->key.via.str.size != flen ||
			    memcmp(kv->key.via.str.ptr, field, flen) ||
			    kv->val.type != MSGPACK_OBJECT_STR ||
			    kv->val.via.str.size != AG_B64_LEN)
				continue;
			memcpy(b64, kv->val.via.str.ptr, AG_B64_LEN);
			b64[AG_B64_LEN] = '\0';
			rc = ag_key_from_b64(pk, b64) == 0 ? 0 : -1;
		}
	msgpack_unpacked_destroy(&up);
	return rc;
}

static void path_of(char out[static PATH_MAX + 32], const char *dir, const char *name)
{
	snprintf(out, PATH_MAX + 32, "%s/%s", dir, name);
}

int succession_key_next(const char *dir, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN])
{
	char path[PATH_MAX + 32], err[PATH_MAX + 160];
	uint8_t made[AG_PK_LEN];

	path_of(path, dir, SUCCESSION_KEY_NEXT);
	if (unlink(path) != 0 && errno != ENOENT) { /* a rotation cut short before it published */
		log_warn("%s", path);
		return -1;
	}
	if (keyfile_create(path, made, err, sizeof(err)) != 0 ||
	    keyfile_load(path, pk, sk, err, sizeof(err)) != 0) {
		log_error("key rotation: %s", err);
		unlink(path);
		return -1;
	}
	return 0;
}

int succession_key_swap(const char *dir)
{
	char key[PATH_MAX + 32], next[PATH_MAX + 32], old[PATH_MAX + 32];

	path_of(key, dir, KEYFILE_NAME);
	path_of(next, dir, SUCCESSION_KEY_NEXT);
	path_of(old, dir, SUCCESSION_KEY_OLD);
	if (rename(key, old) != 0 || rename(next, key) != 0 || fileio_sync_dir(dir) != 0) {
		log_warn("key rotation: cannot move %s to %s and %s to %s", key, old, next, key);
		return -1;
	}
	return 0;
}

int succession_key_old(const char *dir, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN])
{
	char path[PATH_MAX + 32], err[PATH_MAX + 160];

	path_of(path, dir, SUCCESSION_KEY_OLD);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (keyfile_load(path, pk, sk, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 1;
}

void succession_key_old_drop(const char *dir)
{
	char path[PATH_MAX + 32];

	path_of(path, dir, SUCCESSION_KEY_OLD);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s", path);
	else if (fileio_sync_dir(dir) != 0)
		log_warn("%s", dir);
	else
		log_info("the old key has reached every peer's succession: %s removed", path);
}
