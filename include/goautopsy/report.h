/* The leak report: one detector per pattern of docs/leak-patterns.md run
 * over the object graph and the goroutines, findings ranked by the memory
 * they waste.
 *
 *   struct ga_report_options o;  ga_report_options_default(&o);
 *   struct ga_report *r;         ga_session_report(s, &o, &r);
 *   ... r->findings[0 .. r->nfindings) ...
 *   ga_report_free(r);
 *
 * Finding kinds are the stable identifiers of docs/leak-patterns.md. The
 * thresholds (min_waste, min_ratio) apply to the memory-shape kinds; a
 * leaked goroutine group, a deadlock and a finalizer cycle are reported
 * whatever they waste. Candidates under a threshold are kept apart in
 * r->suppressed with the reason, so nothing is hidden on request. */
#ifndef GOAUTOPSY_REPORT_H
#define GOAUTOPSY_REPORT_H

#include "goautopsy/goautopsy.h"
#include "goautopsy/goroutines.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GA_REPORT_SCHEMA_VERSION 1

/* Defaults; docs/detectors.md says why. */
#define GA_REPORT_MIN_WASTE (1ull << 20)
#define GA_REPORT_MIN_RATIO 0.75

struct ga_report_options {
	uint64_t min_waste;  /* bytes a finding must waste to be reported */
	double min_ratio;    /* waste / size of the allocation(s) it pins, 0..1 */
	bool keep_suppressed; /* fill ga_report.suppressed */
};

/* One object a finding is about. */
struct ga_finding_object {
	uint64_t addr, size;
	const char *type;    /* Go type, "" when unknown */
	const char *role;    /* "backing array", "window", "map storage", "cycle", "goroutine stack", ... */
	const char *holder;  /* readable root path, NULL when unknown */
	uint64_t offset;     /* where the reference points into the object */
	uint64_t len;        /* bytes of the object the reference can use */
};

struct ga_finding {
	const char *kind;        /* subslice_pins_array, ..., goroutine_leak, deadlock */
	const char *severity;    /* high, medium, low */
	const char *title;       /* one line */
	uint64_t waste_bytes;    /* memory kept alive only by the pattern */
	uint64_t retained_bytes; /* everything the holder keeps alive through it */
	double ratio;            /* waste / size of the pinned allocation(s) */
	const char *holder;      /* "main.cache[\"k\"].ID", "goroutine 17 main.worker var buf" */
	struct ga_location location; /* the Go source that holds it (frame) or allocated it; function NULL if unknown */
	const char *fix;         /* the fix sentence of the patterns page */
	const struct ga_finding_object *objects;
	size_t nobjects;
	/* slices, strings, maps: len and cap in elements (maps: live entries
	 * and slots), elem_size in bytes; 0 when not applicable */
	uint64_t len, cap, elem_size;
	/* goroutine_leak, deadlock */
	const char *blocked_on;  /* leak-patterns.md's word; NULL for other kinds */
	const char *wait_reason;
	uint64_t count;          /* goroutines in the group; 1 for other kinds */
	struct ga_location created_by;
	int64_t longest_wait_ns; /* -1 when the runtime did not record it */
	uint64_t stack_bytes;    /* stacks of the group (counted in waste) */
	uint64_t queued;         /* finalizers or cleanups queued behind a blocked finalizer/cleanup goroutine */
	const struct ga_goroutine *example; /* one member (owned by the session) */
	const uint64_t *goroutines;  /* goroutine ids */
	size_t ngoroutines;
	/* deadlock: goroutines[i] waits for mutexes[i], which
	 * goroutines[(i + 1) % n] holds; one goroutine for a self-deadlock */
	const uint64_t *mutexes;
	size_t nmutexes;
	const char *evidence;    /* how the finding was inferred, NULL if plain */
	const char *suppressed;  /* why it was not reported; NULL when reported */
};

struct ga_report {
	int schema_version;
	const char *go_version;
	uint64_t heap_inuse;     /* pages of in-use spans (HeapInuse) */
	uint64_t heap_live;      /* reachable bytes */
	uint64_t heap_alloc;     /* allocated bytes */
	uint64_t stack_inuse;    /* manual spans: goroutine stacks and others */
	uint64_t attributed;     /* waste of the reported findings, summed */
	uint64_t goroutines;
	/* how goroutine stacks were scanned: by the object graph with stack
	 * maps or conservatively, and how many of the latter the detectors
	 * re-scanned with the stack maps themselves */
	uint64_t stacks_precise, stacks_conservative, stacks_rescanned;
	struct ga_finding *findings;   /* by waste, descending */
	size_t nfindings;
	struct ga_finding *suppressed; /* when keep_suppressed */
	size_t nsuppressed;
	size_t suppressed_total;       /* candidates suppressed, kept or not */
	const char *const *errors;     /* "kind: message" for detectors that could not run */
	size_t nerrors;
	struct ga_report_options options;
	double seconds;          /* time spent in the detectors */
};

void ga_report_options_default(struct ga_report_options *o);
/* Runs every detector. Free the result with ga_report_free. */
struct ga_error *ga_session_report(struct ga_session *s, const struct ga_report_options *o,
				   struct ga_report **out);
void ga_report_free(struct ga_report *r);

/* The finding kinds, in the order of docs/leak-patterns.md. */
const char *const *ga_finding_kinds(size_t *n);
/* The fix sentence for a kind, "" for an unknown kind. */
const char *ga_finding_fix(const char *kind);

#ifdef __cplusplus
}
#endif
#endif
