/* main.c: agora. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "agora: not yet\n");
	return 1;
}
