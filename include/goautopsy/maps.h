/* Go maps in a core: where a map's memory went. Works for the classic
 * hash map (Go <= 1.23, noswissmap) and Swiss tables (Go 1.24+). */
#ifndef GOAUTOPSY_MAPS_H
#define GOAUTOPSY_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goautopsy/goautopsy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One allocation holding a map's buckets, groups, tables or directory. */
struct ga_map_object {
	uint64_t addr;     /* start of the allocation */
	uint64_t size;     /* bytes of the allocation */
	const char *kind;  /* "buckets", "overflow bucket", "directory", "table", "groups", ... */
	const char *type;  /* element type */
	uint64_t count;    /* elements of type the map uses */
};

struct ga_map_entry {
	uint64_t key_addr, elem_addr; /* K and V (behind the slot's pointer when indirect) */
	const char *key;              /* the key rendered, for scalar and string keys; else NULL */
};

struct ga_map_summary {
	const char *map_type, *key_type, *elem_type;
	const char *layout;        /* "classic" or "swiss" */
	uint64_t header;           /* the hmap / maps.Map */
	uint64_t count;            /* the length the header records */
	uint64_t live;             /* full slots found */
	uint64_t capacity;         /* slots of the current buckets or tables */
	uint64_t old_capacity;     /* classic, while growing: slots of the old buckets */
	uint64_t tombstones;       /* deleted slots still marked (Swiss ctrlDeleted, classic emptyOne) */
	uint64_t key_size, elem_size;
	bool indirect_key, indirect_elem; /* stored behind a pointer (> 128 bytes) */
	uint64_t slot_size;        /* key and value bytes of a slot as stored */
	uint64_t slot_bytes;       /* (capacity + old_capacity) * slot_size */
	uint64_t storage_bytes;    /* allocations holding the map's slots and tables */
	uint64_t waste;            /* slot bytes of empty capacity: (capacity + old_capacity - live) * slot_size */
	uint64_t indirect_bytes;   /* separately allocated keys and values of live entries */
	bool sizes_exact;          /* every storage allocation was found in the heap */
	/* classic */
	unsigned B;
	uint64_t buckets, oldbuckets, nevacuate, noverflow; /* as the header says */
	uint64_t overflow_buckets;  /* found on the chains of the current buckets */
	bool growing, same_size_grow;
	/* Swiss */
	uint64_t dir_len;
	unsigned global_depth;
	uint64_t tables, groups;

	const struct ga_map_object *objects;
	size_t n_objects;
	const struct ga_map_entry *entries; /* the first max_entries live entries */
	size_t n_entries;
};

/* Summarizes the map whose header (what a map value points to) is at
 * header, of Go type map_type ("map[int][128]uint8", as DWARF names it).
 * Lists up to max_entries live entries. Free with ga_map_summary_free. */
struct ga_error *ga_map_summary(struct ga_session *s, uint64_t header, const char *map_type,
				size_t max_entries, struct ga_map_summary **out);
void ga_map_summary_free(struct ga_map_summary *m);

/* The map held by global variable `name` ("main.m"): its header address
 * (0 for a nil map) and type name (owned by the session). */
struct ga_error *ga_map_global(struct ga_session *s, const char *name, uint64_t *header,
			       const char **map_type);

#ifdef __cplusplus
}
#endif
#endif
