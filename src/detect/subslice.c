/* subslice_pins_array (pattern 1): slice windows cover a small part of a
 * large backing array. The window of every reachable header counts (struct
 * fields, frame variables, map entries, channel buffers); waste = the
 * object minus the union of the windows. A slice that starts at the first
 * element and whose capacity spans the array is a truncated slice instead
 * (slice_capacity_unused): the program can still grow into it. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

static bool pred(struct det_ctx *c, const struct det_pin *p, const struct det_ref *tr)
{
	(void)c;
	return p->slices && !tr;
}

static void describe(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p, const struct det_ref *tr)
{
	(void)tr;
	f->title = det_str(c, "%" PRIu64 " of %" PRIu64 " bytes of a backing array reachable through slices",
			   p->covered, p->size);
}

struct ga_error *det_subslice(struct det_ctx *c)
{
	return det_pins_each(c, "subslice_pins_array", pred, describe);
}
