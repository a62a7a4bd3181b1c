/* status.c: the node's peers and status as the control socket answers them. */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "config.h"
#include "conn.h"
#include "key.h"
#include "node.h"
#include "peer.h"
#include "status.h"
#include "store.h"
#include "sync.h"

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pack_key(msgpack_packer *pk, const uint8_t key[32])
{
	char b64[AG_B64_LEN + 1];

	ag_key_to_b64(b64, key);
	pack_str(pk, b64);
}

static void pack_peer(msgpack_packer *pk, struct peer *p)
{
	char endpoint[CONFIG_HOST_MAX + 8] = "";

	if (p->host[0])
		snprintf(endpoint, sizeof(endpoint), "%s:%u", p->host, p->port);
	/* Keys in byte order: the CLI reads canonical msgpack. */
	msgpack_pack_map(pk, 10);
	pack_str(pk, "behind");
	msgpack_pack_uint64(pk, p->up ? sync_behind(p->link) : 0);
	pack_str(pk, "bytes_in");
	msgpack_pack_uint64(pk, p->conn ? conn_bytes_in(p->conn) : 0);
	pack_str(pk, "bytes_out");
	msgpack_pack_uint64(pk, p->conn ? conn_bytes_out(p->conn) : 0);
	pack_str(pk, "connected");
	p->up ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	pack_str(pk, "duplicates");
	msgpack_pack_uint64(pk, sync_duplicates(p->link));
	pack_str(pk, "endpoint");
	pack_str(pk, endpoint);
	pack_str(pk, "key");
	pack_key(pk, p->pk);
	pack_str(pk, "last_contact_ms");
	msgpack_pack_uint64(pk, (uint64_t)p->last_contact_ms);
	pack_str(pk, "name");
	pack_str(pk, p->name);
	pack_str(pk, "received");
	msgpack_pack_uint64(pk, sync_received(p->link));
}

void status_peers_pack(struct node *n, msgpack_packer *pk)
{
	msgpack_pack_array(pk, node_peer_count(n));
	for (size_t i = 0; i < node_peer_count(n); i++)
		pack_peer(pk, node_peer_at(n, i));
}

static int count_fork(const struct ag_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return 0;
}

static void pack_feeds(struct node *n, msgpack_packer *pk)
{
	struct store *st = node_store(n);

	msgpack_pack_array(pk, node_feed_count(n));
	for (size_t i = 0; i < node_feed_count(n); i++) {
		const uint8_t *author = node_feed_at(n, i);
		const char *name = node_city_name(n, author);
		uint8_t hash[32];
		uint64_t seq = 0;
		uint32_t flags = 0;
		ssize_t forks;

		(void)store_head(st, author, &seq, hash);
		(void)store_flags(st, author, &flags);
		forks = (flags & STORE_FLAG_FORKED) ? store_forks(st, author, count_fork, NULL) : 0;
		msgpack_pack_map(pk, 5);
		pack_str(pk, "author");
		pack_key(pk, author);
		/* A forked feed takes nothing more until an operator decides; forks: the proofs
		 * kept. */
		pack_str(pk, "forked");
		(flags & STORE_FLAG_FORKED) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		pack_str(pk, "forks");
		msgpack_pack_uint64(pk, forks > 0 ? (uint64_t)forks : 0);
		pack_str(pk, "name");
		pack_str(pk, name ? name : "");
		pack_str(pk, "seq");
		msgpack_pack_uint64(pk, seq);
	}
}

void status_pack(struct node *n, msgpack_packer *pk)
{
	uint8_t key[32];
	const char *name;

	node_id(n, key, &name);
	msgpack_pack_map(pk, 5);
	pack_str(pk, "feeds");
	pack_feeds(n, pk);
	pack_str(pk, "key");
	pack_key(pk, key);
	pack_str(pk, "name");
	pack_str(pk, name);
	pack_str(pk, "peers");
	status_peers_pack(n, pk);
	pack_str(pk, "ready");
	node_ready(n) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}
