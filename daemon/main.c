/* main.c: agorad. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "agorad: not yet\n");
	return 1;
}
