#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

void ga_hash_init(struct ga_hash *h)
{
	memset(h, 0, sizeof(*h));
}

void ga_hash_free(struct ga_hash *h)
{
	free(h->keys);
	free(h->vals);
	memset(h, 0, sizeof(*h));
}

static int hash_grow(struct ga_hash *h)
{
	size_t ncap = h->cap ? h->cap * 2 : 64;
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	uint64_t *nv = malloc(ncap * sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -1;
	}
	for (size_t i = 0; i < h->cap; i++) {
		uint64_t k = h->keys[i];
		if (!k)
			continue;
		size_t j = mix64(k) & (ncap - 1);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = k;
		nv[j] = h->vals[i];
	}
	free(h->keys);
	free(h->vals);
	h->keys = nk;
	h->vals = nv;
	h->cap = ncap;
	return 0;
}

int ga_hash_put(struct ga_hash *h, uint64_t key, uint64_t val)
{
	if ((h->len + 1) * 4 >= h->cap * 3 && hash_grow(h))
		return -1;
	size_t j = mix64(key) & (h->cap - 1);
	while (h->keys[j] && h->keys[j] != key)
		j = (j + 1) & (h->cap - 1);
	if (!h->keys[j]) {
		h->keys[j] = key;
		h->len++;
	}
	h->vals[j] = val;
	return 0;
}

bool ga_hash_get(const struct ga_hash *h, uint64_t key, uint64_t *val)
{
	if (!h->cap || !key)
		return false;
	size_t j = mix64(key) & (h->cap - 1);
	while (h->keys[j]) {
		if (h->keys[j] == key) {
			if (val)
				*val = h->vals[j];
			return true;
		}
		j = (j + 1) & (h->cap - 1);
	}
	return false;
}

static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void ga_strmap_init(struct ga_strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void ga_strmap_free(struct ga_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static int strmap_grow(struct ga_strmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	char **nk = calloc(ncap, sizeof(*nk));
	uint64_t *nv = malloc(ncap * sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = strhash(m->keys[i]) & (ncap - 1);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = m->keys[i];
		nv[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = nk;
	m->vals = nv;
	m->cap = ncap;
	return 0;
}

static int strmap_insert(struct ga_strmap *m, const char *key, uint64_t val, int overwrite)
{
	if ((m->len + 1) * 4 >= m->cap * 3 && strmap_grow(m))
		return -1;
	size_t j = strhash(key) & (m->cap - 1);
	while (m->keys[j] && strcmp(m->keys[j], key))
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j]) {
		m->keys[j] = strdup(key);
		if (!m->keys[j])
			return -1;
		m->len++;
		m->vals[j] = val;
	} else if (overwrite) {
		m->vals[j] = val;
	}
	return 0;
}

int ga_strmap_put(struct ga_strmap *m, const char *key, uint64_t val)
{
	return strmap_insert(m, key, val, 1);
}

int ga_strmap_put_first(struct ga_strmap *m, const char *key, uint64_t val)
{
	return strmap_insert(m, key, val, 0);
}

bool ga_strmap_get(const struct ga_strmap *m, const char *key, uint64_t *val)
{
	if (!m->cap)
		return false;
	size_t j = strhash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (!strcmp(m->keys[j], key)) {
			if (val)
				*val = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}
