/* The goautopsy command line: shared option parsing and the command table. */
#ifndef GA_CLI_CLI_H
#define GA_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "goautopsy/goautopsy.h"

struct cli_opts {
	const char *core;
	const char *exe;
	const char *tmpdir;
	bool json;
	bool allow_truncated;
	bool no_exe_check;
	bool conservative_stacks; /* --conservative-stacks */
	bool type_provenance;  /* set by commands that print why objects have their type */
	const char *type;      /* --type: Go type of the value at an address */
	/* goroutines: --all, --state, --reason, --func, --blocked-on, --user */
	bool all;
	const char *state, *reason, *func, *blocked_on;
	bool user_only;
	/* heap commands: --depth (top), --limit (rows) */
	int depth;
	long limit;
	const char *from;      /* path --from ROOT */
	/* report: --min-waste, --min-ratio, --fail-on */
	const char *min_waste, *min_ratio, *fail_on;
	/* command-specific arguments after the core */
	int argc;
	char **argv;
};

/* Prints "goautopsy: message" and returns the exit code for the error. */
int cli_fail(struct ga_error *err);
struct ga_error *cli_open(const struct cli_opts *o, struct ga_session **s);

int cmd_info(struct cli_opts *o);
int cmd_histogram(struct cli_opts *o);
int cmd_top(struct cli_opts *o);
int cmd_path(struct cli_opts *o);
int cmd_object(struct cli_opts *o);
int cmd_goroutines(struct cli_opts *o);
int cmd_goroutine(struct cli_opts *o);
int cmd_map(struct cli_opts *o);
int cmd_report(struct cli_opts *o);
int cmd_types(struct cli_opts *o);

#endif
