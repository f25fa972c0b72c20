/* Channels (runtime.hchan), their wait queues and the sudogs in them
 * (runtime/chan.go, runtime/runtime2.go). Layouts from DWARF.
 *
 *   struct rt_chans *c;  rt_chans_open(rt, &c);        once per session
 *   struct rt_hchan h;   rt_chan_read(c, addr, &h)     decode one hchan
 *   rt_waitq_gs(c, h.recvq, gs, max, &n, &broken)      the goroutines queued
 *   rt_sudog_read(c, addr, &s)                         one sudog
 * Since Go 1.26 sudog.elem and sudog.c are maybeTraceablePtr{vp, vu}: the
 * value is read from vu (vp is cleared while the leak detector runs). */
#ifndef GA_RT_CHAN_H
#define GA_RT_CHAN_H

#include "rt/rt.h"

struct rt_hchan {
	uint64_t addr;
	uint64_t qcount;    /* elements in the buffer */
	uint64_t dataqsiz;  /* buffer capacity; 0 for an unbuffered channel */
	uint64_t buf;
	uint64_t elemsize;
	bool closed;
	uint64_t elemtype;  /* runtime address of the element's *_type */
	uint64_t sendx, recvx;
	uint64_t recvq, sendq; /* first sudog of each wait queue, 0 if empty */
	uint64_t timer;     /* Go 1.23+: the *timer of a time.Timer/Ticker channel */
};

struct rt_sudog {
	uint64_t addr;
	uint64_t g, next, prev, elem, c;
	uint64_t parent, waitlink, waittail;
	uint32_t ticket;
	bool is_select;
};

struct rt_chans {
	struct ga_rt *rt;
	bool have_hchan, have_sudog;
	uint64_t hchan_size, sudog_size;
	struct rt_field qcount, dataqsiz, buf, elemsize, closed, elemtype, sendx, recvx,
		recvq_first, sendq_first, timer;
	struct rt_field s_g, s_next, s_prev, s_elem, s_c, s_parent, s_waitlink, s_waittail,
		s_ticket, s_isselect;
	/* sudogs rt_sudog_walk may still read, all walks together: lists that
	 * overlap (a crafted core can make every channel's queue a different
	 * entry into one long list) must not add up to hours */
	uint64_t walk_budget;
};

#define RT_SUDOG_WALK_BUDGET (1ull << 26)

/* Layouts of hchan and sudog; never fails for want of them (have_* say). */
struct ga_error *rt_chans_open(struct ga_rt *rt, struct rt_chans **out);
void rt_chans_close(struct rt_chans *c);

bool rt_chan_read(struct rt_chans *c, uint64_t addr, struct rt_hchan *out);
bool rt_sudog_read(struct rt_chans *c, uint64_t addr, struct rt_sudog *out);
enum rt_sudog_link { RT_LINK_NEXT, RT_LINK_WAITLINK };
/* Walks a list of sudogs linked by next (wait queues, notifyLists) or by
 * waitlink (g.waiting, same-address semaphore waiters), calling visit on
 * each until it returns false. Cycles are caught (Brent) and the walk is
 * bounded by max_steps and by what is left of c->walk_budget. Returns false
 * when the list is broken: a cycle, an unreadable sudog, longer than
 * max_steps, or the budget is spent. */
bool rt_sudog_walk(struct rt_chans *c, uint64_t first, enum rt_sudog_link link, size_t max_steps,
		   bool (*visit)(void *ctx, const struct rt_sudog *s), void *ctx);
/* Goroutines (g addresses) queued on a waitq starting at sudog `first`,
 * following sudog.next. At most max are stored; *n is how many were found
 * (bounded by a step limit); *broken is set when the list has a cycle or an
 * unreadable sudog. */
void rt_waitq_gs(struct rt_chans *c, uint64_t first, uint64_t *gs, size_t max, size_t *n,
		 bool *broken);

#endif
