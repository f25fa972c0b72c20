/* ga_map_summary: the public view of src/rt/map.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "goautopsy/maps.h"
#include "session.h"

#define MAX_KEY_TEXT 64

struct map_summary_priv {
	struct ga_map_summary pub;
	struct ga_map_object *objects;
	struct ga_map_entry *entries;
};

static int span_cmp(const void *a, const void *b)
{
	const struct rt_span *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

/* In-use spans sorted by base, for finding the allocation holding a pointer. */
static struct ga_error *map_spans(struct ga_session *s)
{
	if (s->map_spans_done)
		return NULL;
	struct rt_span *all;
	size_t n;
	struct ga_error *err = ga_session_spans(s, &all, &n);
	if (err)
		return err;
	int64_t inuse;
	if (!rt_const(s->rt, "runtime.mSpanInUse", &inuse))
		inuse = 1;
	int64_t ps;
	s->map_page_size = rt_const(s->rt, "runtime._PageSize", &ps) && ps > 0 ? (uint64_t)ps : 8192;
	s->map_spans = calloc(n ? n : 1, sizeof(*s->map_spans));
	if (!s->map_spans)
		return &ga_error_nomem;
	for (size_t i = 0; i < n; i++)
		if (all[i].state == inuse && all[i].elemsize && all[i].npages &&
		    all[i].npages < (UINT64_MAX >> 14))
			s->map_spans[s->map_nspans++] = all[i];
	ga_sort(s->map_spans, s->map_nspans, sizeof(*s->map_spans), span_cmp);
	s->map_spans_done = true;
	return NULL;
}

static bool find_alloc(void *ctx, uint64_t addr, uint64_t *base, uint64_t *size)
{
	struct ga_session *s = ctx;
	size_t lo = 0, hi = s->map_nspans;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->map_spans[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	const struct rt_span *sp = &s->map_spans[lo - 1];
	uint64_t end = sp->base + sp->npages * s->map_page_size;
	if (addr >= end)
		return false;
	uint64_t slot = (addr - sp->base) / sp->elemsize;
	if (sp->nelems && slot >= sp->nelems)
		return false;
	*base = sp->base + slot * sp->elemsize;
	*size = sp->elemsize;
	return true;
}

static struct ga_error *layout_of(struct ga_session *s, ga_type_id map,
				  const struct rt_map_layout **out)
{
	uint64_t idx;
	if (ga_hash_get(&s->map_layout_idx, map, &idx)) {
		*out = &s->map_layouts.v[idx];
		return NULL;
	}
	struct rt_map_layout l;
	struct ga_error *err = rt_map_layout(s->rt, map, &l);
	if (err)
		return err;
	if (ga_vec_push(&s->map_layouts, l) ||
	    ga_hash_put(&s->map_layout_idx, map, s->map_layouts.len - 1))
		return &ga_error_nomem;
	*out = &s->map_layouts.v[s->map_layouts.len - 1];
	return NULL;
}

/* The key as text, for scalar and string keys. */
static char *render_key(struct ga_session *s, ga_type_id key, uint64_t addr)
{
	const struct ga_type *t = ga_dwarf_type(s->dw, key);
	if (!t || !addr)
		return NULL;
	char buf[64];
	uint64_t u = 0;
	switch (t->kind) {
	case GA_K_INT: case GA_K_INT8: case GA_K_INT16: case GA_K_INT32: case GA_K_INT64: {
		if (t->size > 8 || !ga_mem_uint(&s->mem, addr, (unsigned)t->size, &u))
			return NULL;
		unsigned sh = 64 - 8 * (unsigned)t->size;
		int64_t v = sh < 64 ? (int64_t)(u << sh) >> sh : (int64_t)u;
		snprintf(buf, sizeof(buf), "%" PRId64, v);
		return strdup(buf);
	}
	case GA_K_UINT: case GA_K_UINT8: case GA_K_UINT16: case GA_K_UINT32: case GA_K_UINT64:
	case GA_K_UINTPTR:
		if (t->size > 8 || !ga_mem_uint(&s->mem, addr, (unsigned)t->size, &u))
			return NULL;
		snprintf(buf, sizeof(buf), "%" PRIu64, u);
		return strdup(buf);
	case GA_K_BOOL:
		if (!ga_mem_uint(&s->mem, addr, 1, &u))
			return NULL;
		return strdup(u ? "true" : "false");
	case GA_K_PTR: case GA_K_UNSAFEPTR: case GA_K_CHAN:
		if (!ga_mem_u64(&s->mem, addr, &u))
			return NULL;
		snprintf(buf, sizeof(buf), "0x%" PRIx64, u);
		return strdup(buf);
	case GA_K_STRING: {
		uint64_t hdr[2];
		if (!ga_mem_try_read(&s->mem, addr, hdr, sizeof(hdr)))
			return NULL;
		uint64_t n = hdr[1] < MAX_KEY_TEXT ? hdr[1] : MAX_KEY_TEXT;
		char *raw = NULL;
		struct ga_error *err = ga_mem_string(&s->mem, hdr[0], n, MAX_KEY_TEXT, &raw);
		if (err) {
			ga_error_destroy(err);
			return NULL;
		}
		struct ga_strbuf sb;
		ga_sb_init(&sb);
		ga_sb_append(&sb, "\"");
		for (uint64_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)raw[i];
			if (c == '"' || c == '\\')
				ga_sb_printf(&sb, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				ga_sb_printf(&sb, "\\x%02x", c);
			else
				ga_sb_appendn(&sb, (const char *)&c, 1);
		}
		ga_sb_append(&sb, n < hdr[1] ? "\"..." : "\"");
		free(raw);
		return ga_sb_steal(&sb);
	}
	default:
		return NULL;
	}
}

struct entry_ctx {
	struct ga_session *s;
	const struct rt_map_layout *l;
	struct ga_map_entry *v;
	size_t n, max;
};

static bool collect_entry(void *ctx, const struct rt_map_entry *e)
{
	struct entry_ctx *c = ctx;
	if (c->n >= c->max)
		return false;
	struct ga_map_entry *o = &c->v[c->n++];
	o->key_addr = e->key;
	o->elem_addr = e->elem;
	o->key = render_key(c->s, c->l->key, e->key);
	return true;
}

static const char *type_name(struct ga_session *s, ga_type_id t)
{
	const struct ga_type *ty = ga_dwarf_type(s->dw, t);
	return ty && ty->name ? ty->name : "?";
}

struct ga_error *ga_map_summary(struct ga_session *s, uint64_t header, const char *map_type,
				size_t max_entries, struct ga_map_summary **out)
{
	*out = NULL;
	ga_type_id mt = ga_dwarf_type_by_name(s->dw, map_type);
	if (!mt)
		return ga_error_create(GA_ERR_NOT_FOUND, "no type %s in the executable's DWARF", map_type);
	const struct rt_map_layout *l;
	struct ga_error *err = layout_of(s, mt, &l);
	if (err)
		return err;
	struct rt_objfind find = {find_alloc, s};
	err = map_spans(s);
	if (err)
		return ga_error_context(err, "finding the map's allocations");
	struct rt_map_summary sum;
	err = rt_map_summarize(s->rt, l, header, &find, &sum);
	if (err)
		return ga_error_context(err, "map %s at 0x%" PRIx64, map_type, header);
	struct map_summary_priv *p = calloc(1, sizeof(*p));
	size_t nobj = sum.objects.len;
	if (p) {
		p->objects = calloc(nobj ? nobj : 1, sizeof(*p->objects));
		p->entries = calloc(max_entries ? max_entries : 1, sizeof(*p->entries));
	}
	if (!p || !p->objects || !p->entries) {
		if (p) {
			free(p->objects);
			free(p->entries);
		}
		free(p);
		rt_map_summary_free(&sum);
		return &ga_error_nomem;
	}
	struct ga_map_summary *m = &p->pub;
	m->map_type = type_name(s, l->map);
	m->key_type = type_name(s, l->key);
	m->elem_type = type_name(s, l->elem);
	m->layout = l->kind == RT_MAP_CLASSIC ? "classic" : "swiss";
	m->header = header;
	m->count = sum.st.count;
	m->live = sum.st.live;
	m->capacity = sum.st.capacity;
	m->old_capacity = sum.st.old_capacity;
	m->tombstones = sum.st.tombstones;
	m->key_size = l->key_size;
	m->elem_size = l->elem_size;
	m->indirect_key = l->indirect_key;
	m->indirect_elem = l->indirect_elem;
	m->slot_size = sum.slot_size;
	m->slot_bytes = sum.slot_bytes;
	m->storage_bytes = sum.storage_bytes;
	m->waste = sum.waste;
	m->indirect_bytes = sum.indirect_bytes;
	m->sizes_exact = sum.sizes_exact;
	m->B = sum.st.B;
	m->buckets = sum.st.buckets;
	m->oldbuckets = sum.st.oldbuckets;
	m->nevacuate = sum.st.nevacuate;
	m->noverflow = sum.st.noverflow;
	m->overflow_buckets = sum.st.overflow_buckets;
	m->growing = sum.st.growing;
	m->same_size_grow = sum.st.same_size_grow;
	m->dir_len = sum.st.dir_len;
	m->global_depth = sum.st.global_depth;
	m->tables = sum.st.tables;
	m->groups = sum.st.groups;
	for (size_t i = 0; i < nobj; i++) {
		const struct rt_map_object *o = &sum.objects.v[i];
		p->objects[i] = (struct ga_map_object){o->base, o->size, rt_map_obj_name(o->kind),
						       type_name(s, o->type), o->count};
	}
	m->objects = p->objects;
	m->n_objects = nobj;
	rt_map_summary_free(&sum);
	if (max_entries) {
		struct entry_ctx ec = {s, l, p->entries, 0, max_entries};
		struct rt_map_visitor v = {NULL, collect_entry, &ec};
		err = rt_map_walk(s->rt, l, header, &v, NULL);
		m->entries = p->entries;
		m->n_entries = ec.n;
		if (err) {
			ga_map_summary_free(m);
			return ga_error_context(err, "map %s at 0x%" PRIx64, map_type, header);
		}
	}
	*out = m;
	return NULL;
}

void ga_map_summary_free(struct ga_map_summary *m)
{
	if (!m)
		return;
	struct map_summary_priv *p = (struct map_summary_priv *)m;
	for (size_t i = 0; i < m->n_entries; i++)
		free((char *)p->entries[i].key);
	free(p->objects);
	free(p->entries);
	free(p);
}

struct ga_error *ga_map_global(struct ga_session *s, const char *name, uint64_t *header,
			       const char **map_type)
{
	ga_type_id t;
	uint64_t addr = rt_global(s->rt, name, &t);
	const struct ga_type *ty = ga_dwarf_type(s->dw, t);
	if (!addr)
		return ga_error_create(GA_ERR_NOT_FOUND, "no global variable %s in the executable's DWARF",
				       name);
	if (!ty || ty->kind != GA_K_MAP || !ty->name)
		return ga_error_create(GA_ERR_USAGE, "global %s is a %s, not a map", name,
				       ty && ty->name ? ty->name : "value of unknown type");
	if (!ga_mem_u64(&s->mem, addr, header))
		return ga_error_create(GA_ERR_FAULT, "global %s at 0x%" PRIx64 " not in core", name, addr);
	*map_type = ty->name;
	return NULL;
}
