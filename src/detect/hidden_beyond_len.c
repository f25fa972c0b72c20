/* hidden_beyond_len (pattern 3): pointer slots of a backing array that no
 * slice can see - past len ([len, cap)) or before the first window - keep
 * objects alive that nothing else reaches. Waste is dominator-based: of
 * the objects the array dominates, those no visible slot leads to. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/pins.h"

struct hwin {
	uint64_t lo, hi;
};

static bool in_wins(const struct hwin *w, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= w[i].lo && a < w[i].hi)
			return true;
	return false;
}

struct ga_error *det_hidden_beyond_len(struct det_ctx *c)
{
	struct det_pins *ps;
	struct ga_error *err = det_pins_get(c, &ps);
	if (err)
		return err;
	struct ga_session *s = c->s;
	size_t nn = ga_heap_nnodes(s);
	uint32_t *stamp = NULL, *queue = NULL;
	uint64_t *mask = NULL;
	struct hwin *wins = NULL;
	for (size_t i = 0; i < ps->v.len && !c->oom; i++) {
		const struct det_pin *p = &ps->v.v[i];
		if (!p->slices || p->map_storage)
			continue;
		bool hidden_range = false;
		for (uint32_t k = 0; k < p->n; k++) {
			const struct det_ref *r = &c->refs->refs.v[ps->order[p->first + k]];
			hidden_range |= r->kind == DET_REF_SLICE && (r->len < r->cap || r->ptr > p->data);
		}
		if (!hidden_range)
			continue;
		const uint64_t *bits;
		uint64_t nw;
		if (!ga_heap_ptrmask(s, p->target, &bits, &nw) || !nw)
			continue;
		uint64_t words = nw < p->size / 8 ? nw : p->size / 8;
		free(mask);
		mask = malloc((words + 63) / 64 * 8 + 8);
		free(wins);
		wins = malloc((p->n ? p->n : 1) * sizeof(*wins));
		if (!mask || !wins) {
			err = &ga_error_nomem;
			break;
		}
		memcpy(mask, bits, (words + 63) / 64 * 8);
		size_t nwin = 0;
		for (uint32_t k = 0; k < p->n; k++) {
			const struct det_ref *r = &c->refs->refs.v[ps->order[p->first + k]];
			uint64_t len = r->kind == DET_REF_STRING ? r->len : r->len * r->elem_size;
			if (r->kind == DET_REF_PTR)
				len = r->elem_size;
			wins[nwin++] = (struct hwin){r->ptr, r->ptr + len};
		}
		/* hidden words that lead somewhere */
		size_t nhidden = 0;
		for (uint64_t w = 0; w < words; w++) {
			uint64_t a = p->addr + 8 * w, v;
			if (!(mask[w / 64] >> (w % 64) & 1) || in_wins(wins, nwin, a) ||
			    !ga_heap_read(s, a, &v, 8) || ga_heap_find(s, v) == GA_NO_OBJ)
				continue;
			nhidden++;
		}
		if (!nhidden)
			continue;
		if ((err = det_dom_intervals(c)))
			break;
		if (!stamp) {
			stamp = calloc(nn ? nn : 1, 4);
			queue = malloc((nn ? nn : 1) * 4);
			if (!stamp || !queue) {
				err = &ga_error_nomem;
				break;
			}
		}
		ga_node tn = ga_heap_node_of_obj(s, p->target);
		if (c->dom_pre[tn] == UINT32_MAX)
			continue;
		uint32_t st = (uint32_t)i + 1, ql = 0;
		stamp[tn] = st;
		/* what the visible slots still reach inside the array's dominator subtree */
		for (uint64_t w = 0; w < words; w++) {
			uint64_t a = p->addr + 8 * w, v;
			if (!(mask[w / 64] >> (w % 64) & 1) || !in_wins(wins, nwin, a) || !ga_heap_read(s, a, &v, 8))
				continue;
			ga_obj o = ga_heap_find(s, v);
			if (o == GA_NO_OBJ)
				continue;
			ga_node x = ga_heap_node_of_obj(s, o);
			if (stamp[x] != st && det_dominates(c, tn, x)) {
				stamp[x] = st;
				queue[ql++] = x;
			}
		}
		while (ql) {
			ga_node v = queue[--ql];
			const ga_node *succ;
			size_t ns;
			ga_heap_succ(s, v, &succ, &ns);
			for (size_t e = 0; e < ns; e++) {
				ga_node x = succ[e];
				if (stamp[x] != st && det_dominates(c, tn, x)) {
					stamp[x] = st;
					queue[ql++] = x;
				}
			}
		}
		uint64_t waste = 0, nobj = 0;
		ga_node biggest = GA_NO_NODE;
		uint64_t bigsize = 0;
		for (uint32_t k = c->dom_pre[tn] + 1; k < c->dom_end[tn]; k++) {
			ga_node x = c->dom_order[k];
			struct ga_object o;
			if (stamp[x] == st || !ga_heap_object(s, ga_heap_node_obj(s, x), &o))
				continue;
			waste += o.size;
			nobj++;
			if (o.size > bigsize) {
				bigsize = o.size;
				biggest = x;
			}
		}
		if (!waste)
			continue;
		const struct det_ref *main = det_pin_main_ref(c, p);
		struct ga_finding *f = det_add(c, "hidden_beyond_len");
		if (!f)
			break;
		f->waste_bytes = waste;
		det_pin_describe(c, f, p, main);
		f->ratio = f->retained_bytes ? (double)waste / (double)f->retained_bytes : 1;
		f->severity = det_severity(waste);
		if (main) {
			f->len = main->len;
			f->cap = main->cap;
			f->elem_size = main->elem_size;
		}
		f->title = det_str(c, "%zu slot%s past len (of cap %" PRIu64 ") keep %" PRIu64 " objects alive",
				   nhidden, nhidden == 1 ? "" : "s", main ? main->cap : 0, nobj);
		if (biggest != GA_NO_NODE && f->nobjects) {
			/* the largest hidden object, as an example */
			struct ga_finding_object *objs = det_alloc(c, (f->nobjects + 1) * sizeof(*objs));
			if (objs) {
				memcpy(objs, f->objects, f->nobjects * sizeof(*objs));
				struct ga_object o;
				ga_heap_object(s, ga_heap_node_obj(s, biggest), &o);
				objs[f->nobjects] = (struct ga_finding_object){
					.addr = o.addr, .size = o.size, .type = det_obj_type(c, o.id),
					.role = "hidden element target", .len = 0};
				f->objects = objs;
				f->nobjects++;
			}
		}
		if (p->unsure)
			f->suppressed = p->unsure;
	}
	free(stamp);
	free(queue);
	free(mask);
	free(wins);
	return err;
}
