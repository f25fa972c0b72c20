/* The one reader of the target's memory. A sorted table of regions, each
 * backed by core bytes, a mapped file (e.g. the executable's read-only
 * segments the kernel left out), or zeros. Every read can fail. */
#ifndef GA_CORE_MEM_H
#define GA_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vec.h"
#include "core/core.h"
#include "goautopsy/error.h"

enum ga_mem_source { GA_MEM_CORE, GA_MEM_FILE, GA_MEM_ZERO };

struct ga_mem_region {
	uint64_t start, end;
	enum ga_mem_source source;
	const uint8_t *data; /* bytes for [start, end) unless ZERO */
	uint32_t flags;      /* PF_* of the core segment */
};

struct ga_mem {
	GA_VEC(struct ga_mem_region) regions;
	size_t last; /* index of the last region hit: reads cluster */
	uint64_t bias; /* not used by reads; kept for messages */
};

/* A file the target had mapped, available to fill segments the core omits. */
struct ga_mem_backing {
	const char *path;    /* as NT_FILE names it */
	const uint8_t *data;
	size_t size;
};

struct ga_error *ga_mem_build(const struct ga_core *core, const struct ga_mem_backing *backs,
			      size_t nbacks, struct ga_mem *out);
void ga_mem_free(struct ga_mem *m);

/* Copies n bytes at addr, or fails with "address 0x… not in core". */
struct ga_error *ga_mem_read(struct ga_mem *m, uint64_t addr, void *buf, size_t n);
/* As ga_mem_read without building an error, for hot loops. */
bool ga_mem_try_read(struct ga_mem *m, uint64_t addr, void *buf, size_t n);
/* A pointer to n contiguous bytes at addr, or NULL. Zero-filled regions give
 * a pointer into a shared zero block when n fits it. Never write through it. */
const uint8_t *ga_mem_view(struct ga_mem *m, uint64_t addr, size_t n);
bool ga_mem_readable(struct ga_mem *m, uint64_t addr, size_t n);
/* The region holding addr, or NULL. */
const struct ga_mem_region *ga_mem_region_at(struct ga_mem *m, uint64_t addr);

static inline bool ga_mem_u64(struct ga_mem *m, uint64_t addr, uint64_t *v)
{
	return ga_mem_try_read(m, addr, v, 8);
}
static inline bool ga_mem_u32(struct ga_mem *m, uint64_t addr, uint32_t *v)
{
	return ga_mem_try_read(m, addr, v, 4);
}
static inline bool ga_mem_u16(struct ga_mem *m, uint64_t addr, uint16_t *v)
{
	return ga_mem_try_read(m, addr, v, 2);
}
static inline bool ga_mem_u8(struct ga_mem *m, uint64_t addr, uint8_t *v)
{
	return ga_mem_try_read(m, addr, v, 1);
}
/* Reads an unsigned little-endian integer of size 1, 2, 4 or 8. */
bool ga_mem_uint(struct ga_mem *m, uint64_t addr, unsigned size, uint64_t *v);
/* Reads a Go string's bytes (ptr,len) into a new NUL-terminated buffer,
 * refusing lengths over max. */
struct ga_error *ga_mem_string(struct ga_mem *m, uint64_t ptr, uint64_t len, uint64_t max,
			       char **out);
/* Reads a NUL-terminated C string of at most max bytes. */
struct ga_error *ga_mem_cstring(struct ga_mem *m, uint64_t addr, size_t max, char **out);

#endif
