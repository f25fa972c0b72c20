/* Dominators: Semi-NCA (src/graph/dominators.c) against the naive
 * dominator-set iteration on random small graphs, a long chain (no
 * recursion), and the object graphs of the smaller committed cores.
 * argv[1]: the repository root. Prints ok/FAIL lines. */
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goautopsy/goautopsy.h"
#include "goautopsy/heap.h"
#include "graph/graph.h"

static int failures;

#define FAIL(...) (printf("FAIL " __VA_ARGS__), printf("\n"), failures++)

/* xorshift: reproducible without global state */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct csr {
	uint32_t n;
	uint32_t *off, *succ, *roff, *pred;
};

static void csr_free(struct csr *g)
{
	free(g->off), free(g->succ), free(g->roff), free(g->pred);
}

/* Builds forward and reverse CSR from an edge list. */
static int csr_build(struct csr *g, uint32_t n, const uint32_t (*e)[2], uint32_t ne)
{
	g->n = n;
	g->off = calloc(n + 1, 4);
	g->roff = calloc(n + 1, 4);
	g->succ = malloc((ne + 1) * 4);
	g->pred = malloc((ne + 1) * 4);
	uint32_t *pos = malloc((n + 1) * 4);
	if (!g->off || !g->roff || !g->succ || !g->pred || !pos) {
		free(pos);
		return -1;
	}
	for (uint32_t i = 0; i < ne; i++) {
		g->off[e[i][0] + 1]++;
		g->roff[e[i][1] + 1]++;
	}
	for (uint32_t v = 0; v < n; v++) {
		g->off[v + 1] += g->off[v];
		g->roff[v + 1] += g->roff[v];
	}
	memcpy(pos, g->off, n * 4);
	for (uint32_t i = 0; i < ne; i++)
		g->succ[pos[e[i][0]]++] = e[i][1];
	memcpy(pos, g->roff, n * 4);
	for (uint32_t i = 0; i < ne; i++)
		g->pred[pos[e[i][1]]++] = e[i][0];
	free(pos);
	return 0;
}

static int compare(const char *what, const struct csr *g)
{
	uint32_t *a = malloc(g->n * 4), *b = malloc(g->n * 4);
	int bad = 0;
	if (!a || !b) {
		FAIL("%s: out of memory", what);
		free(a), free(b);
		return 1;
	}
	struct ga_error *e1 = graph_semi_nca(g->n, g->off, g->succ, g->roff, g->pred, a, NULL, NULL);
	struct ga_error *e2 = graph_naive_idom(g->n, g->off, g->succ, b);
	if (e1 || e2) {
		FAIL("%s: %s", what, e1 ? ga_error_message(e1) : ga_error_message(e2));
		bad = 1;
	}
	for (uint32_t v = 0; v < g->n && !bad; v++)
		if (a[v] != b[v]) {
			FAIL("%s: idom(%u) = %u, naive says %u", what, v, a[v], b[v]);
			bad = 1;
		}
	free(a), free(b);
	return bad;
}

static void random_graphs(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int bad = 0;
	for (int t = 0; t < 2000 && !bad; t++) {
		uint32_t n = 1 + (uint32_t)(next_rand(&seed) % 40);
		uint32_t ne = (uint32_t)(next_rand(&seed) % (3 * n + 1));
		uint32_t (*e)[2] = malloc((ne + n) * sizeof(*e));
		uint32_t k = 0;
		/* some graphs get a spanning chain so most nodes are reachable */
		if (t % 2)
			for (uint32_t v = 1; v < n; v++, k++) {
				e[k][0] = (uint32_t)(next_rand(&seed) % v);
				e[k][1] = v;
			}
		for (uint32_t i = 0; i < ne; i++, k++) {
			e[k][0] = (uint32_t)(next_rand(&seed) % n);
			e[k][1] = (uint32_t)(next_rand(&seed) % n);
		}
		struct csr g;
		char what[64];
		snprintf(what, sizeof(what), "random graph %d (n=%u, e=%u)", t, n, k);
		if (csr_build(&g, n, (const uint32_t(*)[2])e, k))
			FAIL("%s: out of memory", what), bad = 1;
		else
			bad = compare(what, &g);
		csr_free(&g);
		free(e);
	}
	if (!bad)
		printf("ok random_graphs (2000 graphs vs naive)\n");
}

/* A 10-million-node chain with back edges: recursion would overflow. */
static void long_chain(void)
{
	uint32_t n = 10000000;
	struct csr g = {.n = n};
	g.off = malloc((n + 1) * 4);
	g.succ = malloc(2 * n * 4);
	uint32_t *idom = malloc(n * 4);
	if (!g.off || !g.succ || !idom) {
		FAIL("long_chain: out of memory");
		csr_free(&g), free(idom);
		return;
	}
	/* v -> v+1 and v -> v-1: symmetric, so the reverse CSR is the same */
	uint32_t k = 0;
	for (uint32_t v = 0; v < n; v++) {
		g.off[v] = k;
		if (v + 1 < n)
			g.succ[k++] = v + 1;
		if (v)
			g.succ[k++] = v - 1;
	}
	g.off[n] = k;
	struct ga_error *err = graph_semi_nca(n, g.off, g.succ, g.off, g.succ, idom, NULL, NULL);
	int bad = err != NULL;
	for (uint32_t v = 1; v < n && !bad; v++)
		if (idom[v] != v - 1) {
			FAIL("long_chain: idom(%u) = %u, want %u", v, idom[v], v - 1);
			bad = 1;
		}
	if (err)
		FAIL("long_chain: %s", ga_error_message(err));
	if (!bad)
		printf("ok long_chain (10M nodes)\n");
	free(idom);
	free(g.off), free(g.succ);
}

/* The object graph of a committed core, through the public API, against
 * the naive algorithm; also retained sizes against a direct sum. */
static void core_graph(const char *dir)
{
	char core[4096], exe[4096];
	snprintf(core, sizeof(core), "%s/core.zst", dir);
	snprintf(exe, sizeof(exe), "%s/exe.zst", dir);
	struct ga_session_options so = {.exe_path = exe};
	struct ga_session *s;
	struct ga_error *err = ga_session_open(core, &so, &s);
	if (err) {
		printf("skip core %s: %s\n", dir, ga_error_message(err));
		ga_error_destroy(err);
		return;
	}
	const struct ga_heap_stats *st;
	if ((err = ga_heap_stats(s, &st)) || (err = ga_heap_dominators(s))) {
		FAIL("core %s: %s", dir, ga_error_message(err));
		ga_error_destroy(err);
		ga_session_close(s);
		return;
	}
	uint32_t n = (uint32_t)ga_heap_nnodes(s);
	if (n > 4000) {
		ga_session_close(s);
		return;
	}
	uint32_t (*e)[2] = NULL;
	size_t ne = 0, cap = 0;
	for (uint32_t v = 0; v < n; v++) {
		const ga_node *succ;
		size_t k;
		ga_heap_succ(s, v, &succ, &k);
		for (size_t i = 0; i < k; i++) {
			if (ne == cap) {
				cap = cap ? 2 * cap : 1024;
				e = realloc(e, cap * sizeof(*e));
			}
			e[ne][0] = v;
			e[ne][1] = succ[i];
			ne++;
		}
	}
	struct csr g;
	uint32_t *naive = malloc(n * 4);
	int bad = 0;
	if (!naive || csr_build(&g, n, (const uint32_t(*)[2])e, (uint32_t)ne)) {
		FAIL("core %s: out of memory", dir);
		free(e), free(naive);
		ga_session_close(s);
		return;
	}
	graph_naive_idom(n, g.off, g.succ, naive);
	for (uint32_t v = 0; v < n && !bad; v++)
		if (ga_heap_idom(s, v) != naive[v]) {
			FAIL("core %s: idom(%u) = %u, naive says %u", dir, v, ga_heap_idom(s, v), naive[v]);
			bad = 1;
		}
	/* retained(v) = size of every node whose naive dominator chain reaches v */
	uint64_t *ret = calloc(n, 8);
	for (uint32_t v = 1; v < n && ret; v++) {
		if (naive[v] == GRAPH_NONE)
			continue;
		ga_obj id = ga_heap_node_obj(s, v);
		struct ga_object o;
		uint64_t size = id != GA_NO_OBJ && ga_heap_object(s, id, &o) ? o.size : 0;
		for (uint32_t d = v, steps = 0; steps <= n; d = naive[d], steps++) {
			ret[d] += size;
			if (d == 0)
				break;
		}
	}
	for (uint32_t v = 0; v < n && ret && !bad; v++)
		if (naive[v] != GRAPH_NONE && ga_heap_retained(s, v) != ret[v]) {
			FAIL("core %s: retained(%u) = %" PRIu64 ", direct sum %" PRIu64, dir, v,
			     ga_heap_retained(s, v), ret[v]);
			bad = 1;
		}
	if (!bad)
		printf("ok core_graph %s (%u nodes, %zu edges)\n", dir, n, ne);
	free(ret);
	free(naive);
	free(e);
	csr_free(&g);
	ga_session_close(s);
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	random_graphs();
	long_chain();
	char pat[4096];
	snprintf(pat, sizeof(pat), "%s/corefiles/cores/go*/*/core.zst", root);
	glob_t gl;
	int cores = 0;
	if (glob(pat, 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc && cores < 12; i++) {
			char *d = strdup(gl.gl_pathv[i]);
			*strrchr(d, '/') = 0;
			/* the smaller ones: a few per version */
			if (strstr(d, "lock_order") || strstr(d, "subslice") || strstr(d, "finalizer_cycle") ||
			    strstr(d, "cleanup_self")) {
				core_graph(d);
				cores++;
			}
			free(d);
		}
		globfree(&gl);
	}
	if (!cores)
		printf("skip core_graph: no committed cores under %s\n", pat);
	return failures ? 1 : 0;
}
