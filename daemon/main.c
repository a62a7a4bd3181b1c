/* main.c: agorad, the city node: runs in the foreground under systemd. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "control.h"
#include "key.h"
#include "log.h"
#include "node.h"
#include "pool.h"
#include "service.h"

struct daemon {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	struct node *node;
	struct control *control;
	struct service *service;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: agorad [--dir DIR] [--check] [-v] [--help] [--version]\n"
	        "\n"
	        "Runs the agora city node in the foreground.\n"
	        "  --dir DIR   the node's directory (default: $AGORA_DIR, else /var/lib/agora)\n"
	        "  --check     check DIR/agorad.conf, print it normalised, and exit\n"
	        "  -v          log debug lines too\n");
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		(void)node_reload(d->node);
		return;
	}
	log_info("%s: shutting down", strsignal(signum));
	service_stop(d->service);
	control_free(d->control);
	d->control = NULL;
	node_stop(d->node);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
}

static void watch_signal(struct daemon *d, uv_signal_t *s, int signum)
{
	uv_signal_init(&d->loop, s);
	s->data = d;
	uv_signal_start(s, on_signal, signum);
}

/* agorad started before agora init: say what to run, not "No such file or directory". */
static int key_missing(const char *dir)
{
	char path[4096 + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/node.key", dir);
	if (stat(path, &st) == 0 || errno != ENOENT)
		return 0;
	log_error("no node.key in %s: run agora init --dir %s --name NAME first", dir, dir);
	return 1;
}

static int run(const char *dir, int verbose)
{
	struct daemon d = {0};
	uint8_t pk[AG_PK_LEN];
	char key[AG_B64_LEN + 1], sock[4096 + 16];
	const char *name;
	int rc;

	if (key_missing(dir))
		return 1;
	uv_loop_init(&d.loop);
	pool_lower_priority(&d.loop);
	if (!(d.node = node_new(&d.loop, dir))) {
		uv_loop_close(&d.loop);
		return 1;
	}
	if (verbose)
		node_pin_log_level(d.node);
	snprintf(sock, sizeof(sock), "%s/" CONTROL_SOCKET, dir);
	/* The control socket first: it tells a second daemon on this DIR most clearly. */
	if (!(d.control = control_new(&d.loop, d.node, sock)) || node_start(d.node) != 0) {
		control_free(d.control);
		node_stop(d.node);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		node_free(d.node);
		uv_loop_close(&d.loop);
		return 1;
	}
	watch_signal(&d, &d.sigterm, SIGTERM);
	watch_signal(&d, &d.sigint, SIGINT);
	watch_signal(&d, &d.sighup, SIGHUP);
	node_id(d.node, pk, &name);
	ag_key_to_b64(key, pk);
	log_info("%s (%s) running in %s", name, key, dir);
	d.service = service_new(&d.loop, d.node); /* READY=1 */
	uv_run(&d.loop, UV_RUN_DEFAULT);
	service_free(d.service);
	node_free(d.node);
	rc = uv_loop_close(&d.loop);
	if (rc != 0)
		log_error("handles left open at exit");
	log_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
	                                     {"check", no_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const char *dir = getenv("AGORA_DIR");
	char path[4096 + 16];
	int c, check = 0, verbose = 0;

	log_init();
	/*
	 * Two malloc arenas, not one per thread: the verify threads make each
	 * entry's index terms, which the loop thread frees once stored; an arena
	 * per thread kept each thread's own high-water mark of them, about four
	 * times what is ever held at once (bench-sync's receiver: 6 MB of 30).
	 * One arena for all cost the sync 10% more CPU in its lock.
	 */
	(void)mallopt(M_ARENA_MAX, 2);
	while ((c = getopt_long(argc, argv, "d:chvV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			check = 1;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("agorad %s\n", AGORA_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!dir || !*dir)
		dir = "/var/lib/agora";
	if (ag_init() != 0)
		fatal("libsodium cannot start");
	signal(SIGPIPE, SIG_IGN);
	if (check) {
		snprintf(path, sizeof(path), "%s/agorad.conf", dir);
		return config_check(path, NULL, stdout) == 0 ? 0 : 1;
	}
	return run(dir, verbose);
}
