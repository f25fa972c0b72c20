/* map_capacity_after_delete (pattern 5): a map's storage far above its
 * live entries - Go maps never shrink. Classic hash maps (buckets, overflow
 * buckets, old buckets while growing) and Swiss tables (groups of every
 * table, tombstones) through goautopsy/maps.h; waste = empty slots times
 * the bytes of a slot as stored (a pointer for values over 128 bytes). */
#include <inttypes.h>
#include <stdio.h>

#include "base/hash.h"
#include "detect/detect.h"
#include "goautopsy/maps.h"

struct ga_error *det_map_capacity(struct det_ctx *c)
{
	struct det_refs *refs;
	struct ga_error *err = det_refs_get(c, &refs);
	if (err)
		return err;
	struct ga_hash seen;
	ga_hash_init(&seen);
	for (size_t i = 0; i < refs->maps.len && !c->oom; i++) {
		const struct det_map_ref *m = &refs->maps.v[i];
		uint64_t x;
		if (ga_hash_get(&seen, m->header + 1, &x))
			continue;
		if (ga_hash_put(&seen, m->header + 1, 1)) {
			err = &ga_error_nomem;
			break;
		}
		const struct ga_type *t = ga_dwarf_type(refs->dw, m->type);
		struct ga_map_summary *ms;
		if (!t || !t->name)
			continue;
		struct ga_error *e = ga_map_summary(c->s, m->header, t->name, 0, &ms);
		if (e) {
			if (e == &ga_error_nomem) {
				err = e;
				break;
			}
			ga_error_destroy(e);
			continue;
		}
		uint64_t slots = ms->capacity + ms->old_capacity;
		if (!ms->waste || !slots || ms->slot_bytes < c->opt->min_waste / 16) {
			ga_map_summary_free(ms);
			continue;
		}
		struct ga_finding *f = det_add(c, "map_capacity_after_delete");
		if (!f) {
			ga_map_summary_free(ms);
			break;
		}
		char buf[1024];
		f->holder = det_str(c, "%s", det_refs_path(refs, m->origin, m->off, buf, sizeof(buf)));
		f->waste_bytes = ms->waste;
		f->retained_bytes = ms->storage_bytes + ms->indirect_bytes;
		if (f->retained_bytes < f->waste_bytes)
			f->retained_bytes = f->waste_bytes;
		f->ratio = (double)ms->waste / (double)ms->slot_bytes;
		f->severity = det_severity(ms->waste);
		f->len = ms->live;
		f->cap = slots;
		f->elem_size = ms->slot_size;
		f->title = det_str(c, "%s map (%s) with %" PRIu64 " live entries in %" PRIu64 " slots%s%s",
				   ms->layout, ms->map_type, ms->live, slots,
				   ms->tombstones ? ", tombstones: " : "",
				   ms->tombstones ? det_str(c, "%" PRIu64, ms->tombstones) : "");
		f->evidence = det_str(c, "layout %s; live %" PRIu64 ", capacity %" PRIu64 " slots (+%" PRIu64
					 " old), %" PRIu64 " bytes a slot, %" PRIu64 " bytes of slots, storage %" PRIu64
					 " bytes%s",
				      ms->layout, ms->live, ms->capacity, ms->old_capacity, ms->slot_size,
				      ms->slot_bytes, ms->storage_bytes, ms->sizes_exact ? "" : " (approximate)");
		struct ga_finding_object objs[9];
		size_t no = 0;
		/* the header's heap object (none for a static or stack header) */
		uint64_t hbase = 0, hsize = 0;
		if (ga_heap_locate(c->s, m->header, &hbase, &hsize) == GA_NO_OBJ || hbase != m->header)
			hsize = 0;
		objs[no++] = (struct ga_finding_object){.addr = m->header, .size = hsize, .type = det_str(c, "%s", ms->map_type),
							.role = "map header", .holder = f->holder};
		for (size_t k = 0; k < ms->n_objects && no < 9; k++)
			objs[no++] = (struct ga_finding_object){
				.addr = ms->objects[k].addr, .size = ms->objects[k].size,
				.type = det_str(c, "%s", ms->objects[k].type ? ms->objects[k].type : ""),
				.role = det_str(c, "map %s", ms->objects[k].kind)};
		det_set_objects(c, f, objs, no);
		ga_map_summary_free(ms);
	}
	ga_hash_free(&seen);
	return err;
}
