/*
 * config.c: agorad.conf read with inih, checked line by line, written back
 * atomically.
 *
 * Debian's inih 55 is built without INI_HANDLER_LINENO and without
 * INI_CALL_HANDLER_ON_NEW_SECTION, so its handler learns neither the line
 * nor that a second [Peer] began. We therefore feed it through
 * ini_parse_stream with our own reader, one physical line per call: the
 * reader counts lines, takes section headers itself (handing inih an empty
 * line instead), and leaves inih the "Key = Value" splitting, trimming and
 * inline comments. A line that inih could not split never reaches the
 * handler; the reader notices that when it is asked for the next line.
 */
#include "config.h"
#include "confval.h"
#include "fileio.h"
#include "near.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#define MSGS_SHOWN 100 /* errors logged; all are counted */

enum section { SEC_NONE, SEC_NODE, SEC_PEER, SEC_SKIP };

enum {
	NODE_NAME,
	NODE_LISTEN,
	NODE_NETWORK,
	NODE_HOPS,
	NODE_LOGLEVEL,
	NODE_INTRODUCED,
	NODE_SILENT,
	NODE_QUOTA,
	NODE_QUOTA_ENTRIES,
	NODE_MAXDISK,
	NODE_VERIFY,
	NODE_GRACE,
	NODE_NKEYS
};
enum { PEER_NAME, PEER_PUBLICKEY, PEER_ENDPOINT, PEER_ROLE, PEER_NKEYS };

struct msg {
	int line;   /* 0: about the whole file */
	size_t seq; /* keeps the order of messages on one line */
	char *text;
};

/* Where each key of one section was set, for duplicates and cross-checks. */
struct lines {
	int header;
	int key[NODE_NKEYS]; /* line of each key, 0 if absent; NODE_NKEYS >= PEER_NKEYS */
	bool ok[NODE_NKEYS]; /* its value was good */
};

struct parse {
	const char *file;
	const char *text;
	size_t len, pos;
	int lineno;
	int pending; /* a key line inih has not handed us, or 0 */
	enum section sec;
	struct config *cfg;
	struct lines node;
	struct lines *peers; /* parallel to cfg->peers */
	size_t peers_cap;
	struct msg *msgs;
	size_t nmsgs, msgs_cap;
	int nerrors;
	char why[160]; /* a setter's reason */
	char *first;   /* not NULL: the first message goes here, and nothing is logged */
	size_t firstlen;
};

struct key {
	const char *name;
	int idx;
	bool echo; /* the value may be quoted in a message */
	int (*set)(struct parse *, const char *value);
};

static const char *const reasons[] = {
    [-CONFIG_OK] = "no error",
    [-CONFIG_ENOMEM] = "out of memory",
    [-CONFIG_EKEY] = "expected a key: 44 characters of standard base64",
    [-CONFIG_EHOPS] = "must be a number from 1 to 4",
    [-CONFIG_ELEVEL] = "must be error, warn, info or debug",
    [-CONFIG_EEXIST] = "a peer with this key already exists",
    [-CONFIG_ENOENT] = "no peer has this key",
    [-CONFIG_ESELF] = "this is the node's own key",
    [-CONFIG_ENAMEUSED] = "this name is already used",
    [-CONFIG_ETOOMANY] = "too many peers (at most 1024)",
    [-CONFIG_EINTRODUCED] = "must be a number from 1 to 1000000",
    [-CONFIG_EDURATION] = "must be a duration from 1s to 366d: a number and s, m, h or d",
    [-CONFIG_ESIZE] = "must be a size: a number of bytes, or of K, M, G or T (KiB, MiB, GiB, "
                      "TiB), from 1K to 1024T",
    [-CONFIG_EMAXDISK] = "must be a size from 16M to 1024T: a number and K, M, G or T",
    [-CONFIG_EENTRIES] = "must be a number from 100 to 1000000000000",
    [-CONFIG_EBOOL] = "must be yes or no",
    [-CONFIG_EROLE] = "must be partner or associate",
};

static const char *const roles[] = {[CONFIG_PARTNER] = "partner", [CONFIG_ASSOCIATE] = "associate"};

int config_role_parse(const char *s, enum config_role *role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(s, roles[i]) == 0) {
			*role = (enum config_role)i;
			return 0;
		}
	return CONFIG_EROLE;
}

const char *config_role_name(enum config_role role)
{
	return roles[role];
}

const char *config_strerror(int code)
{
	if (confval_strerror(code))
		return confval_strerror(code);
	if (code > 0 || -code >= (int)(sizeof(reasons) / sizeof(reasons[0])))
		return "unknown error";
	return reasons[-code];
}

/* Values */

static int parse_listen(const char *s, struct sockaddr_storage *sa)
{
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port;

	return confval_hostport(s, host, &port, sa);
}

/* Zero-fills what is past the host's NUL, so equal peers compare equal with memcmp. */
static int parse_endpoint(const char *s, struct config_peer *p)
{
	char host[CONFIG_HOST_MAX + 1] = {0};
	uint16_t port;
	int r;

	if (s == NULL || *s == '\0') {
		p->host[0] = '\0';
		p->port = 0;
		return 0;
	}
	if ((r = confval_hostport(s, host, &port, NULL)) != 0)
		return r;
	memcpy(p->host, host, sizeof(host));
	p->port = port;
	return 0;
}

static int parse_hops(const char *s, int *hops)
{
	if (s[0] < '1' || s[0] > '0' + CONFIG_HOPS_MAX || s[1] != '\0')
		return CONFIG_EHOPS;
	*hops = s[0] - '0';
	return 0;
}

static int parse_introduced(const char *s, size_t *max)
{
	size_t v = 0;

	if (s[0] < '1' || s[0] > '9')
		return CONFIG_EINTRODUCED;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (size_t)(*s - '0')) > CONFIG_INTRODUCED_MAX)
			return CONFIG_EINTRODUCED;
	if (*s != '\0')
		return CONFIG_EINTRODUCED;
	*max = v;
	return 0;
}

/* A duration: N seconds, or N with s, m, h or d; 1 second to a year. */
static int parse_duration(const char *s, uint32_t *secs)
{
	static const struct {
		char unit;
		uint32_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	unsigned long long n = 0;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9' && n <= CONFIG_SILENT_MAX; i++)
		n = n * 10 + (unsigned)(s[i] - '0');
	if (i == 0 || n == 0)
		return CONFIG_EDURATION;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (s[i] == units[u].unit && s[i + 1] == '\0' &&
		    n <= CONFIG_SILENT_MAX / units[u].secs) {
			*secs = (uint32_t)(n * units[u].secs);
			return 0;
		}
	if (s[i] != '\0' || n > CONFIG_SILENT_MAX)
		return CONFIG_EDURATION;
	*secs = (uint32_t)n;
	return 0;
}

/* A size: N bytes, or N and K, M, G or T (binary units), from min to CONFIG_SIZE_MAX. */
static int parse_size(const char *s, uint64_t min, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	uint64_t n = 0;
	const char *u;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9' && n <= CONFIG_SIZE_MAX; i++)
		n = n * 10 + (unsigned)(s[i] - '0');
	if (i == 0 || n > CONFIG_SIZE_MAX)
		return CONFIG_ESIZE;
	if (s[i] != '\0') {
		if (!(u = strchr(units, s[i] & ~0x20)) || s[i + 1] != '\0')
			return CONFIG_ESIZE;
		for (long k = u - units; k >= 0; k--)
			if ((n *= 1024) > CONFIG_SIZE_MAX)
				return CONFIG_ESIZE;
	}
	if (n < min)
		return CONFIG_ESIZE;
	*bytes = n;
	return 0;
}

/* bytes in the largest unit that holds it whole: 268435456 is 256M. */
static void format_size(FILE *f, uint64_t bytes)
{
	const char *u = "";

	for (const char *p = "KMGT"; *p && bytes % 1024 == 0; p++) {
		bytes /= 1024;
		u = p;
	}
	fprintf(f, "%llu%.1s", (unsigned long long)bytes, u);
}

/* secs in the largest unit that holds it whole: 3600 is 1h, 90 is 90s. */
static void format_duration(FILE *f, uint32_t secs)
{
	if (secs % 86400 == 0)
		fprintf(f, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		fprintf(f, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		fprintf(f, "%um", secs / 60);
	else
		fprintf(f, "%us", secs);
}

/* Messages */

static void add_msg(struct parse *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_msg(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int r;

	ps->nerrors++;
	if (ps->nmsgs == ps->msgs_cap) {
		size_t cap = ps->msgs_cap ? 2 * ps->msgs_cap : 16;
		struct msg *m = reallocarray(ps->msgs, cap, sizeof(*m));

		if (m == NULL)
			return; /* still counted; the summary says how many */
		ps->msgs = m;
		ps->msgs_cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	ps->msgs[ps->nmsgs] = (struct msg){.line = line, .seq = ps->nmsgs, .text = text};
	ps->nmsgs++;
}

static int msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;
	unsigned lx = x->line ? (unsigned)x->line : ~0u, ly = y->line ? (unsigned)y->line : ~0u;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first message (in line order) as one line, and how many more there are. */
static void report_first(struct parse *ps)
{
	const struct msg *m = ps->nmsgs > 0 ? &ps->msgs[0] : NULL;
	char more[48] = "";

	if (ps->nerrors > 1)
		snprintf(more, sizeof(more), " (and %d more error%s)", ps->nerrors - 1,
		         ps->nerrors == 2 ? "" : "s");
	if (!m || !m->text)
		snprintf(ps->first, ps->firstlen, "%s: %d errors", ps->file, ps->nerrors);
	else if (m->line > 0)
		snprintf(ps->first, ps->firstlen, "%s:%d: %s%s", ps->file, m->line, m->text, more);
	else
		snprintf(ps->first, ps->firstlen, "%s: %s%s", ps->file, m->text, more);
}

/* Logs the messages in line order, whole-file ones last, then the count. */
static void report(struct parse *ps)
{
	if (ps->nmsgs > 0) /* qsort wants a non-NULL array even when empty */
		qsort(ps->msgs, ps->nmsgs, sizeof(*ps->msgs), msg_cmp);
	if (ps->first) {
		if (ps->nerrors > 0)
			report_first(ps);
		return;
	}
	for (size_t i = 0; i < ps->nmsgs && i < MSGS_SHOWN; i++) {
		if (ps->msgs[i].line > 0)
			log_error("%s:%d: %s", ps->file, ps->msgs[i].line, ps->msgs[i].text);
		else
			log_error("%s: %s", ps->file, ps->msgs[i].text);
	}
	if (ps->nerrors > MSGS_SHOWN)
		log_error("%s: %d errors (first %d shown)", ps->file, ps->nerrors, MSGS_SHOWN);
	else if (ps->nerrors > 0)
		log_error("%s: %d error%s", ps->file, ps->nerrors, ps->nerrors == 1 ? "" : "s");
}

/* Setters: 0, or -1 with ps->why said. */

static int fail(struct parse *ps, int code)
{
	snprintf(ps->why, sizeof(ps->why), "%s", config_strerror(code));
	return -1;
}

static struct config_peer *cur_peer(struct parse *ps)
{
	return &ps->cfg->peers[ps->cfg->npeers - 1];
}

static int set_node_name(struct parse *ps, const char *v)
{
	if (confval_name(v) != 0)
		return fail(ps, CONFIG_ENAME);
	snprintf(ps->cfg->name, sizeof(ps->cfg->name), "%s", v);
	return 0;
}

static int set_listen(struct parse *ps, const char *v)
{
	int r = parse_listen(v, &ps->cfg->listen);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_key(struct parse *ps, const char *v, uint8_t out[static AG_PK_LEN])
{
	size_t len = strlen(v);

	if (ag_key_from_b64(out, v) == 0)
		return 0;
	if (len != AG_B64_LEN)
		snprintf(ps->why, sizeof(ps->why), "%s; this is %zu character%s long",
		         config_strerror(CONFIG_EKEY), len, len == 1 ? "" : "s");
	else
		snprintf(ps->why, sizeof(ps->why), "%s", config_strerror(CONFIG_EKEY));
	return -1;
}

static int set_network(struct parse *ps, const char *v)
{
	return set_key(ps, v, ps->cfg->network);
}

static int set_hops(struct parse *ps, const char *v)
{
	int r = parse_hops(v, &ps->cfg->hops);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_introduced(struct parse *ps, const char *v)
{
	int r = parse_introduced(v, &ps->cfg->max_introduced);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_loglevel(struct parse *ps, const char *v)
{
	if (log_level_parse(v, &ps->cfg->log_level) != 0)
		return fail(ps, CONFIG_ELEVEL);
	return 0;
}

static int set_silent(struct parse *ps, const char *v)
{
	int r = parse_duration(v, &ps->cfg->silent_after);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_quota(struct parse *ps, const char *v)
{
	int r = parse_size(v, 1024, &ps->cfg->quota);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_maxdisk(struct parse *ps, const char *v)
{
	int r = parse_size(v, CONFIG_MAXDISK_MIN, &ps->cfg->max_disk);

	return r != 0 ? fail(ps, r == CONFIG_ESIZE ? CONFIG_EMAXDISK : r) : 0;
}

static int set_quota_entries(struct parse *ps, const char *v)
{
	uint64_t n = 0;

	for (const char *p = v; *p >= '0' && *p <= '9' && n <= CONFIG_ENTRIES_MAX; p++)
		n = n * 10 + (unsigned)(*p - '0');
	if (v[strspn(v, "0123456789")] != '\0' || n < 100 || n > CONFIG_ENTRIES_MAX)
		return fail(ps, CONFIG_EENTRIES);
	ps->cfg->quota_entries = n;
	return 0;
}

static int set_verify(struct parse *ps, const char *v)
{
	if (strcasecmp(v, "yes") != 0 && strcasecmp(v, "no") != 0)
		return fail(ps, CONFIG_EBOOL);
	ps->cfg->verify_every = strcasecmp(v, "yes") == 0;
	return 0;
}

static int set_grace(struct parse *ps, const char *v)
{
	int r = parse_duration(v, &ps->cfg->leave_grace);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_role(struct parse *ps, const char *v)
{
	int r = config_role_parse(v, &cur_peer(ps)->role);

	return r != 0 ? fail(ps, r) : 0;
}

static int set_peer_name(struct parse *ps, const char *v)
{
	if (confval_name(v) != 0)
		return fail(ps, CONFIG_ENAME);
	snprintf(cur_peer(ps)->name, sizeof(cur_peer(ps)->name), "%s", v);
	return 0;
}

static int set_peer_key(struct parse *ps, const char *v)
{
	return set_key(ps, v, cur_peer(ps)->pk);
}

static int set_endpoint(struct parse *ps, const char *v)
{
	int r = parse_endpoint(v, cur_peer(ps));

	return r != 0 ? fail(ps, r) : 0;
}

/* Keys are never echoed: a secret pasted in the wrong place must not reach a log. */
static const struct key node_keys[] = {
    {"Name", NODE_NAME, true, set_node_name},
    {"Listen", NODE_LISTEN, true, set_listen},
    {"Network", NODE_NETWORK, false, set_network},
    {"Hops", NODE_HOPS, true, set_hops},
    {"LogLevel", NODE_LOGLEVEL, true, set_loglevel},
    {"MaxIntroduced", NODE_INTRODUCED, true, set_introduced},
    {"SilentAfter", NODE_SILENT, true, set_silent},
    {"Quota", NODE_QUOTA, true, set_quota},
    {"QuotaEntries", NODE_QUOTA_ENTRIES, true, set_quota_entries},
    {"MaxDisk", NODE_MAXDISK, true, set_maxdisk},
    {"VerifyEvery", NODE_VERIFY, true, set_verify},
    {"LeaveGrace", NODE_GRACE, true, set_grace},
};
static const struct key peer_keys[] = {
    {"Name", PEER_NAME, true, set_peer_name},
    {"PublicKey", PEER_PUBLICKEY, false, set_peer_key},
    {"Endpoint", PEER_ENDPOINT, true, set_endpoint},
    {"Role", PEER_ROLE, true, set_role},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct key *find_key(const struct key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* Sections */

static void begin_node(struct parse *ps)
{
	if (ps->node.header != 0) {
		add_msg(ps, ps->lineno, "second [Node] section (the first is on line %d)",
		        ps->node.header);
		ps->sec = SEC_SKIP;
		return;
	}
	ps->node.header = ps->lineno;
	ps->sec = SEC_NODE;
}

static void begin_peer(struct parse *ps)
{
	struct config *cfg = ps->cfg;

	ps->sec = SEC_SKIP;
	if (cfg->npeers == CONFIG_PEERS_MAX) {
		add_msg(ps, ps->lineno, "too many [Peer] sections (at most %d)", CONFIG_PEERS_MAX);
		return;
	}
	if (cfg->npeers == ps->peers_cap) {
		size_t cap = ps->peers_cap ? 2 * ps->peers_cap : 8;
		struct config_peer *p = reallocarray(cfg->peers, cap, sizeof(*p));
		struct lines *l;

		if (p == NULL) {
			add_msg(ps, ps->lineno, "out of memory");
			return;
		}
		cfg->peers = p;
		if ((l = reallocarray(ps->peers, cap, sizeof(*l))) == NULL) {
			add_msg(ps, ps->lineno, "out of memory");
			return;
		}
		ps->peers = l;
		ps->peers_cap = cap;
	}
	memset(&cfg->peers[cfg->npeers], 0, sizeof(cfg->peers[0]));
	memset(&ps->peers[cfg->npeers], 0, sizeof(ps->peers[0]));
	ps->peers[cfg->npeers].header = ps->lineno;
	cfg->npeers++;
	ps->sec = SEC_PEER;
}

/* s is a line that starts with '['; len excludes trailing spaces. */
static void section(struct parse *ps, const char *s, size_t len)
{
	static const char *const known[] = {"Node", "Peer"};
	const char *close = memchr(s, ']', len), *hint;
	char name[64];
	size_t nlen, i;

	ps->sec = SEC_SKIP; /* whatever is wrong, its keys would only add noise */
	if (close == NULL) {
		add_msg(ps, ps->lineno, "section header without ']'");
		return;
	}
	for (i = 1; s + i < close && isspace((unsigned char)s[i]); i++)
		;
	nlen = (size_t)(close - s) - i;
	while (nlen > 0 && isspace((unsigned char)s[i + nlen - 1]))
		nlen--;
	if (nlen >= sizeof(name))
		nlen = sizeof(name) - 1;
	memcpy(name, s + i, nlen);
	name[nlen] = '\0';
	for (i = (size_t)(close - s) + 1; i < len && isspace((unsigned char)s[i]); i++)
		;
	if (i < len && s[i] != ';' && s[i] != '#') {
		add_msg(ps, ps->lineno, "unexpected text after [%s]", name);
		return;
	}
	if (strcasecmp(name, "Node") == 0)
		begin_node(ps);
	else if (strcasecmp(name, "Peer") == 0)
		begin_peer(ps);
	else if (strcasecmp(name, "Interface") == 0)
		add_msg(ps, ps->lineno, "unknown section [%s]; agora calls it [Node]", name);
	else if ((hint = ag_nearest(name, strlen(name), known, sizeof(known[0]), NELEM(known))) !=
	         NULL)
		add_msg(ps, ps->lineno, "unknown section [%s]; did you mean [%s]?", name, hint);
	else
		add_msg(ps, ps->lineno, "unknown section [%s]; expected [Node] or [Peer]", name);
}

/* inih's side */

static void unknown_key(struct parse *ps, const char *name, bool node)
{
	const struct key *keys = node ? node_keys : peer_keys, *k;
	size_t n = node ? NELEM(node_keys) : NELEM(peer_keys);
	const char *sec = node ? "Node" : "Peer", *cands[NELEM(node_keys)], *hint;

	if (strcasecmp(name, "PrivateKey") == 0) {
		add_msg(
		    ps, ps->lineno,
		    "unknown key 'PrivateKey': agorad.conf holds no secret; the node's key is in "
		    "node.key");
		return;
	}
	if (node && strcasecmp(name, "ListenPort") == 0) {
		add_msg(
		    ps, ps->lineno,
		    "unknown key 'ListenPort' in [Node]; did you mean 'Listen' (ADDRESS:PORT)?");
		return;
	}
	k = node ? find_key(peer_keys, NELEM(peer_keys), name)
	         : find_key(node_keys, NELEM(node_keys), name);
	if (k != NULL) {
		add_msg(ps, ps->lineno, "'%s' belongs in [%s], not [%s]", k->name,
		        node ? "Peer" : "Node", sec);
		return;
	}
	for (size_t i = 0; i < n; i++)
		cands[i] = keys[i].name;
	if ((hint = ag_nearest(name, strlen(name), cands, sizeof(cands[0]), n)) != NULL)
		add_msg(ps, ps->lineno, "unknown key '%s' in [%s]; did you mean '%s'?", name, sec,
		        hint);
	else if (strpbrk(name, " \t") != NULL) /* "Listen 0.0.0.0:7447", split by inih at ':' */
		add_msg(ps, ps->lineno, "expected 'Key = Value'");
	else
		add_msg(ps, ps->lineno, "unknown key '%s' in [%s]", name, sec);
}

static int handler(void *user, const char *section_name, const char *name, const char *value)
{
	struct parse *ps = user;
	bool node = ps->sec == SEC_NODE;
	const struct key *k;
	struct lines *l;

	(void)section_name; /* the reader keeps sections: see the top of this file */
	ps->pending = 0;
	if (*name == '\0') {
		add_msg(ps, ps->lineno, "expected 'Key = Value', found no key before '='");
		return 1;
	}
	if (ps->sec == SEC_NONE) {
		add_msg(ps, ps->lineno, "'%s' comes before any [Node] or [Peer] section", name);
		return 1;
	}
	if (ps->sec == SEC_SKIP)
		return 1;
	k = node ? find_key(node_keys, NELEM(node_keys), name)
	         : find_key(peer_keys, NELEM(peer_keys), name);
	if (k == NULL) {
		unknown_key(ps, name, node);
		return 1;
	}
	l = node ? &ps->node : &ps->peers[ps->cfg->npeers - 1];
	if (l->key[k->idx] != 0) {
		add_msg(ps, ps->lineno, "duplicate key '%s' (first on line %d)", k->name,
		        l->key[k->idx]);
		return 1;
	}
	l->key[k->idx] = ps->lineno;
	if (*value == '\0') {
		add_msg(ps, ps->lineno, "'%s' has no value", k->name);
		return 1;
	}
	if (k->set(ps, value) == 0) {
		l->ok[k->idx] = true;
		return 1;
	}
	if (k->echo)
		add_msg(ps, ps->lineno, "bad %s '%s': %s", k->name, value, ps->why);
	else
		add_msg(ps, ps->lineno, "bad %s: %s", k->name, ps->why);
	return 1;
}

/* A key line that inih did not hand to the handler had no '=' (or ':'). */
static void check_pending(struct parse *ps)
{
	if (ps->pending != 0)
		add_msg(ps, ps->pending, "expected 'Key = Value'");
	ps->pending = 0;
}

static char *reader(char *buf, int num, void *user)
{
	struct parse *ps = user;
	const char *s = ps->text + ps->pos, *nl;
	size_t len;

	check_pending(ps);
	if (ps->pos >= ps->len)
		return NULL;
	nl = memchr(s, '\n', ps->len - ps->pos);
	len = nl != NULL ? (size_t)(nl - s) : ps->len - ps->pos;
	ps->pos += len + (nl != NULL);
	ps->lineno++;
	buf[0] = '\0';
	if (ps->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
	}
	/* Leading space would make inih join the line to the previous value. */
	for (; len > 0 && isspace((unsigned char)*s); s++, len--)
		;
	for (; len > 0 && isspace((unsigned char)s[len - 1]); len--)
		;
	if (memchr(s, '\0', len) != NULL)
		add_msg(ps, ps->lineno, "NUL byte in line");
	else if (len >= (size_t)num)
		add_msg(ps, ps->lineno, "line too long (at most %d characters)", num - 1);
	else if (len > 0 && s[0] == '[')
		section(ps, s, len);
	else if (len > 0 && s[0] != '#' && s[0] != ';') {
		memcpy(buf, s, len);
		buf[len] = '\0';
		ps->pending = ps->lineno;
	}
	return buf;
}

/* Whole-file checks */

static void finish_peer(struct parse *ps, size_t i)
{
	const struct config *cfg = ps->cfg;
	const struct config_peer *p = &cfg->peers[i];
	const struct lines *l = &ps->peers[i];

	if (l->key[PEER_NAME] == 0)
		add_msg(ps, l->header, "[Peer] has no Name");
	if (l->key[PEER_PUBLICKEY] == 0)
		add_msg(ps, l->header, "[Peer] has no PublicKey");
	if (l->ok[PEER_NAME] && strcmp(p->name, cfg->name) == 0)
		add_msg(ps, l->key[PEER_NAME], "Name '%s' is this node's own Name", p->name);
	if (l->ok[PEER_PUBLICKEY] && cfg->has_self &&
	    sodium_memcmp(p->pk, cfg->self_pk, AG_PK_LEN) == 0)
		add_msg(ps, l->key[PEER_PUBLICKEY], "PublicKey is this node's own key");
	for (size_t j = 0; j < i; j++) {
		const struct config_peer *q = &cfg->peers[j];

		if (l->ok[PEER_NAME] && ps->peers[j].ok[PEER_NAME] && strcmp(p->name, q->name) == 0)
			add_msg(ps, l->key[PEER_NAME],
			        "Name '%s' is already used by the peer on line %d", p->name,
			        ps->peers[j].header);
		if (l->ok[PEER_PUBLICKEY] && ps->peers[j].ok[PEER_PUBLICKEY] &&
		    memcmp(p->pk, q->pk, AG_PK_LEN) == 0)
			add_msg(ps, l->key[PEER_PUBLICKEY],
			        "PublicKey is already that of the peer on line %d",
			        ps->peers[j].header);
	}
}

static void finish(struct parse *ps)
{
	if (ps->node.header == 0)
		add_msg(ps, 0, "no [Node] section");
	else if (ps->node.key[NODE_NAME] == 0)
		add_msg(ps, ps->node.header, "[Node] has no Name");
	for (size_t i = 0; i < ps->cfg->npeers; i++)
		finish_peer(ps, i);
}

/* The config of defaults: no name, no peers. */
static struct config *config_blank(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	if (parse_listen(CONFIG_LISTEN_DEFAULT, &cfg->listen) != 0)
		abort(); /* the default itself is wrong */
	ag_network_default(cfg->network);
	cfg->hops = CONFIG_HOPS_DEFAULT;
	cfg->max_introduced = CONFIG_INTRODUCED_DEFAULT;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->silent_after = CONFIG_SILENT_DEFAULT;
	cfg->quota = CONFIG_QUOTA_DEFAULT;
	cfg->quota_entries = CONFIG_ENTRIES_DEFAULT;
	cfg->max_disk = CONFIG_MAXDISK_DEFAULT;
	cfg->leave_grace = CONFIG_GRACE_DEFAULT;
	return cfg;
}

/* config_parse, or with first set, its first error in first and nothing logged. */
static struct config *parse_text(const char *text, size_t len, const char *file,
                                 const uint8_t *self_pk, int *nerrors, char *first, size_t firstlen)
{
	struct parse ps = {.file = file,
	                   .text = text,
	                   .len = len,
	                   .sec = SEC_NONE,
	                   .first = first,
	                   .firstlen = firstlen};
	int r;

	if ((ps.cfg = config_blank()) == NULL) {
		if (first)
			snprintf(first, firstlen, "%s: out of memory", file);
		else
			log_error("%s: out of memory", file);
		if (nerrors != NULL)
			*nerrors = 1;
		return NULL;
	}
	if (self_pk != NULL) {
		ps.cfg->has_self = true;
		memcpy(ps.cfg->self_pk, self_pk, AG_PK_LEN);
	}
	r = ini_parse_stream(reader, &ps, handler, &ps);
	check_pending(&ps);
	if (r != 0 && ps.nerrors == 0) /* inih saw something we did not: say so */
		add_msg(&ps, r > 0 ? r : 0, "cannot parse this line");
	finish(&ps);
	report(&ps);
	for (size_t i = 0; i < ps.nmsgs; i++)
		free(ps.msgs[i].text);
	free(ps.msgs);
	free(ps.peers);
	if (nerrors != NULL)
		*nerrors = ps.nerrors;
	if (ps.nerrors > 0) {
		config_free(ps.cfg);
		return NULL;
	}
	return ps.cfg;
}

struct config *config_parse(const char *text, size_t len, const char *file, const uint8_t *self_pk,
                            int *nerrors)
{
	return parse_text(text, len, file, self_pk, nerrors, NULL, 0);
}

/* A failure to read the file: logged, or put in first. */
__attribute__((format(printf, 3, 4))) static void load_fail(char *first, size_t firstlen,
                                                            const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (first)
		snprintf(first, firstlen, "%s", line);
	else
		log_error("%s", line);
}

static struct config *load_file(const char *path, const uint8_t *self_pk, int *nerrors, char *first,
                                size_t firstlen)
{
	struct config *cfg = NULL;
	char *text = NULL;
	struct stat st;
	size_t got = 0;
	int fd;

	if (nerrors != NULL)
		*nerrors = 1; /* until parsed */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		load_fail(first, firstlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		load_fail(first, firstlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		load_fail(first, firstlen, "%s: not a regular file of at most %d bytes", path,
		          CONFIG_FILE_MAX);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		load_fail(first, firstlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			load_fail(first, firstlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break; /* shrank under us: parse what is there */
		got += (size_t)r;
	}
	cfg = parse_text(text, got, path, self_pk, nerrors, first, firstlen);
out:
	free(text);
	close(fd);
	return cfg;
}

struct config *config_load(const char *path, const uint8_t *self_pk, int *nerrors)
{
	return load_file(path, self_pk, nerrors, NULL, 0);
}

struct config *config_load_why(const char *path, const uint8_t *self_pk, char *why, size_t whylen)
{
	return load_file(path, self_pk, NULL, why, whylen);
}

struct config *config_new(const char *name, const char *listen)
{
	struct config *cfg = config_blank();
	int r;

	if (cfg == NULL) {
		log_error("out of memory");
		return NULL;
	}
	if (confval_name(name) != 0) {
		log_error("bad Name '%s': %s", name, config_strerror(CONFIG_ENAME));
		goto fail;
	}
	snprintf(cfg->name, sizeof(cfg->name), "%s", name);
	if (listen != NULL && (r = parse_listen(listen, &cfg->listen)) != 0) {
		log_error("bad Listen '%s': %s", listen, config_strerror(r));
		goto fail;
	}
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->peers);
	free(cfg);
}

struct config *config_dup(const struct config *cfg)
{
	struct config *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	*c = *cfg;
	c->peers = NULL;
	if (cfg->npeers > 0) {
		if ((c->peers = reallocarray(NULL, cfg->npeers, sizeof(*c->peers))) == NULL) {
			free(c);
			return NULL;
		}
		memcpy(c->peers, cfg->peers, cfg->npeers * sizeof(*c->peers));
	}
	return c;
}

/* Writing */

char *config_format(const struct config *cfg)
{
	uint8_t def[32];
	char b64[AG_B64_LEN + 1], *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (f == NULL)
		return NULL;
	ag_network_default(def);
	fprintf(f, "[Node]\nName = %s\nListen = ", cfg->name);
	confval_format_listen(f, &cfg->listen);
	fputc('\n', f);
	if (memcmp(def, cfg->network, sizeof(def)) != 0) {
		ag_key_to_b64(b64, cfg->network);
		fprintf(f, "Network = %s\n", b64);
	}
	if (cfg->hops != CONFIG_HOPS_DEFAULT)
		fprintf(f, "Hops = %d\n", cfg->hops);
	if (cfg->log_level != LOG_LEVEL_INFO)
		fprintf(f, "LogLevel = %s\n", log_level_name(cfg->log_level));
	if (cfg->max_introduced != CONFIG_INTRODUCED_DEFAULT)
		fprintf(f, "MaxIntroduced = %zu\n", cfg->max_introduced);
	if (cfg->silent_after != CONFIG_SILENT_DEFAULT) {
		fputs("SilentAfter = ", f);
		format_duration(f, cfg->silent_after);
		fputc('\n', f);
	}
	if (cfg->quota != CONFIG_QUOTA_DEFAULT) {
		fputs("Quota = ", f);
		format_size(f, cfg->quota);
		fputc('\n', f);
	}
	if (cfg->quota_entries != CONFIG_ENTRIES_DEFAULT)
		fprintf(f, "QuotaEntries = %llu\n", (unsigned long long)cfg->quota_entries);
	if (cfg->max_disk != CONFIG_MAXDISK_DEFAULT) {
		fputs("MaxDisk = ", f);
		format_size(f, cfg->max_disk);
		fputc('\n', f);
	}
	if (cfg->verify_every)
		fputs("VerifyEvery = yes\n", f);
	if (cfg->leave_grace != CONFIG_GRACE_DEFAULT) {
		fputs("LeaveGrace = ", f);
		format_duration(f, cfg->leave_grace);
		fputc('\n', f);
	}
	for (size_t i = 0; i < cfg->npeers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		ag_key_to_b64(b64, p->pk);
		fprintf(f, "\n[Peer]\nName = %s\nPublicKey = %s\n", p->name, b64);
		if (p->port != 0) {
			fputs("Endpoint = ", f);
			confval_format_hostport(f, p->host, p->port);
			fputc('\n', f);
		}
		if (p->role != CONFIG_PARTNER)
			fprintf(f, "Role = %s\n", config_role_name(p->role));
	}
	if (ferror(f) | fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

bool config_equal(const struct config *a, const struct config *b)
{
	char *x = config_format(a), *y = config_format(b);
	bool eq = x != NULL && y != NULL && strcmp(x, y) == 0;

	free(x);
	free(y);
	return eq;
}

int config_write(const char *path, const struct config *cfg)
{
	char *text;
	mode_t mode = 0640;
	struct stat st;
	int ret;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	else if (errno != ENOENT) {
		log_warn("%s", path);
		return -1;
	}
	if (!(text = config_format(cfg))) {
		log_error("%s: out of memory", path);
		return -1;
	}
	/* A crash leaves the old file or the new one, and the rename is synced. */
	if ((ret = fileio_replace(path, text, strlen(text), mode)) != 0)
		log_warn("%s", path);
	free(text);
	return ret;
}

int config_check(const char *path, const uint8_t *self_pk, FILE *out)
{
	struct config *cfg = config_load(path, self_pk, NULL);
	char *text;
	int ret = -1;

	if (cfg == NULL)
		return -1;
	if ((text = config_format(cfg)) == NULL)
		log_error("%s: out of memory", path);
	else if (fputs(text, out) >= 0 && fflush(out) == 0)
		ret = 0;
	else
		log_warn("writing the config");
	free(text);
	config_free(cfg);
	return ret;
}

/* Peers */

const struct config_peer *config_peer_find(const struct config *cfg,
                                           const uint8_t pk[static AG_PK_LEN])
{
	for (size_t i = 0; i < cfg->npeers; i++) {
		if (memcmp(cfg->peers[i].pk, pk, AG_PK_LEN) == 0)
			return &cfg->peers[i];
	}
	return NULL;
}

const struct config_peer *config_peer_find_name(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->npeers; i++) {
		if (strcmp(cfg->peers[i].name, name) == 0)
			return &cfg->peers[i];
	}
	return NULL;
}

int config_peer_add(struct config *cfg, const uint8_t pk[static AG_PK_LEN], const char *name,
                    const char *endpoint)
{
	struct config_peer p = {0}, *peers;
	int r;

	if (cfg->npeers >= CONFIG_PEERS_MAX)
		return CONFIG_ETOOMANY;
	if (cfg->has_self && memcmp(pk, cfg->self_pk, AG_PK_LEN) == 0)
		return CONFIG_ESELF;
	if (config_peer_find(cfg, pk) != NULL)
		return CONFIG_EEXIST;
	if (confval_name(name) != 0)
		return CONFIG_ENAME;
	if (strcmp(name, cfg->name) == 0 || config_peer_find_name(cfg, name) != NULL)
		return CONFIG_ENAMEUSED;
	if ((r = parse_endpoint(endpoint, &p)) != 0)
		return r;
	snprintf(p.name, sizeof(p.name), "%s", name);
	memcpy(p.pk, pk, AG_PK_LEN);
	if ((peers = reallocarray(cfg->peers, cfg->npeers + 1, sizeof(*peers))) == NULL)
		return CONFIG_ENOMEM;
	cfg->peers = peers;
	cfg->peers[cfg->npeers++] = p;
	return 0;
}

int config_peer_remove(struct config *cfg, const uint8_t pk[static AG_PK_LEN])
{
	const struct config_peer *p = config_peer_find(cfg, pk);
	size_t i;

	if (p == NULL)
		return CONFIG_ENOENT;
	i = (size_t)(p - cfg->peers);
	memmove(&cfg->peers[i], &cfg->peers[i + 1], (cfg->npeers - i - 1) * sizeof(*cfg->peers));
	cfg->npeers--;
	return 0;
}
