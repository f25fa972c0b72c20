/* What a parked goroutine is blocked on, in the vocabulary of
 * docs/leak-patterns.md (blocked_on): chan_receive, chan_send, nil_chan,
 * select, select_empty, mutex, rwmutex, waitgroup, cond, other.
 *
 * Sources, by preference:
 *   channel ops and select   g.waiting: one sudog per channel (sudog.c); for
 *                            a select, each case's direction is found by
 *                            looking for its sudog in c.recvq / c.sendq
 *   Mutex/RWMutex/WaitGroup  the semaphore address (sudog.elem) from
 *                            runtime.semtable (or g.waiting since Go 1.26);
 *                            the container is that address minus the
 *                            semaphore field's DWARF offset, the primitive is
 *                            told by the wait reason and, where that only
 *                            says "semacquire" (Go 1.19), by the frames
 *   sync.Cond                g.waiting.elem is the notifyList (Go 1.26+);
 *                            before, the sync.(*Cond).Wait frame's words are
 *                            tried as the *Cond whose notifyList holds g
 *
 *   rt_blocked_open(rt, chans, &b)                  once (reads the semtable)
 *   rt_blocked_on(b, u, &g, reason, &stack, &out)   per goroutine */
#ifndef GA_RT_BLOCKED_H
#define GA_RT_BLOCKED_H

#include "rt/chan.h"
#include "rt/sema.h"
#include "rt/unwind.h"

enum rt_block_kind {
	RT_BLOCK_NONE = 0, /* not parked */
	RT_BLOCK_CHAN_RECEIVE,
	RT_BLOCK_CHAN_SEND,
	RT_BLOCK_NIL_CHAN,
	RT_BLOCK_SELECT,
	RT_BLOCK_SELECT_EMPTY,
	RT_BLOCK_MUTEX,
	RT_BLOCK_RWMUTEX,
	RT_BLOCK_WAITGROUP,
	RT_BLOCK_COND,
	RT_BLOCK_OTHER,
};
/* "chan_receive", ...; "" for RT_BLOCK_NONE. */
const char *rt_block_kind_name(enum rt_block_kind k);

enum rt_chan_dir { RT_DIR_UNKNOWN = 0, RT_DIR_RECV = 1, RT_DIR_SEND = 2 };

struct rt_block_chan {
	uint64_t chan;   /* the hchan */
	uint64_t sudog;
	uint8_t dir;     /* enum rt_chan_dir */
};

#define RT_BLOCK_MAX_CHANS 64

struct rt_blocked {
	uint8_t kind;     /* enum rt_block_kind */
	uint64_t object;  /* the channel (one-channel ops), Mutex, RWMutex, WaitGroup or Cond; 0 if unknown */
	uint64_t sema;    /* semaphore address, or the notifyList of a Cond */
	struct rt_block_chan chans[RT_BLOCK_MAX_CHANS];
	size_t nchans;        /* stored */
	size_t nchans_total;  /* sudogs on g.waiting */
	bool broken;          /* g.waiting had a cycle or an unreadable sudog */
};

struct rt_blocked_ctx {
	struct ga_rt *rt;
	struct rt_chans *chans;
	struct rt_semtable sem;
	struct rt_field mutex_sema, rw_w, rw_writer, rw_reader, wg_sema, cond_notify;
	int64_t gwaiting, gleaked;
	/* Wait queues are read once each, not once per waiter (100 000
	 * goroutines on one Cond or channel would be quadratic). */
	struct ga_hash nl_done;   /* notifyList address -> 1 once walked */
	struct ga_hash nl_of_g;   /* g -> the (first walked) notifyList holding it */
	struct ga_hash q_done;    /* hchan address -> 1 once its queues were walked */
	struct ga_hash sudog_dir; /* sudog -> enum rt_chan_dir of the queue holding it */
};

struct ga_error *rt_blocked_open(struct ga_rt *rt, struct rt_chans *chans, struct rt_blocked_ctx **out);
void rt_blocked_close(struct rt_blocked_ctx *b);
/* wait_reason: the runtime's string for g (rt_waitreason). st: g's stack as
 * rt_unwind_g gave it (its frames' names disambiguate "semacquire").
 * Fails only for out-of-memory; what cannot be read is left 0 / broken. */
struct ga_error *rt_blocked_on(struct rt_blocked_ctx *b, const struct rt_unwinder *u, const struct rt_g *g,
		   const char *wait_reason, const struct rt_stack *st, struct rt_blocked *out);

#endif
