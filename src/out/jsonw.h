/* A streaming JSON writer: values are written as they are produced, through
 * a buffer, without building a tree (jansson needs a malloc per value and a
 * hash insert per key, seconds for 100 000 goroutines).
 *
 *   struct out_jw w;  out_jw_init(&w, stdout, 2);  pretty up to depth 2
 *   out_jw_obj(&w);  out_jw_key(&w, "id");  out_jw_u64(&w, 1);  out_jw_end(&w);
 *   out_jw_finish(&w);                              newline, flush
 *
 * Containers nested deeper than pretty_depth are written compactly (one
 * goroutine per line in a long list). Strings are escaped; bytes that are
 * not UTF-8 become U+FFFD, NULL strings become null. */
#ifndef GA_OUT_JSONW_H
#define GA_OUT_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_JW_MAX_DEPTH 32

struct out_jw {
	FILE *f;
	int depth, pretty_depth;
	bool after_key;
	bool has_items[OUT_JW_MAX_DEPTH];
	char closer[OUT_JW_MAX_DEPTH];
	size_t len;
	char buf[1 << 16];
};

void out_jw_init(struct out_jw *w, FILE *f, int pretty_depth);
void out_jw_obj(struct out_jw *w);
void out_jw_arr(struct out_jw *w);
void out_jw_end(struct out_jw *w);
void out_jw_key(struct out_jw *w, const char *k);
void out_jw_str(struct out_jw *w, const char *s);
void out_jw_u64(struct out_jw *w, uint64_t v);
void out_jw_i64(struct out_jw *w, int64_t v);
void out_jw_bool(struct out_jw *w, bool v);
void out_jw_null(struct out_jw *w);
void out_jw_addr(struct out_jw *w, uint64_t v); /* "0x1f" */
/* A key and its value. */
void out_jw_kstr(struct out_jw *w, const char *k, const char *s);
void out_jw_ku64(struct out_jw *w, const char *k, uint64_t v);
void out_jw_ki64(struct out_jw *w, const char *k, int64_t v);
void out_jw_kbool(struct out_jw *w, const char *k, bool v);
void out_jw_kaddr(struct out_jw *w, const char *k, uint64_t v);
void out_jw_ki64n(struct out_jw *w, const char *k, int64_t v, bool present); /* null if !present */
void out_jw_kaddr0(struct out_jw *w, const char *k, uint64_t v); /* null for 0 */
/* Closes what is open, ends the line and flushes. */
void out_jw_finish(struct out_jw *w);

#endif
