/* Growable arrays: a struct with ptr/len/cap and a grow helper. */
#ifndef GA_BASE_VEC_H
#define GA_BASE_VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define GA_VEC(T) struct { T *v; size_t len, cap; }

/* qsort that accepts an empty (possibly NULL) array: qsort's pointer is
 * declared nonnull even for zero elements. */
static inline void ga_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* Ensures room for `extra` more elements; returns 0 on success, -1 on OOM. */
static inline int ga_vec_reserve_(void **v, size_t *cap, size_t len, size_t extra,
				  size_t elem)
{
	if (len + extra <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < len + extra) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -1;
		ncap *= 2;
	}
	void *p = realloc(*v, ncap * elem);
	if (!p)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

#define ga_vec_reserve(vec, extra)                                            \
	ga_vec_reserve_((void **)&(vec)->v, &(vec)->cap, (vec)->len, (extra), \
			sizeof(*(vec)->v))
/* Evaluates to 0 on success, -1 on OOM. */
#define ga_vec_push(vec, val)                                                 \
	(ga_vec_reserve(vec, 1) ? -1 : ((vec)->v[(vec)->len++] = (val), 0))
#define ga_vec_free(vec) (free((vec)->v), (vec)->v = NULL, (vec)->len = (vec)->cap = 0)

#endif
