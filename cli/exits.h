/*
 * exits.h: agora's exit statuses (DESIGN.md, CLI), by name. A command, the
 * control client and main return one of these, never a bare number.
 */
#ifndef AGORA_EXITS_H
#define AGORA_EXITS_H

enum exit_status {
	EXIT_DONE = 0,
	EXIT_NOTFOUND = 1,    /* what was asked for does not exist, or does not hold */
	EXIT_REFUSED = 2,     /* usage or input refused */
	EXIT_UNREACHABLE = 3, /* agorad cannot be reached, or does not answer as it should */
	EXIT_FAILED = 4,      /* the node failed (store, disk); agorad's log says why */
};

/* agora itself cannot go on (out of memory, its output lost): as unreachable, 3. */
#define EXIT_LOCAL EXIT_UNREACHABLE

#endif
