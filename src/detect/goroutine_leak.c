/* goroutine_leak: the reachability fixpoint of the runtime's goroutine leak
 * detector (Go 1.26 goroutineleak, mgc.go findMaybeRunnableGoroutines) run
 * offline over the object graph.
 *
 * Roots at first: every root that belongs to no goroutine (globals,
 * specials, queues) and the roots of every goroutine that is not parked on
 * a concurrency primitive (running, runnable, syscall, sleeping, runtime
 * waits). A parked goroutine joins the roots once what it waits on is
 * marked, or is not a heap object (isMarkedOrNotInHeap); a nil channel and
 * select {} never release. Repeat to a fixpoint; the parked goroutines left
 * are leaked.
 *
 * The runtime hides sudog.c / sudog.elem during the detection so a waiter
 * does not keep its own channel alive. Offline the same effect comes from
 * never following pointers out of a g (g.waiting -> sudog -> c) and from
 * leaving out runtime.semtable (treap of sudogs -> elem), the two places a
 * parked goroutine's primitive hangs from the runtime itself. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "core/mem.h"
#include "detect/detect.h"
#include "detect/stackroots.h"
#include "rt/rt.h"

#define NONE UINT32_MAX
#define MULTI (UINT32_MAX - 1)
#define MAX_GROUP_OBJECTS 8

struct gl {
	struct det_ctx *c;
	size_t nnodes, nroots, ng;
	uint8_t *flag;        /* per node: F_MARK, F_OPAQUE, F_WATCH */
	uint32_t *queue;
	size_t qlen;
	uint32_t *root_g;     /* per root: goroutine index, NONE */
	uint32_t *g_first_root, *root_next; /* roots of a goroutine, chained */
	uint8_t *g_state;     /* 0 live, 1 candidate parked, 2 released */
	struct ga_hash watch; /* node + 1 -> first waiting goroutine */
	uint32_t *wnext;      /* per goroutine: next waiter on the same node */
};

enum { F_MARK = 1, F_OPAQUE = 2, F_WATCH = 4 };

static bool leak_kind(const char *b)
{
	return b && *b && strcmp(b, "other") != 0;
}

static void push_roots(struct gl *l, uint32_t gi);

static void mark_node(struct gl *l, uint32_t n)
{
	if (n >= l->nnodes || (l->flag[n] & F_MARK))
		return;
	l->flag[n] |= F_MARK;
	l->queue[l->qlen++] = n;
	if (l->flag[n] & F_WATCH) {
		uint64_t gi;
		if (ga_hash_get(&l->watch, (uint64_t)n + 1, &gi))
			for (uint32_t g = (uint32_t)gi; g != NONE; g = l->wnext[g])
				if (l->g_state[g] == 1) {
					l->g_state[g] = 2;
					push_roots(l, g);
				}
	}
}

static void push_roots(struct gl *l, uint32_t gi)
{
	for (uint32_t r = l->g_first_root[gi]; r != NONE; r = l->root_next[r])
		mark_node(l, ga_heap_node_of_root(l->c->s, r));
}

static void drain(struct gl *l)
{
	/* queue used as a stack: order does not matter for marking */
	while (l->qlen) {
		uint32_t v = l->queue[--l->qlen];
		if (l->flag[v] & F_OPAQUE)
			continue;
		const ga_node *succ;
		size_t ns;
		det_succ(l->c, v, &succ, &ns);
		for (size_t i = 0; i < ns; i++)
			mark_node(l, succ[i]);
	}
}

/* The primitive a parked goroutine waits on, as graph nodes; returns false
 * when it can never be released (nil channel, select {}), sets *free when
 * some primitive is not a heap object or unknown (then it may run). */
static bool wait_nodes(struct gl *l, const struct ga_goroutine *g, uint32_t *nodes, size_t *n,
		       bool *free_)
{
	*n = 0;
	*free_ = false;
	if (!strcmp(g->blocked_on, "nil_chan") || !strcmp(g->blocked_on, "select_empty"))
		return false;
	uint64_t addrs[64];
	size_t na = 0;
	if (!strncmp(g->blocked_on, "chan_", 5) || !strcmp(g->blocked_on, "select")) {
		for (size_t i = 0; i < g->nchans && na < 64; i++)
			addrs[na++] = g->chans[i].addr;
		if (!na && g->blocked_object)
			addrs[na++] = g->blocked_object;
	} else {
		if (g->blocked_object)
			addrs[na++] = g->blocked_object;
		else if (g->sema)
			addrs[na++] = g->sema;
	}
	if (!na)
		*free_ = true;
	for (size_t i = 0; i < na; i++) {
		ga_obj o = ga_heap_find(l->c->s, addrs[i]);
		if (o == GA_NO_OBJ) {
			*free_ = true;
			continue;
		}
		nodes[(*n)++] = ga_heap_node_of_obj(l->c->s, o);
	}
	return true;
}

/* A lock allocated alone (`new(sync.Mutex)`: 8 bytes, no pointers) may
 * share a tiny-allocator block with unrelated values, and a pointer to
 * those keeps the whole block alive. Whether the lock itself can be reached
 * is a question about pointers into its own bytes: [*lo, *hi). */
static bool tiny_wait(struct gl *l, const struct ga_goroutine *g, uint32_t node, uint64_t *lo,
		      uint64_t *hi)
{
	struct ga_object o;
	ga_obj id = ga_heap_node_obj(l->c->s, node);
	if (!g->sema || id == GA_NO_OBJ || !ga_heap_object(l->c->s, id, &o) || !o.tiny)
		return false;
	*lo = g->blocked_object && g->blocked_object <= g->sema ? g->blocked_object : g->sema;
	*hi = g->sema + 4;
	return *lo >= o.addr && *hi <= o.addr + o.size;
}

/* Some marked node holds a pointer into [lo, hi) of tiny block node. */
static bool tiny_held(struct gl *l, uint32_t node, uint64_t lo, uint64_t hi)
{
	enum { MAX_SCAN = 1 << 20 };
	struct ga_session *s = l->c->s;
	const ga_node *pred;
	size_t np;
	ga_heap_pred(s, node, &pred, &np);
	for (size_t i = 0; i < np; i++) {
		if (!(l->flag[pred[i]] & F_MARK))
			continue;
		uint64_t a = 0, size = 0;
		ga_obj id = ga_heap_node_obj(s, pred[i]);
		long r = ga_heap_node_root(s, pred[i]);
		struct ga_object o;
		struct ga_root rt;
		if (id != GA_NO_OBJ && ga_heap_object(s, id, &o))
			a = o.addr, size = o.size;
		else if (r >= 0 && ga_heap_root(s, (size_t)r, &rt))
			a = rt.addr, size = rt.size;
		if (size > MAX_SCAN)
			size = MAX_SCAN;
		for (uint64_t w = a & ~7ull; w + 8 <= a + size; w += 8) {
			uint64_t v;
			if (ga_mem_u64(l->c->rt->mem, w, &v) && v >= lo && v < hi)
				return true;
		}
	}
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct group {
	uint32_t first;       /* goroutine index of the first member */
	uint32_t n;
	uint64_t owned, stacks;
	int64_t longest;
};

/* The goroutine that runs queued finalizers (runtime.runfinq, renamed
 * runFinalizers in 1.24) or cleanups (runtime.runCleanups, 1.24+). */
static bool runs_queue(const struct ga_goroutine *g, bool cleanups)
{
	const char *f = g->start.function;
	if (!f)
		return false;
	if (cleanups)
		return !strcmp(f, "runtime.runCleanups");
	return !strcmp(f, "runtime.runfinq") || !strcmp(f, "runtime.runFinalizers");
}

/* Queued finalizers and cleanups are reachable only by the goroutine that
 * will run them: they are roots of that goroutine, not of the program. So a
 * finalizer goroutine blocked forever takes its queue down with it (the
 * runtime's own markroot would keep them, and the goroutine, alive). With
 * several cleanup goroutines, any of them may run the queue: left global. */
static uint32_t queue_owner(const struct ga_goroutines *gs, uint8_t kind)
{
	uint32_t owner = NONE;
	for (size_t i = 0; i < gs->n; i++)
		if (runs_queue(&gs->v[i], kind == GA_ROOT_CLEANUPQ)) {
			if (owner != NONE)
				return NONE;
			owner = (uint32_t)i;
		}
	return owner;
}

struct ga_error *det_goroutine_leak(struct det_ctx *c)
{
	struct ga_session *s = c->s;
	const struct ga_goroutines *gs = c->gs;
	struct gl l = {.c = c};
	l.nnodes = ga_heap_nnodes(s);
	l.nroots = ga_heap_nroots(s);
	l.ng = gs->n;
	struct ga_error *err = NULL;
	uint32_t *owner = NULL;
	struct group *groups = NULL;
	uint32_t *gidx = NULL;
	ga_hash_init(&l.watch);
	l.flag = calloc(l.nnodes ? l.nnodes : 1, 1);
	l.queue = malloc((l.nnodes ? l.nnodes : 1) * 4);
	l.root_g = malloc((l.nroots ? l.nroots : 1) * 4);
	l.root_next = malloc((l.nroots ? l.nroots : 1) * 4);
	l.g_first_root = malloc((l.ng ? l.ng : 1) * 4);
	l.g_state = calloc(l.ng ? l.ng : 1, 1);
	l.wnext = malloc((l.ng ? l.ng : 1) * 4);
	gidx = malloc((l.ng ? l.ng : 1) * 4);
	if (!l.flag || !l.queue || !l.root_g || !l.root_next || !l.g_first_root || !l.g_state ||
	    !l.wnext || !gidx) {
		err = &ga_error_nomem;
		goto out;
	}
	memset(l.g_first_root, 0xff, l.ng * 4);
	memset(l.wnext, 0xff, l.ng * 4);
	/* goroutines' own g structs: never followed (g.waiting hides the sudogs) */
	for (size_t i = 0; i < l.ng; i++) {
		ga_obj o = ga_heap_find(s, gs->v[i].g);
		if (o != GA_NO_OBJ)
			l.flag[ga_heap_node_of_obj(s, o)] |= F_OPAQUE;
		if (leak_kind(gs->v[i].blocked_on) && !strcmp(gs->v[i].status, "waiting"))
			l.g_state[i] = 1;
		if (!strcmp(gs->v[i].status, "leaked")) /* the runtime already judged it (1.26+) */
			l.g_state[i] = 1;
	}
	uint32_t finq_g = queue_owner(gs, GA_ROOT_FINQ), cleanq_g = queue_owner(gs, GA_ROOT_CLEANUPQ);
	uint64_t nqueued[2] = {0, 0};
	for (size_t r = l.nroots; r-- > 0;) {
		struct ga_root rt;
		l.root_g[r] = NONE;
		l.root_next[r] = NONE;
		if (!ga_heap_root(s, r, &rt))
			continue;
		uint32_t gi = NONE;
		if (rt.kind == GA_ROOT_FINQ || rt.kind == GA_ROOT_CLEANUPQ) {
			gi = rt.kind == GA_ROOT_FINQ ? finq_g : cleanq_g;
			if (gi != NONE)
				nqueued[rt.kind == GA_ROOT_CLEANUPQ]++;
		} else if (rt.goid) {
			const struct ga_goroutine *g = ga_goroutine_find(gs, rt.goid);
			gi = g ? (uint32_t)(g - gs->v) : NONE;
		}
		if (gi == NONE)
			continue;
		l.root_g[r] = gi;
		l.root_next[r] = l.g_first_root[gi];
		l.g_first_root[gi] = (uint32_t)r;
	}
	/* watches: the primitives parked goroutines wait on */
	for (size_t i = 0; i < l.ng; i++) {
		if (l.g_state[i] != 1)
			continue;
		uint32_t nodes[64];
		size_t n;
		bool free_;
		if (!wait_nodes(&l, &gs->v[i], nodes, &n, &free_))
			continue;
		if (free_) {
			l.g_state[i] = 0;
			continue;
		}
		/* a select waits on several: one watch per channel, first wins */
		for (size_t k = 0; k < n; k++) {
			uint64_t head, lo, hi;
			uint32_t node = nodes[k];
			if (tiny_wait(&l, &gs->v[i], node, &lo, &hi))
				continue; /* decided by tiny_held after the fixpoint */
			if (ga_hash_get(&l.watch, (uint64_t)node + 1, &head)) {
				/* chain only once per goroutine per node */
				bool dup = false;
				for (uint32_t g = (uint32_t)head; g != NONE && !dup; g = l.wnext[g])
					dup = g == i;
				if (dup || l.wnext[i] != NONE)
					continue; /* wnext holds one chain per goroutine */
				l.wnext[i] = (uint32_t)head;
			}
			if (ga_hash_put(&l.watch, (uint64_t)node + 1, i)) {
				err = &ga_error_nomem;
				goto out;
			}
			l.flag[node] |= F_WATCH;
			break;
		}
		/* selects on several channels: the others are checked after the fixpoint */
	}
	/* the fixpoint */
	l.flag[0] |= F_MARK;
	for (size_t r = 0; r < l.nroots; r++) {
		struct ga_root rt;
		ga_heap_root(s, r, &rt);
		if (rt.name && !strcmp(rt.name, "runtime.semtable"))
			continue;
		if (l.root_g[r] != NONE && l.g_state[l.root_g[r]] == 1)
			continue;
		mark_node(&l, ga_heap_node_of_root(s, r));
	}
	drain(&l);
	for (bool changed = true; changed;) {
		changed = false;
		/* selects whose other channels got marked; locks in tiny blocks
		 * that a marked node points into */
		for (size_t i = 0; i < l.ng; i++) {
			if (l.g_state[i] != 1)
				continue;
			uint32_t nodes[64];
			size_t n;
			bool free_;
			if (!wait_nodes(&l, &gs->v[i], nodes, &n, &free_))
				continue;
			for (size_t k = 0; k < n; k++) {
				uint64_t lo, hi;
				if (!(l.flag[nodes[k]] & F_MARK) ||
				    (tiny_wait(&l, &gs->v[i], nodes[k], &lo, &hi) && !tiny_held(&l, nodes[k], lo, hi)))
					continue;
				l.g_state[i] = 2;
				push_roots(&l, (uint32_t)i);
				drain(&l);
				changed = true;
				break;
			}
		}
	}
	/* the leaked, grouped by creation site, wait reason and primitive kind */
	struct ga_strmap keys;
	ga_strmap_init(&keys);
	size_t ngroups = 0;
	groups = calloc(l.ng ? l.ng : 1, sizeof(*groups));
	if (!groups) {
		err = &ga_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < l.ng; i++) {
		gidx[i] = NONE;
		if (l.g_state[i] != 1)
			continue;
		const struct ga_goroutine *g = &gs->v[i];
		char key[512];
		snprintf(key, sizeof(key), "%s|%s:%u|%s|%s", g->created_by.function ? g->created_by.function : "",
			 g->created_by.file ? g->created_by.file : "", g->created_by.line, g->wait_reason,
			 g->blocked_on);
		uint64_t k;
		if (!ga_strmap_get(&keys, key, &k)) {
			k = ngroups++;
			groups[k].first = (uint32_t)i;
			groups[k].longest = -1;
			if (ga_strmap_put(&keys, key, k)) {
				ga_strmap_free(&keys);
				err = &ga_error_nomem;
				goto out;
			}
		}
		gidx[i] = (uint32_t)k;
		groups[k].n++;
		groups[k].stacks += g->stack_hi - g->stack_lo;
		if (g->waited_ns > groups[k].longest)
			groups[k].longest = g->waited_ns;
	}
	ga_strmap_free(&keys);
	if (!ngroups)
		goto out;
	/* memory only one group keeps alive */
	owner = malloc(l.nnodes * 4);
	if (!owner) {
		err = &ga_error_nomem;
		goto out;
	}
	memset(owner, 0xff, l.nnodes * 4);
	for (uint32_t k = 0; k < ngroups; k++) {
		l.qlen = 0;
		for (size_t i = 0; i < l.ng; i++) {
			if (gidx[i] != k)
				continue;
			for (uint32_t r = l.g_first_root[i]; r != NONE; r = l.root_next[r]) {
				uint32_t n = ga_heap_node_of_root(s, r);
				if (owner[n] == NONE) {
					owner[n] = k;
					l.queue[l.qlen++] = n;
				}
			}
		}
		while (l.qlen) {
			uint32_t v = l.queue[--l.qlen];
			if (l.flag[v] & F_OPAQUE)
				continue;
			const ga_node *succ;
			size_t ns;
			det_succ(c, v, &succ, &ns);
			for (size_t e = 0; e < ns; e++) {
				uint32_t w = succ[e];
				if ((l.flag[w] & F_MARK) || owner[w] == k || owner[w] == MULTI)
					continue;
				owner[w] = owner[w] == NONE ? k : MULTI;
				l.queue[l.qlen++] = w;
			}
		}
	}
	for (uint32_t n = (uint32_t)l.nroots + 1; n < l.nnodes; n++) {
		if (owner[n] >= ngroups)
			continue;
		struct ga_object o;
		if (ga_heap_object(s, ga_heap_node_obj(s, n), &o))
			groups[owner[n]].owned += o.size;
	}
	struct det_refs *refs = NULL;
	err = det_refs_get(c, &refs);
	if (err) {
		ga_error_destroy(err); /* holders are a nicety here */
		err = NULL;
		refs = NULL;
	}
	for (uint32_t k = 0; k < ngroups && !c->oom; k++) {
		struct group *gr = &groups[k];
		const struct ga_goroutine *ex = &gs->v[gr->first];
		struct ga_finding *f = det_add(c, "goroutine_leak");
		if (!f)
			break;
		uint64_t *ids = det_alloc(c, gr->n * 8);
		if (!ids)
			break;
		size_t ni = 0;
		for (size_t i = 0; i < l.ng; i++)
			if (gidx[i] == k)
				ids[ni++] = gs->v[i].id;
		ga_sort(ids, ni, 8, cmp_u64);
		f->goroutines = ids;
		f->ngoroutines = ni;
		f->count = gr->n;
		det_set_group(f, ex);
		f->longest_wait_ns = gr->longest;
		f->stack_bytes = gr->stacks;
		f->waste_bytes = gr->owned + gr->stacks;
		f->retained_bytes = f->waste_bytes;
		const struct ga_frame *uf = det_user_frame(ex);
		const char *fn = uf && uf->function ? uf->function : "?";
		uint64_t queued = 0;
		const char *what = NULL;
		for (int q = 0; q < 2; q++) {
			uint32_t og = q ? cleanq_g : finq_g;
			if (og != NONE && gidx[og] == k && nqueued[q]) {
				queued += nqueued[q];
				what = q ? "cleanups" : "finalizers";
			}
		}
		f->severity = gr->n >= 1000 || f->waste_bytes >= (64ull << 20) ? "high" : "medium";
		f->title = det_str(c, "%u goroutine%s in %s blocked forever on %s (%s)", gr->n,
				   gr->n == 1 ? "" : "s", fn, ex->blocked_on, ex->wait_reason);
		if (queued) {
			/* the backlog: what the queue keeps alive is in the group's waste */
			f->queued = queued;
			f->title = det_str(c, "the %s goroutine is blocked forever in %s on %s (%s); %" PRIu64
					      " queued %s wait behind it", what[0] == 'f' ? "finalizer" : "cleanup",
					   fn, ex->blocked_on, ex->wait_reason, queued, what);
			f->evidence = det_str(c, "%" PRIu64 " %s are queued behind a %s goroutine that never returns: "
						 "they and what they reference (counted in the waste) are never freed",
					      queued, what, what[0] == 'f' ? "finalizer" : "cleanup");
			if (queued >= 1000)
				f->severity = "high";
		}
		/* the biggest objects only this group holds */
		struct ga_finding_object objs[MAX_GROUP_OBJECTS];
		size_t no = 0;
		for (uint32_t n = (uint32_t)l.nroots + 1; n < l.nnodes; n++) {
			if (owner[n] != k)
				continue;
			struct ga_object o;
			ga_obj id = ga_heap_node_obj(s, n);
			if (!ga_heap_object(s, id, &o))
				continue;
			size_t pos = no;
			while (pos > 0 && objs[pos - 1].size < o.size)
				pos--;
			if (pos >= MAX_GROUP_OBJECTS)
				continue;
			if (no < MAX_GROUP_OBJECTS)
				no++;
			memmove(&objs[pos + 1], &objs[pos], (no - 1 - pos) * sizeof(objs[0]));
			objs[pos] = (struct ga_finding_object){.addr = o.addr, .size = o.size, .type = NULL,
							       .role = "retained", .holder = NULL,
							       .len = o.size};
			objs[pos].offset = id; /* fixed below */
		}
		const char *first_holder = NULL, *lib_holder = NULL; /* a user frame's; a runtime or sync frame's */
		for (size_t i = 0; i < no; i++) {
			ga_obj id = (ga_obj)objs[i].offset;
			objs[i].offset = 0;
			objs[i].type = det_obj_type(c, id);
			bool own = false;
			if (refs && refs->o_parent[id] != UINT32_MAX) {
				char buf[512];
				objs[i].holder = det_str(c, "%s", det_refs_obj_path(refs, id, buf, sizeof(buf)));
				/* the holder: a variable of one of the group's own frames */
				uint32_t root = det_refs_root_of(refs, refs->o_parent[id]);
				uint64_t goid, pc;
				const struct ga_goroutine *hg;
				own = root != UINT32_MAX && det_refs_origin_frame(refs, root, &goid, &pc) &&
				      (hg = ga_goroutine_find(gs, goid)) && gidx[hg - gs->v] == k;
			}
			if (!own) {
				/* else the frame of a member whose live stack slot holds it */
				ga_node node = ga_heap_node_of_obj(s, id);
				for (size_t m = 0; m < l.ng && !own; m++) {
					const char *fn2 = gidx[m] == k ? det_stack_holder(c, gs->v[m].id, node) : NULL;
					if (fn2) {
						/* a runtime frame (a sudog, the parked call) names the
						 * goroutine's own code instead */
						const struct ga_frame *mf = det_user_frame(&gs->v[m]);
						if (!strncmp(fn2, "runtime.", 8) && mf && mf->function)
							fn2 = mf->function;
						struct ga_object ob;
						char vb[256];
						const char *var = refs && ga_heap_object(s, id, &ob)
									  ? det_refs_guess_var(refs, &gs->v[m], fn2, ob.size,
											       ob.noscan, vb, sizeof(vb))
									  : NULL;
						objs[i].holder = var ? det_str(c, "goroutine %" PRIu64 " %s var %s", gs->v[m].id, fn2, var)
								     : det_str(c, "goroutine %" PRIu64 " %s", gs->v[m].id, fn2);
						own = true;
					}
				}
			}
			if (own) {
				/* "goroutine N FUNC ...": prefer the program's own frames */
				const char *fn3 = strchr(objs[i].holder + 10, ' ');
				bool lib = fn3 && (!strncmp(fn3 + 1, "runtime.", 8) || !strncmp(fn3 + 1, "sync.", 5) ||
						   !strncmp(fn3 + 1, "internal/", 9));
				if (lib && !lib_holder)
					lib_holder = objs[i].holder;
				else if (!lib && !first_holder)
					first_holder = objs[i].holder;
			}
		}
		det_set_objects(c, f, objs, no);
		if (!first_holder)
			first_holder = lib_holder;
		f->holder = first_holder ? first_holder
					 : det_str(c, "goroutine %" PRIu64 " %s", ex->id, fn);
	}
out:
	free(owner);
	free(groups);
	free(gidx);
	free(l.flag);
	free(l.queue);
	free(l.root_g);
	free(l.root_next);
	free(l.g_first_root);
	free(l.g_state);
	free(l.wnext);
	ga_hash_free(&l.watch);
	return err;
}
