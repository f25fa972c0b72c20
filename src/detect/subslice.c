/* subslice_pins_array (pattern 1): slice windows cover a small part of a
 * large backing array. The window of every reachable header counts (struct
 * fields, frame variables, map entries, channel buffers); waste = the
 * object minus the union of the windows. A slice that starts at the first
 * element and whose capacity spans the array is a truncated slice instead
 * (slice_capacity_unused): the program can still grow into it. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

struct ga_error *det_subslice(struct det_ctx *c)
{
	struct det_pins *ps;
	struct ga_error *err = det_pins_get(c, &ps);
	if (err)
		return err;
	for (size_t i = 0; i < ps->v.len && !c->oom; i++) {
		const struct det_pin *p = &ps->v.v[i];
		const struct det_ref *tr;
		if (!p->slices || det_pin_truncated(c, p, &tr))
			continue;
		struct ga_finding *f = det_pin_finding(c, "subslice_pins_array", p);
		if (f)
			f->title = det_str(c, "%" PRIu64 " of %" PRIu64 " bytes of a backing array reachable through slices",
					   p->covered, p->size);
	}
	return NULL;
}
