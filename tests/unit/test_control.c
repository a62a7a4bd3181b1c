/*
 * test_control.c: the control socket server on a real loop, without a node:
 * what it binds and refuses to bind, and its answers to requests that never
 * reach a handler (another version, an oversized length, an unknown type, a
 * malformed body, one client too many). A client thread talks to the socket
 * while the test thread runs the loop; every run ends with the loop closed
 * and no handle left open.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "control.h"
#include "ctl.h"
#include "log.h"
#include "testutil.h"

static char *tmp, *sock;

/* ---- a client, on its own thread: no cmocka calls there, only a verdict ---- */

static int client_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {5, 0};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const void *b, size_t n)
{
	return send(fd, b, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int send_req(int fd, unsigned version, unsigned type, uint32_t id, const void *body,
                    uint32_t len)
{
	struct ag_ctl_hdr h = {(uint16_t)version, (uint16_t)type, id, len};
	uint8_t hdr[AG_CTL_HDR_LEN];

	ag_ctl_hdr_encode(hdr, &h);
	return send_all(fd, hdr, sizeof(hdr)) || (body && send_all(fd, body, len)) ? -1 : 0;
}

static int recv_all(int fd, uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, b, n, 0);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads one response; its body (at most cap bytes kept) NUL-terminated in body. */
static int recv_resp(int fd, struct ag_ctl_hdr *h, char *body, size_t cap)
{
	uint8_t hdr[AG_CTL_HDR_LEN], *b;
	int rc;

	if (recv_all(fd, hdr, sizeof(hdr)) != 0 || ag_ctl_hdr_decode(h, hdr, true) != 0)
		return -1;
	if (!(b = malloc(h->len + 1)))
		return -1;
	rc = recv_all(fd, b, h->len);
	memcpy(body, b, h->len < cap - 1 ? h->len : cap - 1);
	body[h->len < cap - 1 ? h->len : cap - 1] = '\0';
	/* The body is msgpack: make its strings findable with strstr. */
	for (size_t i = 0; i < h->len && i < cap - 1; i++)
		body[i] = body[i] ? body[i] : ' ';
	free(b);
	return rc;
}

static int closed(int fd)
{
	char c;

	return recv(fd, &c, 1, 0) == 0;
}

typedef const char *scenario_fn(void);

struct run {
	uv_loop_t loop;
	uv_async_t done;
	struct control *ctl;
	scenario_fn *fn;
	const char *verdict; /* NULL: the scenario passed */
};

static void *client_main(void *arg)
{
	struct run *r = arg;

	r->verdict = r->fn();
	uv_async_send(&r->done);
	return NULL;
}

static void on_done(uv_async_t *a)
{
	struct run *r = a->data;

	control_free(r->ctl);
	uv_close((uv_handle_t *)a, NULL);
}

/* Serves on sock while fn runs as a client; then closes all and checks nothing is left. */
static void serve(scenario_fn *fn)
{
	struct run r = {.fn = fn};
	struct stat st;
	pthread_t t;

	assert_int_equal(uv_loop_init(&r.loop), 0);
	r.ctl = control_new(&r.loop, NULL, sock);
	assert_non_null(r.ctl);
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	uv_async_init(&r.loop, &r.done, on_done);
	r.done.data = &r;
	assert_int_equal(pthread_create(&t, NULL, client_main, &r), 0);
	uv_run(&r.loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	assert_int_equal(uv_loop_close(&r.loop), 0);
	/* control_free removed the socket it bound. */
	assert_int_not_equal(lstat(sock, &st), 0);
	if (r.verdict)
		fail_msg("%s", r.verdict);
}

/* ---- scenarios ---- */

static const char *scen_version(void)
{
	struct ag_ctl_hdr h;
	char body[512];
	int fd = client_connect();
	const char *v = NULL;

	if (fd < 0 || send_req(fd, 2, AG_CTL_ID, 42, "\x80", 1) != 0 ||
	    recv_resp(fd, &h, body, sizeof(body)) != 0)
		v = "no answer to another version";
	else if (h.type != AG_CTL_ERROR || h.id != 42 || h.version != AG_CTL_VERSION)
		v = "another version: not an error response with the request's id";
	else if (!strstr(body, "versions differ") || !strstr(body, "protocol 2") ||
	         !strstr(body, "status\x04"))
		v = "another version: the error does not name both versions with status 4";
	else if (!closed(fd))
		v = "another version: the connection stays open";
	if (fd >= 0)
		close(fd);
	return v;
}

static const char *scen_too_big(void)
{
	struct ag_ctl_hdr h;
	char body[512];
	int fd = client_connect();
	const char *v = NULL;

	if (fd < 0 || send_req(fd, 1, AG_CTL_PUT, 7, NULL, AG_CTL_REQ_MAX + 1) != 0 ||
	    recv_resp(fd, &h, body, sizeof(body)) != 0)
		v = "no answer to an oversized request";
	else if (h.type != AG_CTL_ERROR || !strstr(body, "over the limit") ||
	         !strstr(body, "status\x02"))
		v = "oversized: not a status 2 error";
	else if (!closed(fd))
		v = "oversized: the connection stays open";
	if (fd >= 0)
		close(fd);
	return v;
}

/* An unknown type and a bad body are answered, and the connection serves on. */
static const char *scen_bad_then_more(void)
{
	struct ag_ctl_hdr h;
	char body[512];
	int fd = client_connect();
	const char *v = NULL;

	if (fd < 0 || send_req(fd, 1, 999, 1, "\x80", 1) != 0 ||
	    recv_resp(fd, &h, body, sizeof(body)) != 0)
		v = "no answer to an unknown type";
	else if (h.type != AG_CTL_ERROR || h.id != 1 || !strstr(body, "unknown request type 999"))
		v = "unknown type: wrong answer";
	else if (send_req(fd, 1, AG_CTL_ID, 2, "\xde\x00\x00", 3) != 0 ||
	         recv_resp(fd, &h, body, sizeof(body)) != 0)
		v = "no answer to a non-canonical body";
	else if (h.type != AG_CTL_ERROR || h.id != 2 || !strstr(body, "bad id request"))
		v = "non-canonical body: wrong answer";
	else if (send_req(fd, 1, AG_CTL_PEER_ADD, 3, "\x81\xa4name\xa1x", 8) != 0 ||
	         recv_resp(fd, &h, body, sizeof(body)) != 0)
		v = "no answer to a request missing a field";
	else if (h.id != 3 || !strstr(body, "bad peer-add request: key"))
		v = "missing field: the answer does not name it";
	if (fd >= 0)
		close(fd);
	return v;
}

/* A header a byte at a time, then two requests in one write: each answered in order. */
static const char *scen_pieces(void)
{
	struct ag_ctl_hdr h, h2;
	uint8_t msg[2 * (AG_CTL_HDR_LEN + 1)];
	struct ag_ctl_hdr a = {2, 999, 5, 1}, b = {1, 999, 6, 1};
	char body[512];
	int fd = client_connect();
	const char *v = NULL;

	ag_ctl_hdr_encode(msg, &(struct ag_ctl_hdr){1, 999, 4, 1});
	msg[AG_CTL_HDR_LEN] = 0x80;
	for (size_t i = 0; fd >= 0 && i < AG_CTL_HDR_LEN + 1; i++) {
		if (send_all(fd, msg + i, 1) != 0)
			break;
		usleep(2000);
	}
	if (fd < 0 || recv_resp(fd, &h, body, sizeof(body)) != 0 || h.id != 4)
		v = "a request sent a byte at a time is not answered";
	ag_ctl_hdr_encode(msg, &b);
	ag_ctl_hdr_encode(msg + AG_CTL_HDR_LEN + 1, &a);
	msg[AG_CTL_HDR_LEN] = msg[2 * AG_CTL_HDR_LEN + 1] = 0x80;
	if (!v && (send_all(fd, msg, sizeof(msg)) != 0 || recv_resp(fd, &h, body, sizeof(body)) ||
	           recv_resp(fd, &h2, body, sizeof(body))))
		v = "two requests in one write are not both answered";
	else if (!v && (h.id != 6 || h2.id != 5 || !strstr(body, "versions differ")))
		v = "two requests in one write: answers out of order";
	if (fd >= 0)
		close(fd);
	return v;
}

/* One client more than CONTROL_CLIENTS_MAX is told the daemon is busy; the others are served. */
static const char *scen_busy(void)
{
	int fds[CONTROL_CLIENTS_MAX + 1], n = 0, extra;
	struct ag_ctl_hdr h;
	char body[512];
	const char *v = NULL;

	for (; n < CONTROL_CLIENTS_MAX; n++)
		if ((fds[n] = client_connect()) < 0)
			break;
	/* One round trip on the last, so the server has accepted them all. */
	if (n < CONTROL_CLIENTS_MAX || send_req(fds[n - 1], 1, 999, 1, "\x80", 1) != 0 ||
	    recv_resp(fds[n - 1], &h, body, sizeof(body)) != 0)
		v = "cannot connect CONTROL_CLIENTS_MAX clients";
	extra = v ? -1 : client_connect();
	if (!v && (extra < 0 || recv_resp(extra, &h, body, sizeof(body)) != 0 ||
	           !strstr(body, "busy") || !strstr(body, "status\x03") || !closed(extra)))
		v = "one client too many is not told busy";
	if (extra >= 0)
		close(extra);
	if (!v && (send_req(fds[0], 1, 999, 2, "\x80", 1) != 0 ||
	           recv_resp(fds[0], &h, body, sizeof(body)) != 0 || h.id != 2))
		v = "the first client is not served after a busy refusal";
	while (n-- > 0)
		close(fds[n]);
	return v;
}

static const char *scen_nothing(void)
{
	return NULL;
}

static void test_answers(void **state)
{
	(void)state;
	serve(scen_version);
	serve(scen_too_big);
	serve(scen_bad_then_more);
	serve(scen_pieces);
	serve(scen_busy);
}

/* ---- what it binds ---- */

static void test_stale_replaced(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	/* A socket bound and closed, as a killed daemon leaves it. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	serve(scen_nothing);
}

static void test_live_refused(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	uv_loop_t loop;
	struct stat st;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_null(control_new(&loop, NULL, sock));
	/* The live socket is still there and still answers. */
	assert_int_equal(lstat(sock, &st), 0);
	close(fd);
	unlink(sock);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_not_a_socket(void **state)
{
	uv_loop_t loop;
	char *text;

	(void)state;
	assert_int_equal(tu_write_file(sock, "keep me", 7), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_null(control_new(&loop, NULL, sock));
	text = tu_read_file(sock, NULL);
	assert_string_equal(text, "keep me");
	free(text);
	unlink(sock);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_path_too_long(void **state)
{
	char path[200];
	uv_loop_t loop;

	(void)state;
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_null(control_new(&loop, NULL, path));
	assert_int_equal(uv_loop_close(&loop), 0);
}

static int setup(void **state)
{
	(void)state;
	log_set_fd(-1);
	if (!(tmp = tu_tmpdir("control")))
		return -1;
	sock = tu_path(tmp, "agorad.sock");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(sock);
	free(tmp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers),       cmocka_unit_test(test_stale_replaced),
	    cmocka_unit_test(test_live_refused),  cmocka_unit_test(test_not_a_socket),
	    cmocka_unit_test(test_path_too_long),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
