/* Typing of heap objects: DWARF types propagated from typed roots (global
 * variables, frame variables) and from the objects the runtime itself
 * typed (malloc headers, largeType, finalizer ot) through pointers, struct
 * fields, slices, strings, interfaces, maps, channel buffers and closures.
 *
 * An object's type is the element type of the values it holds, from
 * `off` bytes into its slot (after a malloc header, or where the pointer
 * that typed it lands), repeated to the end of the slot.
 *
 * Evidence has a strength; stronger evidence replaces weaker, and at equal
 * strength a bigger type replaces a smaller one (a struct beats its first
 * field). What the runtime recorded is never replaced. Whatever reaches an
 * object through a weakly typed one is at most as strong. The worklist is
 * iterative; nothing recurses on the core's data. */
#ifndef GA_GRAPH_TYPING_H
#define GA_GRAPH_TYPING_H

#include "graph/graph.h"

enum typing_how {
	TYPING_NONE = 0,
	TYPING_HEADER,      /* malloc header */
	TYPING_LARGETYPE,   /* mspan.largeType */
	TYPING_FINALIZER,   /* a finalizer's ot */
	TYPING_POINTER,     /* a *T points to it */
	TYPING_SLICE,       /* a []T points into it */
	TYPING_STRING,      /* a string's bytes */
	TYPING_IFACE,       /* an interface's type word says what its data word points to */
	TYPING_MAP,         /* a map's header or storage (buckets, groups, tables, directory) */
	TYPING_MAP_ENTRY,   /* a key or value a map slot points to (> 128 bytes) */
	TYPING_CHAN,        /* a channel's hchan or buffer */
	TYPING_CLOSURE,     /* a func value's closure (runtime.funcval and its captures) */
	TYPING_CLEANUP,     /* a cleanup's argument, typed by the cleanup function's parameter */
	TYPING_HOW_COUNT
};
const char *typing_how_name(uint8_t how);

enum typing_strength {
	TYPING_S_NONE = 0,
	TYPING_S_INTERIOR,  /* a pointer into the middle of the object */
	TYPING_S_SUBSLICE,  /* a slice or string into the middle */
	TYPING_S_EXACT,     /* a reference to where the object's values begin */
	TYPING_S_RUNTIME,   /* the runtime recorded it */
};

/* What held the reference that typed an object. */
enum typing_holder {
	TYPING_H_NONE = 0,
	TYPING_H_ROOT,      /* holder: index in graph.roots (global variables) */
	TYPING_H_LOCAL,     /* holder: index in typing.locals */
	TYPING_H_OBJECT,    /* holder: object id */
};

/* A frame variable that typed something. */
struct typing_local {
	const char *name;   /* DWARF name, owned by libdw */
	uint64_t func_die;  /* the function */
	uint64_t goid;
	uint64_t addr;
	ga_type_id type;
};

/* A physical frame to read variables from (the session's unwinder gives them). */
struct typing_frame {
	uint64_t pc;        /* runtime pc where the frame is */
	uint64_t cfa;       /* the caller's sp: DWARF's DW_OP_call_frame_cfa */
	uint64_t sp;
	uint64_t goid;
};

struct typing_stats {
	uint64_t live_objects, live_bytes;
	uint64_t typed_objects, typed_bytes;        /* live ones */
	uint64_t by_how[TYPING_HOW_COUNT];          /* live bytes by evidence */
	uint64_t tiny_bytes;                        /* live tiny-allocator blocks (never typed) */
	uint64_t frames, frame_vars;                /* frames read, variables with a location */
	uint64_t maps, map_errors, chans;
	uint64_t upgrades;                          /* types replaced by better evidence */
};

struct graph_typing {
	uint32_t nobjs;
	ga_type_id *type;   /* per object: element DWARF type, 0 untyped */
	uint32_t *off;      /* where the first value starts in the slot */
	uint32_t *holder;   /* see holder_kind */
	ga_type_id *via;    /* the declared type of the reference (*T, []T, map[K]V, ...) */
	uint8_t *how;       /* enum typing_how */
	uint8_t *strength;  /* enum typing_strength */
	uint8_t *holder_kind; /* enum typing_holder */
	uint8_t *upgrades;
	GA_VEC(struct typing_local) locals;
	struct typing_stats st;
};

/* Types every object of g's heap and writes the types into
 * heap->obj_type / obj_typed_by (RT_TYPED_DWARF, RT_TYPED_ITAB) where the
 * runtime recorded none. Global and frame-variable roots of g seed it;
 * frames (may be NULL) add the DWARF variables of those frames, for
 * graphs whose stacks were scanned conservatively (no frame roots).
 * provenance: also record who typed each object (graph_typing_provenance). */
struct ga_error *graph_typing_run(struct graph_typing *t, struct ga_graph *g, struct ga_rt *rt,
				  const struct typing_frame *frames, size_t nframes, bool provenance);
void graph_typing_free(struct graph_typing *t);
/* Frees the per-object records (types are already written to the heap),
 * keeping the totals: provenance is then unavailable. */
void graph_typing_drop_objects(struct graph_typing *t);

/* "global main.x", "field of 0xc000010000 (main.Node)", "malloc header" ... */
void graph_typing_provenance(const struct graph_typing *t, const struct ga_graph *g,
			     struct ga_rt *rt, rt_obj_id id, char *buf, size_t n);

#endif
