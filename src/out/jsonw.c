#include <string.h>

#include "out/jsonw.h"

static void flush(struct out_jw *w)
{
	if (w->len)
		fwrite(w->buf, 1, w->len, w->f);
	w->len = 0;
}

static void put(struct out_jw *w, const char *s, size_t n)
{
	if (n > sizeof(w->buf) - w->len) {
		flush(w);
		if (n > sizeof(w->buf)) {
			fwrite(s, 1, n, w->f);
			return;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void putc_(struct out_jw *w, char c)
{
	if (w->len == sizeof(w->buf))
		flush(w);
	w->buf[w->len++] = c;
}

void out_jw_init(struct out_jw *w, FILE *f, int pretty_depth)
{
	w->f = f;
	w->depth = 0;
	w->pretty_depth = pretty_depth;
	w->after_key = false;
	w->len = 0;
	w->has_items[0] = false;
}

static void newline(struct out_jw *w, int depth)
{
	putc_(w, '\n');
	for (int i = 0; i < depth; i++)
		put(w, "  ", 2);
}

/* Separator and indentation before a value or a key. */
static void before(struct out_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->has_items[w->depth])
		putc_(w, ',');
	w->has_items[w->depth] = true;
	if (w->depth <= w->pretty_depth)
		newline(w, w->depth);
}

static void open_(struct out_jw *w, char o, char c)
{
	before(w);
	putc_(w, o);
	if (w->depth + 1 < OUT_JW_MAX_DEPTH) {
		w->depth++;
		w->has_items[w->depth] = false;
		w->closer[w->depth] = c;
	}
}

void out_jw_obj(struct out_jw *w)
{
	open_(w, '{', '}');
}

void out_jw_arr(struct out_jw *w)
{
	open_(w, '[', ']');
}

void out_jw_end(struct out_jw *w)
{
	if (w->depth == 0)
		return;
	if (w->has_items[w->depth] && w->depth <= w->pretty_depth)
		newline(w, w->depth - 1);
	putc_(w, w->closer[w->depth]);
	w->depth--;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A byte copied as it is: printable ASCII other than " and \. */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void string(struct out_jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	putc_(w, '"');
	for (;;) {
		const unsigned char *run = p;
		while (plain(*p))
			p++;
		if (p > run)
			put(w, (const char *)run, (size_t)(p - run));
		unsigned char c = *p;
		if (!c)
			break;
		size_t l = c >= 0x80 ? utf8_len(p, strnlen((const char *)p, 4)) : 0;
		if (l) {
			put(w, (const char *)p, l);
			p += l;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put(w, e, 2);
		} else if (c == '\n') {
			put(w, "\\n", 2);
		} else if (c == '\t') {
			put(w, "\\t", 2);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put(w, e, 6);
		} else {
			put(w, "\\ufffd", 6);
		}
		p++;
	}
	putc_(w, '"');
}

void out_jw_key(struct out_jw *w, const char *k)
{
	before(w);
	/* keys are the caller's plain ASCII names: no escaping */
	putc_(w, '"');
	put(w, k, strlen(k));
	put(w, "\":", 2);
	if (w->depth <= w->pretty_depth)
		putc_(w, ' ');
	w->after_key = true;
}

void out_jw_str(struct out_jw *w, const char *s)
{
	before(w);
	if (s)
		string(w, s);
	else
		put(w, "null", 4);
}

static void digits(struct out_jw *w, uint64_t v, bool neg)
{
	char b[24];
	int i = sizeof(b);
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		b[--i] = '-';
	put(w, b + i, sizeof(b) - (size_t)i);
}

void out_jw_u64(struct out_jw *w, uint64_t v)
{
	before(w);
	digits(w, v, false);
}

void out_jw_i64(struct out_jw *w, int64_t v)
{
	before(w);
	digits(w, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void out_jw_bool(struct out_jw *w, bool v)
{
	before(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void out_jw_null(struct out_jw *w)
{
	before(w);
	put(w, "null", 4);
}

void out_jw_addr(struct out_jw *w, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char b[20];
	int i = sizeof(b);
	before(w);
	b[--i] = '"';
	do {
		b[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	b[--i] = '"';
	put(w, b + i, sizeof(b) - (size_t)i);
}

void out_jw_kstr(struct out_jw *w, const char *k, const char *s)
{
	out_jw_key(w, k);
	out_jw_str(w, s);
}

void out_jw_ku64(struct out_jw *w, const char *k, uint64_t v)
{
	out_jw_key(w, k);
	out_jw_u64(w, v);
}

void out_jw_ki64(struct out_jw *w, const char *k, int64_t v)
{
	out_jw_key(w, k);
	out_jw_i64(w, v);
}

void out_jw_kbool(struct out_jw *w, const char *k, bool v)
{
	out_jw_key(w, k);
	out_jw_bool(w, v);
}

void out_jw_kaddr(struct out_jw *w, const char *k, uint64_t v)
{
	out_jw_key(w, k);
	out_jw_addr(w, v);
}

void out_jw_ki64n(struct out_jw *w, const char *k, int64_t v, bool present)
{
	out_jw_key(w, k);
	if (present)
		out_jw_i64(w, v);
	else
		out_jw_null(w);
}

void out_jw_kaddr0(struct out_jw *w, const char *k, uint64_t v)
{
	out_jw_key(w, k);
	if (v)
		out_jw_addr(w, v);
	else
		out_jw_null(w);
}

void out_jw_finish(struct out_jw *w)
{
	while (w->depth > 0)
		out_jw_end(w);
	putc_(w, '\n');
	flush(w);
}
