/* What the slice, string and pointer detectors share: the typed references
 * grouped by the heap object they point into, with the union of the
 * windows the program can still use and whether every pointer into the
 * object is accounted for. */
#ifndef GA_DETECT_PINS_H
#define GA_DETECT_PINS_H

#include "detect/detect.h"

struct det_pin {
	ga_obj target;
	uint64_t addr, size;      /* the object */
	uint64_t data;            /* first byte of the values (after a malloc header) */
	uint32_t first, n;        /* refs: det_pins.order[first .. first+n) index det_refs.refs */
	uint64_t covered;         /* bytes of [data, addr+size) under some window */
	uint64_t stack_words;     /* untyped words of goroutine stacks pointing into it */
	const char *unsure;       /* why the windows cannot be trusted, NULL if they can */
	bool strings, slices, ptrs;
	bool map_storage;         /* the runtime's own: map storage, or a runtime structure */
	bool checked;             /* unsure and stack_words are filled */
};

struct det_pins {
	GA_VEC(struct det_pin) v;
	uint32_t *order;          /* ref indices sorted by target, then ptr */
};

/* Built once per report. */
struct ga_error *det_pins_get(struct det_ctx *c, struct det_pins **out);
void det_pins_free(struct det_pins *p);
/* The reference to show as the holder: the first one reached from a
 * named root. */
const struct det_ref *det_pin_main_ref(struct det_ctx *c, const struct det_pin *p);
/* Fills holder, location, objects of f for pin p (role of the object). */
void det_pin_describe(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p,
		      const struct det_ref *main);

#endif
