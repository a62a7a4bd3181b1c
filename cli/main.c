/* main.c: agora, the city staff's tool for the local agorad. The command table is in cmd.c. */
#include <stdio.h>

#include "cmd.h"
#include "key.h"

int main(int argc, char **argv)
{
	if (ag_init() != 0) {
		fprintf(stderr, "agora: libsodium cannot start\n");
		return EXIT_LOCAL;
	}
	return cmd_main(argc, argv);
}
