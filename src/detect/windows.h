/* Helpers of the window-based detectors (subslice, substring, interior
 * pointer, slice capacity). */
#ifndef GA_DETECT_WINDOWS_H
#define GA_DETECT_WINDOWS_H

#include "detect/pins.h"

/* Whether a slice of the pin starts at the first element and its capacity
 * spans the array: a truncated slice that can still grow into it. */
bool det_pin_truncated(struct det_ctx *c, const struct det_pin *p, const struct det_ref **which);
/* Adds the finding of kind for pin p wasting waste bytes. */
struct ga_finding *det_pin_finding(struct det_ctx *c, const char *kind, const struct det_pin *p);

/* Which pins a window detector is about (tr: the truncated slice, if any). */
typedef bool (*det_pin_pred)(struct det_ctx *c, const struct det_pin *p, const struct det_ref *tr);
/* Fills in what is particular to the kind. */
typedef void (*det_pin_describe_fn)(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p,
				    const struct det_ref *tr);
/* The loop every window detector is: a finding of kind for each pin the
 * predicate accepts. */
struct ga_error *det_pins_each(struct det_ctx *c, const char *kind, det_pin_pred pred,
			       det_pin_describe_fn describe);

#endif
