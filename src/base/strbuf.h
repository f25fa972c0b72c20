/* A growable NUL-terminated string. */
#ifndef GA_BASE_STRBUF_H
#define GA_BASE_STRBUF_H

#include <stddef.h>

struct ga_strbuf {
	char *s;
	size_t len, cap;
	int oom; /* sticky: once set, appends are no-ops */
};

void ga_sb_init(struct ga_strbuf *sb);
void ga_sb_free(struct ga_strbuf *sb);
void ga_sb_append(struct ga_strbuf *sb, const char *s);
void ga_sb_appendn(struct ga_strbuf *sb, const char *s, size_t n);
void ga_sb_printf(struct ga_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ga_sb_reset(struct ga_strbuf *sb);
/* Returns the string (never NULL: "" when empty) and keeps ownership. */
const char *ga_sb_str(const struct ga_strbuf *sb);
/* Hands the buffer to the caller (NULL on OOM). */
char *ga_sb_steal(struct ga_strbuf *sb);

#endif
