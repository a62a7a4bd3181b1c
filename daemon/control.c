/*
 * control.c: the control socket server. Each client reads one request (a
 * 12-byte header, then a body of at most AG_CTL_REQ_MAX bytes, allocated
 * only once the header has passed), is answered, and only then read on:
 * a client that never reads its responses holds one response, not many,
 * and all of them together at most CONTROL_PENDING_MAX bytes.
 * Handlers are short, synchronous calls into node.h and store.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "backup.h"
#include "cert.h"
#include "control.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "entry.h"
#include "health.h"
#include "index.h"
#include "key.h"
#include "lineage.h"
#include "log.h"
#include "node.h"
#include "status.h"
#include "stem.h"
#include "store.h"

#define CONTROL_READ_BUF   65536
#define CONTROL_RESP_BYTES (32u << 20) /* stop adding records past this (PROTOCOL.md) */
#define CONTROL_LOG_BYTES  (16u << 20) /* raw entries per LOG response: base64 and body follow */
#define CONTROL_LOG_COUNT  1000

struct client {
	struct control *ctl;
	struct client *prev, *next;
	uv_pipe_t pipe;
	uv_timer_t timer;
	int handles; /* open; the client is freed when the last one closes */
	int closing, reading, writing, close_after_write;
	int later; /* its response comes later (backup): kept until it is given */
	uint8_t hdr[AG_CTL_HDR_LEN];
	size_t hdr_have;
	struct ag_ctl_hdr h;
	uint8_t *body; /* h.len bytes, allocated once the header passed */
	size_t body_have;
	uint8_t rbuf[CONTROL_READ_BUF];
	size_t rpos, rlen; /* bytes read and not yet consumed */
	uv_write_t wreq;
	msgpack_sbuffer out; /* the response being written */
	size_t pending;      /* its bytes counted in ctl->pending while it is written */
};

struct control {
	uv_loop_t *loop;
	struct node *node;
	uv_pipe_t server;
	int server_open, closing, bound;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct client *clients;
	unsigned nclients;
	struct client *current; /* whose request a handler is running */
	size_t pending;         /* bytes of responses being written (CONTROL_PENDING_MAX) */
	uint64_t busy_logged;   /* when a response was last refused for it, in loop ms */
};

/*
 * A handler packs the whole response map ("ok" first), or returns an AG_CTL_E* status with err,
 * or CONTROL_LATER after later_take: its response is given by later_answer.
 */
#define CONTROL_LATER (-1)
typedef int control_handler(struct control *, const struct ag_ctl_req *, msgpack_packer *,
                            char *err, size_t errlen);

static void client_consume(struct client *c);

/* ---- the socket ---- */

static void control_maybe_free(struct control *ctl)
{
	if (ctl->closing && !ctl->server_open && ctl->nclients == 0)
		free(ctl);
}

static void on_server_close(uv_handle_t *h)
{
	struct control *ctl = h->data;

	ctl->server_open = 0;
	control_maybe_free(ctl);
}

/* May we bind path? Not while a daemon answers on it; a stale socket is removed. */
static int control_claim(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc, err;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("%s: exists and is not a socket; agorad will not remove it", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		log_warn("socket");
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	err = errno;
	close(fd);
	/* EAGAIN: a live daemon whose backlog is full. */
	if (rc == 0 || err == EAGAIN) {
		log_error(
		    "%s: another agorad answers on this socket; is this node already running?",
		    path);
		return -1;
	}
	if (err != ECONNREFUSED) {
		errno = err;
		log_warn("%s: cannot tell whether a daemon answers on it", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("%s: cannot remove the stale socket", path);
		return -1;
	}
	log_info("%s: replaced a stale socket", path);
	return 0;
}

static void on_connection(uv_stream_t *server, int status);

/* Binds under umask 0117 so the socket is never, even briefly, open to others. */
static int control_bind(struct control *ctl)
{
	struct stat st;
	mode_t old;
	int rc;

	old = umask(0117);
	rc = uv_pipe_bind(&ctl->server, ctl->path);
	umask(old);
	if (rc != 0) {
		log_error("%s: cannot bind: %s", ctl->path, uv_strerror(rc));
		return -1;
	}
	ctl->bound = 1;
	if (chmod(ctl->path, 0660) != 0 || stat(ctl->path, &st) != 0) {
		log_warn("%s", ctl->path);
		return -1;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if ((rc = uv_listen((uv_stream_t *)&ctl->server, 128, on_connection)) != 0) {
		log_error("%s: cannot listen: %s", ctl->path, uv_strerror(rc));
		return -1;
	}
	return 0;
}

struct control *control_new(uv_loop_t *loop, struct node *node, const char *path)
{
	struct control *ctl;

	if (strlen(path) >= sizeof(ctl->path)) {
		log_error("%s: too long for a Unix socket's path (at most %zu bytes)", path,
		          sizeof(ctl->path) - 1);
		return NULL;
	}
	if (control_claim(path) != 0)
		return NULL;
	if (!(ctl = calloc(1, sizeof(*ctl)))) {
		log_error("out of memory");
		return NULL;
	}
	ctl->loop = loop;
	ctl->node = node;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	ctl->server_open = 1;
	if (control_bind(ctl) != 0) {
		control_free(ctl);
		return NULL;
	}
	log_info("control socket %s", path);
	return ctl;
}

static void client_close(struct client *c);

/* Removes the socket if it is still the one we bound. */
static void control_unlink(struct control *ctl)
{
	struct stat st;

	if (ctl->bound && lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino && unlink(ctl->path) != 0)
		log_warn("%s", ctl->path);
}

void control_free(struct control *ctl)
{
	if (!ctl || ctl->closing)
		return;
	ctl->closing = 1;
	control_unlink(ctl);
	for (struct client *c = ctl->clients; c; c = c->next)
		client_close(c);
	uv_close((uv_handle_t *)&ctl->server, on_server_close);
}

/* ---- one client ---- */

/* Once its handles are closed and no response is owed to it (later). */
static void client_free(struct client *c)
{
	struct control *ctl = c->ctl;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nclients--;
	ctl->pending -= c->pending;
	free(c->body);
	msgpack_sbuffer_destroy(&c->out);
	free(c);
	control_maybe_free(ctl);
}

static void on_client_close(uv_handle_t *h)
{
	struct client *c = h->data;

	if (--c->handles == 0 && !c->later)
		client_free(c);
}

static void client_close(struct client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, on_client_close);
	uv_close((uv_handle_t *)&c->timer, on_client_close);
}

static void on_idle(uv_timer_t *t)
{
	struct client *c = t->data;

	log_debug("control: a client idle for %d s closed", CONTROL_IDLE_MS / 1000);
	client_close(c);
}

static void client_touch(struct client *c)
{
	uv_timer_start(&c->timer, on_idle, CONTROL_IDLE_MS, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)c->rbuf, sizeof(c->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = s->data;

	(void)buf;
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("control: read: %s", uv_strerror((int)nread));
		client_close(c);
		return;
	}
	c->rpos = 0;
	c->rlen = (size_t)nread;
	client_touch(c);
	client_consume(c);
}

static void client_read(struct client *c, bool on)
{
	if (c->closing || c->reading == on)
		return;
	c->reading = on;
	if (on)
		uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	else
		uv_read_stop((uv_stream_t *)&c->pipe);
}

static void on_write(uv_write_t *w, int status)
{
	struct client *c = w->data;

	msgpack_sbuffer_destroy(&c->out);
	msgpack_sbuffer_init(&c->out);
	c->ctl->pending -= c->pending;
	c->pending = 0;
	c->writing = 0;
	if (c->closing)
		return;
	if (status < 0 || c->close_after_write) {
		client_close(c);
		return;
	}
	client_touch(c);
	client_consume(c);
}

/* Sends c->out, whose first AG_CTL_HDR_LEN bytes were reserved for the header. */
static void client_send(struct client *c, unsigned type)
{
	struct ag_ctl_hdr h = {AG_CTL_VERSION, (uint16_t)type, c->h.id,
	                       (uint32_t)(c->out.size - AG_CTL_HDR_LEN)};
	uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.size);
	int rc;

	ag_ctl_hdr_encode((uint8_t *)c->out.data, &h);
	c->pending = c->out.size;
	c->ctl->pending += c->pending;
	c->writing = 1;
	c->wreq.data = c;
	if ((rc = uv_write(&c->wreq, (uv_stream_t *)&c->pipe, &b, 1, on_write)) != 0) {
		log_debug("control: write: %s", uv_strerror(rc));
		c->ctl->pending -= c->pending;
		c->pending = 0;
		c->writing = 0;
		client_close(c);
	}
}

static void client_reset_out(struct client *c, msgpack_packer *pk)
{
	static const uint8_t hdr[AG_CTL_HDR_LEN];

	msgpack_sbuffer_clear(&c->out);
	msgpack_packer_init(pk, &c->out, msgpack_sbuffer_write);
	msgpack_sbuffer_write(&c->out, (const char *)hdr, sizeof(hdr));
}

static void client_error(struct client *c, int status, const char *err)
{
	struct ag_ctl_error e = {.status = (uint64_t)status};
	msgpack_packer pk;

	snprintf(e.error, sizeof(e.error), "%s", err);
	/* What a refused response held goes now, not when the error is read. */
	msgpack_sbuffer_destroy(&c->out);
	msgpack_sbuffer_init(&c->out);
	client_reset_out(c, &pk);
	(void)ag_ctl_resp_pack(&pk, &ag_ctl_error_shape, &e, false);
	client_send(c, AG_CTL_ERROR);
}

/* A header that failed: answered, and the connection closed, since its framing is lost. */
static void client_bad_header(struct client *c, int rc)
{
	char err[160];

	if (rc == AG_EVERSION)
		snprintf(err, sizeof(err),
		         "agora and agorad versions differ: agora speaks control protocol %u, "
		         "agorad %u",
		         c->h.version, AG_CTL_VERSION);
	else
		snprintf(err, sizeof(err), "request of %u bytes, over the limit of %u", c->h.len,
		         AG_CTL_REQ_MAX);
	c->close_after_write = 1;
	client_error(c, rc == AG_EVERSION ? AG_CTL_EVERSION : AG_CTL_EREFUSED, err);
}

static void client_request(struct client *c);

/* Takes bytes of one request from in; returns how many. Dispatches it once it is whole. */
static size_t client_feed(struct client *c, const uint8_t *in, size_t n)
{
	size_t used = 0, take;
	int rc;

	if (c->hdr_have < AG_CTL_HDR_LEN) {
		take = AG_CTL_HDR_LEN - c->hdr_have < n ? AG_CTL_HDR_LEN - c->hdr_have : n;
		memcpy(c->hdr + c->hdr_have, in, take);
		c->hdr_have += take;
		used = take;
		if (c->hdr_have < AG_CTL_HDR_LEN)
			return used;
		/*
		 * Past a length over the limit the framing is lost: answer and close. An
		 * unknown type, or another version (whose header has the same layout), is
		 * read to its end first and answered then, so that a client still
		 * writing its body is not cut off before it can read why.
		 */
		rc = ag_ctl_hdr_decode(&c->h, c->hdr, false);
		if (rc == AG_ETOOBIG || (rc == AG_EVERSION && c->h.len > AG_CTL_REQ_MAX)) {
			client_bad_header(c, rc);
			return n;
		}
		if (!(c->body = malloc(c->h.len ? c->h.len : 1))) {
			log_error("out of memory");
			client_close(c);
			return n;
		}
	}
	take = c->h.len - c->body_have < n - used ? c->h.len - c->body_have : n - used;
	memcpy(c->body + c->body_have, in + used, take);
	c->body_have += take;
	if (c->body_have == c->h.len)
		client_request(c);
	return used + take;
}

/* Handles what has been read, a request at a time, while no response is being written. */
static void client_consume(struct client *c)
{
	while (c->rpos < c->rlen && !c->writing && !c->closing)
		c->rpos += client_feed(c, c->rbuf + c->rpos, c->rlen - c->rpos);
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	client_read(c, !c->writing && c->rlen == 0);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct client *c;
	int rc;

	if (status < 0) {
		log_warnx("control: accept: %s", uv_strerror(status));
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		log_error("out of memory");
		return;
	}
	c->ctl = ctl;
	msgpack_sbuffer_init(&c->out);
	uv_pipe_init(ctl->loop, &c->pipe, 0);
	uv_timer_init(ctl->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->handles = 2;
	c->next = ctl->clients;
	if (ctl->clients)
		ctl->clients->prev = c;
	ctl->clients = c;
	ctl->nclients++;
	if ((rc = uv_accept(server, (uv_stream_t *)&c->pipe)) != 0) {
		log_warnx("control: accept: %s", uv_strerror(rc));
		client_close(c);
		return;
	}
	client_touch(c);
	if (ctl->nclients > CONTROL_CLIENTS_MAX) {
		c->close_after_write = 1;
		client_error(c, AG_CTL_EBUSY,
		             "agorad is busy: too many clients at once; try again");
		return;
	}
	client_read(c, true);
}

/* ---- what a response says ---- */

/* The base64 of b, allocated; NULL when out of memory. */
static char *base64_new(const uint8_t *b, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);

	if (s)
		sodium_bin2base64(s, len, b, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/*
 * A version's state: retracted by its header, live when its body is held,
 * purged when its author erased it, missing when it has not arrived.
 */
static const char *record_state(const struct ag_entry *e)
{
	if (!e->h.has_body)
		return "retracted";
	if (e->purged)
		return "purged";
	return e->body ? "live" : "missing";
}

/* The log's own fields of a record: prev, raw (the header) and body_raw. 0, or -1 out of memory. */
static int record_fill_log(const struct ag_entry *e, struct ag_ctl_record *r)
{
	if (e->h.has_prev)
		sodium_bin2hex(r->prev, sizeof(r->prev), e->h.prev, sizeof(e->h.prev));
	if (e->body && !(r->body_raw = base64_new(e->body, e->body_len)))
		return -1;
	return (r->raw = base64_new(e->h.raw, e->h.raw_len)) ? 0 : -1;
}

/*
 * An entry as a record of a response (PROTOCOL.md), with the log's fields
 * for a log entry; its body is copied, so ag_ctl_resp_clear frees what it
 * holds. 0, or -1 out of memory.
 */
static int record_fill(struct control *ctl, const struct ag_entry *e, bool log_entry,
                       struct ag_ctl_record *r)
{
	uint8_t hash[AG_HASH_LEN];
	const char *name = node_city_name(ctl->node, e->h.author);

	memset(r, 0, sizeof(*r));
	ag_key_to_b64(r->author, e->h.author);
	ag_entry_hash(e, hash);
	sodium_bin2hex(r->hash, sizeof(r->hash), hash, sizeof(hash));
	memcpy(r->id, e->h.id, e->h.id_len);
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	snprintf(r->state, sizeof(r->state), "%s", record_state(e));
	snprintf(r->type, sizeof(r->type), "%s", e->h.type);
	r->seq = e->h.seq;
	r->timestamp = e->h.timestamp;
	if (e->body && !(r->body.p = malloc(e->body_len)))
		return -1;
	if (e->body)
		memcpy(r->body.p, e->body, r->body.len = e->body_len);
	return log_entry ? record_fill_log(e, r) : 0;
}

/*
 * Entries copied out of a read transaction (whose callbacks may not call the
 * store, as naming an author does), to be packed once it is over.
 */
struct collected {
	size_t off, hlen, blen; /* the header at off in buf, then its body's blen bytes */
	bool body;              /* held: a retraction has none, nor a body not held */
	bool purged;            /* not held: its author purged it */
};

struct collect {
	uint8_t *buf;
	size_t len, cap;
	struct collected *offs;
	size_t n, noffs, max_count, max_bytes; /* noffs: room in offs */
	bool more;                             /* stopped at a limit with matches left */
	bool nomem;
};

/* Room for one more entry of size bytes, both arrays grown by doubling: a search
 * of 20,000 hits copied its buffer once per hit where realloc moves it (ASan's). */
static int collect_room(struct collect *cl, size_t size)
{
	size_t cap = cl->cap ? cl->cap : 65536, noffs = cl->noffs ? cl->noffs : 64;
	void *p;

	while (cap < cl->len + size)
		cap *= 2;
	if (cap != cl->cap || !cl->buf) {
		if (!(p = realloc(cl->buf, cap)))
			return -1;
		cl->buf = p;
		cl->cap = cap;
	}
	if (cl->n == cl->noffs || !cl->offs) {
		if (cl->n == noffs)
			noffs *= 2;
		if (!(p = realloc(cl->offs, noffs * sizeof(*cl->offs))))
			return -1;
		cl->offs = p;
		cl->noffs = noffs;
	}
	return 0;
}

static int collect_entry(const struct ag_entry *e, void *arg)
{
	struct collect *cl = arg;
	size_t size = e->h.raw_len + e->body_len;

	if ((cl->max_count && cl->n == cl->max_count) ||
	    (cl->n > 0 && cl->len + size > cl->max_bytes)) {
		cl->more = true;
		return 1;
	}
	if (collect_room(cl, size) != 0) {
		cl->nomem = true;
		return 1;
	}
	memcpy(cl->buf + cl->len, e->h.raw, e->h.raw_len);
	if (e->body)
		memcpy(cl->buf + cl->len + e->h.raw_len, e->body, e->body_len);
	cl->offs[cl->n++] =
	    (struct collected){cl->len, e->h.raw_len, e->body_len, e->body != NULL, e->purged};
	cl->len += size;
	return 0;
}

static void collect_clear(struct collect *cl)
{
	free(cl->buf);
	free(cl->offs);
}

/* Collected entry i, decoded: its body was checked when it was stored. */
static int collected_entry(const struct collect *cl, size_t i, struct ag_entry *e)
{
	const struct collected *c = &cl->offs[i];

	if (ag_entry_open(e, cl->buf + c->off, c->hlen, NULL, 0, NULL, NULL) != 0)
		return -1;
	e->purged = c->purged;
	if (c->body) {
		e->body = cl->buf + c->off + c->hlen;
		e->body_len = c->blen;
	}
	return 0;
}

/*
 * The collected entries as records of shape s (its tag says whether they
 * are log entries), into *recs (allocated) and *n; they came from the store,
 * so they decode. 0, or -1 out of memory, *recs then still to be cleared.
 */
static int records_fill(struct control *ctl, const struct collect *cl, const struct ag_ctl_shape *s,
                        struct ag_ctl_record **recs, size_t *n)
{
	struct ag_entry e;

	*n = 0;
	if (!(*recs = calloc(cl->n ? cl->n : 1, sizeof(**recs))))
		return -1;
	for (size_t i = 0; i < cl->n; i++) {
		if (collected_entry(cl, i, &e) != 0)
			return -1;
		(*n)++;
		if (record_fill(ctl, &e, s->tag & AG_CTL_TAG_LOG, &(*recs)[i]) != 0)
			return -1;
	}
	return 0;
}

/* ---- handlers ---- */

static int node_status(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case NODE_ENOTFOUND:
		return AG_CTL_ENOTFOUND;
	case NODE_EREFUSED:
	case NODE_EWAIT:
		return AG_CTL_EREFUSED;
	default:
		return AG_CTL_EFAILED;
	}
}

/* The city a request is about: its "city", or this node. */
static int req_city(struct control *ctl, const struct ag_ctl_req *r, uint8_t pk[static AG_PK_LEN],
                    char *err, size_t errlen)
{
	char one[AG_B64_LEN + 1], two[AG_B64_LEN + 1];
	uint8_t other[AG_PK_LEN];
	const char *name;
	int rc;

	if (!(r->fields & AG_CTL_F_CITY)) {
		node_id(ctl->node, pk, &name);
		return 0;
	}
	if ((rc = node_resolve_city(ctl->node, r->city, pk, other)) == 0)
		return 0;
	if (rc == NODE_EREFUSED) {
		ag_key_to_b64(one, pk);
		ag_key_to_b64(two, other);
		snprintf(
		    err, errlen,
		    "the name %s is ambiguous: member records give it to %s and %s (at least); "
		    "give the city's key, or add it as a peer with that name",
		    r->city, one, two);
		return AG_CTL_EREFUSED;
	}
	snprintf(err, errlen, "no city known as %s (a peer's name or key, or a member's name)",
	         r->city);
	return AG_CTL_ENOTFOUND;
}

static int out_of_memory(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return AG_CTL_EFAILED;
}

/* Packs a typed response, "ok" first. */
static int pack_resp(msgpack_packer *pk, const struct ag_ctl_shape *s, const void *v, char *err,
                     size_t errlen)
{
	return ag_ctl_resp_pack(pk, s, v, true) == 0 ? 0 : out_of_memory(err, errlen);
}

/* Packs v, filled with status filled (0, or -1 out of memory), and frees what it holds. */
static int pack_clear(msgpack_packer *pk, const struct ag_ctl_shape *s, void *v, int filled,
                      char *err, size_t errlen)
{
	int rc = filled == 0 ? pack_resp(pk, s, v, err, errlen) : out_of_memory(err, errlen);

	ag_ctl_resp_clear(s, v);
	return rc;
}

static int handle_id(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk, char *err,
                     size_t errlen)
{
	struct ag_ctl_id id = {0};
	uint8_t key[AG_PK_LEN];
	const char *name;

	(void)r;
	node_id(ctl->node, key, &name);
	ag_key_to_b64(id.key, key);
	snprintf(id.name, sizeof(id.name), "%s", name);
	ag_key_to_b64(id.network, node_network(ctl->node));
	return pack_resp(pk, &ag_ctl_id_shape, &id, err, errlen);
}

static int handle_status(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                         char *err, size_t errlen)
{
	struct ag_ctl_status_resp st;

	(void)r;
	if (status_fill(ctl->node, &st.status) != 0)
		return out_of_memory(err, errlen);
	return pack_clear(pk, &ag_ctl_status_resp_shape, &st, 0, err, errlen);
}

static int handle_peer_add(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                           char *err, size_t errlen)
{
	const char *endpoint = r->fields & AG_CTL_F_ENDPOINT ? r->endpoint : NULL;
	const char *role = r->fields & AG_CTL_F_ROLE ? r->role : NULL;
	int rc = node_peer_add(ctl->node, r->pk, r->name, endpoint, role, err, errlen);
	struct ag_ctl_city city = {0};

	if (rc != 0)
		return node_status(rc);
	snprintf(city.key, sizeof(city.key), "%s", r->key);
	snprintf(city.name, sizeof(city.name), "%s", r->name);
	return pack_resp(pk, &ag_ctl_city_shape, &city, err, errlen);
}

static int handle_peer_remove(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                              char *err, size_t errlen)
{
	int rc = node_peer_remove(ctl->node, r->pk, err, errlen);
	struct ag_ctl_city city = {0};

	if (rc != 0)
		return node_status(rc);
	snprintf(city.key, sizeof(city.key), "%s", r->key);
	return pack_resp(pk, &ag_ctl_city_key_shape, &city, err, errlen);
}

static int handle_peer_list(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                            char *err, size_t errlen)
{
	struct ag_ctl_peers peers;

	(void)r;
	if (status_peers_fill(ctl->node, &peers) != 0)
		return out_of_memory(err, errlen);
	return pack_clear(pk, &ag_ctl_peers_shape, &peers, 0, err, errlen);
}

/* PUT and RETRACT: publish, and say what was written. */
static int publish(struct control *ctl, const struct ag_ctl_req *r, const uint8_t *body,
                   size_t body_len, msgpack_packer *pk, char *err, size_t errlen)
{
	uint8_t hash[AG_HASH_LEN], key[AG_PK_LEN];
	struct ag_ctl_published pub = {0};
	const char *name;
	int rc;

	if (strcmp(r->rtype, "identity") == 0) {
		snprintf(err, errlen,
		         "identity records are agorad's own: it writes them at agora init, agora "
		         "key rotate and agora recover");
		return AG_CTL_EREFUSED;
	}
	if (r->force)
		node_publish_force(ctl->node);
	rc = node_publish(ctl->node, r->rtype, r->id, r->id_len, body, body_len, &pub.seq, hash,
	                  err, errlen);
	if (rc != 0)
		return node_status(rc);
	node_id(ctl->node, key, &name);
	ag_key_to_b64(pub.author, key);
	sodium_bin2hex(pub.hash, sizeof(pub.hash), hash, sizeof(hash));
	memcpy(pub.id, r->id, r->id_len + 1);
	snprintf(pub.type, sizeof(pub.type), "%s", r->rtype);
	return pack_resp(pk, &ag_ctl_published_shape, &pub, err, errlen);
}

static int handle_put(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                      char *err, size_t errlen)
{
	return publish(ctl, r, r->body, r->body_len, pk, err, errlen);
}

/* Sets *live to whether the record exists and is not retracted. */
static int is_live(const struct ag_entry *e, void *arg)
{
	*(bool *)arg = e->body != NULL;
	return 0;
}

static int handle_retract(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                          char *err, size_t errlen)
{
	uint8_t key[AG_PK_LEN];
	const char *name;
	bool live = false;

	node_id(ctl->node, key, &name);
	if (store_get(node_store(ctl->node), r->rtype, key, r->id, r->id_len, is_live, &live) < 0) {
		snprintf(err, errlen, "the store cannot be read (see the daemon's log)");
		return AG_CTL_EFAILED;
	}
	if (!live) {
		snprintf(err, errlen, "this node has no %s %s to retract", r->rtype, r->id);
		return AG_CTL_ENOTFOUND;
	}
	return publish(ctl, r, NULL, 0, pk, err, errlen);
}

static int handle_get(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                      char *err, size_t errlen)
{
	struct collect cl = {.max_bytes = AG_HEADER_MAX + AG_BODY_MAX};
	struct ag_ctl_get get = {0};
	uint8_t city[AG_PK_LEN];
	struct ag_entry e;
	int rc;

	if ((rc = req_city(ctl, r, city, err, errlen)) != 0)
		return rc;
	rc = store_get(node_store(ctl->node), r->rtype, city, r->id, r->id_len, collect_entry, &cl);
	if (rc < 0 || cl.nomem) {
		snprintf(err, errlen, "the store cannot be read (see the daemon's log)");
		rc = AG_CTL_EFAILED;
	} else if (rc == 0 || collected_entry(&cl, 0, &e) != 0) {
		snprintf(err, errlen, "no %s %s", r->rtype, r->id);
		rc = AG_CTL_ENOTFOUND;
	} else if (!e.h.has_body) {
		snprintf(err, errlen, "%s %s was retracted (seq %llu)", r->rtype, r->id,
		         (unsigned long long)e.h.seq);
		rc = AG_CTL_ENOTFOUND;
	} else if (!e.body) {
		snprintf(err, errlen, "%s %s: this node does not hold the body of its seq %llu",
		         r->rtype, r->id, (unsigned long long)e.h.seq);
		rc = AG_CTL_ENOTFOUND;
	} else if (record_fill(ctl, &e, false, &get.record) != 0) {
		rc = out_of_memory(err, errlen);
	} else {
		rc = pack_resp(pk, &ag_ctl_get_shape, &get, err, errlen);
	}
	ag_ctl_resp_clear(&ag_ctl_get_shape, &get);
	collect_clear(&cl);
	return rc;
}

/* Counts the words of a search, so that a query over the index's limits is refused as input. */
static int count_word(const char *word, size_t len, void *arg)
{
	(void)word, (void)len;
	return ++*(size_t *)arg > INDEX_WORDS_MAX ? 1 : 0;
}

static int query_init(struct control *ctl, const struct ag_ctl_req *r, struct index_query *q,
                      uint8_t city[static AG_PK_LEN], char *err, size_t errlen)
{
	size_t words = 0;
	int rc;

	memset(q, 0, sizeof(*q));
	if (r->fields & AG_CTL_F_CITY) {
		if ((rc = req_city(ctl, r, city, err, errlen)) != 0)
			return rc;
		q->author = city;
	}
	q->type = r->fields & AG_CTL_F_TYPE ? r->rtype : NULL;
	q->topic = r->fields & AG_CTL_F_TOPIC ? r->topic : NULL;
	if (r->fields & AG_CTL_F_LANG) {
		if (ag_lang_of(r->lang, strlen(r->lang)) == AG_LANG_NONE) {
			snprintf(err, errlen, "unknown language \"%s\" (ar, en, es, fr or it)",
			         r->lang);
			return AG_CTL_EREFUSED;
		}
		q->lang = r->lang;
	}
	q->limit = r->limit ? r->limit + 1 : 0; /* one more, to tell whether there is more */
	if (!(r->fields & AG_CTL_F_TEXT))
		return 0;
	q->text = r->text;
	(void)ag_fold_words(r->text, strlen(r->text), count_word, &words);
	if (words > INDEX_WORDS_MAX)
		snprintf(err, errlen, "at most %d words in a search", INDEX_WORDS_MAX);
	else if (words == 0)
		snprintf(err, errlen,
		         "nothing to search for in \"%s\" (words of one letter are "
		         "skipped)",
		         r->text);
	return words == 0 || words > INDEX_WORDS_MAX ? AG_CTL_EREFUSED : 0;
}

/* A search's hit, kept only if its author is in the replicated set (DESIGN.md "Leaving"). */
/* A search's hits, kept only if their author is in the replicated set (DESIGN.md "Leaving"). */
struct in_set {
	struct node *node;
	struct collect cl;
	size_t skipped; /* hits of feeds out of the set */
};

static int collect_in_set(const struct ag_entry *e, void *arg)
{
	struct in_set *s = arg;

	if (node_in_set(s->node, e->h.author))
		return collect_entry(e, &s->cl);
	s->skipped++;
	return 0;
}

/*
 * The search, skipping feeds out of the set: while it skipped some and the
 * index stopped at its limit, it asks again with room for what it skipped
 * (rare: a feed out of the set is dropped after LeaveGrace). 0 or -1.
 */
static int search_in_set(struct store *st, struct index_query *q, struct in_set *s)
{
	const struct collect fresh = {.max_count = s->cl.max_count, .max_bytes = s->cl.max_bytes};
	ssize_t hits;

	for (;;) {
		s->skipped = 0;
		if ((hits = store_search(st, q, collect_in_set, s)) < 0 || s->cl.nomem)
			return -1;
		if (!q->limit || !s->skipped || s->cl.more || (size_t)hits < q->limit)
			return 0;
		q->limit += 2 * s->skipped;
		collect_clear(&s->cl);
		s->cl = fresh;
	}
}

/* LIST and SEARCH: records, newest first, and whether some were left out. */
static int handle_search(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                         char *err, size_t errlen)
{
	struct in_set s = {ctl->node, {.max_count = r->limit, .max_bytes = CONTROL_RESP_BYTES}, 0};
	struct collect *cl = &s.cl;
	struct ag_ctl_records resp = {0};
	uint8_t city[AG_PK_LEN];
	struct index_query q;
	int rc;

	if ((rc = query_init(ctl, r, &q, city, err, errlen)) != 0)
		return rc;
	if (search_in_set(node_store(ctl->node), &q, &s) != 0) {
		snprintf(err, errlen, "the search failed (see the daemon's log)");
		collect_clear(cl);
		return AG_CTL_EFAILED;
	}
	resp.more = cl->more;
	rc = records_fill(ctl, cl, &ag_ctl_record_shape, &resp.records, &resp.nrecords);
	collect_clear(cl);
	return pack_clear(pk, &ag_ctl_records_shape, &resp, rc, err, errlen);
}

static int handle_history(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                          char *err, size_t errlen)
{
	struct collect cl = {.max_bytes = CONTROL_RESP_BYTES};
	struct ag_ctl_history resp = {0};
	uint8_t city[AG_PK_LEN];
	ssize_t n;
	int rc;

	if ((rc = req_city(ctl, r, city, err, errlen)) != 0)
		return rc;
	n = store_history(node_store(ctl->node), r->rtype, city, r->id, r->id_len, collect_entry,
	                  &cl);
	if (n < 0 || cl.nomem || cl.n == 0) {
		if (n < 0 || cl.nomem)
			snprintf(err, errlen, "the store cannot be read (see the daemon's log)");
		else
			snprintf(err, errlen, "no %s %s", r->rtype, r->id);
		collect_clear(&cl);
		return n < 0 || cl.nomem ? AG_CTL_EFAILED : AG_CTL_ENOTFOUND;
	}
	rc = records_fill(ctl, &cl, &ag_ctl_version_shape, &resp.versions, &resp.nversions);
	collect_clear(&cl);
	return pack_clear(pk, &ag_ctl_history_shape, &resp, rc, err, errlen);
}

static int handle_log(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                      char *err, size_t errlen)
{
	size_t count = r->limit && r->limit < CONTROL_LOG_COUNT ? r->limit : CONTROL_LOG_COUNT;
	struct collect cl = {.max_bytes = CONTROL_LOG_BYTES};
	struct ag_ctl_log resp = {0};
	uint64_t from = r->since ? r->since : 1, head = 0, last;
	uint8_t city[AG_PK_LEN], hash[AG_HASH_LEN];
	int rc;

	if ((rc = req_city(ctl, r, city, err, errlen)) != 0)
		return rc;
	if (store_head(node_store(ctl->node), city, &head, hash) < 0 ||
	    (head >= from && store_feed(node_store(ctl->node), city, from, count, CONTROL_LOG_BYTES,
	                                collect_entry, &cl) < 0) ||
	    cl.nomem) {
		snprintf(err, errlen, "the store cannot be read (see the daemon's log)");
		collect_clear(&cl);
		return AG_CTL_EFAILED;
	}
	last = cl.n ? from + cl.n - 1 : 0;
	resp.next = cl.n && last < head ? last + 1 : 0;
	rc = records_fill(ctl, &cl, &ag_ctl_entry_shape, &resp.entries, &resp.nentries);
	collect_clear(&cl);
	return pack_clear(pk, &ag_ctl_log_shape, &resp, rc, err, errlen);
}

/* COMPACT: the store rewritten, so that no purged body's bytes are left in its files. */
static int handle_compact(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                          char *err, size_t errlen)
{
	(void)r;
	if (store_compact(node_store(ctl->node)) != 0) {
		snprintf(err, errlen, "the store could not be compacted (see the daemon's log)");
		return AG_CTL_EFAILED;
	}
	return pack_resp(pk, &ag_ctl_done_shape, NULL, err, errlen);
}

/* KEY_ROTATE: the node moves to a new key; the old one's feed ends with its successor. */
static int handle_key_rotate(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                             char *err, size_t errlen)
{
	struct ag_ctl_succession out = {0};
	uint8_t new_pk[AG_PK_LEN], old_pk[AG_PK_LEN];
	int rc;

	(void)r;
	if ((rc = node_key_rotate(ctl->node, new_pk, old_pk, err, errlen)) != 0)
		return node_status(rc);
	ag_key_to_b64(out.key, new_pk);
	ag_key_to_b64(out.old, old_pk);
	return pack_resp(pk, &ag_ctl_succession_shape, &out, err, errlen);
}

/* RECOVER_BEGIN: the new key, and what the certificate the CLI signs must name. */
static int handle_recover_begin(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                                char *err, size_t errlen)
{
	struct ag_ctl_succession out = {0};
	struct node_recovery rec;
	int rc;

	rc = node_recover_begin(ctl->node, r->fields & AG_CTL_F_KEY ? r->pk : NULL, &rec, err,
	                        errlen);
	if (rc != 0)
		return node_status(rc);
	ag_key_to_b64(out.key, rec.new_pk);
	ag_key_to_b64(out.old, rec.old_pk);
	ag_key_to_b64(out.network, rec.network);
	ag_key_to_b64(out.recovery, rec.recovery);
	out.seq = rec.seq;
	if (rec.seq > 0)
		sodium_bin2hex(out.hash, sizeof(out.hash), rec.hash, sizeof(rec.hash));
	return pack_resp(pk, &ag_ctl_succession_shape, &out, err, errlen);
}

/* The certificate of a RECOVER or CERT_IMPORT, base64 in text, into raw. */
static int cert_text(const struct ag_ctl_req *r, uint8_t raw[static AG_CERT_MAX], size_t *len,
                     char *err, size_t errlen)
{
	if (sodium_base642bin(raw, AG_CERT_MAX, r->text, strlen(r->text), NULL, len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) == 0)
		return 0;
	snprintf(err, errlen, "text: not the base64 of a succession certificate");
	return AG_CTL_EREFUSED;
}

/* RECOVER and CERT_IMPORT answer what the certificate says. */
static int pack_cert(msgpack_packer *pk, const struct ag_cert *c, char *err, size_t errlen)
{
	struct ag_ctl_succession out = {0};

	ag_key_to_b64(out.key, c->new_key);
	ag_key_to_b64(out.old, c->old_key);
	out.seq = c->last_seq;
	if (c->last_seq > 0)
		sodium_bin2hex(out.hash, sizeof(out.hash), c->last_hash, sizeof(c->last_hash));
	return pack_resp(pk, &ag_ctl_succession_shape, &out, err, errlen);
}

/* RECOVER (this node's own certificate) and CERT_IMPORT (anyone's). */
static int handle_cert(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                       char *err, size_t errlen)
{
	uint8_t raw[AG_CERT_MAX];
	struct ag_cert c;
	size_t len;
	int rc;

	if ((rc = cert_text(r, raw, &len, err, errlen)) != 0)
		return rc;
	rc = r->type == AG_CTL_RECOVER ? node_recover(ctl->node, raw, len, &c, err, errlen)
	                               : node_cert_import(ctl->node, raw, len, &c, err, errlen);
	if (rc != 0)
		return node_status(rc);
	return pack_cert(pk, &c, err, errlen);
}

/* FORKS: every forked feed, with the headers kept as proof. */
static int handle_forks(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                        char *err, size_t errlen)
{
	struct ag_ctl_forks f;
	int rc;

	(void)r;
	if (status_forks_fill(ctl->node, &f) != 0) {
		snprintf(err, errlen, "the store cannot say (see the daemon's log)");
		return AG_CTL_EFAILED;
	}
	rc = pack_resp(pk, &ag_ctl_forks_shape, &f, err, errlen);
	ag_ctl_resp_clear(&ag_ctl_forks_shape, &f);
	return rc;
}

/* MEMBER_LOG: who introduced, changed, removed or rotated whom, about key or every key. */
static int handle_member_log(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                             char *err, size_t errlen)
{
	struct ag_ctl_events ev;
	int rc;

	if (lineage_fill(ctl->node, r->fields & AG_CTL_F_KEY ? r->pk : NULL, &ev) != 0) {
		snprintf(err, errlen, "the store cannot say (see the daemon's log)");
		return AG_CTL_EFAILED;
	}
	rc = pack_resp(pk, &ag_ctl_events_shape, &ev, err, errlen);
	ag_ctl_resp_clear(&ag_ctl_events_shape, &ev);
	return rc;
}

static int handle_resolve(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                          char *err, size_t errlen)
{
	struct ag_ctl_city out = {0};
	uint8_t city[AG_PK_LEN];
	const char *name;
	int rc;

	if ((rc = req_city(ctl, r, city, err, errlen)) != 0)
		return rc;
	ag_key_to_b64(out.key, city);
	if ((name = node_city_name(ctl->node, city)))
		snprintf(out.name, sizeof(out.name), "%s", name);
	return pack_resp(pk, &ag_ctl_city_shape, &out, err, errlen);
}

static int handle_check(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                        char *err, size_t errlen)
{
	struct ag_ctl_check c;
	int rc;

	(void)r;
	if (health_check(ctl->node, &c) != 0) {
		snprintf(err, errlen, "out of memory");
		return AG_CTL_EFAILED;
	}
	rc = pack_resp(pk, &ag_ctl_check_shape, &c, err, errlen);
	ag_ctl_resp_clear(&ag_ctl_check_shape, &c);
	return rc;
}

static int handle_metrics(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                          char *err, size_t errlen)
{
	struct ag_ctl_metrics m;
	int rc;

	(void)r;
	if (status_metrics_fill(ctl->node, &m) != 0) {
		snprintf(err, errlen, "the store cannot say (see the daemon's log)");
		return AG_CTL_EFAILED;
	}
	rc = pack_resp(pk, &ag_ctl_metrics_shape, &m, err, errlen);
	ag_ctl_resp_clear(&ag_ctl_metrics_shape, &m);
	return rc;
}

/* ---- responses given later ---- */

/* The client of the request being handled, kept (and not idle) until later_answer. */
static struct client *later_take(struct control *ctl)
{
	struct client *c = ctl->current;

	c->later = 1;
	uv_timer_stop(&c->timer);
	return c;
}

/* Answers c (status 0: v of shape s; else the error), or frees it if it went away meanwhile. */
static void later_answer(struct client *c, int status, const struct ag_ctl_shape *s, const void *v,
                         const char *err)
{
	msgpack_packer pk;

	c->later = 0;
	c->writing = 0;
	if (c->closing) {
		if (c->handles == 0)
			client_free(c);
		return;
	}
	client_reset_out(c, &pk);
	if (status == 0 && ag_ctl_resp_pack(&pk, s, v, true) == 0) {
		client_send(c, AG_CTL_RESPONSE | c->h.type);
	} else {
		log_debug("control: %s: %s", ag_ctl_type_name(c->h.type),
		          status ? err : "no memory");
		client_error(c, status ? status : AG_CTL_EFAILED, status ? err : "out of memory");
	}
}

static void on_backup_done(void *arg, int status, const struct ag_ctl_backup *b, const char *err)
{
	later_answer(arg, status, &ag_ctl_backup_shape, b, err);
}

/* BACKUP: the copy runs off the loop; the answer comes when it is over. */
static int handle_backup(struct control *ctl, const struct ag_ctl_req *r, msgpack_packer *pk,
                         char *err, size_t errlen)
{
	int rc;

	(void)pk;
	if ((rc = backup_start(ctl->loop, ctl->node, r->path, on_backup_done, ctl->current, err,
	                       errlen)) != 0)
		return rc;
	later_take(ctl);
	return CONTROL_LATER;
}

static control_handler *const handlers[AG_CTL_TYPE_END] = {
    [AG_CTL_ID] = handle_id,
    [AG_CTL_STATUS] = handle_status,
    [AG_CTL_PEER_ADD] = handle_peer_add,
    [AG_CTL_PEER_REMOVE] = handle_peer_remove,
    [AG_CTL_PEER_LIST] = handle_peer_list,
    [AG_CTL_PUT] = handle_put,
    [AG_CTL_GET] = handle_get,
    [AG_CTL_LIST] = handle_search,
    [AG_CTL_SEARCH] = handle_search,
    [AG_CTL_RETRACT] = handle_retract,
    [AG_CTL_HISTORY] = handle_history,
    [AG_CTL_LOG] = handle_log,
    [AG_CTL_RESOLVE] = handle_resolve,
    [AG_CTL_CHECK] = handle_check,
    [AG_CTL_METRICS] = handle_metrics,
    [AG_CTL_BACKUP] = handle_backup,
    [AG_CTL_COMPACT] = handle_compact,
    [AG_CTL_KEY_ROTATE] = handle_key_rotate,
    [AG_CTL_RECOVER_BEGIN] = handle_recover_begin,
    [AG_CTL_RECOVER] = handle_cert,
    [AG_CTL_CERT_IMPORT] = handle_cert,
    [AG_CTL_FORKS] = handle_forks,
    [AG_CTL_MEMBER_LOG] = handle_member_log,
};

/* Why a request's body was refused, in words a person can act on. */
static void bad_request(const struct ag_ctl_hdr *h, int rc, size_t where, const char *field,
                        char *err, size_t errlen)
{
	if (rc == AG_EMSG)
		snprintf(err, errlen, "unknown request type %u", h->type);
	else if (field)
		snprintf(err, errlen, "bad %s request: %s: %s", ag_ctl_type_name(h->type), field,
		         ag_strerror(rc));
	else
		snprintf(err, errlen, "bad %s request: %s at byte %zu", ag_ctl_type_name(h->type),
		         ag_strerror(rc), where);
}

/*
 * Whether c's response, built in c->out, may wait in memory until c reads
 * it: with it, the responses being written stay within CONTROL_PENDING_MAX
 * (a small one always may). If not, err says so, and why is logged once a
 * minute.
 */
static bool client_may_send(struct client *c, char *err, size_t errlen)
{
	struct control *ctl = c->ctl;
	uint64_t now = uv_now(ctl->loop);

	if (c->out.size <= CONTROL_PENDING_SMALL ||
	    ctl->pending + c->out.size <= CONTROL_PENDING_MAX)
		return true;
	snprintf(err, errlen,
	         "agorad is busy: %zu MiB of responses wait for their clients to read them; try "
	         "again",
	         ctl->pending >> 20);
	if (!ctl->busy_logged || now - ctl->busy_logged >= 60000) {
		log_warnx("control: a %s response of %zu MiB refused: %zu MiB of responses wait "
		          "for clients that do not read them (at most %u MiB)",
		          ag_ctl_type_name(c->h.type), c->out.size >> 20, ctl->pending >> 20,
		          CONTROL_PENDING_MAX >> 20);
		ctl->busy_logged = now ? now : 1;
	}
	return false;
}

static void client_request(struct client *c)
{
	struct ag_ctl_req r;
	msgpack_packer pk;
	const char *field = NULL;
	char err[512] = "";
	size_t where = 0;
	int rc;

	if (c->h.version != AG_CTL_VERSION) {
		free(c->body);
		c->body = NULL;
		client_bad_header(c, AG_EVERSION);
		return;
	}
	rc = ag_ctl_req_decode(&r, c->h.type, c->body, c->h.len, &where, &field);
	client_reset_out(c, &pk);
	if (rc != 0) {
		bad_request(&c->h, rc, where, field, err, sizeof(err));
		rc = AG_CTL_EREFUSED;
	} else {
		c->ctl->current = c;
		rc = handlers[r.type](c->ctl, &r, &pk, err, sizeof(err));
	}
	if (rc == 0 && c->out.size - AG_CTL_HDR_LEN > AG_CTL_RESP_MAX) {
		snprintf(err, sizeof(err), "the response would be over %u bytes", AG_CTL_RESP_MAX);
		rc = AG_CTL_EFAILED;
	}
	if (rc == 0 && !client_may_send(c, err, sizeof(err)))
		rc = AG_CTL_EBUSY;
	free(c->body);
	c->body = NULL;
	c->hdr_have = c->body_have = 0;
	if (rc == CONTROL_LATER) {
		c->writing = 1; /* nothing more is read from it until it is answered */
		return;
	}
	if (rc != 0) {
		log_debug("control: %s: %s",
		          ag_ctl_type_name(c->h.type) ? ag_ctl_type_name(c->h.type) : "?", err);
		client_error(c, rc, err);
	} else {
		client_send(c, AG_CTL_RESPONSE | c->h.type);
	}
}
