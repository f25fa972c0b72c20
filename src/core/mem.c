#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const uint8_t zero_block[65536];

static int region_cmp(const void *a, const void *b)
{
	const struct ga_mem_region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int push(struct ga_mem *m, uint64_t start, uint64_t end, enum ga_mem_source src,
		const uint8_t *data, uint32_t flags)
{
	if (end <= start)
		return 0;
	struct ga_mem_region r = {start, end, src, data, flags};
	return ga_vec_push(&m->regions, r);
}

static const struct ga_mem_backing *backing_for(const struct ga_mem_backing *backs, size_t n,
						 const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (backs[i].path && !strcmp(backs[i].path, path))
			return &backs[i];
	return NULL;
}

/* Fills [lo, hi) of a segment whose bytes are not in the core from the
 * files NT_FILE names; what no file covers is zero if the kernel dumped
 * part of the segment (ELF semantics) and absent otherwise. */
static int fill_undumped(struct ga_mem *m, const struct ga_core *core,
			 const struct ga_core_segment *s, uint64_t lo, uint64_t hi,
			 const struct ga_mem_backing *backs, size_t nbacks)
{
	uint64_t a = lo;
	while (a < hi) {
		const struct ga_core_file_map *fm = ga_core_file_at(core, a);
		const struct ga_mem_backing *b = fm ? backing_for(backs, nbacks, fm->path) : NULL;
		if (fm && b) {
			uint64_t end = fm->end < hi ? fm->end : hi;
			uint64_t off = fm->file_offset + (a - fm->start);
			if (off < b->size) {
				uint64_t avail = b->size - off;
				uint64_t e2 = a + avail < end ? a + avail : end;
				if (push(m, a, e2, GA_MEM_FILE, b->data + off, s->flags))
					return -1;
				a = e2;
				continue;
			}
			a = end;
			continue;
		}
		/* up to the next file mapping start (or hi) */
		uint64_t next = hi;
		for (size_t i = 0; i < core->files.len; i++)
			if (core->files.v[i].start > a && core->files.v[i].start < next)
				next = core->files.v[i].start;
		if (s->filesz > 0 && push(m, a, next, GA_MEM_ZERO, NULL, s->flags))
			return -1;
		a = next;
	}
	return 0;
}

/* Index of the first of n sorted regions that ends after addr (n if none). */
static size_t first_ending_after(const struct ga_mem_region *r, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* gdb's gcore leaves read-only file mappings out of the core altogether
 * (no PT_LOAD at all), so the files NT_FILE names fill what no segment
 * covers. Regions are sorted and disjoint on entry and on return. */
static int fill_unlisted(struct ga_mem *m, const struct ga_core *core,
			 const struct ga_mem_backing *backs, size_t nbacks)
{
	size_t before = m->regions.len;
	for (size_t i = 0; i < core->files.len; i++) {
		const struct ga_core_file_map *fm = &core->files.v[i];
		const struct ga_mem_backing *b = backing_for(backs, nbacks, fm->path);
		if (!b || fm->file_offset >= b->size || fm->end <= fm->start)
			continue;
		uint64_t end = fm->end;
		if (b->size - fm->file_offset < end - fm->start)
			end = fm->start + (b->size - fm->file_offset);
		uint64_t a = fm->start;
		while (a < end) {
			size_t lo = first_ending_after(m->regions.v, before, a);
			if (lo < before && m->regions.v[lo].start <= a) {
				a = m->regions.v[lo].end;
				continue;
			}
			uint64_t next = lo < before && m->regions.v[lo].start < end ? m->regions.v[lo].start : end;
			if (push(m, a, next, GA_MEM_FILE, b->data + fm->file_offset + (a - fm->start), PF_R))
				return -1;
			a = next;
		}
	}
	if (m->regions.len != before)
		ga_sort(m->regions.v, m->regions.len, sizeof(m->regions.v[0]), region_cmp);
	return 0;
}

struct ga_error *ga_mem_build(const struct ga_core *core, const struct ga_mem_backing *backs,
			      size_t nbacks, struct ga_mem *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < core->segs.len; i++) {
		const struct ga_core_segment *s = &core->segs.v[i];
		if (!(s->flags & PF_R) && s->filesz == 0)
			continue; /* PROT_NONE reservations: nothing to read */
		if (push(out, s->vaddr, s->vaddr + s->filesz, GA_MEM_CORE,
			 core->file.data + s->offset, s->flags) ||
		    fill_undumped(out, core, s, s->vaddr + s->filesz, s->vaddr + s->memsz, backs, nbacks)) {
			ga_mem_free(out);
			return &ga_error_nomem;
		}
	}
	ga_sort(out->regions.v, out->regions.len, sizeof(out->regions.v[0]), region_cmp);
	/* Overlapping segments would make lookups ambiguous: keep the first. */
	size_t w = 0;
	for (size_t i = 0; i < out->regions.len; i++) {
		struct ga_mem_region r = out->regions.v[i];
		if (w && r.start < out->regions.v[w - 1].end) {
			uint64_t pend = out->regions.v[w - 1].end;
			if (r.end <= pend)
				continue;
			if (r.source != GA_MEM_ZERO)
				r.data += pend - r.start;
			r.start = pend;
		}
		out->regions.v[w++] = r;
	}
	out->regions.len = w;
	if (fill_unlisted(out, core, backs, nbacks)) {
		ga_mem_free(out);
		return &ga_error_nomem;
	}
	return NULL;
}

void ga_mem_free(struct ga_mem *m)
{
	ga_vec_free(&m->regions);
}

const struct ga_mem_region *ga_mem_region_at(struct ga_mem *m, uint64_t addr)
{
	size_t n = m->regions.len;
	if (!n)
		return NULL;
	if (m->last < n) {
		const struct ga_mem_region *r = &m->regions.v[m->last];
		if (addr >= r->start && addr < r->end)
			return r;
	}
	size_t lo = first_ending_after(m->regions.v, n, addr);
	if (lo < n && addr >= m->regions.v[lo].start) {
		m->last = lo;
		return &m->regions.v[lo];
	}
	return NULL;
}

bool ga_mem_try_read(struct ga_mem *m, uint64_t addr, void *buf, size_t n)
{
	uint8_t *dst = buf;
	while (n) {
		const struct ga_mem_region *r = ga_mem_region_at(m, addr);
		if (!r)
			return false;
		uint64_t avail = r->end - addr;
		size_t k = avail < n ? (size_t)avail : n;
		if (r->source == GA_MEM_ZERO)
			memset(dst, 0, k);
		else
			memcpy(dst, r->data + (addr - r->start), k);
		dst += k;
		addr += k;
		n -= k;
		if (n && addr == 0)
			return false; /* wrapped */
	}
	return true;
}

struct ga_error *ga_mem_read(struct ga_mem *m, uint64_t addr, void *buf, size_t n)
{
	if (ga_mem_try_read(m, addr, buf, n))
		return NULL;
	return ga_error_create(GA_ERR_FAULT, "address 0x%llx (%zu bytes) not in core",
			       (unsigned long long)addr, n);
}

const uint8_t *ga_mem_view(struct ga_mem *m, uint64_t addr, size_t n)
{
	const struct ga_mem_region *r = ga_mem_region_at(m, addr);
	if (!r || r->end - addr < n)
		return NULL;
	if (r->source == GA_MEM_ZERO)
		return n <= sizeof(zero_block) ? zero_block : NULL;
	return r->data + (addr - r->start);
}

bool ga_mem_readable(struct ga_mem *m, uint64_t addr, size_t n)
{
	while (n) {
		const struct ga_mem_region *r = ga_mem_region_at(m, addr);
		if (!r)
			return false;
		uint64_t avail = r->end - addr;
		if (avail >= n)
			return true;
		n -= (size_t)avail;
		addr = r->end;
	}
	return true;
}

bool ga_mem_uint(struct ga_mem *m, uint64_t addr, unsigned size, uint64_t *v)
{
	uint8_t b[8] = {0};
	if (size == 0 || size > 8 || !ga_mem_try_read(m, addr, b, size))
		return false;
	uint64_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint64_t)b[i] << (8 * i);
	*v = x;
	return true;
}

struct ga_error *ga_mem_string(struct ga_mem *m, uint64_t ptr, uint64_t len, uint64_t max,
			       char **out)
{
	if (len > max)
		return ga_error_create(GA_ERR_CORRUPT, "string at 0x%llx has implausible length %llu",
				       (unsigned long long)ptr, (unsigned long long)len);
	char *s = malloc((size_t)len + 1);
	if (!s)
		return &ga_error_nomem;
	if (len && !ga_mem_try_read(m, ptr, s, (size_t)len)) {
		free(s);
		return ga_error_create(GA_ERR_FAULT, "string bytes at 0x%llx (%llu bytes) not in core",
				       (unsigned long long)ptr, (unsigned long long)len);
	}
	s[len] = 0;
	*out = s;
	return NULL;
}

struct ga_error *ga_mem_cstring(struct ga_mem *m, uint64_t addr, size_t max, char **out)
{
	char *s = malloc(max + 1);
	if (!s)
		return &ga_error_nomem;
	size_t i = 0;
	for (; i < max; i++) {
		uint8_t c;
		if (!ga_mem_u8(m, addr + i, &c)) {
			free(s);
			return ga_error_create(GA_ERR_FAULT, "string at 0x%llx not in core",
					       (unsigned long long)addr);
		}
		s[i] = (char)c;
		if (!c)
			break;
	}
	s[i] = 0;
	*out = s;
	return NULL;
}
