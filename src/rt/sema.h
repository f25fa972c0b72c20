/* Goroutines parked on semaphores (runtime/sema.go): runtime.semtable holds
 * 251 treaps of sudogs keyed by the semaphore's address (sudog.elem), one
 * sudog per distinct address with the other waiters chained by waitlink.
 * sync.Cond waiters are in the Cond's own notifyList instead.
 *
 *   struct rt_semtable st;  rt_semtable_read(chans, &st);
 *   rt_sema_of_g(&st, g, &addr)        the semaphore a goroutine waits on
 *   rt_notifylist_first(chans, nl, &s) the first waiter's sudog of a notifyList
 *                                      (linked by sudog.next)
 *   rt_semtable_free(&st); */
#ifndef GA_RT_SEMA_H
#define GA_RT_SEMA_H

#include "base/hash.h"
#include "rt/chan.h"

struct rt_semtable {
	struct ga_hash g_sema;   /* g address -> semaphore address */
	size_t waiters;          /* sudogs found */
	bool broken;             /* a cycle or an unreadable node was met */
	bool present;            /* runtime.semtable was found */
};

struct ga_error *rt_semtable_read(struct rt_chans *c, struct rt_semtable *out);
void rt_semtable_free(struct rt_semtable *st);
bool rt_sema_of_g(const struct rt_semtable *st, uint64_t g, uint64_t *sema);

/* sync.Cond: the first sudog of the notifyList at nl (0 when empty); false
 * when it cannot be read. The waiters are linked by sudog.next. */
bool rt_notifylist_first(struct rt_chans *c, uint64_t nl, uint64_t *first);

#endif
