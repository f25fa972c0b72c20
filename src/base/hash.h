/* Open-addressing hash map from a 64-bit key to a 64-bit value.
 * Key 0 is reserved as the empty marker; callers needing it store key+1. */
#ifndef GA_BASE_HASH_H
#define GA_BASE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ga_hash {
	uint64_t *keys;
	uint64_t *vals;
	size_t cap; /* power of two */
	size_t len;
};

void ga_hash_init(struct ga_hash *h);
void ga_hash_free(struct ga_hash *h);
/* Returns 0, or -1 on OOM. Overwrites an existing value. */
int ga_hash_put(struct ga_hash *h, uint64_t key, uint64_t val);
bool ga_hash_get(const struct ga_hash *h, uint64_t key, uint64_t *val);

/* String-keyed map to a 64-bit value; keys are copied. */
struct ga_strmap {
	char **keys;
	uint64_t *vals;
	size_t cap;
	size_t len;
};

void ga_strmap_init(struct ga_strmap *m);
void ga_strmap_free(struct ga_strmap *m);
int ga_strmap_put(struct ga_strmap *m, const char *key, uint64_t val);
/* Like put but keeps the first value stored for a key. */
int ga_strmap_put_first(struct ga_strmap *m, const char *key, uint64_t val);
bool ga_strmap_get(const struct ga_strmap *m, const char *key, uint64_t *val);

#endif
