/* The session: owner of everything read from one core. Internal view. */
#ifndef GA_SESSION_H
#define GA_SESSION_H

#include "core/core.h"
#include "core/mem.h"
#include "exe/dwarf.h"
#include "exe/exe.h"
#include "goautopsy/goautopsy.h"
#include "rt/goroutine.h"
#include "rt/map.h"
#include "rt/rt.h"
#include "rt/span.h"

struct rt_pcln;
struct rt_unwinder;
struct rt_chans;
struct rt_blocked_ctx;
struct ga_gr_state;
struct ga_heap_state;

struct ga_session {
	struct ga_core *core;
	struct ga_exe *exe;
	struct ga_dwarf *dw;
	struct ga_mem mem;
	struct ga_rt *rt;
	char *exe_core_path;   /* the executable's path as the core names it */
	char *exe_check;
	uint64_t bias;

	/* lazily built */
	bool info_done;
	struct ga_info info;
	GA_VEC(struct ga_count) by_status;
	GA_VEC(struct ga_count) by_reason;
	char *goos, *goarch, *goexperiment, *command;
	struct rt_g *gs;
	size_t ngs;
	bool gs_done;
	struct rt_span *spans;
	size_t nspans;
	bool spans_done;
	/* maps (src/maps.c): layouts by map type, in-use spans by base */
	GA_VEC(struct rt_map_layout) map_layouts;
	struct ga_hash map_layout_idx;  /* map type id -> index in map_layouts */
	struct rt_span *map_spans;
	size_t map_nspans;
	uint64_t map_page_size;
	bool map_spans_done;
	/* goroutines (src/goroutines.c) */
	struct rt_pcln *pcln;
	struct ga_error *pcln_err;
	struct rt_unwinder *unwinder;
	struct rt_chans *chans;
	struct rt_blocked_ctx *blocked;
	struct ga_gr_state *gr;
	/* heap objects, roots, object graph (src/heap.c) */
	struct ga_heap_state *heap;
	bool conservative_stacks;
	bool type_provenance;
	double t_open;          /* seconds ga_session_open took */
	uint64_t rss_open, anon_open; /* peak RSS and RssAnon after it */
	char *heap_mark_error;
};

struct ga_error *ga_session_goroutines(struct ga_session *s, struct rt_g **gs, size_t *n);
struct ga_error *ga_session_spans(struct ga_session *s, struct rt_span **spans, size_t *n);
/* Lazily opened function table, unwinder, channel layouts, blocked-on
 * context (src/goroutines.c); freed by ga_session_goroutines_free. */
struct ga_error *ga_session_pcln(struct ga_session *s, struct rt_pcln **out);
struct ga_error *ga_session_unwinder(struct ga_session *s, struct rt_unwinder **out);
struct ga_error *ga_session_chans(struct ga_session *s, struct rt_chans **out);
struct ga_error *ga_session_blocked(struct ga_session *s, struct rt_blocked_ctx **out);
void ga_session_goroutines_free(struct ga_session *s);
void ga_session_heap_free(struct ga_session *s);
/* Typing of heap objects (src/typing.c), run by src/heap.c while building;
 * the result is kept in the heap state. */
struct ga_graph;
struct graph_typing;
struct ga_error *ga_session_type_objects(struct ga_session *s, struct ga_graph *g,
					 struct graph_typing *t);
const struct graph_typing *ga_session_heap_typing(struct ga_session *s, const struct ga_graph **g);

#endif
