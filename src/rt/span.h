/* Span descriptors (runtime.mspan) from mheap_.allspans. */
#ifndef GA_RT_SPAN_H
#define GA_RT_SPAN_H

#include "rt/rt.h"

struct rt_span {
	uint64_t addr;       /* the *mspan */
	uint64_t base, limit;
	uint64_t npages;
	uint64_t elemsize;
	uint32_t nelems, freeindex, alloc_count;
	uint8_t state;       /* mSpanInUse etc. */
	uint8_t spanclass;   /* sizeclass<<1 | noscan */
	uint32_t sweepgen;
	uint64_t alloc_bits, gcmark_bits;
	uint64_t specials;
	uint64_t large_type; /* 1.22+: *_type of a large object, 0 if none */
};

struct rt_span_layout {
	uint64_t size;
	struct rt_field base, limit, npages, elemsize, nelems, freeindex, alloc_count, state,
		spanclass, sweepgen, alloc_bits, gcmark_bits, specials, large_type;
};

struct rt_heap_summary {
	uint64_t arenas;
	uint64_t arena_bytes;      /* heapArenaBytes */
	uint64_t page_size;
	uint64_t spans_total;      /* descriptors in allspans */
	uint64_t spans_inuse, spans_manual, spans_dead, spans_other;
	uint64_t inuse_bytes;      /* npages*pageSize over in-use spans */
	uint64_t manual_bytes;     /* stacks and other manually managed spans */
	uint64_t alloc_objects;    /* sum of allocCount over in-use spans */
	uint64_t unreadable_spans;
	uint64_t sweepgen;
	int64_t span_inuse_state, span_manual_state;
};

struct ga_error *rt_span_layout(struct ga_rt *rt, struct rt_span_layout *l);
/* Decodes the mspan at addr (buf: l->size bytes of scratch). An unreadable
 * descriptor gives state 0xff and false. */
bool rt_span_decode(struct ga_rt *rt, const struct rt_span_layout *l, uint64_t addr, uint8_t *buf,
		    struct rt_span *out);
/* Reads every descriptor of mheap_.allspans. */
struct ga_error *rt_read_spans(struct ga_rt *rt, struct rt_span **out, size_t *n_out);
struct ga_error *rt_heap_summary(struct ga_rt *rt, const struct rt_span *spans, size_t n,
				 struct rt_heap_summary *out);

#endif
