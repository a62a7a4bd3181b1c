/* test_config.c: agorad.conf lines good and bad, round trips, atomic writes, peer edits. */
#include <arpa/inet.h>
#include <dirent.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "testutil.h"

#define K1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define K3 "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=" /* this node's own, in every test */
#define N  "[Node]\nName = Lyon\n"                        /* lines 1 and 2 */
/* BLAKE2b-256("agora/mc2cm/1"), worked out apart from the code (Python\'s hashlib). */
#define NETWORK_DEFAULT "UuPvvVg2woEoT/fnp1pCbb4x09pS04DeK+ATTWX/MAc="

struct fixture {
	char *dir;
	char *logpath;
	int logfd;
};

static uint8_t self_pk[AG_PK_LEN];

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->dir = tu_tmpdir("config"));
	f->logpath = tu_path(f->dir, "log");
	f->logfd = open(f->logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(f->logfd >= 0);
	log_set_fd(f->logfd);
	memset(self_pk, 3, sizeof(self_pk));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	log_set_fd(2);
	close(f->logfd);
	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f->logpath);
	free(f->dir);
	free(f);
	return 0;
}

/* Everything logged since the last call. */
static char *take_log(struct fixture *f)
{
	char *s = tu_read_file(f->logpath, NULL);

	assert_non_null(s);
	assert_int_equal(ftruncate(f->logfd, 0), 0);
	assert_int_equal(lseek(f->logfd, 0, SEEK_SET), 0);
	return s;
}

static struct config *parse(const char *text, int *nerrors)
{
	return config_parse(text, strlen(text), "t.conf", self_pk, nerrors);
}

/* Lines and the config they give */

struct good {
	const char *text;
	const char *normalised;
};

static const struct good goods[] = {
    {N, N "Listen = 0.0.0.0:7447\n"},
    {N "Listen = [::1]:7000\nNetwork = " K2 "\nHops = 4\nLogLevel = debug\nMaxIntroduced = 200\n"
       "\n[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = tunis.example.org:7447\n"
       "\n[Peer]\nName = Oran\nPublicKey = " K2 "\n",
     N "Listen = [::1]:7000\nNetwork = " K2 "\nHops = 4\nLogLevel = debug\nMaxIntroduced = 200\n"
       "\n[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = tunis.example.org:7447\n"
       "\n[Peer]\nName = Oran\nPublicKey = " K2 "\n"},
    /* Comments, blank lines, any case, CRLF, a BOM, indentation, inline ';', "Key: Value". */
    {"\xEF\xBB\xBF# agorad.conf\r\n; written by hand\r\n\r\n[node]\r\n  NAME = Lyon   ; the "
     "city\r\n"
     "\tlisten: 127.0.0.1:7447\r\n  [ PEER ]  # Tunis\r\nname=Tunis\r\npublickey = " K1 "\r\n",
     N "Listen = 127.0.0.1:7447\n\n[Peer]\nName = Tunis\nPublicKey = " K1 "\n"},
    /* No final newline; defaults written out are left out. */
    {N "Hops = 2\nLogLevel = INFO\nMaxIntroduced = 1000\nNetwork = " NETWORK_DEFAULT,
     N "Listen = 0.0.0.0:7447\n"},
    /* SilentAfter in the largest unit that holds it whole; its default, an hour, left out. */
    {N "SilentAfter = 90\n", N "Listen = 0.0.0.0:7447\nSilentAfter = 90s\n"},
    {N "SilentAfter = 120m\n", N "Listen = 0.0.0.0:7447\nSilentAfter = 2h\n"},
    {N "SilentAfter = 48h\n", N "Listen = 0.0.0.0:7447\nSilentAfter = 2d\n"},
    {N "SilentAfter = 366d\n", N "Listen = 0.0.0.0:7447\nSilentAfter = 366d\n"},
    {N "SilentAfter = 3600s\n", N "Listen = 0.0.0.0:7447\n"},
    /* Sizes in the largest binary unit that holds them whole; defaults left out. */
    {N "Quota = 1048576\nMaxDisk = 20480m\nQuotaEntries = 5000\n",
     N "Listen = 0.0.0.0:7447\nQuota = 1M\nQuotaEntries = 5000\nMaxDisk = 20G\n"},
    {N "quota = 1536K\nMaxDisk = 1T\n", N "Listen = 0.0.0.0:7447\nQuota = 1536K\nMaxDisk = 1T\n"},
    {N "Quota = 256M\nQuotaEntries = 1000000\nMaxDisk = 16G\n", N "Listen = 0.0.0.0:7447\n"},
    /* VerifyEvery, yes or no in any case; no, the default, left out. */
    {N "VerifyEvery = YES\n", N "Listen = 0.0.0.0:7447\nVerifyEvery = yes\n"},
    {N "VerifyEvery = no\n", N "Listen = 0.0.0.0:7447\n"},
    {"[Node]\nName = Tétouan\n[Peer]\nName = Tel Aviv-Yafo\nPublicKey = " K1
     "\nEndpoint = [2001:DB8:0::1]:1\n[Peer]\nName = طنجة\nPublicKey = " K2
     "\nEndpoint = Tanger.EXAMPLE.ma:65535\n",
     "[Node]\nName = Tétouan\nListen = 0.0.0.0:7447\n\n[Peer]\nName = Tel Aviv-Yafo\nPublicKey "
     "= " K1 "\nEndpoint = [2001:db8::1]:1\n\n[Peer]\nName = طنجة\nPublicKey = " K2
     "\nEndpoint = tanger.example.ma:65535\n"},
    /* Peers before the node; an IPv4 endpoint. */
    {"[Peer]\nPublicKey = " K1 "\nName = Tunis\nEndpoint = 10.0.0.1:7447\n" N,
     N "Listen = 0.0.0.0:7447\n\n[Peer]\nName = Tunis\nPublicKey = " K1
       "\nEndpoint = 10.0.0.1:7447\n"},
};

static void test_good(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		int n = -1;
		struct config *cfg = parse(goods[i].text, &n);
		char *log = take_log(f), *text;

		print_message("good case %zu\n", i);
		assert_string_equal(log, "");
		assert_int_equal(n, 0);
		assert_non_null(cfg);
		assert_non_null(text = config_format(cfg));
		assert_string_equal(text, goods[i].normalised);
		free(text);
		free(log);
		config_free(cfg);
	}
}

static void test_values(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = parse(goods[1].text, NULL);
	const struct sockaddr_in6 *s6;
	uint8_t k1[AG_PK_LEN], k2[AG_PK_LEN];

	assert_non_null(cfg);
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	assert_string_equal(cfg->name, "Lyon");
	assert_int_equal(cfg->listen.ss_family, AF_INET6);
	s6 = (const struct sockaddr_in6 *)&cfg->listen;
	assert_int_equal(ntohs(s6->sin6_port), 7000);
	assert_true(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
	assert_memory_equal(cfg->network, k2, AG_PK_LEN);
	assert_int_equal(cfg->hops, 4);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg->npeers, 2);
	assert_string_equal(cfg->peers[0].name, "Tunis");
	assert_memory_equal(cfg->peers[0].pk, k1, AG_PK_LEN);
	assert_string_equal(cfg->peers[0].host, "tunis.example.org");
	assert_int_equal(cfg->peers[0].port, 7447);
	assert_string_equal(cfg->peers[1].host, "");
	assert_int_equal(cfg->peers[1].port, 0);
	assert_ptr_equal(config_peer_find(cfg, k2), &cfg->peers[1]);
	assert_ptr_equal(config_peer_find_name(cfg, "Tunis"), &cfg->peers[0]);
	assert_null(config_peer_find_name(cfg, "tunis"));
	assert_null(config_peer_find(cfg, self_pk));
	config_free(cfg);

	/* The defaults. */
	assert_non_null(cfg = parse(N, NULL));
	{
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&cfg->listen;
		uint8_t def[32];

		assert_int_equal(ag_key_from_b64(def, NETWORK_DEFAULT), 0);
		assert_int_equal(s4->sin_family, AF_INET);
		assert_int_equal(ntohs(s4->sin_port), 7447);
		assert_int_equal(s4->sin_addr.s_addr, htonl(INADDR_ANY));
		assert_memory_equal(cfg->network, def, 32);
		assert_int_equal(cfg->hops, 2);
		assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
		assert_int_equal(cfg->npeers, 0);
	}
	config_free(cfg);
	free(take_log(f));
}

/* Each bad text with the exact messages it must give, in this order. */
struct bad {
	const char *text;
	const char *msgs;
};

static const struct bad bads[] = {
    {"", "t.conf: no [Node] section"},
    {"# only a comment\n", "t.conf: no [Node] section"},
    {"[Node]\n", "t.conf:1: [Node] has no Name"},
    {N "Nmae = X\n", "t.conf:3: unknown key 'Nmae' in [Node]; did you mean 'Name'?"},
    {N "Lisen = 0.0.0.0:1\n", "t.conf:3: unknown key 'Lisen' in [Node]; did you mean 'Listen'?"},
    {N "Hop = 3\n", "t.conf:3: unknown key 'Hop' in [Node]; did you mean 'Hops'?"},
    {N "loglvl = debug\n", "t.conf:3: unknown key 'loglvl' in [Node]; did you mean 'LogLevel'?"},
    {N "Foo = 1\n", "t.conf:3: unknown key 'Foo' in [Node]"},
    {N "Port = 7447\n", "t.conf:3: unknown key 'Port' in [Node]"},
    {N "ListenPort = 7447\n",
     "t.conf:3: unknown key 'ListenPort' in [Node]; did you mean 'Listen' (ADDRESS:PORT)?"},
    {N "PrivateKey = " K1 "\n", "t.conf:3: unknown key 'PrivateKey': agorad.conf holds no "
                                "secret; the node's key is in node.key"},
    {N "PublicKey = " K1 "\n", "t.conf:3: 'PublicKey' belongs in [Peer], not [Node]"},
    {N "endpoint = a:1\n", "t.conf:3: 'Endpoint' belongs in [Peer], not [Node]"},
    {N "Name = Other\n", "t.conf:3: duplicate key 'Name' (first on line 2)"},
    {N "name = Lyon\n", "t.conf:3: duplicate key 'Name' (first on line 2)"},
    {N "Name =\n", "t.conf:3: duplicate key 'Name' (first on line 2)"},
    {"[Node]\nName =\n", "t.conf:2: 'Name' has no value"},
    {N "Listen =\n", "t.conf:3: 'Listen' has no value"},
    {N "Listen = 1.2.3.4\n", "t.conf:3: bad Listen '1.2.3.4': expected HOST:PORT"},
    {N "Listen = example.org:7447\n",
     "t.conf:3: bad Listen 'example.org:7447': expected an IP address and a port, such as "
     "0.0.0.0:7447 or [::]:7447"},
    {N "Listen = ::1:7447\n", "t.conf:3: bad Listen '::1:7447': expected an IP address and a "
                              "port, such as 0.0.0.0:7447 or [::]:7447"},
    {N "Listen = [::1:7447\n", "t.conf:3: bad Listen '[::1:7447': expected an IP address and "
                               "a port, such as 0.0.0.0:7447 or [::]:7447"},
    {N "Listen = 0.0.0.0:0\n",
     "t.conf:3: bad Listen '0.0.0.0:0': the port must be a number from 1 to 65535"},
    {N "Listen = 0.0.0.0:65536\n",
     "t.conf:3: bad Listen '0.0.0.0:65536': the port must be a number from 1 to 65535"},
    {N "Listen = 0.0.0.0:+80\n",
     "t.conf:3: bad Listen '0.0.0.0:+80': the port must be a number from 1 to 65535"},
    {N "Listen = 0.0.0.0:\n",
     "t.conf:3: bad Listen '0.0.0.0:': the port must be a number from 1 to 65535"},
    {N "Hops = 0\n", "t.conf:3: bad Hops '0': must be a number from 1 to 4"},
    {N "MaxIntroduced = 0\n",
     "t.conf:3: bad MaxIntroduced '0': must be a number from 1 to 1000000"},
    {N "MaxIntroduced = 1000001\n",
     "t.conf:3: bad MaxIntroduced '1000001': must be a number from 1 to 1000000"},
    {N "MaxIntroduced = 99999999999999999999999\n",
     "t.conf:3: bad MaxIntroduced '99999999999999999999999': must be a number from 1 to 1000000"},
    {N "MaxIntroduced = 1e3\n",
     "t.conf:3: bad MaxIntroduced '1e3': must be a number from 1 to 1000000"},
    {N "Hops = 5\n", "t.conf:3: bad Hops '5': must be a number from 1 to 4"},
    {N "Hops = 02\n", "t.conf:3: bad Hops '02': must be a number from 1 to 4"},
    {N "Hops = two\n", "t.conf:3: bad Hops 'two': must be a number from 1 to 4"},
    {N "LogLevel = verbose\n",
     "t.conf:3: bad LogLevel 'verbose': must be error, warn, info or debug"},
    {N "VerifyEvery = 1\n", "t.conf:3: bad VerifyEvery '1': must be yes or no"},
    {N "SilentAfter = 0\n",
     "t.conf:3: bad SilentAfter '0': must be a duration from 1s to 366d: a number and s, m, h "
     "or d"},
    {N "Quota = 0\n", "t.conf:3: bad Quota '0': must be a size: a number of bytes, or of K, M, "
                      "G or T (KiB, MiB, GiB, TiB), from 1K to 1024T"},
    {N "Quota = 10MB\n", "t.conf:3: bad Quota '10MB': must be a size: a number of bytes, or of "
                         "K, M, G or T (KiB, MiB, GiB, TiB), from 1K to 1024T"},
    {N "Quota = 1025T\n", "t.conf:3: bad Quota '1025T': must be a size: a number of bytes, or "
                          "of K, M, G or T (KiB, MiB, GiB, TiB), from 1K to 1024T"},
    {N "MaxDisk = 15M\n", "t.conf:3: bad MaxDisk '15M': must be a size from 16M to 1024T: a "
                          "number and K, M, G or T"},
    {N "QuotaEntries = 99\n",
     "t.conf:3: bad QuotaEntries '99': must be a number from 100 to 1000000000000"},
    {N "QuotaEntries = 1k\n",
     "t.conf:3: bad QuotaEntries '1k': must be a number from 100 to 1000000000000"},
    {N "SilentAfter = 1w\n",
     "t.conf:3: bad SilentAfter '1w': must be a duration from 1s to 366d: a number and s, m, h "
     "or d"},
    {N "SilentAfter = h\n",
     "t.conf:3: bad SilentAfter 'h': must be a duration from 1s to 366d: a number and s, m, h "
     "or d"},
    {N "SilentAfter = 10 m\n",
     "t.conf:3: bad SilentAfter '10 m': must be a duration from 1s to 366d: a number and s, m, h "
     "or d"},
    {N "SilentAfter = 367d\n",
     "t.conf:3: bad SilentAfter '367d': must be a duration from 1s to 366d: a number and s, m, h "
     "or d"},
    {N "SilentAfter = 99999999999999999999s\n",
     "t.conf:3: bad SilentAfter '99999999999999999999s': must be a duration from 1s to 366d: a "
     "number and s, m, h "
     "or d"},
    {N "SilentAfter = -5m\n",
     "t.conf:3: bad SilentAfter '-5m': must be a duration from 1s to 366d: a number and s, m, h "
     "or d"},
    {N "Network = abc\n", "t.conf:3: bad Network: expected a key: 44 characters of standard "
                          "base64; this is 3 characters long"},
    {N "Network = !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
     "t.conf:3: bad Network: expected a key: 44 characters of standard base64"},
    {N "Name = Lyon2\nNetwork = x\nHops = 9\n",
     "t.conf:3: duplicate key 'Name' (first on line 2)\n"
     "t.conf:4: bad Network: expected a key: 44 characters of standard base64; this is 1 "
     "character long\n"
     "t.conf:5: bad Hops '9': must be a number from 1 to 4"},
    {"[Node]\nName = a;b\n", "t.conf:2: bad Name 'a;b': a name is 1 to 64 bytes of UTF-8 "
                             "without control characters or ';', and no space at either end"},
    {"[Node]\nName = a\tb\n", "t.conf:2: bad Name 'a\tb': a name is 1 to 64 bytes of UTF-8 "
                              "without control characters or ';', and no space at either end"},
    {"[Node]\nName = \xff\xfe\n", "t.conf:2: bad Name '\xff\xfe': a name is 1 to 64 bytes of UTF-8 "
                                  "without control characters or ';', and no space at either end"},
    {"[Node]\nName = 12345678901234567890123456789012345678901234567890123456789012345\n",
     "t.conf:2: bad Name '12345678901234567890123456789012345678901234567890123456789012345': "
     "a name is 1 to 64 bytes of UTF-8 without control characters or ';', and no space at "
     "either end"},
    {N "[Nod]\n", "t.conf:3: unknown section [Nod]; did you mean [Node]?"},
    {N "[Peers]\n", "t.conf:3: unknown section [Peers]; did you mean [Peer]?"},
    {N "[Interface]\nPrivateKey = " K1 "\n",
     "t.conf:3: unknown section [Interface]; agora calls it [Node]"},
    {N "[Foo]\nBar = 1\nBaz = 2\n", "t.conf:3: unknown section [Foo]; expected [Node] or [Peer]"},
    {N "[]\n", "t.conf:3: unknown section []; expected [Node] or [Peer]"},
    {N "[Node]\nName = Paris\n", "t.conf:3: second [Node] section (the first is on line 1)"},
    {N "[Peer\nName = Tunis\n", "t.conf:3: section header without ']'"},
    {N "[Peer] Tunis\nName = Tunis\n", "t.conf:3: unexpected text after [Peer]"},
    {"Name = Lyon\n" N, "t.conf:1: 'Name' comes before any [Node] or [Peer] section"},
    {N "just some words\n", "t.conf:3: expected 'Key = Value'"},
    {N "Listen 0.0.0.0:7447\n", "t.conf:3: expected 'Key = Value'"},
    {N "Name ; = x\n", "t.conf:3: expected 'Key = Value'"},
    {N "[Peer]\nName = Tunis\nPublic Key = " K1 "\n",
     "t.conf:3: [Peer] has no PublicKey\n"
     "t.conf:5: unknown key 'Public Key' in [Peer]; did you mean 'PublicKey'?"},
    {N "= value\n", "t.conf:3: expected 'Key = Value', found no key before '='"},
    {N "[Peer]\nName = Tunis\n", "t.conf:3: [Peer] has no PublicKey"},
    {N "[Peer]\nPublicKey = " K1 "\n", "t.conf:3: [Peer] has no Name"},
    {N "[Peer]\n[Peer]\n", "t.conf:3: [Peer] has no Name\n"
                           "t.conf:3: [Peer] has no PublicKey\n"
                           "t.conf:4: [Peer] has no Name\n"
                           "t.conf:4: [Peer] has no PublicKey"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\n[Peer]\nName = Oran\nPublicKey = " K1 "\n",
     "t.conf:8: PublicKey is already that of the peer on line 3"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\n[Peer]\nName = Tunis\nPublicKey = " K2 "\n",
     "t.conf:7: Name 'Tunis' is already used by the peer on line 3"},
    {N "[Peer]\nName = Lyon\nPublicKey = " K1 "\n",
     "t.conf:4: Name 'Lyon' is this node's own Name"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K3 "\n", "t.conf:5: PublicKey is this node's own key"},
    {N "[Peer]\nName = Tunis\nPublicKy = " K1 "\n",
     "t.conf:3: [Peer] has no PublicKey\n"
     "t.conf:5: unknown key 'PublicKy' in [Peer]; did you mean 'PublicKey'?"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpont = a:1\n",
     "t.conf:6: unknown key 'Endpont' in [Peer]; did you mean 'Endpoint'?"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nListen = 0.0.0.0:1\n",
     "t.conf:6: 'Listen' belongs in [Node], not [Peer]"},
    {N "[Peer]\nName = Tunis\nPublicKey = short\n",
     "t.conf:5: bad PublicKey: expected a key: 44 characters of standard base64; this is 5 "
     "characters long"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = tunis\n",
     "t.conf:6: bad Endpoint 'tunis': expected HOST:PORT"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = bad_host:7447\n",
     "t.conf:6: bad Endpoint 'bad_host:7447': the host must be a DNS name, an IPv4 address or "
     "an IPv6 address in brackets"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = 1.2.3:7447\n",
     "t.conf:6: bad Endpoint '1.2.3:7447': the host must be a DNS name, an IPv4 address or an "
     "IPv6 address in brackets"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = -a.org:7447\n",
     "t.conf:6: bad Endpoint '-a.org:7447': the host must be a DNS name, an IPv4 address or "
     "an IPv6 address in brackets"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = a..org:7447\n",
     "t.conf:6: bad Endpoint 'a..org:7447': the host must be a DNS name, an IPv4 address or "
     "an IPv6 address in brackets"},
    {N "[Peer]\nName = Tunis\nPublicKey = " K1 "\nEndpoint = [fe80::1]:99999\n",
     "t.conf:6: bad Endpoint '[fe80::1]:99999': the port must be a number from 1 to 65535"},
    /* A bad value is not also compared with the others. */
    {N "[Peer]\nName = x;y\nPublicKey = bad\n[Peer]\nName = x;y\nPublicKey = bad\n",
     "t.conf:4: bad Name 'x;y': a name is 1 to 64 bytes of UTF-8 without control characters "
     "or ';', and no space at either end\n"
     "t.conf:5: bad PublicKey: expected a key: 44 characters of standard base64; this is 3 "
     "characters long\n"
     "t.conf:7: bad Name 'x;y': a name is 1 to 64 bytes of UTF-8 without control characters "
     "or ';', and no space at either end\n"
     "t.conf:8: bad PublicKey: expected a key: 44 characters of standard base64; this is 3 "
     "characters long"},
    /* Everything counted, in line order, whole-file messages last. */
    {"Hops = 3\n[Peer]\nName = Tunis\nPublicKey = " K3 "\nEndpoint = x\nFoo = 1\n[Nde]\nName = "
     "Lyon\n",
     "t.conf:1: 'Hops' comes before any [Node] or [Peer] section\n"
     "t.conf:4: PublicKey is this node's own key\n"
     "t.conf:5: bad Endpoint 'x': expected HOST:PORT\n"
     "t.conf:6: unknown key 'Foo' in [Peer]\n"
     "t.conf:7: unknown section [Nde]; did you mean [Node]?\n"
     "t.conf: no [Node] section"},
};

static void test_bad(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		int n = -1, want_n = 1;
		struct config *cfg;
		char *log, *want = NULL, *lines = strdup(bads[i].msgs), *tok, *save = NULL;
		size_t wlen = 0;
		FILE *w = open_memstream(&want, &wlen);

		print_message("bad case %zu\n", i);
		for (const char *p = bads[i].msgs; *p != '\0'; p++)
			want_n += *p == '\n';
		for (tok = strtok_r(lines, "\n", &save); tok != NULL;
		     tok = strtok_r(NULL, "\n", &save))
			fprintf(w, "error: %s\n", tok);
		fprintf(w, "error: t.conf: %d error%s\n", want_n, want_n == 1 ? "" : "s");
		fclose(w);
		cfg = parse(bads[i].text, &n);
		log = take_log(f);
		/* The tab in one case is logged as '?': a log line holds no control character. */
		for (char *p = want; *p != '\0'; p++)
			if (*p == '\t')
				*p = '?';
		assert_string_equal(log, want);
		assert_null(cfg);
		assert_int_equal(n, want_n);
		free(log);
		free(want);
		free(lines);
	}
}

static void test_long_line_and_nul(void **state)
{
	struct fixture *f = *state;
	char text[512], *log;
	int n;

	snprintf(text, sizeof(text), N "Name = %0250d\nFoo = 1\n", 7);
	assert_null(parse(text, &n));
	log = take_log(f);
	assert_string_equal(log, "error: t.conf:3: line too long (at most 199 characters)\n"
	                         "error: t.conf:4: unknown key 'Foo' in [Node]\n"
	                         "error: t.conf: 2 errors\n");
	free(log);

	/* A NUL byte must not hide the rest of the line or of the file. */
	memcpy(text, N "Hops = 3\0garbage\nFoo = 1\n", sizeof(N "Hops = 3\0garbage\nFoo = 1\n"));
	assert_null(
	    config_parse(text, sizeof(N "Hops = 3\0garbage\nFoo = 1\n") - 1, "t.conf", NULL, &n));
	log = take_log(f);
	assert_string_equal(log, "error: t.conf:3: NUL byte in line\n"
	                         "error: t.conf:4: unknown key 'Foo' in [Node]\n"
	                         "error: t.conf: 2 errors\n");
	free(log);
}

static void test_many_errors_all_counted(void **state)
{
	struct fixture *f = *state;
	char *text = NULL, *log;
	size_t len = 0, lines = 0;
	FILE *w = open_memstream(&text, &len);
	int n;

	fputs(N, w);
	for (int i = 0; i < 150; i++)
		fprintf(w, "Bad%d = x\n", i);
	fclose(w);
	assert_null(parse(text, &n));
	assert_int_equal(n, 150);
	log = take_log(f);
	for (char *p = log; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 101);
	assert_non_null(strstr(log, "error: t.conf:3: unknown key 'Bad0' in [Node]\n"));
	assert_non_null(strstr(log, "error: t.conf:102: unknown key 'Bad99' in [Node]\n"));
	assert_null(strstr(log, "Bad100"));
	assert_non_null(strstr(log, "error: t.conf: 150 errors (first 100 shown)\n"));
	free(log);
	free(text);
}

static void test_too_many_peers(void **state)
{
	struct fixture *f = *state;
	char *text = NULL, *log, b64[AG_B64_LEN + 1];
	size_t len = 0;
	FILE *w = open_memstream(&text, &len);
	uint8_t pk[AG_PK_LEN] = {0};
	int n;

	fputs(N, w);
	for (int i = 0; i <= CONFIG_PEERS_MAX; i++) {
		pk[0] = (uint8_t)i;
		pk[1] = (uint8_t)(i >> 8);
		ag_key_to_b64(b64, pk);
		fprintf(w, "[Peer]\nName = p%d\nPublicKey = %s\n", i, b64);
	}
	fclose(w);
	assert_null(parse(text, &n));
	assert_int_equal(n, 1);
	log = take_log(f);
	assert_string_equal(log, "error: t.conf:3075: too many [Peer] sections (at most 1024)\n"
	                         "error: t.conf: 1 error\n");
	free(log);
	free(text);
}

/* Writing */

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	char *path = tu_path(f->dir, "agorad.conf");

	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		struct config *a = parse(goods[i].text, NULL), *b;
		char *text;

		assert_non_null(a);
		assert_int_equal(config_write(path, a), 0);
		assert_non_null(b = config_load(path, self_pk, NULL));
		assert_true(config_equal(a, b));
		assert_non_null(text = tu_read_file(path, NULL));
		assert_string_equal(text, goods[i].normalised);
		free(text);
		config_free(a);
		config_free(b);
	}
	free(path);
	free(take_log(f));
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	struct fixture *f = *state;
	char *sub = tu_path(f->dir, "node"), *path = tu_path(sub, "agorad.conf");
	char *missing = tu_path(f->dir, "missing/agorad.conf"), *log;
	struct config *cfg = parse(goods[1].text, NULL);
	struct stat st;

	assert_non_null(cfg);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(config_write(path, cfg), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(count_entries(sub), 1); /* no temporary file left */

	/* An existing file's mode is kept. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(config_peer_remove(cfg, cfg->peers[0].pk), 0);
	assert_int_equal(config_write(path, cfg), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(sub), 1);

	/* A failed write leaves nothing behind and says why. */
	assert_int_equal(config_write(missing, cfg), -1);
	log = take_log(f);
	assert_non_null(strstr(log, "No such file or directory"));
	assert_int_equal(count_entries(f->dir), 2); /* log and node/ */
	free(log);

	/* A bare file name lands in the current directory. */
	{
		char cwd[4096];
		struct config *back;

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(sub), 0);
		assert_int_equal(config_write("agorad.conf", cfg), 0);
		assert_non_null(back = config_load("agorad.conf", NULL, NULL));
		assert_true(config_equal(cfg, back));
		assert_int_equal(chdir(cwd), 0);
		config_free(back);
	}
	assert_int_equal(count_entries(sub), 1);
	config_free(cfg);
	free(missing);
	free(path);
	free(sub);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	char *path = tu_path(f->dir, "nope.conf"), *log, *want;
	int n = 0;

	assert_null(config_load(path, NULL, &n));
	assert_int_equal(n, 1);
	log = take_log(f);
	assert_int_not_equal(asprintf(&want, "error: %s: No such file or directory\n", path), -1);
	assert_string_equal(log, want);
	free(want);
	free(log);

	assert_null(config_load(f->dir, NULL, &n));
	assert_int_equal(n, 1);
	free(take_log(f));

	/* The file name in messages is the path given. */
	assert_int_equal(tu_write_file(path, N "Hops = 7\n", strlen(N "Hops = 7\n")), 0);
	assert_null(config_load(path, NULL, &n));
	log = take_log(f);
	assert_int_not_equal(asprintf(&want,
	                              "error: %s:3: bad Hops '7': must be a number from 1 to 4\n"
	                              "error: %s: 1 error\n",
	                              path, path),
	                     -1);
	assert_string_equal(log, want);
	free(want);
	free(log);
	free(path);
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	char *path = tu_path(f->dir, "agorad.conf"), *out = NULL;
	size_t len = 0;
	FILE *w;
	const char *in = goods[2].text;

	assert_int_equal(tu_write_file(path, in, strlen(in)), 0);
	assert_non_null(w = open_memstream(&out, &len));
	assert_int_equal(config_check(path, self_pk, w), 0);
	fclose(w);
	assert_string_equal(out, goods[2].normalised);
	free(out);

	/* A peer with our own key fails --check, which does know the key. */
	assert_int_equal(tu_write_file(path, N "[Peer]\nName = X\nPublicKey = " K3 "\n",
	                               strlen(N "[Peer]\nName = X\nPublicKey = " K3 "\n")),
	                 0);
	out = NULL;
	assert_non_null(w = open_memstream(&out, &len));
	assert_int_equal(config_check(path, self_pk, w), -1);
	fclose(w);
	assert_string_equal(out, "");
	free(out);
	free(take_log(f));
	free(path);
}

/* Peer edits */

static void test_peer_add_remove(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = parse(N, NULL), *copy;
	uint8_t k1[AG_PK_LEN], k2[AG_PK_LEN], k4[AG_PK_LEN];
	char *before, *after;
	static const struct {
		int key; /* 1, 2 or 3 (self) */
		const char *name;
		const char *endpoint;
		int want;
	} refused[] = {
	    {1, "Other", NULL, CONFIG_EEXIST},
	    {3, "Me", NULL, CONFIG_ESELF},
	    {2, "Tunis", NULL, CONFIG_ENAMEUSED},
	    {2, "Lyon", NULL, CONFIG_ENAMEUSED},
	    {2, "", NULL, CONFIG_ENAME},
	    {2, " Oran", NULL, CONFIG_ENAME},
	    {2, "a;b", NULL, CONFIG_ENAME},
	    {2, "a\nb", NULL, CONFIG_ENAME},
	    {2, "Oran", "oran", CONFIG_EHOSTPORT},
	    {2, "Oran", "oran:0", CONFIG_EPORT},
	    {2, "Oran", "oran_dz:7447", CONFIG_EHOST},
	    {2, "Oran", "[zz]:7447", CONFIG_EHOST},
	};

	assert_non_null(cfg);
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	memset(k4, 4, sizeof(k4));
	assert_int_equal(config_peer_add(cfg, k1, "Tunis", "tunis.example.org:7447"), 0);
	assert_non_null(before = config_format(cfg));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const uint8_t *k = refused[i].key == 1 ? k1 : refused[i].key == 2 ? k2 : self_pk;

		print_message("refused %zu\n", i);
		assert_int_equal(config_peer_add(cfg, k, refused[i].name, refused[i].endpoint),
		                 refused[i].want);
		assert_non_null(after = config_format(cfg));
		assert_string_equal(after, before); /* unchanged */
		free(after);
		assert_string_not_equal(config_strerror(refused[i].want), "unknown error");
	}
	free(before);

	assert_int_equal(config_peer_add(cfg, k2, "Oran", ""), 0);
	assert_int_equal(config_peer_add(cfg, k4, "Sfax", "[::1]:7447"), 0);
	assert_non_null(copy = config_dup(cfg));
	assert_true(config_equal(cfg, copy));
	assert_int_equal(config_peer_remove(cfg, k2), 0);
	assert_false(config_equal(cfg, copy));
	assert_int_equal(config_peer_remove(cfg, k2), CONFIG_ENOENT);
	assert_non_null(after = config_format(cfg));
	assert_string_equal(after,
	                    N "Listen = 0.0.0.0:7447\n\n[Peer]\nName = Tunis\nPublicKey = " K1
	                      "\nEndpoint = tunis.example.org:7447\n\n[Peer]\nName = Sfax\n"
	                      "PublicKey = BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=\n"
	                      "Endpoint = [::1]:7447\n");
	free(after);
	assert_int_equal(copy->npeers, 3); /* the copy is its own */
	assert_string_equal(copy->peers[1].name, "Oran");
	assert_int_equal(config_peer_remove(cfg, k1), 0);
	assert_int_equal(config_peer_remove(cfg, k4), 0);
	assert_int_equal(cfg->npeers, 0);
	assert_int_equal(config_peer_add(cfg, k2, "Oran", NULL), 0);
	config_free(cfg);
	config_free(copy);
	config_free(NULL);
	assert_string_equal(before = take_log(f), "");
	free(before);
}

static void test_new(void **state)
{
	struct fixture *f = *state;
	struct config *cfg;
	char *text, *log;

	assert_non_null(cfg = config_new("Lyon", NULL));
	assert_non_null(text = config_format(cfg));
	assert_string_equal(text, N "Listen = 0.0.0.0:7447\n");
	free(text);
	config_free(cfg);
	assert_non_null(cfg = config_new("Lyon", "[::]:7000"));
	assert_non_null(text = config_format(cfg));
	assert_string_equal(text, N "Listen = [::]:7000\n");
	free(text);
	config_free(cfg);
	assert_null(config_new("", NULL));
	assert_null(config_new("Lyon", "lyon.example.org:7447"));
	log = take_log(f);
	assert_string_equal(log, "error: bad Name '': a name is 1 to 64 bytes of UTF-8 without "
	                         "control characters or ';', and no space at either end\n"
	                         "error: bad Listen 'lyon.example.org:7447': expected an IP "
	                         "address and a port, such as 0.0.0.0:7447 or [::]:7447\n");
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_and_nul, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_errors_all_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_add_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new, setup, teardown),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
