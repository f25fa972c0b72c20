/* .go.buildinfo: "\xff Go buildinf:", pointer size, flags; with flag 2 the
 * version and module info follow inline as uvarint-prefixed strings
 * (runtime/debug and cmd/go/internal/version describe the format). */
#include <stdlib.h>
#include <string.h>

#include "rt/rt.h"

static const char magic[] = "\xff Go buildinf:";

static bool uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* The sentinels around module info may hold NUL bytes: keep the length. */
static char *take_string(const uint8_t **p, const uint8_t *end, size_t *len)
{
	uint64_t n;
	if (!uvarint(p, end, &n) || n > (uint64_t)(end - *p))
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, *p, (size_t)n);
	s[n] = 0;
	*p += n;
	if (len)
		*len = (size_t)n;
	return s;
}

void rt_buildinfo_free(struct rt_buildinfo *bi)
{
	free(bi->go_version);
	free(bi->path);
	free(bi->main_module);
	free(bi->main_version);
	for (size_t i = 0; i < bi->settings.len; i++)
		free(bi->settings.v[i]);
	for (size_t i = 0; i < bi->deps.len; i++)
		free(bi->deps.v[i]);
	ga_vec_free(&bi->settings);
	ga_vec_free(&bi->deps);
	memset(bi, 0, sizeof(*bi));
}

static int add_line(struct rt_buildinfo *bi, const char *line, size_t n)
{
	char *l = strndup(line, n);
	if (!l)
		return -1;
	char *f1 = l, *tab = strchr(l, '\t');
	if (!tab) {
		free(l);
		return 0;
	}
	*tab = 0;
	char *rest = tab + 1;
	int rc = 0;
	if (!strcmp(f1, "path")) {
		free(bi->path);
		bi->path = strdup(rest);
		rc = bi->path ? 0 : -1;
	} else if (!strcmp(f1, "mod")) {
		char *t2 = strchr(rest, '\t');
		if (t2) {
			*t2 = 0;
			char *t3 = strchr(t2 + 1, '\t');
			if (t3)
				*t3 = 0;
			free(bi->main_version);
			bi->main_version = strdup(t2 + 1);
		}
		free(bi->main_module);
		bi->main_module = strdup(rest);
		rc = bi->main_module ? 0 : -1;
	} else if (!strcmp(f1, "build")) {
		char *s = strdup(rest);
		rc = !s || ga_vec_push(&bi->settings, s) ? (free(s), -1) : 0;
	} else if (!strcmp(f1, "dep")) {
		char *t2 = strchr(rest, '\t');
		if (t2) {
			*t2 = ' ';
			char *t3 = strchr(t2 + 1, '\t');
			if (t3)
				*t3 = 0;
		}
		char *s = strdup(rest);
		rc = !s || ga_vec_push(&bi->deps, s) ? (free(s), -1) : 0;
	}
	free(l);
	return rc;
}

struct ga_error *rt_parse_buildinfo(const uint8_t *data, uint64_t size, struct rt_buildinfo *bi)
{
	memset(bi, 0, sizeof(*bi));
	if (size < 32 || memcmp(data, magic, 14))
		return ga_error_create(GA_ERR_FORMAT, ".go.buildinfo: bad magic");
	uint8_t flags = data[15];
	if (!(flags & 2))
		return ga_error_create(GA_ERR_UNSUPPORTED,
				       ".go.buildinfo uses the pre-Go 1.18 pointer format");
	const uint8_t *p = data + 32, *end = data + size;
	size_t n = 0;
	bi->go_version = take_string(&p, end, NULL);
	char *mod = take_string(&p, end, &n);
	if (!bi->go_version || !mod) {
		free(mod);
		rt_buildinfo_free(bi);
		return ga_error_create(GA_ERR_FORMAT, ".go.buildinfo: truncated strings");
	}
	/* module info is wrapped in 16-byte sentinels */
	const char *m = mod;
	if (n >= 33 && mod[n - 17] == '\n') {
		m = mod + 16;
		n -= 32;
	}
	const char *line = m, *mend = m + n;
	while (line < mend) {
		const char *nl = memchr(line, '\n', (size_t)(mend - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(mend - line);
		if (add_line(bi, line, len)) {
			free(mod);
			rt_buildinfo_free(bi);
			return &ga_error_nomem;
		}
		line += len + 1;
	}
	free(mod);
	return NULL;
}

bool rt_exe_is_go(const struct ga_exe *exe)
{
	return ga_exe_section(exe, ".go.buildinfo") || ga_exe_section(exe, ".gopclntab") ||
	       exe->go_buildid;
}
