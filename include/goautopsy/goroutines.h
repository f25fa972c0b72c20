/* Goroutines: every goroutine of the core with its state, wait, creator and
 * stack, as the Go runtime's own traceback would print them.
 *
 * The list is built once per session (lazily) and owned by it: pointers stay
 * valid until ga_session_close. Function names and file:line follow the
 * runtime's traceback printing ("panic" for runtime.gopanic, "[...]" for type
 * arguments since Go 1.21, inlined calls as their own frames); every frame
 * the runtime shows with GOTRACEBACK=system/crash is listed, runtime frames
 * included. */
#ifndef GOAUTOPSY_GOROUTINES_H
#define GOAUTOPSY_GOROUTINES_H

#include "goautopsy/goautopsy.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ga_location {
	const char *function; /* NULL when unknown */
	const char *file;
	uint32_t line;
	uint64_t pc;
	uint64_t entry;       /* the function's entry pc, 0 when unknown */
};

struct ga_frame {
	const char *function; /* as the runtime prints it */
	const char *file;
	uint32_t line;
	bool inlined;         /* an inlined call: pc/sp are those of the enclosing physical frame */
	uint64_t pc;          /* the physical frame's pc (a return address unless it was interrupted) */
	uint64_t sp;
	uint64_t entry;       /* entry pc of the physical frame's function: the runtime prints +pc-entry */
};

struct ga_chan {
	uint64_t addr;
	const char *elem_type; /* Go type of the elements, NULL when unknown */
	uint64_t elem_size;
	uint64_t len, cap;     /* buffered elements, buffer size */
	bool closed;
	bool readable;         /* false: the hchan could not be read */
	const char *dir;       /* what the goroutine waits to do: "receive", "send", "" unknown */
	uint64_t recv_waiters, send_waiters; /* goroutines queued on the channel */
};

struct ga_goroutine {
	uint64_t id;
	uint64_t g;                /* address of the runtime.g */
	const char *status;        /* the runtime's word: running, runnable, syscall, waiting, leaked, ... */
	const char *wait_reason;   /* the runtime's string, "" unless waiting */
	uint64_t waitsince;        /* runtime nanotime when the wait was first seen by a GC, 0 if not recorded */
	int64_t waited_ns;         /* dump time - waitsince; -1 when not recorded */
	bool system;               /* runtime.isSystemGoroutine: the default traceback hides it (the
	                              finalizer goroutine is a user one while it runs a finalizer) */
	bool locked_to_thread;
	int64_t m;                 /* id of the M running it, -1 if none */
	struct ga_location created_by;  /* function NULL for goroutine 1 and when gopc is unknown */
	uint64_t parent_id;        /* creating goroutine, 0 when not recorded (before Go 1.21) */
	struct ga_location start;  /* the function the goroutine started with */
	uint64_t stack_lo, stack_hi;
	uint64_t sp;               /* innermost stack pointer, 0 if unknown */
	const struct ga_frame *frames; /* innermost first */
	size_t nframes;
	const char *frames_from;   /* where the walk started: sched, syscall, vdso, registers, signal context */
	bool stack_complete;       /* the walk reached the goroutine's first frame (goexit) */
	const char *blocked_on;    /* chan_receive, chan_send, nil_chan, select, select_empty, mutex, rwmutex,
	                              waitgroup, cond, other; "" when not parked */
	uint64_t blocked_object;   /* channel / Mutex / RWMutex / WaitGroup / Cond address, 0 if unknown */
	uint64_t sema;             /* semaphore address (sync primitives) or the Cond's notifyList */
	const struct ga_chan *chans; /* channels of a channel operation or select */
	size_t nchans;
	const char *error;         /* what could not be read about this goroutine, NULL if nothing */
};

struct ga_goroutines {
	const struct ga_goroutine *v; /* sorted by id */
	size_t n;
	uint64_t unreadable;       /* entries of allgs whose g could not be read */
	int64_t now;               /* the dump time on the runtime's nanotime clock, 0 if unknown */
	const char *now_source;    /* which runtime field gave it */
};

/* Every goroutine that is not dead. */
struct ga_error *ga_session_goroutine_list(struct ga_session *s, const struct ga_goroutines **out);
/* One goroutine by id, or NULL. */
const struct ga_goroutine *ga_goroutine_find(const struct ga_goroutines *gs, uint64_t id);

struct ga_goroutine_filter {
	const char *status;        /* exact status word, or NULL */
	const char *wait_reason;   /* substring of the wait reason, or NULL */
	const char *function;      /* substring of any frame's function (or the creator's), or NULL */
	const char *blocked_on;    /* exact blocked_on kind, or NULL */
	bool user_only;            /* skip runtime system goroutines */
};
bool ga_goroutine_matches(const struct ga_goroutine *g, const struct ga_goroutine_filter *f);

/* Goroutines with identical state, wait reason, frames (function, file,
 * line) and creator, like panicparse or pprof -traces. */
struct ga_goroutine_group {
	const struct ga_goroutine *first; /* a representative (lowest id) */
	const struct ga_goroutine *const *members; /* ascending id */
	size_t count;
	int64_t waited_min_ns, waited_max_ns; /* -1 when none recorded */
};

struct ga_goroutine_groups {
	struct ga_goroutine_group *v; /* by count, descending; then by lowest id */
	size_t n;
	size_t goroutines;            /* total matching the filter */
	const struct ga_goroutine **storage_;
};

/* filter may be NULL. Free the result with ga_goroutine_groups_free. */
struct ga_error *ga_goroutine_groups(const struct ga_goroutines *gs, const struct ga_goroutine_filter *f,
				     struct ga_goroutine_groups **out);
void ga_goroutine_groups_free(struct ga_goroutine_groups *g);

#ifdef __cplusplus
}
#endif
#endif
