/* The report (goautopsy/report.h): runs the detectors of src/detect over
 * the session, applies the thresholds and ranks the findings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/detect.h"
#include "detect/pins.h"
#include "detect/stackroots.h"
#include "goautopsy/report.h"
#include "session.h"

struct report_priv {
	struct ga_report pub;
	GA_VEC(void *) owned;
	GA_VEC(const char *) errors;
};

void ga_report_options_default(struct ga_report_options *o)
{
	memset(o, 0, sizeof(*o));
	o->min_waste = GA_REPORT_MIN_WASTE;
	o->min_ratio = GA_REPORT_MIN_RATIO;
}

const char *const *ga_finding_kinds(size_t *n)
{
	*n = det_nkinds;
	return det_kinds;
}

const char *ga_finding_fix(const char *kind)
{
	const struct det_entry *e = det_find(kind);
	return e ? e->fix : "";
}

/* Kinds every occurrence of which is a bug: no waste threshold. */
static bool always_reported(const char *kind)
{
	return !strcmp(kind, "goroutine_leak") || !strcmp(kind, "deadlock") || !strcmp(kind, "finalizer_cycle");
}

static int finding_cmp(const void *a, const void *b)
{
	const struct ga_finding *x = a, *y = b;
	if (x->waste_bytes != y->waste_bytes)
		return x->waste_bytes < y->waste_bytes ? 1 : -1;
	int k = strcmp(x->kind, y->kind);
	if (k)
		return k;
	return x->holder && y->holder ? strcmp(x->holder, y->holder) : 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ga_report_free(struct ga_report *r)
{
	if (!r)
		return;
	struct report_priv *p = (struct report_priv *)r;
	for (size_t i = 0; i < p->owned.len; i++)
		free(p->owned.v[i]);
	ga_vec_free(&p->owned);
	ga_vec_free(&p->errors);
	free(r->findings);
	free(r->suppressed);
	free(p);
}

struct ga_error *ga_session_report(struct ga_session *s, const struct ga_report_options *opt,
				   struct ga_report **out)
{
	*out = NULL;
	struct ga_report_options defaults;
	if (!opt) {
		ga_report_options_default(&defaults);
		opt = &defaults;
	}
	const struct ga_info *info;
	const struct ga_heap_stats *hst;
	const struct ga_goroutines *gs;
	struct ga_error *err;
	/* the heap first: ga_session_info reads its totals from it */
	if ((err = ga_heap_stats(s, &hst)) || (err = ga_heap_dominators(s)) ||
	    (err = ga_session_goroutine_list(s, &gs)) || (err = ga_session_info(s, &info)))
		return err;
	struct report_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return &ga_error_nomem;
	struct ga_report *r = &p->pub;
	r->schema_version = GA_REPORT_SCHEMA_VERSION;
	r->go_version = info->go_version;
	r->heap_inuse = hst->inuse_span_bytes;
	r->heap_live = hst->live_bytes;
	r->heap_alloc = hst->alloc_bytes;
	r->stack_inuse = hst->manual_span_bytes;
	r->goroutines = gs->n;
	r->stacks_precise = hst->goroutines_precise;
	r->stacks_conservative = hst->goroutines_conservative;
	r->options = *opt;
	double t0 = now();
	struct det_ctx c = {.s = s, .rt = s->rt, .opt = opt, .gs = gs, .hst = hst};
	/* precise stack slots: what the graph scanned conservatively is seen
	 * through them, and deadlock tells which frame holds a mutex */
	struct rt_g *rgs = NULL;
	size_t nrgs = 0;
	{
		struct ga_error *e = ga_session_goroutines(s, &rgs, &nrgs);
		if (!e)
			e = ga_session_unwinder(s, &c.unwinder);
		if (!e) {
			c.rgs = rgs;
			c.nrgs = nrgs;
			e = det_stackroots_build(&c, &c.stackroots);
		}
		if (!e && c.stackroots) /* of the conservatively scanned ones */
			r->stacks_rescanned = c.stackroots->precise < hst->goroutines_conservative
						      ? c.stackroots->precise
						      : hst->goroutines_conservative;
		if (e == &ga_error_nomem) {
			free(p);
			return e;
		}
		ga_error_destroy(e); /* the detectors fall back to the graph's roots */
	}
	for (size_t i = 0; i < det_nregistry; i++) {
		struct ga_error *e = det_registry[i].run(&c);
		if (e == &ga_error_nomem || c.oom) {
			err = &ga_error_nomem;
			break;
		}
		if (e) {
			char *m = NULL;
			if (asprintf(&m, "%s: %s", det_registry[i].kind, ga_error_message(e)) < 0 || !m ||
			    ga_vec_push(&p->owned, (void *)m) || ga_vec_push(&p->errors, m)) {
				ga_error_destroy(e);
				err = &ga_error_nomem;
				break;
			}
			ga_error_destroy(e);
		}
	}
	/* goroutine groups whose every member is in a deadlock: the deadlock
	 * says it better */
	for (size_t i = 0; i < c.findings.len && !err; i++) {
		struct ga_finding *g = &c.findings.v[i];
		if (strcmp(g->kind, "goroutine_leak") || g->suppressed || !g->ngoroutines)
			continue;
		size_t covered = 0;
		struct ga_finding *first = NULL;
		for (size_t k = 0; k < g->ngoroutines; k++) {
			bool in = false;
			for (size_t j = 0; j < c.findings.len && !in; j++) {
				struct ga_finding *d = &c.findings.v[j];
				for (size_t m = 0; !strcmp(d->kind, "deadlock") && m < d->ngoroutines && !in; m++)
					in = d->goroutines[m] == g->goroutines[k];
				if (in && !first)
					first = d;
			}
			covered += in;
		}
		if (covered == g->ngoroutines && first) {
			g->suppressed = "every goroutine of the group is in a deadlock finding";
			/* what only these goroutines keep alive is the deadlock's waste too */
			uint64_t extra = g->waste_bytes > g->stack_bytes ? g->waste_bytes - g->stack_bytes : 0;
			first->waste_bytes += extra;
			first->retained_bytes += extra;
		}
	}
	if (!err)
		err = det_group_collections(&c); /* fails only for memory */
	/* the thresholds */
	size_t nf = c.findings.len;
	r->findings = calloc(nf ? nf : 1, sizeof(*r->findings));
	r->suppressed = calloc(nf ? nf : 1, sizeof(*r->suppressed));
	if (!err && (!r->findings || !r->suppressed))
		err = &ga_error_nomem;
	for (size_t i = 0; i < nf && !err; i++) {
		struct ga_finding f = c.findings.v[i];
		if (!f.suppressed && !always_reported(f.kind)) {
			char buf[160];
			if (f.waste_bytes < opt->min_waste) {
				snprintf(buf, sizeof(buf), "waste %llu B is under --min-waste %llu B",
					 (unsigned long long)f.waste_bytes, (unsigned long long)opt->min_waste);
				f.suppressed = det_str(&c, "%s", buf);
			} else if (f.ratio < opt->min_ratio) {
				snprintf(buf, sizeof(buf), "waste ratio %.3f is under --min-ratio %.3f", f.ratio,
					 opt->min_ratio);
				f.suppressed = det_str(&c, "%s", buf);
			}
		}
		if (f.suppressed) {
			r->suppressed_total++;
			if (opt->keep_suppressed)
				r->suppressed[r->nsuppressed++] = f;
		} else {
			r->findings[r->nfindings++] = f;
			r->attributed += f.waste_bytes;
		}
	}
	ga_sort(r->findings, r->nfindings, sizeof(*r->findings), finding_cmp);
	ga_sort(r->suppressed, r->nsuppressed, sizeof(*r->suppressed), finding_cmp);
	r->seconds = now() - t0;
	/* the findings' strings now belong to the report */
	for (size_t i = 0; i < c.owned.len; i++)
		if (ga_vec_push(&p->owned, c.owned.v[i])) {
			for (size_t k = i; k < c.owned.len; k++)
				free(c.owned.v[k]);
			err = &ga_error_nomem;
			break;
		}
	ga_vec_free(&c.owned);
	ga_vec_free(&c.findings);
	det_refs_free(c.refs);
	ga_error_destroy(c.refs_err == &ga_error_nomem ? NULL : c.refs_err);
	det_pins_free(c.pins);
	det_stackroots_free(c.stackroots);
	free(c.dom_pre);
	free(c.dom_end);
	free(c.dom_order);
	r->errors = p->errors.v;
	r->nerrors = p->errors.len;
	if (err) {
		ga_report_free(r);
		return err;
	}
	*out = r;
	return NULL;
}
