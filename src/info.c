/* ga_session_info: the overview of a core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goautopsy/heap.h"
#include "rt/pclntab.h"
#include "session.h"

#define MAX_MS 100000

static int count_add(struct ga_session *s, void *vec, const char *name)
{
	GA_VEC(struct ga_count) *v = vec;
	(void)s;
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->v[i].name, name)) {
			v->v[i].count++;
			return 0;
		}
	struct ga_count c = {name, 1};
	return ga_vec_push(v, c);
}

static int count_cmp(const void *a, const void *b)
{
	const struct ga_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

static const char *setting(struct ga_session *s, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; i < s->rt->bi.settings.len; i++) {
		const char *v = s->rt->bi.settings.v[i];
		if (!strncmp(v, key, k) && v[k] == '=')
			return v + k + 1;
	}
	return NULL;
}

static uint32_t count_ms(struct ga_session *s)
{
	struct ga_rt *rt = s->rt;
	uint64_t allm = rt_global(rt, "runtime.allm", NULL);
	struct rt_field link = rt_field(rt, "runtime.m", "alllink");
	uint64_t m;
	if (!allm || !link.ok || !rt_read_ptr(rt, allm, &m))
		return 0;
	uint32_t n = 0;
	while (m && n < MAX_MS) {
		n++;
		if (!rt_read_ptr(rt, m + link.off, &m))
			break;
	}
	return n;
}

struct ga_error *ga_session_info(struct ga_session *s, const struct ga_info **out)
{
	if (s->info_done) {
		*out = &s->info;
		return NULL;
	}
	struct ga_info *in = &s->info;
	struct ga_rt *rt = s->rt;
	memset(in, 0, sizeof(*in));
	in->core_path = s->core->name;
	in->core_compressed = s->core->file.compressed;
	in->executable = s->exe->path;
	in->exe_check = s->exe_check;
	in->go_version = rt->version;
	const char *goos = setting(s, "GOOS"), *goarch = setting(s, "GOARCH");
	s->goos = strdup(goos ? goos : "linux");
	s->goarch = strdup(goarch ? goarch : s->core->machine == 62 ? "amd64" : "arm64");
	const char *exp = setting(s, "GOEXPERIMENT");
	s->goexperiment = strdup(exp ? exp : "");
	if (!s->goos || !s->goarch || !s->goexperiment)
		return &ga_error_nomem;
	in->goos = s->goos;
	in->goarch = s->goarch;
	in->goexperiment = s->goexperiment;
	const char *cgo = setting(s, "CGO_ENABLED");
	in->cgo = cgo && !strcmp(cgo, "1");
	in->main_path = rt->bi.path;
	in->main_module = rt->bi.main_module;
	in->main_version = rt->bi.main_version;
	in->build_settings = (const char *const *)rt->bi.settings.v;
	in->n_build_settings = rt->bi.settings.len;
	if (s->core->have_psinfo) {
		in->pid = s->core->pid;
		s->command = strdup(s->core->psargs[0] ? s->core->psargs : s->core->fname);
		if (!s->command)
			return &ga_error_nomem;
		size_t n = strlen(s->command);
		while (n && s->command[n - 1] == ' ')
			s->command[--n] = 0;
		in->command = s->command;
	}
	if (s->core->have_siginfo && s->core->signo) {
		in->signal = s->core->signo;
		in->signal_addr = s->core->sigaddr;
	} else if (s->core->threads.len && s->core->threads.v[0].cursig) {
		in->signal = s->core->threads.v[0].cursig;
	}
	in->signal_name = ga_signal_name(in->signal);
	in->threads = (uint32_t)s->core->threads.len;
	in->ms = count_ms(s);
	uint64_t gmp = rt_global(rt, "runtime.gomaxprocs", NULL);
	uint32_t g32;
	if (gmp && ga_mem_u32(&s->mem, gmp, &g32))
		in->gomaxprocs = (int32_t)g32;

	struct rt_g *gs;
	size_t ngs;
	struct ga_error *err = ga_session_goroutines(s, &gs, &ngs);
	if (err)
		return err;
	int64_t gwaiting = 4, gleaked = -1;
	rt_const(rt, "runtime._Gwaiting", &gwaiting);
	rt_const(rt, "runtime._Gleaked", &gleaked);
	/* start functions are named like the runtime names them: from the pclntab */
	struct rt_pcln *pcln;
	err = ga_session_pcln(s, &pcln);
	if (err && err->code == GA_ERR_NOMEM)
		return err;
	ga_error_destroy(err);
	for (size_t i = 0; i < ngs; i++) {
		const struct rt_g *g = &gs[i];
		if (!g->readable) {
			in->goroutines_unreadable += g->missing ? g->missing : 1;
			continue;
		}
		if (rt_g_is_dead(rt, g))
			continue;
		in->goroutines++;
		struct rt_func sf;
		const char *start = pcln && rt_pcln_find(pcln, g->startpc, &sf)
					    ? rt_pcln_name(pcln, &sf)
					    : ga_dwarf_die_name(s->dw, ga_dwarf_func_at(s->dw, g->startpc - s->bias));
		if (!rt_g_counted_as_system(start))
			in->user_goroutines++;
		if (count_add(s, &s->by_status, rt_gstatus_name(rt, g->status)))
			return &ga_error_nomem;
		if (g->status == gwaiting || g->status == gleaked) {
			const char *r = rt_waitreason(rt, g->waitreason);
			if (count_add(s, &s->by_reason, *r ? r : "?"))
				return &ga_error_nomem;
		}
	}
	ga_sort(s->by_status.v, s->by_status.len, sizeof(struct ga_count), count_cmp);
	ga_sort(s->by_reason.v, s->by_reason.len, sizeof(struct ga_count), count_cmp);
	in->by_status = s->by_status.v;
	in->n_by_status = s->by_status.len;
	in->by_wait_reason = s->by_reason.v;
	in->n_by_wait_reason = s->by_reason.len;

	struct rt_span *spans;
	size_t nspans;
	err = ga_session_spans(s, &spans, &nspans);
	if (err)
		return err;
	struct rt_heap_summary hs;
	err = rt_heap_summary(rt, spans, nspans, &hs);
	if (err)
		return err;
	in->heap.arenas = hs.arenas;
	in->heap.arena_bytes = hs.arena_bytes;
	in->heap.page_size = hs.page_size;
	in->heap.spans = hs.spans_total;
	in->heap.spans_inuse = hs.spans_inuse;
	in->heap.spans_manual = hs.spans_manual;
	in->heap.spans_free = hs.spans_dead + hs.spans_other;
	in->heap.inuse_span_bytes = hs.inuse_bytes;
	in->heap.manual_span_bytes = hs.manual_bytes;
	in->heap.alloc_objects = hs.alloc_objects;
	const struct ga_heap_stats *st;
	err = ga_heap_stats(s, &st);
	if (err && err->code == GA_ERR_NOMEM)
		return err;
	if (err) {
		free(s->heap_mark_error);
		s->heap_mark_error = strdup(ga_error_message(err));
		ga_error_destroy(err);
		in->heap.mark_error = s->heap_mark_error ? s->heap_mark_error : "?";
	} else {
		in->heap.marked = true;
		in->heap.live_bytes = st->live_bytes;
		in->heap.live_objects = st->live_objects;
		in->heap.garbage_bytes = st->garbage_bytes;
		in->heap.garbage_objects = st->garbage_objects;
		/* the object enumeration's own span total */
		in->heap.inuse_span_bytes = st->inuse_span_bytes;
	}
	s->info_done = true;
	*out = in;
	return NULL;
}
