#include <stdlib.h>
#include <string.h>

#include "rt/stackmap.h"

#define ARGS_SIZE_UNKNOWN ((int32_t)0x80000000)
#define MAX_STACK_OBJECTS 65536
#define MAX_MAP_BITS (1u << 27) /* a 1 GB frame */

void rt_roots_reset(struct rt_roots *r)
{
	r->slots.len = r->objects.len = r->masks.len = r->ranges.len = 0;
	r->precise = true;
}

void rt_roots_free(struct rt_roots *r)
{
	ga_vec_free(&r->slots);
	ga_vec_free(&r->objects);
	ga_vec_free(&r->masks);
	ga_vec_free(&r->ranges);
}

static struct ga_error *add_range(struct rt_roots *r, uint64_t lo, uint64_t hi, uint32_t frame,
				  bool missing)
{
	if (hi <= lo)
		return NULL;
	struct rt_root_range rg = {lo, hi, frame, missing};
	if (missing)
		r->precise = false;
	return ga_vec_push(&r->ranges, rg) ? &ga_error_nomem : NULL;
}

/* A runtime.stackmap {n int32; nbit int32; bytedata}: bitmap idx.
 * Returns false when it is absent or idx is out of range. */
static bool stackmap_bits(struct ga_mem *mem, uint64_t smap, int32_t idx, int32_t *nbit,
			  uint64_t *bits)
{
	int32_t hdr[2];
	if (!smap || !ga_mem_try_read(mem, smap, hdr, sizeof(hdr)) || hdr[0] <= 0 || hdr[1] < 0 ||
	    (uint32_t)hdr[1] > MAX_MAP_BITS)
		return false;
	*nbit = hdr[1];
	if (hdr[1] == 0)
		return true; /* nothing to scan */
	if (idx < 0 || idx >= hdr[0])
		return false;
	*bits = smap + 8 + (uint64_t)idx * (((uint64_t)hdr[1] + 7) / 8);
	return true;
}

static struct ga_error *add_bits(struct ga_mem *mem, struct rt_roots *r, uint64_t bits, int32_t nbit,
				 uint64_t base, uint32_t frame, uint8_t kind, bool *ok)
{
	*ok = true;
	uint8_t buf[256];
	for (int32_t i = 0; i < nbit; i += 8 * (int32_t)sizeof(buf)) {
		int32_t nb = nbit - i < 8 * (int32_t)sizeof(buf) ? nbit - i : 8 * (int32_t)sizeof(buf);
		if (!ga_mem_try_read(mem, bits + (uint64_t)i / 8, buf, ((size_t)nb + 7) / 8)) {
			*ok = false;
			return NULL;
		}
		for (int32_t j = 0; j < nb; j++) {
			if (!(buf[j / 8] >> (j % 8) & 1))
				continue;
			struct rt_root_slot s = {base + 8 * (uint64_t)(i + j), frame, kind};
			if (ga_vec_push(&r->slots, s))
				return &ga_error_nomem;
		}
	}
	return NULL;
}

static struct ga_error *add_objects(struct rt_unwinder *u, const struct rt_frame *f, uint32_t index,
				    struct rt_roots *r)
{
	const struct rt_pcln *t = u->pcln;
	struct ga_mem *mem = u->rt->mem;
	uint64_t p = rt_pcln_funcdata(t, &f->fn, (uint32_t)t->funcdata_stackobjs);
	uint64_t n;
	if (!p || !t->sobj_size || !f->varp || !ga_mem_u64(mem, p, &n))
		return NULL;
	if (n > MAX_STACK_OBJECTS)
		return add_range(r, f->sp, f->varp, index, true);
	uint64_t rodata = t->mods[f->fn.module].rodata;
	uint64_t stack_bytes = f->fp - f->sp + 65536;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t rec[64];
		uint64_t rs = t->sobj_size < sizeof(rec) ? t->sobj_size : sizeof(rec);
		if (!ga_mem_try_read(mem, p + 8 + i * t->sobj_size, rec, rs))
			return add_range(r, f->sp, f->varp, index, true);
		int32_t off = 0, size = 0, ptrdata = 0;
		uint32_t gcoff = 0;
		if (t->sobj_off.ok)
			memcpy(&off, rec + t->sobj_off.off, 4);
		if (t->sobj_size_f.ok)
			memcpy(&size, rec + t->sobj_size_f.off, 4);
		if (t->sobj_ptrdata.ok)
			memcpy(&ptrdata, rec + t->sobj_ptrdata.off, 4);
		if (t->sobj_gcdataoff.ok)
			memcpy(&gcoff, rec + t->sobj_gcdataoff.off, 4);
		uint64_t base = off >= 0 ? f->argp : f->varp;
		uint64_t addr = base + (uint64_t)(int64_t)off;
		if (addr < f->sp)
			continue; /* not allocated in the frame yet */
		struct rt_root_object o = {0};
		o.addr = addr;
		o.size = (uint64_t)(size > 0 ? size : 0);
		o.frame = index;
		/* Go 1.19: a negative ptrdata marks a GC program (useGCProg) */
		o.gcprog = ptrdata < 0;
		o.ptrdata = (uint64_t)(ptrdata < 0 ? -(int64_t)ptrdata : ptrdata);
		if (o.size > stack_bytes || o.ptrdata > o.size) {
			if (add_range(r, f->sp, f->varp, index, true))
				return &ga_error_nomem;
			continue;
		}
		o.mask_off = (uint32_t)r->masks.len;
		if (!o.gcprog && o.ptrdata) {
			size_t mb = (size_t)((o.ptrdata / 8 + 7) / 8);
			if (ga_vec_reserve(&r->masks, mb))
				return &ga_error_nomem;
			if (!ga_mem_try_read(mem, rodata + gcoff, r->masks.v + r->masks.len, mb)) {
				o.gcprog = true; /* unreadable mask: scan it conservatively */
			} else {
				r->masks.len += mb;
			}
		}
		if (ga_vec_push(&r->objects, o))
			return &ga_error_nomem;
	}
	return NULL;
}

/* reflect.makeFuncStub / methodValueCall have no static argument size:
 * their frames are scanned conservatively here, arguments sized from the
 * *reflect.methodValue they saved at sp (argInfo / argMapInternal). */
static struct ga_error *reflect_frame(struct rt_unwinder *u, const struct rt_frame *f, uint32_t index,
				      struct rt_roots *r)
{
	struct ga_mem *mem = u->rt->mem;
	struct ga_error *err = add_range(r, f->sp, f->varp, index, false);
	uint64_t mv, fn, stack, nwords32;
	if (err || !ga_mem_u64(mem, f->sp + u->arch->min_frame_size, &mv) || !ga_mem_u64(mem, mv, &fn) ||
	    fn != f->fn.entry || !ga_mem_u64(mem, mv + 8, &stack) || !ga_mem_u64(mem, stack, &nwords32))
		return err;
	uint64_t n = (uint64_t)(uint32_t)nwords32 * 8;
	if (n > f->fp - f->sp + 65536)
		return NULL;
	return add_range(r, f->argp, f->argp + n, index, false);
}

struct ga_error *rt_frame_roots(struct rt_unwinder *u, const struct rt_frame *f, uint32_t index,
				bool conservative, struct rt_roots *out)
{
	const struct rt_pcln *t = u->pcln;
	struct ga_mem *mem = u->rt->mem;
	const struct rt_func *fn = &f->fn;
	struct ga_error *err;
	if (conservative || fn->funcid == RT_FID_ASYNCPREEMPT || fn->funcid == RT_FID_DEBUGCALLV2) {
		/* scanframeworker's conservative case, outgoing argument space included */
		if (f->varp > f->sp && (err = add_range(out, f->sp, f->varp, index, false)))
			return err;
		if (fn->args > 0 && fn->args != ARGS_SIZE_UNKNOWN)
			return add_range(out, f->argp, f->argp + (uint64_t)fn->args, index, false);
		return NULL;
	}
	if (!f->continpc)
		return NULL; /* dead frame */
	if (fn->args == ARGS_SIZE_UNKNOWN) {
		const char *name = rt_pcln_name(t, fn);
		if (!strcmp(name, "reflect.makeFuncStub") || !strcmp(name, "reflect.methodValueCall"))
			return reflect_frame(u, f, index, out);
	}
	uint64_t targetpc = f->continpc;
	int32_t pcdata = -1;
	if (targetpc != fn->entry) {
		/* back up into the CALL; at the entry use the entry map */
		targetpc--;
		pcdata = rt_pcln_pcdata(t, fn, (uint32_t)t->pcdata_stackmap, targetpc);
	}
	if (pcdata == -1)
		pcdata = 0;
	uint64_t size = f->varp > f->sp ? f->varp - f->sp : 0;
	uint64_t minsize = u->arch->uses_lr ? 16 : u->arch->min_frame_size;
	bool ok;
	if (size > minsize) {
		uint64_t smap = rt_pcln_funcdata(t, fn, (uint32_t)t->funcdata_locals);
		int32_t nbit = 0;
		uint64_t bits = 0;
		if (!stackmap_bits(mem, smap, pcdata, &nbit, &bits) || (uint64_t)nbit * 8 > size + 8) {
			if ((err = add_range(out, f->sp, f->varp, index, true)))
				return err;
		} else if (nbit > 0) {
			err = add_bits(mem, out, bits, nbit, f->varp - (uint64_t)nbit * 8, index, RT_SLOT_LOCAL, &ok);
			if (!err && !ok)
				err = add_range(out, f->sp, f->varp, index, true);
			if (err)
				return err;
		}
	}
	if (fn->args > 0 && fn->args != ARGS_SIZE_UNKNOWN) {
		uint64_t smap = rt_pcln_funcdata(t, fn, (uint32_t)t->funcdata_args);
		int32_t nbit = 0;
		uint64_t bits = 0;
		if (!stackmap_bits(mem, smap, pcdata, &nbit, &bits)) {
			if ((err = add_range(out, f->argp, f->argp + (uint64_t)fn->args, index, true)))
				return err;
		} else if (nbit > 0) {
			err = add_bits(mem, out, bits, nbit, f->argp, index, RT_SLOT_ARG, &ok);
			if (!err && !ok)
				err = add_range(out, f->argp, f->argp + (uint64_t)fn->args, index, true);
			if (err)
				return err;
		}
	}
	return add_objects(u, f, index, out);
}

struct ga_error *rt_stack_roots(struct rt_unwinder *u, const struct rt_stack *st, struct rt_roots *out)
{
	if (!out->slots.len && !out->objects.len && !out->ranges.len)
		out->precise = true;
	bool conservative = false;
	for (size_t i = 0; i < st->frames.len; i++) {
		const struct rt_frame *f = &st->frames.v[i];
		struct ga_error *err = rt_frame_roots(u, f, (uint32_t)i, conservative, out);
		if (err)
			return err;
		/* asyncPreempt's frame holds the interrupted frame's registers:
		 * that caller is scanned conservatively too, then precision resumes */
		conservative = f->fn.funcid == RT_FID_ASYNCPREEMPT || f->fn.funcid == RT_FID_DEBUGCALLV2;
	}
	return NULL;
}
