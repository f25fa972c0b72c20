/* histogram, top, path, object: the heap commands. */
#include <stdlib.h>

#include "cli/cli.h"
#include "out/heap.h"

static struct out_heap_opts heap_opts(const struct cli_opts *o)
{
	struct out_heap_opts ho = {o->json, o->limit > 0 ? (size_t)o->limit : 0, o->depth, o->from};
	return ho;
}

static int run(struct cli_opts *o, struct ga_error *(*fn)(FILE *, struct ga_session *,
							  const struct out_heap_opts *))
{
	struct ga_session *s;
	struct ga_error *err = cli_open(o, &s);
	if (err)
		return cli_fail(err);
	struct out_heap_opts ho = heap_opts(o);
	if (!ho.limit && fn != out_top)
		ho.limit = 30;
	err = fn(stdout, s, &ho);
	ga_session_close(s);
	return err ? cli_fail(err) : 0;
}

static int run_addr(struct cli_opts *o, const char *cmd,
		    struct ga_error *(*fn)(FILE *, struct ga_session *, uint64_t,
					   const struct out_heap_opts *))
{
	if (o->argc < 1) {
		fprintf(stderr, "goautopsy: %s needs an address (goautopsy %s CORE ADDR)\n", cmd, cmd);
		return 2;
	}
	char *end;
	unsigned long long addr = strtoull(o->argv[0], &end, 0);
	if (*end || end == o->argv[0]) {
		fprintf(stderr, "goautopsy: %s: \"%s\" is not an address (0x...)\n", cmd, o->argv[0]);
		return 2;
	}
	struct ga_session *s;
	struct ga_error *err = cli_open(o, &s);
	if (err)
		return cli_fail(err);
	struct out_heap_opts ho = heap_opts(o);
	err = fn(stdout, s, addr, &ho);
	ga_session_close(s);
	return err ? cli_fail(err) : 0;
}

int cmd_histogram(struct cli_opts *o)
{
	return run(o, out_histogram);
}

int cmd_top(struct cli_opts *o)
{
	return run(o, out_top);
}

int cmd_path(struct cli_opts *o)
{
	return run_addr(o, "path", out_path);
}

int cmd_object(struct cli_opts *o)
{
	o->type_provenance = true;
	return run_addr(o, "object", out_object);
}
