/* Precise goroutine stack roots for the detectors.
 *
 * When the object graph scanned a goroutine's stack conservatively (every
 * word that looks like a pointer), stale words - dead slots of frames that
 * returned, values below a call's live area - keep objects "alive" the
 * runtime would free, and hide leaks: a blocked goroutine's channel looks
 * reachable from main's stack, a finalizer cycle looks held. The runtime's
 * GC scans stacks with the stack maps (rt/stackmap.h); this module does the
 * same for every goroutine and gives, per goroutine, the heap nodes its
 * stack precisely points to. A detector uses them instead of the successors
 * of a conservatively scanned stack root. Roots the graph already scanned
 * precisely are left alone. */
#ifndef GA_DETECT_STACKROOTS_H
#define GA_DETECT_STACKROOTS_H

#include "detect/detect.h"

struct det_stackroots {
	struct ga_hash by_goid;  /* goid + 1 -> index into first */
	GA_VEC(uint32_t) first;  /* CSR: targets of goroutine k are nodes[first[k] .. first[k+1]) */
	GA_VEC(ga_node) nodes;
	GA_VEC(const char *) funcs; /* parallel to nodes: the function of the frame holding it */
	GA_VEC(uint32_t) wfirst; /* CSR as first: the live pointer words of goroutine k, sorted */
	GA_VEC(uint64_t) words;
	GA_VEC(uint64_t) wframe;  /* parallel to words: sp of the frame the slot belongs to
				   * (argument spill slots lie in the caller's frame) */
	uint64_t precise, fallback; /* goroutines with stack maps / without */
};

struct ga_error *det_stackroots_build(struct det_ctx *c, struct det_stackroots **out);
void det_stackroots_free(struct det_stackroots *sr);

/* The successors of graph node v as the detectors should see them: for a
 * conservatively scanned stack root whose goroutine's stack maps are known,
 * the nodes its live slots point to; otherwise the graph's. */
void det_succ(struct det_ctx *c, ga_node v, const ga_node **out, size_t *n);
/* Whether the stack word at addr of goroutine goid is a live pointer slot:
 * 1 yes, 0 no (dead or scalar), -1 unknown (no stack maps: assume it is). */
int det_stack_word_live(struct det_ctx *c, uint64_t goid, uint64_t addr);
/* As det_stack_word_live; *frame_sp: the sp of the frame the live slot
 * belongs to. */
int det_stack_word_owner(struct det_ctx *c, uint64_t goid, uint64_t addr, uint64_t *frame_sp);
/* The function of goroutine goid's frame whose live slot points to node x,
 * NULL if none (or no stack maps). */
const char *det_stack_holder(struct det_ctx *c, uint64_t goid, ga_node x);
/* Whether root node p really points to node x (see det_succ). */
bool det_holds(struct det_ctx *c, ga_node p, ga_node x);

#endif
