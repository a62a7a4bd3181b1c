/* client.c: one connection to agorad's control socket, blocking, with a timeout per response. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <msgpack.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "exits.h"

#define RECV_FIRST (64u << 10) /* bytes of a response held before more of it has come */

struct client {
	int fd;
	uint32_t next_id;
	int timeout_ms;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Whether this process has gid among its groups now. */
static bool in_session(gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);

	if (getegid() == gid)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Whether the group database puts user pw in gid: true after adduser, before a new login. */
static bool in_group_db(const struct passwd *pw, gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	int n = NGROUPS_MAX;

	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Why the socket (or DIR) refused us, as staff meet it: the group that may
 * use it, and how to join it (a new group counts from the next login).
 */
static void access_hint(const char *sock, const char *dir, char *buf, size_t len)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *user = pw ? pw->pw_name : "$USER", *group = "agora";
	const struct group *gr;
	struct stat st;

	if (stat(sock, &st) == 0 || stat(dir, &st) == 0) {
		if ((gr = getgrgid(st.st_gid)))
			group = gr->gr_name;
		if (pw && in_group_db(pw, st.st_gid) && !in_session(st.st_gid)) {
			snprintf(buf, len,
			         ": %s is in group %s, but this login is older than that: log in "
			         "again (or run newgrp %s)",
			         user, group, group);
			return;
		}
	}
	snprintf(buf, len,
	         ": %s is not in group %s, whose members may use agorad (sudo adduser %s %s, then "
	         "log in again)",
	         user, group, user, group);
}

struct client *client_open(const char *dir, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct client *c;
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/agorad.sock", dir);

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
		         "cannot reach agorad at %s/agorad.sock: path too long for a socket", dir);
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	c->next_id = 1;
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		char hint[400] = "";

		if (e == EACCES)
			access_hint(c->path, dir, hint, sizeof(hint));
		else if (e == ENOENT || e == ECONNREFUSED)
			snprintf(hint, sizeof(hint), " (is agorad running?)");
		snprintf(err, errlen, "cannot reach agorad at %s: %s%s", c->path, strerror(e),
		         hint);
		client_close(c);
		return NULL;
	}
	return c;
}

void client_close(struct client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void client_set_timeout(struct client *c, int ms)
{
	c->timeout_ms = ms;
}

static int send_all(struct client *c, const uint8_t *b, size_t n, char *err, size_t errlen)
{
	while (n > 0) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "cannot send to agorad at %s: %s", c->path,
			         strerror(errno));
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes before the deadline. */
static int recv_all(struct client *c, uint8_t *b, size_t n, int64_t deadline, char *err,
                    size_t errlen)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	ssize_t r;
	int rc;

	while (n > 0) {
		int64_t left = deadline - now_ms();

		if (left <= 0 || (rc = poll(&p, 1, (int)left)) == 0) {
			snprintf(err, errlen, "agorad at %s did not answer in %d s", c->path,
			         c->timeout_ms / 1000);
			return -1;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 || (r = recv(c->fd, b, n, 0)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read from agorad at %s: %s", c->path,
			         strerror(errno));
			return -1;
		}
		if (r == 0) {
			snprintf(err, errlen,
			         "agorad at %s closed the connection without an answer", c->path);
			return -1;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* What agora exits with for an error response's status (PROTOCOL.md, section 2). */
static int exit_for(uint64_t status)
{
	switch (status) {
	case AG_CTL_ENOTFOUND:
		return EXIT_NOTFOUND;
	case AG_CTL_EREFUSED:
		return EXIT_REFUSED;
	case AG_CTL_EFAILED:
		return EXIT_FAILED;
	default: /* busy, another version, or a status this agora does not know */
		return EXIT_UNREACHABLE;
	}
}

/* An error response's status, as an exit status, and its words in err. */
static int error_status(const uint8_t *body, size_t len, char *err, size_t errlen)
{
	struct ag_ctl_error e;
	size_t where = 0;
	bool ok = false;
	int rc;

	if ((rc = ag_ctl_resp_check(body, len, &ok, &where)) != 0) {
		snprintf(err, errlen, "agorad sent a malformed response: %s at byte %zu",
		         ag_strerror(rc), where);
		return EXIT_UNREACHABLE;
	}
	if (ag_ctl_resp_decode(&ag_ctl_error_shape, &e, &ok, body, len, NULL, NULL) != 0 || ok) {
		snprintf(err, errlen, "agorad sent an unexpected response");
		return EXIT_UNREACHABLE;
	}
	if (e.status == AG_CTL_EVERSION && !strstr(e.error, "versions differ"))
		snprintf(err, errlen, "agora and agorad versions differ: %s", e.error);
	else
		snprintf(err, errlen, "%s", e.error);
	return exit_for(e.status);
}

/*
 * A body of len bytes into *body, grown as its bytes arrive (from 64 KiB,
 * doubling): what a header announces, up to AG_CTL_RESP_MAX, is held only
 * once it has come, so a daemon that lies about it makes agora hold little.
 */
static int recv_body(struct client *c, uint8_t **body, size_t len, int64_t deadline, char *err,
                     size_t errlen)
{
	size_t have = 0, cap = 0;
	uint8_t *grown;

	do {
		cap = cap ? 2 * cap : RECV_FIRST;
		cap = cap < len ? cap : len;
		if (!(grown = realloc(*body, cap ? cap : 1))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		*body = grown;
		if (recv_all(c, *body + have, cap - have, deadline, err, errlen) != 0)
			return -1;
		have = cap;
	} while (have < len);
	return 0;
}

/* Reads the response's header and body, whatever its version, as far as its length allows. */
static int recv_response(struct client *c, struct ag_ctl_hdr *h, uint8_t **body, char *err,
                         size_t errlen)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	uint8_t hdr[AG_CTL_HDR_LEN];
	int rc;

	*body = NULL;
	if (recv_all(c, hdr, sizeof(hdr), deadline, err, errlen) != 0)
		return -1;
	rc = ag_ctl_hdr_decode(h, hdr, true);
	if (rc == AG_ETOOBIG || (rc != 0 && h->len > AG_CTL_RESP_MAX)) {
		snprintf(err, errlen, "agorad sent a response of %u bytes, over the limit", h->len);
		return -1;
	}
	if (rc == AG_EMSG) {
		snprintf(err, errlen, "agorad sent a message of unknown type %u", h->type);
		return -1;
	}
	if (recv_body(c, body, h->len, deadline, err, errlen) != 0)
		return -1;
	return rc == AG_EVERSION ? 1 : 0;
}

/* Header and body in one write, so that a daemon that answers early finds them whole. */
static int send_request(struct client *c, const struct ag_ctl_req *req, uint32_t id, char *err,
                        size_t errlen)
{
	struct ag_ctl_hdr h = {AG_CTL_VERSION, req->type, id, 0};
	uint8_t *body = NULL, *msg;
	size_t len = 0;
	int rc;

	if ((rc = ag_ctl_req_encode(req, &body, &len)) != 0) {
		snprintf(err, errlen, "cannot encode a %s request: %s",
		         ag_ctl_type_name(req->type) ? ag_ctl_type_name(req->type) : "?",
		         ag_strerror(rc));
		return EXIT_REFUSED;
	}
	if (len > AG_CTL_REQ_MAX) {
		snprintf(err, errlen, "request of %zu bytes, over the limit of %u", len,
		         AG_CTL_REQ_MAX);
		free(body);
		return EXIT_REFUSED;
	}
	if (!(msg = malloc(AG_CTL_HDR_LEN + len))) {
		snprintf(err, errlen, "out of memory");
		free(body);
		return EXIT_LOCAL;
	}
	h.len = (uint32_t)len;
	ag_ctl_hdr_encode(msg, &h);
	memcpy(msg + AG_CTL_HDR_LEN, body, len);
	rc = send_all(c, msg, AG_CTL_HDR_LEN + len, err, errlen);
	free(msg);
	free(body);
	return rc ? EXIT_UNREACHABLE : EXIT_DONE;
}

/* A response in a header of another version: what it says, if it can be read. */
static void version_differs(const uint8_t *body, const struct ag_ctl_hdr *h, char *err,
                            size_t errlen)
{
	struct ag_ctl_error e;
	bool ok;

	if (ag_ctl_resp_decode(&ag_ctl_error_shape, &e, &ok, body, h->len, NULL, NULL) == 0 &&
	    strstr(e.error, "versions differ"))
		snprintf(err, errlen, "%s", e.error);
	else
		snprintf(err, errlen,
		         "agora and agorad versions differ (agora speaks %u, agorad %u)",
		         AG_CTL_VERSION, h->version);
}

/*
 * Sends a request and reads its answer: 0 with *body, the body of a response
 * to it (of *len bytes, not yet decoded), which the caller frees; or the
 * exit status with err saying why.
 */
static int exchange(struct client *c, const struct ag_ctl_req *req, uint8_t **body, size_t *len,
                    char *err, size_t errlen)
{
	unsigned type = req->type;
	struct ag_ctl_hdr h;
	uint32_t id = c->next_id++;
	char scratch[256];
	int rc, other;

	*body = NULL;
	/* A daemon may answer and close before all is sent (another version): read it anyway. */
	if ((rc = send_request(c, req, id, err, errlen)) == EXIT_REFUSED)
		return rc;
	other = recv_response(c, &h, body, rc ? scratch : err, rc ? sizeof(scratch) : errlen);
	if (other < 0)
		rc = EXIT_UNREACHABLE; /* err says why: the send's failure, or else the receive's */
	else if (other > 0)
		rc = (version_differs(*body, &h, err, errlen), EXIT_UNREACHABLE);
	else if (h.id != id)
		rc = (snprintf(err, errlen, "agorad answered another request"), EXIT_UNREACHABLE);
	else if (h.type == AG_CTL_ERROR)
		rc = error_status(*body, h.len, err, errlen);
	else if (h.type != (AG_CTL_RESPONSE | type))
		rc =
		    (snprintf(err, errlen, "agorad sent an unexpected response"), EXIT_UNREACHABLE);
	else
		rc = (*len = h.len, EXIT_DONE);
	if (rc != EXIT_DONE) {
		free(*body);
		*body = NULL;
	}
	return rc;
}

int client_ask(struct client *c, const struct ag_ctl_req *req, void *resp, char *err, size_t errlen)
{
	const struct ag_ctl_shape *s = ag_ctl_resp_shape(req->type);
	const char *field = NULL;
	size_t len = 0, where = 0;
	uint8_t *body;
	bool ok = false;
	int rc;

	if (!s) {
		snprintf(err, errlen, "unknown request type %u", req->type);
		return EXIT_LOCAL;
	}
	memset(resp, 0, s->size);
	if ((rc = exchange(c, req, &body, &len, err, errlen)) != EXIT_DONE)
		return rc;
	rc = ag_ctl_resp_decode(s, resp, &ok, body, len, &where, &field);
	free(body);
	if (rc != 0 || !ok) {
		if (rc == 0)
			snprintf(err, errlen, "agorad sent an unexpected response");
		else if (field)
			snprintf(err, errlen, "agorad sent a malformed response: %s: %s", field,
			         ag_strerror(rc));
		else
			snprintf(err, errlen, "agorad sent a malformed response: %s at byte %zu",
			         ag_strerror(rc), where);
		ag_ctl_resp_clear(s, resp);
		return EXIT_UNREACHABLE;
	}
	return EXIT_DONE;
}
