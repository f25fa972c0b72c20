/* Precise goroutine stack roots: see stackroots.h. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "detect/stackroots.h"
#include "rt/goroutine.h"
#include "rt/stackmap.h"
#include "rt/unwind.h"

#define MAX_SCAN_BYTES (64ull << 20) /* one stack object or range */

struct pair {
	ga_node node;
	const char *func;
};

static bool add_word(struct det_ctx *c, struct det_stackroots *sr, uint64_t addr, const char *func,
		     uint64_t frame_sp)
{
	if (ga_vec_push(&sr->words, addr) || ga_vec_push(&sr->wframe, frame_sp))
		return false;
	uint64_t v;
	if (!ga_mem_u64(c->rt->mem, addr, &v))
		return true;
	ga_obj o = ga_heap_find(c->s, v);
	if (o == GA_NO_OBJ)
		return true;
	return !ga_vec_push(&sr->nodes, ga_heap_node_of_obj(c->s, o)) && !ga_vec_push(&sr->funcs, func);
}

static bool add_range(struct det_ctx *c, struct det_stackroots *sr, uint64_t lo, uint64_t hi,
		      const uint8_t *mask, const char *func, uint64_t frame_sp)
{
	if (hi <= lo || hi - lo > MAX_SCAN_BYTES)
		return true;
	for (uint64_t i = 0; lo + 8 * i + 8 <= hi; i++)
		if ((!mask || (mask[i / 8] >> (i % 8) & 1)) && !add_word(c, sr, lo + 8 * i, func, frame_sp))
			return false;
	return true;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	return x->node < y->node ? -1 : x->node > y->node;
}

static uint64_t frame_sp(const struct rt_stack *st, uint32_t frame)
{
	return frame < st->frames.len ? st->frames.v[frame].sp : 0;
}

/* The function a physical frame belongs to (its outermost logical frame). */
static const char *frame_func(struct det_ctx *c, const struct rt_stack *st, uint32_t frame)
{
	if (frame >= st->frames.len || !st->frames.v[frame].nlogical)
		return NULL;
	const struct rt_frame *f = &st->frames.v[frame];
	return rt_frame_logical(c->unwinder, f, f->nlogical - 1)->name;
}

static int node_cmp(const void *a, const void *b)
{
	ga_node x = *(const ga_node *)a, y = *(const ga_node *)b;
	return x < y ? -1 : x > y;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One goroutine's targets appended to sr->nodes; false when its stack maps
 * could not be used (the caller drops what was appended). */
static bool one(struct det_ctx *c, struct det_stackroots *sr, const struct rt_g *g, struct rt_stack *st,
		struct rt_roots *roots, struct ga_error **err)
{
	rt_roots_reset(roots);
	if ((*err = rt_unwind_g(c->unwinder, g, RT_UNWIND_GC, st)))
		return false;
	if (st->error[0] || !st->complete || !st->frames.len)
		return false;
	if ((*err = rt_stack_roots(c->unwinder, st, roots)))
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < roots->slots.len; i++)
		ok = add_word(c, sr, roots->slots.v[i].addr, frame_func(c, st, roots->slots.v[i].frame),
			      frame_sp(st, roots->slots.v[i].frame));
	for (size_t i = 0; ok && i < roots->objects.len; i++) {
		const struct rt_root_object *o = &roots->objects.v[i];
		uint64_t n = o->ptrdata < o->size ? o->ptrdata : o->size;
		ok = add_range(c, sr, o->addr, o->addr + n, o->gcprog ? NULL : roots->masks.v + o->mask_off,
			       frame_func(c, st, o->frame), frame_sp(st, o->frame));
	}
	for (size_t i = 0; ok && i < roots->ranges.len; i++)
		ok = add_range(c, sr, roots->ranges.v[i].lo, roots->ranges.v[i].hi, NULL,
			       frame_func(c, st, roots->ranges.v[i].frame), frame_sp(st, roots->ranges.v[i].frame));
	/* g.sched.ctxt and registers of a running goroutine: not slots; the
	 * closure context of a parked goroutine is in its frames already */
	if (!ok)
		*err = &ga_error_nomem;
	return ok;
}

/* Sorts words[wmark..] by address, wframe alongside. */
static bool sort_words(struct det_stackroots *sr, size_t wmark)
{
	size_t n = sr->words.len - wmark;
	struct wpair {
		uint64_t addr, sp;
	} *v = malloc(n * sizeof(*v));
	if (!v)
		return true;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct wpair){sr->words.v[wmark + i], sr->wframe.v[wmark + i]};
	ga_sort(v, n, sizeof(*v), u64_cmp); /* by addr: the first member */
	for (size_t i = 0; i < n; i++) {
		sr->words.v[wmark + i] = v[i].addr;
		sr->wframe.v[wmark + i] = v[i].sp;
	}
	free(v);
	return false;
}

struct ga_error *det_stackroots_build(struct det_ctx *c, struct det_stackroots **out)
{
	*out = NULL;
	struct det_stackroots *sr = calloc(1, sizeof(*sr));
	if (!sr)
		return &ga_error_nomem;
	ga_hash_init(&sr->by_goid);
	struct ga_error *err = NULL;
	if (!c->unwinder || !c->rgs) {
		*out = sr;
		return NULL;
	}
	struct rt_stack st = {0};
	struct rt_roots roots = {0};
	for (size_t i = 0; i < c->nrgs && !err; i++) {
		const struct rt_g *g = &c->rgs[i];
		if (!g->readable || rt_g_is_dead(c->rt, g))
			continue;
		size_t mark = sr->nodes.len, wmark = sr->words.len;
		if (!one(c, sr, g, &st, &roots, &err)) {
			sr->nodes.len = mark;
			sr->funcs.len = mark;
			sr->words.len = sr->wframe.len = wmark;
			sr->fallback++;
			continue;
		}
		if (sr->words.len > wmark && sort_words(sr, wmark)) {
			err = &ga_error_nomem;
			break;
		}
		/* sorted and unique: det_holds searches them; the innermost
		 * frame's function is kept for a node several frames hold */
		size_t n = sr->nodes.len - mark, k = 0;
		struct pair *pv = malloc((n ? n : 1) * sizeof(*pv));
		if (!pv) {
			err = &ga_error_nomem;
			break;
		}
		for (size_t j = 0; j < n; j++)
			pv[j] = (struct pair){sr->nodes.v[mark + j], sr->funcs.v[mark + j]};
		if (n)
			ga_sort(pv, n, sizeof(*pv), pair_cmp); /* not stable: func may be any holder's */
		for (size_t j = 0; j < n; j++)
			if (!k || sr->nodes.v[mark + k - 1] != pv[j].node) {
				sr->nodes.v[mark + k] = pv[j].node;
				sr->funcs.v[mark + k] = pv[j].func;
				k++;
			}
		free(pv);
		sr->nodes.len = sr->funcs.len = mark + k;
		if (ga_vec_push(&sr->first, (uint32_t)mark) || ga_vec_push(&sr->wfirst, (uint32_t)wmark) ||
		    ga_hash_put(&sr->by_goid, g->goid + 1, sr->first.len - 1))
			err = &ga_error_nomem;
		sr->precise++;
	}
	if (!err && (ga_vec_push(&sr->first, (uint32_t)sr->nodes.len) ||
		     ga_vec_push(&sr->wfirst, (uint32_t)sr->words.len)))
		err = &ga_error_nomem;
	/* first[k + 1] must end goroutine k: the pushes above are in order, so
	 * first[] holds the starts and one final end */
	rt_stack_free(&st);
	rt_roots_free(&roots);
	if (err) {
		det_stackroots_free(sr);
		return err;
	}
	*out = sr;
	return NULL;
}

void det_stackroots_free(struct det_stackroots *sr)
{
	if (!sr)
		return;
	ga_hash_free(&sr->by_goid);
	ga_vec_free(&sr->first);
	ga_vec_free(&sr->nodes);
	ga_vec_free(&sr->funcs);
	ga_vec_free(&sr->wfirst);
	ga_vec_free(&sr->words);
	ga_vec_free(&sr->wframe);
	free(sr);
}

/* The precise targets of root node v, false when the graph's are to be used. */
static bool targets(struct det_ctx *c, ga_node v, const ga_node **out, size_t *n)
{
	if (!c->stackroots)
		return false;
	long ri = ga_heap_node_root(c->s, v);
	struct ga_root rt;
	uint64_t k;
	if (ri < 0 || !ga_heap_root(c->s, (size_t)ri, &rt) || !rt.conservative ||
	    (rt.kind != GA_ROOT_STACK && rt.kind != GA_ROOT_FRAME) ||
	    !ga_hash_get(&c->stackroots->by_goid, rt.goid + 1, &k) || k + 1 >= c->stackroots->first.len)
		return false;
	uint32_t a = c->stackroots->first.v[k], b = c->stackroots->first.v[k + 1];
	*out = c->stackroots->nodes.v + a;
	*n = b - a;
	return true;
}

void det_succ(struct det_ctx *c, ga_node v, const ga_node **out, size_t *n)
{
	if (!targets(c, v, out, n))
		ga_heap_succ(c->s, v, out, n);
}

bool det_holds(struct det_ctx *c, ga_node p, ga_node x)
{
	const ga_node *v;
	size_t n;
	if (!targets(c, p, &v, &n))
		return true; /* the graph says so */
	return bsearch(&x, v, n, sizeof(*v), node_cmp) != NULL;
}

int det_stack_word_owner(struct det_ctx *c, uint64_t goid, uint64_t addr, uint64_t *fsp)
{
	struct det_stackroots *sr = c->stackroots;
	uint64_t k;
	*fsp = 0;
	if (!sr || !ga_hash_get(&sr->by_goid, goid + 1, &k) || k + 1 >= sr->wfirst.len)
		return -1;
	uint32_t a = sr->wfirst.v[k], b = sr->wfirst.v[k + 1];
	const uint64_t *p = bsearch(&addr, sr->words.v + a, b - a, 8, u64_cmp);
	if (!p)
		return 0;
	*fsp = sr->wframe.v[p - sr->words.v];
	return 1;
}

int det_stack_word_live(struct det_ctx *c, uint64_t goid, uint64_t addr)
{
	uint64_t fsp;
	return det_stack_word_owner(c, goid, addr, &fsp);
}

const char *det_stack_holder(struct det_ctx *c, uint64_t goid, ga_node x)
{
	struct det_stackroots *sr = c->stackroots;
	uint64_t k;
	if (!sr || !ga_hash_get(&sr->by_goid, goid + 1, &k) || k + 1 >= sr->first.len)
		return NULL;
	uint32_t a = sr->first.v[k], b = sr->first.v[k + 1];
	const ga_node *p = bsearch(&x, sr->nodes.v + a, b - a, sizeof(x), node_cmp);
	return p ? sr->funcs.v[p - sr->nodes.v] : NULL;
}
