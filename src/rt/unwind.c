#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/unwind.h"

#define MAX_STACK_BYTES (1ull << 31) /* the runtime's maxstacksize is 1 GB on 64-bit */
#define MAX_INL 128
#define MAX_SIGNAL_FRAMES 256

struct rt_pcinfo {
	struct rt_func fn;
	int32_t spdelta;  /* funcspdelta at pc, -1 unknown */
	uint32_t first_logical, nlogical;
	bool found;
};

const char *rt_frame_how_name(enum rt_frame_how how)
{
	switch (how) {
	case RT_FRAME_SCHED: return "sched";
	case RT_FRAME_SYSCALL: return "syscall";
	case RT_FRAME_VDSO: return "vdso";
	case RT_FRAME_REGS: return "registers";
	case RT_FRAME_SIGCTXT: return "signal context";
	case RT_FRAME_UNWOUND: return "unwound";
	}
	return "?";
}

struct ga_error *rt_unwinder_open(struct ga_rt *rt, struct rt_pcln *pcln, struct rt_unwinder **out)
{
	*out = NULL;
	const struct rt_arch *arch = rt_arch_for(rt->core->machine);
	if (!arch)
		return ga_error_create(GA_ERR_UNSUPPORTED, "stack unwinding is not implemented for machine %u",
				       rt->core->machine);
	struct rt_unwinder *u = calloc(1, sizeof(*u));
	if (!u)
		return &ga_error_nomem;
	u->rt = rt;
	u->pcln = pcln;
	u->arch = arch;
	ga_hash_init(&u->pcs);
	ga_hash_init(&u->threads);
	const char *M = "runtime.m";
	u->ml.procid = rt_scalar_field(rt, M, "procid");
	u->ml.curg = rt_scalar_field(rt, M, "curg");
	u->ml.g0 = rt_scalar_field(rt, M, "g0");
	u->ml.gsignal = rt_scalar_field(rt, M, "gsignal");
	u->ml.vdso_sp = rt_scalar_field(rt, M, "vdsoSP");
	u->ml.vdso_pc = rt_scalar_field(rt, M, "vdsoPC");
	u->ml.id = rt_scalar_field(rt, M, "id");
	/* Go 1.21 made frames under asyncPreempt/debugCallV2 trap frames for
	 * symbolization (unwindTrap); 1.19/1.20 only did so under sigpanic.
	 * That release also introduced the unwinder type, which DWARF shows. */
	u->trap_after_async = ga_dwarf_type_by_name(rt->dw, "runtime.unwinder") != 0;
	for (size_t i = 0; i < rt->core->threads.len; i++)
		if (ga_hash_put(&u->threads, (uint64_t)(uint32_t)rt->core->threads.v[i].lwp + 1, i)) {
			rt_unwinder_close(u);
			return &ga_error_nomem;
		}
	*out = u;
	return NULL;
}

void rt_unwinder_close(struct rt_unwinder *u)
{
	if (!u)
		return;
	ga_hash_free(&u->pcs);
	ga_hash_free(&u->threads);
	ga_vec_free(&u->infos);
	ga_vec_free(&u->logical);
	free(u);
}

void rt_stack_free(struct rt_stack *st)
{
	ga_vec_free(&st->frames);
}

bool rt_read_m(struct rt_unwinder *u, uint64_t addr, struct rt_m *m)
{
	memset(m, 0, sizeof(*m));
	m->addr = addr;
	uint64_t v;
	if (!addr || !rt_read_field(u->rt, addr, &u->ml.procid, &m->procid))
		return false;
	rt_read_field(u->rt, addr, &u->ml.curg, &m->curg);
	rt_read_field(u->rt, addr, &u->ml.g0, &m->g0);
	rt_read_field(u->rt, addr, &u->ml.gsignal, &m->gsignal);
	rt_read_field(u->rt, addr, &u->ml.vdso_sp, &m->vdso_sp);
	rt_read_field(u->rt, addr, &u->ml.vdso_pc, &m->vdso_pc);
	if (rt_read_field(u->rt, addr, &u->ml.id, &v))
		m->id = (int64_t)v;
	return true;
}

/* Function, frame size and logical frames at pc, cached: goroutines share
 * most of their pcs. Returns the index in u->infos, or -1 on OOM. */
static long pcinfo(struct rt_unwinder *u, uint64_t pc, bool trap)
{
	uint64_t key = (pc & ~(1ull << 63)) | ((uint64_t)trap << 63);
	uint64_t idx;
	if (ga_hash_get(&u->pcs, key + 1, &idx))
		return (long)idx;
	struct rt_pcinfo pi = {0};
	pi.spdelta = -1;
	pi.found = rt_pcln_find(u->pcln, pc, &pi.fn);
	if (pi.found) {
		pi.spdelta = rt_pcln_spdelta(u->pcln, &pi.fn, pc);
		uint64_t sym = !trap && pc > pi.fn.entry ? pc - 1 : pc;
		struct rt_inl_frame inl[MAX_INL];
		bool more;
		size_t n = rt_pcln_inline(u->pcln, &pi.fn, sym, inl, MAX_INL, &more);
		if (ga_vec_reserve(&u->logical, n))
			return -1;
		pi.first_logical = (uint32_t)u->logical.len;
		pi.nlogical = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			struct rt_logical l = {inl[i].name, inl[i].file, inl[i].line, inl[i].funcid,
					       inl[i].inlined};
			u->logical.v[u->logical.len++] = l;
		}
	}
	if (ga_vec_push(&u->infos, pi) || ga_hash_put(&u->pcs, key + 1, u->infos.len - 1))
		return -1;
	return (long)(u->infos.len - 1);
}

static bool injected_call(const struct rt_unwinder *u, uint8_t funcid)
{
	if (funcid == RT_FID_SIGPANIC)
		return true;
	return u->trap_after_async && (funcid == RT_FID_ASYNCPREEMPT || funcid == RT_FID_DEBUGCALLV2);
}

#define FAIL(st, ...) snprintf((st)->error, sizeof((st)->error), __VA_ARGS__)

struct ga_error *rt_unwind_at(struct rt_unwinder *u, uint64_t pc, uint64_t sp, uint64_t lr,
			      uint64_t lo, uint64_t hi, enum rt_frame_how how, bool trap,
			      unsigned flags, struct rt_stack *st)
{
	const struct rt_arch *a = u->arch;
	struct ga_mem *mem = u->rt->mem;
	const unsigned ps = a->ptrsize;
	st->frames.len = 0;
	st->stack_lo = lo;
	st->stack_hi = hi;
	st->complete = st->truncated = false;
	st->error[0] = 0;
	bool is_syscall = how == RT_FRAME_SYSCALL;
	if (hi <= lo || hi - lo > MAX_STACK_BYTES) {
		FAIL(st, "implausible stack bounds [0x%llx, 0x%llx)", (unsigned long long)lo,
		     (unsigned long long)hi);
		return NULL;
	}
	if (sp < lo || sp >= hi) {
		FAIL(st, "stack pointer 0x%llx outside the stack [0x%llx, 0x%llx)",
		     (unsigned long long)sp, (unsigned long long)lo, (unsigned long long)hi);
		return NULL;
	}
	if (pc == 0) {
		/* A call through a nil func value: start in the caller. */
		if (!ga_mem_u64(mem, sp, &pc)) {
			FAIL(st, "pc 0 and the word at sp 0x%llx is not in the core", (unsigned long long)sp);
			return NULL;
		}
		if (a->uses_lr)
			lr = 0;
		else
			sp += ps;
		trap = false;
	}
	uint8_t callee = RT_FID_NORMAL;
	for (bool innermost = true;; innermost = false) {
		if (st->frames.len >= RT_MAX_FRAMES) {
			st->truncated = true;
			FAIL(st, "more than %d frames; the rest are not shown", RT_MAX_FRAMES);
			break;
		}
		long ix = pcinfo(u, pc, trap);
		if (ix < 0)
			return &ga_error_nomem;
		/* a copy: later lookups may move u->infos */
		const struct rt_pcinfo cur = u->infos.v[ix], *pi = &cur;
		if (!pi->found) {
			FAIL(st, "pc 0x%llx is in no Go function", (unsigned long long)pc);
			break;
		}
		const struct rt_func *fn = &pi->fn;
		if (!fn->pcsp) {
			/* No frame information (an external function): the runtime stops here too. */
			FAIL(st, "%s has no frame size information", rt_pcln_name(u->pcln, fn));
			break;
		}
		if (pi->spdelta < 0) {
			FAIL(st, "no frame size for %s at pc 0x%llx", rt_pcln_name(u->pcln, fn),
			     (unsigned long long)pc);
			break;
		}
		struct rt_frame fr;
		memset(&fr, 0, sizeof(fr));
		fr.pc = pc;
		fr.sp = sp;
		fr.fn = *fn;
		fr.how = (uint8_t)(innermost ? how : RT_FRAME_UNWOUND);
		fr.flags = trap ? RT_FRAMEF_TRAP : 0;
		fr.sym_pc = !trap && pc > fn->entry ? pc - 1 : pc;
		fr.first_logical = pi->first_logical;
		fr.nlogical = pi->nlogical;
		uint8_t flag = fn->flag;
		if (fn->funcid == RT_FID_CGOCALLBACK)
			flag &= (uint8_t)~RT_FUNCFLAG_SPWRITE;
		if (innermost && is_syscall)
			flag &= (uint8_t)~RT_FUNCFLAG_SPWRITE;
		fr.fp = sp + (uint64_t)pi->spdelta + (a->uses_lr ? 0 : ps);
		bool stop = false;
		if (flag & RT_FUNCFLAG_TOPFRAME) {
			lr = 0;
			st->complete = true;
		} else if ((flag & RT_FUNCFLAG_SPWRITE) && (!innermost || !(flags & RT_UNWIND_GC))) {
			/* SP was written in a way pcsp cannot describe: the runtime stops too. */
			lr = 0;
		} else if (fr.fp > hi) {
			FAIL(st, "frame of %s (sp 0x%llx + %d) runs past the stack top 0x%llx",
			     rt_pcln_name(u->pcln, fn), (unsigned long long)sp, pi->spdelta,
			     (unsigned long long)hi);
			lr = 0;
			stop = true;
		} else if (a->uses_lr ? ((innermost && sp < fr.fp) || lr == 0) : lr == 0) {
			uint64_t lrp = a->uses_lr ? sp : fr.fp - ps;
			if (!ga_mem_u64(mem, lrp, &lr)) {
				FAIL(st, "return address of %s at 0x%llx is not in the core",
				     rt_pcln_name(u->pcln, fn), (unsigned long long)lrp);
				lr = 0;
				stop = true;
			}
		}
		fr.lr = lr;
		fr.varp = fr.fp - (a->uses_lr ? 0 : ps);
		/* The saved frame pointer sits at the top of the frame (amd64 and
		 * arm64 both have frame pointers enabled). */
		if (fr.varp > fr.sp)
			fr.varp -= ps;
		fr.argp = fr.fp + a->min_frame_size;
		fr.continpc = pc;
		if (callee == RT_FID_SIGPANIC)
			fr.continpc = fn->deferreturn ? fn->entry + fn->deferreturn + 1 : 0;
		if (fn->funcid == RT_FID_ASYNCPREEMPT || fn->funcid == RT_FID_DEBUGCALLV2 ||
		    callee == RT_FID_ASYNCPREEMPT || callee == RT_FID_DEBUGCALLV2)
			fr.flags |= RT_FRAMEF_CONSERVATIVE;
		if (ga_vec_push(&st->frames, fr))
			return &ga_error_nomem;
		if (stop || !lr)
			break;
		/* unwinder.next */
		long nx = pcinfo(u, lr, injected_call(u, fn->funcid));
		if (nx < 0)
			return &ga_error_nomem;
		if (!u->infos.v[nx].found) {
			FAIL(st, "unexpected return pc 0x%llx for %s", (unsigned long long)lr,
			     rt_pcln_name(u->pcln, fn));
			break;
		}
		if (pc == lr && sp == fr.fp) {
			FAIL(st, "traceback stuck at pc 0x%llx sp 0x%llx", (unsigned long long)pc,
			     (unsigned long long)sp);
			break;
		}
		trap = injected_call(u, fn->funcid);
		callee = fn->funcid;
		pc = lr;
		sp = fr.fp;
		lr = 0;
		if (a->uses_lr && trap) {
			/* arm64: the signal handler saved LR on the stack when it
			 * injected the call (traceback.go, unwinder.next). */
			uint64_t x;
			if (!ga_mem_u64(mem, sp, &x))
				break;
			sp += (a->min_frame_size + 15) & ~15ull;
			long ni = pcinfo(u, pc, trap);
			if (ni < 0)
				return &ga_error_nomem;
			if (!u->infos.v[ni].found)
				pc = x;
			else if (u->infos.v[ni].spdelta == 0)
				lr = x;
		}
		if (sp >= hi) {
			FAIL(st, "caller frame sp 0x%llx at or past the stack top 0x%llx",
			     (unsigned long long)sp, (unsigned long long)hi);
			break;
		}
	}
	return NULL;
}

static bool in_stack(uint64_t sp, uint64_t lo, uint64_t hi)
{
	return lo < hi && sp >= lo && sp < hi;
}

/* Stack bounds of another g (g0, gsignal). */
static bool g_stack(struct rt_unwinder *u, uint64_t g, uint64_t *lo, uint64_t *hi)
{
	struct rt_field flo = rt_scalar_field(u->rt, "runtime.g", "stack.lo");
	struct rt_field fhi = rt_scalar_field(u->rt, "runtime.g", "stack.hi");
	return g && rt_read_field(u->rt, g, &flo, lo) && rt_read_field(u->rt, g, &fhi, hi);
}

/* The registers a signal interrupted on this thread, if it is inside
 * runtime.sigtramp's handler on its gsignal stack. */
static struct ga_error *signal_regs(struct rt_unwinder *u, const struct rt_m *m,
				    const uint64_t *regs, uint64_t *pc, uint64_t *sp, uint64_t *lr,
				    bool *found)
{
	*found = false;
	uint64_t lo, hi;
	const struct rt_arch *a = u->arch;
	uint64_t tsp = regs[a->reg_sp];
	if (!g_stack(u, m->gsignal, &lo, &hi) || !in_stack(tsp, lo, hi))
		return NULL;
	struct rt_stack tmp = {0};
	uint64_t tlr = a->reg_lr >= 0 ? regs[a->reg_lr] : 0;
	struct ga_error *err = rt_unwind_at(u, regs[a->reg_pc], tsp, tlr, lo, hi, RT_FRAME_REGS,
					    true, 0, &tmp);
	for (size_t i = 0; !err && i < tmp.frames.len && i < MAX_SIGNAL_FRAMES; i++) {
		const struct rt_frame *f = &tmp.frames.v[i];
		if (strcmp(rt_pcln_name(u->pcln, &f->fn), "runtime.sigtramp"))
			continue;
		*found = a->sigctxt(u->rt->mem, a->sigtramp_ctx(f->fp), pc, sp, lr);
		break;
	}
	rt_stack_free(&tmp);
	return err;
}

struct ga_error *rt_unwind_g(struct rt_unwinder *u, const struct rt_g *g, unsigned flags,
			     struct rt_stack *st)
{
	const struct rt_arch *a = u->arch;
	uint64_t lo = g->stack_lo, hi = g->stack_hi;
	st->frames.len = 0;
	st->error[0] = 0;
	if (!g->readable) {
		FAIL(st, "the g at 0x%llx is not in the core", (unsigned long long)g->addr);
		return NULL;
	}
	if (g->syscallsp)
		return rt_unwind_at(u, g->syscallpc, g->syscallsp, 0, lo, hi, RT_FRAME_SYSCALL, false,
				    flags, st);
	struct rt_m m;
	bool have_m = g->m && rt_read_m(u, g->m, &m);
	if (have_m && m.vdso_sp && in_stack(m.vdso_sp, lo, hi))
		return rt_unwind_at(u, m.vdso_pc, m.vdso_sp, 0, lo, hi, RT_FRAME_VDSO, false, flags, st);
	int64_t running = 2;
	rt_const(u->rt, "runtime._Grunning", &running);
	if (have_m && (int64_t)g->status == running && m.curg == g->addr) {
		uint64_t ti;
		if (ga_hash_get(&u->threads, (uint64_t)(uint32_t)m.procid + 1, &ti)) {
			const struct ga_core_thread *t = &u->rt->core->threads.v[ti];
			const uint64_t *r = t->regs;
			if (a->reg_sp >= 0 && in_stack(r[a->reg_sp], lo, hi))
				return rt_unwind_at(u, r[a->reg_pc], r[a->reg_sp],
						    a->reg_lr >= 0 ? r[a->reg_lr] : 0, lo, hi,
						    RT_FRAME_REGS, true, flags, st);
			uint64_t pc, sp, lr;
			bool found;
			struct ga_error *err = signal_regs(u, &m, r, &pc, &sp, &lr, &found);
			if (err)
				return err;
			if (found && in_stack(sp, lo, hi))
				return rt_unwind_at(u, pc, sp, lr, lo, hi, RT_FRAME_SIGCTXT, true, flags,
						    st);
		}
		/* The thread is on the system stack (systemstack, morestack,
		 * asmcgocall): those save the goroutine's state in g.sched. */
	}
	if (!g->sched_sp) {
		FAIL(st, "no saved context (g.sched.sp is 0)");
		return NULL;
	}
	return rt_unwind_at(u, g->sched_pc, g->sched_sp, g->sched_lr, lo, hi, RT_FRAME_SCHED, false,
			    flags, st);
}

const char *rt_funcname_for_print(const struct ga_rt *rt, const char *name, char *buf, size_t n)
{
	if (!strcmp(name, "runtime.gopanic"))
		return "panic";
	/* funcNamePiecesForPrint arrived with Go 1.21 (unverified against 1.20,
	 * the corpus has 1.19 and 1.26+); this is printing, DWARF cannot tell. */
	if (!rt_at_least(rt, 21))
		return name;
	const char *lb = strchr(name, '[');
	const char *rb = strrchr(name, ']');
	if (!lb || !rb || rb <= lb)
		return name;
	const char *mid = NULL;
	size_t midlen = 0;
	/* Go 1.27: a generic method of a generic type keeps the text between
	 * its two bracket groups: "pkg.T[...].M[...]". */
	const char *in = lb + 1;
	size_t inlen = (size_t)(rb - in);
	if (rt_at_least(rt, 27) && memchr(in, '[', inlen)) {
		int depth = 1;
		long rbr = -1, lbr = -1;
		for (size_t k = 0; k < inlen; k++) {
			char c = in[k];
			if (c == '[') {
				depth++;
				if (depth != 1)
					continue;
				lbr = (long)k;
				break;
			}
			if (c == ']') {
				depth--;
				if (depth < 0)
					break;
				if (depth != 0)
					continue;
				rbr = (long)k;
			}
		}
		if (depth == 1 && rbr >= 0 && lbr > rbr) {
			mid = in + rbr + 1;
			midlen = (size_t)(lbr - rbr - 1);
		} else if (!(depth == 1 && rbr == -1 && lbr == -1)) {
			return name; /* malformed: the whole name */
		}
	}
	int w;
	if (mid)
		w = snprintf(buf, n, "%.*s[...]%.*s[...]%s", (int)(lb - name), name, (int)midlen, mid,
			     rb + 1);
	else
		w = snprintf(buf, n, "%.*s[...]%s", (int)(lb - name), name, rb + 1);
	return w >= 0 && (size_t)w < n ? buf : name;
}
