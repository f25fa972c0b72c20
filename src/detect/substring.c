/* substring_pins_string (pattern 6): short string headers keep a large
 * string allocation alive; waste = the allocation minus the union of the
 * bytes every reachable string header covers. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

struct ga_error *det_substring(struct det_ctx *c)
{
	struct det_pins *ps;
	struct ga_error *err = det_pins_get(c, &ps);
	if (err)
		return err;
	for (size_t i = 0; i < ps->v.len && !c->oom; i++) {
		const struct det_pin *p = &ps->v.v[i];
		if (!p->strings || p->slices)
			continue;
		struct ga_finding *f = det_pin_finding(c, "substring_pins_string", p);
		if (f)
			f->title = det_str(c, "%" PRIu64 " of %" PRIu64 " bytes of a string allocation reachable through strings",
					   p->covered, p->size);
	}
	return NULL;
}
