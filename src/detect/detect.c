/* The registry of detectors and what they share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "detect/detect.h"
#include "detect/stackroots.h"

/* Fix sentences: docs/leak-patterns.md, pattern by pattern. */
const struct det_entry det_registry[] = {
	{"subslice_pins_array",
	 "Copy the bytes out (make + copy, or bytes.Clone) so the large backing array can be freed.",
	 det_subslice},
	{"interior_pointer_pins_array",
	 "Copy the value out instead of keeping a pointer into the array.", det_interior_pointer},
	{"hidden_beyond_len",
	 "Copy the needed elements into a new slice, or clear(data[len:cap]) before truncating.",
	 det_hidden_beyond_len},
	{"slice_capacity_unused",
	 "Set the slice to nil, or reallocate it smaller, once the large contents are no longer needed.",
	 det_slice_capacity},
	{"map_capacity_after_delete",
	 "Set the map to nil (or re-create it) after mass deletion; store pointers for big values.",
	 det_map_capacity},
	{"substring_pins_string",
	 "Copy the substring out with strings.Clone so the large string can be freed.", det_substring},
	{"finalizer_cycle",
	 "Break the cycle, or put the finalizer (or cleanup) on an object outside it.",
	 det_finalizer_cycle},
	{"goroutine_leak",
	 "Make sure every blocked goroutine can be released: close the channel when writing is done, "
	 "buffer it or send with select/default, cancel the context, call Done, Signal the Cond.",
	 det_goroutine_leak},
	{"deadlock",
	 "Never lock a mutex the goroutine already holds; take several mutexes in one global order.",
	 det_deadlock},
};
const size_t det_nregistry = sizeof(det_registry) / sizeof(det_registry[0]);

const char *const det_kinds[] = {
	"subslice_pins_array", "interior_pointer_pins_array", "hidden_beyond_len",
	"slice_capacity_unused", "map_capacity_after_delete", "substring_pins_string",
	"finalizer_cycle", "goroutine_leak", "deadlock",
};
const size_t det_nkinds = sizeof(det_kinds) / sizeof(det_kinds[0]);
_Static_assert(sizeof(det_kinds) / sizeof(det_kinds[0]) == sizeof(det_registry) / sizeof(det_registry[0]),
	       "det_kinds and det_registry list the same kinds");

const struct det_entry *det_find(const char *kind)
{
	for (size_t i = 0; i < det_nregistry; i++)
		if (!strcmp(det_registry[i].kind, kind))
			return &det_registry[i];
	return NULL;
}

void *det_alloc(struct det_ctx *c, size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p || ga_vec_push(&c->owned, p)) {
		free(p);
		c->oom = true;
		return NULL;
	}
	return p;
}

const char *det_str(struct det_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return "";
	char *p = det_alloc(c, (size_t)n + 1);
	if (!p)
		return "";
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

struct ga_finding *det_add(struct det_ctx *c, const char *kind)
{
	const struct det_entry *e = det_find(kind);
	struct ga_finding f = {0};
	f.kind = e ? e->kind : kind;
	f.fix = e ? e->fix : "";
	f.severity = "low";
	f.count = 1;
	f.longest_wait_ns = -1;
	if (ga_vec_push(&c->findings, f)) {
		c->oom = true;
		return NULL;
	}
	return &c->findings.v[c->findings.len - 1];
}

bool det_set_objects(struct det_ctx *c, struct ga_finding *f, const struct ga_finding_object *objs,
		     size_t n)
{
	struct ga_finding_object *v = det_alloc(c, n * sizeof(*v));
	if (!v)
		return false;
	memcpy(v, objs, n * sizeof(*v));
	f->objects = v;
	f->nobjects = n;
	return true;
}

const char *det_obj_type(struct det_ctx *c, ga_obj id)
{
	struct ga_object o;
	if (!ga_heap_object(c->s, id, &o))
		return "";
	if (o.type) { /* the session's name table may move: the report keeps a copy */
		char buf[512];
		return det_str(c, "%s", ga_heap_type_label(c->s, &o, buf, sizeof(buf)));
	}
	if (c->refs && id < c->refs->nobjs && c->refs->o_type[id]) {
		const struct ga_type *t = ga_dwarf_type(c->refs->dw, c->refs->o_type[id]);
		if (t && t->name)
			return c->refs->o_how[id] == DET_O_ELEMS ? det_str(c, "[]%s", t->name) : t->name;
	}
	return "";
}

const char *det_severity(uint64_t waste)
{
	if (waste >= 64ull << 20)
		return "high";
	if (waste >= 1ull << 20)
		return "medium";
	return "low";
}

struct ga_error *det_dom_intervals(struct det_ctx *c)
{
	if (c->dom_pre)
		return NULL;
	struct ga_error *err = ga_heap_dominators(c->s);
	if (err)
		return err;
	size_t n = ga_heap_nnodes(c->s);
	c->dom_pre = malloc((n ? n : 1) * 4);
	c->dom_end = malloc((n ? n : 1) * 4);
	c->dom_order = malloc((n ? n : 1) * 4);
	uint32_t *stk = malloc((n ? n : 1) * 4);
	uint32_t *pos = malloc((n ? n : 1) * 4);
	if (!c->dom_pre || !c->dom_end || !c->dom_order || !stk || !pos) {
		free(stk), free(pos);
		return &ga_error_nomem;
	}
	memset(c->dom_pre, 0xff, n * 4);
	memset(c->dom_end, 0xff, n * 4);
	uint32_t counter = 0, sp = 0;
	if (n) {
		stk[sp] = 0;
		pos[sp++] = 0;
		c->dom_order[counter] = 0;
		c->dom_pre[0] = counter++;
	}
	while (sp) {
		uint32_t v = stk[sp - 1];
		const ga_node *kids;
		size_t nk;
		if ((err = ga_heap_dom_children(c->s, v, &kids, &nk)))
			break;
		if (pos[sp - 1] < nk) {
			uint32_t w = kids[pos[sp - 1]++];
			if (w >= n || c->dom_pre[w] != UINT32_MAX || sp >= n)
				continue;
			c->dom_order[counter] = w;
			c->dom_pre[w] = counter++;
			stk[sp] = w;
			pos[sp++] = 0;
		} else {
			c->dom_end[v] = counter;
			sp--;
		}
	}
	free(stk);
	free(pos);
	return err;
}

struct ga_error *det_refs_get(struct det_ctx *c, struct det_refs **out)
{
	if (!c->refs_done) {
		c->refs_done = true;
		uint64_t floor = c->opt->min_waste < 4096 ? c->opt->min_waste : 4096;
		c->refs_err = det_refs_build(c->s, c->rt, floor, &c->refs);
	}
	*out = c->refs;
	if (c->refs_err)
		return c->refs_err == &ga_error_nomem
			       ? &ga_error_nomem
			       : ga_error_create(c->refs_err->code, "%s", c->refs_err->message);
	return NULL;
}

struct ga_error *det_other_holder(struct det_ctx *c, ga_node x, uint64_t obj, ga_node *out,
				  uint32_t *ncons, ga_node *cons_root)
{
	struct ga_session *s = c->s;
	size_t nn = ga_heap_nnodes(s);
	*out = UINT32_MAX;
	*ncons = 0;
	*cons_root = UINT32_MAX;
	struct ga_error *err = det_dom_intervals(c);
	if (err)
		return err;
	GA_VEC(ga_node) queue = {0};
	struct ga_hash seen;
	ga_hash_init(&seen);
	if (ga_vec_push(&queue, x) || ga_hash_put(&seen, x, 1))
		err = &ga_error_nomem;
	for (size_t qh = 0; !err && qh < queue.len && *out == UINT32_MAX; qh++) {
		const ga_node *pred;
		size_t np;
		ga_heap_pred(s, queue.v[qh], &pred, &np);
		for (size_t i = 0; i < np && *out == UINT32_MAX; i++) {
			ga_node p = pred[i];
			if (p == 0 || p >= nn || det_dominates(c, x, p) || ga_hash_get(&seen, p, NULL))
				continue;
			if (ga_hash_put(&seen, p, 1)) {
				err = &ga_error_nomem;
				break;
			}
			long ri = ga_heap_node_root(s, p);
			if (ri < 0) {
				if (ga_vec_push(&queue, p))
					err = &ga_error_nomem;
				continue;
			}
			struct ga_root rt;
			if (!ga_heap_root(s, (size_t)ri, &rt))
				continue;
			if ((rt.kind == GA_ROOT_FINALIZER || rt.kind == GA_ROOT_CLEANUP) && rt.obj == obj)
				continue;
			if (!det_holds(c, p, queue.v[qh]))
				continue; /* a stale word: the stack maps say it is dead */
			if (rt.conservative && (rt.kind == GA_ROOT_STACK || rt.kind == GA_ROOT_FRAME)) {
				if (!(*ncons)++)
					*cons_root = p;
				continue;
			}
			*out = p;
		}
	}
	ga_vec_free(&queue);
	ga_hash_free(&seen);
	return err;
}

/* Marks (with m) everything reachable from queue[0 .. qt) through det_succ
 * that is not marked yet; adds the object bytes to *bytes if not NULL. */
static void flood(struct det_ctx *c, uint8_t *mark, ga_node *queue, size_t qt, uint8_t m, uint64_t *bytes)
{
	size_t nn = ga_heap_nnodes(c->s);
	while (qt) {
		ga_node v = queue[--qt];
		struct ga_object o;
		ga_obj id = ga_heap_node_obj(c->s, v);
		if (bytes && id != GA_NO_OBJ && ga_heap_object(c->s, id, &o))
			*bytes += o.size;
		const ga_node *succ;
		size_t ns;
		det_succ(c, v, &succ, &ns);
		for (size_t i = 0; i < ns; i++)
			if (succ[i] < nn && !mark[succ[i]]) {
				mark[succ[i]] = m;
				queue[qt++] = succ[i];
			}
	}
}

struct ga_error *det_exclusive_bytes(struct det_ctx *c, ga_node x, uint64_t obj, uint64_t *out)
{
	struct ga_session *s = c->s;
	size_t nn = ga_heap_nnodes(s), nr = ga_heap_nroots(s);
	*out = 0;
	uint8_t *mark = calloc(nn ? nn : 1, 1);
	ga_node *queue = malloc((nn ? nn : 1) * sizeof(*queue));
	if (!mark || !queue) {
		free(mark);
		free(queue);
		return &ga_error_nomem;
	}
	size_t qt = 0;
	/* 1: everything the other roots reach without passing through x */
	if (x < nn)
		mark[x] = 2;
	for (size_t r = 0; r < nr; r++) {
		struct ga_root rt;
		ga_node rn = ga_heap_node_of_root(s, r);
		if (rn >= nn || mark[rn] || !ga_heap_root(s, r, &rt) ||
		    ((rt.kind == GA_ROOT_FINALIZER || rt.kind == GA_ROOT_CLEANUP) && rt.obj == obj))
			continue;
		mark[rn] = 1;
		queue[qt++] = rn;
	}
	flood(c, mark, queue, qt, 1, NULL);
	/* 2: what x reaches that nothing else does */
	if (x < nn) {
		mark[x] = 3;
		queue[0] = x;
		flood(c, mark, queue, 1, 3, out);
	}
	free(mark);
	free(queue);
	return NULL;
}

const struct ga_frame *det_user_frame(const struct ga_goroutine *g)
{
	for (size_t i = 0; i < g->nframes; i++) {
		const char *f = g->frames[i].function;
		if (f && strncmp(f, "runtime.", 8) && strncmp(f, "sync.", 5) && strncmp(f, "internal/", 9) &&
		    strncmp(f, "time.", 5))
			return &g->frames[i];
	}
	return g->nframes ? &g->frames[0] : NULL;
}

void det_set_group(struct ga_finding *f, const struct ga_goroutine *ex)
{
	f->blocked_on = ex->blocked_on;
	f->wait_reason = ex->wait_reason;
	f->created_by = ex->created_by;
	f->example = ex;
	f->ratio = 1;
	const struct ga_frame *uf = det_user_frame(ex);
	if (uf) {
		f->location.function = uf->function;
		f->location.file = uf->file;
		f->location.line = uf->line;
		f->location.pc = uf->pc;
	}
}
