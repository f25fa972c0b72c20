#include <stdlib.h>
#include <string.h>

#include "rt/rtype.h"
#include "rt/specials.h"

#define MAX_SPECIALS_PER_SPAN (1u << 20)
#define MAX_BLOCKS (1u << 20)

const char *rt_special_kind_name(uint8_t kind)
{
	switch (kind) {
	case RT_SPECIAL_FINALIZER: return "finalizer";
	case RT_SPECIAL_CLEANUP: return "cleanup";
	case RT_SPECIAL_WEAKHANDLE: return "weak handle";
	case RT_QUEUED_FINALIZER: return "queued finalizer";
	case RT_QUEUED_CLEANUP: return "queued cleanup";
	default: return "special";
	}
}

/* Pointers of a struct value at addr per its DWARF type, into ptrs. */
static void struct_ptrs(struct ga_rt *rt, uint64_t addr, ga_type_id type, uint64_t *ptrs, int max)
{
	const struct ga_type *t = ga_dwarf_type(rt->dw, type);
	if (!t || t->size / 8 > 64)
		return;
	uint64_t mask = 0;
	rt_dwarf_ptrmask(rt->dw, type, &mask, t->size / 8);
	int n = 0;
	for (unsigned w = 0; w < t->size / 8 && n < max; w++)
		if (mask >> w & 1)
			ga_mem_u64(rt->mem, addr + 8 * w, &ptrs[n++]);
}

static uint64_t fn_pc(struct ga_rt *rt, uint64_t funcval)
{
	uint64_t pc = 0;
	if (funcval)
		ga_mem_u64(rt->mem, funcval, &pc);
	return pc;
}

struct span_layout {
	struct rt_field next, offset, kind;
	struct rt_field fin_fn, fin_ot, cleanup, cleanup_fn, weak_handle;
	struct rt_field ptr_elem;
	int64_t k_fin, k_cleanup, k_weak;
};

static void read_span_specials(struct rt_heap *h, const struct span_layout *l, uint32_t si,
			       struct rt_specials *out, struct ga_error **err)
{
	struct ga_rt *rt = h->rt;
	const struct rt_hspan *s = &h->spans.v[si];
	uint64_t sp = s->specials;
	for (uint32_t n = 0; sp && !*err; n++) {
		if (n >= MAX_SPECIALS_PER_SPAN) {
			out->truncated++;
			return;
		}
		uint64_t off = 0, kind = 0, next = 0;
		if (!rt_read_field(rt, sp, &l->offset, &off) || !rt_read_field(rt, sp, &l->kind, &kind) ||
		    !rt_read_field(rt, sp, &l->next, &next)) {
			out->truncated++;
			return;
		}
		struct rt_special r = {.addr = sp, .span = si, .kind = RT_SPECIAL_OTHER};
		r.obj = s->base + off / s->elemsize * s->elemsize;
		if ((int64_t)kind == l->k_fin && l->fin_fn.ok) {
			r.kind = RT_SPECIAL_FINALIZER;
			rt_read_field(rt, sp, &l->fin_fn, &r.ptrs[0]);
			uint64_t ot = 0;
			if (rt_read_field(rt, sp, &l->fin_ot, &ot) && ot && l->ptr_elem.ok)
				rt_read_field(rt, ot, &l->ptr_elem, &r.ot_elem);
			r.fn_pc = fn_pc(rt, r.ptrs[0]);
		} else if ((int64_t)kind == l->k_cleanup && l->cleanup.ok) {
			r.kind = RT_SPECIAL_CLEANUP;
			const struct ga_type *ct = ga_dwarf_type(rt->dw, l->cleanup.type);
			if (ct && ct->kind == GA_K_STRUCT)
				struct_ptrs(rt, sp + l->cleanup.off, l->cleanup.type, r.ptrs, RT_SPECIAL_PTRS);
			else
				rt_read_field(rt, sp, &l->cleanup, &r.ptrs[0]);
			uint64_t fv = 0;
			if (l->cleanup_fn.ok)
				rt_read_field(rt, sp, &l->cleanup_fn, &fv);
			else
				fv = r.ptrs[0];
			r.fn_pc = fn_pc(rt, fv);
		} else if ((int64_t)kind == l->k_weak && l->weak_handle.ok) {
			r.kind = RT_SPECIAL_WEAKHANDLE;
			rt_read_field(rt, sp, &l->weak_handle, &r.ptrs[0]);
		}
		if (ga_vec_push(&out->v, r)) {
			*err = &ga_error_nomem;
			return;
		}
		sp = next;
	}
}

/* Walks a list of blocks linked by `alllink`, each with a count field and
 * an array of records; one rt_special per record. */
static struct ga_error *read_blocks(struct ga_rt *rt, const char *global, const char *count_name,
				    const char *array_name, uint8_t kind, struct rt_specials *out)
{
	ga_type_id gt;
	uint64_t g = rt_global(rt, global, &gt);
	if (!g)
		return NULL;
	uint64_t head;
	ga_type_id bt = 0;
	const struct ga_type *t = ga_dwarf_type(rt->dw, gt);
	if (t && t->kind == GA_K_PTR) {
		bt = t->elem;
		if (!rt_read_ptr(rt, g, &head))
			return NULL;
	} else {
		/* runtime.gcCleanups: a cleanupQueue whose `all` lists the blocks */
		struct rt_field all = rt_scalar_field(rt, "runtime.cleanupQueue", "all");
		if (!all.ok || !rt_read_field(rt, g, &all, &head))
			return NULL;
		bt = ga_dwarf_type_by_name(rt->dw, "runtime.cleanupBlock");
	}
	struct rt_field link = rt_field_of(rt, bt, "alllink");
	struct rt_field cnt = rt_field_of(rt, bt, count_name);
	struct rt_field arr = rt_field_of(rt, bt, array_name);
	if (!link.ok) {
		link = rt_field_of(rt, bt, "cleanupBlockHeader.alllink");
		cnt = rt_field_of(rt, bt, "cleanupBlockHeader.n");
	}
	const struct ga_type *at = ga_dwarf_type(rt->dw, arr.type);
	const struct ga_type *et = at ? ga_dwarf_type(rt->dw, at->elem) : NULL;
	if (!link.ok || !cnt.ok || !arr.ok || !at || at->kind != GA_K_ARRAY || !et || !et->size)
		return NULL;
	struct rt_field fn = rt_field_of(rt, at->elem, "fn");
	struct rt_field arg = rt_field_of(rt, at->elem, "arg");
	struct rt_field ot = rt_field_of(rt, at->elem, "ot");
	struct rt_field pelem = rt_field(rt, "runtime.ptrtype", "elem");
	if (!pelem.ok)
		pelem = rt_field(rt, "internal/abi.PtrType", "Elem");
	for (uint32_t nb = 0; head; nb++) {
		if (nb >= MAX_BLOCKS) {
			out->truncated++;
			break;
		}
		uint64_t n = 0, next = 0;
		if (!rt_read_field(rt, head, &cnt, &n) || !rt_read_field(rt, head, &link, &next)) {
			out->truncated++;
			break;
		}
		if (n > at->count)
			n = at->count;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t rec = head + arr.off + i * et->size;
			struct rt_special r = {.addr = rec, .kind = kind};
			struct_ptrs(rt, rec, at->elem, r.ptrs, RT_SPECIAL_PTRS);
			uint64_t fv = 0;
			if (fn.ok)
				rt_read_field(rt, rec, &fn, &fv);
			r.fn_pc = fn_pc(rt, fv);
			if (arg.ok)
				rt_read_field(rt, rec, &arg, &r.obj);
			uint64_t o = 0;
			if (ot.ok && pelem.ok && rt_read_field(rt, rec, &ot, &o) && o)
				rt_read_field(rt, o, &pelem, &r.ot_elem);
			if (ga_vec_push(&out->v, r))
				return &ga_error_nomem;
		}
		head = next;
	}
	return NULL;
}

struct ga_error *rt_read_specials(struct rt_heap *h, struct rt_specials *out)
{
	memset(out, 0, sizeof(*out));
	struct ga_rt *rt = h->rt;
	struct span_layout l = {0};
	l.next = rt_field(rt, "runtime.special", "next");
	l.offset = rt_field(rt, "runtime.special", "offset");
	l.kind = rt_field(rt, "runtime.special", "kind");
	l.fin_fn = rt_field(rt, "runtime.specialfinalizer", "fn");
	l.fin_ot = rt_field(rt, "runtime.specialfinalizer", "ot");
	l.cleanup = rt_field(rt, "runtime.specialCleanup", "cleanup");
	l.cleanup_fn = rt_field(rt, "runtime.specialCleanup", "cleanup.fn");
	if (!l.cleanup.ok) {
		l.cleanup = rt_field(rt, "runtime.specialCleanup", "fn");
		l.cleanup_fn = l.cleanup;
	}
	l.weak_handle = rt_field(rt, "runtime.specialWeakHandle", "handle");
	l.ptr_elem = rt_field(rt, "runtime.ptrtype", "elem");
	if (!l.ptr_elem.ok)
		l.ptr_elem = rt_field(rt, "internal/abi.PtrType", "Elem");
	l.k_fin = l.k_cleanup = l.k_weak = -1;
	rt_const(rt, "runtime._KindSpecialFinalizer", &l.k_fin);
	rt_const(rt, "runtime._KindSpecialCleanup", &l.k_cleanup);
	rt_const(rt, "runtime._KindSpecialWeakHandle", &l.k_weak);
	struct ga_error *err = NULL;
	if (l.next.ok && l.offset.ok && l.kind.ok) {
		for (uint32_t i = 0; i < h->spans.len && !err; i++)
			if (h->spans.v[i].specials)
				read_span_specials(h, &l, i, out, &err);
	}
	if (!err)
		err = read_blocks(rt, "runtime.allfin", "cnt", "fin", RT_QUEUED_FINALIZER, out);
	if (!err)
		err = read_blocks(rt, "runtime.gcCleanups", "n", "cleanups", RT_QUEUED_CLEANUP, out);
	return err;
}

void rt_specials_free(struct rt_specials *s)
{
	ga_vec_free(&s->v);
}
