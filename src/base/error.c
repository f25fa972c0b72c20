#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goautopsy/error.h"

struct ga_error ga_error_nomem = {
	.code = GA_ERR_NOMEM,
	.message = "out of memory",
	.is_static = 1,
};

static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

struct ga_error *ga_error_create(enum ga_error_code code, const char *fmt, ...)
{
	struct ga_error *err = malloc(sizeof(*err));
	if (!err)
		return &ga_error_nomem;
	va_list ap;
	va_start(ap, fmt);
	err->message = vformat(fmt, ap);
	va_end(ap);
	if (!err->message) {
		free(err);
		return &ga_error_nomem;
	}
	err->code = code;
	err->is_static = 0;
	return err;
}

struct ga_error *ga_error_context(struct ga_error *err, const char *fmt, ...)
{
	if (!err || err->is_static)
		return err;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	if (!ctx)
		return err; /* keep the original message rather than lose it */
	size_t a = strlen(ctx), b = strlen(err->message);
	char *s = malloc(a + 2 + b + 1);
	if (s) {
		memcpy(s, ctx, a);
		memcpy(s + a, ": ", 2);
		memcpy(s + a + 2, err->message, b + 1);
		free(err->message);
		err->message = s;
	}
	free(ctx);
	return err;
}

void ga_error_destroy(struct ga_error *err)
{
	if (!err || err->is_static)
		return;
	free(err->message);
	free(err);
}

const char *ga_error_message(const struct ga_error *err)
{
	return err ? err->message : "success";
}
