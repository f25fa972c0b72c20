/* The objects of the Go heap. Arenas come from mheap_.heapArenas (allArenas
 * before 1.26), spans from each heapArena.spans page map; every allocated
 * slot of an in-use span (slot < freeindex or allocBits set) gets a dense
 * 32-bit id, in address order. Manual spans (goroutine stacks and other
 * manually managed memory) are counted apart and hold no objects.
 *
 * Address -> object: arena table -> page -> span -> slot by division ->
 * rank of the slot in a copy of the span's allocation bits. No hashing. */
#ifndef GA_RT_HEAP_H
#define GA_RT_HEAP_H

#include "rt/rt.h"
#include "rt/span.h"

typedef uint32_t rt_obj_id;
#define RT_NO_OBJ UINT32_MAX

enum {
	RT_HSPAN_NOSCAN = 1,    /* spanclass noscan bit: no pointers */
	RT_HSPAN_LARGE = 2,     /* size class 0: one object */
	RT_HSPAN_TINY = 4,      /* the tiny allocator's size class (noscan 16 B blocks) */
	RT_HSPAN_UNSWEPT = 8,   /* not swept since the last GC: dead objects still allocated */
	RT_HSPAN_INLINEMARK = 16, /* Green Tea: ends with spanInlineMarkBits */
};

/* An in-use span that holds objects. */
struct rt_hspan {
	uint64_t base;
	uint64_t elemsize;
	uint64_t span;        /* the *mspan */
	uint64_t large_type;  /* mspan.largeType (1.22+), else 0 */
	uint64_t specials;    /* mspan.specials */
	uint64_t bitw;        /* first word of its slots in rt_heap.allocw */
	uint32_t npages;
	uint32_t nelems;
	uint32_t first_id;
	uint32_t nobjs;       /* allocated slots */
	uint32_t alloc_count; /* the runtime's allocCount, for comparison */
	uint8_t sizeclass;
	uint8_t flags;        /* RT_HSPAN_* */
};

struct rt_harena {
	uint64_t base;   /* first address */
	uint64_t ha;     /* the *heapArena */
	uint64_t idx;    /* arenaIdx */
};

/* Provenance of an object's type in rt_heap.obj_type. */
enum rt_typed_by {
	RT_TYPED_NONE = 0,
	RT_TYPED_HEADER,     /* 1.22+ malloc header */
	RT_TYPED_LARGETYPE,  /* 1.22+ mspan.largeType */
	RT_TYPED_FINALIZER,  /* a finalizer special's ot */
	RT_TYPED_DWARF,      /* propagated from a typed root through DWARF types */
	RT_TYPED_ITAB,       /* the type word of an interface pointing at it */
};

struct rt_heap {
	struct ga_rt *rt;
	uint64_t page_size, arena_bytes, arena_base_offset, pages_per_arena;
	uint64_t tiny_class;
	bool inline_mark;       /* Green Tea spanInlineMarkBits (1.25+ experiment, 1.26 default) */
	GA_VEC(struct rt_hspan) spans;   /* in address order */
	GA_VEC(struct rt_harena) arenas; /* sorted by base */
	uint64_t arena_lo;      /* smallest arenaIdx */
	uint64_t arena_span;    /* arena_slot covers [arena_lo, arena_lo+arena_span) */
	uint32_t *arena_slot;   /* arenaIdx - arena_lo -> index in arenas + 1 */
	uint32_t *page_span;    /* arenas.len*pages_per_arena: hspan index + 1 */
	uint64_t *allocw;       /* allocation bits of every slot of every span */
	uint64_t *freshw;       /* same layout: allocated since the span was last swept
				   (below freeindex, allocBits clear): after the last GC */
	uint32_t *allocrank;    /* id of the first allocated slot at or after each word */
	uint64_t nwords;
	uint32_t nobjs;
	/* totals */
	uint64_t inuse_bytes;   /* pages of in-use spans: the runtime's HeapInuse */
	uint64_t alloc_bytes;   /* elemsize over allocated slots: HeapAlloc */
	uint64_t manual_bytes, manual_spans;
	uint64_t runtime_alloc_count; /* allocCount summed */
	uint64_t fresh_objects, fresh_bytes; /* allocated since their span's last sweep */
	uint64_t unreadable;    /* span descriptors or bitmaps that could not be read */
	/* per object: the type hook filled by the runtime's own records here
	 * and by DWARF propagation elsewhere (index into struct rt_types) */
	uint32_t *obj_type;
	uint8_t *obj_typed_by;  /* enum rt_typed_by */
};

struct ga_error *rt_heap_build(struct ga_rt *rt, struct rt_heap *h);
void rt_heap_free(struct rt_heap *h);

/* The object containing addr (interior pointers too), or RT_NO_OBJ. */
rt_obj_id rt_heap_find(const struct rt_heap *h, uint64_t addr);
/* The span index holding id. */
uint32_t rt_heap_span_of(const struct rt_heap *h, rt_obj_id id);
/* Slot index and address of id within its span. */
uint64_t rt_heap_addr(const struct rt_heap *h, rt_obj_id id);
uint64_t rt_heap_size(const struct rt_heap *h, rt_obj_id id);
/* rt_heap_addr when the caller knows id's span s (one span lookup saved). */
uint64_t rt_heap_addr_in(const struct rt_heap *h, const struct rt_hspan *s, rt_obj_id id);
/* Whether id was allocated after its span was last swept (after the last GC
 * for a swept span). */
bool rt_heap_fresh(const struct rt_heap *h, rt_obj_id id);
/* The span holding addr (any in-use span), or NULL. */
const struct rt_hspan *rt_heap_span_at(const struct rt_heap *h, uint64_t addr);

/* Iterates the allocated slots of span si: call with *slot = -1 first. */
static inline bool rt_heap_next_slot(const struct rt_heap *h, const struct rt_hspan *s,
				     int64_t *slot)
{
	for (uint64_t i = (uint64_t)(*slot + 1); i < s->nelems;) {
		uint64_t w = h->allocw[s->bitw + i / 64] >> (i % 64);
		if (!w) {
			i = (i / 64 + 1) * 64;
			continue;
		}
		i += (uint64_t)__builtin_ctzll(w);
		if (i >= s->nelems)
			break;
		*slot = (int64_t)i;
		return true;
	}
	return false;
}

#endif
