/* Go maps: the classic hmap of runtime/map.go (Go <= 1.23, and 1.24-1.25
 * with GOEXPERIMENT=noswissmap) and the Swiss tables of
 * internal/runtime/maps (Go 1.24+). The layout of one map type comes from
 * the DWARF the linker synthesizes for it (hash<K,V> / bucket<K,V>, or
 * map<K,V> / table<K,V> / the compiler's group type). */
#ifndef GA_RT_MAP_H
#define GA_RT_MAP_H

#include "base/vec.h"
#include "rt/rt.h"

enum rt_map_kind { RT_MAP_CLASSIC = 1, RT_MAP_SWISS = 2 };

/* The layout of one map type. */
struct rt_map_layout {
	enum rt_map_kind kind;
	ga_type_id map;          /* the map typedef (GA_K_MAP) */
	ga_type_id key, elem;    /* K and V */
	ga_type_id header;       /* hash<K,V> or map<K,V> */
	ga_type_id bucket;       /* bucket<K,V>, or the group struct */
	ga_type_id table;        /* Swiss: table<K,V> */
	ga_type_id table_ptr;    /* Swiss: *table<K,V>, the directory's element */
	ga_type_id extra;        /* classic: runtime.mapextra */
	uint64_t header_size, bucket_size, table_size, extra_size;
	uint32_t slots;          /* slots per bucket or group (8) */
	uint64_t ctrl_off;       /* tophash[slots] / ctrl word */
	uint64_t keys_off, key_stride, elems_off, elem_stride;
	uint64_t slot_size;      /* bytes of key and elem storage per slot */
	uint64_t overflow_off;   /* classic: the bucket's overflow pointer */
	uint64_t key_size, elem_size; /* of K and V */
	bool indirect_key, indirect_elem; /* the slot holds a pointer to K / V */
	/* classic header (hash<K,V>) and runtime.mapextra */
	struct rt_field count, flags, B, noverflow, buckets, oldbuckets, nevacuate, xtra;
	struct rt_field x_overflow, x_oldoverflow, x_next_overflow;
	int64_t empty_rest, empty_one, evacuated_x, evacuated_y, evacuated_empty, min_top_hash;
	int64_t same_size_grow;
	/* Swiss header (map<K,V>) and table<K,V> */
	struct rt_field used, dir_ptr, dir_len, global_depth;
	struct rt_field t_used, t_capacity, t_growth_left, t_local_depth, t_index, t_data,
		t_length_mask;
	int64_t ctrl_empty, ctrl_deleted;
};

/* Builds the layout of map typedef `map` (ga_type kind GA_K_MAP). */
struct ga_error *rt_map_layout(struct ga_rt *rt, ga_type_id map, struct rt_map_layout *out);

/* What a storage object of a map is. */
enum rt_map_obj {
	RT_MAP_OBJ_BUCKETS = 1,  /* classic: the bucket array, 1<<B buckets (+ preallocated overflow) */
	RT_MAP_OBJ_OLDBUCKETS,   /* classic: the previous array while growing */
	RT_MAP_OBJ_OVERFLOW,     /* classic: an overflow bucket of the current array */
	RT_MAP_OBJ_OLDOVERFLOW,  /* classic: an overflow bucket of the old array */
	RT_MAP_OBJ_EXTRA,        /* classic: runtime.mapextra */
	RT_MAP_OBJ_OVERFLOW_LIST, /* classic: mapextra's []*bmap (header or array) */
	RT_MAP_OBJ_SMALL_GROUP,  /* Swiss: the one group of a small map */
	RT_MAP_OBJ_DIRECTORY,    /* Swiss: [dirLen]*table */
	RT_MAP_OBJ_TABLE,        /* Swiss: table<K,V> */
	RT_MAP_OBJ_GROUPS,       /* Swiss: a table's [lengthMask+1]group */
	RT_MAP_OBJ_KINDS
};
const char *rt_map_obj_name(enum rt_map_obj k);

/* A pointer to storage as the map holds it: the object may start before
 * addr (malloc header) and be larger (size classes, preallocated overflow). */
struct rt_map_ref {
	uint64_t addr;
	enum rt_map_obj kind;
	ga_type_id type;  /* element type; count of them from addr */
	uint64_t count;
};

/* A live entry. key / elem are the addresses of K and V (for indirect
 * slots, what the slot points to); key_slot / elem_slot are in the bucket. */
struct rt_map_entry {
	uint64_t key, elem;
	uint64_t key_slot, elem_slot;
};

struct rt_map_stats {
	uint64_t count;         /* hmap.count / Map.used */
	uint64_t live;          /* full slots found */
	uint64_t capacity;      /* slots of the current buckets / tables */
	uint64_t old_capacity;  /* classic, while growing: slots of the old buckets */
	uint64_t tombstones;    /* Swiss ctrlDeleted; classic emptyOne */
	uint64_t empty;
	/* classic */
	uint32_t B;
	uint64_t flags, noverflow, nevacuate;
	uint64_t buckets, oldbuckets, nbuckets, noldbuckets;
	uint64_t overflow_buckets, old_overflow_buckets; /* found on the chains */
	uint64_t evacuated;     /* old buckets already evacuated */
	bool growing, same_size_grow;
	/* Swiss */
	uint64_t dir_ptr, dir_len;
	uint32_t global_depth;
	uint64_t tables, groups;
};

/* Callbacks of rt_map_walk; either may be NULL. Returning false stops the
 * walk (rt_map_walk then returns NULL). */
struct rt_map_visitor {
	bool (*storage)(void *ctx, const struct rt_map_ref *ref);
	bool (*entry)(void *ctx, const struct rt_map_entry *e);
	void *ctx;
};

/* Walks the map whose header (what a map value points to) is at header:
 * every storage reference, every live entry, and the counts in stats
 * (optional). A nil map (header 0) is empty. Bounded and cycle-safe: a
 * corrupt map gives an error, maybe after some callbacks. */
struct ga_error *rt_map_walk(struct ga_rt *rt, const struct rt_map_layout *l, uint64_t header,
			     const struct rt_map_visitor *v, struct rt_map_stats *stats);

/* Resolves a pointer to the heap allocation holding it. */
struct rt_objfind {
	bool (*find)(void *ctx, uint64_t addr, uint64_t *base, uint64_t *size);
	void *ctx;
};

struct rt_map_object {
	uint64_t base, size;     /* the allocation */
	uint64_t addr;           /* where the map points into it */
	enum rt_map_obj kind;
	ga_type_id type;
	uint64_t count;
};

struct rt_map_summary {
	struct rt_map_stats st;
	uint64_t slot_size;      /* key and elem bytes of a slot as stored */
	uint64_t slot_bytes;     /* (capacity + old_capacity) * slot_size */
	uint64_t storage_bytes;  /* allocations holding buckets, groups, tables, directory */
	uint64_t waste;          /* (capacity + old_capacity - live) * slot_size */
	uint64_t indirect_bytes; /* separately allocated keys and values of live entries */
	uint64_t by_kind[RT_MAP_OBJ_KINDS]; /* storage bytes by object kind */
	bool sizes_exact;        /* every object was found in the heap */
	GA_VEC(struct rt_map_object) objects; /* distinct storage allocations */
};

/* Walks the map and sums its storage. find may be NULL: sizes are then
 * what the map's own counts say (without size-class rounding). */
struct ga_error *rt_map_summarize(struct ga_rt *rt, const struct rt_map_layout *l,
				  uint64_t header, const struct rt_objfind *find,
				  struct rt_map_summary *out);
void rt_map_summary_free(struct rt_map_summary *s);

#endif
