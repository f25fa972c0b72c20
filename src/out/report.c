/* The leak report as text (one-screen summary, findings by kind, top
 * retainers) and as JSON (docs/report-schema.md). */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "goautopsy/heap.h"
#include "out/format.h"
#include "out/report.h"

#define TOP_SUMMARY 5
#define EXAMPLE_FRAMES 12

struct retainer {
	ga_node node;
	uint64_t retained;
};

static int ret_cmp(const void *a, const void *b)
{
	const struct retainer *x = a, *y = b;
	return x->retained < y->retained ? 1 : x->retained > y->retained ? -1 : 0;
}

/* The roots keeping the most memory alive. */
static size_t top_retainers(struct ga_session *s, struct retainer *out, size_t max)
{
	size_t n = 0, nr = ga_heap_nroots(s);
	for (size_t i = 0; i < nr; i++) {
		ga_node node = ga_heap_node_of_root(s, i);
		struct retainer r = {node, ga_heap_retained(s, node)};
		if (!r.retained)
			continue;
		size_t pos = n;
		while (pos > 0 && out[pos - 1].retained < r.retained)
			pos--;
		if (pos >= max)
			continue;
		if (n < max)
			n++;
		memmove(&out[pos + 1], &out[pos], (n - 1 - pos) * sizeof(*out));
		out[pos] = r;
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), ret_cmp);
	return n;
}

static const char *loc_text(const struct ga_location *l, char *buf, size_t n)
{
	if (!l->file && !l->function)
		return NULL;
	const char *file = l->file ? l->file : "?";
	if (l->function)
		snprintf(buf, n, "%s (%s:%u)", l->function, file, l->line);
	else
		snprintf(buf, n, "%s:%u", file, l->line);
	return buf;
}

static void duration(int64_t ns, char *buf, size_t n)
{
	if (ns < 0)
		snprintf(buf, n, "unknown");
	else if (ns >= 60000000000ll)
		snprintf(buf, n, "%lld min", (long long)(ns / 60000000000ll));
	else if (ns >= 1000000000ll)
		snprintf(buf, n, "%.1f s", (double)ns / 1e9);
	else
		snprintf(buf, n, "%.1f ms", (double)ns / 1e6);
}

static void finding_text(FILE *f, const struct ga_finding *x)
{
	char b1[32], b2[32], lb[512];
	fprintf(f, "[%s] %s wasted, %s retained: %s\n", x->severity, out_bytes(x->waste_bytes, b1),
		out_bytes(x->retained_bytes, b2), x->title ? x->title : x->kind);
	if (x->holder)
		fprintf(f, "  holder:      %s\n", x->holder);
	const char *loc = loc_text(&x->location, lb, sizeof(lb));
	if (loc)
		fprintf(f, "  location:    %s\n", loc);
	if (x->blocked_on) {
		fprintf(f, "  blocked on:  %s (%s), %" PRIu64 " goroutine%s", x->blocked_on,
			x->wait_reason ? x->wait_reason : "", x->count, x->count == 1 ? "" : "s");
		for (size_t i = 0; i < x->ngoroutines && i < 16; i++)
			fprintf(f, "%s%" PRIu64, i ? ", " : ": ", x->goroutines[i]);
		fprintf(f, "%s\n", x->ngoroutines > 16 ? ", ..." : "");
		loc = loc_text(&x->created_by, lb, sizeof(lb));
		if (loc)
			fprintf(f, "  created by:  %s\n", loc);
		duration(x->longest_wait_ns, lb, sizeof(lb));
		fprintf(f, "  longest wait: %s; stacks %s\n", lb, out_bytes(x->stack_bytes, b1));
	}
	if (x->cap || x->len)
		fprintf(f, "  len/cap:     %" PRIu64 "/%" PRIu64 " (element %" PRIu64 " B)\n", x->len, x->cap,
			x->elem_size);
	for (size_t i = 0; i < x->nobjects && i < 10; i++) {
		const struct ga_finding_object *o = &x->objects[i];
		fprintf(f, "  %-12s 0x%" PRIx64 " %s%s%s", o->role ? o->role : "object", o->addr,
			o->type && *o->type ? o->type : "", o->type && *o->type ? " " : "", out_bytes(o->size, b1));
		if (o->offset || o->len)
			fprintf(f, " (+%" PRIu64 ", %" PRIu64 " B)", o->offset, o->len);
		if (o->holder)
			fprintf(f, " <- %s", o->holder);
		fputc('\n', f);
	}
	if (x->evidence)
		fprintf(f, "  evidence:    %s\n", x->evidence);
	if (x->example && (x->blocked_on || !strcmp(x->kind, "deadlock"))) {
		for (size_t k = 0; k < (!strcmp(x->kind, "deadlock") ? x->ngoroutines : 1); k++) {
			const struct ga_goroutine *g = x->example;
			if (k) /* deadlock: every stack of the cycle */
				break;
			fprintf(f, "  goroutine %" PRIu64 " [%s]:\n", g->id, g->wait_reason);
			for (size_t i = 0; i < g->nframes && i < EXAMPLE_FRAMES; i++)
				fprintf(f, "      %s\n        %s:%u\n", g->frames[i].function ? g->frames[i].function : "?",
					g->frames[i].file ? g->frames[i].file : "?", g->frames[i].line);
		}
	}
	if (x->suppressed)
		fprintf(f, "  suppressed:  %s\n", x->suppressed);
	fprintf(f, "  fix:         %s\n", x->fix);
}

static void stacks_text(FILE *f, struct ga_session *s, const struct ga_finding *x)
{
	const struct ga_goroutines *gs;
	struct ga_error *err = ga_session_goroutine_list(s, &gs);
	if (err) {
		ga_error_destroy(err);
		return;
	}
	for (size_t k = 1; k < x->ngoroutines; k++) {
		const struct ga_goroutine *g = ga_goroutine_find(gs, x->goroutines[k]);
		if (!g)
			continue;
		fprintf(f, "  goroutine %" PRIu64 " [%s]:\n", g->id, g->wait_reason);
		for (size_t i = 0; i < g->nframes && i < EXAMPLE_FRAMES; i++)
			fprintf(f, "      %s\n        %s:%u\n", g->frames[i].function ? g->frames[i].function : "?",
				g->frames[i].file ? g->frames[i].file : "?", g->frames[i].line);
	}
}

static void text(FILE *f, struct ga_session *s, const struct ga_report *r, const struct out_report_opts *o)
{
	char b1[32], b2[32], b3[32];
	fprintf(f, "goautopsy report: %s, heap in use %s (live %s), stacks %s, %" PRIu64 " goroutines\n",
		r->go_version ? r->go_version : "unknown Go", out_bytes(r->heap_inuse, b1),
		out_bytes(r->heap_live, b2), out_bytes(r->stack_inuse, b3), r->goroutines);
	double pct = r->heap_inuse ? 100.0 * (double)r->attributed / (double)r->heap_inuse : 0;
	fprintf(f, "attributed to findings: %s (%.1f%% of the heap in use) in %zu finding%s",
		out_bytes(r->attributed, b1), pct, r->nfindings, r->nfindings == 1 ? "" : "s");
	if (r->suppressed_total)
		fprintf(f, "; %zu suppressed%s", r->suppressed_total, o->all ? "" : " (--all lists them)");
	fprintf(f, " (thresholds: waste >= %s, ratio >= %.2f)\n", out_bytes(r->options.min_waste, b2),
		r->options.min_ratio);
	if (r->stacks_conservative > r->stacks_rescanned)
		fprintf(f, "note: %" PRIu64 " goroutine stacks were scanned conservatively (no stack maps): "
			   "stale words may hide leaks\n", r->stacks_conservative - r->stacks_rescanned);
	for (size_t i = 0; i < r->nerrors; i++)
		fprintf(f, "detector failed: %s\n", r->errors[i]);
	if (!r->nfindings) {
		fprintf(f, "\nno leak found\n");
	} else {
		fprintf(f, "\n%10s  %-28s %6s  %s\n", "waste", "kind", "count", "holder");
		for (size_t i = 0; i < r->nfindings && i < TOP_SUMMARY; i++) {
			const struct ga_finding *x = &r->findings[i];
			fprintf(f, "%10s  %-28s %6" PRIu64 "  %s\n", out_bytes(x->waste_bytes, b1), x->kind, x->count,
				x->holder ? x->holder : "");
		}
		if (r->nfindings > TOP_SUMMARY)
			fprintf(f, "%10s  ... %zu more below\n", "", r->nfindings - TOP_SUMMARY);
	}
	size_t nk;
	const char *const *kinds = ga_finding_kinds(&nk);
	for (int pass = 0; pass < 2; pass++) {
		const struct ga_finding *v = pass ? r->suppressed : r->findings;
		size_t n = pass ? r->nsuppressed : r->nfindings;
		if (pass && (!o->all || !n))
			continue;
		if (pass)
			fprintf(f, "\n==== suppressed candidates (%zu) ====\n", n);
		for (size_t k = 0; k < nk; k++) {
			size_t cnt = 0;
			for (size_t i = 0; i < n; i++)
				cnt += !strcmp(v[i].kind, kinds[k]);
			if (!cnt)
				continue;
			fprintf(f, "\n== %s (%zu) ==\n", kinds[k], cnt);
			for (size_t i = 0; i < n; i++) {
				if (strcmp(v[i].kind, kinds[k]))
					continue;
				finding_text(f, &v[i]);
				if (!strcmp(v[i].kind, "deadlock"))
					stacks_text(f, s, &v[i]);
			}
		}
	}
	struct retainer top[32];
	size_t ntop = top_retainers(s, top, o->top && o->top < 32 ? o->top : 10);
	fprintf(f, "\n== top retainers ==\n%12s  %s\n", "retained", "root");
	for (size_t i = 0; i < ntop; i++) {
		char lb[300];
		fprintf(f, "%12s  %s\n", out_bytes(top[i].retained, b1), ga_heap_node_label(s, top[i].node, lb, sizeof(lb)));
	}
}

static json_t *loc_json(const struct ga_location *l)
{
	if (!l->file && !l->function)
		return json_null();
	json_t *j = json_object();
	json_object_set_new(j, "function", l->function ? json_string(l->function) : json_null());
	json_object_set_new(j, "file", l->file ? json_string(l->file) : json_null());
	json_object_set_new(j, "line", json_integer(l->line));
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *goroutine_json(const struct ga_goroutine *g)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer((json_int_t)g->id));
	json_object_set_new(j, "status", json_string(g->status));
	json_object_set_new(j, "wait_reason", json_string(g->wait_reason));
	json_t *fr = json_array();
	for (size_t i = 0; i < g->nframes; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "function", str_or_null(g->frames[i].function));
		json_object_set_new(e, "file", str_or_null(g->frames[i].file));
		json_object_set_new(e, "line", json_integer(g->frames[i].line));
		json_array_append_new(fr, e);
	}
	json_object_set_new(j, "frames", fr);
	return j;
}

static json_t *finding_json(struct ga_session *s, const struct ga_finding *x)
{
	json_t *j = json_object();
	json_object_set_new(j, "kind", json_string(x->kind));
	json_object_set_new(j, "severity", json_string(x->severity));
	json_object_set_new(j, "title", str_or_null(x->title));
	json_object_set_new(j, "waste_bytes", json_integer((json_int_t)x->waste_bytes));
	json_object_set_new(j, "retained_bytes", json_integer((json_int_t)x->retained_bytes));
	json_object_set_new(j, "ratio", json_real(x->ratio));
	json_object_set_new(j, "holder", str_or_null(x->holder));
	json_object_set_new(j, "location", loc_json(&x->location));
	json_object_set_new(j, "fix", json_string(x->fix));
	json_object_set_new(j, "count", json_integer((json_int_t)x->count));
	json_object_set_new(j, "blocked_on", str_or_null(x->blocked_on));
	json_object_set_new(j, "len", json_integer((json_int_t)x->len));
	json_object_set_new(j, "cap", json_integer((json_int_t)x->cap));
	json_object_set_new(j, "elem_size", json_integer((json_int_t)x->elem_size));
	json_t *objs = json_array();
	for (size_t i = 0; i < x->nobjects; i++) {
		const struct ga_finding_object *o = &x->objects[i];
		json_t *e = json_object();
		json_object_set_new(e, "addr", out_json_addr(o->addr));
		json_object_set_new(e, "size", json_integer((json_int_t)o->size));
		json_object_set_new(e, "type", json_string(o->type ? o->type : ""));
		json_object_set_new(e, "role", json_string(o->role ? o->role : ""));
		json_object_set_new(e, "holder", str_or_null(o->holder));
		json_object_set_new(e, "offset", json_integer((json_int_t)o->offset));
		json_object_set_new(e, "len", json_integer((json_int_t)o->len));
		json_array_append_new(objs, e);
	}
	json_object_set_new(j, "objects", objs);
	if (x->blocked_on || !strcmp(x->kind, "deadlock")) {
		json_object_set_new(j, "wait_reason", str_or_null(x->wait_reason));
		json_object_set_new(j, "created_by", loc_json(&x->created_by));
		json_object_set_new(j, "longest_wait_ns",
				    x->longest_wait_ns >= 0 ? json_integer(x->longest_wait_ns) : json_null());
		json_object_set_new(j, "stack_bytes", json_integer((json_int_t)x->stack_bytes));
		json_object_set_new(j, "queued", json_integer((json_int_t)x->queued));
		json_t *ids = json_array();
		for (size_t i = 0; i < x->ngoroutines; i++)
			json_array_append_new(ids, json_integer((json_int_t)x->goroutines[i]));
		json_object_set_new(j, "goroutines", ids);
		json_object_set_new(j, "example", x->example ? goroutine_json(x->example) : json_null());
	}
	if (!strcmp(x->kind, "deadlock")) {
		json_t *mus = json_array(), *stacks = json_array();
		for (size_t i = 0; i < x->nmutexes; i++)
			json_array_append_new(mus, out_json_addr(x->mutexes[i]));
		json_object_set_new(j, "mutexes", mus);
		const struct ga_goroutines *gs;
		struct ga_error *err = ga_session_goroutine_list(s, &gs);
		if (!err)
			for (size_t i = 0; i < x->ngoroutines; i++) {
				const struct ga_goroutine *g = ga_goroutine_find(gs, x->goroutines[i]);
				if (g)
					json_array_append_new(stacks, goroutine_json(g));
			}
		ga_error_destroy(err);
		json_object_set_new(j, "stacks", stacks);
	}
	json_object_set_new(j, "evidence", str_or_null(x->evidence));
	if (x->suppressed)
		json_object_set_new(j, "suppressed", json_string(x->suppressed));
	return j;
}

static json_t *report_json(struct ga_session *s, const struct ga_report *r, const struct out_report_opts *o)
{
	json_t *j = json_object();
	json_object_set_new(j, "schema_version", json_integer(r->schema_version));
	json_object_set_new(j, "go_version", str_or_null(r->go_version));
	json_t *sum = json_object();
	json_object_set_new(sum, "heap_inuse_bytes", json_integer((json_int_t)r->heap_inuse));
	json_object_set_new(sum, "heap_live_bytes", json_integer((json_int_t)r->heap_live));
	json_object_set_new(sum, "heap_alloc_bytes", json_integer((json_int_t)r->heap_alloc));
	json_object_set_new(sum, "stack_inuse_bytes", json_integer((json_int_t)r->stack_inuse));
	json_object_set_new(sum, "attributed_bytes", json_integer((json_int_t)r->attributed));
	json_object_set_new(sum, "goroutines", json_integer((json_int_t)r->goroutines));
	json_object_set_new(sum, "findings", json_integer((json_int_t)r->nfindings));
	json_object_set_new(sum, "suppressed", json_integer((json_int_t)r->suppressed_total));
	json_object_set_new(sum, "detect_seconds", json_real(r->seconds));
	json_t *ss = json_object();
	json_object_set_new(ss, "precise", json_integer((json_int_t)r->stacks_precise));
	json_object_set_new(ss, "conservative", json_integer((json_int_t)r->stacks_conservative));
	json_object_set_new(ss, "rescanned_with_stack_maps", json_integer((json_int_t)r->stacks_rescanned));
	json_object_set_new(sum, "stack_scan", ss);
	json_object_set_new(j, "summary", sum);
	json_t *opts = json_object();
	json_object_set_new(opts, "min_waste", json_integer((json_int_t)r->options.min_waste));
	json_object_set_new(opts, "min_ratio", json_real(r->options.min_ratio));
	json_object_set_new(j, "options", opts);
	json_t *fs = json_array();
	for (size_t i = 0; i < r->nfindings; i++)
		json_array_append_new(fs, finding_json(s, &r->findings[i]));
	json_object_set_new(j, "findings", fs);
	if (o->all) {
		json_t *ss = json_array();
		for (size_t i = 0; i < r->nsuppressed; i++)
			json_array_append_new(ss, finding_json(s, &r->suppressed[i]));
		json_object_set_new(j, "suppressed", ss);
	}
	json_t *errs = json_array();
	for (size_t i = 0; i < r->nerrors; i++)
		json_array_append_new(errs, json_string(r->errors[i]));
	json_object_set_new(j, "errors", errs);
	struct retainer top[32];
	size_t ntop = top_retainers(s, top, o->top && o->top < 32 ? o->top : 10);
	json_t *tr = json_array();
	for (size_t i = 0; i < ntop; i++) {
		char lb[300];
		json_t *e = json_object();
		json_object_set_new(e, "root", json_string(ga_heap_node_label(s, top[i].node, lb, sizeof(lb))));
		json_object_set_new(e, "retained_bytes", json_integer((json_int_t)top[i].retained));
		json_array_append_new(tr, e);
	}
	json_object_set_new(j, "top_retainers", tr);
	return j;
}

struct ga_error *out_report(FILE *f, struct ga_session *s, const struct ga_report *r,
			    const struct out_report_opts *o)
{
	if (o->json) {
		if (out_json_print(f, report_json(s, r, o)))
			return ga_error_create(GA_ERR_IO, "writing the report failed");
		return NULL;
	}
	text(f, s, r, o);
	return NULL;
}

bool out_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0)
		return false;
	uint64_t mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1ull << 10; end++; break;
	case 'M': mul = 1ull << 20; end++; break;
	case 'G': mul = 1ull << 30; end++; break;
	case 'T': mul = 1ull << 40; end++; break;
	default: break;
	}
	if (mul > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return false;
	*out = (uint64_t)(v * (double)mul);
	return true;
}

static int severity_rank(const char *s)
{
	return !strcmp(s, "high") ? 3 : !strcmp(s, "medium") ? 2 : !strcmp(s, "low") ? 1 : 0;
}

struct ga_error *out_report_fail_on(const struct ga_report *r, const char *spec, bool *match)
{
	*match = false;
	char *copy = strdup(spec);
	if (!copy)
		return &ga_error_nomem;
	struct ga_error *err = NULL;
	size_t nk;
	const char *const *kinds = ga_finding_kinds(&nk);
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!strncmp(tok, "waste>", 6)) {
			uint64_t lim;
			if (!out_parse_size(tok + 6, &lim)) {
				err = ga_error_create(GA_ERR_USAGE, "--fail-on: \"%s\" is not a size", tok + 6);
				break;
			}
			for (size_t i = 0; i < r->nfindings; i++)
				*match |= r->findings[i].waste_bytes > lim;
			continue;
		}
		if (severity_rank(tok)) {
			for (size_t i = 0; i < r->nfindings; i++)
				*match |= severity_rank(r->findings[i].severity) >= severity_rank(tok);
			continue;
		}
		if (!strcmp(tok, "any")) {
			*match |= r->nfindings > 0;
			continue;
		}
		bool known = false;
		for (size_t k = 0; k < nk; k++)
			known |= !strcmp(kinds[k], tok);
		if (!known) {
			err = ga_error_create(GA_ERR_USAGE,
					      "--fail-on: \"%s\" is not a finding kind, a severity (low, medium, high), "
					      "any, or waste>SIZE", tok);
			break;
		}
		for (size_t i = 0; i < r->nfindings; i++)
			*match |= !strcmp(r->findings[i].kind, tok);
	}
	free(copy);
	return err;
}
