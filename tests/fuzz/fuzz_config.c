/*
 * fuzz_config.c: the agorad.conf parser takes any bytes without harm, and
 * what it accepts survives a round trip: its normalised text parses again to
 * an equal config whose text is the same (config_format is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct config *cfg, const uint8_t *self)
{
	char *text = config_format(cfg), *again;
	struct config *back, *dup;
	int n = -1;

	if (text == NULL)
		abort();
	back = config_parse(text, strlen(text), "normalised", self, &n);
	if (back == NULL || n != 0 || !config_equal(cfg, back))
		abort();
	again = config_format(back);
	if (again == NULL || strcmp(text, again) != 0)
		abort();
	dup = config_dup(cfg);
	if (dup == NULL || !config_equal(cfg, dup))
		abort();
	/* Removing a peer and adding it back gives the same peers, the removed one last. */
	if (dup->npeers > 0) {
		struct config_peer p = dup->peers[0];
		char endpoint[CONFIG_HOST_MAX + 16];

		if (p.port != 0)
			snprintf(endpoint, sizeof(endpoint),
			         strchr(p.host, ':') ? "[%s]:%u" : "%s:%u", p.host, p.port);
		else
			endpoint[0] = '\0';
		if (config_peer_remove(dup, p.pk) != 0 || config_peer_find(dup, p.pk) != NULL ||
		    config_peer_add(dup, p.pk, p.name, endpoint) != 0 ||
		    dup->npeers != cfg->npeers ||
		    memcmp(&dup->peers[dup->npeers - 1], &p, sizeof(p)) != 0)
			abort();
	}
	config_free(dup);
	config_free(back);
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t self[AG_PK_LEN];
	static int ready;
	struct config *cfg;
	int n = -1;

	if (!ready) {
		if (ag_init() != 0)
			abort();
		log_set_fd(-1); /* thousands of error lines a second help no one */
		memset(self, 3, sizeof(self));
		ready = 1;
	}
	cfg = config_parse((const char *)data, size, "fuzz", self, &n);
	if ((cfg == NULL) != (n > 0) || n < 0)
		abort();
	if (cfg != NULL) {
		if (cfg->name[0] == '\0' || cfg->npeers > CONFIG_PEERS_MAX || cfg->hops < 1 ||
		    cfg->hops > CONFIG_HOPS_MAX)
			abort();
		check_round_trip(cfg, self);
	}
	config_free(cfg);
	return 0;
}
