#ifndef GA_OUT_TYPING_H
#define GA_OUT_TYPING_H

#include <stdbool.h>
#include <stdio.h>

#include "goautopsy/heap.h"

/* goautopsy types: how much of the live heap has a type and from what
 * evidence; the type and provenance of the objects at addrs; with
 * untyped > 0, that many untyped live objects and who points to them. */
struct ga_error *out_types(FILE *f, struct ga_session *s, const uint64_t *addrs, size_t naddrs,
			   size_t untyped, bool json);

#endif
