/* Errors are values: every fallible function returns a struct ga_error *,
 * NULL on success. The caller adds context (ga_error_context) or passes it up. */
#ifndef GOAUTOPSY_ERROR_H
#define GOAUTOPSY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum ga_error_code {
	GA_ERR_OTHER = 1,
	GA_ERR_NOMEM,       /* out of memory */
	GA_ERR_IO,          /* a file could not be opened or read */
	GA_ERR_FORMAT,      /* malformed input: not ELF, not a core, truncated... */
	GA_ERR_FAULT,       /* address not readable in the core */
	GA_ERR_NOT_FOUND,   /* a symbol, type, field or object is absent */
	GA_ERR_MISMATCH,    /* executable does not belong to the core */
	GA_ERR_NO_DWARF,    /* executable has no debug info */
	GA_ERR_NOT_GO,      /* not a Go program */
	GA_ERR_UNSUPPORTED, /* a layout or feature this version cannot read */
	GA_ERR_USAGE,       /* bad arguments from the user */
	GA_ERR_CORRUPT,     /* runtime structures make no sense */
};

struct ga_error {
	enum ga_error_code code;
	char *message;
	int is_static;
};

/* The one error that never allocates. */
extern struct ga_error ga_error_nomem;

struct ga_error *ga_error_create(enum ga_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prepends "context: " to err's message; returns err (or nomem). */
struct ga_error *ga_error_context(struct ga_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ga_error_destroy(struct ga_error *err);
const char *ga_error_message(const struct ga_error *err);

#ifdef __cplusplus
}
#endif
#endif
