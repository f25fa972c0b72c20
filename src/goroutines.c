/* ga_session_goroutine_list and friends: every goroutine with its state,
 * wait, creator, stack and what it is blocked on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goautopsy/goroutines.h"
#include "rt/blocked.h"
#include "session.h"

#define NAMEBUF 1024
#define MAX_TOTAL_FRAMES (16u << 20) /* logical frames kept, all goroutines together */

struct ga_gr_state {
	struct ga_goroutines list;
	GA_VEC(struct ga_goroutine) gs;
	GA_VEC(struct ga_frame) frames;
	GA_VEC(struct ga_chan) chans;
	GA_VEC(char *) strings;       /* owned strings handed out */
	struct ga_strmap interned;    /* string -> index in strings */
	struct ga_hash chan_cache;    /* hchan address -> index in chan_tmpl */
	GA_VEC(struct ga_chan) chan_tmpl;
	struct ga_hash loc_cache;     /* pc<<1|call -> index+1 in locs */
	GA_VEC(struct ga_location) locs;
};

struct ga_error *ga_session_pcln(struct ga_session *s, struct rt_pcln **out)
{
	if (!s->pcln && !s->pcln_err) {
		struct ga_error *err = rt_pcln_open(s->rt, &s->pcln);
		if (err) {
			if (err->code == GA_ERR_NOMEM)
				return err;
			s->pcln_err = err;
		}
	}
	*out = s->pcln;
	if (!s->pcln) {
		struct ga_error *e = ga_error_create(s->pcln_err->code, "%s", ga_error_message(s->pcln_err));
		return e;
	}
	return NULL;
}

struct ga_error *ga_session_unwinder(struct ga_session *s, struct rt_unwinder **out)
{
	if (!s->unwinder) {
		struct rt_pcln *t;
		struct ga_error *err = ga_session_pcln(s, &t);
		if (!err)
			err = rt_unwinder_open(s->rt, t, &s->unwinder);
		if (err)
			return err;
	}
	*out = s->unwinder;
	return NULL;
}

struct ga_error *ga_session_chans(struct ga_session *s, struct rt_chans **out)
{
	if (!s->chans) {
		struct ga_error *err = rt_chans_open(s->rt, &s->chans);
		if (err)
			return err;
	}
	*out = s->chans;
	return NULL;
}

struct ga_error *ga_session_blocked(struct ga_session *s, struct rt_blocked_ctx **out)
{
	if (!s->blocked) {
		struct rt_chans *c;
		struct ga_error *err = ga_session_chans(s, &c);
		if (!err)
			err = rt_blocked_open(s->rt, c, &s->blocked);
		if (err)
			return err;
	}
	*out = s->blocked;
	return NULL;
}

void ga_session_goroutines_free(struct ga_session *s)
{
	struct ga_gr_state *st = s->gr;
	if (st) {
		ga_vec_free(&st->gs);
		ga_vec_free(&st->frames);
		ga_vec_free(&st->chans);
		for (size_t i = 0; i < st->strings.len; i++)
			free(st->strings.v[i]);
		ga_vec_free(&st->strings);
		ga_strmap_free(&st->interned);
		ga_hash_free(&st->chan_cache);
		ga_vec_free(&st->chan_tmpl);
		ga_hash_free(&st->loc_cache);
		ga_vec_free(&st->locs);
		free(st);
		s->gr = NULL;
	}
	rt_blocked_close(s->blocked);
	rt_chans_close(s->chans);
	rt_unwinder_close(s->unwinder);
	rt_pcln_close(s->pcln);
	ga_error_destroy(s->pcln_err);
	s->blocked = NULL;
	s->chans = NULL;
	s->unwinder = NULL;
	s->pcln = NULL;
	s->pcln_err = NULL;
}

/* A string owned by the goroutine state; equal strings share one copy. */
static const char *intern(struct ga_gr_state *st, const char *s)
{
	uint64_t i;
	if (ga_strmap_get(&st->interned, s, &i))
		return st->strings.v[i];
	char *c = strdup(s);
	if (!c || ga_vec_push(&st->strings, c)) {
		free(c);
		return NULL;
	}
	if (ga_strmap_put(&st->interned, s, st->strings.len - 1))
		return NULL;
	return c;
}

/* The name the runtime's traceback prints; NULL only on OOM. */
static const char *print_name(struct ga_session *s, struct ga_gr_state *st, const char *raw)
{
	char buf[NAMEBUF];
	const char *p = rt_funcname_for_print(s->rt, raw, buf, sizeof(buf));
	if (p == raw)
		return raw; /* points into the function table, lives as long as the session */
	return intern(st, p);
}

static bool location_at(struct ga_session *s, struct ga_gr_state *st, uint64_t pc, bool call,
			struct ga_location *loc, bool *oom)
{
	struct rt_func f;
	memset(loc, 0, sizeof(*loc));
	loc->pc = pc;
	uint64_t key = (pc << 1 | call) + 1, ix;
	if (ga_hash_get(&st->loc_cache, key, &ix)) {
		*loc = st->locs.v[ix];
		return loc->function != NULL;
	}
	if (!pc || !rt_pcln_find(s->pcln, pc, &f)) {
		if (ga_vec_push(&st->locs, *loc) || ga_hash_put(&st->loc_cache, key, st->locs.len - 1))
			*oom = true;
		return false;
	}
	/* printcreatedby1: back up into the CALL, and print the physical function */
	uint64_t tracepc = call && pc > f.entry ? pc - 1 : pc;
	loc->entry = f.entry;
	loc->function = print_name(s, st, rt_pcln_name(s->pcln, &f));
	if (!loc->function)
		*oom = true;
	const char *file;
	int32_t line;
	rt_pcln_fileline(s->pcln, &f, tracepc, &file, &line);
	loc->file = file;
	loc->line = (uint32_t)(line > 0 ? line : 0);
	if (ga_vec_push(&st->locs, *loc) || ga_hash_put(&st->loc_cache, key, st->locs.len - 1))
		*oom = true;
	return true;
}

static uint64_t read_scalar(struct ga_session *s, uint64_t base, ga_type_id type, const char *path)
{
	const struct ga_type *t = ga_dwarf_type(s->dw, type);
	struct rt_field f = t && t->name ? rt_scalar_field(s->rt, t->name, path) : (struct rt_field){0};
	uint64_t v;
	return base && rt_read_field(s->rt, base, &f, &v) ? v : 0;
}

/* The dump time on the runtime's nanotime clock. Nothing in a core stores
 * "now", so this is the latest nanotime reading the runtime left behind:
 * sched.lastpoll (refreshed by sysmon every 10ms while the netpoller is in
 * use), sched.procresizetime, the last GC's start (work.tstart) and end
 * (memstats.last_gc_nanotime), and the largest g.waitsince (itself a GC
 * start). It can only be earlier than the real dump time, so "waited" is a
 * lower bound, like the runtime's own "N minutes". */
static void dump_time(struct ga_session *s, const struct rt_g *gs, size_t n, int64_t *now,
		      const char **src)
{
	struct {
		const char *name;
		int64_t v;
	} c[5];
	ga_type_id t;
	uint64_t a;
	a = rt_global(s->rt, "runtime.sched", &t);
	c[0].name = "sched.lastpoll";
	c[0].v = (int64_t)read_scalar(s, a, t, "lastpoll");
	c[1].name = "sched.procresizetime";
	c[1].v = (int64_t)read_scalar(s, a, t, "procresizetime");
	a = rt_global(s->rt, "runtime.work", &t);
	c[2].name = "work.tstart";
	c[2].v = (int64_t)read_scalar(s, a, t, "tstart");
	a = rt_global(s->rt, "runtime.memstats", &t);
	c[3].name = "memstats.last_gc_nanotime";
	c[3].v = (int64_t)read_scalar(s, a, t, "last_gc_nanotime");
	c[4].name = "max g.waitsince";
	c[4].v = 0;
	for (size_t i = 0; i < n; i++)
		if (gs[i].readable && gs[i].waitsince > c[4].v)
			c[4].v = gs[i].waitsince;
	*now = 0;
	*src = "none";
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (c[i].v > *now) {
			*now = c[i].v;
			*src = c[i].name;
		}
}

static const char *type_name_of_rtype(struct ga_session *s, uint64_t rtype)
{
	if (!rtype)
		return NULL;
	const struct ga_type *t = ga_dwarf_type(s->dw, rt_dwarf_of_rtype(s->rt, rtype));
	return t ? t->name : NULL;
}

/* hchan facts, read once per channel (many goroutines share one). */
static long chan_info(struct ga_session *s, struct ga_gr_state *st, uint64_t addr)
{
	uint64_t idx;
	if (ga_hash_get(&st->chan_cache, addr, &idx))
		return (long)idx;
	struct ga_chan c;
	memset(&c, 0, sizeof(c));
	c.addr = addr;
	c.dir = "";
	struct rt_hchan h;
	if (rt_chan_read(s->chans, addr, &h)) {
		c.readable = true;
		c.elem_type = type_name_of_rtype(s, h.elemtype);
		c.elem_size = h.elemsize;
		c.len = h.qcount;
		c.cap = h.dataqsiz;
		c.closed = h.closed;
		size_t n;
		bool broken;
		rt_waitq_gs(s->chans, h.recvq, NULL, 0, &n, &broken);
		c.recv_waiters = n;
		rt_waitq_gs(s->chans, h.sendq, NULL, 0, &n, &broken);
		c.send_waiters = n;
	}
	if (ga_vec_push(&st->chan_tmpl, c) || ga_hash_put(&st->chan_cache, addr, st->chan_tmpl.len - 1))
		return -1;
	return (long)(st->chan_tmpl.len - 1);
}

static int by_id(const void *a, const void *b)
{
	const struct ga_goroutine *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->g < y->g ? -1 : x->g > y->g;
}

/* Per-goroutine fields that need the walk; frames go to st->frames (offsets
 * are turned into pointers once every goroutine is done). */
static struct ga_error *fill_one(struct ga_session *s, struct ga_gr_state *st,
				 const struct rt_g *g, struct rt_stack *stack, int64_t now,
				 struct ga_goroutine *out, size_t *frame_off, size_t *chan_off)
{
	struct ga_rt *rt = s->rt;
	bool oom = false;
	char err[256] = "";
	memset(out, 0, sizeof(*out));
	out->g = g->addr;
	out->m = -1;
	out->waited_ns = -1;
	out->wait_reason = "";
	out->blocked_on = "";
	out->frames_from = "";
	*frame_off = st->frames.len;
	*chan_off = st->chans.len;
	if (!g->readable) {
		out->status = "?";
		if (g->missing == 1)
			snprintf(err, sizeof(err), "the g at 0x%llx (in runtime.allgs) is not in the core or not a g",
				 (unsigned long long)g->addr);
		else
			snprintf(err, sizeof(err), "%llu entries of runtime.allgs are nil, not in the core or not "
				 "a g (the first: 0x%llx)", (unsigned long long)g->missing,
				 (unsigned long long)g->addr);
		out->error = intern(st, err);
		return out->error ? NULL : &ga_error_nomem;
	}
	int64_t gwaiting = 4, gsyscall = 3, gleaked = -1;
	rt_const(rt, "runtime._Gwaiting", &gwaiting);
	rt_const(rt, "runtime._Gsyscall", &gsyscall);
	rt_const(rt, "runtime._Gleaked", &gleaked);
	out->id = g->goid;
	out->status = rt_gstatus_name(rt, g->status);
	bool waiting = (int64_t)g->status == gwaiting || (int64_t)g->status == gleaked;
	if (waiting)
		out->wait_reason = rt_waitreason(rt, g->waitreason);
	out->waitsince = (uint64_t)(g->waitsince > 0 ? g->waitsince : 0);
	if ((waiting || (int64_t)g->status == gsyscall) && g->waitsince > 0 && now > 0)
		out->waited_ns = now > g->waitsince ? now - g->waitsince : 0;
	out->locked_to_thread = g->lockedm != 0;
	out->stack_lo = g->stack_lo;
	out->stack_hi = g->stack_hi;
	out->parent_id = g->parent_goid;
	if (g->m) {
		struct rt_m m;
		if (rt_read_m(s->unwinder, g->m, &m))
			out->m = m.id;
	}
	/* printcreatedby: not for the main goroutine */
	if (g->goid != 1)
		location_at(s, st, g->gopc, true, &out->created_by, &oom);
	location_at(s, st, g->startpc, false, &out->start, &oom);
	struct rt_func sf;
	const char *start_raw = g->startpc && rt_pcln_find(s->pcln, g->startpc, &sf)
					? rt_pcln_name(s->pcln, &sf) : NULL;
	out->system = rt_g_is_system(rt, g, start_raw);

	struct ga_error *e = rt_unwind_g(s->unwinder, g, 0, stack);
	if (e)
		return e;
	out->stack_complete = stack->complete;
	if (stack->frames.len) {
		out->sp = stack->frames.v[0].sp;
		out->frames_from = rt_frame_how_name(stack->frames.v[0].how);
	}
	bool budget = false;
	for (size_t i = 0; i < stack->frames.len && !budget; i++) {
		const struct rt_frame *f = &stack->frames.v[i];
		/* a crafted core can give every goroutine a deep stack */
		if (st->frames.len + f->nlogical > MAX_TOTAL_FRAMES) {
			budget = true;
			break;
		}
		for (uint32_t j = 0; j < f->nlogical; j++) {
			const struct rt_logical *l = rt_frame_logical(s->unwinder, f, j);
			struct ga_frame fr = {print_name(s, st, l->name), l->file,
					      (uint32_t)(l->line > 0 ? l->line : 0), l->inlined, f->pc, f->sp,
					      f->fn.entry};
			if (!fr.function || ga_vec_push(&st->frames, fr))
				return &ga_error_nomem;
		}
	}
	if (stack->error[0])
		snprintf(err, sizeof(err), "stack: %s", stack->error);
	else if (budget)
		snprintf(err, sizeof(err), "stack: more than %u frames in all goroutines; the rest are not listed",
			 MAX_TOTAL_FRAMES);

	struct rt_blocked b;
	if ((e = rt_blocked_on(s->blocked, s->unwinder, g, out->wait_reason, stack, &b)))
		return e;
	out->blocked_on = rt_block_kind_name((enum rt_block_kind)b.kind);
	out->blocked_object = b.object;
	out->sema = b.sema;
	for (size_t i = 0; i < b.nchans; i++) {
		long ci = chan_info(s, st, b.chans[i].chan);
		if (ci < 0)
			return &ga_error_nomem;
		struct ga_chan c = st->chan_tmpl.v[ci];
		c.dir = b.chans[i].dir == RT_DIR_RECV ? "receive" : b.chans[i].dir == RT_DIR_SEND ? "send" : "";
		if (ga_vec_push(&st->chans, c))
			return &ga_error_nomem;
	}
	if (b.broken) {
		size_t l = strlen(err);
		snprintf(err + l, sizeof(err) - l, "%sg.waiting: a cycle or an unreadable sudog", l ? "; " : "");
	}
	if (err[0] && !(out->error = intern(st, err)))
		return &ga_error_nomem;
	return oom ? &ga_error_nomem : NULL;
}

struct ga_error *ga_session_goroutine_list(struct ga_session *s, const struct ga_goroutines **out)
{
	if (s->gr) {
		*out = &s->gr->list;
		return NULL;
	}
	struct rt_g *gs;
	size_t n;
	struct rt_unwinder *u;
	struct rt_blocked_ctx *bctx;
	struct ga_error *err = ga_session_goroutines(s, &gs, &n);
	if (!err)
		err = ga_session_unwinder(s, &u);
	if (!err)
		err = ga_session_blocked(s, &bctx);
	if (err)
		return ga_error_context(err, "listing goroutines");
	struct ga_gr_state *st = calloc(1, sizeof(*st));
	if (!st)
		return &ga_error_nomem;
	ga_strmap_init(&st->interned);
	ga_hash_init(&st->chan_cache);
	ga_hash_init(&st->loc_cache);
	s->gr = st;
	dump_time(s, gs, n, &st->list.now, &st->list.now_source);
	struct rt_stack stack = {0};
	/* offsets into frames/chans, fixed up into pointers at the end */
	size_t *offs = malloc(2 * (n ? n : 1) * sizeof(size_t));
	if (!offs)
		err = &ga_error_nomem;
	for (size_t i = 0; !err && i < n; i++) {
		const struct rt_g *g = &gs[i];
		if (rt_g_is_dead(s->rt, g))
			continue;
		if (!g->readable)
			st->list.unreadable += g->missing ? g->missing : 1;
		struct ga_goroutine gr;
		size_t fo, co;
		err = fill_one(s, st, g, &stack, st->list.now, &gr, &fo, &co);
		if (!err && ga_vec_push(&st->gs, gr))
			err = &ga_error_nomem;
		if (!err) {
			offs[2 * (st->gs.len - 1)] = fo;
			offs[2 * (st->gs.len - 1) + 1] = co;
		}
	}
	rt_stack_free(&stack);
	if (err) {
		free(offs);
		ga_session_goroutines_free(s);
		return err;
	}
	for (size_t i = 0; i < st->gs.len; i++) {
		struct ga_goroutine *g = &st->gs.v[i];
		size_t fo = offs[2 * i], co = offs[2 * i + 1];
		size_t fe = i + 1 < st->gs.len ? offs[2 * (i + 1)] : st->frames.len;
		size_t ce = i + 1 < st->gs.len ? offs[2 * (i + 1) + 1] : st->chans.len;
		g->frames = st->frames.v + fo;
		g->nframes = fe - fo;
		g->chans = st->chans.v + co;
		g->nchans = ce - co;
	}
	free(offs);
	ga_sort(st->gs.v, st->gs.len, sizeof(*st->gs.v), by_id);
	st->list.v = st->gs.v;
	st->list.n = st->gs.len;
	*out = &st->list;
	return NULL;
}

const struct ga_goroutine *ga_goroutine_find(const struct ga_goroutines *gs, uint64_t id)
{
	size_t lo = 0, hi = gs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gs->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < gs->n && gs->v[lo].id == id ? &gs->v[lo] : NULL;
}

bool ga_goroutine_matches(const struct ga_goroutine *g, const struct ga_goroutine_filter *f)
{
	if (!f)
		return true;
	if (f->user_only && g->system)
		return false;
	if (f->status && strcmp(g->status, f->status))
		return false;
	if (f->wait_reason && !strstr(g->wait_reason, f->wait_reason))
		return false;
	if (f->blocked_on && strcmp(g->blocked_on, f->blocked_on))
		return false;
	if (f->function) {
		bool hit = g->created_by.function && strstr(g->created_by.function, f->function);
		for (size_t i = 0; !hit && i < g->nframes; i++)
			hit = strstr(g->frames[i].function, f->function) != NULL;
		if (!hit)
			return false;
	}
	return true;
}

static uint64_t mix(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static uint64_t mixn(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull;
}

static bool streq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static uint64_t group_hash(const struct ga_goroutine *g)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = mix(h, g->status);
	h = mix(h, g->wait_reason);
	h = mix(h, g->created_by.function);
	h = mix(h, g->created_by.file);
	h = mixn(h, g->created_by.line);
	h = mixn(h, g->nframes);
	for (size_t i = 0; i < g->nframes; i++) {
		h = mix(h, g->frames[i].function);
		h = mix(h, g->frames[i].file);
		h = mixn(h, g->frames[i].line);
	}
	return h;
}

static bool same_group(const struct ga_goroutine *a, const struct ga_goroutine *b)
{
	if (!streq(a->status, b->status) || !streq(a->wait_reason, b->wait_reason) ||
	    !streq(a->created_by.function, b->created_by.function) ||
	    !streq(a->created_by.file, b->created_by.file) || a->created_by.line != b->created_by.line ||
	    a->nframes != b->nframes)
		return false;
	for (size_t i = 0; i < a->nframes; i++)
		if (!streq(a->frames[i].function, b->frames[i].function) ||
		    !streq(a->frames[i].file, b->frames[i].file) || a->frames[i].line != b->frames[i].line)
			return false;
	return true;
}

static int group_cmp(const void *x, const void *y)
{
	const struct ga_goroutine_group *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->first->id < b->first->id ? -1 : a->first->id > b->first->id;
}

struct ga_error *ga_goroutine_groups(const struct ga_goroutines *gs, const struct ga_goroutine_filter *f,
				     struct ga_goroutine_groups **out)
{
	*out = NULL;
	struct ga_goroutine_groups *r = calloc(1, sizeof(*r));
	uint32_t *group_of = malloc((gs->n ? gs->n : 1) * sizeof(uint32_t));
	GA_VEC(struct ga_goroutine_group) groups = {0};
	struct ga_hash index;
	ga_hash_init(&index);
	struct ga_error *err = NULL;
	if (!r || !group_of)
		err = &ga_error_nomem;
	for (size_t i = 0; !err && i < gs->n; i++) {
		const struct ga_goroutine *g = &gs->v[i];
		group_of[i] = UINT32_MAX;
		if (!ga_goroutine_matches(g, f))
			continue;
		r->goroutines++;
		uint64_t h = group_hash(g), gi;
		/* open addressing over the 64-bit hash: step on a mismatch */
		for (;;) {
			uint64_t key = h | 1;
			if (!ga_hash_get(&index, key, &gi)) {
				struct ga_goroutine_group ng = {g, NULL, 0, -1, -1};
				if (ga_vec_push(&groups, ng) || ga_hash_put(&index, key, groups.len - 1))
					err = &ga_error_nomem;
				gi = groups.len - 1;
				break;
			}
			if (same_group(groups.v[gi].first, g))
				break;
			h = h * 0x9e3779b97f4a7c15ull + 1;
		}
		if (err)
			break;
		struct ga_goroutine_group *gr = &groups.v[gi];
		gr->count++;
		if (g->waited_ns >= 0) {
			if (gr->waited_min_ns < 0 || g->waited_ns < gr->waited_min_ns)
				gr->waited_min_ns = g->waited_ns;
			if (g->waited_ns > gr->waited_max_ns)
				gr->waited_max_ns = g->waited_ns;
		}
		group_of[i] = (uint32_t)gi;
	}
	if (!err) {
		r->storage_ = malloc((r->goroutines ? r->goroutines : 1) * sizeof(*r->storage_));
		if (!r->storage_)
			err = &ga_error_nomem;
	}
	if (!err) {
		/* members laid out group after group, in id order */
		size_t pos = 0;
		for (size_t k = 0; k < groups.len; k++) {
			groups.v[k].members = r->storage_ + pos;
			pos += groups.v[k].count;
			groups.v[k].count = 0;
		}
		for (size_t i = 0; i < gs->n; i++) {
			if (group_of[i] == UINT32_MAX)
				continue;
			struct ga_goroutine_group *gr = &groups.v[group_of[i]];
			((const struct ga_goroutine **)gr->members)[gr->count++] = &gs->v[i];
		}
		ga_sort(groups.v, groups.len, sizeof(*groups.v), group_cmp);
		r->v = groups.v;
		r->n = groups.len;
	}
	free(group_of);
	ga_hash_free(&index);
	if (err) {
		ga_vec_free(&groups);
		if (r)
			free(r->storage_);
		free(r);
		return err;
	}
	*out = r;
	return NULL;
}

void ga_goroutine_groups_free(struct ga_goroutine_groups *g)
{
	if (!g)
		return;
	free(g->v);
	free(g->storage_);
	free(g);
}
