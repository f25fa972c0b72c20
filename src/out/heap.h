/* Text and JSON for the heap commands: histogram, top, path, object. */
#ifndef GA_OUT_HEAP_H
#define GA_OUT_HEAP_H

#include <jansson.h>
#include <stdio.h>

#include "goautopsy/goautopsy.h"
#include "goautopsy/heap.h"

struct out_heap_opts {
	bool json;
	size_t limit;  /* rows */
	int depth;     /* top: dominator tree levels below each row */
	const char *from; /* path: only from the roots of this name */
};

struct ga_error *out_histogram(FILE *f, struct ga_session *s, const struct out_heap_opts *o);
struct ga_error *out_top(FILE *f, struct ga_session *s, const struct out_heap_opts *o);
struct ga_error *out_path(FILE *f, struct ga_session *s, uint64_t addr, const struct out_heap_opts *o);
struct ga_error *out_object(FILE *f, struct ga_session *s, uint64_t addr, const struct out_heap_opts *o);
/* "main.Node", "untyped 48 B", "untyped tiny block 16 B" (buf 96 bytes). */
const char *out_type_label(struct ga_session *s, const struct ga_object *o, char *buf, size_t n);

#endif
