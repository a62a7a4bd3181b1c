/* mkinit.c: `agora-mkinit DIR NAME ADDR:PORT` makes a node directory and prints its key. */
#include <stdio.h>

#include "nodedir.h"

int main(int argc, char **argv)
{
	uint8_t pk[AG_PK_LEN];
	char key[AG_B64_LEN + 1], err[512];

	if (argc != 4 || ag_init() != 0)
		return 1;
	if (nodedir_init(argv[1], argv[2], argv[3], pk, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agora-mkinit: %s\n", err);
		return 1;
	}
	ag_key_to_b64(key, pk);
	puts(key);
	return 0;
}
