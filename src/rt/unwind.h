/* Goroutine stack unwinding, following runtime/traceback.go's unwinder:
 * physical frames found with pcsp frame sizes, each expanded into its
 * logical (inlined) frames, in the runtime's traceback order (innermost
 * first) and with the runtime's own stopping rules (TOPFRAME functions such
 * as goexit, SPWRITE functions, unknown return pcs).
 *
 * Where a goroutine's walk starts (struct rt_frame.how of frame 0):
 *   syscallsp/pc      a goroutine in a system call (g.syscallsp != 0)
 *   m.vdsoSP/PC       a goroutine inside a vDSO call
 *   thread registers  a running goroutine whose thread (m.procid == LWP) has
 *                     its stack pointer inside the goroutine's stack
 *   signal context    the same, when that thread sits in a signal handler:
 *                     the interrupted registers are read from the ucontext
 *                     the kernel pushed under runtime.sigtramp
 *   g.sched           everything else (parked goroutines, and running ones
 *                     whose thread is on the system stack: sched then holds
 *                     the systemstack_switch state)
 *
 * Usage:
 *   struct rt_unwinder *u;  rt_unwinder_open(rt, pcln, &u);   once per session
 *   struct rt_stack st = {0};
 *   rt_unwind_g(u, &g, 0, &st);     st.frames / st.logical; st.error on failure
 *   ... rt_unwind_g(u, &g2, 0, &st) reuses st's buffers ...
 *   rt_stack_free(&st);
 * Logical frame names are the raw symbol names ("runtime.gopanic");
 * rt_funcname_for_print gives what the traceback prints ("panic", "[...]").
 * All amd64 specifics live in arch_amd64.c behind struct rt_arch. */
#ifndef GA_RT_UNWIND_H
#define GA_RT_UNWIND_H

#include "base/hash.h"
#include "rt/goroutine.h"
#include "rt/pclntab.h"

/* How a physical frame was found. */
enum rt_frame_how {
	RT_FRAME_SCHED = 0,   /* g.sched */
	RT_FRAME_SYSCALL,     /* g.syscallsp / syscallpc */
	RT_FRAME_VDSO,        /* m.vdsoSP / vdsoPC */
	RT_FRAME_REGS,        /* the thread's registers (NT_PRSTATUS) */
	RT_FRAME_SIGCTXT,     /* the ucontext of a signal handler on that thread */
	RT_FRAME_UNWOUND,     /* the return address of the frame below it */
};
const char *rt_frame_how_name(enum rt_frame_how how);

enum {
	RT_FRAMEF_TRAP = 1,         /* pc is an interrupted instruction, not a return address */
	RT_FRAMEF_CONSERVATIVE = 2, /* the GC scans this frame conservatively (asyncPreempt and its caller) */
};

/* One physical frame, as runtime.stkframe describes it. */
struct rt_frame {
	uint64_t pc;        /* where execution is (or returns to) in fn */
	uint64_t sym_pc;    /* pc used for symbols: pc-1 after a call, else pc */
	uint64_t continpc;  /* pc for GC liveness; 0 when the frame is dead (below sigpanic, no defer) */
	uint64_t sp;        /* stack pointer at pc */
	uint64_t fp;        /* the caller's sp (just above the return address) */
	uint64_t lr;        /* the caller's pc; 0 for the last frame */
	uint64_t varp;      /* top of the locals */
	uint64_t argp;      /* the arguments */
	struct rt_func fn;
	uint8_t how;        /* enum rt_frame_how */
	uint8_t flags;      /* RT_FRAMEF_* */
	uint32_t first_logical, nlogical; /* into the unwinder's logical frame table */
};

/* A logical frame (inlined call or physical function); shared between
 * stacks: it is identified by the symbol pc. */
struct rt_logical {
	const char *name;   /* symbol name */
	const char *file;
	int32_t line;
	uint8_t funcid;
	bool inlined;
};

struct rt_stack {
	GA_VEC(struct rt_frame) frames;
	uint64_t stack_lo, stack_hi;  /* the bounds the walk was checked against */
	bool complete;      /* ended at a TOPFRAME function (goexit, mstart...) */
	bool truncated;     /* more frames than RT_MAX_FRAMES */
	char error[160];    /* why the walk stopped early, "" if it did not */
};

#define RT_MAX_FRAMES 100000

/* Architecture specifics. */
struct rt_arch {
	const char *name;
	unsigned ptrsize, min_frame_size;
	bool uses_lr;
	int reg_pc, reg_sp, reg_lr; /* indices in ga_core_thread.regs, -1 if none */
	/* Registers interrupted by a signal, from the ucontext at ctx. */
	bool (*sigctxt)(struct ga_mem *mem, uint64_t ctx, uint64_t *pc, uint64_t *sp, uint64_t *lr);
	/* The ucontext address given the sigtramp frame's fp. */
	uint64_t (*sigtramp_ctx)(uint64_t fp);
};
const struct rt_arch *rt_arch_for(uint16_t machine);

struct rt_pcinfo; /* cache entry, unwind.c */

struct rt_m_layout {
	struct rt_field procid, curg, g0, gsignal, vdso_sp, vdso_pc, id, throwing, incgo;
};

struct rt_unwinder {
	struct ga_rt *rt;
	struct rt_pcln *pcln;
	const struct rt_arch *arch;
	struct rt_m_layout ml;
	bool trap_after_async; /* frames under asyncPreempt/debugCall symbolize at pc (Go 1.21+) */
	struct ga_hash pcs;    /* (pc | trap<<63) -> index in infos */
	GA_VEC(struct rt_pcinfo) infos;
	GA_VEC(struct rt_logical) logical;
	struct ga_hash threads; /* LWP+1 -> index in core threads */
	uint64_t sigtramp_lo, sigtramp_hi; /* runtime.sigtramp's pc range */
};

struct ga_error *rt_unwinder_open(struct ga_rt *rt, struct rt_pcln *pcln, struct rt_unwinder **out);
void rt_unwinder_close(struct rt_unwinder *u);

enum {
	/* GC semantics instead of traceback printing: an innermost SPWRITE
	 * frame (stopped at its stack-growth check) does not end the walk. */
	RT_UNWIND_GC = 1,
};

/* Unwinds one goroutine into st (its vectors are reused). Returns an error
 * only for out-of-memory; a walk that cannot go on sets st->error and keeps
 * the frames found so far. */
struct ga_error *rt_unwind_g(struct rt_unwinder *u, const struct rt_g *g, unsigned flags,
			     struct rt_stack *st);
/* Unwinds from an explicit pc/sp (trap: pc is an interrupted instruction)
 * within the stack [lo, hi). */
struct ga_error *rt_unwind_at(struct rt_unwinder *u, uint64_t pc, uint64_t sp, uint64_t lr,
			      uint64_t lo, uint64_t hi, enum rt_frame_how how, bool trap,
			      unsigned flags, struct rt_stack *st);
void rt_stack_free(struct rt_stack *st);

static inline const struct rt_logical *rt_frame_logical(const struct rt_unwinder *u,
							 const struct rt_frame *f, uint32_t i)
{
	return &u->logical.v[f->first_logical + i];
}

/* What the runtime's traceback prints for a symbol name: "panic" for
 * runtime.gopanic, and (Go 1.21+) type arguments shortened to "[...]".
 * Returns name itself when nothing changes, else writes buf. */
const char *rt_funcname_for_print(const struct ga_rt *rt, const char *name, char *buf, size_t n);

/* The M a goroutine runs on: what the unwinder needs of it. */
struct rt_m {
	uint64_t addr;
	uint64_t procid;  /* LWP */
	uint64_t curg, g0, gsignal;
	uint64_t vdso_sp, vdso_pc;
	int64_t id;
};
bool rt_read_m(struct rt_unwinder *u, uint64_t addr, struct rt_m *m);

#endif
