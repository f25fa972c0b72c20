/* Goroutine listings: grouped (like panicparse / pprof -traces), one by one
 * in the runtime's own traceback format, and JSON. */
#ifndef GA_OUT_GOROUTINES_H
#define GA_OUT_GOROUTINES_H

#include <stdio.h>

#include "goautopsy/goroutines.h"

/* "goroutine 6 [chan receive, 5 minutes]:" then frames and "created by". */
void out_goroutine_traceback(FILE *f, const struct ga_goroutine *g);
/* Everything about one goroutine. */
void out_goroutine_detail(FILE *f, const struct ga_goroutines *gs, const struct ga_goroutine *g);
void out_goroutine_groups_text(FILE *f, const struct ga_goroutines *gs,
			       const struct ga_goroutine_groups *groups);

/* JSON of one goroutine (every field), pretty-printed. Returns 0 or -1. */
int out_goroutine_json_print(FILE *f, const struct ga_goroutine *g);
/* Prints {"total": ..., "goroutines": [...]} for the goroutines matching
 * filter, one goroutine object per line. Returns 0, or -1 (out of memory). */
int out_goroutines_json_print(FILE *f, const struct ga_goroutines *gs, const struct ga_goroutine_filter *filter);
/* {"total": ..., "matching": ..., "groups": [...]}. Returns 0 or -1. */
int out_goroutine_groups_json_print(FILE *f, const struct ga_goroutines *gs,
				    const struct ga_goroutine_groups *groups);

#endif
