#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "goautopsy/goroutines.h"
#include "out/format.h"
#include "out/goroutines.h"

static int list(struct cli_opts *o, struct ga_session **s, const struct ga_goroutines **gs)
{
	struct ga_error *err = cli_open(o, s);
	if (!err)
		err = ga_session_goroutine_list(*s, gs);
	if (err) {
		ga_session_close(*s);
		*s = NULL;
		return cli_fail(err);
	}
	return 0;
}

int cmd_goroutines(struct cli_opts *o)
{
	if (o->argc) {
		fprintf(stderr, "goautopsy: goroutines takes only the core (goautopsy goroutine CORE ID shows one)\n");
		return 2;
	}
	struct ga_session *s = NULL;
	const struct ga_goroutines *gs;
	int rc = list(o, &s, &gs);
	if (rc)
		return rc;
	struct ga_goroutine_filter f = {o->state, o->reason, o->func, o->blocked_on, o->user_only};
	if (o->all) {
		if (o->json) {
			if (out_goroutines_json_print(stdout, gs, &f)) {
				ga_session_close(s);
				return cli_fail(&ga_error_nomem);
			}
		} else {
			bool first = true;
			for (size_t i = 0; i < gs->n; i++) {
				if (!ga_goroutine_matches(&gs->v[i], &f))
					continue;
				if (!first)
					fputc('\n', stdout);
				first = false;
				out_goroutine_traceback(stdout, &gs->v[i]);
			}
		}
		ga_session_close(s);
		return 0;
	}
	struct ga_goroutine_groups *groups;
	struct ga_error *err = ga_goroutine_groups(gs, &f, &groups);
	if (err) {
		ga_session_close(s);
		return cli_fail(err);
	}
	int rc2 = 0;
	if (o->json)
		rc2 = out_goroutine_groups_json_print(stdout, gs, groups);
	else
		out_goroutine_groups_text(stdout, gs, groups);
	ga_goroutine_groups_free(groups);
	ga_session_close(s);
	return rc2 ? cli_fail(&ga_error_nomem) : 0;
}

int cmd_goroutine(struct cli_opts *o)
{
	if (o->argc != 1) {
		fprintf(stderr, "goautopsy: goroutine needs one goroutine id (goautopsy goroutine CORE ID)\n");
		return 2;
	}
	char *end;
	errno = 0;
	unsigned long long id = strtoull(o->argv[0], &end, 0);
	if (errno || *end || end == o->argv[0]) {
		fprintf(stderr, "goautopsy: \"%s\" is not a goroutine id\n", o->argv[0]);
		return 2;
	}
	struct ga_session *s = NULL;
	const struct ga_goroutines *gs;
	int rc = list(o, &s, &gs);
	if (rc)
		return rc;
	const struct ga_goroutine *g = ga_goroutine_find(gs, id);
	if (!g) {
		struct ga_error *err = ga_error_create(GA_ERR_NOT_FOUND,
						       "no goroutine %llu in the core (%zu goroutines, ids %" PRIu64 "..%" PRIu64 ")",
						       id, gs->n, gs->n ? gs->v[0].id : 0, gs->n ? gs->v[gs->n - 1].id : 0);
		ga_session_close(s);
		return cli_fail(err);
	}
	int rc2 = 0;
	if (o->json)
		rc2 = out_goroutine_json_print(stdout, g);
	else
		out_goroutine_detail(stdout, gs, g);
	ga_session_close(s);
	return rc2 ? cli_fail(&ga_error_nomem) : 0;
}
