/* The leak detectors: one source file per finding kind, one shared finding
 * type (struct ga_finding of goautopsy/report.h), one registry.
 *
 * A detector gets a det_ctx holding the session, the goroutines, the heap
 * graph (through goautopsy/heap.h) and the typed references of refs.c, and
 * adds findings with det_add. It does not apply the thresholds: the session
 * (src/report.c) does, so every candidate can be listed with the reason it
 * was suppressed. */
#ifndef GA_DETECT_DETECT_H
#define GA_DETECT_DETECT_H

#include <stdarg.h>

#include "base/vec.h"
#include "detect/refs.h"
#include "goautopsy/heap.h"
#include "goautopsy/report.h"

struct ga_session;
struct ga_rt;
struct det_pins;
struct det_stackroots;
struct rt_unwinder;
struct rt_g;

struct det_ctx {
	struct ga_session *s;
	struct ga_rt *rt;
	const struct ga_report_options *opt;
	const struct ga_goroutines *gs;
	const struct ga_heap_stats *hst;
	struct det_refs *refs;        /* built on first use by det_refs_get */
	struct ga_error *refs_err;
	bool refs_done;
	/* preorder interval of each node in the dominator tree */
	uint32_t *dom_pre, *dom_end;
	uint32_t *dom_order;           /* preorder number -> node */
	struct det_pins *pins;        /* pins.c: references grouped by target */
	/* stackroots.c: precise stack targets (built by the session) */
	struct rt_unwinder *unwinder;
	const struct rt_g *rgs;
	size_t nrgs;
	struct det_stackroots *stackroots;
	GA_VEC(struct ga_finding) findings;
	GA_VEC(void *) owned;         /* strings and arrays the findings point to */
	bool oom;
};

typedef struct ga_error *(*det_fn)(struct det_ctx *c);

struct det_entry {
	const char *kind;
	const char *fix;
	det_fn run;
};

/* The registry, in the order of docs/leak-patterns.md. */
extern const struct det_entry det_registry[];
extern const size_t det_nregistry;
/* The kinds alone, same order (ga_finding_kinds). */
extern const char *const det_kinds[];
extern const size_t det_nkinds;
const struct det_entry *det_find(const char *kind);

struct ga_error *det_subslice(struct det_ctx *c);
struct ga_error *det_interior_pointer(struct det_ctx *c);
struct ga_error *det_hidden_beyond_len(struct det_ctx *c);
struct ga_error *det_slice_capacity(struct det_ctx *c);
struct ga_error *det_map_capacity(struct det_ctx *c);
struct ga_error *det_substring(struct det_ctx *c);
struct ga_error *det_finalizer_cycle(struct det_ctx *c);
struct ga_error *det_goroutine_leak(struct det_ctx *c);
struct ga_error *det_deadlock(struct det_ctx *c);
/* After the detectors: findings under the thresholds that repeat over one
 * collection (holders differing by key, index or goroutine id) summed into
 * one finding held by `coll[*]` (group.c). */
struct ga_error *det_group_collections(struct det_ctx *c);

/* A new finding of kind (count 1, longest_wait -1, fix from the registry);
 * NULL on out-of-memory. The pointer is valid until the next det_add. */
struct ga_finding *det_add(struct det_ctx *c, const char *kind);
/* Strings and arrays owned by the report. */
const char *det_str(struct det_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *det_alloc(struct det_ctx *c, size_t n);
/* Sets f->objects to a copy of objs. */
bool det_set_objects(struct det_ctx *c, struct ga_finding *f, const struct ga_finding_object *objs,
		     size_t n);
/* Typed references (refs.c), built once. */
struct ga_error *det_refs_get(struct det_ctx *c, struct det_refs **out);
/* The dominator tree's preorder intervals: x is dominated by d iff
 * dom_pre[d] <= dom_pre[x] < dom_end[d]. */
struct ga_error *det_dom_intervals(struct det_ctx *c);
static inline bool det_dominates(const struct det_ctx *c, ga_node d, ga_node x)
{
	return c->dom_pre[d] != UINT32_MAX && c->dom_pre[x] != UINT32_MAX &&
	       c->dom_pre[d] <= c->dom_pre[x] && c->dom_pre[x] < c->dom_end[d];
}
/* What else keeps node x alive: a backward walk from x over the graph that
 * skips the nodes x dominates (its own cycle) and the specials attached to
 * object addr obj. Returns the first precise holder found (a root or an
 * object reached from a precise root), or UINT32_MAX when only
 * conservatively scanned stack words (counted in *ncons, the first in
 * *cons_root) or nothing else holds it. */
struct ga_error *det_other_holder(struct det_ctx *c, ga_node x, uint64_t obj, ga_node *out,
				  uint32_t *ncons, ga_node *cons_root);
/* Bytes of the objects only node x keeps alive, the specials attached to
 * object address obj left out of the roots, stacks seen through their
 * stack maps (det_succ): a mark of the whole graph, for rare findings. */
struct ga_error *det_exclusive_bytes(struct det_ctx *c, ga_node x, uint64_t obj, uint64_t *out);
/* The innermost frame outside the runtime, sync, internal and time
 * packages (the first frame if none). */
const struct ga_frame *det_user_frame(const struct ga_goroutine *g);
/* A goroutine finding (goroutine_leak, deadlock) about the group of ex:
 * blocked_on, wait reason, creator, example, location of its user frame. */
void det_set_group(struct ga_finding *f, const struct ga_goroutine *ex);
/* "main.Foo", or "" for untyped objects. */
const char *det_obj_type(struct det_ctx *c, ga_obj id);
/* Severity from waste (memory kinds). */
const char *det_severity(uint64_t waste);

#endif
