#include <stdlib.h>
#include <string.h>

#include "rt/blocked.h"

#define MAX_WAITING (1u << 16) /* select cases are bounded by 65536 */
#define MAX_COND_WORDS 512
#define MAX_QUEUE_STEPS (1u << 22)

const char *rt_block_kind_name(enum rt_block_kind k)
{
	switch (k) {
	case RT_BLOCK_NONE: return "";
	case RT_BLOCK_CHAN_RECEIVE: return "chan_receive";
	case RT_BLOCK_CHAN_SEND: return "chan_send";
	case RT_BLOCK_NIL_CHAN: return "nil_chan";
	case RT_BLOCK_SELECT: return "select";
	case RT_BLOCK_SELECT_EMPTY: return "select_empty";
	case RT_BLOCK_MUTEX: return "mutex";
	case RT_BLOCK_RWMUTEX: return "rwmutex";
	case RT_BLOCK_WAITGROUP: return "waitgroup";
	case RT_BLOCK_COND: return "cond";
	case RT_BLOCK_OTHER: return "other";
	}
	return "other";
}

static struct rt_field first_of(struct ga_rt *rt, const char *type, const char *a, const char *b)
{
	struct rt_field f = rt_field(rt, type, a);
	return f.ok || !b ? f : rt_field(rt, type, b);
}

struct ga_error *rt_blocked_open(struct ga_rt *rt, struct rt_chans *chans, struct rt_blocked_ctx **out)
{
	struct rt_blocked_ctx *b = calloc(1, sizeof(*b));
	if (!b)
		return &ga_error_nomem;
	b->rt = rt;
	b->chans = chans;
	struct ga_error *err = rt_semtable_read(chans, &b->sem);
	if (err) {
		free(b);
		return ga_error_context(err, "reading runtime.semtable");
	}
	/* Go 1.24 made sync.Mutex a wrapper of internal/sync.Mutex (field mu). */
	b->mutex_sema = first_of(rt, "sync.Mutex", "sema", "mu.sema");
	b->rw_w = rt_field(rt, "sync.RWMutex", "w");
	b->rw_writer = rt_field(rt, "sync.RWMutex", "writerSem");
	b->rw_reader = rt_field(rt, "sync.RWMutex", "readerSem");
	/* Go 1.19 keeps the WaitGroup semaphore in state2 on 64-bit (state()). */
	b->wg_sema = first_of(rt, "sync.WaitGroup", "sema", "state2");
	b->cond_notify = rt_field(rt, "sync.Cond", "notify");
	b->gwaiting = 4;
	rt_const(rt, "runtime._Gwaiting", &b->gwaiting);
	b->gleaked = -1;
	rt_const(rt, "runtime._Gleaked", &b->gleaked);
	ga_hash_init(&b->nl_done);
	ga_hash_init(&b->nl_of_g);
	ga_hash_init(&b->q_done);
	ga_hash_init(&b->sudog_dir);
	*out = b;
	return NULL;
}

void rt_blocked_close(struct rt_blocked_ctx *b)
{
	if (!b)
		return;
	rt_semtable_free(&b->sem);
	ga_hash_free(&b->nl_done);
	ga_hash_free(&b->nl_of_g);
	ga_hash_free(&b->q_done);
	ga_hash_free(&b->sudog_dir);
	free(b);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The kind the wait reason alone tells; "semacquire" (Go 1.19, and the
 * runtime's own semaphores) is refined from the frames. */
static enum rt_block_kind kind_of_reason(const char *r)
{
	if (starts(r, "chan receive (nil chan)") || starts(r, "chan send (nil chan)"))
		return RT_BLOCK_NIL_CHAN;
	if (starts(r, "chan receive"))
		return RT_BLOCK_CHAN_RECEIVE;
	if (starts(r, "chan send"))
		return RT_BLOCK_CHAN_SEND;
	if (starts(r, "select (no cases)"))
		return RT_BLOCK_SELECT_EMPTY;
	if (!strcmp(r, "select") || starts(r, "select ("))
		return RT_BLOCK_SELECT;
	if (starts(r, "sync.Mutex.Lock"))
		return RT_BLOCK_MUTEX;
	if (starts(r, "sync.RWMutex."))
		return RT_BLOCK_RWMUTEX;
	if (starts(r, "sync.WaitGroup.Wait"))
		return RT_BLOCK_WAITGROUP;
	if (starts(r, "sync.Cond.Wait"))
		return RT_BLOCK_COND;
	return RT_BLOCK_OTHER;
}

struct frame_marks {
	bool rw_lock, rw_rlock, mutex, wg, cond;
	size_t cond_frame; /* physical frame index of sync.(*Cond).Wait */
};

static void scan_frames(const struct rt_unwinder *u, const struct rt_stack *st, struct frame_marks *m)
{
	memset(m, 0, sizeof(*m));
	m->cond_frame = SIZE_MAX;
	/* only the innermost frames matter: the sync call that parked */
	for (size_t i = 0; st && i < st->frames.len && i < 32; i++) {
		const struct rt_frame *f = &st->frames.v[i];
		for (uint32_t j = 0; j < f->nlogical; j++) {
			const char *n = rt_frame_logical(u, f, j)->name;
			if (!strcmp(n, "sync.(*RWMutex).Lock"))
				m->rw_lock = true;
			else if (!strcmp(n, "sync.(*RWMutex).RLock"))
				m->rw_rlock = true;
			else if (!strcmp(n, "sync.(*Mutex).lockSlow") || !strcmp(n, "sync.(*Mutex).Lock") ||
				 !strcmp(n, "internal/sync.(*Mutex).lockSlow"))
				m->mutex = true;
			else if (!strcmp(n, "sync.(*WaitGroup).Wait"))
				m->wg = true;
			else if (!strcmp(n, "sync.(*Cond).Wait")) {
				m->cond = true;
				if (m->cond_frame == SIZE_MAX)
					m->cond_frame = i;
			}
		}
	}
}

struct waiting_ctx {
	struct rt_blocked *out;
	uint64_t g, first_elem;
	bool first;
};

static bool add_waiting(void *ctx, const struct rt_sudog *s)
{
	struct waiting_ctx *x = ctx;
	/* A semaphore waiter's sudog (Go 1.26 sets g.waiting for those too)
	 * chains the other waiters on the same address by waitlink: those are
	 * other goroutines' sudogs, not more cases of this one. */
	if (!x->first && s->g != x->g)
		return false;
	if (x->first)
		x->first_elem = s->elem;
	x->first = false;
	if (x->out->nchans < RT_BLOCK_MAX_CHANS) {
		struct rt_block_chan *c = &x->out->chans[x->out->nchans++];
		c->chan = s->c;
		c->sudog = s->addr;
		c->dir = RT_DIR_UNKNOWN;
	}
	x->out->nchans_total++;
	return true;
}

/* g.waiting: the sudogs of a channel operation or select, or (Go 1.26+) the
 * one sudog of a semaphore or notifyList wait. */
static void read_waiting(struct rt_blocked_ctx *b, const struct rt_g *g, struct rt_blocked *out,
			 uint64_t *first_elem)
{
	struct waiting_ctx x = {out, g->addr, 0, true};
	if (!rt_sudog_walk(b->chans, g->waiting, RT_LINK_WAITLINK, MAX_WAITING, add_waiting, &x))
		out->broken = true;
	*first_elem = x.first_elem;
}

static uint64_t minus(uint64_t addr, const struct rt_field *f)
{
	return addr && f->ok && addr >= f->off ? addr - f->off : 0;
}

struct index_ctx {
	struct ga_hash *h;
	uint64_t val;
	bool by_g;  /* key: the sudog's g (else the sudog itself) */
	bool keep;  /* keep an existing entry */
	bool oom;
};

static bool index_sudog(void *ctx, const struct rt_sudog *s)
{
	struct index_ctx *x = ctx;
	uint64_t key = x->by_g ? s->g : s->addr, old;
	if (!key || (x->keep && ga_hash_get(x->h, key, &old)))
		return true;
	if (ga_hash_put(x->h, key, x->val)) {
		x->oom = true;
		return false;
	}
	return true;
}

/* Whether g waits in the notifyList at nl; every list is walked once. */
static struct ga_error *notifylist_has_g(struct rt_blocked_ctx *b, uint64_t nl, uint64_t g, bool *has)
{
	uint64_t v, first;
	*has = false;
	if (!nl)
		return NULL;
	if (!ga_hash_get(&b->nl_done, nl, &v)) {
		if (ga_hash_put(&b->nl_done, nl, 1))
			return &ga_error_nomem;
		if (rt_notifylist_first(b->chans, nl, &first) && first) {
			struct index_ctx x = {&b->nl_of_g, nl, true, true, false};
			rt_sudog_walk(b->chans, first, RT_LINK_NEXT, MAX_QUEUE_STEPS, index_sudog, &x);
			if (x.oom)
				return &ga_error_nomem;
		}
	}
	*has = ga_hash_get(&b->nl_of_g, g, &v) && v == nl;
	return NULL;
}

/* Which queue of channel c holds sudog s; each channel is walked once. */
static struct ga_error *queue_dir(struct rt_blocked_ctx *b, uint64_t c, uint64_t s, uint8_t *dir)
{
	uint64_t v;
	*dir = RT_DIR_UNKNOWN;
	if (!ga_hash_get(&b->q_done, c, &v)) {
		if (ga_hash_put(&b->q_done, c, 1))
			return &ga_error_nomem;
		struct rt_hchan h;
		if (rt_chan_read(b->chans, c, &h)) {
			struct index_ctx r = {&b->sudog_dir, RT_DIR_RECV, false, false, false};
			struct index_ctx w = {&b->sudog_dir, RT_DIR_SEND, false, false, false};
			rt_sudog_walk(b->chans, h.recvq, RT_LINK_NEXT, MAX_QUEUE_STEPS, index_sudog, &r);
			rt_sudog_walk(b->chans, h.sendq, RT_LINK_NEXT, MAX_QUEUE_STEPS, index_sudog, &w);
			if (r.oom || w.oom)
				return &ga_error_nomem;
		}
	}
	if (ga_hash_get(&b->sudog_dir, s, &v))
		*dir = (uint8_t)v;
	return NULL;
}

/* Go 1.19 sync.Cond: find the *Cond among the words of the Wait frame. */
static struct ga_error *find_cond(struct rt_blocked_ctx *b, const struct rt_stack *st, size_t fi,
				   const struct rt_g *g, struct rt_blocked *out)
{
	if (!b->cond_notify.ok || fi >= st->frames.len)
		return NULL;
	const struct rt_frame *f = &st->frames.v[fi];
	uint64_t lo = f->sp, hi = f->argp + 8 * 8;
	for (uint64_t p = lo, n = 0; p < hi && n < MAX_COND_WORDS; p += 8, n++) {
		uint64_t w;
		if (!rt_read_ptr(b->rt, p, &w) || w < 4096)
			continue;
		uint64_t nl = w + b->cond_notify.off;
		bool has;
		struct ga_error *err = notifylist_has_g(b, nl, g->addr, &has);
		if (err)
			return err;
		if (has) {
			out->object = w;
			out->sema = nl;
			return NULL;
		}
	}
	return NULL;
}

struct ga_error *rt_blocked_on(struct rt_blocked_ctx *b, const struct rt_unwinder *u, const struct rt_g *g,
			       const char *wait_reason, const struct rt_stack *st, struct rt_blocked *out)
{
	struct ga_error *err = NULL;
	memset(out, 0, sizeof(*out));
	if (!g->readable || ((int64_t)g->status != b->gwaiting && (int64_t)g->status != b->gleaked))
		return NULL;
	enum rt_block_kind k = kind_of_reason(wait_reason ? wait_reason : "");
	struct frame_marks fm;
	scan_frames(u, st, &fm);
	bool semaish = k == RT_BLOCK_MUTEX || k == RT_BLOCK_RWMUTEX || k == RT_BLOCK_WAITGROUP ||
		       (wait_reason && starts(wait_reason, "semacquire"));
	if (semaish) {
		if (fm.rw_lock || fm.rw_rlock)
			k = RT_BLOCK_RWMUTEX;
		else if (fm.mutex)
			k = RT_BLOCK_MUTEX;
		else if (fm.wg)
			k = RT_BLOCK_WAITGROUP;
		else if (k != RT_BLOCK_MUTEX && k != RT_BLOCK_RWMUTEX && k != RT_BLOCK_WAITGROUP)
			k = RT_BLOCK_OTHER;
	}
	out->kind = (uint8_t)k;
	uint64_t elem = 0;
	read_waiting(b, g, out, &elem);
	switch (k) {
	case RT_BLOCK_CHAN_RECEIVE:
	case RT_BLOCK_CHAN_SEND:
		if (out->nchans) {
			out->object = out->chans[0].chan;
			out->chans[0].dir = k == RT_BLOCK_CHAN_SEND ? RT_DIR_SEND : RT_DIR_RECV;
		}
		break;
	case RT_BLOCK_SELECT:
		for (size_t i = 0; !err && i < out->nchans; i++)
			err = queue_dir(b, out->chans[i].chan, out->chans[i].sudog, &out->chans[i].dir);
		break;
	case RT_BLOCK_MUTEX:
	case RT_BLOCK_RWMUTEX:
	case RT_BLOCK_WAITGROUP:
	case RT_BLOCK_OTHER: {
		uint64_t sema = 0;
		if (!rt_sema_of_g(&b->sem, g->addr, &sema) && elem && semaish)
			sema = elem;
		/* a semaphore wait is not a channel wait: drop what g.waiting gave */
		out->nchans = out->nchans_total = 0;
		if (!sema)
			break;
		out->sema = sema;
		if (k == RT_BLOCK_MUTEX) {
			out->object = minus(sema, &b->mutex_sema);
		} else if (k == RT_BLOCK_WAITGROUP) {
			out->object = minus(sema, &b->wg_sema);
		} else if (k == RT_BLOCK_RWMUTEX) {
			if (fm.mutex && b->rw_w.ok)
				out->object = minus(minus(sema, &b->mutex_sema), &b->rw_w);
			else if (fm.rw_rlock || (wait_reason && !strcmp(wait_reason, "sync.RWMutex.RLock")))
				out->object = minus(sema, &b->rw_reader);
			else
				out->object = minus(sema, &b->rw_writer);
		}
		break;
	}
	case RT_BLOCK_COND:
		out->nchans = out->nchans_total = 0;
		{
			bool has = false;
			if (elem && b->cond_notify.ok)
				err = notifylist_has_g(b, elem, g->addr, &has);
			if (err)
				break;
			if (has) {
				out->sema = elem;
				out->object = minus(elem, &b->cond_notify);
			} else if (st && fm.cond_frame != SIZE_MAX) {
				err = find_cond(b, st, fm.cond_frame, g, out);
			}
		}
		break;
	default:
		out->nchans = out->nchans_total = 0;
		break;
	}
	return err;
}
