#include <stdlib.h>
#include <string.h>

#include "rt/ptrmap.h"

const char *rt_ptrmap_layout_name(enum rt_ptrmap_layout l)
{
	switch (l) {
	case RT_PTRMAP_ARENA2: return "arena bitmap, 2 bits a word";
	case RT_PTRMAP_ARENA1: return "arena bitmap, 1 bit a word + noMorePtrs";
	case RT_PTRMAP_HEADERS: return "span heap bits, malloc headers, largeType";
	default: return "unknown";
	}
}

struct ga_error *rt_ptrmap_init(struct rt_ptrmap *pm, struct rt_heap *h, struct rt_types *types)
{
	memset(pm, 0, sizeof(*pm));
	pm->h = h;
	pm->types = types;
	struct ga_rt *rt = h->rt;
	struct rt_field bm = rt_field(rt, "runtime.heapArena", "bitmap");
	struct rt_field nm = rt_field(rt, "runtime.heapArena", "noMorePtrs");
	struct rt_field lt = rt_field(rt, "runtime.mspan", "largeType");
	int64_t v;
	if (bm.ok && nm.ok) {
		pm->layout = RT_PTRMAP_ARENA1;
		pm->nomore_off = nm.off;
	} else if (bm.ok) {
		pm->layout = RT_PTRMAP_ARENA2;
	} else if (lt.ok) {
		pm->layout = RT_PTRMAP_HEADERS;
	} else {
		return ga_error_create(GA_ERR_UNSUPPORTED,
				       "heap pointer maps not understood: runtime.heapArena has no bitmap and runtime.mspan no largeType");
	}
	pm->bitmap_off = bm.off;
	pm->bitmap_bytes = bm.size;
	if (pm->layout != RT_PTRMAP_HEADERS &&
	    (!bm.size || bm.size * (pm->layout == RT_PTRMAP_ARENA2 ? 32 : 64) != h->arena_bytes))
		return ga_error_create(GA_ERR_UNSUPPORTED, "heapArena.bitmap of %llu bytes does not cover an arena",
				       (unsigned long long)bm.size);
	pm->min_header = rt_const(rt, "runtime.minSizeForMallocHeader", &v) ? (uint64_t)v : 512;
	pm->header_size = rt_const(rt, "runtime.mallocHeaderSize", &v) ? (uint64_t)v : 8;
	if (h->inline_mark) {
		const struct ga_type *t = ga_dwarf_type(rt->dw,
			ga_dwarf_type_by_name(rt->dw, "runtime.spanInlineMarkBits"));
		pm->inline_mark_size = t ? t->size : 0;
	}
	if (pm->layout != RT_PTRMAP_HEADERS) {
		pm->arena_bitmap = calloc(h->arenas.len ? h->arenas.len : 1, sizeof(*pm->arena_bitmap));
		if (!pm->arena_bitmap)
			return &ga_error_nomem;
		for (size_t i = 0; i < h->arenas.len; i++)
			pm->arena_bitmap[i] = ga_mem_view(rt->mem, h->arenas.v[i].ha + pm->bitmap_off,
							  pm->bitmap_bytes);
	}
	return NULL;
}

void rt_ptrmap_free(struct rt_ptrmap *pm)
{
	free(pm->arena_bitmap);
	ga_vec_free(&pm->buf);
}

/* Byte i of the bitmap (or of noMorePtrs when nomore) of the arena holding addr. */
static bool arena_byte(struct rt_ptrmap *pm, uint64_t addr, uint64_t i, bool nomore, uint8_t *b)
{
	const struct rt_heap *h = pm->h;
	uint64_t idx = (addr - h->arena_base_offset) / h->arena_bytes - h->arena_lo;
	if (idx >= h->arena_span || !h->arena_slot[idx])
		return false;
	uint32_t a = h->arena_slot[idx] - 1;
	if (!nomore && pm->arena_bitmap[a]) {
		*b = pm->arena_bitmap[a][i];
		return true;
	}
	return ga_mem_u8(h->rt->mem,
			 h->arenas.v[a].ha + (nomore ? pm->nomore_off : pm->bitmap_off) + i, b);
}

static bool arena2(struct rt_ptrmap *pm, uint64_t addr, uint64_t nwords, uint64_t *bits)
{
	for (uint64_t i = 0; i < nwords; i++) {
		uint64_t a = addr + 8 * i;
		uint8_t b;
		if (!arena_byte(pm, a, (a / 32) % pm->bitmap_bytes, false, &b))
			return false;
		unsigned shift = (unsigned)((a / 8) & 3);
		if (!(b >> (shift + 4) & 1))
			break; /* dead: no more pointers in this object */
		if (b >> shift & 1)
			bits[i / 64] |= 1ull << (i % 64);
	}
	return true;
}

static bool arena1(struct rt_ptrmap *pm, uint64_t addr, uint64_t nwords, uint64_t *bits)
{
	uint64_t arena_words = pm->h->arena_bytes / 8;
	for (uint64_t i = 0; i < nwords;) {
		uint64_t a = addr + 8 * i;
		uint64_t word = (a / 8) % arena_words, idx = word / 64, off = word % 64;
		uint64_t m = 0;
		for (unsigned k = 0; k < 8; k++) {
			uint8_t b;
			if (!arena_byte(pm, a, idx * 8 + k, false, &b))
				return false;
			m |= (uint64_t)b << (8 * k);
		}
		m >>= off;
		uint64_t valid = 64 - off;
		for (uint64_t k = 0; k < valid && i + k < nwords; k++)
			if (m >> k & 1)
				bits[(i + k) / 64] |= 1ull << ((i + k) % 64);
		i += valid;
		uint8_t nm;
		/* heapArena.noMorePtrs: no pointers of this object past this bitmap word */
		if (i < nwords && (!arena_byte(pm, a, idx / 8, true, &nm) || (nm >> (idx % 8) & 1)))
			break;
	}
	return true;
}

/* Repeats a type's mask every size bytes over nwords words. */
static bool tile(struct rt_ptrmap *pm, rt_type_idx ti, uint64_t first, uint64_t nwords,
		 uint64_t *bits, struct ga_error **err)
{
	const struct rt_rtype *r = rt_types_get(pm->types, ti);
	if (!r || !r->size || r->size % 8)
		return false;
	if (!r->ptrdata)
		return true;
	uint64_t mw;
	const uint64_t *mask = rt_types_mask(pm->types, ti, &mw, err);
	if (!mask)
		return false;
	uint64_t tw = r->size / 8;
	for (uint64_t base = 0; base < nwords; base += tw)
		for (uint64_t k = 0; k < mw && base + k < nwords; k++)
			if (mask[k / 64] >> (k % 64) & 1) {
				uint64_t b = first + base + k;
				bits[b / 64] |= 1ull << (b % 64);
			}
	return true;
}

static bool headers(struct rt_ptrmap *pm, const struct rt_hspan *s, uint64_t addr, uint64_t nwords,
		    uint64_t *bits, rt_type_idx *type, uint8_t *typed_by, struct ga_error **err)
{
	struct ga_mem *mem = pm->h->rt->mem;
	if (s->flags & RT_HSPAN_LARGE) {
		if (!s->large_type)
			return true; /* nil during delayed zeroing: the runtime scans nothing */
		*type = rt_types_intern(pm->types, s->large_type, err);
		*typed_by = RT_TYPED_LARGETYPE;
		if (s->flags & RT_HSPAN_NOSCAN)
			return true;
		return *type && tile(pm, *type, 0, nwords, bits, err);
	}
	if (s->flags & RT_HSPAN_NOSCAN)
		return true;
	if (s->elemsize <= pm->min_header) {
		/* runtime.spanHeapBitsRange: the span's last spanSize/64 bytes,
		 * before the inline mark bits of Green Tea spans */
		uint64_t span_size = (uint64_t)s->npages * pm->h->page_size;
		uint64_t hb = s->base + span_size - span_size / 64;
		if (s->flags & RT_HSPAN_INLINEMARK)
			hb -= pm->inline_mark_size;
		uint64_t w0 = (addr - s->base) / 8;
		for (uint64_t i = 0; i < nwords;) {
			uint64_t w = w0 + i;
			uint8_t b;
			if (!ga_mem_u8(mem, hb + w / 8, &b))
				return false;
			for (uint64_t k = w % 8; k < 8 && i < nwords; k++, i++)
				if (b >> k & 1)
					bits[i / 64] |= 1ull << (i % 64);
		}
		return true;
	}
	uint64_t t;
	if (!ga_mem_u64(mem, addr, &t))
		return false;
	if (!t)
		return true; /* allocated but its header not written yet */
	*type = rt_types_intern(pm->types, t, err);
	*typed_by = RT_TYPED_HEADER;
	uint64_t hw = pm->header_size / 8;
	return *type && nwords > hw && tile(pm, *type, hw, nwords - hw, bits, err);
}

bool rt_ptrmap_object(struct rt_ptrmap *pm, const struct rt_hspan *s, uint64_t addr,
		      const uint64_t **bits_out, uint64_t *nwords_out, rt_type_idx *type,
		      uint8_t *typed_by, struct ga_error **err)
{
	uint64_t nwords = s->elemsize / 8;
	uint64_t n64 = (nwords + 63) / 64;
	*type = 0;
	*typed_by = RT_TYPED_NONE;
	*nwords_out = 0;
	*bits_out = NULL;
	if (ga_vec_reserve(&pm->buf, n64)) {
		*err = &ga_error_nomem;
		return false;
	}
	uint64_t *bits = pm->buf.v;
	memset(bits, 0, n64 * 8);
	bool ok;
	switch (pm->layout) {
	case RT_PTRMAP_ARENA2:
		ok = (s->flags & RT_HSPAN_NOSCAN) || arena2(pm, addr, nwords, bits);
		break;
	case RT_PTRMAP_ARENA1:
		ok = (s->flags & RT_HSPAN_NOSCAN) || arena1(pm, addr, nwords, bits);
		break;
	case RT_PTRMAP_HEADERS:
		ok = headers(pm, s, addr, nwords, bits, type, typed_by, err);
		break;
	default:
		ok = false;
	}
	if (!ok) {
		pm->failures++;
		memset(bits, 0, n64 * 8);
		return false;
	}
	*bits_out = bits;
	*nwords_out = nwords;
	return true;
}
