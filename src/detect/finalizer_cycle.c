/* finalizer_cycle (pattern 7): an object with a finalizer that can reach
 * itself is never finalized, so neither it nor what it reaches is ever
 * freed; likewise an object whose cleanup (function or argument) reaches
 * the object. Only objects nothing but their own special keeps alive are
 * reported (the special's root dominates them): a cycle still in use is not
 * a leak yet. The path back to the object is the shortest one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

#define NONE UINT32_MAX
#define MAX_CYCLE 16
/* Whole-graph walks per cycle found (who else holds it, what only it keeps
 * alive) for the first cycles; the dominator tree answers for the rest. */
#define MAX_PRECISE_CYCLES 64

struct ga_error *det_finalizer_cycle(struct det_ctx *c)
{
	struct ga_session *s = c->s;
	size_t nn = ga_heap_nnodes(s), nr = ga_heap_nroots(s);
	uint32_t *parent = NULL, *queue = NULL, *touched = NULL;
	struct ga_error *err = NULL;
	/* the searches from every finalizer together touch at most a few times
	 * the graph: a core with many finalizers on a big shared structure
	 * must not take quadratic time */
	uint64_t budget = 4 * (uint64_t)nn + (1u << 20), ncycles = 0;
	for (size_t r = 0; r < nr && !c->oom; r++) {
		struct ga_root rt;
		if (!ga_heap_root(s, r, &rt))
			continue;
		bool fin = rt.kind == GA_ROOT_FINALIZER && rt.weak;
		if (!fin && rt.kind != GA_ROOT_CLEANUP)
			continue;
		ga_obj xo = ga_heap_find(s, rt.obj);
		if (xo == GA_NO_OBJ)
			continue;
		ga_node rn = ga_heap_node_of_root(s, r), x = ga_heap_node_of_obj(s, xo);
		if (!parent) {
			parent = malloc((nn ? nn : 1) * 4);
			queue = malloc((nn ? nn : 1) * 4);
			touched = malloc((nn ? nn : 1) * 4);
			if (!parent || !queue || !touched) {
				err = &ga_error_nomem;
				break;
			}
			memset(parent, 0xff, nn * 4);
		}
		/* BFS from what the object (finalizer) or the cleanup (function,
		 * argument) points to, looking for the object */
		size_t qh = 0, qt = 0, nt = 0;
		ga_node start = fin ? x : rn;
		const ga_node *succ;
		size_t ns;
		ga_heap_succ(s, start, &succ, &ns);
		for (size_t e = 0; e < ns; e++)
			if (parent[succ[e]] == NONE && (succ[e] != x || !fin)) {
				parent[succ[e]] = start;
				touched[nt++] = succ[e];
				queue[qt++] = succ[e];
			}
		bool found = !fin && parent[x] != NONE;
		while (qh < qt && !found) {
			ga_node v = queue[qh++];
			ga_heap_succ(s, v, &succ, &ns);
			for (size_t e = 0; e < ns && !found; e++) {
				ga_node w = succ[e];
				if (w == x) {
					if (parent[x] == NONE)
						touched[nt++] = x;
					parent[x] = v;
					found = true;
				} else if (parent[w] == NONE) {
					parent[w] = v;
					touched[nt++] = w;
					queue[qt++] = w;
				}
			}
		}
		struct ga_finding_object objs[MAX_CYCLE + 1];
		size_t no = 0;
		if (found) {
			/* x <- ... <- start: collect the path backwards */
			ga_node path[MAX_CYCLE];
			size_t np = 0;
			for (ga_node v = parent[x]; v != NONE && v != start && np < MAX_CYCLE; v = parent[v])
				path[np++] = v;
			struct ga_object o;
			ga_heap_object(s, xo, &o);
			objs[no++] = (struct ga_finding_object){.addr = o.addr, .size = o.size,
								.type = det_obj_type(c, xo),
								.role = fin ? "object with finalizer" : "object with cleanup"};
			while (np && no < MAX_CYCLE + 1) {
				ga_obj po = ga_heap_node_obj(s, path[--np]);
				if (po == GA_NO_OBJ || !ga_heap_object(s, po, &o))
					continue;
				objs[no++] = (struct ga_finding_object){.addr = o.addr, .size = o.size,
									.type = det_obj_type(c, po), .role = "cycle"};
			}
		}
		for (size_t k = 0; k < nt; k++)
			parent[touched[k]] = NONE;
		if (nt >= budget) {
			err = ga_error_create(GA_ERR_CORRUPT, "stopped at finalizer %zu of %zu roots: search budget spent", r,
					      nr);
			break;
		}
		budget -= nt;
		if (!found)
			continue;
		/* something else may keep it alive: then it is not leaked (yet) */
		ga_node other = NONE, cons = NONE;
		uint32_t ncons = 0;
		bool precise = ncycles++ < MAX_PRECISE_CYCLES;
		if (precise && (err = det_other_holder(c, x, rt.obj, &other, &ncons, &cons)))
			break;
		if (!precise) {
			if ((err = det_dom_intervals(c)))
				break;
			if (!det_dominates(c, rn, x))
				other = ga_heap_idom(s, x);
		}
		struct ga_finding *f = det_add(c, "finalizer_cycle");
		if (!f)
			break;
		char lbuf[256];
		if (other != NONE)
			f->suppressed = det_str(c, "still reachable from %s: never finalized, but not leaked yet",
						ga_heap_node_label(s, other, lbuf, sizeof(lbuf)));
		const char *tn = objs[0].type && *objs[0].type ? objs[0].type : "object";
		if (!precise)
			f->waste_bytes = ga_heap_retained(s, x);
		else if ((err = det_exclusive_bytes(c, x, rt.obj, &f->waste_bytes)))
			break;
		f->retained_bytes = ga_heap_retained(s, rn);
		if (f->retained_bytes < f->waste_bytes)
			f->retained_bytes = f->waste_bytes;
		f->ratio = 1;
		f->severity = f->waste_bytes >= (64ull << 20) ? "high" : "medium";
		f->holder = det_str(c, "%s (runtime special) on *%s 0x%" PRIx64, fin ? "finalizer" : "cleanup", tn,
				    objs[0].addr);
		struct ga_strbuf sb;
		ga_sb_init(&sb);
		for (size_t k = 0; k < no; k++)
			ga_sb_printf(&sb, "%s%s", k ? " -> " : "", objs[k].type && *objs[k].type ? objs[k].type : "?");
		ga_sb_printf(&sb, " -> %s", tn);
		if (ncons)
			ga_sb_printf(&sb, "; also %u untyped word%s of %s (conservative scan, most likely stale)",
				     ncons, ncons == 1 ? "" : "s", ga_heap_node_label(s, cons, lbuf, sizeof(lbuf)));
		f->evidence = det_str(c, "%s reaches its object: %s", fin ? "the object" : "the cleanup's function or argument",
				      ga_sb_str(&sb));
		ga_sb_free(&sb);
		f->title = det_str(c, "*%s with a %s can reach itself and is never freed", tn, fin ? "finalizer" : "cleanup");
		if (rt.pc) {
			f->location.pc = rt.pc;
		}
		det_set_objects(c, f, objs, no);
	}
	free(parent);
	free(queue);
	free(touched);
	return err;
}
