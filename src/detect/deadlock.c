/* deadlock: goroutines parked on mutexes whose holders can be inferred form
 * a cycle, or one goroutine waits for a mutex it holds itself.
 *
 * A sync.Mutex does not record its owner, so ownership is inferred from
 * what a core shows: the mutex is locked (state & mutexLocked), and a
 * goroutine's frames outside the runtime and sync packages hold a pointer
 * to it (or into the small object containing it) - the frame that locked it
 * keeps it for the Unlock. The word at the very bottom of the frame that
 * called Lock is the receiver spilled for the call, so it is not evidence.
 * A waiter is a holder of the mutex it waits on only when no other
 * goroutine can be (self-deadlock); otherwise the holders are the other
 * goroutines that reference it. When every goroutine on a chain of
 * "waits for M, held by" edges has exactly one possible holder and the
 * chain closes, the cycle is a deadlock. */
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
#define MAX_STACK_SCAN (1u << 20)
#define MAX_CONTAINER 4096
#define MAX_HOLDERS 8

struct mutex_info {
	uint64_t addr;
	uint64_t lo, hi;      /* pointers into [lo, hi) count as holding it */
	bool locked;
	uint32_t holders[MAX_HOLDERS];
	uint32_t nholders;    /* may exceed MAX_HOLDERS */
};

static bool is_lock_pkg(const char *f)
{
	return !f || !strncmp(f, "runtime.", 8) || !strncmp(f, "sync.", 5) ||
	       !strncmp(f, "internal/sync.", 14);
}

/* First address of the goroutine's frames that may hold a lock: above the
 * runtime and sync frames of a waiter, skipping the receiver spilled for
 * the Lock call. */
static uint64_t holding_start(const struct ga_goroutine *g, bool waiter)
{
	if (!waiter)
		return g->sp ? g->sp : g->stack_lo;
	for (size_t i = 0; i < g->nframes; i++)
		if (!is_lock_pkg(g->frames[i].function))
			return g->frames[i].sp + 8;
	return g->stack_hi;
}

/* For the mutex a goroutine waits on itself: only the frames older than the
 * one that called Lock. That frame keeps the mutex live for its own Unlock
 * whether or not it ever held it; a caller holding it is evidence (f locks,
 * then calls g that locks again). */
static uint64_t self_start(const struct ga_goroutine *g)
{
	for (size_t i = 0; i < g->nframes; i++) {
		if (is_lock_pkg(g->frames[i].function))
			continue;
		for (size_t j = i + 1; j < g->nframes; j++)
			if (g->frames[j].sp > g->frames[i].sp)
				return g->frames[j].sp;
		break;
	}
	return g->stack_hi;
}

typedef GA_VEC(struct mutex_info) mutex_vec;

struct lo_key {
	uint64_t lo;
	uint32_t idx;
};

static int lo_cmp(const void *a, const void *b)
{
	const struct lo_key *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Mutex indices by lo, sorted through keys (no comparison context). */
static bool sort_by_lo(const mutex_vec *ms, uint32_t *order)
{
	struct lo_key *k = malloc(ms->len * sizeof(*k));
	if (!k)
		return false;
	for (size_t i = 0; i < ms->len; i++)
		k[i] = (struct lo_key){ms->v[i].lo, (uint32_t)i};
	ga_sort(k, ms->len, sizeof(*k), lo_cmp);
	for (size_t i = 0; i < ms->len; i++)
		order[i] = k[i].idx;
	free(k);
	return true;
}

/* The number of mutexes (in lo order) whose lo is <= v. */
static size_t upper_lo(const mutex_vec *ms, const uint32_t *order, uint64_t v)
{
	size_t lo = 0, hi = ms->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ms->v[order[mid]].lo <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_mutex_wait(const struct ga_goroutine *g)
{
	return !strcmp(g->status, "waiting") && g->blocked_object &&
	       (!strcmp(g->blocked_on, "mutex") || !strcmp(g->blocked_on, "rwmutex"));
}

struct ga_error *det_deadlock(struct det_ctx *c)
{
	struct ga_session *s = c->s;
	const struct ga_goroutines *gs = c->gs;
	mutex_vec ms = {0};
	struct ga_hash by_addr;
	ga_hash_init(&by_addr);
	uint32_t *wait_m = malloc((gs->n ? gs->n : 1) * 4); /* per goroutine: mutex index waited */
	uint8_t *buf = NULL;
	uint32_t *order = NULL, *stamp = NULL; /* mutexes by lo; last goroutine + 1 that held each */
	struct ga_error *err = NULL;
	if (!wait_m)
		return &ga_error_nomem;
	struct rt_field state = rt_scalar_field(c->rt, "sync.Mutex", "state");
	if (!state.ok)
		state = rt_scalar_field(c->rt, "sync.Mutex", "mu.state");
	for (size_t i = 0; i < gs->n; i++) {
		const struct ga_goroutine *g = &gs->v[i];
		wait_m[i] = NONE;
		if (!is_mutex_wait(g))
			continue;
		uint64_t mi;
		if (!ga_hash_get(&by_addr, g->blocked_object + 1, &mi)) {
			struct mutex_info m = {.addr = g->blocked_object, .lo = g->blocked_object,
					       .hi = g->blocked_object + 1};
			ga_obj o = ga_heap_find(s, m.addr);
			struct ga_object ob;
			if (o != GA_NO_OBJ && ga_heap_object(s, o, &ob) && ob.size <= MAX_CONTAINER) {
				m.lo = ob.addr;
				m.hi = ob.addr + ob.size;
			}
			uint64_t st = 1;
			if (!strcmp(g->blocked_on, "mutex") && state.ok)
				rt_read_field(c->rt, m.addr, &state, &st);
			m.locked = st & 1;
			mi = ms.len;
			if (ga_vec_push(&ms, m) || ga_hash_put(&by_addr, m.addr + 1, mi)) {
				err = &ga_error_nomem;
				goto out;
			}
		}
		wait_m[i] = (uint32_t)mi;
	}
	if (!ms.len)
		goto out;
	/* who references which mutex: scan the holding part of every stack */
	buf = malloc(MAX_STACK_SCAN);
	if (!buf) {
		err = &ga_error_nomem;
		goto out;
	}
	uint8_t *self_ref = calloc(gs->n ? gs->n : 1, 1);
	order = malloc(ms.len * sizeof(*order));
	stamp = calloc(ms.len, sizeof(*stamp));
	if (!self_ref || !order || !stamp) {
		free(self_ref);
		err = &ga_error_nomem;
		goto out;
	}
	if (!sort_by_lo(&ms, order)) {
		free(self_ref);
		err = &ga_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < gs->n; i++) {
		const struct ga_goroutine *g = &gs->v[i];
		if (!g->stack_hi || g->stack_hi <= g->stack_lo)
			continue;
		uint64_t lo = holding_start(g, wait_m[i] != NONE), hi = g->stack_hi;
		if (lo < g->stack_lo)
			lo = g->stack_lo;
		lo = (lo + 7) & ~7ull;
		if (lo >= hi || hi - lo > MAX_STACK_SCAN || !ga_heap_read(s, lo, buf, hi - lo))
			continue;
		uint64_t self_lo = wait_m[i] != NONE ? self_start(g) : lo;
		/* each word against the mutexes by address (sorted by lo; a
		 * container is at most MAX_CONTAINER bytes): no mutex x word loop */
		for (uint64_t a = 0; a + 8 <= hi - lo; a += 8) {
			uint64_t v, fsp;
			memcpy(&v, buf + a, 8);
			size_t k = upper_lo(&ms, order, v); /* first with lo > v */
			for (; k > 0; k--) {
				struct mutex_info *mu = &ms.v[order[k - 1]];
				uint32_t m = order[k - 1];
				if (v - mu->lo >= MAX_CONTAINER)
					break;
				if (v >= mu->hi || stamp[m] == i + 1)
					continue;
				bool self = wait_m[i] == m;
				int live = det_stack_word_owner(c, g->id, lo + a, &fsp);
				/* its own mutex: a slot of a frame older than the Lock
				 * caller (stack maps), else a word above that frame */
				if (!(live == 1 ? !self || fsp >= self_lo : live < 0 && (!self || lo + a >= self_lo)))
					continue;
				stamp[m] = (uint32_t)i + 1;
				if (self) {
					self_ref[i] = 1;
					continue;
				}
				if (mu->nholders < MAX_HOLDERS)
					mu->holders[mu->nholders] = (uint32_t)i;
				mu->nholders++;
			}
		}
	}
	/* waits-for: goroutine -> the one goroutine holding what it waits on */
	uint32_t *next = malloc((gs->n ? gs->n : 1) * 4);
	uint8_t *done = calloc(gs->n ? gs->n : 1, 1);
	if (!next || !done) {
		free(next), free(done), free(self_ref);
		err = &ga_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < gs->n; i++) {
		next[i] = NONE;
		if (wait_m[i] == NONE)
			continue;
		const struct mutex_info *mu = &ms.v[wait_m[i]];
		if (!mu->locked)
			continue;
		if (mu->nholders == 1)
			next[i] = mu->holders[0];
		else if (mu->nholders == 0 && self_ref[i])
			next[i] = (uint32_t)i;
	}
	for (size_t i = 0; i < gs->n && !c->oom; i++) {
		if (next[i] == NONE || done[i])
			continue;
		/* follow the chain; a cycle through i is reported once */
		uint32_t cyc[64];
		size_t n = 0;
		uint32_t v = (uint32_t)i;
		bool closed = false;
		while (n < 64 && v != NONE && wait_m[v] != NONE) {
			bool seen = false;
			for (size_t k = 0; k < n; k++)
				seen |= cyc[k] == v;
			if (seen) {
				closed = v == i;
				break;
			}
			cyc[n++] = v;
			v = next[v];
		}
		if (!closed)
			continue;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= done[cyc[k]];
		for (size_t k = 0; k < n; k++)
			done[cyc[k]] = 1;
		if (dup)
			continue;
		struct ga_finding *f = det_add(c, "deadlock");
		uint64_t *ids = det_alloc(c, n * 8);
		uint64_t *mus = det_alloc(c, n * 8);
		struct ga_finding_object *objs = det_alloc(c, n * sizeof(*objs));
		if (!f || !ids || !mus || !objs)
			break;
		uint64_t stacks = 0;
		for (size_t k = 0; k < n; k++) {
			const struct ga_goroutine *g = &gs->v[cyc[k]];
			ids[k] = g->id;
			mus[k] = ms.v[wait_m[cyc[k]]].addr;
			stacks += g->stack_hi - g->stack_lo;
			ga_obj o = ga_heap_find(s, mus[k]);
			struct ga_object ob = {0};
			ga_heap_object(s, o, &ob);
			objs[k] = (struct ga_finding_object){
				.addr = mus[k], .size = 8, .type = g->blocked_on[0] == 'r' ? "sync.RWMutex" : "sync.Mutex",
				.role = "mutex", .offset = o != GA_NO_OBJ ? mus[k] - ob.addr : 0,
				.holder = det_str(c, "held by goroutine %" PRIu64 ", awaited by goroutine %" PRIu64,
						  gs->v[next[cyc[k]]].id, g->id)};
		}
		const struct ga_goroutine *ex = &gs->v[cyc[0]];
		f->goroutines = ids;
		f->ngoroutines = n;
		f->mutexes = mus;
		f->nmutexes = n;
		f->objects = objs;
		f->nobjects = n;
		f->count = n;
		det_set_group(f, ex);
		f->stack_bytes = stacks;
		f->waste_bytes = stacks;
		f->retained_bytes = stacks;
		f->severity = "high";
		for (size_t k = 0; k < n; k++)
			if (gs->v[cyc[k]].waited_ns > f->longest_wait_ns)
				f->longest_wait_ns = gs->v[cyc[k]].waited_ns;
		const struct ga_frame *uf = det_user_frame(ex);
		if (n == 1) {
			f->title = det_str(c, "goroutine %" PRIu64 " waits for the mutex 0x%" PRIx64 " it holds itself",
					   ex->id, mus[0]);
			f->holder = det_str(c, "goroutine %" PRIu64 " %s", ex->id, uf && uf->function ? uf->function : "?");
			f->evidence = "the mutex is locked, no other goroutine references it, and a caller of the "
				      "frame waiting in Lock holds a pointer to it";
		} else {
			struct ga_strbuf sb;
			ga_sb_init(&sb);
			for (size_t k = 0; k < n; k++)
				ga_sb_printf(&sb, "%sgoroutine %" PRIu64 " waits for 0x%" PRIx64 " held by goroutine %" PRIu64,
					     k ? "; " : "", ids[k], mus[k], gs->v[next[cyc[k]]].id);
			f->title = det_str(c, "lock-order deadlock between %zu goroutines: %s", n, ga_sb_str(&sb));
			ga_sb_free(&sb);
			f->holder = det_str(c, "goroutine %" PRIu64 " %s", ex->id, uf && uf->function ? uf->function : "?");
			f->evidence = "each mutex is locked and exactly one other goroutine in the cycle keeps a "
				      "pointer to it in its frames above its own Lock call";
		}
	}
	free(next);
	free(done);
	free(self_ref);
out:
	free(order);
	free(stamp);
	free(buf);
	free(wait_m);
	ga_vec_free(&ms);
	ga_hash_free(&by_addr);
	return err;
}
