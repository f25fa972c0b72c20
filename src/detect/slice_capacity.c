/* slice_capacity_unused (pattern 4): a slice that starts at its backing
 * array's first element keeps a capacity far above its length (after
 * s = s[:0]); waste = the array minus what every slice into it covers. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

static bool pred(struct det_ctx *c, const struct det_pin *p, const struct det_ref *tr)
{
	(void)c;
	return p->slices && tr;
}

static void describe(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p, const struct det_ref *tr)
{
	f->len = tr->len;
	f->cap = tr->cap;
	f->elem_size = tr->elem_size;
	f->title = det_str(c, "slice with len %" PRIu64 " and cap %" PRIu64 " holds a %" PRIu64 "-byte array",
			   tr->len, tr->cap, p->size);
}

struct ga_error *det_slice_capacity(struct det_ctx *c)
{
	return det_pins_each(c, "slice_capacity_unused", pred, describe);
}
