/* Goroutine listings: grouped (like panicparse / pprof -traces), one by one
 * in the runtime's own traceback format, and JSON. */
#ifndef GA_OUT_GOROUTINES_H
#define GA_OUT_GOROUTINES_H

#include <jansson.h>
#include <stdio.h>

#include "goautopsy/goroutines.h"

/* "goroutine 6 [chan receive, 5 minutes]:" then frames and "created by". */
void out_goroutine_traceback(FILE *f, const struct ga_goroutine *g);
/* Everything about one goroutine. */
void out_goroutine_detail(FILE *f, const struct ga_goroutines *gs, const struct ga_goroutine *g);
void out_goroutine_groups_text(FILE *f, const struct ga_goroutines *gs,
			       const struct ga_goroutine_groups *groups);

json_t *out_goroutine_json(const struct ga_goroutine *g);
/* {"goroutines": [...], ...} for the goroutines matching filter. */
json_t *out_goroutines_json(const struct ga_goroutines *gs, const struct ga_goroutine_filter *filter);
json_t *out_goroutine_groups_json(const struct ga_goroutines *gs,
				  const struct ga_goroutine_groups *groups);

#endif
