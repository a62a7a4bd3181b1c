/*
 * evil.c: `agora-evil DIR PEER_KEY HOST:PORT MODE` is a hostile peer with a
 * valid key (the node in DIR, which the target knows): it completes the
 * handshake, says HELLO, then misbehaves as MODE says, and reports how the
 * target answered on stdout. Modes:
 *   forge   an ENTRIES message whose entry's signature is wrong
 * It exits 0 when the target closed the connection, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "config.h"
#include "conn.h"
#include "entry.h"
#include "keyfile.h"
#include "msg.h"
#include "noise.h"

struct evil {
	uint8_t pk[32], sk[64], network[32];
	const char *mode;
	int closed, up;
	char why[160];
	uv_timer_t timer;
};

static void *on_allow(void *ud, const uint8_t x_pk[static 32])
{
	(void)ud;
	(void)x_pk;
	return NULL;
}

/* A well-formed entry of our own feed, then a flipped bit in its signature. */
static void send_forged(struct evil *ev, struct conn *c)
{
	static uint8_t entry[1024];
	static struct ag_msgb b;
	static const uint8_t body[] = "\x81\xa5"
	                              "title"
	                              "\xa6"
	                              "forged";
	struct ag_entry e = {.seq = 1, .timestamp = 1, .id = "forged", .id_len = 6};
	const uint8_t *m;
	size_t len, mlen;

	memcpy(e.network, ev->network, 32);
	memcpy(e.author, ev->pk, 32);
	strcpy(e.type, "practice");
	e.body = body;
	e.body_len = sizeof(body) - 1;
	if (ag_entry_sign(&e, ev->sk, entry, sizeof(entry), &len) != 0)
		exit(2);
	entry[len - 1] ^= 1;
	ag_msgb_init(&b, AG_MSG_ENTRIES);
	if (ag_msgb_add_entry(&b, entry, len) != 0)
		exit(2);
	ag_msgb_finish(&b, &m, &mlen);
	(void)conn_send(c, m, mlen);
}

static void on_up(void *ud, struct conn *c)
{
	struct evil *ev = ud;
	uint8_t buf[128];
	size_t len;

	ev->up = 1;
	printf("handshake done\n");
	if (ag_msg_hello(buf, sizeof(buf), &len, "Evil", "agora-evil") == 0)
		(void)conn_send(c, buf, len);
	if (strcmp(ev->mode, "forge") == 0)
		send_forged(ev, c);
}

static void on_msg(void *ud, struct conn *c, const uint8_t *m, size_t len)
{
	(void)ud;
	(void)c;
	(void)m;
	(void)len;
}

static void on_drain(void *ud, struct conn *c)
{
	(void)ud;
	(void)c;
}

static void on_down(void *ud, struct conn *c, const char *why)
{
	struct evil *ev = ud;

	(void)c;
	ev->closed = 1;
	snprintf(ev->why, sizeof(ev->why), "%s", why);
	uv_close((uv_handle_t *)&ev->timer, NULL);
}

static void on_timeout(uv_timer_t *t)
{
	(void)t;
	printf("target did not close within 10 s\n");
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct conn_ops ops = {on_allow, on_up, on_msg, on_drain, on_down};
	struct evil ev = {0};
	struct conn_keys keys;
	struct sockaddr_in addr;
	uint8_t peer[32], x_rs[32], x_pk[32];
	char path[4096], host[64];
	struct config *cfg;
	int port;

	if (argc != 5 || ag_init() != 0 || ag_key_from_b64(peer, argv[2]) != 0 ||
	    sscanf(argv[3], "%63[^:]:%d", host, &port) != 2 || uv_ip4_addr(host, port, &addr) != 0)
		return 2;
	ev.mode = argv[4];
	snprintf(path, sizeof(path), "%s/node.key", argv[1]);
	if (keyfile_load(path, ev.pk, ev.sk) != 0)
		return 2;
	snprintf(path, sizeof(path), "%s/agorad.conf", argv[1]);
	if (!(cfg = config_load(path, ev.pk, NULL)))
		return 2;
	memcpy(ev.network, cfg->network, 32);
	memcpy(keys.network, cfg->network, 32);
	if (ag_noise_key_from_ed25519(keys.x_sk, x_pk, ev.sk) != 0 ||
	    ag_noise_pk_from_ed25519(x_rs, peer) != 0)
		return 2;
	uv_timer_init(uv_default_loop(), &ev.timer);
	uv_timer_start(&ev.timer, on_timeout, 10000, 0);
	conn_dial(uv_default_loop(), (struct sockaddr *)&addr, x_rs, NULL, &keys, &ops, &ev);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	printf("closed: %s\n", ev.why);
	config_free(cfg);
	sodium_memzero(ev.sk, sizeof(ev.sk));
	sodium_memzero(&keys, sizeof(keys));
	return ev.up && ev.closed ? 0 : 1;
}
