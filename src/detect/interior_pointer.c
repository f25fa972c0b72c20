/* interior_pointer_pins_array (pattern 2): only plain pointers to single
 * elements reach a large array; waste = the array minus the elements they
 * point to. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

struct ga_error *det_interior_pointer(struct det_ctx *c)
{
	struct det_pins *ps;
	struct ga_error *err = det_pins_get(c, &ps);
	if (err)
		return err;
	for (size_t i = 0; i < ps->v.len && !c->oom; i++) {
		const struct det_pin *p = &ps->v.v[i];
		if (!p->ptrs || p->slices || p->strings)
			continue;
		struct ga_finding *f = det_pin_finding(c, "interior_pointer_pins_array", p);
		if (f)
			f->title = det_str(c, "pointer%s to %" PRIu64 " bytes keep%s a %" PRIu64 "-byte array alive",
					   p->n == 1 ? "" : "s", p->covered, p->n == 1 ? "s" : "", p->size);
	}
	return NULL;
}
