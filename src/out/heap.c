#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "out/format.h"
#include "out/heap.h"

static const char *typed_by_name(uint8_t by)
{
	switch (by) {
	case GA_TYPED_HEADER: return "malloc header";
	case GA_TYPED_LARGETYPE: return "span largeType";
	case GA_TYPED_FINALIZER: return "finalizer";
	case GA_TYPED_DWARF: return "DWARF propagation";
	case GA_TYPED_ITAB: return "interface type word";
	default: return "untyped";
	}
}

const char *out_type_label(struct ga_session *s, const struct ga_object *o, char *buf, size_t n)
{
	return ga_heap_type_label(s, o, buf, n);
}

static json_t *obj_json(struct ga_session *s, const struct ga_object *o)
{
	char tb[256];
	json_t *j = json_object();
	json_object_set_new(j, "addr", out_json_addr(o->addr));
	json_object_set_new(j, "size", json_integer((json_int_t)o->size));
	json_object_set_new(j, "type", o->type ? json_string(ga_heap_type_name(s, o->type)) : json_null());
	json_object_set_new(j, "type_label", json_string(out_type_label(s, o, tb, sizeof(tb))));
	json_object_set_new(j, "typed_by", json_string(typed_by_name(o->typed_by)));
	json_object_set_new(j, "sizeclass", json_integer(o->sizeclass));
	json_object_set_new(j, "live", json_boolean(o->live));
	if (o->tiny)
		json_object_set_new(j, "tiny", json_true());
	if (o->fresh)
		json_object_set_new(j, "allocated_since_gc", json_true());
	return j;
}

static json_t *root_json(const struct ga_root *r)
{
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(r->name));
	json_object_set_new(j, "kind", json_string(ga_root_kind_name(r->kind)));
	json_object_set_new(j, "scan", json_string(r->conservative ? "conservative" : "precise"));
	if (r->weak)
		json_object_set_new(j, "weak", json_true());
	if (r->goid)
		json_object_set_new(j, "goid", json_integer((json_int_t)r->goid));
	if (r->obj)
		json_object_set_new(j, "object", out_json_addr(r->obj));
	json_object_set_new(j, "addr", out_json_addr(r->addr));
	return j;
}

/* A node as JSON: {"root": {...}} or {"object": {...}}. */
static json_t *node_json(struct ga_session *s, ga_node n)
{
	json_t *j = json_object();
	long ri = ga_heap_node_root(s, n);
	ga_obj id = ga_heap_node_obj(s, n);
	struct ga_root r;
	struct ga_object o;
	if (ri >= 0 && ga_heap_root(s, (size_t)ri, &r)) {
		json_object_set_new(j, "kind", json_string("root"));
		json_object_set_new(j, "root", root_json(&r));
	} else if (id != GA_NO_OBJ && ga_heap_object(s, id, &o)) {
		json_object_set_new(j, "kind", json_string("object"));
		json_object_set_new(j, "object", obj_json(s, &o));
	} else {
		json_object_set_new(j, "kind", json_string("roots"));
	}
	char buf[256];
	json_object_set_new(j, "label", json_string(ga_heap_node_label(s, n, buf, sizeof(buf))));
	return j;
}

static const char *node_text(struct ga_session *s, ga_node n, char *buf, size_t len)
{
	long ri = ga_heap_node_root(s, n);
	ga_obj id = ga_heap_node_obj(s, n);
	struct ga_root r;
	struct ga_object o;
	if (ri >= 0 && ga_heap_root(s, (size_t)ri, &r)) {
		snprintf(buf, len, "%s (%s%s)", r.name, ga_root_kind_name(r.kind),
			 r.conservative ? ", conservative" : "");
	} else if (id != GA_NO_OBJ && ga_heap_object(s, id, &o)) {
		char tb[200];
		snprintf(buf, len, "0x%" PRIx64 " %s", o.addr, out_type_label(s, &o, tb, sizeof(tb)));
	} else {
		snprintf(buf, len, "<roots>");
	}
	return buf;
}

static void totals_json(json_t *j, const struct ga_heap_stats *st)
{
	json_object_set_new(j, "live_bytes", json_integer((json_int_t)st->live_bytes));
	json_object_set_new(j, "live_objects", json_integer((json_int_t)st->live_objects));
	json_object_set_new(j, "garbage_bytes", json_integer((json_int_t)st->garbage_bytes));
	json_object_set_new(j, "garbage_objects", json_integer((json_int_t)st->garbage_objects));
	json_object_set_new(j, "inuse_span_bytes", json_integer((json_int_t)st->inuse_span_bytes));
	json_object_set_new(j, "typed_objects", json_integer((json_int_t)st->typed_objects));
	json_object_set_new(j, "alloc_bytes", json_integer((json_int_t)st->alloc_bytes));
	json_object_set_new(j, "alloc_objects", json_integer((json_int_t)st->alloc_objects));
	json_object_set_new(j, "num_gc", json_integer((json_int_t)st->num_gc));
	json_object_set_new(j, "fresh_objects", json_integer((json_int_t)st->fresh_objects));
	json_object_set_new(j, "fresh_bytes", json_integer((json_int_t)st->fresh_bytes));
	json_object_set_new(j, "fresh_live_objects", json_integer((json_int_t)st->fresh_live_objects));
	json_object_set_new(j, "fresh_live_bytes", json_integer((json_int_t)st->fresh_live_bytes));
	json_object_set_new(j, "roots", json_integer((json_int_t)st->roots));
	json_object_set_new(j, "edges", json_integer((json_int_t)st->edges));
	json_object_set_new(j, "goroutines_conservative", json_integer((json_int_t)st->goroutines_conservative));
	json_object_set_new(j, "goroutines_precise", json_integer((json_int_t)st->goroutines_precise));
	json_object_set_new(j, "frames_precise", json_integer((json_int_t)st->frames_precise));
	json_object_set_new(j, "frames_conservative", json_integer((json_int_t)st->frames_conservative));
	json_object_set_new(j, "pointer_maps", json_string(st->ptrmap_layout));
	/* wall seconds and peak RSS (bytes) at the end of each phase */
	static const char *const names[] = {"load", "enumerate", "edges", "mark", "typing",
					    "dominators"};
	const double secs[] = {st->t_load, st->t_enumerate, st->t_edges, st->t_mark, st->t_typing,
			       st->t_dominators};
	const uint64_t rss[] = {st->rss_load, st->rss_enumerate, 0, st->rss_mark, st->rss_typing,
				st->rss_dominators};
	json_t *ph = json_object();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *p = json_object();
		json_object_set_new(p, "seconds", json_real(secs[i]));
		if (rss[i])
			json_object_set_new(p, "peak_rss", json_integer((json_int_t)rss[i]));
		json_object_set_new(ph, names[i], p);
	}
	json_object_set_new(j, "phases", ph);
	json_object_set_new(j, "anon_rss_after_load", json_integer((json_int_t)st->anon_load));
	json_object_set_new(j, "anon_rss_after_typing", json_integer((json_int_t)st->anon_typing));
	json_object_set_new(j, "anon_rss_after_dominators", json_integer((json_int_t)st->anon_dominators));
}

static void totals_text(FILE *f, const struct ga_heap_stats *st)
{
	char b1[32], b2[32];
	fprintf(f, "live heap %s in %" PRIu64 " objects; garbage awaiting sweep %s in %" PRIu64 " objects\n",
		out_bytes(st->live_bytes, b1), st->live_objects, out_bytes(st->garbage_bytes, b2),
		st->garbage_objects);
	fprintf(f, "%" PRIu64 " of %" PRIu64 " objects typed; %" PRIu64 " roots, %" PRIu64 " edges; stacks: %" PRIu64 " precise, %" PRIu64 " conservative\n",
		st->typed_objects, st->alloc_objects, st->roots, st->edges, st->goroutines_precise,
		st->goroutines_conservative);
}

struct ga_error *out_histogram(FILE *f, struct ga_session *s, const struct out_heap_opts *o)
{
	const struct ga_heap_stats *st;
	const struct ga_histo_row *rows;
	size_t n;
	struct ga_error *err;
	if ((err = ga_heap_stats(s, &st)) || (err = ga_heap_histogram(s, &rows, &n)))
		return err;
	size_t lim = o->limit && o->limit < n ? o->limit : n;
	char name[256];
	if (o->json) {
		json_t *j = json_object();
		totals_json(j, st);
		json_t *a = json_array();
		for (size_t i = 0; i < lim; i++) {
			const struct ga_histo_row *r = &rows[i];
			json_t *e = json_object();
			if (r->type) {
				json_object_set_new(e, "type", json_string(ga_heap_type_name(s, r->type)));
				json_object_set_new(e, "type_size", json_integer((json_int_t)ga_heap_type_size(s, r->type)));
			} else {
				json_object_set_new(e, "type", json_null());
				json_object_set_new(e, "untyped_size", json_integer((json_int_t)r->elemsize));
				if (r->tiny)
					json_object_set_new(e, "tiny", json_true());
			}
			json_object_set_new(e, "count", json_integer((json_int_t)r->count));
			json_object_set_new(e, "bytes", json_integer((json_int_t)r->bytes));
			json_object_set_new(e, "retained", json_integer((json_int_t)r->retained));
			json_array_append_new(a, e);
		}
		json_object_set_new(j, "types", a);
		json_object_set_new(j, "rows_omitted", json_integer((json_int_t)(n - lim)));
		out_json_print(f, j);
		return NULL;
	}
	totals_text(f, st);
	fprintf(f, "%10s %12s %12s  %s\n", "count", "bytes", "retained", "type");
	for (size_t i = 0; i < lim; i++) {
		const struct ga_histo_row *r = &rows[i];
		char b1[32], b2[32];
		if (r->type)
			snprintf(name, sizeof(name), "%s", ga_heap_type_name(s, r->type));
		else
			snprintf(name, sizeof(name), "untyped %s(%" PRIu64 " B slots)", r->tiny ? "tiny blocks " : "",
				 r->elemsize);
		fprintf(f, "%10" PRIu64 " %12s %12s  %s\n", r->count, out_bytes(r->bytes, b1),
			out_bytes(r->retained, b2), name);
	}
	if (lim < n)
		fprintf(f, "(%zu more rows; --limit N)\n", n - lim);
	return NULL;
}

/* The limit nodes (roots and objects) retaining most, largest first. */
static size_t top_nodes(struct ga_session *s, ga_node *out, size_t limit)
{
	size_t k = 0, nn = ga_heap_nnodes(s);
	for (ga_node v = 1; v < nn; v++) {
		uint64_t r = ga_heap_retained(s, v);
		if (!r || ga_heap_idom(s, v) == GA_NO_NODE)
			continue;
		if (k == limit && r <= ga_heap_retained(s, out[k - 1]))
			continue;
		size_t i = k < limit ? k++ : k - 1;
		while (i > 0 && ga_heap_retained(s, out[i - 1]) < r) {
			out[i] = out[i - 1];
			i--;
		}
		out[i] = v;
	}
	return k;
}

static int kid_cmp_session_free_sort(struct ga_session *s, ga_node *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ga_heap_retained(s, v[j - 1]) < ga_heap_retained(s, v[j]); j--) {
			ga_node t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return 0;
}

/* Children of n in the dominator tree, largest first, at most max. */
static struct ga_error *top_kids(struct ga_session *s, ga_node n, ga_node *out, size_t max,
				 size_t *k, size_t *total)
{
	const ga_node *kids;
	size_t nk;
	struct ga_error *err = ga_heap_dom_children(s, n, &kids, &nk);
	if (err)
		return err;
	*k = 0;
	*total = nk;
	for (size_t i = 0; i < nk; i++) {
		uint64_t r = ga_heap_retained(s, kids[i]);
		if (*k == max && r <= ga_heap_retained(s, out[*k - 1]))
			continue;
		size_t j = *k < max ? (*k)++ : *k - 1;
		out[j] = kids[i];
		kid_cmp_session_free_sort(s, out, *k);
	}
	return NULL;
}

static struct ga_error *expand(FILE *f, json_t *parent, struct ga_session *s, ga_node n, int depth,
			       int level)
{
	enum { KIDS = 5 };
	if (level > depth)
		return NULL;
	ga_node kids[KIDS];
	size_t k, total;
	struct ga_error *err = top_kids(s, n, kids, KIDS, &k, &total);
	if (err)
		return err;
	json_t *arr = parent ? json_array() : NULL;
	for (size_t i = 0; i < k; i++) {
		char buf[300], b1[32];
		if (arr) {
			json_t *e = node_json(s, kids[i]);
			json_object_set_new(e, "retained", json_integer((json_int_t)ga_heap_retained(s, kids[i])));
			if ((err = expand(f, e, s, kids[i], depth, level + 1)))
				return err;
			json_array_append_new(arr, e);
		} else {
			fprintf(f, "%*s%12s  %s\n", 2 * level, "", out_bytes(ga_heap_retained(s, kids[i]), b1),
				node_text(s, kids[i], buf, sizeof(buf)));
			if ((err = expand(f, NULL, s, kids[i], depth, level + 1)))
				return err;
		}
	}
	if (arr) {
		json_object_set_new(parent, "dominates", arr);
		json_object_set_new(parent, "dominated_count", json_integer((json_int_t)total));
	} else if (total > k) {
		fprintf(f, "%*s%12s  (%zu more)\n", 2 * level, "", "", total - k);
	}
	return NULL;
}

struct ga_error *out_top(FILE *f, struct ga_session *s, const struct out_heap_opts *o)
{
	const struct ga_heap_stats *st;
	struct ga_error *err;
	if ((err = ga_heap_stats(s, &st)) || (err = ga_heap_dominators(s)))
		return err;
	size_t limit = o->limit ? o->limit : 30;
	ga_node *top = malloc(limit * sizeof(*top));
	if (!top)
		return &ga_error_nomem;
	size_t k = top_nodes(s, top, limit);
	json_t *j = o->json ? json_object() : NULL, *arr = o->json ? json_array() : NULL;
	if (j)
		totals_json(j, st);
	else
		totals_text(f, st);
	if (!j)
		fprintf(f, "%12s  %s\n", "retained", "retainer");
	for (size_t i = 0; i < k && !err; i++) {
		char buf[300], b1[32];
		if (j) {
			json_t *e = node_json(s, top[i]);
			json_object_set_new(e, "retained", json_integer((json_int_t)ga_heap_retained(s, top[i])));
			if (o->depth > 0)
				err = expand(f, e, s, top[i], o->depth, 1);
			json_array_append_new(arr, e);
		} else {
			fprintf(f, "%12s  %s\n", out_bytes(ga_heap_retained(s, top[i]), b1),
				node_text(s, top[i], buf, sizeof(buf)));
			if (o->depth > 0)
				err = expand(f, NULL, s, top[i], o->depth, 1);
		}
	}
	free(top);
	if (j) {
		json_object_set_new(j, "retainers", arr);
		if (err)
			json_decref(j);
		else
			out_json_print(f, j);
	}
	return err;
}

static struct ga_error *object_at(struct ga_session *s, uint64_t addr, ga_obj *id)
{
	const struct ga_heap_stats *st;
	struct ga_error *err = ga_heap_stats(s, &st);
	if (err)
		return err;
	*id = ga_heap_find(s, addr);
	if (*id == GA_NO_OBJ)
		return ga_error_create(GA_ERR_NOT_FOUND, "0x%" PRIx64 " is not in an allocated heap object", addr);
	return NULL;
}

struct ga_error *out_path(FILE *f, struct ga_session *s, uint64_t addr, const struct out_heap_opts *o)
{
	ga_obj id;
	struct ga_error *err = object_at(s, addr, &id);
	if (err)
		return err;
	ga_node target = ga_heap_node_of_obj(s, id);
	ga_node *src = NULL;
	size_t nsrc = 0;
	if (o->from) {
		if ((err = ga_heap_roots_named(s, o->from, &src, &nsrc)))
			return err;
		if (!nsrc)
			return ga_error_create(GA_ERR_NOT_FOUND, "no root named \"%s\"", o->from);
	}
	struct ga_heap_paths p;
	err = ga_heap_paths(s, src, nsrc, target, o->limit ? o->limit : 1000, &p);
	free(src);
	if (err)
		return err;
	struct ga_object ob;
	ga_heap_object(s, id, &ob);
	char buf[300];
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "target", obj_json(s, &ob));
		json_object_set_new(j, "reachable", json_boolean(p.nnodes > 0));
		json_object_set_new(j, "paths", json_integer((json_int_t)p.npaths));
		json_object_set_new(j, "length", json_integer(p.nnodes ? (json_int_t)p.dist[p.nnodes - 1] : 0));
		json_object_set_new(j, "from", o->from ? json_string(o->from) : json_null());
		json_t *nodes = json_array(), *edges = json_array();
		for (size_t i = 0; i < p.nnodes; i++) {
			json_t *e = node_json(s, p.nodes[i]);
			json_object_set_new(e, "distance", json_integer((json_int_t)p.dist[i]));
			json_array_append_new(nodes, e);
		}
		for (size_t i = 0; i < p.nedges; i++) {
			json_t *e = json_array();
			long a = -1, b = -1;
			for (size_t k = 0; k < p.nnodes; k++) {
				if (p.nodes[k] == p.edges[i][0])
					a = (long)k;
				if (p.nodes[k] == p.edges[i][1])
					b = (long)k;
			}
			if (a < 0 || b < 0) {
				json_decref(e);
				continue;
			}
			json_array_append_new(e, json_integer(a));
			json_array_append_new(e, json_integer(b));
			json_array_append_new(edges, e);
		}
		json_object_set_new(j, "nodes", nodes);
		json_object_set_new(j, "edges", edges);
		out_json_print(f, j);
		ga_heap_paths_free(&p);
		return NULL;
	}
	fprintf(f, "%s\n", node_text(s, target, buf, sizeof(buf)));
	if (!p.nnodes) {
		fprintf(f, o->from ? "  not reachable from %s\n" : "  unreachable: garbage awaiting sweep\n",
			o->from);
		ga_heap_paths_free(&p);
		return NULL;
	}
	fprintf(f, "  %zu shortest path%s of %u step%s from %s\n", p.npaths, p.npaths == 1 ? "" : "s",
		p.dist[p.nnodes - 1], p.dist[p.nnodes - 1] == 1 ? "" : "s", o->from ? o->from : "the roots");
	/* print level by level: each node with the nodes it is reached from */
	for (size_t i = 0; i < p.nnodes; i++) {
		fprintf(f, "  %*s%s", 2 * (int)p.dist[i], "", node_text(s, p.nodes[i], buf, sizeof(buf)));
		int nf = 0;
		for (size_t e = 0; e < p.nedges; e++) {
			if (p.edges[e][1] != p.nodes[i])
				continue;
			char b2[300];
			fprintf(f, "%s%s", nf++ ? ", " : "  <- ", node_text(s, p.edges[e][0], b2, sizeof(b2)));
			if (nf >= 4) {
				fprintf(f, ", ...");
				break;
			}
		}
		fputc('\n', f);
	}
	ga_heap_paths_free(&p);
	return NULL;
}

/* Offsets in node `from` (object or global root) of words pointing into obj. */
static size_t ref_offsets(struct ga_session *s, ga_node from, const struct ga_object *to,
			  uint64_t *offs, size_t max)
{
	size_t k = 0;
	ga_obj fid = ga_heap_node_obj(s, from);
	struct ga_object fo;
	const uint64_t *bits;
	uint64_t nw;
	if (fid != GA_NO_OBJ && ga_heap_object(s, fid, &fo) && ga_heap_ptrmask(s, fid, &bits, &nw)) {
		for (uint64_t w = 0; w < nw && k < max; w++) {
			uint64_t v;
			if ((bits[w / 64] >> (w % 64) & 1) && ga_heap_read(s, fo.addr + 8 * w, &v, 8) &&
			    v >= to->addr && v < to->addr + to->size)
				offs[k++] = 8 * w;
		}
		return k;
	}
	long ri = ga_heap_node_root(s, from);
	struct ga_root r;
	if (ri >= 0 && ga_heap_root(s, (size_t)ri, &r) && r.size && r.size <= (1u << 20)) {
		for (uint64_t off = 0; off + 8 <= r.size && k < max; off += 8) {
			uint64_t v;
			if (ga_heap_read(s, r.addr + off, &v, 8) && v >= to->addr && v < to->addr + to->size)
				offs[k++] = off;
		}
	}
	return k;
}

struct ga_error *out_object(FILE *f, struct ga_session *s, uint64_t addr, const struct out_heap_opts *o)
{
	ga_obj id;
	struct ga_error *err = object_at(s, addr, &id);
	if (err || (err = ga_heap_dominators(s)))
		return err;
	struct ga_object ob;
	ga_heap_object(s, id, &ob);
	ga_node n = ga_heap_node_of_obj(s, id);
	struct ga_field_value *fv;
	size_t nf;
	if ((err = ga_heap_object_fields(s, id, 64, &fv, &nf)))
		return err;
	const ga_node *pred;
	size_t np;
	ga_heap_pred(s, n, &pred, &np);
	ga_node idom = ga_heap_idom(s, n);
	char buf[300], b1[32];
	size_t lim = o->limit ? o->limit : 100;
	if (o->json) {
		json_t *j = obj_json(s, &ob);
		if (addr != ob.addr)
			json_object_set_new(j, "offset", json_integer((json_int_t)(addr - ob.addr)));
		json_object_set_new(j, "retained", json_integer((json_int_t)ga_heap_retained(s, n)));
		struct ga_object_type ot;
		if (ga_heap_object_type(s, id, &ot)) {
			json_object_set_new(j, "type_provenance", json_string(ot.provenance));
			json_object_set_new(j, "type_offset", json_integer((json_int_t)ot.offset));
			json_object_set_new(j, "type_count", json_integer((json_int_t)ot.count));
		}
		json_object_set_new(j, "idom", idom == GA_NO_NODE ? json_null() : node_json(s, idom));
		json_t *fa = json_array();
		for (size_t i = 0; i < nf; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "name", json_string(fv[i].name));
			json_object_set_new(e, "type", json_string(fv[i].type));
			json_object_set_new(e, "offset", json_integer((json_int_t)fv[i].offset));
			json_object_set_new(e, "size", json_integer((json_int_t)fv[i].size));
			json_object_set_new(e, "value", out_json_addr(fv[i].value));
			json_object_set_new(e, "pointer", json_boolean(fv[i].pointer));
			if (fv[i].target != GA_NO_OBJ) {
				struct ga_object t;
				ga_heap_object(s, fv[i].target, &t);
				json_object_set_new(e, "pointee", obj_json(s, &t));
			}
			json_array_append_new(fa, e);
		}
		json_object_set_new(j, "fields", fa);
		json_t *ra = json_array();
		for (size_t i = 0; i < np && i < lim; i++) {
			json_t *e = node_json(s, pred[i]);
			uint64_t offs[8];
			size_t k = ref_offsets(s, pred[i], &ob, offs, 8);
			json_t *oa = json_array();
			for (size_t q = 0; q < k; q++)
				json_array_append_new(oa, json_integer((json_int_t)offs[q]));
			json_object_set_new(e, "offsets", oa);
			json_array_append_new(ra, e);
		}
		json_object_set_new(j, "referrers", ra);
		json_object_set_new(j, "referrer_count", json_integer((json_int_t)np));
		out_json_print(f, j);
		free(fv);
		return NULL;
	}
	fprintf(f, "object 0x%" PRIx64 "", ob.addr);
	if (addr != ob.addr)
		fprintf(f, " (0x%" PRIx64 " is at +0x%" PRIx64 ")", addr, addr - ob.addr);
	fprintf(f, "\n  type      %s (%s)\n", out_type_label(s, &ob, buf, sizeof(buf)), typed_by_name(ob.typed_by));
	struct ga_object_type ot;
	if (ga_heap_object_type(s, id, &ot) && ob.type && ot.provenance[0] &&
	    ob.typed_by != GA_TYPED_HEADER && ob.typed_by != GA_TYPED_LARGETYPE)
		fprintf(f, "  typed by  %s\n", ot.provenance);
	fprintf(f, "  size      %" PRIu64 " B (%s)\n", ob.size,
		ob.sizeclass ? "size-class slot" : "large object");
	fprintf(f, "  state     %s\n", ob.live ? "live" : "garbage awaiting sweep");
	fprintf(f, "  retained  %s\n", out_bytes(ga_heap_retained(s, n), b1));
	if (idom != GA_NO_NODE)
		fprintf(f, "  idom      %s\n", node_text(s, idom, buf, sizeof(buf)));
	fprintf(f, "fields:\n");
	for (size_t i = 0; i < nf && i < lim; i++) {
		fprintf(f, "  +0x%-5" PRIx64 " %-24s %-20s 0x%" PRIx64, fv[i].offset, fv[i].name, fv[i].type,
			fv[i].value);
		if (fv[i].target != GA_NO_OBJ)
			fprintf(f, " -> %s", node_text(s, ga_heap_node_of_obj(s, fv[i].target), buf, sizeof(buf)));
		fputc('\n', f);
	}
	if (nf > lim)
		fprintf(f, "  (%zu more)\n", nf - lim);
	fprintf(f, "referrers (%zu):\n", np);
	for (size_t i = 0; i < np && i < lim; i++) {
		uint64_t offs[4];
		size_t k = ref_offsets(s, pred[i], &ob, offs, 4);
		fprintf(f, "  %s", node_text(s, pred[i], buf, sizeof(buf)));
		for (size_t q = 0; q < k; q++)
			fprintf(f, "%s+0x%" PRIx64, q ? "," : " at ", offs[q]);
		fputc('\n', f);
	}
	free(fv);
	return NULL;
}
