/* report: the leak detectors' findings, ranked by waste. Exit status 3
 * when --fail-on matches, so a pipeline can flag cores. */
#include <stdlib.h>

#include "cli/cli.h"
#include "goautopsy/report.h"
#include "out/report.h"

#define EXIT_MATCHED 3

int cmd_report(struct cli_opts *o)
{
	struct ga_report_options ro;
	ga_report_options_default(&ro);
	if (o->min_waste && !out_parse_size(o->min_waste, &ro.min_waste)) {
		fprintf(stderr, "goautopsy: --min-waste: \"%s\" is not a size (e.g. 512K, 4M)\n", o->min_waste);
		return 2;
	}
	if (o->min_ratio) {
		char *end;
		ro.min_ratio = strtod(o->min_ratio, &end);
		if (*end || end == o->min_ratio || ro.min_ratio < 0 || ro.min_ratio > 1) {
			fprintf(stderr, "goautopsy: --min-ratio: \"%s\" is not a number in [0, 1]\n", o->min_ratio);
			return 2;
		}
	}
	ro.keep_suppressed = o->all;
	struct ga_session *s;
	struct ga_error *err = cli_open(o, &s);
	if (err)
		return cli_fail(err);
	struct ga_report *r = NULL;
	err = ga_session_report(s, &ro, &r);
	bool match = false;
	if (!err && o->fail_on)
		err = out_report_fail_on(r, o->fail_on, &match);
	if (!err) {
		struct out_report_opts oo = {o->json, o->all, o->limit > 0 ? (size_t)o->limit : 0};
		err = out_report(stdout, s, r, &oo);
	}
	ga_report_free(r);
	ga_session_close(s);
	if (err)
		return cli_fail(err);
	return match ? EXIT_MATCHED : 0;
}
