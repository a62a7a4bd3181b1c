/* test_log.c: line format, levels, journald prefixes and rate limits. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "testutil.h"

struct fixture {
	char *dir;
	char *path;
	int fd;
};

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tu_tmpdir("log");
	assert_non_null(f->dir);
	f->path = tu_path(f->dir, "out");
	f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(f->fd >= 0);
	unsetenv("JOURNAL_STREAM");
	log_set_fd(f->fd);
	log_set_level(LOG_LEVEL_INFO);
	log_set_clock(fake_clock);
	fake_now = 1000000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	log_set_fd(2);
	log_set_clock(NULL);
	close(f->fd);
	tu_rmtree(f->dir);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

/* What was logged so far; the caller frees it. */
static char *logged(struct fixture *f)
{
	char *s = tu_read_file(f->path, NULL);

	assert_non_null(s);
	return s;
}

static void assert_logged(struct fixture *f, const char *want)
{
	char *got = logged(f);

	assert_string_equal(got, want);
	free(got);
}

static void test_readable_format(void **state)
{
	struct fixture *f = *state;

	log_info("listening on %s", "0.0.0.0:7447");
	log_error("cannot open %s", "data");
	log_warnx("clock skew %d s", 3);
	log_peer(LOG_LEVEL_WARN, "Tunis", "handshake timed out");
	log_peer(LOG_LEVEL_INFO, NULL, "no peer");
	assert_logged(f, "info: listening on 0.0.0.0:7447\n"
	                 "error: cannot open data\n"
	                 "warn: clock skew 3 s\n"
	                 "warn: Tunis: handshake timed out\n"
	                 "info: no peer\n");
}

static void test_warn_appends_errno(void **state)
{
	struct fixture *f = *state;

	errno = ENOENT;
	log_warn("open %s", "node.key");
	assert_logged(f, "warn: open node.key: No such file or directory\n");
}

static void test_threshold(void **state)
{
	struct fixture *f = *state;

	log_debug("hidden");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("shown %d", 1);
	log_set_level(LOG_LEVEL_ERROR);
	log_info("hidden");
	log_warnx("hidden");
	log_error("shown %d", 2);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
	assert_logged(f, "debug: shown 1\nerror: shown 2\n");
}

static void test_level_names(void **state)
{
	static const struct {
		const char *s;
		int ok;
		enum log_level level;
	} cases[] = {
	    {"error", 1, LOG_LEVEL_ERROR},
	    {"warn", 1, LOG_LEVEL_WARN},
	    {"info", 1, LOG_LEVEL_INFO},
	    {"DEBUG", 1, LOG_LEVEL_DEBUG},
	    {"Info", 1, LOG_LEVEL_INFO},
	    {"verbose", 0, 0},
	    {"", 0, 0},
	    {"warning", 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum log_level got = LOG_LEVEL_INFO;
		int r = log_level_parse(cases[i].s, &got);

		assert_int_equal(r, cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			assert_int_equal(got, cases[i].level);
	}
	assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
}

static void test_journal_prefix(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char js[64];

	assert_int_equal(fstat(f->fd, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init();
	log_set_level(LOG_LEVEL_DEBUG);
	log_error("e");
	log_warnx("w");
	log_info("i");
	log_debug("d");
	log_peer(LOG_LEVEL_INFO, "Lyon", "connected");
	assert_logged(f, "<3>e\n<4>w\n<6>i\n<7>d\n<6>Lyon: connected\n");
}

static void test_journal_stream_of_another_file(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char js[64];

	assert_int_equal(fstat(f->fd, &st), 0);
	/* A JOURNAL_STREAM inherited from a parent whose stderr was the journal. */
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	log_init();
	log_info("i");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init();
	log_info("j");
	assert_logged(f, "info: i\ninfo: j\n");
}

static void test_control_characters_cannot_forge_lines(void **state)
{
	struct fixture *f = *state;

	log_peer(LOG_LEVEL_WARN, "Evil\nerror: forged", "name %s", "a\rb\x1b[0m");
	assert_logged(f, "warn: Evil?error: forged: name a?b?[0m\n");
}

static void test_long_line_is_cut(void **state)
{
	struct fixture *f = *state;
	char big[3 * LOG_LINE_MAX];
	char *got;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	got = logged(f);
	len = strlen(got);
	assert_int_equal(len, LOG_LINE_MAX - 1);
	assert_memory_equal(got, "info: xxx", 9);
	assert_string_equal(got + len - 4, "...\n");
	free(got);
}

static void test_line_that_just_fits_is_not_marked(void **state)
{
	struct fixture *f = *state;
	char msg[LOG_LINE_MAX];
	size_t want = LOG_LINE_MAX - 2 - strlen("info: ");
	char *got;

	memset(msg, 'y', want);
	msg[want] = '\0';
	log_info("%s", msg);
	got = logged(f);
	assert_int_equal(strlen(got), LOG_LINE_MAX - 1);
	assert_string_equal(got + strlen(got) - 4, "yyy\n");
	free(got);
}

static void test_ratelimit_burst_then_suppressed(void **state)
{
	struct fixture *f = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3, 1000);
	int written = 0;

	for (int i = 0; i < 10; i++)
		written += log_ratelimited(&rl, LOG_LEVEL_WARN, "Tunis", "bad frame %d", i);
	assert_int_equal(written, 3);
	fake_now += 999;
	assert_int_equal(log_ratelimited(&rl, LOG_LEVEL_WARN, "Tunis", "bad frame %d", 10), 0);
	fake_now += 1;
	assert_int_equal(log_ratelimited(&rl, LOG_LEVEL_WARN, "Tunis", "bad frame %d", 11), 1);
	assert_logged(f, "warn: Tunis: bad frame 0\n"
	                 "warn: Tunis: bad frame 1\n"
	                 "warn: Tunis: bad frame 2\n"
	                 "warn: Tunis: 8 messages suppressed\n"
	                 "warn: Tunis: bad frame 11\n");
}

static void test_ratelimit_flush(void **state)
{
	struct fixture *f = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(1, 60000);

	log_ratelimit_flush(&rl, LOG_LEVEL_INFO, "Oran");
	assert_int_equal(log_ratelimited(&rl, LOG_LEVEL_INFO, "Oran", "ping"), 1);
	assert_int_equal(log_ratelimited(&rl, LOG_LEVEL_INFO, "Oran", "ping"), 0);
	log_ratelimit_flush(&rl, LOG_LEVEL_INFO, "Oran");
	log_ratelimit_flush(&rl, LOG_LEVEL_INFO, "Oran");
	assert_logged(f, "info: Oran: ping\ninfo: Oran: 1 message suppressed\n");
}

static void test_ratelimit_below_threshold_is_not_counted(void **state)
{
	struct fixture *f = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(1, 1000);

	for (int i = 0; i < 5; i++)
		assert_int_equal(log_ratelimited(&rl, LOG_LEVEL_DEBUG, NULL, "d"), 0);
	assert_int_equal(log_ratelimited(&rl, LOG_LEVEL_INFO, NULL, "i"), 1);
	assert_logged(f, "info: i\n");
}

static void test_fatal_exits_1(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		fatal("cannot read %s", "node.key");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_logged(f, "error: cannot read node.key\n");
}

static void test_dropped_fd(void **state)
{
	struct fixture *f = *state;

	log_set_fd(-1);
	log_error("nowhere");
	log_set_fd(f->fd);
	assert_logged(f, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_readable_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warn_appends_errno, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_level_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_stream_of_another_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_characters_cannot_forge_lines, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_is_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_that_just_fits_is_not_marked, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_ratelimit_burst_then_suppressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ratelimit_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ratelimit_below_threshold_is_not_counted, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_fatal_exits_1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_fd, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
