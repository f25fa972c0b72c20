/* Runtime type descriptors (runtime._type ≤1.20, internal/abi.Type 1.21+)
 * interned into a compact table: size, ptrdata, kind, tflag, the GC pointer
 * mask (GCData, GC programs ≤1.23, on-demand masks 1.24+), the name from the
 * module's types section, elem/key for pointer, slice, array, map and chan.
 *
 * The table is also the id space of object types: entry 0 is "untyped";
 * types known only from DWARF (no descriptor) can be interned too, so the
 * typing pass and the runtime's own headers share one per-object type id. */
#ifndef GA_RT_RTYPE_H
#define GA_RT_RTYPE_H

#include "base/hash.h"
#include "base/strbuf.h"
#include "rt/rt.h"

typedef uint32_t rt_type_idx; /* 0: untyped */

struct rt_rtype {
	uint64_t addr;      /* runtime address of the descriptor; 0 for DWARF-only */
	uint64_t size, ptrdata;
	uint64_t gcdata;
	uint64_t elem, key; /* descriptor addresses (ptr/slice/array/chan/map) */
	uint64_t len;       /* array length */
	uint64_t mask_off;  /* first word in rt_types.masks */
	uint32_t name_off;  /* into rt_types.names; UINT32_MAX not resolved yet */
	ga_type_id dwarf;   /* DWARF type, 0 when unknown */
	uint8_t kind;       /* enum ga_kind */
	uint8_t tflag;
	uint8_t mask_state; /* 0 not built, 1 built, 2 unavailable */
	bool gcprog;        /* ≤1.23: GCData is a GC program */
};

struct rt_type_layout {
	ga_type_id type;
	struct rt_field size, ptrdata, tflag, kind, gcdata, str;
	struct rt_field ptr_elem, slice_elem, array_elem, array_len, chan_elem, map_key, map_elem;
	struct rt_field struct_fields, sf_typ, sf_offset;
	uint64_t sf_size;
	uint64_t kind_mask, kind_gcprog; /* kind_gcprog 0 when the runtime has none */
	uint64_t tflag_extrastar, tflag_ondemand;
};

struct rt_module_range {
	uint64_t types, etypes;
};

struct rt_types {
	struct ga_rt *rt;
	struct rt_type_layout l;
	GA_VEC(struct rt_module_range) modules;
	GA_VEC(struct rt_rtype) v;   /* [0] is the untyped entry */
	struct ga_hash by_addr;      /* descriptor address -> index */
	struct ga_hash by_dwarf;     /* DWARF type id -> index */
	GA_VEC(uint64_t) masks;      /* pointer masks, one bit per word */
	struct ga_strbuf names;      /* NUL-separated names */
};

struct ga_error *rt_types_init(struct ga_rt *rt, struct rt_types *t);
void rt_types_free(struct rt_types *t);

/* Interns the descriptor at addr; 0 when it cannot be read (or addr is 0).
 * *err is set only for out-of-memory. */
rt_type_idx rt_types_intern(struct rt_types *t, uint64_t addr, struct ga_error **err);
/* Interns a DWARF type (mapped to its descriptor when it has one). */
rt_type_idx rt_types_intern_dwarf(struct rt_types *t, ga_type_id id, struct ga_error **err);

static inline const struct rt_rtype *rt_types_get(const struct rt_types *t, rt_type_idx i)
{
	return i < t->v.len ? &t->v.v[i] : NULL;
}
/* "main.Node", "[]uint8", ...; "" for the untyped entry or an unreadable name. */
const char *rt_types_name(struct rt_types *t, rt_type_idx i);
/* The pointer mask of one value of the type: bit i = word i is a pointer,
 * *nwords = ptrdata/8. NULL when the type has no pointers or no mask can be
 * had (then *nwords = 0). *err only for out-of-memory. */
const uint64_t *rt_types_mask(struct rt_types *t, rt_type_idx i, uint64_t *nwords,
			      struct ga_error **err);

/* Pointer mask of a DWARF type, one bit per word, into bits (nwords words
 * of 64 bits, zeroed by the caller). Iterative. */
void rt_dwarf_ptrmask(struct ga_dwarf *dw, ga_type_id type, uint64_t *bits, uint64_t nbits);

/* The module data ranges of runtime.firstmoduledata's list. */
struct rt_moduledata {
	uint64_t addr;
	uint64_t types, etypes;
	uint64_t data, edata, bss, ebss;
	uint64_t noptrdata, enoptrdata, noptrbss, enoptrbss;
	uint64_t gcdata_n, gcdata_bytes; /* gcdatamask: nbits, bytedata */
	uint64_t gcbss_n, gcbss_bytes;
};
struct ga_error *rt_read_modules(struct ga_rt *rt, struct rt_moduledata **out, size_t *n);

#endif
