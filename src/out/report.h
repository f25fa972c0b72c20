/* Text and JSON of the leak report (goautopsy/report.h); the JSON follows
 * docs/report-schema.json. */
#ifndef GA_OUT_REPORT_H
#define GA_OUT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "goautopsy/report.h"

struct out_report_opts {
	bool json;
	bool all;          /* also list the suppressed candidates */
	size_t top;        /* top retainers listed (0: 10) */
};

struct ga_error *out_report(FILE *f, struct ga_session *s, const struct ga_report *r,
			    const struct out_report_opts *o);

/* --fail-on: a comma-separated list of KIND, SEVERITY (a finding at least
 * that severe) or waste>SIZE (K, M, G suffixes, binary); sets *match when
 * a reported finding matches. GA_ERR_USAGE for a malformed spec. */
struct ga_error *out_report_fail_on(const struct ga_report *r, const char *spec, bool *match);
/* "16M", "1.5GiB", "4096" -> bytes; false if malformed. */
bool out_parse_size(const char *s, uint64_t *out);

#endif
