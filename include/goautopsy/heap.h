/* The heap of a core as an object graph: objects, types, roots, edges,
 * marking, the dominator tree and retained sizes. Detectors, the JSON and
 * text outputs and the TUI all read the heap through these calls.
 *
 * Ids: objects are dense 32-bit ids in address order (ga_obj). Graph nodes
 * (ga_node) number the virtual super-root 0, the roots 1..nroots, then the
 * objects (node = object + nroots + 1); edges and the dominator tree are
 * over nodes. Everything is owned by the session and built on first use. */
#ifndef GOAUTOPSY_HEAP_H
#define GOAUTOPSY_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goautopsy/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ga_session;

typedef uint32_t ga_obj;
typedef uint32_t ga_node;
typedef uint32_t ga_htype; /* heap type id; 0 = untyped */
#define GA_NO_OBJ UINT32_MAX
#define GA_NO_NODE UINT32_MAX

struct ga_heap_stats {
	uint64_t live_bytes, live_objects;       /* reachable from the roots */
	uint64_t garbage_bytes, garbage_objects; /* allocated, unreachable: awaiting sweep */
	uint64_t alloc_bytes, alloc_objects;     /* allocated slots (tiny blocks count once) */
	uint64_t inuse_span_bytes;               /* pages of in-use spans (HeapInuse) */
	uint64_t manual_span_bytes, manual_spans; /* stacks and other manual spans */
	uint64_t spans;                          /* in-use spans holding objects */
	uint64_t runtime_alloc_count;            /* mspan.allocCount summed */
	/* allocated since their span was last swept: after the last GC */
	uint64_t fresh_objects, fresh_bytes;
	uint64_t fresh_live_objects, fresh_live_bytes;
	uint64_t num_gc;                         /* runtime.memstats.numgc: completed cycles */
	uint64_t roots, edges;
	uint64_t typed_objects;                  /* objects with a type (any provenance) */
	uint64_t goroutines_precise, goroutines_conservative;
	uint64_t frames_precise, frames_conservative; /* physical frames by how they were scanned */
	uint64_t ptrmap_failures;                /* objects whose pointer map could not be read */
	uint64_t unreadable;                     /* spans/bitmaps the core did not hold */
	const char *ptrmap_layout;               /* how pointer words were found */
	/* per phase, for benchmarks: wall seconds, and the process's peak RSS
	 * in bytes when the phase ended (load: opening the core, the
	 * executable and its DWARF; enumerate: type descriptors, spans,
	 * objects, pointer maps, specials; edges: goroutines, roots and
	 * object edges; mark: marking and reverse edges; typing: DWARF
	 * propagation; dominators: idom and retained sizes, once computed) */
	double t_load, t_enumerate, t_edges, t_mark, t_typing, t_dominators;
	uint64_t rss_load, rss_enumerate, rss_mark, rss_typing, rss_dominators;
	/* anonymous memory resident (RssAnon: without the mapped core's pages)
	 * after load, typing and the dominators */
	uint64_t anon_load, anon_typing, anon_dominators;
};

/* Builds the graph and marks it (dominators are computed on demand). */
struct ga_error *ga_heap_stats(struct ga_session *s, const struct ga_heap_stats **out);

enum ga_typed_by {
	GA_TYPED_NONE = 0,
	GA_TYPED_HEADER,     /* the 1.22+ malloc header */
	GA_TYPED_LARGETYPE,  /* mspan.largeType */
	GA_TYPED_FINALIZER,  /* a finalizer's ot */
	GA_TYPED_DWARF,      /* propagated through DWARF types */
	GA_TYPED_ITAB,       /* an interface's type word */
};

struct ga_object {
	ga_obj id;
	uint64_t addr;
	uint64_t size;        /* the slot: size class, or pages of a large object */
	ga_htype type;        /* 0 untyped */
	uint8_t typed_by;     /* enum ga_typed_by */
	uint8_t sizeclass;    /* 0 for large objects */
	bool live;
	bool noscan;          /* the span holds no pointers */
	bool tiny;            /* a tiny-allocator block (several small allocations) */
	bool fresh;           /* allocated after its span was last swept (after the last GC) */
};

size_t ga_heap_nobjects(struct ga_session *s); /* after ga_heap_stats */
/* The object at or containing addr; GA_NO_OBJ if none (or not allocated). */
ga_obj ga_heap_find(struct ga_session *s, uint64_t addr);
bool ga_heap_object(struct ga_session *s, ga_obj id, struct ga_object *out);
/* Objects of at least min bytes as ranges of dense ids (one per span, so
 * few): fills out[0 .. max) and returns how many ranges there are. */
struct ga_id_range {
	ga_obj first;
	uint32_t n;
};
size_t ga_heap_ranges_at_least(struct ga_session *s, uint64_t min, struct ga_id_range *out, size_t max);
/* The allocated object holding addr, with its first byte and size, in one
 * lookup (cheaper than ga_heap_find + ga_heap_object); GA_NO_OBJ if none. */
ga_obj ga_heap_locate(struct ga_session *s, uint64_t addr, uint64_t *base, uint64_t *size);

/* Types: a name ("main.Node", "[]uint8"), a size (one value), the DWARF
 * type id (src/exe/dwarf.h) when known. For objects typed by a runtime
 * header the type is the element: an object of size n holds n/size values. */
const char *ga_heap_type_name(struct ga_session *s, ga_htype t);
uint64_t ga_heap_type_size(struct ga_session *s, ga_htype t);
/* "T", "[N]T" for a slot of N values (a backing array), or "untyped N B". */
const char *ga_heap_type_label(struct ga_session *s, const struct ga_object *o, char *buf, size_t n);
uint32_t ga_heap_type_dwarf(struct ga_session *s, ga_htype t);
/* Records a type for an object (the typing pass): dwarf_type is a
 * ga_type_id; keeps an existing runtime-recorded type. */
struct ga_error *ga_heap_set_type(struct ga_session *s, ga_obj id, uint32_t dwarf_type,
				  uint8_t typed_by);

/* Typing by propagation: how much of the live heap got a type and from
 * what evidence (the runtime's own records, or DWARF types propagated from
 * globals, frame variables, fields, slices, strings, interfaces, maps,
 * channel buffers and closures). */
#define GA_TYPING_HOW_MAX 16
struct ga_typing_stats {
	uint64_t live_objects, live_bytes;
	uint64_t typed_objects, typed_bytes;     /* live ones */
	uint64_t tiny_bytes;                     /* live tiny blocks: never typed */
	uint64_t frames, frame_vars;             /* goroutine frames read, variables used */
	uint64_t maps, map_errors;
	uint64_t upgrades;                       /* types replaced by better evidence */
	struct {
		const char *name;                /* "malloc header", "slice", ... */
		uint64_t bytes;                  /* live bytes typed that way */
	} by_how[GA_TYPING_HOW_MAX];
	size_t n_by_how;
};
struct ga_error *ga_heap_typing_stats(struct ga_session *s, struct ga_typing_stats *out);

/* The type of one object and why: values of name from offset bytes into
 * the slot, count of them; provenance says which reference typed it
 * ("slice []main.Item in global main.cache"). */
struct ga_object_type {
	ga_htype type;
	uint8_t typed_by;     /* enum ga_typed_by */
	const char *name;     /* "" untyped */
	uint32_t dwarf_type;
	const char *how;      /* "untyped", "malloc header", "pointer", "slice", ... */
	uint64_t offset, count;
	char provenance[256];
};
/* False when the session was opened without type_provenance. */
bool ga_heap_object_type(struct ga_session *s, ga_obj id, struct ga_object_type *out);

enum ga_root_kind {
	GA_ROOT_GLOBAL = 1, GA_ROOT_STACK, GA_ROOT_FRAME, GA_ROOT_DEFER, GA_ROOT_PANIC,
	GA_ROOT_FINALIZER, GA_ROOT_CLEANUP, GA_ROOT_WEAKHANDLE, GA_ROOT_FINQ, GA_ROOT_CLEANUPQ,
	GA_ROOT_TINY,
};

struct ga_root {
	const char *name;     /* "main.cache", "goroutine 17 stack", "finalizer of 0x…" */
	uint8_t kind;         /* enum ga_root_kind */
	bool conservative;    /* scanned word by word without a pointer map */
	bool weak;            /* holds its object only when nothing else does (finalizers) */
	uint64_t addr, size;  /* what was scanned */
	uint64_t goid;        /* stacks and frames */
	uint64_t obj;         /* specials: the object they are attached to */
	uint64_t pc;          /* frames: pc; specials: the function */
	uint32_t dwarf_type;  /* the variable's DWARF type, 0 unknown */
};

size_t ga_heap_nroots(struct ga_session *s);
bool ga_heap_root(struct ga_session *s, size_t i, struct ga_root *out);
const char *ga_root_kind_name(uint8_t kind);

/* Nodes */
size_t ga_heap_nnodes(struct ga_session *s);
ga_node ga_heap_node_of_obj(struct ga_session *s, ga_obj id);
ga_node ga_heap_node_of_root(struct ga_session *s, size_t root);
/* GA_NO_OBJ for the super-root and roots. */
ga_obj ga_heap_node_obj(struct ga_session *s, ga_node n);
/* The root index, or -1 for the super-root and objects. */
long ga_heap_node_root(struct ga_session *s, ga_node n);
/* "main.cache", "0xc000123450 main.Node", "<roots>"; buf of n bytes. */
const char *ga_heap_node_label(struct ga_session *s, ga_node node, char *buf, size_t n);

/* Edges (successors and predecessors) of a node; the arrays are owned by
 * the session. */
void ga_heap_succ(struct ga_session *s, ga_node n, const ga_node **v, size_t *count);
void ga_heap_pred(struct ga_session *s, ga_node n, const ga_node **v, size_t *count);

/* Dominator tree: built on first call. idom of the super-root is itself;
 * GA_NO_NODE for unreachable nodes. */
struct ga_error *ga_heap_dominators(struct ga_session *s);
ga_node ga_heap_idom(struct ga_session *s, ga_node n);
uint64_t ga_heap_retained(struct ga_session *s, ga_node n);
struct ga_error *ga_heap_dom_children(struct ga_session *s, ga_node n, const ga_node **v,
				      size_t *count);

/* Histogram by type (untyped objects grouped by size class). */
struct ga_histo_row {
	ga_htype type;        /* 0: untyped */
	uint64_t elemsize;    /* untyped rows: the slot size */
	bool tiny;            /* untyped row of tiny blocks */
	uint64_t count, bytes;
	uint64_t retained;    /* bytes the type's objects keep alive together */
};
struct ga_error *ga_heap_histogram(struct ga_session *s, const struct ga_histo_row **rows,
				   size_t *n);

/* Shortest paths to a node from the given sources (nsources 0: from all
 * roots): the union of all of them, as the nodes on some shortest path
 * (distance ascending, the sources at 0) and the edges between them. */
struct ga_heap_paths {
	ga_node *nodes;   /* nnodes entries; nodes[0] is a root */
	uint32_t *dist;   /* distance from the sources of each */
	size_t nnodes;
	ga_node (*edges)[2]; /* from, to */
	size_t nedges;
	size_t npaths;    /* number of distinct shortest paths (saturates at SIZE_MAX) */
};
struct ga_error *ga_heap_paths(struct ga_session *s, const ga_node *sources, size_t nsources,
			       ga_node target, size_t max_nodes, struct ga_heap_paths *out);
/* Roots named name, or whose name starts with name and a space
 * ("goroutine 17" selects that goroutine's stack and frame roots). The
 * caller frees *out. */
struct ga_error *ga_heap_roots_named(struct ga_session *s, const char *name, ga_node **out,
				     size_t *n);
void ga_heap_paths_free(struct ga_heap_paths *p);

/* Reads len bytes of an object (copies into buf); false if not in core. */
bool ga_heap_read(struct ga_session *s, uint64_t addr, void *buf, size_t len);
/* Pointer words of an object (bit i = word i), valid until the next call. */
bool ga_heap_ptrmask(struct ga_session *s, ga_obj id, const uint64_t **bits, uint64_t *nwords);

/* The object's contents as fields: from its type's DWARF layout when it
 * has a type (elements of an array-typed slot by index, at most max_elems),
 * else one entry per word. *out is freed by the caller (names point into
 * the session). */
struct ga_field_value {
	const char *name;     /* "next", "data.len", "[3]", "+0x18" */
	const char *type;     /* Go type name, "" for raw words */
	uint64_t offset, size;
	uint64_t value;       /* up to the first 8 bytes, little-endian */
	bool pointer;         /* the heap's pointer map says this word is a pointer */
	ga_obj target;        /* heap object the value points into, GA_NO_OBJ if none */
};
struct ga_error *ga_heap_object_fields(struct ga_session *s, ga_obj id, size_t max_elems,
				       struct ga_field_value **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
