#include <inttypes.h>
#include <string.h>

#include "out/format.h"
#include "out/maps.h"

#define TEXT_OBJECTS 12

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

void out_map_text(FILE *f, const struct ga_map_summary *m)
{
	char b1[32], b2[32], b3[32];
	fprintf(f, "map           %s at 0x%" PRIx64 " (%s)\n", m->map_type, m->header, m->layout);
	fprintf(f, "entries       %" PRIu64 " live (header says %" PRIu64 ") in %" PRIu64 " slots",
		m->live, m->count, m->capacity);
	if (m->old_capacity)
		fprintf(f, " + %" PRIu64 " old slots", m->old_capacity);
	fprintf(f, ", %.1f%% used, %" PRIu64 " tombstones\n",
		pct(m->live, m->capacity + m->old_capacity), m->tombstones);
	fprintf(f, "slot          %" PRIu64 " B: key %s (%" PRIu64 " B%s), value %s (%" PRIu64 " B%s)\n",
		m->slot_size, m->key_type, m->key_size, m->indirect_key ? ", behind a pointer" : "",
		m->elem_type, m->elem_size, m->indirect_elem ? ", behind a pointer" : "");
	fprintf(f, "storage       %s in %zu allocations%s; slots %s, empty slots %s\n",
		out_bytes(m->storage_bytes, b1), m->n_objects,
		m->sizes_exact ? "" : " (sizes partly computed, not found in the heap)",
		out_bytes(m->slot_bytes, b2), out_bytes(m->waste, b3));
	if (m->indirect_bytes)
		fprintf(f, "              + %s of separately allocated keys/values\n",
			out_bytes(m->indirect_bytes, b1));
	if (!strcmp(m->layout, "classic")) {
		fprintf(f, "buckets       B=%u: %" PRIu64 " at 0x%" PRIx64 ", %" PRIu64 " overflow (noverflow %" PRIu64 ")\n",
			m->B, m->B < 64 ? (uint64_t)1 << m->B : 0, m->buckets, m->overflow_buckets,
			m->noverflow);
		if (m->growing)
			fprintf(f, "growing       %s, old buckets at 0x%" PRIx64 ", %" PRIu64 " evacuated\n",
				m->same_size_grow ? "same size" : "to double", m->oldbuckets, m->nevacuate);
	} else {
		fprintf(f, "tables        %" PRIu64 " (directory of %" PRIu64 ", global depth %u), %" PRIu64 " groups\n",
			m->tables, m->dir_len, m->global_depth, m->groups);
	}
	size_t n = m->n_objects < TEXT_OBJECTS ? m->n_objects : TEXT_OBJECTS;
	for (size_t i = 0; i < n; i++) {
		const struct ga_map_object *o = &m->objects[i];
		fprintf(f, "  0x%-14" PRIx64 " %10s  %-20s %" PRIu64 " x %s\n", o->addr,
			out_bytes(o->size, b1), o->kind, o->count, o->type);
	}
	if (n < m->n_objects)
		fprintf(f, "  ... %zu more\n", m->n_objects - n);
	for (size_t i = 0; i < m->n_entries; i++)
		fprintf(f, "  [%s] key at 0x%" PRIx64 ", value at 0x%" PRIx64 "\n",
			m->entries[i].key ? m->entries[i].key : "?", m->entries[i].key_addr,
			m->entries[i].elem_addr);
	if (m->n_entries < m->live)
		fprintf(f, "  ... %" PRIu64 " more entries\n", m->live - m->n_entries);
}

#define JI(v) json_integer((json_int_t)(v))

json_t *out_map_json(const struct ga_map_summary *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "map_type", json_string(m->map_type));
	json_object_set_new(o, "key_type", json_string(m->key_type));
	json_object_set_new(o, "elem_type", json_string(m->elem_type));
	json_object_set_new(o, "layout", json_string(m->layout));
	json_object_set_new(o, "header", out_json_addr(m->header));
	json_object_set_new(o, "count", JI(m->count));
	json_object_set_new(o, "live", JI(m->live));
	json_object_set_new(o, "capacity", JI(m->capacity));
	json_object_set_new(o, "old_capacity", JI(m->old_capacity));
	json_object_set_new(o, "tombstones", JI(m->tombstones));
	json_object_set_new(o, "key_size", JI(m->key_size));
	json_object_set_new(o, "elem_size", JI(m->elem_size));
	json_object_set_new(o, "indirect_key", json_boolean(m->indirect_key));
	json_object_set_new(o, "indirect_elem", json_boolean(m->indirect_elem));
	json_object_set_new(o, "slot_size", JI(m->slot_size));
	json_object_set_new(o, "slot_bytes", JI(m->slot_bytes));
	json_object_set_new(o, "storage_bytes", JI(m->storage_bytes));
	json_object_set_new(o, "waste", JI(m->waste));
	json_object_set_new(o, "indirect_bytes", JI(m->indirect_bytes));
	json_object_set_new(o, "sizes_exact", json_boolean(m->sizes_exact));
	if (!strcmp(m->layout, "classic")) {
		json_t *c = json_object();
		json_object_set_new(c, "B", JI(m->B));
		json_object_set_new(c, "buckets", out_json_addr(m->buckets));
		json_object_set_new(c, "oldbuckets", out_json_addr(m->oldbuckets));
		json_object_set_new(c, "nevacuate", JI(m->nevacuate));
		json_object_set_new(c, "noverflow", JI(m->noverflow));
		json_object_set_new(c, "overflow_buckets", JI(m->overflow_buckets));
		json_object_set_new(c, "growing", json_boolean(m->growing));
		json_object_set_new(c, "same_size_grow", json_boolean(m->same_size_grow));
		json_object_set_new(o, "classic", c);
	} else {
		json_t *sw = json_object();
		json_object_set_new(sw, "dir_len", JI(m->dir_len));
		json_object_set_new(sw, "global_depth", JI(m->global_depth));
		json_object_set_new(sw, "tables", JI(m->tables));
		json_object_set_new(sw, "groups", JI(m->groups));
		json_object_set_new(o, "swiss", sw);
	}
	json_t *objs = json_array();
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct ga_map_object *x = &m->objects[i];
		json_t *j = json_object();
		json_object_set_new(j, "addr", out_json_addr(x->addr));
		json_object_set_new(j, "size", JI(x->size));
		json_object_set_new(j, "kind", json_string(x->kind));
		json_object_set_new(j, "type", json_string(x->type));
		json_object_set_new(j, "count", JI(x->count));
		json_array_append_new(objs, j);
	}
	json_object_set_new(o, "objects", objs);
	json_t *ents = json_array();
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct ga_map_entry *e = &m->entries[i];
		json_t *j = json_object();
		json_object_set_new(j, "key", e->key ? json_string(e->key) : json_null());
		json_object_set_new(j, "key_addr", out_json_addr(e->key_addr));
		json_object_set_new(j, "elem_addr", out_json_addr(e->elem_addr));
		json_array_append_new(ents, j);
	}
	json_object_set_new(o, "entries", ents);
	json_object_set_new(o, "entries_truncated", json_boolean(m->n_entries < m->live));
	return o;
}
