/* Dominators by Semi-NCA (Georgiadis, "Linear-time algorithms for
 * dominators and related problems"): a DFS spanning tree, semidominators
 * with link-eval and path compression, then each idom as the nearest common
 * ancestor walk. Everything iterative: a 10-million-long chain of objects
 * must not overflow the C stack. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/file.h"
#include "graph/graph.h"

/* Path compression of the link-eval forest, without recursion: collect the
 * ancestors whose own ancestor is still linked, then fold from the top. */
static void compress(uint32_t v, uint32_t *anc, uint32_t *label, const uint32_t *semi,
		     uint32_t *path)
{
	uint32_t n = 0;
	for (uint32_t x = v; anc[anc[x]]; x = anc[x])
		path[n++] = x;
	while (n--) {
		uint32_t x = path[n], a = anc[x];
		if (semi[label[a]] < semi[label[x]])
			label[x] = label[a];
		anc[x] = anc[a];
	}
}

struct ga_error *graph_semi_nca(uint32_t n, const uint32_t *off, const uint32_t *succ,
				const uint32_t *roff, const uint32_t *pred, uint32_t *idom,
				uint32_t *order, uint32_t *norder)
{
	if (!n)
		return NULL;
	uint32_t *dfn = calloc(n, 4);
	uint32_t *vertex = malloc(((size_t)n + 1) * 4);
	uint32_t *parent = malloc(((size_t)n + 1) * 4);
	uint32_t *semi = malloc(((size_t)n + 1) * 4);
	uint32_t *label = malloc(((size_t)n + 1) * 4);
	uint32_t *anc = malloc(((size_t)n + 1) * 4);
	uint32_t *path = malloc(((size_t)n + 1) * 4);
	if (!dfn || !vertex || !parent || !semi || !label || !anc || !path) {
		free(dfn), free(vertex), free(parent), free(semi), free(label), free(anc), free(path);
		return &ga_error_nomem;
	}
	/* DFS from node 0; label/anc serve as the explicit stack meanwhile */
	uint32_t *stk_node = label, *stk_edge = anc;
	uint32_t k = 1, sp = 1;
	dfn[0] = 1;
	vertex[1] = 0;
	parent[1] = 0;
	stk_node[0] = 0;
	stk_edge[0] = off[0];
	while (sp) {
		uint32_t v = stk_node[sp - 1], e = stk_edge[sp - 1];
		if (e < off[v + 1]) {
			stk_edge[sp - 1]++;
			uint32_t w = succ[e];
			if (w < n && !dfn[w]) {
				dfn[w] = ++k;
				vertex[k] = w;
				parent[k] = dfn[v];
				stk_node[sp] = w;
				stk_edge[sp] = off[w];
				sp++;
			}
		} else {
			sp--;
		}
	}
	for (uint32_t i = 0; i <= k; i++) {
		semi[i] = i;
		label[i] = i;
		anc[i] = 0;
	}
	for (uint32_t i = k; i >= 2; i--) {
		uint32_t w = vertex[i];
		for (uint32_t e = roff[w]; e < roff[w + 1]; e++) {
			uint32_t j = pred[e] < n ? dfn[pred[e]] : 0;
			if (!j)
				continue;
			uint32_t u = j;
			if (anc[j]) {
				compress(j, anc, label, semi, path);
				u = label[j];
			}
			if (semi[u] < semi[i])
				semi[i] = semi[u];
		}
		anc[i] = parent[i];
	}
	/* parent[] becomes idom by dfs number */
	for (uint32_t i = 2; i <= k; i++)
		while (parent[i] > semi[i])
			parent[i] = parent[parent[i]];
	for (uint32_t v = 0; v < n; v++)
		idom[v] = dfn[v] ? vertex[dfn[v] == 1 ? 1 : parent[dfn[v]]] : GRAPH_NONE;
	if (order) {
		memcpy(order, vertex + 1, (size_t)k * 4);
		*norder = k;
	}
	free(dfn), free(vertex), free(parent), free(semi), free(label), free(anc), free(path);
	return NULL;
}

struct ga_error *graph_naive_idom(uint32_t n, const uint32_t *off, const uint32_t *succ,
				  uint32_t *idom)
{
	/* dom[v] = {v} ∪ ⋂ dom[preds]; bitsets, iterated to a fixpoint */
	size_t words = ((size_t)n + 63) / 64;
	uint64_t *dom = malloc((size_t)n * words * 8);
	bool *reach = calloc(n, 1);
	uint32_t *stack = malloc((size_t)n * 4 + 4);
	if (!dom || !reach || !stack) {
		free(dom), free(reach), free(stack);
		return &ga_error_nomem;
	}
	uint32_t sp = 0;
	stack[sp++] = 0;
	reach[0] = true;
	while (sp) {
		uint32_t v = stack[--sp];
		for (uint32_t e = off[v]; e < off[v + 1]; e++)
			if (!reach[succ[e]]) {
				reach[succ[e]] = true;
				stack[sp++] = succ[e];
			}
	}
	for (uint32_t v = 0; v < n; v++) {
		uint64_t *d = dom + (size_t)v * words;
		memset(d, v == 0 ? 0 : 0xff, words * 8);
		if (v == 0)
			d[0] = 1;
	}
	for (bool changed = true; changed;) {
		changed = false;
		for (uint32_t u = 0; u < n; u++) {
			if (!reach[u])
				continue;
			for (uint32_t e = off[u]; e < off[u + 1]; e++) {
				uint32_t v = succ[e];
				if (v == 0)
					continue;
				/* dom[v] ∩= dom[u] ∪ {v} */
				uint64_t *dv = dom + (size_t)v * words, *du = dom + (size_t)u * words;
				for (size_t w = 0; w < words; w++) {
					uint64_t keep = du[w] | (w == v / 64 ? 1ull << (v % 64) : 0);
					uint64_t nv = dv[w] & keep;
					if (nv != dv[w]) {
						dv[w] = nv;
						changed = true;
					}
				}
			}
		}
	}
	/* idom(v): the strict dominator dominated by all other strict dominators,
	 * i.e. the one with the largest dominator set */
	for (uint32_t v = 0; v < n; v++) {
		idom[v] = GRAPH_NONE;
		if (!reach[v])
			continue;
		if (v == 0) {
			idom[v] = 0;
			continue;
		}
		uint64_t *dv = dom + (size_t)v * words;
		uint32_t best = GRAPH_NONE, bestn = 0;
		for (uint32_t d = 0; d < n; d++) {
			if (d == v || !(dv[d / 64] >> (d % 64) & 1))
				continue;
			uint32_t cnt = 0;
			uint64_t *dd = dom + (size_t)d * words;
			for (size_t w = 0; w < words; w++)
				cnt += (uint32_t)__builtin_popcountll(dd[w]);
			if (best == GRAPH_NONE || cnt > bestn) {
				best = d;
				bestn = cnt;
			}
		}
		idom[v] = best;
	}
	free(dom), free(reach), free(stack);
	return NULL;
}

struct ga_error *graph_dominators(struct ga_graph *g)
{
	if (g->idom)
		return NULL;
	double t0 = ga_now();
	uint32_t n = g->nnodes;
	uint32_t *idom = malloc((size_t)n * 4);
	uint32_t *order = malloc((size_t)n * 4);
	uint64_t *ret = calloc(n, 8);
	if (!idom || !order || !ret) {
		free(idom), free(order), free(ret);
		return &ga_error_nomem;
	}
	uint32_t norder = 0;
	struct ga_error *err = graph_semi_nca(n, g->fwd_off, g->fwd, g->rev_off, g->rev, idom, order,
					      &norder);
	if (err) {
		free(idom), free(order), free(ret);
		return err;
	}
	const struct rt_heap *h = g->heap;
	for (size_t si = 0; si < h->spans.len; si++) {
		const struct rt_hspan *s = &h->spans.v[si];
		for (uint32_t k = 0; k < s->nobjs; k++)
			ret[graph_obj_node(g, s->first_id + k)] = s->elemsize;
	}
	for (uint32_t i = norder; i-- > 1;) {
		uint32_t v = order[i];
		ret[idom[v]] += ret[v];
	}
	free(order);
	g->idom = idom;
	g->retained = ret;
	g->t_dom = ga_now() - t0;
	return NULL;
}

struct ga_error *graph_dom_children(struct ga_graph *g)
{
	if (g->dom_off)
		return NULL;
	struct ga_error *err = graph_dominators(g);
	if (err)
		return err;
	uint32_t n = g->nnodes;
	uint32_t *off = calloc((size_t)n + 1, 4);
	uint32_t *kids = malloc((size_t)n * 4 + 4);
	if (!off || !kids) {
		free(off), free(kids);
		return &ga_error_nomem;
	}
	for (uint32_t v = 1; v < n; v++)
		if (g->idom[v] != GRAPH_NONE)
			off[g->idom[v] + 1]++;
	for (uint32_t v = 0; v < n; v++)
		off[v + 1] += off[v];
	uint32_t *pos = malloc((size_t)n * 4 + 4);
	if (!pos) {
		free(off), free(kids);
		return &ga_error_nomem;
	}
	memcpy(pos, off, (size_t)n * 4);
	for (uint32_t v = 1; v < n; v++)
		if (g->idom[v] != GRAPH_NONE)
			kids[pos[g->idom[v]]++] = v;
	free(pos);
	g->dom_off = off;
	g->dom_kids = kids;
	return NULL;
}

struct ga_error *graph_bfs(const struct ga_graph *g, const uint32_t *src, size_t nsrc,
			   uint32_t **dist_out)
{
	uint32_t n = g->nnodes;
	uint32_t *dist = malloc((size_t)n * 4);
	uint32_t *queue = malloc((size_t)n * 4);
	if (!dist || !queue) {
		free(dist), free(queue);
		return &ga_error_nomem;
	}
	memset(dist, 0xff, (size_t)n * 4);
	uint32_t head = 0, tail = 0;
	for (size_t i = 0; i < nsrc; i++)
		if (src[i] < n && dist[src[i]] == GRAPH_NONE) {
			dist[src[i]] = 0;
			queue[tail++] = src[i];
		}
	while (head < tail) {
		uint32_t v = queue[head++];
		for (uint32_t e = g->fwd_off[v]; e < g->fwd_off[v + 1]; e++) {
			uint32_t w = g->fwd[e];
			if (dist[w] == GRAPH_NONE) {
				dist[w] = dist[v] + 1;
				queue[tail++] = w;
			}
		}
	}
	free(queue);
	*dist_out = dist;
	return NULL;
}
