/* Typed references: a walk of the live heap from the typed roots (global
 * variables with their DWARF types, goroutine frame variables found through
 * the DWARF location lists at each frame's pc) through typed pointers,
 * slices, strings, maps, interfaces and channel buffers, recording every
 * slice, string and pointer word that points into a heap object together
 * with the value that holds it, so that a holder reads as a Go expression:
 * main.cache["k"].ID, goroutine 17 main.worker var buf.
 *
 * Per object (dense arrays, no allocation per object): the value it was
 * first reached from (parent origin and offset) and the DWARF type it was
 * reached as. Origins are object ids, then the roots (nobjs + i).
 *
 * Objects the walk cannot type (reached only through unsafe.Pointer, func
 * values, untyped runtime memory or conservative stack words) give no
 * references: detectors check every pointer into a candidate against the
 * recorded words (det_refs_where) before trusting the windows. */
#ifndef GA_DETECT_REFS_H
#define GA_DETECT_REFS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/strbuf.h"
#include "base/vec.h"
#include "exe/dwarf.h"
#include "goautopsy/heap.h"

struct ga_session;
struct ga_rt;
struct ga_mem;

enum det_ref_kind { DET_REF_SLICE = 1, DET_REF_STRING, DET_REF_PTR };

struct det_ref {
	uint64_t where;     /* address of the header (or pointer) word */
	uint64_t ptr;
	uint64_t len, cap;  /* elements; a pointer covers one element, a string len bytes */
	uint64_t elem_size; /* bytes of one element (1 for strings) */
	ga_type_id type;    /* DWARF type of the header or pointer */
	ga_obj target;
	uint32_t origin;    /* the value holding it */
	uint32_t off;       /* where - origin's value start (saturated) */
	uint8_t kind;       /* enum det_ref_kind */
};

struct det_map_ref {
	uint64_t where, header;
	ga_type_id type;    /* the map type */
	uint32_t origin, off;
};

enum det_origin_how {
	DET_O_NONE = 0,
	DET_O_ROOT,         /* a named root */
	DET_O_VALUE,        /* reached through a pointer: one value */
	DET_O_ELEMS,        /* a slice's backing array or an array: indexed */
	DET_O_MAPDATA,      /* a map's buckets, groups or tables */
	DET_O_CHANBUF,      /* a channel's buffer */
};

struct det_root_origin {
	uint64_t addr;      /* the variable's first byte */
	uint64_t goid;      /* frame variables */
	uint64_t pc;        /* frame variables: the frame's pc */
	uint32_t name;      /* in names */
	ga_type_id type;
};

struct det_refs {
	struct ga_session *s;
	struct ga_dwarf *dw;
	struct ga_mem *mem;
	uint64_t bias;       /* runtime - link-time addresses */
	size_t nobjs;
	/* per object */
	uint32_t *o_parent;  /* origin, UINT32_MAX: not reached by the walk */
	uint32_t *o_off;     /* offset in the parent value */
	uint32_t *o_type;    /* DWARF type the object was reached as */
	uint32_t *o_base;    /* offset of the first typed byte in the object */
	uint8_t *o_how;      /* enum det_origin_how */
	GA_VEC(struct det_root_origin) roots; /* origin nobjs + i */
	struct ga_strbuf names;
	GA_VEC(struct det_ref) refs;     /* into objects of at least min_target bytes */
	GA_VEC(struct det_map_ref) maps;
	struct ga_hash where;            /* ref.where + 1 -> index in refs */
	uint64_t min_target;
	uint64_t frames_typed, frame_vars, objects_typed, untyped_ifaces;
};

/* Walks the heap; min_target: record references only into objects of at
 * least this many bytes. */
struct ga_error *det_refs_build(struct ga_session *s, struct ga_rt *rt, uint64_t min_target,
				struct det_refs **out);
void det_refs_free(struct det_refs *r);
/* The holder of a reference, written as a Go expression into buf. */
const char *det_refs_path(struct det_refs *r, uint32_t origin, uint64_t off, char *buf, size_t n);
/* The holder of an object: the path of the value that first reached it. */
const char *det_refs_obj_path(struct det_refs *r, ga_obj id, char *buf, size_t n);
/* The index in refs of the reference stored at address where, or -1. */
long det_refs_where(const struct det_refs *r, uint64_t where);
/* For frame variables: the origin's goroutine and pc (0 otherwise). */
bool det_refs_origin_frame(const struct det_refs *r, uint32_t origin, uint64_t *goid, uint64_t *pc);
/* The variable of goroutine g's frame of function func that most likely
 * holds an object of size bytes (noscan: without pointers) when the
 * frame's DWARF has no location for it at the parked pc (a spilled
 * variable): the only one of the function's variables without a location
 * there whose type can point to such an object. NULL when not exactly one. */
struct ga_goroutine;
const char *det_refs_guess_var(struct det_refs *r, const struct ga_goroutine *g, const char *func,
			       uint64_t size, bool noscan, char *buf, size_t n);
/* The root origin an origin chain starts from (UINT32_MAX if none). */
uint32_t det_refs_root_of(const struct det_refs *r, uint32_t origin);

#endif
