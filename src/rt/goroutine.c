#include <stdlib.h>
#include <string.h>

#include "rt/goroutine.h"

#define MAX_ALLGS (64u << 20)

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
	struct rt_g *gs = calloc(len ? len : 1, sizeof(*gs));
	uint8_t *buf = malloc(l.size ? l.size : 1);
	if (!gs || !buf) {
		free(gs);
		free(buf);
		return &ga_error_nomem;
	}
	for (uint64_t i = 0; i < len; i++) {
		struct rt_g *g = &gs[i];
		if (!rt_read_ptr(rt, ptr + 8 * i, &g->addr) ||
		    !ga_mem_try_read(rt->mem, g->addr, buf, l.size))
			continue;
		g->readable = true;
		g->goid = rd(buf, l.size, &l.goid);
		g->status = (uint32_t)(rd(buf, l.size, &l.status) & ~(uint64_t)rt->gscan);
		g->waitreason = (uint32_t)rd(buf, l.size, &l.waitreason);
		g->waitsince = (int64_t)rd(buf, l.size, &l.waitsince);
		g->gopc = rd(buf, l.size, &l.gopc);
		g->startpc = rd(buf, l.size, &l.startpc);
		g->parent_goid = rd(buf, l.size, &l.parent_goid);
		g->stack_lo = rd(buf, l.size, &l.stack_lo);
		g->stack_hi = rd(buf, l.size, &l.stack_hi);
		g->sched_sp = rd(buf, l.size, &l.sched_sp);
		g->sched_pc = rd(buf, l.size, &l.sched_pc);
		g->sched_bp = rd(buf, l.size, &l.sched_bp);
		g->sched_lr = rd(buf, l.size, &l.sched_lr);
		g->sched_ctxt = rd(buf, l.size, &l.sched_ctxt);
		g->syscallsp = rd(buf, l.size, &l.syscallsp);
		g->syscallpc = rd(buf, l.size, &l.syscallpc);
		g->m = rd(buf, l.size, &l.m);
		g->waiting = rd(buf, l.size, &l.waiting);
		g->defer_ = rd(buf, l.size, &l.defer_);
		g->panic_ = rd(buf, l.size, &l.panic_);
		g->labels = rd(buf, l.size, &l.labels);
		g->lockedm = rd(buf, l.size, &l.lockedm);
	}
	free(buf);
	*out = gs;
	*n_out = len;
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
