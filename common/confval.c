/* confval.c: the values agora init writes and agorad reads, by one set of rules. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <utf8proc.h>

#include "confval.h"

static const char *const reasons[] = {
    [-CONFVAL_ENAME] = "a name is 1 to 64 bytes of UTF-8 without control characters or ';', "
                       "and no space at either end",
    [-CONFVAL_EHOSTPORT] = "expected HOST:PORT",
    [-CONFVAL_EHOST] = "the host must be a DNS name, an IPv4 address or an IPv6 address in "
                       "brackets",
    [-CONFVAL_EPORT] = "the port must be a number from 1 to 65535",
    [-CONFVAL_EADDR] = "expected an IP address and a port, such as 0.0.0.0:7447 or [::]:7447",
};

const char *confval_strerror(int code)
{
	if (code > CONFVAL_ENAME || code < CONFVAL_EADDR)
		return NULL;
	return reasons[-code];
}

/* Also refuses what would not read back the same: edge spaces and ';'. */
int confval_name(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t len = strlen(s);

	if (len == 0 || len > CONFVAL_NAME_MAX || isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[len - 1]) || strchr(s, ';') != NULL)
		return CONFVAL_ENAME;
	while (*p != '\0') {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);

		if (n <= 0 || utf8proc_category(cp) == UTF8PROC_CATEGORY_CC)
			return CONFVAL_ENAME;
		p += n;
	}
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return CONFVAL_EPORT;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return CONFVAL_EPORT;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return CONFVAL_EPORT;
	*port = (uint16_t)v;
	return 0;
}

/* Letters, digits and '-' in labels of 1..63, and a last label not all digits
 * (getaddrinfo would read "1.2.3" as an IPv4 address). */
static bool is_dns_name(const char *s)
{
	size_t label = 0, len = strlen(s);
	bool digits = true;

	if (len == 0 || len > CONFVAL_HOST_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			if (c == '\0')
				return !digits;
			label = 0;
			digits = true;
			continue;
		}
		if (!isalnum((unsigned char)c) && !(c == '-' && label > 0))
			return false;
		digits = digits && isdigit((unsigned char)c);
		label++;
	}
	return false;
}

/* h is an IP address: "1.2.3.4", or "[::1]" in brackets. Writes it normalised
 * to host and, if sa is not NULL, with port to sa. */
static bool parse_ip(char *h, size_t hlen, uint16_t port, char host[static INET6_ADDRSTRLEN],
                     struct sockaddr_storage *sa)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	struct in6_addr a6;
	struct in_addr a4;

	if (h[0] == '[' && h[hlen - 1] == ']') {
		h[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, h + 1, &a6) != 1)
			return false;
		inet_ntop(AF_INET6, &a6, host, INET6_ADDRSTRLEN);
		if (sa != NULL) {
			memset(sa, 0, sizeof(*sa));
			*s6 = (struct sockaddr_in6){
			    .sin6_family = AF_INET6, .sin6_addr = a6, .sin6_port = htons(port)};
		}
		return true;
	}
	if (inet_pton(AF_INET, h, &a4) != 1)
		return false;
	inet_ntop(AF_INET, &a4, host, INET_ADDRSTRLEN);
	if (sa != NULL) {
		memset(sa, 0, sizeof(*sa));
		*s4 = (struct sockaddr_in){
		    .sin_family = AF_INET, .sin_addr = a4, .sin_port = htons(port)};
	}
	return true;
}

/*
 * Splits "host:port" or "[v6]:port" into host (brackets off, normalised)
 * and port. With sa, the host must be an IP address, stored with the port.
 */
int confval_hostport(const char *s, char host[static CONFVAL_HOST_MAX + 1], uint16_t *port,
                     struct sockaddr_storage *sa)
{
	const char *colon = strrchr(s, ':');
	char h[CONFVAL_HOST_MAX + 3];
	size_t hlen;
	int r;

	if (colon == NULL)
		return CONFVAL_EHOSTPORT;
	hlen = (size_t)(colon - s);
	if ((r = parse_port(colon + 1, port)) != 0)
		return r;
	if (hlen == 0 || hlen >= sizeof(h))
		return sa != NULL ? CONFVAL_EADDR : CONFVAL_EHOST;
	memcpy(h, s, hlen);
	h[hlen] = '\0';
	if (parse_ip(h, hlen, *port, host, sa))
		return 0;
	if (sa != NULL)
		return CONFVAL_EADDR;
	if (!is_dns_name(h))
		return CONFVAL_EHOST;
	for (size_t i = 0; i <= hlen; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	return 0;
}

/* "host:port", with brackets around an IPv6 address. */
void confval_format_hostport(FILE *f, const char *host, uint16_t port)
{
	if (strchr(host, ':') != NULL)
		fprintf(f, "[%s]:%u", host, port);
	else
		fprintf(f, "%s:%u", host, port);
}

void confval_format_listen(FILE *f, const struct sockaddr_storage *sa)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		confval_format_hostport(f, host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		confval_format_hostport(f, host, ntohs(s4->sin_port));
	}
}
