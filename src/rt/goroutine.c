#include <stdlib.h>
#include <string.h>

#include "rt/goroutine.h"

#define MAX_ALLGS (16u << 20) /* 16M goroutines: 32 GiB of stacks at least */
#define MAX_STACK (1ull << 31)  /* the runtime's maxstacksize is 1 GB on 64-bit */

struct ga_error *rt_g_layout(struct ga_rt *rt, struct rt_g_layout *l)
{
	memset(l, 0, sizeof(*l));
	ga_type_id gt = ga_dwarf_type_by_name(rt->dw, "runtime.g");
	const struct ga_type *t = ga_dwarf_type(rt->dw, gt);
	if (!t)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no type runtime.g");
	l->size = t->size;
#define F(field, path) l->field = rt_scalar_field(rt, "runtime.g", path)
	F(goid, "goid");
	F(status, "atomicstatus");
	F(waitreason, "waitreason");
	F(waitsince, "waitsince");
	F(gopc, "gopc");
	F(startpc, "startpc");
	F(parent_goid, "parentGoid");
	F(stack_lo, "stack.lo");
	F(stack_hi, "stack.hi");
	F(sched_sp, "sched.sp");
	F(sched_pc, "sched.pc");
	F(sched_bp, "sched.bp");
	F(sched_lr, "sched.lr");
	F(sched_ctxt, "sched.ctxt");
	F(syscallsp, "syscallsp");
	F(syscallpc, "syscallpc");
	F(m, "m");
	F(waiting, "waiting");
	F(defer_, "_defer");
	F(panic_, "_panic");
	F(labels, "labels");
	F(lockedm, "lockedm");
#undef F
	struct ga_error *err;
	if ((err = rt_need(&l->goid, "runtime.g", "goid")) ||
	    (err = rt_need(&l->status, "runtime.g", "atomicstatus")) ||
	    (err = rt_need(&l->stack_lo, "runtime.g", "stack.lo")) ||
	    (err = rt_need(&l->sched_sp, "runtime.g", "sched.sp")))
		return err;
	return NULL;
}

static uint64_t rd(const uint8_t *buf, uint64_t bufsz, const struct rt_field *f)
{
	if (!f->ok || f->size == 0 || f->size > 8 || f->off + f->size > bufsz)
		return 0;
	uint64_t v = 0;
	memcpy(&v, buf + f->off, f->size);
	return v;
}

static void decode_g(struct ga_rt *rt, const struct rt_g_layout *l, const uint8_t *buf, struct rt_g *g)
{
	uint64_t n = l->size;
	g->readable = true;
	g->goid = rd(buf, n, &l->goid);
	g->status = (uint32_t)(rd(buf, n, &l->status) & ~(uint64_t)rt->gscan);
	g->waitreason = (uint32_t)rd(buf, n, &l->waitreason);
	g->waitsince = (int64_t)rd(buf, n, &l->waitsince);
	g->gopc = rd(buf, n, &l->gopc);
	g->startpc = rd(buf, n, &l->startpc);
	g->parent_goid = rd(buf, n, &l->parent_goid);
	g->stack_lo = rd(buf, n, &l->stack_lo);
	g->stack_hi = rd(buf, n, &l->stack_hi);
	g->sched_sp = rd(buf, n, &l->sched_sp);
	g->sched_pc = rd(buf, n, &l->sched_pc);
	g->sched_bp = rd(buf, n, &l->sched_bp);
	g->sched_lr = rd(buf, n, &l->sched_lr);
	g->sched_ctxt = rd(buf, n, &l->sched_ctxt);
	g->syscallsp = rd(buf, n, &l->syscallsp);
	g->syscallpc = rd(buf, n, &l->syscallpc);
	g->m = rd(buf, n, &l->m);
	g->waiting = rd(buf, n, &l->waiting);
	g->defer_ = rd(buf, n, &l->defer_);
	g->panic_ = rd(buf, n, &l->panic_);
	g->labels = rd(buf, n, &l->labels);
	g->lockedm = rd(buf, n, &l->lockedm);
}

/* Goroutine stacks come from stack spans in power-of-two sizes of at least
 * 2 KiB (stackpool / stackLarge), so both ends are 2 KiB-aligned; a dead g
 * may have none. */
static bool plausible_stack(const struct rt_g *g)
{
	if (!g->stack_lo && !g->stack_hi)
		return true;
	return g->stack_lo < g->stack_hi && g->stack_hi - g->stack_lo <= MAX_STACK &&
	       !(g->stack_lo % 2048) && !(g->stack_hi % 2048);
}

struct ga_error *rt_read_allgs(struct ga_rt *rt, struct rt_g **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	struct rt_g_layout l;
	struct ga_error *err = rt_g_layout(rt, &l);
	if (err)
		return err;
	uint64_t allgs = rt_global(rt, "runtime.allgs", NULL);
	if (!allgs)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.allgs");
	uint64_t ptr, len, cap;
	if (!rt_read_slice(rt, allgs, &ptr, &len, &cap))
		return ga_error_create(GA_ERR_FAULT, "runtime.allgs at 0x%llx not in core",
				       (unsigned long long)allgs);
	if (len > MAX_ALLGS || len > cap)
		return ga_error_create(GA_ERR_CORRUPT, "runtime.allgs has implausible length %llu (cap %llu)",
				       (unsigned long long)len, (unsigned long long)cap);
	GA_VEC(struct rt_g) gs = {0};
	uint8_t *buf = malloc(l.size ? l.size : 1);
	if (!buf)
		return &ga_error_nomem;
	/* The runtime puts each g once in allgs[:allglen], never nil. A slot
	 * that is nil, not in the core, a g seen before or a g that cannot be
	 * read means a damaged length or array: such slots get no entry each (a
	 * bogus length would make millions of them); one entry at the end
	 * stands for them all. Once one was met, the slots after it must also
	 * hold a g as allgs has them: a known status other than _Gidle
	 * (allgadd throws on it) and a plausible stack. Before, a damaged g is
	 * listed with what can be read of it. */
	bool have_names = false;
	for (int k = 0; k < 32; k++)
		have_names |= rt->gstatus_names[k] != NULL;
	int64_t gidle = 0;
	rt_const(rt, "runtime._Gidle", &gidle);
	struct ga_hash seen;
	ga_hash_init(&seen);
	uint64_t bad = 0, first_bad = 0, dummy;
	for (uint64_t i = 0; i < len && !err; i++) {
		struct rt_g g = {0};
		if (rt_read_ptr(rt, ptr + 8 * i, &g.addr) && g.addr && !ga_hash_get(&seen, g.addr, &dummy) &&
		    ga_mem_try_read(rt->mem, g.addr, buf, l.size))
			decode_g(rt, &l, buf, &g);
		if (!g.readable || (bad && ((int64_t)g.status == gidle || !plausible_stack(&g) ||
					    (have_names && (g.status >= 32 || !rt->gstatus_names[g.status]))))) {
			if (!bad++)
				first_bad = g.addr ? g.addr : ptr + 8 * i;
			continue;
		}
		if (ga_hash_put(&seen, g.addr, 1) || ga_vec_push(&gs, g))
			err = &ga_error_nomem;
	}
	free(buf);
	ga_hash_free(&seen);
	if (err) {
		ga_vec_free(&gs);
		return err;
	}
	if (bad) {
		struct rt_g g = {.addr = first_bad, .missing = bad};
		if (ga_vec_push(&gs, g)) {
			ga_vec_free(&gs);
			return &ga_error_nomem;
		}
	}
	*out = gs.v;
	*n_out = gs.len;
	return NULL;
}

bool rt_g_is_dead(const struct ga_rt *rt, const struct rt_g *g)
{
	if (!g->readable)
		return false;
	/* _Gdeadextra (1.27): an extra M's g parked for cgo callbacks */
	return (int64_t)g->status == rt->gdead || (int64_t)g->status == rt->gdeadextra;
}

bool rt_g_counted_as_system(const char *start_func)
{
	if (!start_func || strncmp(start_func, "runtime.", 8))
		return false;
	return strcmp(start_func, "runtime.main") && strcmp(start_func, "runtime.corostart") &&
	       strcmp(start_func, "runtime.handleAsyncEvent");
}

bool rt_g_is_system(struct ga_rt *rt, const struct rt_g *g, const char *start_func)
{
	if (!start_func || strncmp(start_func, "runtime.", 8))
		return false;
	if (!strcmp(start_func, "runtime.main") || !strcmp(start_func, "runtime.corostart") ||
	    !strcmp(start_func, "runtime.handleAsyncEvent"))
		return false;
	if (!strcmp(start_func, "runtime.runfinq") || !strcmp(start_func, "runtime.runFinalizers")) {
		uint64_t addr = rt_global(rt, "runtime.fingStatus", NULL);
		int64_t bit;
		uint32_t v;
		if (addr && rt_const(rt, "runtime.fingRunningFinalizer", &bit) && ga_mem_u32(rt->mem, addr, &v))
			return !(v & (uint64_t)bit);
		addr = rt_global(rt, "runtime.fingRunning", NULL); /* before Go 1.21 */
		uint8_t b;
		if (addr && ga_mem_u8(rt->mem, addr, &b))
			return !b;
		return true;
	}
	if (!strcmp(start_func, "runtime.runCleanups")) {
		struct rt_field f = rt_scalar_field(rt, "runtime.g", "runningCleanups");
		uint64_t v;
		if (rt_read_field(rt, g->addr, &f, &v))
			return !v;
		return true;
	}
	return true;
}
