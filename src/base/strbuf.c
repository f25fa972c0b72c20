#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

void ga_sb_init(struct ga_strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void ga_sb_free(struct ga_strbuf *sb)
{
	free(sb->s);
	memset(sb, 0, sizeof(*sb));
}

static int sb_reserve(struct ga_strbuf *sb, size_t extra)
{
	if (sb->oom)
		return -1;
	if (sb->len + extra + 1 <= sb->cap)
		return 0;
	size_t ncap = sb->cap ? sb->cap : 64;
	while (ncap < sb->len + extra + 1)
		ncap *= 2;
	char *p = realloc(sb->s, ncap);
	if (!p) {
		sb->oom = 1;
		return -1;
	}
	sb->s = p;
	sb->cap = ncap;
	return 0;
}

void ga_sb_appendn(struct ga_strbuf *sb, const char *s, size_t n)
{
	if (sb_reserve(sb, n))
		return;
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = 0;
}

void ga_sb_append(struct ga_strbuf *sb, const char *s)
{
	ga_sb_appendn(sb, s, strlen(s));
}

void ga_sb_printf(struct ga_strbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n >= 0 && !sb_reserve(sb, (size_t)n)) {
		vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
		sb->len += (size_t)n;
	}
	va_end(ap);
}

void ga_sb_reset(struct ga_strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = 0;
}

const char *ga_sb_str(const struct ga_strbuf *sb)
{
	return sb->s && !sb->oom ? sb->s : "";
}

char *ga_sb_steal(struct ga_strbuf *sb)
{
	char *s = sb->oom ? NULL : sb->s;
	if (!s && !sb->oom)
		s = strdup("");
	if (sb->oom)
		free(sb->s);
	memset(sb, 0, sizeof(*sb));
	return s;
}
