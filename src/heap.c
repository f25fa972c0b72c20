/* The heap API (include/goautopsy/heap.h) over the runtime model (src/rt)
 * and the object graph (src/graph). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/file.h"
#include "goautopsy/heap.h"
#include "graph/graph.h"
#include "graph/typing.h"
#include "rt/heap.h"
#include "rt/ptrmap.h"
#include "rt/rtype.h"
#include "rt/specials.h"
#include "session.h"

struct ga_heap_state {
	struct rt_types types;
	struct rt_heap heap;
	struct rt_ptrmap pm;
	struct rt_specials sp;
	struct ga_graph g;
	struct graph_typing typing;
	struct ga_heap_stats stats;
	bool types_ok, heap_ok, pm_ok, sp_ok, graph_ok, typing_ok;
	struct ga_error *err;  /* the build failed: every later call gets a copy */
	GA_VEC(struct ga_histo_row) histo;
	bool histo_done;
	GA_VEC(char *) pools;  /* field name buffers handed out */
};

void ga_session_heap_free(struct ga_session *s)
{
	struct ga_heap_state *hs = s->heap;
	if (!hs)
		return;
	if (hs->typing_ok)
		graph_typing_free(&hs->typing);
	if (hs->graph_ok)
		graph_free(&hs->g);
	if (hs->sp_ok)
		rt_specials_free(&hs->sp);
	if (hs->pm_ok)
		rt_ptrmap_free(&hs->pm);
	if (hs->heap_ok)
		rt_heap_free(&hs->heap);
	if (hs->types_ok)
		rt_types_free(&hs->types);
	ga_vec_free(&hs->histo);
	for (size_t i = 0; i < hs->pools.len; i++)
		free(hs->pools.v[i]);
	ga_vec_free(&hs->pools);
	ga_error_destroy(hs->err);
	free(hs);
	s->heap = NULL;
}

static struct ga_error *copy_err(const struct ga_error *e)
{
	if (e == &ga_error_nomem)
		return &ga_error_nomem;
	return ga_error_create(e->code, "%s", e->message);
}

/* sp of the thread running each g (m.procid == LWP), 0 when none. */
static struct ga_error *thread_sps(struct ga_session *s, struct rt_g *gs, size_t n, uint64_t **out)
{
	uint64_t *sps = calloc(n ? n : 1, 8);
	if (!sps)
		return &ga_error_nomem;
	struct rt_field procid = rt_field(s->rt, "runtime.m", "procid");
	int spi = ga_core_reg_sp(s->core);
	for (size_t i = 0; i < n && procid.ok && spi >= 0; i++) {
		uint64_t lwp;
		if (!gs[i].m || !rt_read_field(s->rt, gs[i].m, &procid, &lwp))
			continue;
		for (size_t t = 0; t < s->core->threads.len; t++) {
			const struct ga_core_thread *th = &s->core->threads.v[t];
			if ((uint64_t)th->lwp == lwp && (unsigned)spi < th->nregs)
				sps[i] = th->regs[spi];
		}
	}
	*out = sps;
	return NULL;
}

static struct ga_error *build(struct ga_session *s, struct ga_heap_state *hs)
{
	struct ga_error *err;
	double t0 = ga_now();
	if ((err = rt_types_init(s->rt, &hs->types)))
		return ga_error_context(err, "reading type descriptors");
	hs->types_ok = true;
	if ((err = rt_heap_build(s->rt, &hs->heap)))
		return ga_error_context(err, "enumerating heap objects");
	hs->heap_ok = true;
	if ((err = rt_ptrmap_init(&hs->pm, &hs->heap, &hs->types)))
		return err;
	hs->pm_ok = true;
	if ((err = rt_read_specials(&hs->heap, &hs->sp)))
		return ga_error_context(err, "reading span specials");
	hs->sp_ok = true;
	hs->stats.t_enumerate = ga_now() - t0;
	hs->stats.rss_enumerate = ga_peak_rss(NULL);
	hs->stats.t_load = s->t_open;
	hs->stats.rss_load = s->rss_open;
	hs->stats.anon_load = s->anon_open;
	struct rt_g *gs;
	size_t ngs;
	if ((err = ga_session_goroutines(s, &gs, &ngs)))
		return err;
	uint64_t *sps;
	if ((err = thread_sps(s, gs, ngs, &sps)))
		return err;
	/* precise stacks need the function table; without it (a stripped
	 * pclntab, a corrupt core) every stack is scanned conservatively */
	struct rt_unwinder *u = NULL;
	if ((err = ga_session_unwinder(s, &u))) {
		if (err == &ga_error_nomem) {
			free(sps);
			return err;
		}
		ga_error_destroy(err);
		u = NULL;
	}
	if (s->conservative_stacks)
		u = NULL;
	struct graph_stack_src stk = {gs, ngs, sps, u};
	err = graph_build(&hs->g, &hs->heap, &hs->types, &hs->pm, &hs->sp, &stk);
	free(sps);
	hs->graph_ok = true;
	if (err)
		return ga_error_context(err, "building the object graph");
	hs->stats.rss_mark = ga_peak_rss(NULL);
	double t1 = ga_now();
	if ((err = ga_session_type_objects(s, &hs->g, &hs->typing)))
		return err;
	hs->typing_ok = true;
	if (!s->type_provenance)
		graph_typing_drop_objects(&hs->typing);
	hs->stats.t_typing = ga_now() - t1;
	hs->stats.rss_typing = ga_peak_rss(&hs->stats.anon_typing);
	struct ga_heap_stats *st = &hs->stats;
	const struct graph_stats *gst = &hs->g.st;
	st->live_bytes = gst->live_bytes;
	st->live_objects = gst->live_objects;
	st->garbage_bytes = gst->garbage_bytes;
	st->garbage_objects = gst->garbage_objects;
	st->alloc_bytes = hs->heap.alloc_bytes;
	st->alloc_objects = hs->heap.nobjs;
	st->inuse_span_bytes = hs->heap.inuse_bytes;
	st->manual_span_bytes = hs->heap.manual_bytes;
	st->manual_spans = hs->heap.manual_spans;
	st->spans = hs->heap.spans.len;
	st->runtime_alloc_count = hs->heap.runtime_alloc_count;
	ga_type_id mt;
	uint64_t ms = rt_global(s->rt, "runtime.memstats", &mt);
	struct rt_field ngc = rt_field_of(s->rt, mt, "numgc");
	if (ms && ngc.ok)
		rt_read_field(s->rt, ms, &ngc, &st->num_gc);
	st->fresh_objects = hs->heap.fresh_objects;
	st->fresh_bytes = hs->heap.fresh_bytes;
	for (size_t si = 0; si < hs->heap.spans.len; si++) {
		const struct rt_hspan *sp = &hs->heap.spans.v[si];
		int64_t slot = -1;
		rt_obj_id id = sp->first_id;
		while (rt_heap_next_slot(&hs->heap, sp, &slot)) {
			if ((hs->heap.freshw[sp->bitw + (uint64_t)slot / 64] >> (slot % 64) & 1) &&
			    graph_marked(&hs->g, graph_obj_node(&hs->g, id))) {
				st->fresh_live_objects++;
				st->fresh_live_bytes += sp->elemsize;
			}
			id++;
		}
	}
	st->roots = hs->g.nroots;
	st->edges = gst->edges;
	for (uint32_t id = 0; id < hs->heap.nobjs; id++)
		st->typed_objects += hs->heap.obj_typed_by[id] != RT_TYPED_NONE;
	st->goroutines_precise = gst->goroutines_precise;
	st->goroutines_conservative = gst->goroutines_conservative;
	st->frames_precise = gst->frames_precise;
	st->frames_conservative = gst->frames_conservative;
	st->ptrmap_failures = gst->ptrmap_failures;
	st->unreadable = hs->heap.unreadable;
	st->ptrmap_layout = rt_ptrmap_layout_name(hs->pm.layout);
	st->t_edges = hs->g.t_edges;
	st->t_mark = hs->g.t_mark;
	return NULL;
}

const struct graph_typing *ga_session_heap_typing(struct ga_session *s, const struct ga_graph **g)
{
	struct ga_heap_state *hs = s->heap && !s->heap->err ? s->heap : NULL;
	if (!hs || !hs->typing_ok)
		return NULL;
	*g = &hs->g;
	return &hs->typing;
}

static struct ga_error *state(struct ga_session *s, struct ga_heap_state **out)
{
	if (!s->heap) {
		struct ga_heap_state *hs = calloc(1, sizeof(*hs));
		if (!hs)
			return &ga_error_nomem;
		s->heap = hs;
		struct ga_error *err = build(s, hs);
		if (err)
			hs->err = err;
	}
	if (s->heap->err)
		return copy_err(s->heap->err);
	*out = s->heap;
	return NULL;
}

/* For calls that cannot fail: the state if it was built. */
static struct ga_heap_state *ready(struct ga_session *s)
{
	return s->heap && !s->heap->err ? s->heap : NULL;
}

struct ga_error *ga_heap_stats(struct ga_session *s, const struct ga_heap_stats **out)
{
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	if (err)
		return err;
	*out = &hs->stats;
	return NULL;
}

size_t ga_heap_nobjects(struct ga_session *s)
{
	struct ga_heap_state *hs = ready(s);
	return hs ? hs->heap.nobjs : 0;
}

ga_obj ga_heap_find(struct ga_session *s, uint64_t addr)
{
	struct ga_heap_state *hs = ready(s);
	return hs ? rt_heap_find(&hs->heap, addr) : GA_NO_OBJ;
}

size_t ga_heap_ranges_at_least(struct ga_session *s, uint64_t min, struct ga_id_range *out, size_t max)
{
	struct ga_heap_state *hs = ready(s);
	size_t n = 0;
	for (size_t i = 0; hs && i < hs->heap.spans.len; i++) {
		const struct rt_hspan *sp = &hs->heap.spans.v[i];
		if (sp->elemsize < min || !sp->nobjs)
			continue;
		if (n < max)
			out[n] = (struct ga_id_range){sp->first_id, sp->nobjs};
		n++;
	}
	return n;
}

ga_obj ga_heap_locate(struct ga_session *s, uint64_t addr, uint64_t *base, uint64_t *size)
{
	struct ga_heap_state *hs = ready(s);
	const struct rt_hspan *sp = hs ? rt_heap_span_at(&hs->heap, addr) : NULL;
	if (!sp || addr < sp->base || !sp->elemsize)
		return GA_NO_OBJ;
	/* rt_heap_find's rank, from the span already found */
	uint64_t slot = (addr - sp->base) / sp->elemsize;
	if (slot >= sp->nelems)
		return GA_NO_OBJ;
	uint64_t w = sp->bitw + slot / 64, bits = hs->heap.allocw[w], bit = 1ull << (slot % 64);
	if (!(bits & bit))
		return GA_NO_OBJ;
	*base = sp->base + slot * sp->elemsize;
	*size = sp->elemsize;
	return hs->heap.allocrank[w] + (ga_obj)__builtin_popcountll(bits & (bit - 1));
}

bool ga_heap_object(struct ga_session *s, ga_obj id, struct ga_object *o)
{
	struct ga_heap_state *hs = ready(s);
	if (!hs || id >= hs->heap.nobjs)
		return false;
	const struct rt_hspan *sp = &hs->heap.spans.v[rt_heap_span_of(&hs->heap, id)];
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->addr = rt_heap_addr(&hs->heap, id);
	o->size = sp->elemsize;
	o->type = hs->heap.obj_type[id];
	o->typed_by = hs->heap.obj_typed_by[id];
	o->sizeclass = sp->sizeclass;
	o->live = graph_marked(&hs->g, graph_obj_node(&hs->g, id));
	o->noscan = sp->flags & RT_HSPAN_NOSCAN;
	o->tiny = sp->flags & RT_HSPAN_TINY;
	/* the fresh bit of the slot, from the span already found */
	uint64_t slot = sp->elemsize ? (o->addr - sp->base) / sp->elemsize : 0;
	o->fresh = o->addr && hs->heap.freshw[sp->bitw + slot / 64] >> (slot % 64) & 1;
	return true;
}

const char *ga_heap_type_name(struct ga_session *s, ga_htype t)
{
	struct ga_heap_state *hs = ready(s);
	return hs ? rt_types_name(&hs->types, t) : "";
}

const char *ga_heap_type_label(struct ga_session *s, const struct ga_object *o, char *buf, size_t n)
{
	if (o->type) {
		const char *name = ga_heap_type_name(s, o->type);
		uint64_t ts = ga_heap_type_size(s, o->type);
		uint64_t data = o->size - (o->typed_by == GA_TYPED_HEADER ? 8 : 0);
		/* a slot holding several values of the type: a slice's backing array */
		if (ts && data / ts >= 2)
			snprintf(buf, n, "[%" PRIu64 "]%s", data / ts, *name ? name : "?");
		else
			snprintf(buf, n, "%s", *name ? name : "?");
	} else {
		snprintf(buf, n, "untyped %s%" PRIu64 " B", o->tiny ? "tiny block " : "", o->size);
	}
	return buf;
}

uint64_t ga_heap_type_size(struct ga_session *s, ga_htype t)
{
	struct ga_heap_state *hs = ready(s);
	const struct rt_rtype *r = hs ? rt_types_get(&hs->types, t) : NULL;
	return r ? r->size : 0;
}

uint32_t ga_heap_type_dwarf(struct ga_session *s, ga_htype t)
{
	struct ga_heap_state *hs = ready(s);
	const struct rt_rtype *r = hs ? rt_types_get(&hs->types, t) : NULL;
	return r ? r->dwarf : 0;
}

struct ga_error *ga_heap_set_type(struct ga_session *s, ga_obj id, uint32_t dwarf_type,
				  uint8_t typed_by)
{
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	if (err)
		return err;
	if (id >= hs->heap.nobjs)
		return ga_error_create(GA_ERR_NOT_FOUND, "no heap object %u", id);
	uint8_t by = hs->heap.obj_typed_by[id];
	if (by == RT_TYPED_HEADER || by == RT_TYPED_LARGETYPE)
		return NULL;
	rt_type_idx t = rt_types_intern_dwarf(&hs->types, dwarf_type, &err);
	if (err)
		return err;
	if (t) {
		hs->heap.obj_type[id] = t;
		hs->heap.obj_typed_by[id] = typed_by;
	}
	return NULL;
}

size_t ga_heap_nroots(struct ga_session *s)
{
	struct ga_heap_state *hs = ready(s);
	return hs ? hs->g.nroots : 0;
}

const char *ga_root_kind_name(uint8_t kind)
{
	switch (kind) {
	case GA_ROOT_GLOBAL: return "global";
	case GA_ROOT_STACK: return "stack";
	case GA_ROOT_FRAME: return "frame";
	case GA_ROOT_DEFER: return "defer";
	case GA_ROOT_PANIC: return "panic";
	case GA_ROOT_FINALIZER: return "finalizer";
	case GA_ROOT_CLEANUP: return "cleanup";
	case GA_ROOT_WEAKHANDLE: return "weak handle";
	case GA_ROOT_FINQ: return "finalizer queue";
	case GA_ROOT_CLEANUPQ: return "cleanup queue";
	case GA_ROOT_TINY: return "tiny block";
	default: return "root";
	}
}

bool ga_heap_root(struct ga_session *s, size_t i, struct ga_root *out)
{
	struct ga_heap_state *hs = ready(s);
	if (!hs || i >= hs->g.nroots)
		return false;
	const struct graph_root *r = &hs->g.roots.v[i];
	memset(out, 0, sizeof(*out));
	out->name = graph_root_name(&hs->g, (uint32_t)i);
	out->kind = r->kind;
	out->conservative = r->flags & GRAPH_ROOT_CONSERVATIVE;
	out->weak = r->flags & GRAPH_ROOT_WEAK;
	out->addr = r->addr;
	out->size = r->size;
	out->goid = r->goid;
	out->obj = r->obj;
	out->pc = r->pc;
	out->dwarf_type = r->dwarf;
	return true;
}

size_t ga_heap_nnodes(struct ga_session *s)
{
	struct ga_heap_state *hs = ready(s);
	return hs ? hs->g.nnodes : 0;
}

ga_node ga_heap_node_of_obj(struct ga_session *s, ga_obj id)
{
	struct ga_heap_state *hs = ready(s);
	return hs && id < hs->heap.nobjs ? graph_obj_node(&hs->g, id) : GA_NO_NODE;
}

ga_node ga_heap_node_of_root(struct ga_session *s, size_t root)
{
	struct ga_heap_state *hs = ready(s);
	return hs && root < hs->g.nroots ? (ga_node)root + 1 : GA_NO_NODE;
}

ga_obj ga_heap_node_obj(struct ga_session *s, ga_node n)
{
	struct ga_heap_state *hs = ready(s);
	return hs ? graph_node_obj(&hs->g, n) : GA_NO_OBJ;
}

long ga_heap_node_root(struct ga_session *s, ga_node n)
{
	struct ga_heap_state *hs = ready(s);
	return hs && n >= 1 && n <= hs->g.nroots ? (long)n - 1 : -1;
}

const char *ga_heap_node_label(struct ga_session *s, ga_node node, char *buf, size_t n)
{
	struct ga_heap_state *hs = ready(s);
	if (!hs || node >= hs->g.nnodes)
		return "?";
	if (node == 0)
		return "<roots>";
	if (node <= hs->g.nroots)
		return graph_root_name(&hs->g, node - 1);
	struct ga_object o;
	ga_heap_object(s, graph_node_obj(&hs->g, node), &o);
	if (o.type)
		snprintf(buf, n, "0x%" PRIx64 " %s", o.addr, rt_types_name(&hs->types, o.type));
	else
		snprintf(buf, n, "0x%" PRIx64 " untyped %s%" PRIu64 " B", o.addr,
			 o.tiny ? "tiny block " : "", o.size);
	return buf;
}

void ga_heap_succ(struct ga_session *s, ga_node n, const ga_node **v, size_t *count)
{
	struct ga_heap_state *hs = ready(s);
	*v = NULL;
	*count = 0;
	if (!hs || n >= hs->g.nnodes)
		return;
	*v = hs->g.fwd + hs->g.fwd_off[n];
	*count = hs->g.fwd_off[n + 1] - hs->g.fwd_off[n];
}

void ga_heap_pred(struct ga_session *s, ga_node n, const ga_node **v, size_t *count)
{
	struct ga_heap_state *hs = ready(s);
	*v = NULL;
	*count = 0;
	if (!hs || n >= hs->g.nnodes)
		return;
	*v = hs->g.rev + hs->g.rev_off[n];
	*count = hs->g.rev_off[n + 1] - hs->g.rev_off[n];
}

struct ga_error *ga_heap_dominators(struct ga_session *s)
{
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	if (err)
		return err;
	bool had = hs->g.idom != NULL;
	err = graph_dominators(&hs->g);
	hs->stats.t_dominators = hs->g.t_dom;
	if (!had && !err)
		hs->stats.rss_dominators = ga_peak_rss(&hs->stats.anon_dominators);
	return err;
}

ga_node ga_heap_idom(struct ga_session *s, ga_node n)
{
	struct ga_heap_state *hs = ready(s);
	return hs && hs->g.idom && n < hs->g.nnodes ? hs->g.idom[n] : GA_NO_NODE;
}

uint64_t ga_heap_retained(struct ga_session *s, ga_node n)
{
	struct ga_heap_state *hs = ready(s);
	return hs && hs->g.retained && n < hs->g.nnodes ? hs->g.retained[n] : 0;
}

struct ga_error *ga_heap_dom_children(struct ga_session *s, ga_node n, const ga_node **v,
				      size_t *count)
{
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	*v = NULL;
	*count = 0;
	if (err || (err = graph_dom_children(&hs->g)))
		return err;
	if (n >= hs->g.nnodes)
		return NULL;
	*v = hs->g.dom_kids + hs->g.dom_off[n];
	*count = hs->g.dom_off[n + 1] - hs->g.dom_off[n];
	return NULL;
}

static int histo_cmp(const void *a, const void *b)
{
	const struct ga_histo_row *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

struct ga_error *ga_heap_histogram(struct ga_session *s, const struct ga_histo_row **rows, size_t *n)
{
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	if (err || (err = ga_heap_dominators(s)) || (err = graph_dom_children(&hs->g)))
		return err;
	if (!hs->histo_done) {
		const struct rt_heap *h = &hs->heap;
		const struct ga_graph *g = &hs->g;
		uint32_t *row = malloc((h->nobjs ? h->nobjs : 1) * sizeof(uint32_t));
		struct ga_hash idx;
		ga_hash_init(&idx);
		if (!row)
			return &ga_error_nomem;
		for (size_t si = 0; si < h->spans.len; si++) {
			const struct rt_hspan *sp = &h->spans.v[si];
			for (uint32_t k = 0; k < sp->nobjs; k++) {
				rt_obj_id id = sp->first_id + k;
				row[id] = UINT32_MAX;
				if (!graph_marked(g, graph_obj_node(g, id)))
					continue;
				uint32_t t = h->obj_type[id];
				bool tiny = sp->flags & RT_HSPAN_TINY;
				uint64_t key = t ? (1ull << 63) | t : (sp->elemsize << 1 | tiny) + 1;
				uint64_t ri;
				if (!ga_hash_get(&idx, key, &ri)) {
					struct ga_histo_row r = {.type = t, .elemsize = t ? 0 : sp->elemsize,
								 .tiny = !t && tiny};
					ri = hs->histo.len;
					if (ga_vec_push(&hs->histo, r) || ga_hash_put(&idx, key, ri)) {
						free(row);
						ga_hash_free(&idx);
						return &ga_error_nomem;
					}
				}
				row[id] = (uint32_t)ri;
				hs->histo.v[ri].count++;
				hs->histo.v[ri].bytes += sp->elemsize;
			}
		}
		ga_hash_free(&idx);
		/* retained of a type = the union of its objects' dominated sets:
		 * sum over objects with no same-row ancestor in the dominator tree */
		uint32_t *depth = calloc(hs->histo.len ? hs->histo.len : 1, 4);
		uint32_t *stk = malloc((size_t)g->nnodes * 4 + 4);
		uint32_t *pos = malloc((size_t)g->nnodes * 4 + 4);
		if (!depth || !stk || !pos) {
			free(row), free(depth), free(stk), free(pos);
			return &ga_error_nomem;
		}
		uint32_t sp = 0;
		stk[sp] = 0;
		pos[sp++] = g->dom_off[0];
		while (sp) {
			uint32_t v = stk[sp - 1];
			if (pos[sp - 1] < g->dom_off[v + 1]) {
				uint32_t w = g->dom_kids[pos[sp - 1]++];
				rt_obj_id id = graph_node_obj(g, w);
				if (id != RT_NO_OBJ && row[id] != UINT32_MAX) {
					if (!depth[row[id]]++)
						hs->histo.v[row[id]].retained += g->retained[w];
				}
				stk[sp] = w;
				pos[sp++] = g->dom_off[w];
			} else {
				rt_obj_id id = graph_node_obj(g, v);
				if (id != RT_NO_OBJ && row[id] != UINT32_MAX)
					depth[row[id]]--;
				sp--;
			}
		}
		free(row), free(depth), free(stk), free(pos);
		if (hs->histo.len > 1)
			ga_sort(hs->histo.v, hs->histo.len, sizeof(*hs->histo.v), histo_cmp);
		hs->histo_done = true;
	}
	*rows = hs->histo.v;
	*n = hs->histo.len;
	return NULL;
}

struct ga_error *ga_heap_roots_named(struct ga_session *s, const char *name, ga_node **out,
				     size_t *n)
{
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	*out = NULL;
	*n = 0;
	if (err)
		return err;
	size_t len = strlen(name);
	GA_VEC(ga_node) v = {0};
	for (uint32_t r = 0; r < hs->g.nroots; r++) {
		const char *rn = graph_root_name(&hs->g, r);
		if ((!strcmp(rn, name) || (!strncmp(rn, name, len) && rn[len] == ' ')) &&
		    ga_vec_push(&v, r + 1)) {
			ga_vec_free(&v);
			return &ga_error_nomem;
		}
	}
	*out = v.v;
	*n = v.len;
	return NULL;
}

struct ga_error *ga_heap_paths(struct ga_session *s, const ga_node *sources, size_t nsources,
			       ga_node target, size_t max_nodes, struct ga_heap_paths *out)
{
	memset(out, 0, sizeof(*out));
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	if (err)
		return err;
	const struct ga_graph *g = &hs->g;
	if (target >= g->nnodes)
		return ga_error_create(GA_ERR_NOT_FOUND, "no such node");
	uint32_t *dist;
	uint32_t all = 0;
	if ((err = graph_bfs(g, nsources ? sources : &all, nsources ? nsources : 1, &dist)))
		return err;
	/* from all roots: distances count from the roots, not the super-root */
	uint32_t base = nsources ? 0 : 1;
	if (dist[target] == GRAPH_NONE) {
		free(dist);
		return NULL; /* unreachable: no path */
	}
	/* walk back over predecessors one step closer, collecting the DAG */
	GA_VEC(uint32_t) nodes = {0};
	typedef ga_node edge2[2];
	GA_VEC(edge2) edges = {0};
	struct ga_hash seen;
	ga_hash_init(&seen);
	uint64_t *npaths = NULL;
	if (ga_vec_push(&nodes, target) || ga_hash_put(&seen, (uint64_t)target + 1, 0)) {
		err = &ga_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < nodes.len; i++) {
		uint32_t v = nodes.v[i];
		if (dist[v] <= base)
			continue; /* a source */
		for (uint32_t e = g->rev_off[v]; e < g->rev_off[v + 1]; e++) {
			uint32_t p = g->rev[e];
			if (dist[p] != dist[v] - 1)
				continue;
			ga_node ed[2] = {p, v};
			if (ga_vec_reserve(&edges, 1)) {
				err = &ga_error_nomem;
				goto out;
			}
			memcpy(edges.v[edges.len++], ed, sizeof(ed));
			uint64_t x;
			if (ga_hash_get(&seen, (uint64_t)p + 1, &x) || nodes.len >= max_nodes)
				continue;
			if (ga_vec_push(&nodes, p) || ga_hash_put(&seen, (uint64_t)p + 1, 0)) {
				err = &ga_error_nomem;
				goto out;
			}
		}
	}
	/* order by distance; count the paths */
	for (size_t i = 1; i < nodes.len; i++)
		for (size_t j = i; j > 0 && dist[nodes.v[j - 1]] > dist[nodes.v[j]]; j--) {
			uint32_t t = nodes.v[j];
			nodes.v[j] = nodes.v[j - 1];
			nodes.v[j - 1] = t;
		}
	out->dist = malloc((nodes.len ? nodes.len : 1) * 4);
	npaths = calloc(nodes.len ? nodes.len : 1, 8);
	if (!out->dist || !npaths) {
		err = &ga_error_nomem;
		goto out;
	}
	ga_hash_free(&seen);
	ga_hash_init(&seen);
	for (size_t i = 0; i < nodes.len; i++) {
		out->dist[i] = dist[nodes.v[i]] - base;
		if (ga_hash_put(&seen, (uint64_t)nodes.v[i] + 1, i)) {
			err = &ga_error_nomem;
			goto out;
		}
		if (dist[nodes.v[i]] == base)
			npaths[i] = 1;
	}
	for (size_t i = 0; i < nodes.len; i++) {
		for (size_t e = 0; e < edges.len; e++) {
			uint64_t a, b;
			if (edges.v[e][1] != nodes.v[i] || !ga_hash_get(&seen, (uint64_t)edges.v[e][0] + 1, &a))
				continue;
			ga_hash_get(&seen, (uint64_t)edges.v[e][1] + 1, &b);
			npaths[b] = npaths[b] + npaths[a] < npaths[b] ? UINT64_MAX : npaths[b] + npaths[a];
		}
	}
	out->npaths = nodes.len ? (size_t)npaths[nodes.len - 1] : 0;
	for (size_t i = 0; i < nodes.len; i++)
		if (nodes.v[i] == target)
			out->npaths = (size_t)npaths[i];
	out->nodes = nodes.v;
	out->nnodes = nodes.len;
	out->edges = edges.v;
	out->nedges = edges.len;
	nodes.v = NULL;
	edges.v = NULL;
out:
	free(npaths);
	free(dist);
	ga_hash_free(&seen);
	ga_vec_free(&nodes);
	ga_vec_free(&edges);
	if (err) {
		free(out->dist);
		out->dist = NULL;
	}
	return err;
}

void ga_heap_paths_free(struct ga_heap_paths *p)
{
	free(p->nodes);
	free(p->dist);
	free(p->edges);
	memset(p, 0, sizeof(*p));
}

bool ga_heap_read(struct ga_session *s, uint64_t addr, void *buf, size_t len)
{
	return ga_mem_try_read(&s->mem, addr, buf, len);
}

bool ga_heap_ptrmask(struct ga_session *s, ga_obj id, const uint64_t **bits, uint64_t *nwords)
{
	struct ga_heap_state *hs = ready(s);
	if (!hs || id >= hs->heap.nobjs)
		return false;
	const struct rt_hspan *sp = &hs->heap.spans.v[rt_heap_span_of(&hs->heap, id)];
	rt_type_idx t;
	uint8_t by;
	struct ga_error *err = NULL;
	bool ok = rt_ptrmap_object(&hs->pm, sp, rt_heap_addr(&hs->heap, id), bits, nwords, &t, &by,
				   &err);
	ga_error_destroy(err);
	return ok;
}

/* The word of a multi-word value that holds its pointer. */
static uint64_t ptr_word_of(const struct ga_type *t)
{
	return t && t->kind == GA_K_INTERFACE ? 8 : 0;
}

struct ga_error *ga_heap_object_fields(struct ga_session *s, ga_obj id, size_t max_elems,
				       struct ga_field_value **out, size_t *n)
{
	enum { MAX_FIELDS = 4096 };
	*out = NULL;
	*n = 0;
	struct ga_heap_state *hs = NULL;
	struct ga_error *err = state(s, &hs);
	if (err)
		return err;
	struct ga_object o;
	if (!ga_heap_object(s, id, &o))
		return ga_error_create(GA_ERR_NOT_FOUND, "no heap object %u", id);
	const uint64_t *bits = NULL;
	uint64_t nwords = 0;
	ga_heap_ptrmask(s, id, &bits, &nwords);
	uint64_t *mask = calloc((o.size / 8 + 63) / 64 + 1, 8);
	if (!mask)
		return &ga_error_nomem;
	if (bits)
		memcpy(mask, bits, (nwords + 63) / 64 * 8);
	GA_VEC(struct ga_field_value) v = {0};
	struct ga_dwarf *dw = s->dw;
	ga_type_id dt = ga_heap_type_dwarf(s, o.type);
	const struct ga_type *t = ga_dwarf_type(dw, dt);
	uint64_t hdr = o.typed_by == GA_TYPED_HEADER ? 8 : 0;
	struct work {
		ga_type_id type;
		uint64_t off;
		uint32_t name; /* offset in names */
	};
	GA_VEC(struct work) stack = {0};
	struct ga_strbuf names;
	ga_sb_init(&names);
	ga_sb_appendn(&names, "", 1);
	if (t && t->size) {
		uint64_t count = (o.size - hdr) / t->size;
		if (count > max_elems)
			count = max_elems;
		for (uint64_t i = count; i-- > 0;) {
			struct work w = {dt, hdr + i * t->size, (uint32_t)names.len};
			if (count > 1)
				ga_sb_printf(&names, "[%" PRIu64 "]", i);
			ga_sb_appendn(&names, "", 1);
			if (ga_vec_push(&stack, w))
				goto nomem;
		}
	}
	while (stack.len && v.len < MAX_FIELDS) {
		struct work w = stack.v[--stack.len];
		const struct ga_type *ft = ga_dwarf_type(dw, w.type);
		if (!ft)
			continue;
		/* the names buffer moves as it grows: the prefix is copied */
		char prefix[256];
		snprintf(prefix, sizeof(prefix), "%s", names.s + w.name);
		if (ft->kind == GA_K_STRUCT && ft->nfields) {
			for (uint32_t i = ft->nfields; i-- > 0;) {
				const struct ga_field *f = &dw->fields.v[ft->first_field + i];
				struct work c = {f->type, w.off + f->offset, (uint32_t)names.len};
				ga_sb_printf(&names, "%s%s%s", prefix, *prefix ? "." : "", f->name ? f->name : "?");
				ga_sb_appendn(&names, "", 1);
				if (ga_vec_push(&stack, c))
					goto nomem;
			}
			continue;
		}
		if (ft->kind == GA_K_ARRAY && ft->count && ft->count <= 64 && ft->elem) {
			const struct ga_type *et = ga_dwarf_type(dw, ft->elem);
			for (uint64_t i = ft->count; et && i-- > 0;) {
				struct work c = {ft->elem, w.off + i * et->size, (uint32_t)names.len};
				ga_sb_printf(&names, "%s[%" PRIu64 "]", prefix, i);
				ga_sb_appendn(&names, "", 1);
				if (ga_vec_push(&stack, c))
					goto nomem;
			}
			continue;
		}
		if (names.oom)
			goto nomem;
		struct ga_field_value fv = {.name = NULL, .type = ft->name ? ft->name : "",
					    .offset = w.off, .size = ft->size, .target = GA_NO_OBJ};
		fv.name = (const char *)(uintptr_t)w.name; /* fixed up below */
		uint64_t pw = w.off + ptr_word_of(ft);
		ga_heap_read(s, o.addr + w.off, &fv.value, ft->size < 8 ? ft->size : 8);
		if (pw / 8 < o.size / 8 && (mask[pw / 64 / 8] >> (pw / 8 % 64) & 1)) {
			uint64_t p = 0;
			ga_heap_read(s, o.addr + pw, &p, 8);
			fv.pointer = true;
			fv.target = ga_heap_find(s, p);
		}
		if (ga_vec_push(&v, fv))
			goto nomem;
	}
	if (!t) {
		for (uint64_t w = 0; w < o.size / 8 && v.len < MAX_FIELDS; w++) {
			struct ga_field_value fv = {.type = "", .offset = 8 * w, .size = 8, .target = GA_NO_OBJ};
			fv.name = (const char *)(uintptr_t)names.len;
			ga_sb_printf(&names, "+0x%" PRIx64, 8 * w);
			ga_sb_appendn(&names, "", 1);
			ga_heap_read(s, o.addr + 8 * w, &fv.value, 8);
			if (mask[w / 64] >> (w % 64) & 1) {
				fv.pointer = true;
				fv.target = ga_heap_find(s, fv.value);
			}
			if (ga_vec_push(&v, fv))
				goto nomem;
		}
	}
	if (names.oom)
		goto nomem;
	/* names live in the session's name pool: keep this buffer in a list */
	char *pool = ga_sb_steal(&names);
	if (!pool || ga_vec_push(&hs->pools, pool)) {
		free(pool);
		goto nomem;
	}
	for (size_t i = 0; i < v.len; i++)
		v.v[i].name = pool + (uintptr_t)v.v[i].name;
	ga_vec_free(&stack);
	free(mask);
	*out = v.v;
	*n = v.len;
	return NULL;
nomem:
	ga_vec_free(&stack);
	ga_vec_free(&v);
	ga_sb_free(&names);
	free(mask);
	return &ga_error_nomem;
}
