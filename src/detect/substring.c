/* substring_pins_string (pattern 6): short string headers keep a large
 * string allocation alive; waste = the allocation minus the union of the
 * bytes every reachable string header covers. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

static bool pred(struct det_ctx *c, const struct det_pin *p, const struct det_ref *tr)
{
	(void)c, (void)tr;
	return p->strings && !p->slices;
}

static void describe(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p, const struct det_ref *tr)
{
	(void)tr;
	f->title = det_str(c, "%" PRIu64 " of %" PRIu64 " bytes of a string allocation reachable through strings",
			   p->covered, p->size);
}

struct ga_error *det_substring(struct det_ctx *c)
{
	return det_pins_each(c, "substring_pins_string", pred, describe);
}
