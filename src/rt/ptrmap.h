/* Which words of a heap object are pointers, decoded the way the runtime's
 * scanobject finds them. The layout is detected from DWARF:
 *   ARENA2   (1.19)       heapArena.bitmap [N]uint8, 2 bits a word (pointer,
 *                         scan); scanning stops at the first "dead" word
 *   ARENA1   (1.20-1.21,  heapArena.bitmap [N]uintptr 1 bit a word, plus
 *             1.22 noallocheaders)  heapArena.noMorePtrs
 *   HEADERS  (1.22+)      small objects: bits at the end of the span
 *                         (before Green Tea's inline mark bits); bigger
 *                         ones: a malloc header *_type; large: mspan.largeType */
#ifndef GA_RT_PTRMAP_H
#define GA_RT_PTRMAP_H

#include "rt/heap.h"
#include "rt/rtype.h"

enum rt_ptrmap_layout {
	RT_PTRMAP_NONE = 0,
	RT_PTRMAP_ARENA2,
	RT_PTRMAP_ARENA1,
	RT_PTRMAP_HEADERS,
};

struct rt_ptrmap {
	struct rt_heap *h;
	struct rt_types *types;
	enum rt_ptrmap_layout layout;
	uint64_t bitmap_off;      /* heapArena.bitmap */
	uint64_t bitmap_bytes;
	uint64_t nomore_off;      /* heapArena.noMorePtrs (ARENA1) */
	uint64_t min_header;      /* minSizeForMallocHeader */
	uint64_t header_size;     /* mallocHeaderSize */
	uint64_t inline_mark_size; /* sizeof(spanInlineMarkBits), 0 without Green Tea */
	const uint8_t **arena_bitmap; /* per arena: view of its bitmap, or NULL */
	GA_VEC(uint64_t) buf;     /* result bits */
	uint64_t failures;        /* objects whose map could not be read */
};

struct ga_error *rt_ptrmap_init(struct rt_ptrmap *pm, struct rt_heap *h, struct rt_types *types);
void rt_ptrmap_free(struct rt_ptrmap *pm);
const char *rt_ptrmap_layout_name(enum rt_ptrmap_layout l);

/* The pointer words of the object in slot `slot` of span s (address addr):
 * *bits (valid until the next call) has one bit per word of the slot, *nwords
 * words. *type gets the runtime type the heap records for the object (malloc
 * header or largeType; 0 if none) and *typed_by its enum rt_typed_by.
 * Returns false when the map cannot be read (then nothing is a pointer);
 * *err only for out-of-memory. */
bool rt_ptrmap_object(struct rt_ptrmap *pm, const struct rt_hspan *s, uint64_t addr,
		      const uint64_t **bits, uint64_t *nwords, rt_type_idx *type, uint8_t *typed_by,
		      struct ga_error **err);

#endif
