/* A non-Go process for goautopsy's bad-input tests: it aborts, leaving a core. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *p = malloc(1 << 20);
	memset(p, 'x', 1 << 20);
	abort();
}
