#include <stdlib.h>
#include <string.h>

#include "rt/rtype.h"

#define MAX_TYPE_WORDS (1ull << 28)  /* 2 GiB of pointer data in one type */
#define MAX_MODULES 1024
#define MAX_NAME 4096
#define MAX_BUILD_STEPS (1u << 24)

/* Field of whichever of two type names exists: the runtime renamed its
 * type descriptors (runtime._type ≤1.20, internal/abi.Type 1.21+). */
static struct rt_field field2(struct ga_rt *rt, const char *t1, const char *f1, const char *t2,
			      const char *f2)
{
	struct rt_field f = rt_field(rt, t1, f1);
	if (!f.ok)
		f = rt_field(rt, t2, f2);
	return f;
}

static uint64_t const_or(struct ga_rt *rt, const char *a, const char *b, uint64_t def)
{
	int64_t v;
	if (rt_const(rt, a, &v) || (b && rt_const(rt, b, &v)))
		return (uint64_t)v;
	return def;
}

struct ga_error *rt_read_modules(struct ga_rt *rt, struct rt_moduledata **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	ga_type_id mt;
	uint64_t md = rt_global(rt, "runtime.firstmoduledata", &mt);
	if (!md)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.firstmoduledata");
#define MF(name) struct rt_field f_##name = rt_field_of(rt, mt, #name)
	MF(types); MF(etypes); MF(data); MF(edata); MF(bss); MF(ebss); MF(noptrdata);
	MF(enoptrdata); MF(noptrbss); MF(enoptrbss); MF(next);
#undef MF
	struct rt_field gdn = rt_field_of(rt, mt, "gcdatamask.n");
	struct rt_field gdb = rt_field_of(rt, mt, "gcdatamask.bytedata");
	struct rt_field gbn = rt_field_of(rt, mt, "gcbssmask.n");
	struct rt_field gbb = rt_field_of(rt, mt, "gcbssmask.bytedata");
	if (!f_types.ok || !f_data.ok || !f_bss.ok || !gdn.ok || !gdb.ok)
		return ga_error_create(GA_ERR_UNSUPPORTED, "runtime.moduledata layout not understood");
	GA_VEC(struct rt_moduledata) v = {0};
	for (int i = 0; md && i < MAX_MODULES; i++) {
		struct rt_moduledata m = {.addr = md};
		rt_read_field(rt, md, &f_types, &m.types);
		rt_read_field(rt, md, &f_etypes, &m.etypes);
		rt_read_field(rt, md, &f_data, &m.data);
		rt_read_field(rt, md, &f_edata, &m.edata);
		rt_read_field(rt, md, &f_bss, &m.bss);
		rt_read_field(rt, md, &f_ebss, &m.ebss);
		rt_read_field(rt, md, &f_noptrdata, &m.noptrdata);
		rt_read_field(rt, md, &f_enoptrdata, &m.enoptrdata);
		rt_read_field(rt, md, &f_noptrbss, &m.noptrbss);
		rt_read_field(rt, md, &f_enoptrbss, &m.enoptrbss);
		rt_read_field(rt, md, &gdn, &m.gcdata_n);
		rt_read_field(rt, md, &gdb, &m.gcdata_bytes);
		rt_read_field(rt, md, &gbn, &m.gcbss_n);
		rt_read_field(rt, md, &gbb, &m.gcbss_bytes);
		/* bitvector.n is an int32 */
		m.gcdata_n &= 0xffffffffu;
		m.gcbss_n &= 0xffffffffu;
		if (ga_vec_push(&v, m)) {
			ga_vec_free(&v);
			return &ga_error_nomem;
		}
		uint64_t next = 0;
		if (!f_next.ok || !rt_read_field(rt, md, &f_next, &next))
			break;
		md = next;
	}
	*out = v.v;
	*n_out = v.len;
	return NULL;
}

struct ga_error *rt_types_init(struct ga_rt *rt, struct rt_types *t)
{
	memset(t, 0, sizeof(*t));
	t->rt = rt;
	ga_hash_init(&t->by_addr);
	ga_hash_init(&t->by_dwarf);
	ga_sb_init(&t->names);
	struct rt_type_layout *l = &t->l;
	const char *T1 = "runtime._type", *T2 = "internal/abi.Type";
	l->type = ga_dwarf_type_by_name(rt->dw, T1);
	if (!l->type)
		l->type = ga_dwarf_type_by_name(rt->dw, T2);
	l->size = field2(rt, T1, "size", T2, "Size_");
	l->ptrdata = field2(rt, T1, "ptrdata", T2, "PtrBytes");
	l->tflag = field2(rt, T1, "tflag", T2, "TFlag");
	l->kind = field2(rt, T1, "kind", T2, "Kind_");
	l->gcdata = field2(rt, T1, "gcdata", T2, "GCData");
	l->str = field2(rt, T1, "str", T2, "Str");
	l->ptr_elem = field2(rt, "runtime.ptrtype", "elem", "internal/abi.PtrType", "Elem");
	l->slice_elem = field2(rt, "runtime.slicetype", "elem", "internal/abi.SliceType", "Elem");
	l->array_elem = field2(rt, "runtime.arraytype", "elem", "internal/abi.ArrayType", "Elem");
	l->array_len = field2(rt, "runtime.arraytype", "len", "internal/abi.ArrayType", "Len");
	l->chan_elem = field2(rt, "runtime.chantype", "elem", "internal/abi.ChanType", "Elem");
	l->map_key = field2(rt, "runtime.maptype", "key", "internal/abi.MapType", "Key");
	if (!l->map_key.ok)
		l->map_key = rt_field(rt, "internal/abi.SwissMapType", "Key");
	l->map_elem = field2(rt, "runtime.maptype", "elem", "internal/abi.MapType", "Elem");
	if (!l->map_elem.ok)
		l->map_elem = rt_field(rt, "internal/abi.SwissMapType", "Elem");
	l->struct_fields = field2(rt, "runtime.structtype", "fields", "internal/abi.StructType", "Fields");
	l->sf_typ = field2(rt, "runtime.structfield", "typ", "internal/abi.StructField", "Typ");
	l->sf_offset = field2(rt, "runtime.structfield", "offset", "internal/abi.StructField", "Offset");
	ga_type_id sft = ga_dwarf_type_by_name(rt->dw, "runtime.structfield");
	if (!sft)
		sft = ga_dwarf_type_by_name(rt->dw, "internal/abi.StructField");
	const struct ga_type *sfty = ga_dwarf_type(rt->dw, sft);
	l->sf_size = sfty ? sfty->size : 0;
	l->kind_mask = const_or(rt, "runtime.kindMask", "internal/abi.KindMask", 31);
	/* No GC programs from 1.24 on: the constant is gone with them. */
	l->kind_gcprog = const_or(rt, "runtime.kindGCProg", "internal/abi.KindGCProg", 0);
	l->tflag_extrastar = const_or(rt, "runtime.tflagExtraStar", "internal/abi.TFlagExtraStar", 2);
	l->tflag_ondemand = const_or(rt, "internal/abi.TFlagGCMaskOnDemand", NULL, 0);
	struct ga_error *err;
	if ((err = rt_need(&l->size, T2, "Size_")) || (err = rt_need(&l->ptrdata, T2, "PtrBytes")) ||
	    (err = rt_need(&l->kind, T2, "Kind_")) || (err = rt_need(&l->gcdata, T2, "GCData")))
		return err;
	struct rt_moduledata *mods;
	size_t nmods;
	err = rt_read_modules(rt, &mods, &nmods);
	if (err)
		return err;
	for (size_t i = 0; i < nmods; i++) {
		struct rt_module_range r = {mods[i].types, mods[i].etypes};
		if (ga_vec_push(&t->modules, r)) {
			free(mods);
			return &ga_error_nomem;
		}
	}
	free(mods);
	struct rt_rtype none = {.name_off = 0};
	ga_sb_appendn(&t->names, "", 1);
	if (ga_vec_push(&t->v, none) || t->names.oom)
		return &ga_error_nomem;
	return NULL;
}

void rt_types_free(struct rt_types *t)
{
	ga_vec_free(&t->modules);
	ga_vec_free(&t->v);
	ga_vec_free(&t->masks);
	ga_hash_free(&t->by_addr);
	ga_hash_free(&t->by_dwarf);
	ga_sb_free(&t->names);
}

static uint64_t rdf(struct ga_rt *rt, uint64_t base, const struct rt_field *f)
{
	uint64_t v = 0;
	if (f->ok)
		rt_read_field(rt, base, f, &v);
	return v;
}

rt_type_idx rt_types_intern(struct rt_types *t, uint64_t addr, struct ga_error **err)
{
	uint64_t idx;
	if (!addr)
		return 0;
	if (ga_hash_get(&t->by_addr, addr, &idx))
		return (rt_type_idx)idx;
	struct ga_rt *rt = t->rt;
	const struct rt_type_layout *l = &t->l;
	struct rt_rtype r = {.addr = addr, .name_off = UINT32_MAX};
	uint64_t kind;
	if (!rt_read_field(rt, addr, &l->size, &r.size) || !rt_read_field(rt, addr, &l->kind, &kind) ||
	    !rt_read_field(rt, addr, &l->ptrdata, &r.ptrdata) || r.ptrdata > r.size ||
	    (r.size >> 3) > MAX_TYPE_WORDS * 8)
		return 0;
	uint64_t tflag = rdf(rt, addr, &l->tflag);
	r.tflag = (uint8_t)tflag;
	r.kind = (uint8_t)(kind & l->kind_mask);
	r.gcprog = l->kind_gcprog && (kind & l->kind_gcprog);
	r.gcdata = rdf(rt, addr, &l->gcdata);
	switch (r.kind) {
	case GA_K_PTR: r.elem = rdf(rt, addr, &l->ptr_elem); break;
	case GA_K_SLICE: r.elem = rdf(rt, addr, &l->slice_elem); break;
	case GA_K_ARRAY:
		r.elem = rdf(rt, addr, &l->array_elem);
		r.len = rdf(rt, addr, &l->array_len);
		break;
	case GA_K_CHAN: r.elem = rdf(rt, addr, &l->chan_elem); break;
	case GA_K_MAP:
		r.key = rdf(rt, addr, &l->map_key);
		r.elem = rdf(rt, addr, &l->map_elem);
		break;
	}
	r.dwarf = rt_dwarf_of_rtype(rt, addr);
	if (t->v.len >= UINT32_MAX - 1 || ga_vec_push(&t->v, r) ||
	    ga_hash_put(&t->by_addr, addr, t->v.len - 1)) {
		*err = &ga_error_nomem;
		return 0;
	}
	rt_type_idx i = (rt_type_idx)(t->v.len - 1);
	if (r.dwarf && ga_hash_put(&t->by_dwarf, r.dwarf, i)) {
		*err = &ga_error_nomem;
		return 0;
	}
	return i;
}

rt_type_idx rt_types_intern_dwarf(struct rt_types *t, ga_type_id id, struct ga_error **err)
{
	uint64_t idx;
	if (!id)
		return 0;
	if (ga_hash_get(&t->by_dwarf, id, &idx))
		return (rt_type_idx)idx;
	const struct ga_type *ty = ga_dwarf_type(t->rt->dw, id);
	if (!ty)
		return 0;
	if (rt_rtype_of_dwarf(t->rt, id)) {
		rt_type_idx i = rt_types_intern(t, rt_rtype_of_dwarf(t->rt, id), err);
		if (i || *err)
			return i;
	}
	struct rt_rtype r = {.size = ty->size, .dwarf = id, .kind = ty->kind, .name_off = UINT32_MAX};
	if (t->v.len >= UINT32_MAX - 1 || ga_vec_push(&t->v, r) ||
	    ga_hash_put(&t->by_dwarf, id, t->v.len - 1)) {
		*err = &ga_error_nomem;
		return 0;
	}
	return (rt_type_idx)(t->v.len - 1);
}

static bool read_uvarint(struct ga_mem *m, uint64_t *p, uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < 10; i++) {
		uint8_t b;
		if (!ga_mem_u8(m, (*p)++, &b))
			return false;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

const char *rt_types_name(struct rt_types *t, rt_type_idx i)
{
	if (!i || i >= t->v.len)
		return "";
	struct rt_rtype *r = &t->v.v[i];
	if (r->name_off != UINT32_MAX)
		return t->names.s + r->name_off;
	r->name_off = 0;
	const char *src = NULL;
	char *heapname = NULL;
	if (r->addr) {
		uint32_t str = (uint32_t)rdf(t->rt, r->addr, &t->l.str);
		for (size_t m = 0; m < t->modules.len && !src; m++) {
			const struct rt_module_range *mr = &t->modules.v[m];
			if (r->addr < mr->types || r->addr >= mr->etypes || !str)
				continue;
			uint64_t p = mr->types + (int32_t)str + 1, len;
			if (p >= mr->etypes || !read_uvarint(t->rt->mem, &p, &len) || len > MAX_NAME)
				break;
			struct ga_error *e = ga_mem_string(t->rt->mem, p, len, MAX_NAME, &heapname);
			if (e) {
				ga_error_destroy(e);
				break;
			}
			src = heapname;
			if (*src && (r->tflag & t->l.tflag_extrastar) && src[0] == '*')
				src++;
		}
	}
	if (!src && r->dwarf) {
		const struct ga_type *ty = ga_dwarf_type(t->rt->dw, r->dwarf);
		src = ty && ty->name ? ty->name : NULL;
	}
	if (src) {
		size_t off = t->names.len;
		ga_sb_appendn(&t->names, src, strlen(src) + 1);
		if (!t->names.oom && off < UINT32_MAX)
			r->name_off = (uint32_t)off;
	}
	free(heapname);
	return t->names.oom ? "" : t->names.s + r->name_off;
}

/* Appends nbits bits produced by a GC program (≤1.23, runtime.runGCProg):
 * 0 ends; 0x01..0x7f: that many literal bits follow; 0x80|n (n = 0: a
 * uvarint n follows), then a uvarint c: repeat the last n bits c times. */
static bool run_gcprog(struct ga_mem *m, uint64_t prog, uint64_t *bits, uint64_t nbits)
{
	uint64_t pos = 0, p = prog;
	for (uint32_t steps = 0; steps < MAX_BUILD_STEPS; steps++) {
		uint8_t inst;
		if (!ga_mem_u8(m, p++, &inst))
			return false;
		uint64_t n = inst & 0x7f;
		if (!(inst & 0x80)) {
			if (!n)
				return true;
			for (uint64_t i = 0; i < n; i += 8) {
				uint8_t b;
				if (!ga_mem_u8(m, p++, &b))
					return false;
				for (uint64_t k = 0; k < 8 && i + k < n; k++, pos++)
					if (pos < nbits && (b >> k & 1))
						bits[pos / 64] |= 1ull << (pos % 64);
			}
			continue;
		}
		uint64_t c;
		if ((!n && !read_uvarint(m, &p, &n)) || !read_uvarint(m, &p, &c))
			return false;
		if (!n || n > pos || c > nbits || n * c > nbits - (pos < nbits ? pos : nbits))
			return false;
		for (uint64_t k = 0; k < n * c; k++, pos++) {
			uint64_t src = pos - n;
			if (bits[src / 64] >> (src % 64) & 1)
				bits[pos / 64] |= 1ull << (pos % 64);
		}
	}
	return false;
}

/* Builds the mask of a 1.24+ on-demand type from its structure, like
 * runtime.buildGCMask, with an explicit work list instead of recursion. */
static bool build_ondemand(struct rt_types *t, uint64_t addr, uint64_t *bits, uint64_t nbits)
{
	struct work {
		uint64_t type, bit;
	};
	GA_VEC(struct work) stack = {0};
	struct ga_rt *rt = t->rt;
	const struct rt_type_layout *l = &t->l;
	bool ok = true;
	struct work w0 = {addr, 0};
	if (ga_vec_push(&stack, w0))
		return false;
	for (uint32_t steps = 0; stack.len && ok; steps++) {
		if (steps > MAX_BUILD_STEPS) {
			ok = false;
			break;
		}
		struct work w = stack.v[--stack.len];
		uint64_t size, ptrdata, tflag = 0, kind = 0, gcdata = 0;
		if (!rt_read_field(rt, w.type, &l->size, &size) ||
		    !rt_read_field(rt, w.type, &l->ptrdata, &ptrdata)) {
			ok = false;
			break;
		}
		if (!ptrdata)
			continue;
		rt_read_field(rt, w.type, &l->tflag, &tflag);
		rt_read_field(rt, w.type, &l->kind, &kind);
		rt_read_field(rt, w.type, &l->gcdata, &gcdata);
		uint64_t nw = ptrdata / 8;
		if (w.bit > nbits || nw > nbits - w.bit) {
			ok = false;
			break;
		}
		if (!(tflag & l->tflag_ondemand)) {
			for (uint64_t i = 0; i < nw; i += 8) {
				uint8_t b;
				if (!ga_mem_u8(rt->mem, gcdata + i / 8, &b)) {
					ok = false;
					break;
				}
				for (uint64_t k = 0; k < 8 && i + k < nw; k++)
					if (b >> k & 1)
						bits[(w.bit + i + k) / 64] |= 1ull << ((w.bit + i + k) % 64);
			}
			continue;
		}
		switch (kind & l->kind_mask) {
		case GA_K_ARRAY: {
			uint64_t elem = rdf(rt, w.type, &l->array_elem), len = rdf(rt, w.type, &l->array_len);
			uint64_t esize;
			if (!rt_read_field(rt, elem, &l->size, &esize) || !esize || esize % 8 ||
			    len > nbits || len * (esize / 8) > nbits) {
				ok = false;
				break;
			}
			for (uint64_t i = 0; i < len && ok; i++) {
				struct work e = {elem, w.bit + i * (esize / 8)};
				ok = !ga_vec_push(&stack, e);
			}
			break;
		}
		case GA_K_STRUCT: {
			uint64_t fp, flen;
			if (!l->struct_fields.ok || !l->sf_size ||
			    !rt_read_slice(rt, w.type + l->struct_fields.off, &fp, &flen, NULL) ||
			    flen > 1u << 20) {
				ok = false;
				break;
			}
			for (uint64_t i = 0; i < flen && ok; i++) {
				uint64_t fa = fp + i * l->sf_size;
				struct work e = {rdf(rt, fa, &l->sf_typ), w.bit + rdf(rt, fa, &l->sf_offset) / 8};
				ok = e.type && !ga_vec_push(&stack, e);
			}
			break;
		}
		default:
			ok = false;
		}
	}
	ga_vec_free(&stack);
	return ok;
}

const uint64_t *rt_types_mask(struct rt_types *t, rt_type_idx i, uint64_t *nwords,
			      struct ga_error **err)
{
	*nwords = 0;
	if (!i || i >= t->v.len)
		return NULL;
	struct rt_rtype *r = &t->v.v[i];
	if (r->mask_state == 0) {
		r->mask_state = 2;
		uint64_t nbits = r->ptrdata / 8;
		uint64_t n64 = (nbits + 63) / 64;
		if (!nbits && r->addr)
			return NULL;
		if (!r->addr) {
			/* DWARF-only type */
			const struct ga_type *ty = ga_dwarf_type(t->rt->dw, r->dwarf);
			nbits = ty ? ty->size / 8 : 0;
			n64 = (nbits + 63) / 64;
			if (!nbits || nbits > MAX_TYPE_WORDS)
				return NULL;
		}
		if (ga_vec_reserve(&t->masks, n64)) {
			*err = &ga_error_nomem;
			return NULL;
		}
		uint64_t *bits = t->masks.v + t->masks.len;
		memset(bits, 0, n64 * 8);
		bool ok = false;
		struct ga_mem *m = t->rt->mem;
		if (!r->addr) {
			rt_dwarf_ptrmask(t->rt->dw, r->dwarf, bits, nbits);
			uint64_t last = 0;
			for (uint64_t w = 0; w < n64; w++)
				if (bits[w])
					last = w * 64 + 64 - (uint64_t)__builtin_clzll(bits[w]);
			nbits = last;
			n64 = (nbits + 63) / 64;
			ok = nbits > 0;
		} else if (r->gcprog) {
			ok = run_gcprog(m, r->gcdata + 4, bits, nbits);
		} else if (r->tflag & t->l.tflag_ondemand) {
			uint64_t built = 0;
			/* The runtime caches the mask it built in the slot GCData points to. */
			if (ga_mem_u64(m, r->gcdata, &built) && built) {
				uint8_t *tmp = malloc(n64 * 8);
				if (!tmp) {
					*err = &ga_error_nomem;
					return NULL;
				}
				ok = ga_mem_try_read(m, built, tmp, (nbits + 7) / 8);
				if (ok)
					memcpy(bits, tmp, (nbits + 7) / 8);
				free(tmp);
			}
			if (!ok) {
				memset(bits, 0, n64 * 8);
				ok = build_ondemand(t, r->addr, bits, nbits);
			}
		} else {
			ok = ga_mem_try_read(m, r->gcdata, bits, (nbits + 7) / 8);
		}
		if (nbits % 64 && n64)
			bits[n64 - 1] &= (1ull << (nbits % 64)) - 1;
		if (ok) {
			r->mask_off = t->masks.len;
			r->ptrdata = nbits * 8;
			t->masks.len += n64;
			r->mask_state = 1;
		}
	}
	if (r->mask_state != 1)
		return NULL;
	*nwords = r->ptrdata / 8;
	return t->masks.v + r->mask_off;
}

void rt_dwarf_ptrmask(struct ga_dwarf *dw, ga_type_id type, uint64_t *bits, uint64_t nbits)
{
	/* count > 1: an array's remaining elements, stride words apart */
	struct work {
		ga_type_id type;
		uint64_t bit, count, stride;
	};
	GA_VEC(struct work) stack = {0};
	struct work w0 = {type, 0, 1, 0};
	if (ga_vec_push(&stack, w0))
		return;
	for (uint32_t steps = 0; stack.len && steps < MAX_BUILD_STEPS; steps++) {
		struct work w = stack.v[stack.len - 1];
		if (w.count > 1) {
			stack.v[stack.len - 1].count--;
			stack.v[stack.len - 1].bit += w.stride;
		} else {
			stack.len--;
		}
		const struct ga_type *t = ga_dwarf_type(dw, w.type);
		if (!t || w.bit >= nbits)
			continue;
#define SET(b) ((b) < nbits ? (void)(bits[(b) / 64] |= 1ull << ((b) % 64)) : (void)0)
		switch (t->kind) {
		case GA_K_PTR: case GA_K_UNSAFEPTR: case GA_K_MAP: case GA_K_CHAN: case GA_K_FUNC:
		case GA_K_STRING: case GA_K_SLICE:
			SET(w.bit);
			break;
		case GA_K_INTERFACE:
			SET(w.bit);
			SET(w.bit + 1);
			break;
		case GA_K_ARRAY: {
			const struct ga_type *e = ga_dwarf_type(dw, t->elem);
			if (!e || !e->size || e->size % 8 || !t->count || !ga_type_has_pointers(dw, t->elem))
				break;
			struct work a = {t->elem, w.bit, t->count, e->size / 8};
			if (ga_vec_push(&stack, a))
				goto out;
			break;
		}
		case GA_K_STRUCT:
			for (uint32_t i = 0; i < t->nfields; i++) {
				const struct ga_field *f = &dw->fields.v[t->first_field + i];
				if (f->offset % 8 || !ga_type_has_pointers(dw, f->type))
					continue;
				struct work fw = {f->type, w.bit + f->offset / 8, 1, 0};
				if (ga_vec_push(&stack, fw))
					goto out;
			}
			break;
		default:
			break;
		}
#undef SET
	}
out:
	ga_vec_free(&stack);
}
