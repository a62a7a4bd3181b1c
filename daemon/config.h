/*
 * config.h: DIR/agorad.conf, the node's settings and its peers.
 *
 * The file is INI in WireGuard's style: one [Node] section, any number of
 * [Peer] sections, "Key = Value" lines, '#' or ';' comments. Keys and section
 * names match in any case. It holds public keys only, never a secret.
 * contrib/man/agorad.conf.5 documents every key.
 *
 * A struct config is read-only to its users (fields below); only the
 * config_peer_* functions change it. Loop thread only.
 */
#ifndef AGORA_CONFIG_H
#define AGORA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "confval.h"
#include "key.h"
#include "log.h"

#define CONFIG_FILE               "agorad.conf"
#define CONFIG_NAME_MAX           CONFVAL_NAME_MAX
#define CONFIG_HOST_MAX           CONFVAL_HOST_MAX
#define CONFIG_PEERS_MAX          1024 /* [Peer] sections */
#define CONFIG_FILE_MAX           (1 << 20)
#define CONFIG_LISTEN_DEFAULT     "0.0.0.0:7447"
#define CONFIG_HOPS_DEFAULT       2
#define CONFIG_HOPS_MAX           4
#define CONFIG_INTRODUCED_DEFAULT 1000 /* MaxIntroduced: member records of one introducer */
#define CONFIG_INTRODUCED_MAX     1000000
#define CONFIG_SILENT_DEFAULT     3600                  /* SilentAfter, in seconds: an hour */
#define CONFIG_SILENT_MAX         (366 * 24 * 3600)     /* a year */
#define CONFIG_SIZE_MAX           (UINT64_C(1) << 50)   /* bytes: 1024T, a size's largest */
#define CONFIG_QUOTA_DEFAULT      (UINT64_C(256) << 20) /* Quota: bytes of bodies per author */
#define CONFIG_ENTRIES_DEFAULT    UINT64_C(1000000)     /* QuotaEntries: entries per author */
#define CONFIG_ENTRIES_MAX        UINT64_C(1000000000000)
#define CONFIG_MAXDISK_DEFAULT    (UINT64_C(16) << 30) /* MaxDisk: bytes of the whole store */
#define CONFIG_MAXDISK_MIN        (UINT64_C(16) << 20)
#define CONFIG_GRACE_DEFAULT      (30 * 24 * 3600) /* LeaveGrace, in seconds: 30 days */

/* A peer's role in the network (DESIGN.md "Roles and names"), as its member record says it. */
enum config_role { CONFIG_PARTNER, CONFIG_ASSOCIATE };

struct config_peer {
	char name[CONFIG_NAME_MAX + 1];
	uint8_t pk[AG_PK_LEN];
	char host[CONFIG_HOST_MAX + 1]; /* Endpoint's host; "" if none: it calls us */
	uint16_t port;                  /* Endpoint's port; 0 if none */
	enum config_role role;          /* Role: partner unless it says associate */
};

struct config {
	char name[CONFIG_NAME_MAX + 1];
	struct sockaddr_storage listen; /* an IPv4 or IPv6 address and port */
	uint8_t network[32];
	int hops;                 /* 1..CONFIG_HOPS_MAX member introductions followed */
	size_t max_introduced;    /* member records of one introducer that count, at most */
	enum log_level log_level; /* the daemon's threshold unless -v says otherwise */
	uint32_t silent_after;    /* seconds: a peer silent longer is a problem for agora check */
	uint64_t quota;           /* bytes of bodies kept per author (not this node's own) */
	uint64_t quota_entries;   /* entries kept per author (not this node's own) */
	uint64_t max_disk;        /* bytes of the store: store.h's store_limits says how */
	bool verify_every;        /* VerifyEvery: each received header's own signature is checked */
	uint32_t leave_grace;     /* seconds a key that left the set keeps its entries here */
	struct config_peer *peers; /* in file order */
	size_t npeers;
	bool has_self; /* self_pk is known and refused as a peer */
	uint8_t self_pk[AG_PK_LEN];
};

/* Why a config_peer_* call or a value was refused; config_strerror says it in words. */
enum {
	CONFIG_OK = 0,
	CONFIG_ENOMEM = -1,
	CONFIG_ENAME = CONFVAL_ENAME,         /* not a valid Name */
	CONFIG_EHOSTPORT = CONFVAL_EHOSTPORT, /* not HOST:PORT */
	CONFIG_EHOST = CONFVAL_EHOST,         /* host neither DNS name nor IP address */
	CONFIG_EPORT = CONFVAL_EPORT,         /* port not 1..65535 */
	CONFIG_EADDR = CONFVAL_EADDR,         /* Listen host not an IP address */
	CONFIG_EKEY = -7,                     /* not a 44-character base64 key */
	CONFIG_EHOPS = -8,
	CONFIG_ELEVEL = -9,
	CONFIG_EEXIST = -10,    /* a peer already has this key */
	CONFIG_ENOENT = -11,    /* no peer has this key */
	CONFIG_ESELF = -12,     /* the node's own key */
	CONFIG_ENAMEUSED = -13, /* the node or another peer has this name */
	CONFIG_ETOOMANY = -14,  /* CONFIG_PEERS_MAX peers already */
	CONFIG_EINTRODUCED = -15,
	CONFIG_EDURATION = -16, /* not a duration: 90s, 30m, 1h, 2d */
	CONFIG_ESIZE = -17,     /* not a size: 4096, 64K, 256M, 16G */
	CONFIG_EMAXDISK = -18,  /* MaxDisk under CONFIG_MAXDISK_MIN */
	CONFIG_EENTRIES = -19,  /* QuotaEntries not a number in its range */
	CONFIG_EBOOL = -20,     /* not yes or no */
	CONFIG_EROLE = -21,     /* neither partner nor associate */
};

const char *config_strerror(int code);

/* "partner" or "associate" to a role: 0, or CONFIG_EROLE. */
int config_role_parse(const char *s, enum config_role *role);
const char *config_role_name(enum config_role role);

/*
 * A config with only [Node] Name and Listen (NULL: the default) set, the rest
 * defaults, for `agora init`. NULL if either is refused (logged) or no memory.
 */
struct config *config_new(const char *name, const char *listen);
void config_free(struct config *); /* NULL-safe */
struct config *config_dup(const struct config *);

/*
 * Parses a whole file's text (len bytes, NUL bytes included, no terminator
 * needed). self_pk, if not NULL, is this node's key, refused as a peer.
 * Every error is logged as "file:line: what is wrong", in line order, then
 * "file: N errors"; *nerrors (if not NULL) gets N. Returns the config only
 * if there is no error, else NULL.
 */
struct config *config_parse(const char *text, size_t len, const char *file, const uint8_t *self_pk,
                            int *nerrors);

/* Reads path (at most CONFIG_FILE_MAX bytes) and parses it as config_parse does. */
struct config *config_load(const char *path, const uint8_t *self_pk, int *nerrors);

/*
 * config_load for SIGHUP: nothing is logged; on failure why says, in one line,
 * the first error ("file:line: what is wrong") and how many more there are.
 */
struct config *config_load_why(const char *path, const uint8_t *self_pk, char *why, size_t whylen);

/*
 * The normalised text of cfg: the keys in a fixed order and case, "Key =
 * Value", defaults other than Listen left out, comments gone. Parsing it
 * gives back an equal config. Heap string the caller frees; NULL if no memory.
 */
char *config_format(const struct config *);

/* Same normalised text, so same meaning. */
bool config_equal(const struct config *, const struct config *);

/*
 * Replaces path with cfg's normalised text atomically: a temporary file in
 * the same directory, fsync, rename, fsync of the directory. An existing
 * file's mode is kept; a new one gets 0640. 0, or -1 (logged).
 */
int config_write(const char *path, const struct config *cfg) __attribute__((warn_unused_result));

/* For `agorad --check`: loads path and prints it normalised to out. 0 or -1. */
int config_check(const char *path, const uint8_t *self_pk, FILE *out);

/*
 * Adds a peer at the end; endpoint is "HOST:PORT", or NULL or "" for none.
 * Refuses a key already there, the node's own key, a name in use. 0 or a
 * CONFIG_E* code; cfg is unchanged on failure.
 */
int config_peer_add(struct config *, const uint8_t pk[static AG_PK_LEN], const char *name,
                    const char *endpoint) __attribute__((warn_unused_result));

/* Removes the peer with key pk, keeping the others' order. 0 or CONFIG_ENOENT. */
int config_peer_remove(struct config *, const uint8_t pk[static AG_PK_LEN]);

/* The peer with this key or exact name, or NULL; valid until cfg changes. */
const struct config_peer *config_peer_find(const struct config *,
                                           const uint8_t pk[static AG_PK_LEN]);
const struct config_peer *config_peer_find_name(const struct config *, const char *name);

#endif
