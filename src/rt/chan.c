#include <stdlib.h>
#include <string.h>

#include "rt/chan.h"

#define MAX_WAITQ_STEPS (1u << 22)

/* A pointer field that Go 1.26 wraps as maybeTraceablePtr{vp, vu} (or an
 * embedding of it): the address is in vu. Older releases: the field itself. */
static struct rt_field traceable(struct ga_rt *rt, const char *type, const char *name)
{
	struct rt_field f = rt_field(rt, type, name);
	for (int depth = 0; f.ok && depth < 3; depth++) {
		const struct ga_type *t = ga_dwarf_type(rt->dw, f.type);
		if (!t || t->kind != GA_K_STRUCT)
			return f;
		const struct ga_field *vu = ga_dwarf_field(rt->dw, f.type, "vu");
		const struct ga_field *next = vu;
		if (!next && t->nfields)
			next = &rt->dw->fields.v[t->first_field]; /* the embedded wrapper */
		if (!next)
			break;
		const struct ga_type *nt = ga_dwarf_type(rt->dw, next->type);
		f.off += next->offset;
		f.type = next->type;
		f.size = nt ? nt->size : 0;
		if (vu)
			return f;
	}
	return f;
}

struct ga_error *rt_chans_open(struct ga_rt *rt, struct rt_chans **out)
{
	struct rt_chans *c = calloc(1, sizeof(*c));
	if (!c)
		return &ga_error_nomem;
	c->rt = rt;
	c->walk_budget = RT_SUDOG_WALK_BUDGET;
	const struct ga_type *h = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, "runtime.hchan"));
	if (h) {
		const char *H = "runtime.hchan";
		c->hchan_size = h->size;
		c->qcount = rt_scalar_field(rt, H, "qcount");
		c->dataqsiz = rt_scalar_field(rt, H, "dataqsiz");
		c->buf = rt_scalar_field(rt, H, "buf");
		c->elemsize = rt_scalar_field(rt, H, "elemsize");
		c->closed = rt_scalar_field(rt, H, "closed");
		c->elemtype = rt_scalar_field(rt, H, "elemtype");
		c->sendx = rt_scalar_field(rt, H, "sendx");
		c->recvx = rt_scalar_field(rt, H, "recvx");
		c->recvq_first = rt_scalar_field(rt, H, "recvq.first");
		c->sendq_first = rt_scalar_field(rt, H, "sendq.first");
		c->timer = rt_scalar_field(rt, H, "timer");
		c->have_hchan = c->qcount.ok && c->dataqsiz.ok && c->closed.ok && c->recvq_first.ok &&
				c->sendq_first.ok;
	}
	const struct ga_type *s = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, "runtime.sudog"));
	if (s) {
		const char *S = "runtime.sudog";
		c->sudog_size = s->size;
		c->s_g = rt_scalar_field(rt, S, "g");
		c->s_next = rt_scalar_field(rt, S, "next");
		c->s_prev = rt_scalar_field(rt, S, "prev");
		c->s_elem = traceable(rt, S, "elem");
		c->s_c = traceable(rt, S, "c");
		c->s_parent = rt_scalar_field(rt, S, "parent");
		c->s_waitlink = rt_scalar_field(rt, S, "waitlink");
		c->s_waittail = rt_scalar_field(rt, S, "waittail");
		c->s_ticket = rt_scalar_field(rt, S, "ticket");
		c->s_isselect = rt_scalar_field(rt, S, "isSelect");
		c->have_sudog = c->s_g.ok && c->s_next.ok && c->s_elem.ok && c->s_waitlink.ok &&
				s->size <= 512;
	}
	*out = c;
	return NULL;
}

void rt_chans_close(struct rt_chans *c)
{
	free(c);
}

static uint64_t fld(const uint8_t *buf, uint64_t n, const struct rt_field *f)
{
	if (!f->ok || !f->size || f->size > 8 || f->off + f->size > n)
		return 0;
	uint64_t v = 0;
	memcpy(&v, buf + f->off, f->size);
	return v;
}

bool rt_chan_read(struct rt_chans *c, uint64_t addr, struct rt_hchan *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	uint8_t buf[512];
	if (!c->have_hchan || !addr || c->hchan_size > sizeof(buf) ||
	    !ga_mem_try_read(c->rt->mem, addr, buf, c->hchan_size))
		return false;
	uint64_t n = c->hchan_size;
	out->qcount = fld(buf, n, &c->qcount);
	out->dataqsiz = fld(buf, n, &c->dataqsiz);
	out->buf = fld(buf, n, &c->buf);
	out->elemsize = fld(buf, n, &c->elemsize);
	out->closed = fld(buf, n, &c->closed) != 0;
	out->elemtype = fld(buf, n, &c->elemtype);
	out->sendx = fld(buf, n, &c->sendx);
	out->recvx = fld(buf, n, &c->recvx);
	out->recvq = fld(buf, n, &c->recvq_first);
	out->sendq = fld(buf, n, &c->sendq_first);
	out->timer = fld(buf, n, &c->timer);
	return true;
}

bool rt_sudog_read(struct rt_chans *c, uint64_t addr, struct rt_sudog *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	uint8_t buf[512];
	if (!c->have_sudog || !addr || !ga_mem_try_read(c->rt->mem, addr, buf, c->sudog_size))
		return false;
	uint64_t n = c->sudog_size;
	out->g = fld(buf, n, &c->s_g);
	out->next = fld(buf, n, &c->s_next);
	out->prev = fld(buf, n, &c->s_prev);
	out->elem = fld(buf, n, &c->s_elem);
	out->c = fld(buf, n, &c->s_c);
	out->parent = fld(buf, n, &c->s_parent);
	out->waitlink = fld(buf, n, &c->s_waitlink);
	out->waittail = fld(buf, n, &c->s_waittail);
	out->ticket = (uint32_t)fld(buf, n, &c->s_ticket);
	out->is_select = fld(buf, n, &c->s_isselect) != 0;
	return true;
}

bool rt_sudog_walk(struct rt_chans *c, uint64_t first, enum rt_sudog_link link, size_t max_steps,
		   bool (*visit)(void *ctx, const struct rt_sudog *s), void *ctx)
{
	uint64_t tortoise = first, p = first;
	size_t power = 1, lam = 0;
	for (size_t steps = 0; p; steps++) {
		struct rt_sudog s;
		if (steps >= max_steps || !c->walk_budget || !rt_sudog_read(c, p, &s))
			return false;
		c->walk_budget--;
		if (!visit(ctx, &s))
			return true;
		p = link == RT_LINK_NEXT ? s.next : s.waitlink;
		if (p == tortoise)
			return false;
		if (++lam == power) {
			tortoise = p;
			power *= 2;
			lam = 0;
		}
	}
	return true;
}

struct gs_ctx {
	uint64_t *gs;
	size_t max, n;
};

static bool collect_g(void *ctx, const struct rt_sudog *s)
{
	struct gs_ctx *x = ctx;
	if (x->n < x->max)
		x->gs[x->n] = s->g;
	x->n++;
	return true;
}

void rt_waitq_gs(struct rt_chans *c, uint64_t first, uint64_t *gs, size_t max, size_t *n,
		 bool *broken)
{
	struct gs_ctx x = {gs, max, 0};
	*broken = !rt_sudog_walk(c, first, RT_LINK_NEXT, MAX_WAITQ_STEPS, collect_g, &x);
	*n = x.n;
}
