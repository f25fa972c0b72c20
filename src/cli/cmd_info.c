#include "cli/cli.h"
#include "out/format.h"
#include "out/info.h"

int cmd_info(struct cli_opts *o)
{
	struct ga_session *s;
	struct ga_error *err = cli_open(o, &s);
	if (err)
		return cli_fail(err);
	const struct ga_info *in;
	err = ga_session_info(s, &in);
	if (err) {
		ga_session_close(s);
		return cli_fail(err);
	}
	if (o->json)
		out_json_print(stdout, out_info_json(in));
	else
		out_info_text(stdout, in);
	ga_session_close(s);
	return 0;
}
