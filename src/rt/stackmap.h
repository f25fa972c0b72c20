/* The precise stack roots of goroutine frames: what the GC's scanstack /
 * scanframeworker (runtime/mgcmark.go) and getStackMap (runtime/stack.go in
 * Go 1.19, runtime/stkframe.go since 1.21) would scan, for every physical
 * frame rt_unwind_g found.
 *
 * Per frame (rt_frame_roots) or per stack (rt_stack_roots):
 *
 *   locals   funcdata FUNCDATA_LocalsPointerMaps, bitmap number
 *            pcdata PCDATA_StackMapIndex at continpc-1 (at the function
 *            entry, or when the pcdata is -1, bitmap 0). Bit i covers the
 *            word at varp - nbit*8 + 8*i. Only when the frame has locals
 *            (varp - sp > MinFrameSize).
 *   args     funcdata FUNCDATA_ArgsPointerMaps, same bitmap number, bit i
 *            covers argp + 8*i, for frames whose _func.args is known and > 0.
 *            With the register ABI these are the stack-assigned arguments and
 *            the spill area; register arguments are not stack roots until
 *            spilled (which a parked goroutine has done).
 *   objects  funcdata FUNCDATA_StackObjects: stackObjectRecord{off, size,
 *            ptrdata, gcdataoff}, at varp+off (off < 0) or argp+off, kept
 *            only if the object's address is >= sp. The GC scans an object
 *            only if some pointer reaches it (from a slot, another stack
 *            object, a defer or panic record): apply that rule yourself.
 *            Its pointer mask (gcdata at moduledata.rodata + gcdataoff)
 *            covers ptrdata bytes, one bit per word. Go 1.19 records with a
 *            negative ptrdata carry a GC program instead: gcprog is set and
 *            no mask is given; scan such an object conservatively.
 *   conservative ranges
 *            asyncPreempt and debugCallV2 frames, and the frame they
 *            interrupted, are scanned conservatively by the runtime too:
 *            [sp, varp) and the argument bytes. A frame whose maps are missing
 *            or inconsistent (a corrupt core) is also given as a range.
 *   dead     a frame with continpc 0 (under sigpanic without a defer) has no
 *            roots at all.
 *
 * Not covered here (per goroutine, not per frame): g.sched.ctxt, the _defer
 * and _panic chains; and nothing of a running goroutine's registers.
 *
 *   struct rt_roots r = {0};
 *   rt_stack_roots(u, &stack, &r);      appends every frame's roots
 *   ... r.slots / r.objects / r.ranges ...
 *   rt_roots_reset(&r);                 reuse for the next stack
 *   rt_roots_free(&r); */
#ifndef GA_RT_STACKMAP_H
#define GA_RT_STACKMAP_H

#include "rt/unwind.h"

enum rt_slot_kind { RT_SLOT_LOCAL = 0, RT_SLOT_ARG = 1 };

struct rt_root_slot {
	uint64_t addr;     /* a stack word that holds a pointer (read it yourself) */
	uint32_t frame;    /* index of the physical frame in the rt_stack */
	uint8_t kind;      /* enum rt_slot_kind */
};

struct rt_root_object {
	uint64_t addr;     /* where the stack object lives */
	uint64_t size;
	uint64_t ptrdata;  /* bytes from addr that may hold pointers */
	uint32_t mask_off; /* into rt_roots.masks: (ptrdata/8+7)/8 bytes, bit i = word i */
	uint32_t frame;
	bool gcprog;       /* Go 1.19 GC-program record: no mask, scan conservatively */
};

struct rt_root_range {
	uint64_t lo, hi;   /* scan every word in [lo, hi) conservatively */
	uint32_t frame;
	bool missing_map;  /* true: the frame should have had a map and did not */
};

struct rt_roots {
	GA_VEC(struct rt_root_slot) slots;
	GA_VEC(struct rt_root_object) objects;
	GA_VEC(uint8_t) masks;
	GA_VEC(struct rt_root_range) ranges;
	bool precise;      /* no range was added because a map was missing */
};

/* Roots of every frame of st (st from rt_unwind_g), appended to out. */
struct ga_error *rt_stack_roots(struct rt_unwinder *u, const struct rt_stack *st, struct rt_roots *out);
/* Roots of one frame. conservative: scan it conservatively (what
 * rt_stack_roots passes for the frame an asyncPreempt interrupted). */
struct ga_error *rt_frame_roots(struct rt_unwinder *u, const struct rt_frame *f, uint32_t index,
				bool conservative, struct rt_roots *out);
void rt_roots_reset(struct rt_roots *r);
void rt_roots_free(struct rt_roots *r);

#endif
