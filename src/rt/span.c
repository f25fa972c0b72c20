#include <stdlib.h>
#include <string.h>

#include "rt/span.h"

#define MAX_SPANS (256u << 20)

struct ga_error *rt_span_layout(struct ga_rt *rt, struct rt_span_layout *l)
{
	memset(l, 0, sizeof(*l));
	const struct ga_type *t = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, "runtime.mspan"));
	if (!t)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no type runtime.mspan");
	l->size = t->size;
#define F(field, path) l->field = rt_scalar_field(rt, "runtime.mspan", path)
	F(base, "startAddr");
	F(limit, "limit");
	F(npages, "npages");
	F(elemsize, "elemsize");
	F(nelems, "nelems");
	F(freeindex, "freeindex");
	F(alloc_count, "allocCount");
	F(state, "state");
	F(spanclass, "spanclass");
	F(sweepgen, "sweepgen");
	F(alloc_bits, "allocBits");
	F(gcmark_bits, "gcmarkBits");
	F(specials, "specials");
	F(large_type, "largeType");
#undef F
	struct ga_error *err;
	if ((err = rt_need(&l->base, "runtime.mspan", "startAddr")) ||
	    (err = rt_need(&l->npages, "runtime.mspan", "npages")) ||
	    (err = rt_need(&l->state, "runtime.mspan", "state")) ||
	    (err = rt_need(&l->elemsize, "runtime.mspan", "elemsize")) ||
	    (err = rt_need(&l->nelems, "runtime.mspan", "nelems")))
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

bool rt_span_decode(struct ga_rt *rt, const struct rt_span_layout *l, uint64_t addr, uint8_t *buf,
		    struct rt_span *s)
{
	memset(s, 0, sizeof(*s));
	s->addr = addr;
	if (!ga_mem_try_read(rt->mem, addr, buf, l->size)) {
		s->state = 0xff; /* unreadable */
		return false;
	}
	s->base = rd(buf, l->size, &l->base);
	s->limit = rd(buf, l->size, &l->limit);
	s->npages = rd(buf, l->size, &l->npages);
	s->elemsize = rd(buf, l->size, &l->elemsize);
	s->nelems = (uint32_t)rd(buf, l->size, &l->nelems);
	s->freeindex = (uint32_t)rd(buf, l->size, &l->freeindex);
	s->alloc_count = (uint32_t)rd(buf, l->size, &l->alloc_count);
	s->state = (uint8_t)rd(buf, l->size, &l->state);
	s->spanclass = (uint8_t)rd(buf, l->size, &l->spanclass);
	s->sweepgen = (uint32_t)rd(buf, l->size, &l->sweepgen);
	s->alloc_bits = rd(buf, l->size, &l->alloc_bits);
	s->gcmark_bits = rd(buf, l->size, &l->gcmark_bits);
	s->specials = rd(buf, l->size, &l->specials);
	s->large_type = rd(buf, l->size, &l->large_type);
	return true;
}

struct ga_error *rt_read_spans(struct ga_rt *rt, struct rt_span **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	struct rt_span_layout l;
	struct ga_error *err = rt_span_layout(rt, &l);
	if (err)
		return err;
	ga_type_id ht;
	uint64_t mheap = rt_global(rt, "runtime.mheap_", &ht);
	struct rt_field allspans = rt_field_of(rt, ht, "allspans");
	if (!mheap || !allspans.ok)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.mheap_.allspans");
	uint64_t ptr, len, cap;
	if (!rt_read_slice(rt, mheap + allspans.off, &ptr, &len, &cap))
		return ga_error_create(GA_ERR_FAULT, "runtime.mheap_.allspans not in core");
	if (len > MAX_SPANS || len > cap)
		return ga_error_create(GA_ERR_CORRUPT, "mheap_.allspans has implausible length %llu",
				       (unsigned long long)len);
	struct rt_span *spans = calloc(len ? len : 1, sizeof(*spans));
	uint64_t *ptrs = malloc((len ? len : 1) * 8);
	uint8_t *buf = malloc(l.size ? l.size : 1);
	if (!spans || !ptrs || !buf) {
		free(spans);
		free(ptrs);
		free(buf);
		return &ga_error_nomem;
	}
	size_t n = 0;
	if (len && !ga_mem_try_read(rt->mem, ptr, ptrs, len * 8)) {
		free(spans);
		free(ptrs);
		free(buf);
		return ga_error_create(GA_ERR_FAULT, "mheap_.allspans array at 0x%llx not in core",
				       (unsigned long long)ptr);
	}
	for (uint64_t i = 0; i < len; i++)
		rt_span_decode(rt, &l, ptrs[i], buf, &spans[n++]);
	free(ptrs);
	free(buf);
	*out = spans;
	*n_out = n;
	return NULL;
}

struct ga_error *rt_heap_summary(struct ga_rt *rt, const struct rt_span *spans, size_t n,
				 struct rt_heap_summary *out)
{
	memset(out, 0, sizeof(*out));
	int64_t v;
	out->span_inuse_state = rt_const(rt, "runtime.mSpanInUse", &v) ? v : 1;
	out->span_manual_state = rt_const(rt, "runtime.mSpanManual", &v) ? v : 2;
	out->page_size = rt_const(rt, "runtime._PageSize", &v) && v > 0 ? (uint64_t)v : 8192;
	out->arena_bytes = rt_const(rt, "runtime.heapArenaBytes", &v) && v > 0 ? (uint64_t)v : 64u << 20;
	ga_type_id ht;
	uint64_t mheap = rt_global(rt, "runtime.mheap_", &ht);
	if (mheap) {
		/* renamed allArenas -> heapArenas in Go 1.26 */
		struct rt_field f = rt_field_of(rt, ht, "heapArenas");
		if (!f.ok)
			f = rt_field_of(rt, ht, "allArenas");
		uint64_t p, len;
		if (f.ok && rt_read_slice(rt, mheap + f.off, &p, &len, NULL))
			out->arenas = len;
		struct rt_field sg = rt_scalar_field(rt, "runtime.mheap", "sweepgen");
		uint64_t x;
		if (rt_read_field(rt, mheap, &sg, &x))
			out->sweepgen = x;
	}
	out->spans_total = n;
	for (size_t i = 0; i < n; i++) {
		const struct rt_span *s = &spans[i];
		if (s->state == 0xff) {
			out->unreadable_spans++;
		} else if (s->state == out->span_inuse_state) {
			out->spans_inuse++;
			out->inuse_bytes += s->npages * out->page_size;
			out->alloc_objects += s->alloc_count;
		} else if (s->state == out->span_manual_state) {
			out->spans_manual++;
			out->manual_bytes += s->npages * out->page_size;
		} else if (s->state == 0) {
			out->spans_dead++;
		} else {
			out->spans_other++;
		}
	}
	return NULL;
}
