#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "rt/map.h"

/* A table's capacity is a uint16 (internal/runtime/maps/table.go), so a
 * table never has more groups than this. */
#define MAX_TABLE_GROUPS (1u << 16)
/* Directory of at most 2^32 tables: far beyond any real heap. */
#define MAX_GLOBAL_DEPTH 32
#define MAX_SLOTS 64

static const char *const obj_names[RT_MAP_OBJ_KINDS] = {
	[RT_MAP_OBJ_BUCKETS] = "buckets",
	[RT_MAP_OBJ_OLDBUCKETS] = "oldbuckets",
	[RT_MAP_OBJ_OVERFLOW] = "overflow bucket",
	[RT_MAP_OBJ_OLDOVERFLOW] = "old overflow bucket",
	[RT_MAP_OBJ_EXTRA] = "mapextra",
	[RT_MAP_OBJ_OVERFLOW_LIST] = "overflow list",
	[RT_MAP_OBJ_SMALL_GROUP] = "group",
	[RT_MAP_OBJ_DIRECTORY] = "directory",
	[RT_MAP_OBJ_TABLE] = "table",
	[RT_MAP_OBJ_GROUPS] = "groups",
};

const char *rt_map_obj_name(enum rt_map_obj k)
{
	return k > 0 && k < RT_MAP_OBJ_KINDS ? obj_names[k] : "?";
}

static int64_t const_or(struct ga_rt *rt, const char *name, int64_t dflt)
{
	int64_t v;
	return rt_const(rt, name, &v) ? v : dflt;
}

static const struct ga_type *ty(struct ga_rt *rt, ga_type_id id)
{
	return ga_dwarf_type(rt->dw, id);
}

/* The pointee of a pointer type, or 0. */
static ga_type_id pointee(struct ga_rt *rt, ga_type_id id)
{
	const struct ga_type *t = ty(rt, id);
	return t && t->kind == GA_K_PTR ? t->elem : 0;
}

static struct ga_error *bad_layout(struct ga_rt *rt, ga_type_id map, const char *what)
{
	const struct ga_type *t = ty(rt, map);
	return ga_error_create(GA_ERR_UNSUPPORTED, "map type %s: %s",
			       t && t->name ? t->name : "?", what);
}

/* Stored slot type vs the user's type: the runtime stores K (or V) larger
 * than 128 bytes behind a pointer, which DWARF shows as a pointer field of
 * a different size than K. */
static bool is_indirect(struct ga_rt *rt, ga_type_id stored, ga_type_id user)
{
	const struct ga_type *s = ty(rt, stored), *u = ty(rt, user);
	return s && u && s->kind == GA_K_PTR && s->size != u->size;
}

static struct ga_error *classic_layout(struct ga_rt *rt, struct rt_map_layout *l)
{
	ga_type_id h = l->header;
	struct rt_field bk = rt_field_of(rt, h, "buckets");
	l->bucket = pointee(rt, bk.type);
	const struct ga_type *bt = ty(rt, l->bucket);
	struct rt_field th = rt_field_of(rt, l->bucket, "tophash");
	struct rt_field keys = rt_field_of(rt, l->bucket, "keys");
	struct rt_field vals = rt_field_of(rt, l->bucket, "values");
	struct rt_field ovf = rt_field_of(rt, l->bucket, "overflow");
	const struct ga_type *tht = ty(rt, th.type), *kt = ty(rt, keys.type), *vt = ty(rt, vals.type);
	if (!bt || !th.ok || !keys.ok || !vals.ok || !ovf.ok || !tht || !kt || !vt ||
	    tht->kind != GA_K_ARRAY || kt->kind != GA_K_ARRAY || vt->kind != GA_K_ARRAY)
		return bad_layout(rt, l->map, "DWARF bucket type lacks tophash/keys/values/overflow");
	l->bucket_size = bt->size;
	l->slots = (uint32_t)(tht->count <= MAX_SLOTS ? tht->count : 0);
	if (!l->slots || kt->count != l->slots || vt->count != l->slots)
		return bad_layout(rt, l->map, "bucket arrays disagree on the slot count");
	l->ctrl_off = th.off;
	l->keys_off = keys.off;
	l->elems_off = vals.off;
	l->key_stride = kt->count ? kt->size / kt->count : 0;
	l->elem_stride = vt->count ? vt->size / vt->count : 0;
	l->overflow_off = ovf.off;
	l->slot_size = l->key_stride + l->elem_stride;
	l->indirect_key = is_indirect(rt, kt->elem, l->key);
	l->indirect_elem = is_indirect(rt, vt->elem, l->elem);
	if (l->ctrl_off + l->slots > l->bucket_size || l->overflow_off + 8 > l->bucket_size ||
	    l->keys_off + (uint64_t)l->slots * l->key_stride > l->bucket_size ||
	    l->elems_off + (uint64_t)l->slots * l->elem_stride > l->bucket_size)
		return bad_layout(rt, l->map, "bucket fields overrun the bucket");

	l->count = rt_field_of(rt, h, "count");
	l->flags = rt_field_of(rt, h, "flags");
	l->B = rt_field_of(rt, h, "B");
	l->noverflow = rt_field_of(rt, h, "noverflow");
	l->buckets = bk;
	l->oldbuckets = rt_field_of(rt, h, "oldbuckets");
	l->nevacuate = rt_field_of(rt, h, "nevacuate");
	l->xtra = rt_field_of(rt, h, "extra");
	if (!l->count.ok || !l->B.ok || !l->oldbuckets.ok || !l->flags.ok)
		return bad_layout(rt, l->map, "DWARF map header lacks count/flags/B/oldbuckets");
	l->extra = pointee(rt, l->xtra.type);
	if (l->extra) {
		const struct ga_type *et = ty(rt, l->extra);
		l->extra_size = et ? et->size : 0;
		l->x_overflow = rt_field_of(rt, l->extra, "overflow");
		l->x_oldoverflow = rt_field_of(rt, l->extra, "oldoverflow");
		l->x_next_overflow = rt_field_of(rt, l->extra, "nextOverflow");
	}
	/* The tophash states and flags of runtime/map.go; the defaults are
	 * their values there (identical from Go 1.9 to 1.25). */
	l->empty_rest = const_or(rt, "runtime.emptyRest", 0);
	l->empty_one = const_or(rt, "runtime.emptyOne", 1);
	l->evacuated_x = const_or(rt, "runtime.evacuatedX", 2);
	l->evacuated_y = const_or(rt, "runtime.evacuatedY", 3);
	l->evacuated_empty = const_or(rt, "runtime.evacuatedEmpty", 4);
	l->min_top_hash = const_or(rt, "runtime.minTopHash", 5);
	l->same_size_grow = const_or(rt, "runtime.sameSizeGrow", 8);
	return NULL;
}

static struct ga_error *swiss_layout(struct ga_rt *rt, struct rt_map_layout *l)
{
	ga_type_id h = l->header;
	l->used = rt_field_of(rt, h, "used");
	l->dir_ptr = rt_field_of(rt, h, "dirPtr");
	l->dir_len = rt_field_of(rt, h, "dirLen");
	l->global_depth = rt_field_of(rt, h, "globalDepth");
	if (!l->used.ok || !l->dir_ptr.ok || !l->dir_len.ok || !l->global_depth.ok)
		return bad_layout(rt, l->map, "DWARF map header lacks used/dirPtr/dirLen/globalDepth");
	/* dirPtr is **table<K,V>: a pointer to the directory's first entry */
	l->table_ptr = pointee(rt, l->dir_ptr.type);
	l->table = pointee(rt, l->table_ptr);
	const struct ga_type *tt = ty(rt, l->table);
	if (!tt)
		return bad_layout(rt, l->map, "DWARF map header's dirPtr is not **table");
	l->table_size = tt->size;
	l->t_used = rt_field_of(rt, l->table, "used");
	l->t_capacity = rt_field_of(rt, l->table, "capacity");
	l->t_growth_left = rt_field_of(rt, l->table, "growthLeft");
	l->t_local_depth = rt_field_of(rt, l->table, "localDepth");
	l->t_index = rt_field_of(rt, l->table, "index");
	l->t_data = rt_field_of(rt, l->table, "groups.data");
	l->t_length_mask = rt_field_of(rt, l->table, "groups.lengthMask");
	if (!l->t_used.ok || !l->t_capacity.ok || !l->t_data.ok || !l->t_length_mask.ok)
		return bad_layout(rt, l->map, "DWARF table type lacks used/capacity/groups");
	l->bucket = pointee(rt, l->t_data.type);
	const struct ga_type *gt = ty(rt, l->bucket);
	struct rt_field ctrl = rt_field_of(rt, l->bucket, "ctrl");
	if (!gt || !ctrl.ok || ctrl.size != 8)
		return bad_layout(rt, l->map, "DWARF group type lacks its ctrl word");
	l->bucket_size = gt->size;
	l->ctrl_off = ctrl.off;
	ga_type_id kstored, vstored;
	struct rt_field slots = rt_field_of(rt, l->bucket, "slots");
	if (slots.ok) {
		/* interleaved: slots [8]struct{key K; elem V} */
		const struct ga_type *st = ty(rt, slots.type);
		ga_type_id slot = st && st->kind == GA_K_ARRAY ? st->elem : 0;
		struct rt_field k = rt_field_of(rt, slot, "key"), e = rt_field_of(rt, slot, "elem");
		const struct ga_type *slt = ty(rt, slot);
		if (!slt || !k.ok || !e.ok)
			return bad_layout(rt, l->map, "DWARF group slots lack key/elem");
		l->slots = (uint32_t)(st->count <= MAX_SLOTS ? st->count : 0);
		l->keys_off = slots.off + k.off;
		l->elems_off = slots.off + e.off;
		l->key_stride = l->elem_stride = l->slot_size = slt->size;
		kstored = k.type;
		vstored = e.type;
	} else {
		/* GOEXPERIMENT=mapsplitgroup (Go 1.27): keys [8]K then elems [8]V */
		struct rt_field k = rt_field_of(rt, l->bucket, "keys");
		struct rt_field e = rt_field_of(rt, l->bucket, "elems");
		const struct ga_type *kt = ty(rt, k.type), *et = ty(rt, e.type);
		if (!k.ok || !e.ok || !kt || !et || kt->kind != GA_K_ARRAY || et->kind != GA_K_ARRAY ||
		    kt->count != et->count)
			return bad_layout(rt, l->map, "DWARF group has neither slots nor keys/elems");
		l->slots = (uint32_t)(kt->count <= MAX_SLOTS ? kt->count : 0);
		l->keys_off = k.off;
		l->elems_off = e.off;
		l->key_stride = kt->count ? kt->size / kt->count : 0;
		l->elem_stride = et->count ? et->size / et->count : 0;
		l->slot_size = l->key_stride + l->elem_stride;
		kstored = kt->elem;
		vstored = et->elem;
	}
	const struct ga_type *ks = ty(rt, kstored), *vs = ty(rt, vstored);
	if (!l->slots || l->slots > 8 || !ks || !vs) /* one ctrl byte per slot */
		return bad_layout(rt, l->map, "group slot count is not what a ctrl word can describe");
	if (l->keys_off + (uint64_t)(l->slots - 1) * l->key_stride + ks->size > l->bucket_size ||
	    l->elems_off + (uint64_t)(l->slots - 1) * l->elem_stride + vs->size > l->bucket_size)
		return bad_layout(rt, l->map, "group slots overrun the group");
	l->indirect_key = is_indirect(rt, kstored, l->key);
	l->indirect_elem = is_indirect(rt, vstored, l->elem);
	/* ctrlEmpty is also internal/abi.MapCtrlEmpty; ctrlDeleted exists only
	 * as an untyped constant of internal/runtime/maps/group.go, which the
	 * linker does not emit: 0b11111110 there (Go 1.24-1.27). */
	l->ctrl_empty = const_or(rt, "internal/abi.MapCtrlEmpty", 0x80);
	l->ctrl_deleted = const_or(rt, "internal/runtime/maps.ctrlDeleted", 0xfe);
	return NULL;
}

struct ga_error *rt_map_layout(struct ga_rt *rt, ga_type_id map, struct rt_map_layout *out)
{
	memset(out, 0, sizeof(*out));
	const struct ga_type *mt = ty(rt, map);
	if (!mt || mt->kind != GA_K_MAP)
		return ga_error_create(GA_ERR_USAGE, "%s is not a map type",
				       mt && mt->name ? mt->name : "type");
	out->map = map;
	out->key = mt->key;
	out->elem = mt->elem;
	out->header = mt->aux;
	const struct ga_type *ht = ty(rt, out->header), *kt = ty(rt, out->key),
			     *et = ty(rt, out->elem);
	if (!ht || !kt || !et)
		return bad_layout(rt, map, "DWARF gives no header, key or value type");
	out->header_size = ht->size;
	out->key_size = kt->size;
	out->elem_size = et->size;
	/* DWARF says which implementation built the map: hash<K,V> has
	 * buckets, map<K,V> a directory. */
	if (ga_dwarf_field(rt->dw, out->header, "buckets")) {
		out->kind = RT_MAP_CLASSIC;
		return classic_layout(rt, out);
	}
	if (ga_dwarf_field(rt->dw, out->header, "dirPtr")) {
		out->kind = RT_MAP_SWISS;
		return swiss_layout(rt, out);
	}
	return bad_layout(rt, map, "header is neither a classic hmap nor a Swiss map");
}

/* ---- walking ---- */

struct walk {
	struct ga_rt *rt;
	const struct rt_map_layout *l;
	const struct rt_map_visitor *v;
	struct rt_map_stats *st;
	bool stop;
	uint8_t *buf; /* one bucket or group */
	uint8_t hdr[256]; /* the map header */
};

static void ref(struct walk *w, uint64_t addr, enum rt_map_obj kind, ga_type_id type, uint64_t count)
{
	if (w->stop || !addr || !w->v || !w->v->storage)
		return;
	struct rt_map_ref r = {addr, kind, type, count};
	if (!w->v->storage(w->v->ctx, &r))
		w->stop = true;
}

static struct ga_error *entry(struct walk *w, uint64_t b, uint32_t i)
{
	const struct rt_map_layout *l = w->l;
	w->st->live++;
	if (w->stop || !w->v || !w->v->entry)
		return NULL;
	struct rt_map_entry e;
	e.key_slot = b + l->keys_off + (uint64_t)i * l->key_stride;
	e.elem_slot = b + l->elems_off + (uint64_t)i * l->elem_stride;
	e.key = e.key_slot;
	e.elem = e.elem_slot;
	if (l->indirect_key && !ga_mem_u64(w->rt->mem, e.key_slot, &e.key))
		e.key = 0;
	if (l->indirect_elem && !ga_mem_u64(w->rt->mem, e.elem_slot, &e.elem))
		e.elem = 0;
	if (!w->v->entry(w->v->ctx, &e))
		w->stop = true;
	return NULL;
}

static uint64_t rdf(const uint8_t *buf, uint64_t size, const struct rt_field *f)
{
	if (!f->ok || !f->size || f->size > 8 || f->off + f->size > size)
		return 0;
	uint64_t v = 0;
	memcpy(&v, buf + f->off, f->size); /* little-endian targets only (amd64, arm64) */
	return v;
}

static struct ga_error *read_bucket(struct walk *w, uint64_t addr, const char *what)
{
	if (!ga_mem_try_read(w->rt->mem, addr, w->buf, w->l->bucket_size))
		return ga_error_create(GA_ERR_FAULT, "map %s at 0x%llx not in core", what,
				       (unsigned long long)addr);
	return NULL;
}

/* One bucket chain of a classic map. old: the chain hangs off oldbuckets;
 * live: its entries are still the map's (not evacuated). */
static struct ga_error *classic_chain(struct walk *w, uint64_t first, bool old, bool live,
				      uint64_t *budget)
{
	const struct rt_map_layout *l = w->l;
	struct rt_map_stats *st = w->st;
	for (uint64_t b = first; b && !w->stop;) {
		if (!*budget)
			return ga_error_create(GA_ERR_CORRUPT,
					       "map overflow chains longer than the map can hold (a cycle?) at bucket 0x%llx",
					       (unsigned long long)b);
		--*budget;
		struct ga_error *err = read_bucket(w, b, old ? "old bucket" : "bucket");
		if (err)
			return err;
		if (b != first) {
			if (old)
				st->old_overflow_buckets++;
			else
				st->overflow_buckets++;
			ref(w, b, old ? RT_MAP_OBJ_OLDOVERFLOW : RT_MAP_OBJ_OVERFLOW, l->bucket, 1);
		}
		if (old)
			st->old_capacity += l->slots;
		else
			st->capacity += l->slots;
		for (uint32_t i = 0; i < l->slots; i++) {
			int64_t top = w->buf[l->ctrl_off + i];
			if (top >= l->min_top_hash) {
				if (live && (err = entry(w, b, i)))
					return err;
			} else if (top == l->empty_one) {
				st->tombstones++;
				st->empty++;
			} else if (top == l->empty_rest || top == l->evacuated_empty) {
				st->empty++;
			}
		}
		uint64_t next;
		memcpy(&next, w->buf + l->overflow_off, 8);
		b = next;
	}
	return NULL;
}

static void overflow_list(struct walk *w, uint64_t list, bool old)
{
	const struct rt_map_layout *l = w->l;
	struct rt_field lf = old ? l->x_oldoverflow : l->x_overflow;
	uint64_t ptr, len, cap;
	if (!list || !rt_read_slice(w->rt, list, &ptr, &len, &cap))
		return;
	ga_type_id slice = pointee(w->rt, lf.type);
	const struct ga_type *sl = ty(w->rt, slice);
	ref(w, list, RT_MAP_OBJ_OVERFLOW_LIST, slice, 1);
	if (!ptr || len > cap || !ga_mem_readable(w->rt->mem, ptr, cap * 8))
		return;
	ref(w, ptr, RT_MAP_OBJ_OVERFLOW_LIST, sl ? sl->elem : 0, cap);
	/* The buckets are on the chains too; listing them keeps the storage
	 * whole when evacuation has cut a chain. */
	for (uint64_t i = 0; i < len && !w->stop; i++) {
		uint64_t b;
		if (ga_mem_u64(w->rt->mem, ptr + 8 * i, &b))
			ref(w, b, old ? RT_MAP_OBJ_OLDOVERFLOW : RT_MAP_OBJ_OVERFLOW, l->bucket, 1);
	}
}

static struct ga_error *classic_walk(struct walk *w, uint64_t h)
{
	const struct rt_map_layout *l = w->l;
	struct rt_map_stats *st = w->st;
	const uint8_t *hb = w->hdr;
	st->count = rdf(hb, l->header_size, &l->count);
	st->flags = rdf(hb, l->header_size, &l->flags);
	st->B = (uint32_t)rdf(hb, l->header_size, &l->B);
	st->noverflow = rdf(hb, l->header_size, &l->noverflow);
	st->buckets = rdf(hb, l->header_size, &l->buckets);
	st->oldbuckets = rdf(hb, l->header_size, &l->oldbuckets);
	st->nevacuate = rdf(hb, l->header_size, &l->nevacuate);
	uint64_t extra = rdf(hb, l->header_size, &l->xtra);
	if (st->B > 63)
		return ga_error_create(GA_ERR_CORRUPT, "map at 0x%llx: B = %u",
				       (unsigned long long)h, st->B);
	if (!st->buckets) {
		/* makemap_small leaves buckets nil until the first insert */
		if (st->oldbuckets)
			return ga_error_create(GA_ERR_CORRUPT, "map at 0x%llx grows from nowhere",
					       (unsigned long long)h);
		return NULL;
	}
	uint64_t nb = 1ull << st->B;
	if (nb > UINT64_MAX / l->bucket_size ||
	    !ga_mem_readable(w->rt->mem, st->buckets, nb * l->bucket_size))
		return ga_error_create(GA_ERR_CORRUPT,
				       "map at 0x%llx: %llu buckets at 0x%llx are not in the core",
				       (unsigned long long)h, (unsigned long long)nb,
				       (unsigned long long)st->buckets);
	st->nbuckets = nb;
	uint64_t nold = 0;
	if (st->oldbuckets) {
		st->growing = true;
		st->same_size_grow = (st->flags & (uint64_t)l->same_size_grow) != 0;
		nold = st->same_size_grow ? nb : nb / 2;
		if (!nold || !ga_mem_readable(w->rt->mem, st->oldbuckets, nold * l->bucket_size))
			return ga_error_create(GA_ERR_CORRUPT,
					       "map at 0x%llx: %llu old buckets at 0x%llx are not in the core",
					       (unsigned long long)h, (unsigned long long)nold,
					       (unsigned long long)st->oldbuckets);
		st->noldbuckets = nold;
	}
	/* Overflow buckets are at most about as many as buckets (more trigger
	 * a same-size grow); allow 8 times that before calling it a cycle. */
	uint64_t budget = 9 * (nb + nold) + 1024;
	ref(w, st->buckets, RT_MAP_OBJ_BUCKETS, l->bucket, nb);
	ref(w, st->oldbuckets, RT_MAP_OBJ_OLDBUCKETS, l->bucket, nold);
	struct ga_error *err;
	for (uint64_t i = 0; i < nold && !w->stop; i++) {
		uint64_t b = st->oldbuckets + i * l->bucket_size;
		uint8_t top0;
		if (!ga_mem_u8(w->rt->mem, b + l->ctrl_off, &top0))
			return ga_error_create(GA_ERR_FAULT, "old bucket at 0x%llx not in core",
					       (unsigned long long)b);
		/* runtime.evacuated: the first cell's tophash is an evacuation state */
		bool evacuated = top0 > l->empty_one && top0 < l->min_top_hash;
		st->evacuated += evacuated;
		if ((err = classic_chain(w, b, true, !evacuated, &budget)))
			return err;
	}
	for (uint64_t i = 0; i < nb && !w->stop; i++)
		if ((err = classic_chain(w, st->buckets + i * l->bucket_size, false, true, &budget)))
			return err;
	if (extra && l->extra) {
		ref(w, extra, RT_MAP_OBJ_EXTRA, l->extra, 1);
		uint8_t xb[64];
		if (l->extra_size <= sizeof(xb) && ga_mem_try_read(w->rt->mem, extra, xb, l->extra_size)) {
			overflow_list(w, rdf(xb, l->extra_size, &l->x_overflow), false);
			overflow_list(w, rdf(xb, l->extra_size, &l->x_oldoverflow), true);
		}
	}
	return NULL;
}

static struct ga_error *swiss_group(struct walk *w, uint64_t g)
{
	const struct rt_map_layout *l = w->l;
	struct rt_map_stats *st = w->st;
	uint64_t ctrl;
	if (!ga_mem_u64(w->rt->mem, g + l->ctrl_off, &ctrl))
		return ga_error_create(GA_ERR_FAULT, "map group at 0x%llx not in core",
				       (unsigned long long)g);
	st->groups++;
	st->capacity += l->slots;
	for (uint32_t i = 0; i < l->slots; i++) {
		/* ctrlGroup.get: byte i of the little-endian word is slot i */
		int64_t c = (ctrl >> (8 * i)) & 0xff;
		if (!(c & 0x80)) {
			struct ga_error *err = entry(w, g, i);
			if (err)
				return err;
		} else if (c == l->ctrl_deleted) {
			st->tombstones++;
		} else {
			st->empty++;
		}
	}
	return NULL;
}

static struct ga_error *swiss_walk(struct walk *w, uint64_t h)
{
	const struct rt_map_layout *l = w->l;
	struct rt_map_stats *st = w->st;
	const uint8_t *hb = w->hdr;
	st->count = rdf(hb, l->header_size, &l->used);
	st->dir_ptr = rdf(hb, l->header_size, &l->dir_ptr);
	int64_t dir_len = (int64_t)rdf(hb, l->header_size, &l->dir_len);
	st->global_depth = (uint32_t)rdf(hb, l->header_size, &l->global_depth);
	if (!st->dir_ptr)
		return NULL; /* empty, never written */
	if (dir_len == 0) {
		/* small map: dirPtr is the one group */
		ref(w, st->dir_ptr, RT_MAP_OBJ_SMALL_GROUP, l->bucket, 1);
		return swiss_group(w, st->dir_ptr);
	}
	if (dir_len < 0 || st->global_depth > MAX_GLOBAL_DEPTH ||
	    (uint64_t)dir_len != 1ull << st->global_depth)
		return ga_error_create(GA_ERR_CORRUPT,
				       "map at 0x%llx: directory of %lld tables with global depth %u",
				       (unsigned long long)h, (long long)dir_len, st->global_depth);
	st->dir_len = (uint64_t)dir_len;
	uint64_t *dir = malloc(st->dir_len * 8);
	if (!dir)
		return &ga_error_nomem;
	if (!ga_mem_try_read(w->rt->mem, st->dir_ptr, dir, st->dir_len * 8)) {
		free(dir);
		return ga_error_create(GA_ERR_FAULT, "map directory at 0x%llx not in core",
				       (unsigned long long)st->dir_ptr);
	}
	ref(w, st->dir_ptr, RT_MAP_OBJ_DIRECTORY, l->table_ptr, st->dir_len);
	struct ga_hash seen;
	ga_hash_init(&seen);
	struct ga_error *err = NULL;
	uint8_t tb[128];
	for (uint64_t i = 0; i < st->dir_len && !w->stop && !err; i++) {
		uint64_t t = dir[i];
		/* a table of local depth d fills 1<<(globalDepth-d) consecutive entries */
		if (i && t == dir[i - 1])
			continue;
		if (!t) {
			err = ga_error_create(GA_ERR_CORRUPT, "map at 0x%llx: directory entry %llu is nil",
					      (unsigned long long)h, (unsigned long long)i);
			break;
		}
		if (ga_hash_get(&seen, t, NULL))
			continue;
		if (ga_hash_put(&seen, t, 1)) {
			err = &ga_error_nomem;
			break;
		}
		if (l->table_size > sizeof(tb) || !ga_mem_try_read(w->rt->mem, t, tb, l->table_size)) {
			err = ga_error_create(GA_ERR_FAULT, "map table at 0x%llx not in core",
					      (unsigned long long)t);
			break;
		}
		uint64_t cap = rdf(tb, l->table_size, &l->t_capacity);
		uint64_t mask = rdf(tb, l->table_size, &l->t_length_mask);
		uint64_t data = rdf(tb, l->table_size, &l->t_data);
		uint64_t ngroups = mask + 1;
		if (!ngroups || ngroups > MAX_TABLE_GROUPS || (ngroups & mask) ||
		    cap != ngroups * l->slots || !data ||
		    !ga_mem_readable(w->rt->mem, data, ngroups * l->bucket_size)) {
			err = ga_error_create(GA_ERR_CORRUPT,
					      "map table at 0x%llx: capacity %llu, %llu groups at 0x%llx",
					      (unsigned long long)t, (unsigned long long)cap,
					      (unsigned long long)ngroups, (unsigned long long)data);
			break;
		}
		st->tables++;
		ref(w, t, RT_MAP_OBJ_TABLE, l->table, 1);
		ref(w, data, RT_MAP_OBJ_GROUPS, l->bucket, ngroups);
		for (uint64_t g = 0; g < ngroups && !w->stop && !err; g++)
			err = swiss_group(w, data + g * l->bucket_size);
	}
	ga_hash_free(&seen);
	free(dir);
	return err;
}

struct ga_error *rt_map_walk(struct ga_rt *rt, const struct rt_map_layout *l, uint64_t header,
			     const struct rt_map_visitor *v, struct rt_map_stats *stats)
{
	struct rt_map_stats local;
	struct walk w = {rt, l, v, stats ? stats : &local, false, NULL, {0}};
	memset(w.st, 0, sizeof(*w.st));
	if (!header)
		return NULL;
	if (l->header_size > sizeof(w.hdr) || !ga_mem_try_read(rt->mem, header, w.hdr, l->header_size))
		return ga_error_create(GA_ERR_FAULT, "map header at 0x%llx not in core",
				       (unsigned long long)header);
	if (!l->bucket_size || l->bucket_size > (64u << 20))
		return ga_error_create(GA_ERR_UNSUPPORTED, "map bucket of %llu bytes",
				       (unsigned long long)l->bucket_size);
	w.buf = malloc(l->bucket_size);
	if (!w.buf)
		return &ga_error_nomem;
	struct ga_error *err = l->kind == RT_MAP_CLASSIC ? classic_walk(&w, header)
							  : swiss_walk(&w, header);
	free(w.buf);
	return err;
}

/* ---- summary ---- */

struct sum_ctx {
	struct ga_rt *rt;
	const struct rt_map_layout *l;
	const struct rt_objfind *find;
	struct rt_map_summary *s;
	struct ga_hash bases; /* allocation base -> index+1 in objects */
	struct ga_error *err;
};

static uint64_t type_size(struct ga_rt *rt, ga_type_id t)
{
	const struct ga_type *tt = ty(rt, t);
	return tt ? tt->size : 0;
}

static bool sum_storage(void *ctx, const struct rt_map_ref *r)
{
	struct sum_ctx *c = ctx;
	struct rt_map_object o = {r->addr, 0, r->addr, r->kind, r->type, r->count};
	uint64_t esz = type_size(c->rt, r->type);
	o.size = esz && r->count <= UINT64_MAX / esz ? esz * r->count : 0;
	if (c->find && c->find->find) {
		uint64_t base, size;
		if (c->find->find(c->find->ctx, r->addr, &base, &size)) {
			o.base = base;
			o.size = size;
		} else {
			c->s->sizes_exact = false;
		}
	}
	uint64_t idx;
	if (ga_hash_get(&c->bases, o.base + 1, &idx))
		return true;
	if (ga_hash_put(&c->bases, o.base + 1, c->s->objects.len + 1) ||
	    ga_vec_push(&c->s->objects, o)) {
		c->err = &ga_error_nomem;
		return false;
	}
	c->s->storage_bytes += o.size;
	c->s->by_kind[r->kind] += o.size;
	return true;
}

static bool sum_entry(void *ctx, const struct rt_map_entry *e)
{
	struct sum_ctx *c = ctx;
	const struct rt_map_layout *l = c->l;
	for (int k = 0; k < 2; k++) {
		bool ind = k ? l->indirect_elem : l->indirect_key;
		uint64_t p = k ? e->elem : e->key;
		if (!ind || !p)
			continue;
		uint64_t base, size = k ? l->elem_size : l->key_size;
		if (c->find && c->find->find && !c->find->find(c->find->ctx, p, &base, &size))
			size = k ? l->elem_size : l->key_size;
		c->s->indirect_bytes += size;
	}
	return true;
}

struct ga_error *rt_map_summarize(struct ga_rt *rt, const struct rt_map_layout *l,
				  uint64_t header, const struct rt_objfind *find,
				  struct rt_map_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->sizes_exact = find && find->find;
	struct sum_ctx c = {rt, l, find, out, {0}, NULL};
	ga_hash_init(&c.bases);
	bool want_entries = l->indirect_key || l->indirect_elem;
	struct rt_map_visitor v = {sum_storage, want_entries ? sum_entry : NULL, &c};
	struct ga_error *err = rt_map_walk(rt, l, header, &v, &out->st);
	ga_hash_free(&c.bases);
	if (!err)
		err = c.err;
	if (err) {
		rt_map_summary_free(out);
		return err;
	}
	out->slot_size = l->slot_size;
	uint64_t slots = out->st.capacity + out->st.old_capacity;
	out->slot_bytes = slots * out->slot_size;
	out->waste = slots > out->st.live ? (slots - out->st.live) * out->slot_size : 0;
	return NULL;
}

void rt_map_summary_free(struct rt_map_summary *s)
{
	ga_vec_free(&s->objects);
}
