#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "goautopsy/maps.h"
#include "out/format.h"
#include "out/maps.h"

#define TEXT_ENTRIES 10
#define JSON_ENTRIES 1000

/* goautopsy map CORE (GLOBAL | ADDR --type MAPTYPE) */
int cmd_map(struct cli_opts *o)
{
	if (o->argc != 1)
		return cli_fail(ga_error_create(GA_ERR_USAGE,
						"usage: goautopsy map CORE GLOBAL, or goautopsy map CORE ADDR --type 'map[K]V'"));
	const char *target = o->argv[0];
	uint64_t header = 0;
	bool is_addr = target[0] >= '0' && target[0] <= '9';
	if (is_addr) {
		char *end;
		errno = 0;
		header = strtoull(target, &end, 0);
		if (errno || *end)
			return cli_fail(ga_error_create(GA_ERR_USAGE, "bad address %s", target));
		if (!o->type)
			return cli_fail(ga_error_create(GA_ERR_USAGE,
							"goautopsy map: give the map's type with --type 'map[K]V' for an address"));
	}
	struct ga_session *s;
	struct ga_error *err = cli_open(o, &s);
	if (err)
		return cli_fail(err);
	const char *type = o->type;
	if (!is_addr) {
		const char *gtype;
		err = ga_map_global(s, target, &header, &gtype);
		if (!err && !type)
			type = gtype;
	}
	struct ga_map_summary *m = NULL;
	if (!err)
		err = ga_map_summary(s, header, type, o->json ? JSON_ENTRIES : TEXT_ENTRIES, &m);
	if (err) {
		ga_session_close(s);
		return cli_fail(err);
	}
	if (o->json)
		out_json_print(stdout, out_map_json(m));
	else
		out_map_text(stdout, m);
	ga_map_summary_free(m);
	ga_session_close(s);
	return 0;
}
