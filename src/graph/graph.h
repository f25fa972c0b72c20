/* The object graph: roots and heap objects as dense nodes, forward and
 * reverse edges in CSR arrays, marking, the dominator tree (Semi-NCA,
 * iterative) and retained sizes.
 *
 * Nodes: 0 is the virtual super-root (its successors are the roots),
 * 1..nroots are the roots, nroots+1.. are the heap objects (object id +
 * nroots + 1). */
#ifndef GA_GRAPH_GRAPH_H
#define GA_GRAPH_GRAPH_H

#include "base/strbuf.h"
#include "rt/heap.h"
#include "rt/ptrmap.h"
#include "rt/rtype.h"
#include "rt/specials.h"

struct rt_unwinder;

typedef uint32_t graph_node;
#define GRAPH_NONE UINT32_MAX

enum graph_root_kind {
	GRAPH_ROOT_GLOBAL = 1,   /* data/bss words per gcdatamask/gcbssmask */
	GRAPH_ROOT_STACK,        /* a goroutine's stack (or what lies above the last frame
				    found), scanned conservatively */
	GRAPH_ROOT_FRAME,        /* one frame's DWARF variable, or its other pointer slots,
				    by the stack maps; a frame the runtime scans
				    conservatively (flagged); g.sched.ctxt */
	GRAPH_ROOT_DEFER,        /* g._defer chain */
	GRAPH_ROOT_PANIC,        /* g._panic chain */
	GRAPH_ROOT_FINALIZER,    /* finalizer special: fn, and the object while nothing else holds it */
	GRAPH_ROOT_CLEANUP,      /* cleanup special */
	GRAPH_ROOT_WEAKHANDLE,   /* weak handle special */
	GRAPH_ROOT_FINQ,         /* queued finalizer */
	GRAPH_ROOT_CLEANUPQ,     /* queued cleanup */
	GRAPH_ROOT_TINY,         /* a P's mcache.tiny block */
};

enum {
	GRAPH_ROOT_CONSERVATIVE = 1, /* any word that looks like a pointer counts */
	GRAPH_ROOT_WEAK = 2,         /* holds its object only when nothing else does */
};

struct graph_root {
	uint64_t addr;      /* the variable, the stack range start, the record */
	uint64_t size;      /* bytes scanned */
	uint64_t goid;      /* stacks and frames */
	uint64_t obj;       /* specials: the object it is attached to */
	uint64_t pc;        /* frames: pc; specials: the function */
	uint32_t name;      /* offset in graph.names */
	ga_type_id dwarf;   /* the variable's DWARF type, 0 unknown */
	uint8_t kind;       /* enum graph_root_kind */
	uint8_t flags;
};

struct graph_stats {
	uint64_t live_bytes, live_objects;
	uint64_t garbage_bytes, garbage_objects;
	uint64_t edges;
	uint64_t goroutines_precise, goroutines_conservative;
	uint64_t frames_precise, frames_conservative;
	uint64_t ptrmap_failures;
	uint64_t typed_objects;
};

struct ga_graph {
	struct rt_heap *heap;
	struct rt_types *types;
	GA_VEC(struct graph_root) roots;
	struct ga_strbuf names;
	uint32_t nroots;
	uint32_t nnodes;        /* 1 + nroots + heap->nobjs */
	uint32_t *fwd_off;      /* nnodes+1 */
	uint32_t *fwd;
	uint32_t *rev_off;
	uint32_t *rev;
	uint64_t *mark;         /* bit per node: reachable from the roots */
	/* dominators, built by graph_dominators */
	uint32_t *idom;         /* per node; GRAPH_NONE unreachable, 0 for roots */
	uint64_t *retained;     /* per node; bytes */
	uint32_t *dom_off, *dom_kids; /* dominator tree children, built on demand */
	struct graph_stats st;
	double t_edges, t_mark, t_dom; /* seconds, for benchmarks */
};

static inline graph_node graph_obj_node(const struct ga_graph *g, rt_obj_id id)
{
	return id + g->nroots + 1;
}
static inline rt_obj_id graph_node_obj(const struct ga_graph *g, graph_node n)
{
	return n > g->nroots && n < g->nnodes ? n - g->nroots - 1 : RT_NO_OBJ;
}
static inline bool graph_marked(const struct ga_graph *g, graph_node n)
{
	return g->mark[n / 64] >> (n % 64) & 1;
}
static inline const char *graph_root_name(const struct ga_graph *g, uint32_t root)
{
	return g->names.s + g->roots.v[root].name;
}

/* Where goroutine stacks come from: the caller (session) gives the list. */
struct graph_stack_src {
	struct rt_g *gs;
	size_t ngs;
	const uint64_t *thread_sp; /* per g: sp of the thread running it, 0 if none */
	struct rt_unwinder *unwinder; /* NULL: every stack is scanned conservatively */
};

/* Builds roots, edges (forward and reverse), marks. Types found in malloc
 * headers, largeType and finalizer specials go to heap->obj_type. */
struct ga_error *graph_build(struct ga_graph *g, struct rt_heap *h, struct rt_types *types,
			     struct rt_ptrmap *pm, const struct rt_specials *sp,
			     const struct graph_stack_src *stacks);
void graph_free(struct ga_graph *g);

/* Computes idom and retained for every node (Semi-NCA). */
struct ga_error *graph_dominators(struct ga_graph *g);
/* Children lists of the dominator tree (g->dom_off/dom_kids). */
struct ga_error *graph_dom_children(struct ga_graph *g);

/* Distances (BFS) from the given nodes (all at 0), GRAPH_NONE when
 * unreachable. The caller frees *dist. */
struct ga_error *graph_bfs(const struct ga_graph *g, const uint32_t *src, size_t nsrc,
			   uint32_t **dist);

/* Reference algorithm for tests: immediate dominators of a small graph by
 * iterating dominator sets; idom[0] = 0, unreachable GRAPH_NONE. */
struct ga_error *graph_naive_idom(uint32_t n, const uint32_t *off, const uint32_t *succ,
				  uint32_t *idom);
/* Semi-NCA over an explicit CSR graph rooted at node 0 (used by
 * graph_dominators and the tests). */
struct ga_error *graph_semi_nca(uint32_t n, const uint32_t *off, const uint32_t *succ,
				const uint32_t *roff, const uint32_t *pred, uint32_t *idom,
				uint32_t *order, uint32_t *norder);

#endif
