/* slice_capacity_unused (pattern 4): a slice that starts at its backing
 * array's first element keeps a capacity far above its length (after
 * s = s[:0]); waste = the array minus what every slice into it covers. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

struct ga_error *det_slice_capacity(struct det_ctx *c)
{
	struct det_pins *ps;
	struct ga_error *err = det_pins_get(c, &ps);
	if (err)
		return err;
	for (size_t i = 0; i < ps->v.len && !c->oom; i++) {
		const struct det_pin *p = &ps->v.v[i];
		const struct det_ref *tr;
		if (!p->slices || !det_pin_truncated(c, p, &tr))
			continue;
		struct ga_finding *f = det_pin_finding(c, "slice_capacity_unused", p);
		if (!f)
			continue;
		f->len = tr->len;
		f->cap = tr->cap;
		f->elem_size = tr->elem_size;
		f->title = det_str(c, "slice with len %" PRIu64 " and cap %" PRIu64 " holds a %" PRIu64 "-byte array",
				   tr->len, tr->cap, p->size);
	}
	return NULL;
}
