#include <stdlib.h>

#include "cli/cli.h"
#include "out/typing.h"

/* goautopsy types CORE [ADDR...] [--limit N: list N untyped live objects] */
int cmd_types(struct cli_opts *o)
{
	uint64_t *addrs = calloc(o->argc ? (size_t)o->argc : 1, sizeof(*addrs));
	if (!addrs)
		return cli_fail(&ga_error_nomem);
	for (int i = 0; i < o->argc; i++) {
		char *end;
		addrs[i] = strtoull(o->argv[i], &end, 0);
		if (*end || end == o->argv[i]) {
			free(addrs);
			fprintf(stderr, "goautopsy: types: \"%s\" is not an address (0x...)\n", o->argv[i]);
			return 2;
		}
	}
	struct ga_session *s;
	o->type_provenance = true;
	struct ga_error *err = cli_open(o, &s);
	if (!err) {
		err = out_types(stdout, s, addrs, (size_t)o->argc, o->limit > 0 ? (size_t)o->limit : 0,
				o->json);
		ga_session_close(s);
	}
	free(addrs);
	return err ? cli_fail(err) : 0;
}
