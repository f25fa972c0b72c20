/* The executable's DWARF, indexed once: types by name and by runtime type
 * descriptor address, global variables, constants, functions. Types are
 * turned into compact ga_type records on demand, addressed by 32-bit ids. */
#ifndef GA_EXE_DWARF_H
#define GA_EXE_DWARF_H

#include <stdbool.h>
#include <stdint.h>
#include <elfutils/libdw.h>

#include "base/hash.h"
#include "base/vec.h"
#include "exe/exe.h"
#include "goautopsy/error.h"

typedef uint32_t ga_type_id; /* 0: no type */

/* Go kinds as internal/abi numbers them. */
enum ga_kind {
	GA_K_INVALID = 0,
	GA_K_BOOL = 1, GA_K_INT, GA_K_INT8, GA_K_INT16, GA_K_INT32, GA_K_INT64,
	GA_K_UINT, GA_K_UINT8, GA_K_UINT16, GA_K_UINT32, GA_K_UINT64, GA_K_UINTPTR,
	GA_K_FLOAT32, GA_K_FLOAT64, GA_K_COMPLEX64, GA_K_COMPLEX128,
	GA_K_ARRAY = 17, GA_K_CHAN, GA_K_FUNC, GA_K_INTERFACE, GA_K_MAP, GA_K_PTR,
	GA_K_SLICE, GA_K_STRING, GA_K_STRUCT, GA_K_UNSAFEPTR = 26,
};

struct ga_field {
	const char *name;
	uint64_t offset;
	ga_type_id type;
	bool embedded;
};

struct ga_type {
	const char *name;
	uint64_t size;
	uint64_t die;     /* DIE offset */
	uint64_t rtype;   /* link-time address of the runtime type, or 0 */
	uint64_t count;   /* ARRAY length */
	ga_type_id elem;  /* PTR pointee; ARRAY/SLICE/CHAN element; MAP value */
	ga_type_id key;   /* MAP key */
	ga_type_id aux;   /* MAP: the runtime map header struct; CHAN: hchan */
	uint32_t first_field, nfields;
	uint8_t kind;     /* enum ga_kind */
	bool eface;       /* INTERFACE without methods (runtime.eface layout) */
	int8_t has_ptrs;  /* -1 unknown, 0, 1 */
};

struct ga_typedef_fix {
	ga_type_id id, target, elem, key; /* elem, key: DW_AT_go_elem, DW_AT_go_key */
	uint8_t gokind;
};

struct ga_global {
	const char *name;
	uint64_t addr;   /* link-time address */
	uint64_t type_die;
};

struct ga_func_range {
	uint64_t lo, hi;
	uint64_t die;
};

struct ga_dwarf {
	struct ga_exe *exe;
	Dwarf *dw;
	struct ga_strmap type_names;  /* name -> die */
	struct ga_strmap const_names; /* name -> value */
	struct ga_strmap global_names; /* name -> index in globals */
	struct ga_hash rtype_dies;    /* rtype addr -> die */
	struct ga_hash die_types;     /* die -> type id */
	GA_VEC(struct ga_global) globals;
	GA_VEC(struct ga_func_range) funcs; /* sorted by lo */
	GA_VEC(struct ga_type) types;        /* [0] unused */
	GA_VEC(struct ga_field) fields;
	struct ga_error *build_err;          /* first error while decoding types */
	/* typedefs built during one top-level build_type, finished again at its
	 * end: a typedef reached while its target is still being built (a type
	 * that points to itself) would otherwise copy an incomplete target */
	GA_VEC(struct ga_typedef_fix) typedef_fix;
};

/* Opens and indexes the DWARF of exe. An executable without DWARF gives
 * GA_ERR_NO_DWARF naming the fix. */
struct ga_error *ga_dwarf_open(struct ga_exe *exe, struct ga_dwarf **out);
void ga_dwarf_close(struct ga_dwarf *d);

ga_type_id ga_dwarf_type_by_name(struct ga_dwarf *d, const char *name);
ga_type_id ga_dwarf_type_by_rtype(struct ga_dwarf *d, uint64_t rtype);
ga_type_id ga_dwarf_type_by_die(struct ga_dwarf *d, uint64_t die);
static inline const struct ga_type *ga_dwarf_type(const struct ga_dwarf *d, ga_type_id id)
{
	return id && id < d->types.len ? &d->types.v[id] : NULL;
}
/* Direct field by name, or NULL. */
const struct ga_field *ga_dwarf_field(const struct ga_dwarf *d, ga_type_id id, const char *name);
/* Follows typedef-free pointer: the pointee of a PTR type, else 0. */
bool ga_dwarf_const(struct ga_dwarf *d, const char *name, int64_t *val);
const struct ga_global *ga_dwarf_global(struct ga_dwarf *d, const char *name);
/* The subprogram DIE containing pc (link-time), or 0. */
uint64_t ga_dwarf_func_at(const struct ga_dwarf *d, uint64_t pc);
/* DW_AT_name of a DIE, or NULL. */
const char *ga_dwarf_die_name(struct ga_dwarf *d, uint64_t die);
/* Whether values of the type contain pointers the GC would follow. */
bool ga_type_has_pointers(struct ga_dwarf *d, ga_type_id id);

#endif
