/* interior_pointer_pins_array (pattern 2): only plain pointers to single
 * elements reach a large array; waste = the array minus the elements they
 * point to. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

static bool pred(struct det_ctx *c, const struct det_pin *p, const struct det_ref *tr)
{
	(void)c, (void)tr;
	return p->ptrs && !p->slices && !p->strings;
}

static void describe(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p, const struct det_ref *tr)
{
	(void)tr;
	f->title = det_str(c, "pointer%s to %" PRIu64 " bytes keep%s a %" PRIu64 "-byte array alive",
			   p->n == 1 ? "" : "s", p->covered, p->n == 1 ? "s" : "", p->size);
}

struct ga_error *det_interior_pointer(struct det_ctx *c)
{
	return det_pins_each(c, "interior_pointer_pins_array", pred, describe);
}
