/* Roots, edges and marking. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/graph.h"
#include "base/file.h"
#include "exe/dwvars.h"
#include "rt/goroutine.h"
#include "rt/stackmap.h"

#define MAX_EDGES 0xfffffff0u
#define MAX_STACK_BYTES (1ull << 30)

struct edge_vec {
	uint32_t *v;
	size_t len, cap;
};

/* Roots under construction: their edges (object ids) in root order. */
struct builder {
	struct ga_graph *g;
	struct rt_heap *h;
	struct ga_rt *rt;
	GA_VEC(uint32_t) redges;   /* object ids */
	GA_VEC(uint32_t) roff;     /* per root: first index in redges */
	uint64_t heap_lo, heap_hi;
	struct ga_error *err;
};

static uint32_t add_name(struct ga_graph *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static uint32_t add_name(struct ga_graph *g, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	size_t off = g->names.len;
	ga_sb_appendn(&g->names, buf, strlen(buf) + 1);
	return (uint32_t)off;
}

static inline rt_obj_id find(const struct builder *b, uint64_t v)
{
	if (v < b->heap_lo || v >= b->heap_hi)
		return RT_NO_OBJ;
	return rt_heap_find(b->h, v);
}

/* Starts a root; its edges follow with root_edge. */
static struct graph_root *root_begin(struct builder *b, uint8_t kind, uint8_t flags, uint64_t addr,
				     uint64_t size)
{
	struct graph_root r = {.addr = addr, .size = size, .kind = kind, .flags = flags};
	if (b->err || ga_vec_push(&b->g->roots, r) || ga_vec_push(&b->roff, (uint32_t)b->redges.len)) {
		b->err = &ga_error_nomem;
		return NULL;
	}
	return &b->g->roots.v[b->g->roots.len - 1];
}

static void root_edge(struct builder *b, uint64_t ptr)
{
	rt_obj_id id = find(b, ptr);
	if (id == RT_NO_OBJ || b->err)
		return;
	size_t start = b->roff.v[b->roff.len - 1];
	if (b->redges.len > start && b->redges.v[b->redges.len - 1] == id)
		return;
	if (ga_vec_push(&b->redges, id))
		b->err = &ga_error_nomem;
}

/* Drops the last root if it got no edges. */
static void root_end(struct builder *b)
{
	if (b->err || !b->roff.len)
		return;
	if (b->roff.v[b->roff.len - 1] == b->redges.len) {
		b->roff.len--;
		b->g->roots.len--;
	}
}

/* ---- globals ---- */

struct gvar {
	uint64_t addr, size;
	const char *name;
	ga_type_id type;
	bool deref; /* the anonymous static the pointer variable `name` points to */
};

static int gvar_cmp(const void *a, const void *b)
{
	const struct gvar *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void scan_global_range(struct builder *b, const char *sect, uint64_t start, uint64_t end,
			      uint64_t nbits, uint64_t mask_addr, const struct gvar *vars, size_t nvars)
{
	struct ga_rt *rt = b->rt;
	uint64_t nwords = (end - start) / 8;
	if (nbits < nwords)
		nwords = nbits;
	if (!nwords || nwords > (1ull << 32))
		return;
	uint8_t *mask = malloc((nwords + 7) / 8);
	if (!mask) {
		b->err = &ga_error_nomem;
		return;
	}
	if (!ga_mem_try_read(rt->mem, mask_addr, mask, (nwords + 7) / 8)) {
		free(mask);
		return;
	}
	/* cur: the variable covering the current word, if any */
	size_t vi = 0;
	const struct gvar *cur = NULL;
	uint64_t cur_end = 0;
	bool open = false;
	for (uint64_t w = 0; w < nwords && !b->err; w++) {
		if (!(mask[w / 8] >> (w % 8) & 1))
			continue;
		uint64_t a = start + 8 * w, v;
		if (!ga_mem_u64(rt->mem, a, &v) || find(b, v) == RT_NO_OBJ)
			continue;
		if (!cur || a >= cur_end) {
			while (vi < nvars && vars[vi].addr + (vars[vi].size ? vars[vi].size : 8) <= a)
				vi++;
			const struct gvar *nv = vi < nvars && vars[vi].addr <= a ? &vars[vi] : NULL;
			if (open)
				root_end(b);
			struct graph_root *r;
			if (nv) {
				r = root_begin(b, GRAPH_ROOT_GLOBAL, 0, nv->addr, nv->size);
				if (r) {
					r->name = add_name(b->g, "%s%s", nv->deref ? "*" : "", nv->name);
					r->dwarf = nv->type;
				}
				cur = nv;
				cur_end = nv->addr + (nv->size ? nv->size : 8);
			} else {
				r = root_begin(b, GRAPH_ROOT_GLOBAL, 0, a, 8);
				if (r)
					r->name = add_name(b->g, "%s 0x%" PRIx64, sect, a);
				cur = NULL;
				cur_end = a + 8;
			}
			open = r != NULL;
		}
		root_edge(b, v);
	}
	if (open)
		root_end(b);
	free(mask);
}

/* The variable covering addr among n sorted ones, or NULL. */
static const struct gvar *gvar_at(const struct gvar *vars, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (vars[mid].addr + (vars[mid].size ? vars[mid].size : 8) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && vars[lo].addr <= addr ? &vars[lo] : NULL;
}

/* `var p = &T{...}` is laid out by the linker as an anonymous static in
 * data or bss that DWARF does not name; the pointer global does. Such a
 * static is named `*p` and typed T, so what it holds has a holder a
 * reader recognizes. */
static int static_targets(struct builder *b, const struct rt_moduledata *mods, size_t nmods,
			  struct gvar **varsp, size_t *nvp)
{
	struct gvar *vars = *varsp;
	size_t nv = *nvp, added = 0;
	struct ga_dwarf *dw = b->rt->dw;
	for (size_t i = 0; i < nv; i++) {
		const struct ga_type *t = ga_dwarf_type(dw, vars[i].type);
		const struct ga_type *et = t && t->kind == GA_K_PTR ? ga_dwarf_type(dw, t->elem) : NULL;
		uint64_t v;
		if (!et || !et->size || !ga_mem_u64(b->rt->mem, vars[i].addr, &v) || !v)
			continue;
		bool in = false;
		for (size_t m = 0; m < nmods && !in; m++)
			in = (v >= mods[m].data && v + et->size <= mods[m].edata) ||
			     (v >= mods[m].bss && v + et->size <= mods[m].ebss);
		if (!in || gvar_at(vars, nv, v) || gvar_at(vars, nv, v + et->size - 1))
			continue;
		bool dup = false;
		for (size_t k = nv; k < nv + added && !dup; k++)
			dup = vars[k].addr < v + et->size && v < vars[k].addr + vars[k].size;
		if (dup)
			continue;
		struct gvar *nvars = realloc(vars, (nv + added + 1) * sizeof(*vars));
		if (!nvars)
			return -1;
		vars = *varsp = nvars;
		vars[nv + added++] = (struct gvar){v, et->size, vars[i].name, t->elem, true};
	}
	*nvp = nv + added;
	if (added)
		ga_sort(vars, *nvp, sizeof(*vars), gvar_cmp);
	return 0;
}

static void globals(struct builder *b)
{
	struct ga_rt *rt = b->rt;
	struct rt_moduledata *mods;
	size_t nmods;
	struct ga_error *err = rt_read_modules(rt, &mods, &nmods);
	if (err) {
		if (err == &ga_error_nomem)
			b->err = err;
		else
			ga_error_destroy(err);
		return;
	}
	struct ga_dwarf *dw = rt->dw;
	struct gvar *vars = malloc((dw->globals.len ? dw->globals.len : 1) * sizeof(*vars));
	if (!vars) {
		free(mods);
		b->err = &ga_error_nomem;
		return;
	}
	size_t nv = 0;
	for (size_t i = 0; i < dw->globals.len; i++) {
		const struct ga_global *gl = &dw->globals.v[i];
		uint64_t a = gl->addr + rt->bias;
		bool in = false;
		for (size_t m = 0; m < nmods && !in; m++)
			in = (a >= mods[m].data && a < mods[m].edata) || (a >= mods[m].bss && a < mods[m].ebss);
		if (!in)
			continue;
		ga_type_id t = gl->type_die ? ga_dwarf_type_by_die(dw, gl->type_die) : 0;
		const struct ga_type *ty = ga_dwarf_type(dw, t);
		vars[nv++] = (struct gvar){a, ty ? ty->size : 0, gl->name, t, false};
	}
	ga_sort(vars, nv, sizeof(*vars), gvar_cmp);
	if (static_targets(b, mods, nmods, &vars, &nv)) {
		free(vars);
		free(mods);
		b->err = &ga_error_nomem;
		return;
	}
	for (size_t m = 0; m < nmods && !b->err; m++) {
		scan_global_range(b, "data", mods[m].data, mods[m].edata, mods[m].gcdata_n,
				  mods[m].gcdata_bytes, vars, nv);
		scan_global_range(b, "bss", mods[m].bss, mods[m].ebss, mods[m].gcbss_n,
				  mods[m].gcbss_bytes, vars, nv);
	}
	free(vars);
	free(mods);
}

/* ---- goroutine stacks ---- */

/* g._defer / g._panic: records the GC reaches through the g. */
static void chain_root(struct builder *b, const struct rt_g *g, uint8_t kind, uint64_t head,
		       const char *what)
{
	if (!head || find(b, head) == RT_NO_OBJ)
		return;
	struct graph_root *r = root_begin(b, kind, 0, g->addr, 8);
	if (!r)
		return;
	r->goid = g->goid;
	r->name = add_name(b->g, "goroutine %" PRIu64 " %s chain", g->goid, what);
	root_edge(b, head);
	root_end(b);
}

/* Scans [lo, hi) word by word as one conservative root. */
static void conservative_root(struct builder *b, uint8_t kind, uint64_t goid, uint64_t lo,
			      uint64_t hi, uint64_t pc, uint32_t name)
{
	lo = (lo + 7) & ~7ull;
	if (hi <= lo)
		return;
	struct graph_root *r = root_begin(b, kind, GRAPH_ROOT_CONSERVATIVE, lo, hi - lo);
	if (!r)
		return;
	r->goid = goid;
	r->pc = pc;
	r->name = name;
	const uint8_t *view = ga_mem_view(b->rt->mem, lo, hi - lo);
	for (uint64_t a = lo; a + 8 <= hi; a += 8) {
		uint64_t v;
		if (view)
			memcpy(&v, view + (a - lo), 8);
		else if (!ga_mem_u64(b->rt->mem, a, &v))
			continue;
		root_edge(b, v);
	}
	root_end(b);
}

/* A pointer-holding thing of one frame: a slot, a reached stack object
 * (its pointer words), or a conservative range; var is the DWARF variable
 * it lies in (index in the frame's vars), or UINT32_MAX. */
struct fitem {
	uint64_t addr, size;
	uint32_t var;
	uint32_t mask_off;   /* objects: into rt_roots.masks; UINT32_MAX conservative */
	uint8_t what;        /* 0 slot, 1 object, 2 range */
};

struct fvar {
	uint64_t addr, size;
	const char *name;
	ga_type_id type;
};

static int fitem_cmp(const void *a, const void *b)
{
	const struct fitem *x = a, *y = b;
	if (x->what == 2 || y->what == 2)
		return (x->what == 2) - (y->what == 2);
	if (x->var != y->var)
		return x->var < y->var ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool collect_var(void *ctx, const struct ga_frame_var *v)
{
	GA_VEC(struct fvar) *vars = ctx;
	if (!v->size || vars->len >= 4096)
		return vars->len < 4096;
	struct fvar fv = {v->addr, v->size, v->name ? v->name : "?", v->type};
	return ga_vec_push(vars, fv) == 0;
}

struct stack_scratch {
	struct rt_stack st;
	struct rt_roots roots;
	GA_VEC(struct fitem) items;
	GA_VEC(struct fvar) vars;
	GA_VEC(uint32_t) queue;   /* stack objects to scan */
	uint8_t *reached;         /* per stack object */
	struct obj_addr *byaddr;  /* the stack objects by address */
	size_t reached_cap;
	/* per frame, cursors into roots.slots / objects / ranges (each is
	 * in frame order) */
	size_t cur_slot, cur_obj, cur_range;
};

struct obj_addr {
	uint64_t addr;
	uint32_t idx;
};

static int obj_frame_cmp(const void *a, const void *b)
{
	const struct rt_root_object *x = a, *y = b;
	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int obj_addr_cmp(const void *a, const void *b)
{
	const struct obj_addr *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The stack object holding addr, or -1. */
static long stack_obj_at(const struct stack_scratch *x, uint64_t addr)
{
	const struct rt_roots *r = &x->roots;
	size_t lo = 0, hi = r->objects.len;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x->byaddr[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	uint32_t k = x->byaddr[lo - 1].idx;
	const struct rt_root_object *o = &r->objects.v[k];
	return addr < o->addr + o->size ? (long)k : -1;
}

static void reach_obj(struct builder *b, struct stack_scratch *x, uint64_t v, uint64_t lo,
		      uint64_t hi)
{
	if (v < lo || v >= hi)
		return;
	long k = stack_obj_at(x, v);
	if (k < 0 || x->reached[k])
		return;
	x->reached[k] = 1;
	if (ga_vec_push(&x->queue, (uint32_t)k))
		b->err = &ga_error_nomem;
}

/* Word i of a stack object holds a pointer (conservative objects: all). */
static bool obj_ptr_word(const struct rt_roots *r, const struct rt_root_object *o, uint64_t i)
{
	if (o->gcprog)
		return true;
	if (i * 8 >= o->ptrdata)
		return false;
	return r->masks.v[o->mask_off + i / 8] >> (i % 8) & 1;
}

/* Stack objects the GC would scan: those a slot or another scanned stack
 * object points into (runtime/mgcmark.go scanstack: the stack object
 * "buf" is scanned only when some pointer reaches it). */
static void reach_stack_objects(struct builder *b, struct stack_scratch *x, const struct rt_g *g)
{
	struct rt_roots *r = &x->roots;
	struct ga_mem *mem = b->rt->mem;
	x->queue.len = 0;
	if (r->objects.len)
		memset(x->reached, 0, r->objects.len);
	uint64_t v;
	for (size_t i = 0; i < r->slots.len && !b->err; i++)
		if (ga_mem_u64(mem, r->slots.v[i].addr, &v))
			reach_obj(b, x, v, g->stack_lo, g->stack_hi);
	for (size_t i = 0; i < r->ranges.len && !b->err; i++)
		for (uint64_t a = (r->ranges.v[i].lo + 7) & ~7ull; a + 8 <= r->ranges.v[i].hi; a += 8)
			if (ga_mem_u64(mem, a, &v))
				reach_obj(b, x, v, g->stack_lo, g->stack_hi);
	if (g->sched_ctxt)
		reach_obj(b, x, g->sched_ctxt, g->stack_lo, g->stack_hi);
	for (size_t qi = 0; qi < x->queue.len && !b->err; qi++) {
		const struct rt_root_object *o = &r->objects.v[x->queue.v[qi]];
		for (uint64_t w = 0; w * 8 < o->size && !b->err; w++)
			if (obj_ptr_word(r, o, w) && ga_mem_u64(mem, o->addr + 8 * w, &v))
				reach_obj(b, x, v, g->stack_lo, g->stack_hi);
	}
}

/* The variable of vars holding [addr, addr+size), or UINT32_MAX. */
static uint32_t var_at(const struct stack_scratch *x, uint64_t addr)
{
	for (size_t i = 0; i < x->vars.len; i++)
		if (addr >= x->vars.v[i].addr && addr < x->vars.v[i].addr + x->vars.v[i].size)
			return (uint32_t)i;
	return UINT32_MAX;
}

/* The roots of frame fi: one per DWARF variable holding pointers, one for
 * the pointer slots no variable covers, one per conservative range. */
static void frame_roots(struct builder *b, struct stack_scratch *x, struct rt_unwinder *u,
			const struct rt_g *g, uint32_t fi)
{
	const struct rt_frame *f = &x->st.frames.v[fi];
	struct rt_roots *r = &x->roots;
	struct ga_mem *mem = b->rt->mem;
	const char *fn = rt_pcln_name(u->pcln, &f->fn);
	x->items.len = 0;
	x->vars.len = 0;
	/* variables where the frame is: at the call for a return address */
	if (f->sym_pc >= b->rt->bias)
		ga_dwarf_frame_vars(b->rt->dw, f->sym_pc - b->rt->bias, f->fp, collect_var, &x->vars);
	/* slots, objects and ranges are in frame order: take this frame's */
	for (; x->cur_slot < r->slots.len && r->slots.v[x->cur_slot].frame <= fi && !b->err;
	     x->cur_slot++) {
		const struct rt_root_slot *sl = &r->slots.v[x->cur_slot];
		struct fitem it = {sl->addr, 8, var_at(x, sl->addr), 0, 0};
		if (sl->frame == fi && ga_vec_push(&x->items, it))
			b->err = &ga_error_nomem;
	}
	for (; x->cur_obj < r->objects.len && r->objects.v[x->cur_obj].frame <= fi && !b->err;
	     x->cur_obj++) {
		const struct rt_root_object *o = &r->objects.v[x->cur_obj];
		struct fitem it = {o->addr, o->size, var_at(x, o->addr), (uint32_t)x->cur_obj, 1};
		if (o->frame == fi && x->reached[x->cur_obj] && ga_vec_push(&x->items, it))
			b->err = &ga_error_nomem;
	}
	bool conservative = false;
	for (; x->cur_range < r->ranges.len && r->ranges.v[x->cur_range].frame <= fi && !b->err;
	     x->cur_range++) {
		const struct rt_root_range *rg = &r->ranges.v[x->cur_range];
		struct fitem it = {rg->lo, rg->hi - rg->lo, UINT32_MAX, 0, 2};
		if (rg->frame != fi)
			continue;
		conservative = true;
		if (ga_vec_push(&x->items, it))
			b->err = &ga_error_nomem;
	}
	if (b->err)
		return;
	if (conservative)
		b->g->st.frames_conservative++;
	else
		b->g->st.frames_precise++;
	if (x->items.len > 1)
		ga_sort(x->items.v, x->items.len, sizeof(*x->items.v), fitem_cmp);
	for (size_t i = 0; i < x->items.len && !b->err;) {
		const struct fitem *it = &x->items.v[i];
		if (it->what == 2) {
			conservative_root(b, GRAPH_ROOT_FRAME, g->goid, it->addr, it->addr + it->size, f->pc,
					  add_name(b->g, "goroutine %" PRIu64 " frame %s (conservative)",
						   g->goid, fn));
			i++;
			continue;
		}
		uint32_t var = it->var;
		const struct fvar *fv = var != UINT32_MAX ? &x->vars.v[var] : NULL;
		struct graph_root *rt = root_begin(b, GRAPH_ROOT_FRAME, 0, fv ? fv->addr : f->sp,
						   fv ? fv->size : f->fp - f->sp);
		if (!rt)
			return;
		rt->goid = g->goid;
		rt->pc = f->pc;
		rt->dwarf = fv ? fv->type : 0;
		rt->name = fv ? add_name(b->g, "goroutine %" PRIu64 " frame %s var %s", g->goid, fn, fv->name)
			      : add_name(b->g, "goroutine %" PRIu64 " frame %s", g->goid, fn);
		for (; i < x->items.len && x->items.v[i].what != 2 && x->items.v[i].var == var; i++) {
			const struct fitem *t = &x->items.v[i];
			uint64_t v;
			if (t->what == 0) {
				if (ga_mem_u64(mem, t->addr, &v))
					root_edge(b, v);
				continue;
			}
			const struct rt_root_object *o = &r->objects.v[t->mask_off];
			for (uint64_t w = 0; w * 8 < o->size; w++)
				if (obj_ptr_word(r, o, w) && ga_mem_u64(mem, o->addr + 8 * w, &v))
					root_edge(b, v);
		}
		root_end(b);
	}
}

/* A goroutine's stack precisely, frame by frame, as the GC's scanstack
 * would; false when it cannot be unwound at all (then the caller scans it
 * conservatively). Frames the runtime itself scans conservatively
 * (asyncPreempt), the innermost frame of a goroutine stopped at an
 * arbitrary instruction, and the part of the stack above a walk that
 * stopped early are given as conservative roots. */
static bool precise_stack(struct builder *b, struct stack_scratch *x, struct rt_unwinder *u,
			  const struct rt_g *g)
{
	struct ga_error *err = rt_unwind_g(u, g, RT_UNWIND_GC, &x->st);
	if (err) {
		b->err = err;
		return true;
	}
	if (!x->st.frames.len)
		return false;
	rt_roots_reset(&x->roots);
	bool cons = false;
	for (size_t i = 0; i < x->st.frames.len && !b->err; i++) {
		const struct rt_frame *f = &x->st.frames.v[i];
		bool c = cons || (f->flags & RT_FRAMEF_TRAP);
		if ((err = rt_frame_roots(u, f, (uint32_t)i, c, &x->roots)))
			b->err = err;
		cons = f->fn.funcid == RT_FID_ASYNCPREEMPT || f->fn.funcid == RT_FID_DEBUGCALLV2;
	}
	if (b->err)
		return true;
	struct rt_roots *r = &x->roots;
	/* slots and ranges were appended frame by frame; objects are put in
	 * frame order too, with an index by address for pointer lookups */
	if (r->objects.len > 1)
		ga_sort(r->objects.v, r->objects.len, sizeof(*r->objects.v), obj_frame_cmp);
	if (r->objects.len > x->reached_cap) {
		uint8_t *nr = realloc(x->reached, r->objects.len);
		if (nr)
			x->reached = nr;
		struct obj_addr *na = realloc(x->byaddr, r->objects.len * sizeof(*na));
		if (na)
			x->byaddr = na;
		if (!nr || !na) {
			b->err = &ga_error_nomem;
			return true;
		}
		x->reached_cap = r->objects.len;
	}
	for (size_t i = 0; i < r->objects.len; i++)
		x->byaddr[i] = (struct obj_addr){r->objects.v[i].addr, (uint32_t)i};
	if (r->objects.len > 1)
		ga_sort(x->byaddr, r->objects.len, sizeof(*x->byaddr), obj_addr_cmp);
	x->cur_slot = x->cur_obj = x->cur_range = 0;
	reach_stack_objects(b, x, g);
	for (uint32_t i = 0; i < x->st.frames.len && !b->err; i++)
		frame_roots(b, x, u, g, i);
	if (!x->st.complete || x->st.error[0]) {
		const struct rt_frame *top = &x->st.frames.v[x->st.frames.len - 1];
		uint64_t lo = top->fp > g->stack_lo && top->fp < g->stack_hi ? top->fp : g->stack_lo;
		conservative_root(b, GRAPH_ROOT_STACK, g->goid, lo, g->stack_hi, 0,
				  add_name(b->g, "goroutine %" PRIu64 " stack above the last frame found",
					   g->goid));
		b->g->st.goroutines_conservative++;
	} else {
		b->g->st.goroutines_precise++;
	}
	return true;
}

static void stacks(struct builder *b, const struct graph_stack_src *src)
{
	struct stack_scratch x = {0};
	for (size_t i = 0; i < src->ngs && !b->err; i++) {
		const struct rt_g *g = &src->gs[i];
		if (!g->readable || rt_g_is_dead(b->rt, g) || g->stack_hi <= g->stack_lo ||
		    g->stack_hi - g->stack_lo > MAX_STACK_BYTES)
			continue;
		/* the closure context a parked goroutine resumes with */
		if (g->sched_ctxt && find(b, g->sched_ctxt) != RT_NO_OBJ) {
			struct graph_root *r = root_begin(b, GRAPH_ROOT_FRAME, 0, g->addr, 8);
			if (r) {
				r->goid = g->goid;
				r->name = add_name(b->g, "goroutine %" PRIu64 " sched.ctxt", g->goid);
				root_edge(b, g->sched_ctxt);
				root_end(b);
			}
		}
		if (!src->unwinder || !precise_stack(b, &x, src->unwinder, g)) {
			uint64_t lo = g->stack_lo, hi = g->stack_hi;
			uint64_t tsp = src->thread_sp ? src->thread_sp[i] : 0;
			uint64_t sp = lo;
			if (g->syscallsp >= lo && g->syscallsp < hi)
				sp = g->syscallsp;
			else if (tsp >= lo && tsp < hi)
				sp = tsp;
			else if (g->sched_sp >= lo && g->sched_sp < hi)
				sp = g->sched_sp;
			conservative_root(b, GRAPH_ROOT_STACK, g->goid, sp & ~7ull, hi, 0,
					  add_name(b->g, "goroutine %" PRIu64 " stack", g->goid));
			b->g->st.goroutines_conservative++;
		}
		chain_root(b, g, GRAPH_ROOT_DEFER, g->defer_, "defer");
		chain_root(b, g, GRAPH_ROOT_PANIC, g->panic_, "panic");
	}
	rt_stack_free(&x.st);
	rt_roots_free(&x.roots);
	ga_vec_free(&x.items);
	ga_vec_free(&x.vars);
	ga_vec_free(&x.queue);
	free(x.reached);
	free(x.byaddr);
}

/* ---- specials, queues, mcache tiny blocks ---- */

static void specials(struct builder *b, const struct rt_specials *sp, struct rt_types *types)
{
	for (size_t i = 0; i < sp->v.len && !b->err; i++) {
		const struct rt_special *s = &sp->v.v[i];
		struct graph_root *r;
		switch (s->kind) {
		case RT_SPECIAL_FINALIZER: {
			rt_obj_id id = find(b, s->obj);
			if (id != RT_NO_OBJ && s->ot_elem && !b->h->obj_typed_by[id]) {
				rt_type_idx t = rt_types_intern(types, s->ot_elem, &b->err);
				if (t) {
					b->h->obj_type[id] = t;
					b->h->obj_typed_by[id] = RT_TYPED_FINALIZER;
				}
			}
			/* the function: always a root */
			if ((r = root_begin(b, GRAPH_ROOT_FINALIZER, 0, s->addr, 0))) {
				r->obj = s->obj;
				r->pc = s->fn_pc;
				r->name = add_name(b->g, "finalizer function of 0x%" PRIx64, s->obj);
				root_edge(b, s->ptrs[0]);
				root_end(b);
			}
			/* the object: held only while nothing else holds it */
			if ((r = root_begin(b, GRAPH_ROOT_FINALIZER, GRAPH_ROOT_WEAK, s->addr, 0))) {
				r->obj = s->obj;
				r->pc = s->fn_pc;
				r->name = add_name(b->g, "finalizer of 0x%" PRIx64, s->obj);
				root_edge(b, s->obj);
				root_end(b);
			}
			break;
		}
		case RT_SPECIAL_CLEANUP:
		case RT_SPECIAL_WEAKHANDLE:
		case RT_QUEUED_FINALIZER:
		case RT_QUEUED_CLEANUP: {
			static const uint8_t kinds[] = {
				[RT_SPECIAL_CLEANUP] = GRAPH_ROOT_CLEANUP,
				[RT_SPECIAL_WEAKHANDLE] = GRAPH_ROOT_WEAKHANDLE,
				[RT_QUEUED_FINALIZER] = GRAPH_ROOT_FINQ,
				[RT_QUEUED_CLEANUP] = GRAPH_ROOT_CLEANUPQ,
			};
			if (!(r = root_begin(b, kinds[s->kind], 0, s->addr, 0)))
				break;
			r->obj = s->obj;
			r->pc = s->fn_pc;
			if (s->kind == RT_QUEUED_FINALIZER)
				r->name = add_name(b->g, "queued finalizer for 0x%" PRIx64, s->obj);
			else if (s->kind == RT_QUEUED_CLEANUP)
				r->name = add_name(b->g, "queued cleanup 0x%" PRIx64, s->addr);
			else
				r->name = add_name(b->g, "%s of 0x%" PRIx64, rt_special_kind_name(s->kind), s->obj);
			for (int k = 0; k < RT_SPECIAL_PTRS; k++)
				root_edge(b, s->ptrs[k]);
			root_end(b);
			break;
		}
		default:
			break;
		}
	}
}

static void tiny_blocks(struct builder *b)
{
	struct ga_rt *rt = b->rt;
	uint64_t allp = rt_global(rt, "runtime.allp", NULL);
	struct rt_field mc = rt_field(rt, "runtime.p", "mcache");
	struct rt_field tiny = rt_field(rt, "runtime.mcache", "tiny");
	uint64_t p, len;
	if (!allp || !mc.ok || !tiny.ok || !rt_read_slice(rt, allp, &p, &len, NULL) || len > 1u << 20)
		return;
	for (uint64_t i = 0; i < len && !b->err; i++) {
		uint64_t pp, c, t;
		if (!rt_read_ptr(rt, p + 8 * i, &pp) || !pp || !rt_read_field(rt, pp, &mc, &c) || !c ||
		    !rt_read_field(rt, c, &tiny, &t) || !t)
			continue;
		struct graph_root *r = root_begin(b, GRAPH_ROOT_TINY, 0, c + tiny.off, 8);
		if (r) {
			r->name = add_name(b->g, "tiny allocator block of P%" PRIu64, i);
			root_edge(b, t);
			root_end(b);
		}
	}
}

/* ---- object edges ---- */

static struct ga_error *object_edges(struct ga_graph *g, struct builder *b, struct rt_ptrmap *pm,
				     struct edge_vec *edges)
{
	struct rt_heap *h = b->h;
	struct ga_mem *mem = b->rt->mem;
	uint32_t base = g->nroots + 1;
	struct ga_error *err = NULL;
	for (size_t si = 0; si < h->spans.len; si++) {
		const struct rt_hspan *s = &h->spans.v[si];
		bool scan = !(s->flags & RT_HSPAN_NOSCAN) || (s->flags & RT_HSPAN_LARGE);
		int64_t slot = -1;
		rt_obj_id id = s->first_id;
		while (rt_heap_next_slot(h, s, &slot)) {
			g->fwd_off[base + id] = (uint32_t)edges->len;
			if (!scan) {
				id++;
				continue;
			}
			uint64_t addr = s->base + (uint64_t)slot * s->elemsize;
			const uint64_t *bits;
			uint64_t nw;
			rt_type_idx t;
			uint8_t by;
			rt_ptrmap_object(pm, s, addr, &bits, &nw, &t, &by, &err);
			if (err)
				return err;
			if (t) {
				h->obj_type[id] = t;
				h->obj_typed_by[id] = by;
			}
			const uint8_t *view = nw ? ga_mem_view(mem, addr, nw * 8) : NULL;
			uint32_t last = RT_NO_OBJ;
			for (uint64_t wi = 0; wi < (nw + 63) / 64; wi++) {
				for (uint64_t m = bits[wi]; m; m &= m - 1) {
					uint64_t w = wi * 64 + (uint64_t)__builtin_ctzll(m), v;
					if (view)
						memcpy(&v, view + 8 * w, 8);
					else if (!ga_mem_u64(mem, addr + 8 * w, &v))
						continue;
					rt_obj_id to = find(b, v);
					if (to == RT_NO_OBJ || to == id || to == last)
						continue;
					last = to;
					if (edges->len >= MAX_EDGES)
						return ga_error_create(GA_ERR_UNSUPPORTED, "more than %u edges", MAX_EDGES);
					if (ga_vec_push(edges, base + to))
						return &ga_error_nomem;
				}
			}
			id++;
		}
	}
	return NULL;
}

static void set_mark(struct ga_graph *g, uint32_t n)
{
	g->mark[n / 64] |= 1ull << (n % 64);
}

/* Marks from the given start nodes; queue has room for every node. */
static void mark_from(struct ga_graph *g, uint32_t *queue, uint32_t tail)
{
	uint32_t head = 0;
	while (head < tail) {
		uint32_t v = queue[head++];
		for (uint32_t e = g->fwd_off[v]; e < g->fwd_off[v + 1]; e++) {
			uint32_t w = g->fwd[e];
			if (!graph_marked(g, w)) {
				set_mark(g, w);
				queue[tail++] = w;
			}
		}
	}
}

/* Strong roots first; then each weak root keeps its targets only if the
 * strong marking did not reach them, and the edges it loses are removed. */
static struct ga_error *mark(struct ga_graph *g)
{
	uint32_t n = g->nnodes;
	g->mark = calloc(((size_t)n + 63) / 64, 8);
	uint32_t *queue = malloc((size_t)n * 4 + 4);
	if (!g->mark || !queue) {
		free(queue);
		return &ga_error_nomem;
	}
	set_mark(g, 0);
	uint32_t tail = 0;
	for (uint32_t r = 1; r <= g->nroots; r++) {
		if (g->roots.v[r - 1].flags & GRAPH_ROOT_WEAK)
			continue;
		set_mark(g, r);
		queue[tail++] = r;
	}
	mark_from(g, queue, tail);
	bool dropped = false;
	for (uint32_t r = 1; r <= g->nroots; r++) {
		if (!(g->roots.v[r - 1].flags & GRAPH_ROOT_WEAK))
			continue;
		tail = 0;
		for (uint32_t e = g->fwd_off[r]; e < g->fwd_off[r + 1]; e++) {
			uint32_t w = g->fwd[e];
			if (graph_marked(g, w)) {
				g->fwd[e] = GRAPH_NONE;
				dropped = true;
			} else {
				set_mark(g, w);
				queue[tail++] = w;
			}
		}
		set_mark(g, r);
		mark_from(g, queue, tail);
	}
	free(queue);
	if (dropped) {
		/* compact: only root edge lists hold GRAPH_NONE */
		uint32_t out = 0;
		for (uint32_t v = 0; v < n; v++) {
			uint32_t s = g->fwd_off[v], e = g->fwd_off[v + 1];
			g->fwd_off[v] = out;
			for (uint32_t i = s; i < e; i++)
				if (g->fwd[i] != GRAPH_NONE)
					g->fwd[out++] = g->fwd[i];
		}
		g->fwd_off[n] = out;
	}
	return NULL;
}

static struct ga_error *reverse(struct ga_graph *g)
{
	uint32_t n = g->nnodes, ne = g->fwd_off[n];
	g->rev_off = calloc((size_t)n + 1, 4);
	g->rev = malloc((size_t)ne * 4 + 4);
	if (!g->rev_off || !g->rev)
		return &ga_error_nomem;
	for (uint32_t e = 0; e < ne; e++)
		g->rev_off[g->fwd[e] + 1]++;
	for (uint32_t v = 0; v < n; v++)
		g->rev_off[v + 1] += g->rev_off[v];
	uint32_t *pos = malloc((size_t)n * 4 + 4);
	if (!pos)
		return &ga_error_nomem;
	memcpy(pos, g->rev_off, (size_t)n * 4);
	for (uint32_t v = 0; v < n; v++)
		for (uint32_t e = g->fwd_off[v]; e < g->fwd_off[v + 1]; e++)
			g->rev[pos[g->fwd[e]]++] = v;
	free(pos);
	return NULL;
}

struct ga_error *graph_build(struct ga_graph *g, struct rt_heap *h, struct rt_types *types,
			     struct rt_ptrmap *pm, const struct rt_specials *sp,
			     const struct graph_stack_src *stk)
{
	memset(g, 0, sizeof(*g));
	g->heap = h;
	g->types = types;
	ga_sb_init(&g->names);
	ga_sb_appendn(&g->names, "", 1);
	double t0 = ga_now();
	struct builder b = {.g = g, .h = h, .rt = h->rt, .heap_lo = UINT64_MAX};
	for (size_t i = 0; i < h->arenas.len; i++) {
		uint64_t lo = h->arenas.v[i].base, hi = lo + h->arena_bytes;
		b.heap_lo = lo < b.heap_lo ? lo : b.heap_lo;
		b.heap_hi = hi > b.heap_hi ? hi : b.heap_hi;
	}
	globals(&b);
	if (!b.err && stk)
		stacks(&b, stk);
	if (!b.err && sp)
		specials(&b, sp, types);
	if (!b.err)
		tiny_blocks(&b);
	struct ga_error *err = b.err;
	if (!err && g->names.oom)
		err = &ga_error_nomem;
	struct edge_vec edges = {0};
	if (err)
		goto out;
	g->nroots = (uint32_t)g->roots.len;
	if ((uint64_t)g->nroots + h->nobjs + 1 >= GRAPH_NONE) {
		err = ga_error_create(GA_ERR_UNSUPPORTED, "too many graph nodes");
		goto out;
	}
	g->nnodes = g->nroots + h->nobjs + 1;
	g->fwd_off = malloc(((size_t)g->nnodes + 1) * 4);
	if (!g->fwd_off || ga_vec_reserve(&edges, g->nroots + b.redges.len + h->nobjs)) {
		err = &ga_error_nomem;
		goto out;
	}
	g->fwd_off[0] = 0;
	for (uint32_t r = 1; r <= g->nroots; r++)
		edges.v[edges.len++] = r;
	for (uint32_t r = 0; r < g->nroots; r++) {
		g->fwd_off[r + 1] = (uint32_t)edges.len;
		uint32_t s = b.roff.v[r], e = r + 1 < b.roff.len ? b.roff.v[r + 1] : (uint32_t)b.redges.len;
		for (uint32_t i = s; i < e; i++)
			edges.v[edges.len++] = b.redges.v[i] + g->nroots + 1;
	}
	ga_vec_free(&b.redges);
	ga_vec_free(&b.roff);
	if ((err = object_edges(g, &b, pm, &edges)))
		goto out;
	g->fwd_off[g->nnodes] = (uint32_t)edges.len;
	g->fwd = edges.v;
	edges.v = NULL;
	g->t_edges = ga_now() - t0;
	t0 = ga_now();
	if ((err = mark(g)) || (err = reverse(g)))
		goto out;
	g->st.edges = g->fwd_off[g->nnodes];
	g->st.ptrmap_failures = pm->failures;
	for (size_t si = 0; si < h->spans.len; si++) {
		const struct rt_hspan *s = &h->spans.v[si];
		for (uint32_t k = 0; k < s->nobjs; k++) {
			rt_obj_id id = s->first_id + k;
			if (graph_marked(g, graph_obj_node(g, id))) {
				g->st.live_objects++;
				g->st.live_bytes += s->elemsize;
			} else {
				g->st.garbage_objects++;
				g->st.garbage_bytes += s->elemsize;
			}
			if (h->obj_typed_by[id])
				g->st.typed_objects++;
		}
	}
	g->t_mark = ga_now() - t0;
out:
	ga_vec_free(&b.redges);
	ga_vec_free(&b.roff);
	ga_vec_free(&edges);
	return err;
}

void graph_free(struct ga_graph *g)
{
	ga_vec_free(&g->roots);
	ga_sb_free(&g->names);
	free(g->fwd_off);
	free(g->fwd);
	free(g->rev_off);
	free(g->rev);
	free(g->mark);
	free(g->idom);
	free(g->retained);
	free(g->dom_off);
	free(g->dom_kids);
	memset(g, 0, sizeof(*g));
}
