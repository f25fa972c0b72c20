/* The Go runtime model: what the runtime's own structures say, read
 * through DWARF layouts and the memory reader. */
#ifndef GA_RT_RT_H
#define GA_RT_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vec.h"
#include "core/core.h"
#include "core/mem.h"
#include "exe/dwarf.h"
#include "exe/exe.h"
#include "goautopsy/error.h"

/* A field located through DWARF; ok=false when the field is absent. */
struct rt_field {
	bool ok;
	uint64_t off;
	uint64_t size;
	ga_type_id type;
};

struct rt_buildinfo {
	char *go_version;  /* from .go.buildinfo */
	char *path;        /* main package path */
	char *main_module, *main_version;
	GA_VEC(char *) settings; /* "key=value" */
	GA_VEC(char *) deps;     /* "path version" */
};

struct ga_rt {
	struct ga_core *core;
	struct ga_mem *mem;
	struct ga_exe *exe;
	struct ga_dwarf *dw;
	uint64_t bias;       /* runtime address = link-time address + bias */
	char *version;       /* runtime.buildVersion, e.g. "go1.26.8" */
	int major, minor, patch;
	struct rt_buildinfo bi;
	/* goroutine status names by value, from the runtime._G* constants */
	char *gstatus_names[32];
	int64_t gscan;        /* runtime._Gscan bit */
	int64_t gdead;
	int64_t gdeadextra;   /* -1 before Go 1.27 */
	char **waitreasons;   /* runtime.waitReasonStrings, read from the core */
	size_t nwaitreasons;
	/* runtime address of firstmoduledata.types: DW_AT_go_runtime_type holds
	 * a type descriptor's offset from it (an R_ADDROFF relocation); 0 if
	 * unreadable */
	uint64_t types_base;
};

struct ga_error *rt_open(struct ga_core *core, struct ga_mem *mem, struct ga_exe *exe,
			 struct ga_dwarf *dw, uint64_t bias, struct ga_rt **out);
void rt_close(struct ga_rt *rt);

/* Field `path` ("sched.sp", dotted) of the named struct. */
struct rt_field rt_field(struct ga_rt *rt, const char *type_name, const char *path);
struct rt_field rt_field_of(struct ga_rt *rt, ga_type_id type, const char *path);
/* As rt_field, then unwraps single-value wrappers (atomic.Uint32{value},
 * mSpanStateBox{s}) down to the scalar. */
struct rt_field rt_scalar_field(struct ga_rt *rt, const char *type_name, const char *path);
/* Fails with a message naming the struct and field when absent. */
struct ga_error *rt_need(const struct rt_field *f, const char *type_name, const char *path);

/* Runtime address of a global; 0 if absent. type_out optional. */
uint64_t rt_global(struct ga_rt *rt, const char *name, ga_type_id *type_out);
bool rt_const(struct ga_rt *rt, const char *name, int64_t *v);

/* The DWARF type of the runtime type descriptor at addr, 0 if none; and
 * back: the descriptor's runtime address of a DWARF type, 0 if none. */
ga_type_id rt_dwarf_of_rtype(struct ga_rt *rt, uint64_t addr);
uint64_t rt_rtype_of_dwarf(struct ga_rt *rt, ga_type_id id);

bool rt_read_ptr(struct ga_rt *rt, uint64_t addr, uint64_t *v);
/* Reads a scalar field of the struct at base. */
bool rt_read_field(struct ga_rt *rt, uint64_t base, const struct rt_field *f, uint64_t *v);
/* Reads a Go string header at addr. */
struct ga_error *rt_read_gostring(struct ga_rt *rt, uint64_t addr, uint64_t max, char **out);
/* Reads a slice header (ptr, len, cap) at addr. */
bool rt_read_slice(struct ga_rt *rt, uint64_t addr, uint64_t *ptr, uint64_t *len, uint64_t *cap);

/* Whether this runtime is at least go1.<minor>. Only where DWARF cannot tell. */
static inline bool rt_at_least(const struct ga_rt *rt, int minor)
{
	return rt->major > 1 || (rt->major == 1 && rt->minor >= minor);
}

const char *rt_gstatus_name(const struct ga_rt *rt, uint64_t status);
const char *rt_waitreason(const struct ga_rt *rt, uint64_t reason);

/* Parses the .go.buildinfo blob. */
struct ga_error *rt_parse_buildinfo(const uint8_t *data, uint64_t size, struct rt_buildinfo *bi);
void rt_buildinfo_free(struct rt_buildinfo *bi);
/* Whether the executable carries the marks of a Go program. */
bool rt_exe_is_go(const struct ga_exe *exe);

#endif
