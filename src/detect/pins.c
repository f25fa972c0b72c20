/* References grouped by target: see pins.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "detect/pins.h"

#define MAX_PRED_SCAN (64ull << 20) /* bytes of one predecessor scanned for words */

/* Sort key of a reference: target object, then pointer, then index. */
struct ref_key {
	uint64_t target, ptr;
	uint32_t idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct ref_key *x = a, *y = b;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if (x->ptr != y->ptr)
		return x->ptr < y->ptr ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct win {
	uint64_t lo, hi;
};

static int win_cmp(const void *a, const void *b)
{
	const struct win *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The runtime's own map structures as the linker names them in DWARF:
 * classic hash<K,V> / bucket<K,V> / runtime.hmap, bmap, mapextra; Swiss
 * map<K,V> / table<K,V> / groupReference<K,V> and internal/runtime/maps.
 * Pointers of these types reach map storage, which
 * map_capacity_after_delete accounts for, not the slice detectors. */
/* Names the compiler and runtime give their own structures: maps' headers,
 * buckets, tables and groups (classic and Swiss, as DWARF and the type
 * descriptors spell them; "map" cannot be a package name and "noalg." is
 * the compiler's), and runtime types. */
static bool runtime_owned_name(const char *n)
{
	while (*n == '*' || *n == '[' || *n == ']' || (*n >= '0' && *n <= '9'))
		n++;
	static const char *const prefixes[] = {"hash<", "bucket<", "map<", "table<", "groupReference<",
					       "map.", "noalg.", "runtime.", "internal/runtime/"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(n, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool map_internal_type(const struct ga_dwarf *dw, ga_type_id id)
{
	const struct ga_type *t = ga_dwarf_type(dw, id);
	return t && t->name && runtime_owned_name(t->name);
}

static uint64_t ref_end(const struct det_ref *r)
{
	uint64_t n = r->kind == DET_REF_STRING ? r->len : r->len * r->elem_size;
	if (r->kind == DET_REF_PTR)
		n = r->elem_size;
	return r->ptr + n;
}

/* Words of [lo, hi) that point into the pin's object and are not typed
 * references: returns false (with *why) when one of them is untrusted. */
static bool check_words(struct det_ctx *c, struct det_refs *refs, struct det_pin *p, uint64_t lo,
			uint64_t hi, const uint64_t *mask, bool stack, const char **why)
{
	if (hi <= lo || hi - lo > MAX_PRED_SCAN)
		return true;
	uint64_t n = (hi - lo) / 8;
	for (uint64_t i = 0; i < n; i++) {
		if (mask && !(mask[i / 64] >> (i % 64) & 1))
			continue;
		uint64_t v;
		if (!ga_heap_read(c->s, lo + 8 * i, &v, 8) || v < p->addr || v >= p->addr + p->size)
			continue;
		if (det_refs_where(refs, lo + 8 * i) >= 0)
			continue;
		if (stack) {
			p->stack_words++;
			continue;
		}
		*why = det_str(c, "an untyped word at 0x%" PRIx64 " points to +%" PRIu64 ": its window is unknown",
			       lo + 8 * i, v - p->addr);
		return false;
	}
	return true;
}

static void check_preds(struct det_ctx *c, struct det_refs *refs, struct det_pin *p)
{
	struct ga_session *s = c->s;
	ga_node n = ga_heap_node_of_obj(s, p->target);
	const ga_node *pred;
	size_t np;
	ga_heap_pred(s, n, &pred, &np);
	for (size_t i = 0; i < np && !p->unsure; i++) {
		long ri = ga_heap_node_root(s, pred[i]);
		if (ri >= 0) {
			struct ga_root rt;
			ga_heap_root(s, (size_t)ri, &rt);
			switch (rt.kind) {
			case GA_ROOT_GLOBAL:
				check_words(c, refs, p, rt.addr, rt.addr + rt.size, NULL, false, &p->unsure);
				break;
			case GA_ROOT_STACK:
			case GA_ROOT_FRAME:
				check_words(c, refs, p, rt.addr, rt.addr + rt.size, NULL, true, &p->unsure);
				break;
			case GA_ROOT_TINY:
				break;
			default:
				p->unsure = det_str(c, "held by %s", rt.name);
				break;
			}
			continue;
		}
		ga_obj po = ga_heap_node_obj(s, pred[i]);
		struct ga_object o;
		const uint64_t *bits;
		uint64_t nw;
		/* garbage awaiting sweep pins nothing */
		if (po == GA_NO_OBJ || !ga_heap_object(s, po, &o) || !o.live)
			continue;
		if (!ga_heap_ptrmask(s, po, &bits, &nw)) {
			p->unsure = det_str(c, "the pointer map of 0x%" PRIx64 " is unreadable", o.addr);
			break;
		}
		/* the mask is only valid until the next call: copy it */
		uint64_t words = nw < o.size / 8 ? nw : o.size / 8;
		uint64_t *mask = malloc((words + 63) / 64 * 8 + 8);
		if (!mask) {
			c->oom = true;
			return;
		}
		memcpy(mask, bits, (words + 63) / 64 * 8);
		check_words(c, refs, p, o.addr, o.addr + words * 8, mask, false, &p->unsure);
		free(mask);
	}
}

struct ga_error *det_pins_get(struct det_ctx *c, struct det_pins **out)
{
	if (c->pins) {
		*out = c->pins;
		return NULL;
	}
	struct det_refs *refs;
	struct ga_error *err = det_refs_get(c, &refs);
	if (err)
		return err;
	struct det_pins *p = calloc(1, sizeof(*p));
	size_t nr = refs->refs.len;
	if (!p || !(p->order = malloc((nr ? nr : 1) * 4))) {
		free(p);
		return &ga_error_nomem;
	}
	c->pins = p;
	struct ref_key *keys = malloc((nr ? nr : 1) * sizeof(*keys));
	if (!keys)
		return &ga_error_nomem;
	for (size_t i = 0; i < nr; i++)
		keys[i] = (struct ref_key){refs->refs.v[i].target, refs->refs.v[i].ptr, (uint32_t)i};
	ga_sort(keys, nr, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < nr; i++)
		p->order[i] = keys[i].idx;
	free(keys);
	struct win *wins = malloc((nr ? nr : 1) * sizeof(*wins));
	if (!wins)
		return &ga_error_nomem;
	for (size_t i = 0; i < nr;) {
		size_t j = i;
		ga_obj t = refs->refs.v[p->order[i]].target;
		while (j < nr && refs->refs.v[p->order[j]].target == t)
			j++;
		struct ga_object o;
		if (!ga_heap_object(c->s, t, &o)) {
			i = j;
			continue;
		}
		struct det_pin pin = {.target = t, .addr = o.addr, .size = o.size,
				      .data = o.addr + (o.typed_by == GA_TYPED_HEADER ? 8 : 0),
				      .first = (uint32_t)i, .n = (uint32_t)(j - i)};
		/* the runtime's own objects (a p, a map's groups) are not the program's leaks */
		pin.map_storage = o.type && runtime_owned_name(ga_heap_type_name(c->s, o.type));
		size_t nw = 0;
		for (size_t k = i; k < j; k++) {
			const struct det_ref *r = &refs->refs.v[p->order[k]];
			pin.strings |= r->kind == DET_REF_STRING;
			pin.slices |= r->kind == DET_REF_SLICE;
			pin.ptrs |= r->kind == DET_REF_PTR;
			pin.map_storage |= map_internal_type(refs->dw, r->type);
			uint64_t hi = ref_end(r);
			if (hi > o.addr + o.size)
				hi = o.addr + o.size;
			if (hi > r->ptr)
				wins[nw++] = (struct win){r->ptr, hi};
		}
		ga_sort(wins, nw, sizeof(*wins), win_cmp);
		uint64_t cur_lo = 0, cur_hi = 0;
		for (size_t k = 0; k < nw; k++) {
			if (wins[k].lo > cur_hi) {
				pin.covered += cur_hi - cur_lo;
				cur_lo = wins[k].lo;
				cur_hi = wins[k].hi;
			} else if (wins[k].hi > cur_hi) {
				cur_hi = wins[k].hi;
			}
		}
		pin.covered += cur_hi - cur_lo;
		if (ga_vec_push(&p->v, pin)) {
			free(wins);
			return &ga_error_nomem;
		}
		i = j;
	}
	free(wins);
	*out = p;
	return NULL;
}

void det_pins_free(struct det_pins *p)
{
	if (!p)
		return;
	ga_vec_free(&p->v);
	free(p->order);
	free(p);
}

/* Lazily: only candidates pay for the check of every pointer into them. */
static void ensure_checked(struct det_ctx *c, struct det_pin *p)
{
	if (p->checked)
		return;
	p->checked = true;
	check_preds(c, c->refs, p);
}

const struct det_ref *det_pin_main_ref(struct det_ctx *c, const struct det_pin *p)
{
	struct det_refs *refs = c->refs;
	const struct det_ref *best = NULL;
	for (uint32_t k = 0; k < p->n; k++) {
		const struct det_ref *r = &refs->refs.v[c->pins->order[p->first + k]];
		uint32_t root = det_refs_root_of(refs, r->origin);
		if (root != UINT32_MAX && (!best || r->len < best->len))
			best = r;
	}
	if (!best && p->n)
		best = &refs->refs.v[c->pins->order[p->first]];
	ensure_checked(c, (struct det_pin *)p);
	return best;
}

void det_pin_describe(struct det_ctx *c, struct ga_finding *f, const struct det_pin *p,
		      const struct det_ref *main)
{
	struct det_refs *refs = c->refs;
	char buf[1024];
	if (main) {
		f->holder = det_str(c, "%s", det_refs_path(refs, main->origin, main->off, buf, sizeof(buf)));
		uint32_t root = det_refs_root_of(refs, main->origin);
		uint64_t goid, pc;
		if (root != UINT32_MAX && det_refs_origin_frame(refs, root, &goid, &pc)) {
			const struct ga_goroutine *g = ga_goroutine_find(c->gs, goid);
			for (size_t i = 0; g && i < g->nframes; i++)
				if (g->frames[i].pc == pc && !g->frames[i].inlined) {
					f->location.function = g->frames[i].function;
					f->location.file = g->frames[i].file;
					f->location.line = g->frames[i].line;
					f->location.pc = pc;
					break;
				}
		}
	}
	f->retained_bytes = ga_heap_retained(c->s, ga_heap_node_of_obj(c->s, p->target));
	if (f->retained_bytes < p->size)
		f->retained_bytes = p->size;
	size_t n = 1 + (p->n < 8 ? p->n : 8);
	struct ga_finding_object *objs = det_alloc(c, n * sizeof(*objs));
	if (!objs)
		return;
	objs[0] = (struct ga_finding_object){.addr = p->addr, .size = p->size,
					     .type = det_obj_type(c, p->target),
					     .role = p->strings ? "string data" : "backing array",
					     .len = p->covered};
	for (size_t k = 1; k < n; k++) {
		const struct det_ref *r = &refs->refs.v[c->pins->order[p->first + k - 1]];
		const struct ga_type *t = ga_dwarf_type(refs->dw, r->type);
		objs[k] = (struct ga_finding_object){
			.addr = r->where, .size = r->kind == DET_REF_PTR ? 8 : r->kind == DET_REF_STRING ? 16 : 24,
			.type = t && t->name ? t->name : "",
			.role = r->kind == DET_REF_PTR ? "pointer" : r->kind == DET_REF_STRING ? "string header"
											   : "slice header",
			.holder = det_str(c, "%s", det_refs_path(refs, r->origin, r->off, buf, sizeof(buf))),
			.offset = r->ptr - p->addr, .len = ref_end(r) - r->ptr};
	}
	f->objects = objs;
	f->nobjects = n;
	if (p->stack_words)
		f->evidence = det_str(c, "%" PRIu64 " untyped stack word%s also point%s into it", p->stack_words,
				      p->stack_words == 1 ? "" : "s", p->stack_words == 1 ? "s" : "");
}
