/* Goroutines as runtime.allgs lists them. */
#ifndef GA_RT_GOROUTINE_H
#define GA_RT_GOROUTINE_H

#include "rt/rt.h"

struct rt_g {
	uint64_t addr;        /* the g */
	uint64_t goid;
	uint32_t status;      /* without the _Gscan bit */
	uint32_t waitreason;
	int64_t waitsince;    /* nanotime when it started waiting, 0 if unknown */
	uint64_t gopc, startpc;
	uint64_t parent_goid; /* 0 when the runtime does not record it */
	uint64_t stack_lo, stack_hi;
	uint64_t sched_sp, sched_pc, sched_bp, sched_lr, sched_ctxt;
	uint64_t syscallsp, syscallpc;
	uint64_t m;           /* *m running it, or 0 */
	uint64_t waiting;     /* first sudog of g.waiting */
	uint64_t defer_, panic_;
	uint64_t labels;
	uint64_t lockedm;     /* the M it is locked to (LockOSThread), or 0 */
	uint64_t missing;     /* a stand-in for this many bad allgs slots (see rt_read_allgs) */
	bool readable;        /* false: the g itself could not be read */
};

struct rt_g_layout {
	uint64_t size;
	struct rt_field goid, status, waitreason, waitsince, gopc, startpc, parent_goid,
		stack_lo, stack_hi, sched_sp, sched_pc, sched_bp, sched_lr, sched_ctxt,
		syscallsp, syscallpc, m, waiting, defer_, panic_, labels, lockedm;
};

struct ga_error *rt_g_layout(struct ga_rt *rt, struct rt_g_layout *l);
/* Reads every g of runtime.allgs (dead ones included). Slots that are nil,
 * not in the core, or whose g cannot be read or has no known status (a
 * damaged length, array or g: the runtime leaves none of these) get no
 * entry each: one last entry, readable=false, stands for them all (addr:
 * the first such g, or its slot when nil or missing; missing: how many), so
 * the count stays honest and a bogus length cannot make the list huge. */
struct ga_error *rt_read_allgs(struct ga_rt *rt, struct rt_g **out, size_t *n_out);
bool rt_g_is_dead(const struct ga_rt *rt, const struct rt_g *g);
/* runtime.isSystemGoroutine: started by a runtime.* function other than
 * runtime.main, and the finalizer/cleanup goroutines unless they are
 * running user code. start_func is the name of the function at startpc. */
bool rt_g_is_system(struct ga_rt *rt, const struct rt_g *g, const char *start_func);
/* What runtime.NumGoroutine leaves out (sched.ngsys): goroutines that were
 * system goroutines when newproc1 created them. The finalizer and cleanup
 * goroutines count as system even while they run user code. */
bool rt_g_counted_as_system(const char *start_func);

#endif
