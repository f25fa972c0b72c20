/* Span specials (finalizers, cleanups, weak handles) and the queues of
 * finalizers and cleanups waiting to run (runtime.allfin finBlocks,
 * runtime.gcCleanups cleanupBlocks): the roots the GC's markrootSpans and
 * fixedRootFinalizers / fixedRootCleanups scan. */
#ifndef GA_RT_SPECIALS_H
#define GA_RT_SPECIALS_H

#include "rt/heap.h"

enum rt_special_kind {
	RT_SPECIAL_FINALIZER = 1, /* span special: runtime.SetFinalizer */
	RT_SPECIAL_CLEANUP,       /* span special: runtime.AddCleanup (1.24+) */
	RT_SPECIAL_WEAKHANDLE,    /* span special: weak.Make's handle (1.24+) */
	RT_SPECIAL_OTHER,         /* profile, reachable, pinner...: no pointers */
	RT_QUEUED_FINALIZER,      /* in a finBlock, the object already found unreachable */
	RT_QUEUED_CLEANUP,        /* in a cleanupBlock */
};

#define RT_SPECIAL_PTRS 3

struct rt_special {
	uint64_t addr;      /* the record */
	uint64_t obj;       /* the object it is attached to (specials), or the
			       finalizer's argument (queued finalizers) */
	uint64_t ptrs[RT_SPECIAL_PTRS]; /* pointers the record holds (fn, arg...), 0 = none */
	uint64_t ot_elem;   /* finalizers: the object's type descriptor, 0 unknown */
	uint64_t fn_pc;     /* the function's entry pc (fn->fn), 0 unknown */
	uint32_t span;      /* index in rt_heap.spans for span specials */
	uint8_t kind;       /* enum rt_special_kind */
};

struct rt_specials {
	GA_VEC(struct rt_special) v;
	uint64_t truncated; /* lists cut short (cycles, unreadable records) */
};

/* Reads every in-use span's specials and both queues. */
struct ga_error *rt_read_specials(struct rt_heap *h, struct rt_specials *out);
void rt_specials_free(struct rt_specials *s);
const char *rt_special_kind_name(uint8_t kind);

#endif
