/*
 * confval.h: the values of agorad.conf that agora init writes and agorad
 * reads (a Name, HOST:PORT, a Listen address), checked and written back by
 * the one set of rules both use. No state; no logging: codes, and words for
 * them.
 */
#ifndef AGORA_CONFVAL_H
#define AGORA_CONFVAL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONFVAL_NAME_MAX 64  /* bytes of UTF-8 in a Name */
#define CONFVAL_HOST_MAX 253 /* a DNS name's limit */

/* Why a value was refused; the numbers are config.h's CONFIG_E* for the same faults. */
enum {
	CONFVAL_ENAME = -2,     /* not a valid Name */
	CONFVAL_EHOSTPORT = -3, /* not HOST:PORT */
	CONFVAL_EHOST = -4,     /* host neither DNS name nor IP address */
	CONFVAL_EPORT = -5,     /* port not 1..65535 */
	CONFVAL_EADDR = -6,     /* Listen host not an IP address */
};

/* The words for a CONFVAL_E* code; NULL for another code. */
const char *confval_strerror(int code);

/* A Name: 1..64 bytes of UTF-8, no control character or ';', no space at either end. */
int confval_name(const char *s);

/*
 * Splits "host:port" or "[v6]:port" into host (brackets off, normalised)
 * and port. With sa, the host must be an IP address, stored with the port
 * (a Listen value). 0 or a CONFVAL_E* code.
 */
int confval_hostport(const char *s, char host[static CONFVAL_HOST_MAX + 1], uint16_t *port,
                     struct sockaddr_storage *sa);

/* Writes "host:port", with brackets around an IPv6 address. */
void confval_format_hostport(FILE *, const char *host, uint16_t port);
/* Writes a Listen address as confval_hostport reads it back. */
void confval_format_listen(FILE *, const struct sockaddr_storage *);

#endif
