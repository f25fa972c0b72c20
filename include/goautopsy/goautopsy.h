/* goautopsy: read the core dump of a Go process with its executable.
 *
 * A session owns the core, the executable, the indexes and every analysis
 * built from them; nothing is global. Every fallible call returns a
 * struct ga_error * (NULL on success) that the caller must destroy. */
#ifndef GOAUTOPSY_H
#define GOAUTOPSY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goautopsy/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ga_session;

struct ga_session_options {
	const char *exe_path;  /* NULL: find it from the core (NT_FILE, AT_EXECFN) */
	const char *tmpdir;    /* where compressed/piped input is expanded */
	bool allow_truncated;  /* open a truncated core and read what is there */
	bool skip_exe_check;   /* do not compare the executable with the core */
	bool conservative_stacks; /* heap: scan goroutine stacks word by word, not by stack maps */
	bool type_provenance;  /* heap: keep why each object got its type (ga_heap_object_type);
				* costs 20 bytes per object, so off unless asked for */
};

/* core_path "-" reads standard input; zstd input is recognised by content. */
struct ga_error *ga_session_open(const char *core_path, const struct ga_session_options *opts,
				 struct ga_session **out);
void ga_session_close(struct ga_session *s);

struct ga_count {
	const char *name;
	uint64_t count;
};

struct ga_heap_info {
	uint64_t arenas;
	uint64_t arena_bytes;
	uint64_t page_size;
	uint64_t spans;             /* span descriptors in mheap_.allspans */
	uint64_t spans_inuse, spans_manual, spans_free;
	uint64_t inuse_span_bytes;  /* pages of in-use (object) spans */
	uint64_t manual_span_bytes; /* goroutine stacks and other manual spans */
	uint64_t alloc_objects;     /* allocCount summed over in-use spans */
	/* from the analyzer's own marking (goautopsy/heap.h) */
	bool marked;                /* false: the object graph could not be built */
	const char *mark_error;     /* why not, when !marked */
	uint64_t live_bytes, live_objects;
	uint64_t garbage_bytes, garbage_objects;
};

struct ga_info {
	const char *core_path;
	bool core_compressed;
	const char *executable;
	const char *exe_check;      /* how the executable was matched to the core */
	const char *go_version;     /* runtime.buildVersion */
	const char *goos, *goarch;
	const char *main_path;      /* main package path from build info */
	const char *main_module;
	const char *main_version;
	const char *const *build_settings; /* "key=value", n_build_settings of them */
	size_t n_build_settings;
	bool cgo;
	const char *goexperiment;   /* "" when none */
	int pid;
	const char *command;        /* from NT_PRPSINFO */
	int signal;                 /* fatal signal, 0 if none recorded */
	const char *signal_name;
	uint64_t signal_addr;
	uint32_t threads;           /* NT_PRSTATUS notes */
	uint32_t ms;                /* runtime.allm */
	int32_t gomaxprocs;
	uint64_t goroutines;        /* not dead */
	uint64_t user_goroutines;   /* what runtime.NumGoroutine counts */
	uint64_t goroutines_unreadable;
	const struct ga_count *by_status;      /* n_by_status entries */
	size_t n_by_status;
	const struct ga_count *by_wait_reason; /* waiting goroutines */
	size_t n_by_wait_reason;
	struct ga_heap_info heap;
};

/* The overview of the core; owned by the session. */
struct ga_error *ga_session_info(struct ga_session *s, const struct ga_info **out);

#ifdef __cplusplus
}
#endif
#endif
