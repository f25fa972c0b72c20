#include <stdlib.h>
#include <string.h>

#include "rt/heap.h"

#define MAX_ARENAS (1u << 20)      /* 64 TiB of 64 MiB arenas */
#define MAX_DENSE_ARENAS (1u << 20)
#define MAX_OBJECTS 0xfffffff0u

static int arena_cmp(const void *a, const void *b)
{
	const struct rt_harena *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

/* Reads the arena list and the *heapArena of each. */
static struct ga_error *read_arenas(struct ga_rt *rt, struct rt_heap *h, uint64_t mheap,
				    ga_type_id ht)
{
	/* renamed allArenas -> heapArenas in Go 1.26 */
	struct rt_field fl = rt_field_of(rt, ht, "heapArenas");
	if (!fl.ok)
		fl = rt_field_of(rt, ht, "allArenas");
	struct rt_field fa = rt_field_of(rt, ht, "arenas");
	if (!fl.ok || !fa.ok)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.mheap.heapArenas/arenas");
	int64_t l1bits = 0, l1shift = 0, l2bits = 0;
	rt_const(rt, "runtime.arenaL1Bits", &l1bits);
	rt_const(rt, "runtime.arenaL1Shift", &l1shift);
	if (!rt_const(rt, "runtime.arenaL2Bits", &l2bits) || l2bits <= 0 || l2bits > 40 ||
	    l1bits < 0 || l1bits > 20)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.arenaL2Bits");
	uint64_t p, len, cap;
	if (!rt_read_slice(rt, mheap + fl.off, &p, &len, &cap))
		return ga_error_create(GA_ERR_FAULT, "runtime.mheap_.heapArenas not in core");
	if (len > MAX_ARENAS || len > cap)
		return ga_error_create(GA_ERR_CORRUPT, "mheap_.heapArenas has implausible length %llu",
				       (unsigned long long)len);
	for (uint64_t i = 0; i < len; i++) {
		uint64_t idx;
		if (!ga_mem_u64(rt->mem, p + 8 * i, &idx)) {
			h->unreadable++;
			continue;
		}
		uint64_t l1 = l1bits ? idx >> l1shift : 0;
		uint64_t l2 = idx & ((1ull << l2bits) - 1);
		uint64_t l2arr, ha;
		if (l1 >> l1bits || !ga_mem_u64(rt->mem, mheap + fa.off + 8 * l1, &l2arr) || !l2arr ||
		    !ga_mem_u64(rt->mem, l2arr + 8 * l2, &ha) || !ha) {
			h->unreadable++;
			continue;
		}
		struct rt_harena a = {idx * h->arena_bytes + h->arena_base_offset, ha, idx};
		if (ga_vec_push(&h->arenas, a))
			return &ga_error_nomem;
	}
	ga_sort(h->arenas.v, h->arenas.len, sizeof(*h->arenas.v), arena_cmp);
	if (!h->arenas.len)
		return NULL;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < h->arenas.len; i++) {
		lo = h->arenas.v[i].idx < lo ? h->arenas.v[i].idx : lo;
		hi = h->arenas.v[i].idx > hi ? h->arenas.v[i].idx : hi;
	}
	if (hi - lo >= MAX_DENSE_ARENAS)
		return ga_error_create(GA_ERR_UNSUPPORTED, "heap arenas spread over %llu arena slots",
				       (unsigned long long)(hi - lo + 1));
	h->arena_lo = lo;
	h->arena_span = hi - lo + 1;
	h->arena_slot = calloc(h->arena_span, sizeof(uint32_t));
	h->page_span = calloc(h->arenas.len * h->pages_per_arena, sizeof(uint32_t));
	if (!h->arena_slot || !h->page_span)
		return &ga_error_nomem;
	for (size_t i = 0; i < h->arenas.len; i++)
		h->arena_slot[h->arenas.v[i].idx - lo] = (uint32_t)i + 1;
	return NULL;
}

static inline uint32_t arena_of(const struct rt_heap *h, uint64_t addr)
{
	uint64_t idx = (addr - h->arena_base_offset) / h->arena_bytes - h->arena_lo;
	return idx < h->arena_span ? h->arena_slot[idx] : 0;
}

const struct rt_hspan *rt_heap_span_at(const struct rt_heap *h, uint64_t addr)
{
	uint32_t a = arena_of(h, addr);
	if (!a)
		return NULL;
	uint64_t page = ((addr - h->arena_base_offset) % h->arena_bytes) / h->page_size;
	uint32_t si = h->page_span[(uint64_t)(a - 1) * h->pages_per_arena + page];
	return si ? &h->spans.v[si - 1] : NULL;
}

rt_obj_id rt_heap_find(const struct rt_heap *h, uint64_t addr)
{
	const struct rt_hspan *s = rt_heap_span_at(h, addr);
	if (!s || addr < s->base)
		return RT_NO_OBJ;
	uint64_t slot = (addr - s->base) / s->elemsize;
	if (slot >= s->nelems)
		return RT_NO_OBJ;
	uint64_t w = s->bitw + slot / 64;
	uint64_t bits = h->allocw[w], bit = 1ull << (slot % 64);
	if (!(bits & bit))
		return RT_NO_OBJ;
	return h->allocrank[w] + (rt_obj_id)__builtin_popcountll(bits & (bit - 1));
}

uint32_t rt_heap_span_of(const struct rt_heap *h, rt_obj_id id)
{
	/* the first span whose ids end after id: first_id + nobjs does not
	 * decrease, and empty spans (which share first_id with their
	 * successor) are passed over by the search itself */
	size_t lo = 0, hi = h->spans.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rt_hspan *s = &h->spans.v[mid];
		if ((uint64_t)s->first_id + s->nobjs <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)(lo < h->spans.len ? lo : (h->spans.len ? h->spans.len - 1 : 0));
}

uint64_t rt_heap_addr(const struct rt_heap *h, rt_obj_id id)
{
	if (id >= h->nobjs)
		return 0;
	return rt_heap_addr_in(h, &h->spans.v[rt_heap_span_of(h, id)], id);
}

uint64_t rt_heap_addr_in(const struct rt_heap *h, const struct rt_hspan *s, rt_obj_id id)
{
	uint64_t nw = (s->nelems + 63) / 64;
	/* last word whose rank is <= id */
	uint64_t lo = 0, hi = nw;
	while (hi - lo > 1) {
		uint64_t mid = (lo + hi) / 2;
		if (h->allocrank[s->bitw + mid] <= id)
			lo = mid;
		else
			hi = mid;
	}
	for (uint64_t w = lo; w < nw; w++) {
		uint64_t bits = h->allocw[s->bitw + w];
		uint32_t k = id - h->allocrank[s->bitw + w];
		if ((uint32_t)__builtin_popcountll(bits) <= k)
			continue;
		for (uint32_t j = 0; j < k; j++)
			bits &= bits - 1;
		return s->base + (w * 64 + (uint64_t)__builtin_ctzll(bits)) * s->elemsize;
	}
	return 0;
}

uint64_t rt_heap_size(const struct rt_heap *h, rt_obj_id id)
{
	return id < h->nobjs ? h->spans.v[rt_heap_span_of(h, id)].elemsize : 0;
}

/* Allocation bits of one span: slot < freeindex or allocBits set; fresh:
 * below freeindex with allocBits clear. */
static void span_alloc_bits(struct rt_heap *h, const struct rt_span *sp, uint64_t *w,
			    uint64_t *fresh)
{
	uint64_t nw = ((uint64_t)sp->nelems + 63) / 64;
	uint64_t nb = ((uint64_t)sp->nelems + 7) / 8;
	const uint8_t *ab = sp->alloc_bits ? ga_mem_view(h->rt->mem, sp->alloc_bits, nb) : NULL;
	if (ab) {
		memcpy(w, ab, nb);
	} else if (sp->alloc_bits && ga_mem_try_read(h->rt->mem, sp->alloc_bits, w, nb)) {
		/* read in pieces */
	} else {
		h->unreadable++;
	}
	uint64_t fi = sp->freeindex < sp->nelems ? sp->freeindex : sp->nelems;
	for (uint64_t i = 0; i < fi / 64; i++) {
		fresh[i] = ~w[i];
		w[i] = ~0ull;
	}
	if (fi % 64) {
		uint64_t below = (1ull << (fi % 64)) - 1;
		fresh[fi / 64] = ~w[fi / 64] & below;
		w[fi / 64] |= below;
	}
	if (sp->nelems % 64)
		w[nw - 1] &= (1ull << (sp->nelems % 64)) - 1;
}

bool rt_heap_fresh(const struct rt_heap *h, rt_obj_id id)
{
	uint64_t a = rt_heap_addr(h, id);
	const struct rt_hspan *s = rt_heap_span_at(h, a);
	if (!s)
		return false;
	uint64_t slot = (a - s->base) / s->elemsize;
	return h->freshw[s->bitw + slot / 64] >> (slot % 64) & 1;
}

struct ga_error *rt_heap_build(struct ga_rt *rt, struct rt_heap *h)
{
	memset(h, 0, sizeof(*h));
	h->rt = rt;
	int64_t v;
	h->page_size = rt_const(rt, "runtime._PageSize", &v) && v > 0 ? (uint64_t)v : 8192;
	if (!rt_const(rt, "runtime.heapArenaBytes", &v) || v <= 0)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.heapArenaBytes");
	h->arena_bytes = (uint64_t)v;
	h->arena_base_offset = rt_const(rt, "runtime.arenaBaseOffsetUintptr", &v) ? (uint64_t)v : 0;
	h->pages_per_arena = h->arena_bytes / h->page_size;
	h->tiny_class = rt_const(rt, "runtime._TinySizeClass", &v) ? (uint64_t)v : 2;
	const struct ga_type *imb = ga_dwarf_type(rt->dw,
		ga_dwarf_type_by_name(rt->dw, "runtime.spanInlineMarkBits"));
	h->inline_mark = imb && imb->size > 0;
	int64_t inuse = 1, manual = 2;
	rt_const(rt, "runtime.mSpanInUse", &inuse);
	rt_const(rt, "runtime.mSpanManual", &manual);
	if (h->pages_per_arena == 0 || h->pages_per_arena > (1u << 24))
		return ga_error_create(GA_ERR_UNSUPPORTED, "implausible heap arena geometry");

	ga_type_id ht;
	uint64_t mheap = rt_global(rt, "runtime.mheap_", &ht);
	if (!mheap)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.mheap_");
	uint64_t sweepgen = 0;
	struct rt_field sg = rt_scalar_field(rt, "runtime.mheap", "sweepgen");
	rt_read_field(rt, mheap, &sg, &sweepgen);
	struct ga_error *err = read_arenas(rt, h, mheap, ht);
	if (err)
		return err;
	struct rt_field fspans = rt_field(rt, "runtime.heapArena", "spans");
	if (!fspans.ok)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.heapArena.spans");
	struct rt_span_layout sl;
	if ((err = rt_span_layout(rt, &sl)))
		return err;
	uint8_t *buf = malloc(sl.size ? sl.size : 1);
	uint64_t *pages = malloc(h->pages_per_arena * 8);
	GA_VEC(struct rt_span) found = {0};
	if (!buf || !pages) {
		err = &ga_error_nomem;
		goto out;
	}
	for (size_t ai = 0; ai < h->arenas.len; ai++) {
		const struct rt_harena *a = &h->arenas.v[ai];
		if (!ga_mem_try_read(rt->mem, a->ha + fspans.off, pages, h->pages_per_arena * 8)) {
			h->unreadable++;
			continue;
		}
		/* A descriptor can be listed under stale pages of an earlier, bigger
		 * span it described: decode each run once and take the span at the
		 * page that is its base. */
		uint64_t last = 0;
		bool last_ok = false;
		struct rt_span sp;
		for (uint64_t pg = 0; pg < h->pages_per_arena; pg++) {
			if (!pages[pg])
				continue;
			if (pages[pg] != last) {
				last = pages[pg];
				last_ok = rt_span_decode(rt, &sl, pages[pg], buf, &sp);
				if (!last_ok)
					h->unreadable++;
			}
			if (!last_ok || sp.base != a->base + pg * h->page_size || !sp.npages ||
			    sp.npages > (1ull << 40) / h->page_size)
				continue;
			if (sp.state == manual) {
				h->manual_spans++;
				h->manual_bytes += sp.npages * h->page_size;
				continue;
			}
			if (sp.state != inuse)
				continue;
			if (!sp.elemsize || !sp.nelems || sp.elemsize * sp.nelems > sp.npages * h->page_size) {
				h->unreadable++;
				continue;
			}
			if (ga_vec_push(&found, sp)) {
				err = &ga_error_nomem;
				goto out;
			}
		}
	}
	/* arenas are sorted and pages ascend: spans are in address order */
	uint64_t nwords = 0;
	for (size_t i = 0; i < found.len; i++)
		nwords += ((uint64_t)found.v[i].nelems + 63) / 64;
	h->allocw = calloc(nwords ? nwords : 1, 8);
	h->allocrank = malloc((nwords ? nwords : 1) * 4);
	h->freshw = calloc(nwords ? nwords : 1, 8);
	if (!h->allocw || !h->freshw || !h->allocrank || ga_vec_reserve(&h->spans, found.len)) {
		err = &ga_error_nomem;
		goto out;
	}
	h->nwords = nwords;
	uint64_t w = 0, ids = 0;
	for (size_t i = 0; i < found.len; i++) {
		const struct rt_span *sp = &found.v[i];
		struct rt_hspan hs = {
			.base = sp->base, .elemsize = sp->elemsize, .span = sp->addr,
			.large_type = sp->large_type, .specials = sp->specials, .bitw = w,
			.npages = (uint32_t)sp->npages, .nelems = sp->nelems,
			.first_id = (uint32_t)ids, .alloc_count = sp->alloc_count,
			.sizeclass = sp->spanclass >> 1,
		};
		if (sp->spanclass & 1)
			hs.flags |= RT_HSPAN_NOSCAN;
		if (hs.sizeclass == 0)
			hs.flags |= RT_HSPAN_LARGE;
		if (hs.sizeclass == h->tiny_class && (sp->spanclass & 1))
			hs.flags |= RT_HSPAN_TINY;
		if (sweepgen && (sp->sweepgen == sweepgen - 2 || sp->sweepgen == sweepgen + 1))
			hs.flags |= RT_HSPAN_UNSWEPT;
		/* runtime.gcUsesSpanInlineMarkBits: heapBitsInSpan(size) && size >= 16 */
		if (h->inline_mark && sp->elemsize >= 16 && sp->elemsize <= 512)
			hs.flags |= RT_HSPAN_INLINEMARK;
		uint64_t nw = ((uint64_t)sp->nelems + 63) / 64;
		span_alloc_bits(h, sp, h->allocw + w, h->freshw + w);
		for (uint64_t k = 0; k < nw; k++) {
			h->allocrank[w + k] = (uint32_t)ids;
			ids += (uint64_t)__builtin_popcountll(h->allocw[w + k]);
			if (ids > MAX_OBJECTS) {
				err = ga_error_create(GA_ERR_UNSUPPORTED, "more than %u heap objects",
						      MAX_OBJECTS);
				goto out;
			}
		}
		hs.nobjs = (uint32_t)(ids - hs.first_id);
		w += nw;
		h->inuse_bytes += sp->npages * h->page_size;
		h->alloc_bytes += hs.nobjs * sp->elemsize;
		h->runtime_alloc_count += sp->alloc_count;
		for (uint64_t k = 0; k < nw; k++) {
			uint64_t f = (uint64_t)__builtin_popcountll(h->freshw[w - nw + k]);
			h->fresh_objects += f;
			h->fresh_bytes += f * sp->elemsize;
		}
		h->spans.v[h->spans.len++] = hs;
		uint32_t si = (uint32_t)h->spans.len;
		for (uint64_t pg = 0; pg < sp->npages; pg++) {
			uint64_t addr = sp->base + pg * h->page_size;
			uint32_t a = arena_of(h, addr);
			if (a)
				h->page_span[(uint64_t)(a - 1) * h->pages_per_arena +
					     ((addr - h->arena_base_offset) % h->arena_bytes) / h->page_size] = si;
		}
	}
	h->nobjs = (uint32_t)ids;
	h->obj_type = calloc(ids ? ids : 1, sizeof(uint32_t));
	h->obj_typed_by = calloc(ids ? ids : 1, 1);
	if (!h->obj_type || !h->obj_typed_by)
		err = &ga_error_nomem;
out:
	free(buf);
	free(pages);
	ga_vec_free(&found);
	return err;
}

void rt_heap_free(struct rt_heap *h)
{
	ga_vec_free(&h->spans);
	ga_vec_free(&h->arenas);
	free(h->arena_slot);
	free(h->page_span);
	free(h->allocw);
	free(h->allocrank);
	free(h->freshw);
	free(h->obj_type);
	free(h->obj_typed_by);
	memset(h, 0, sizeof(*h));
}
