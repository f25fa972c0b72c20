/* Memory findings of one kind whose holders differ only by a map key, a
 * slice index or a goroutine id (`main.idx.byKey["k3"]`, `main.names[7]`)
 * are one pattern repeated over a collection: each may waste less than the
 * thresholds while together they waste a lot. Those under the thresholds
 * are summed into one finding held by `main.idx.byKey[*]`; its members
 * stay listed as suppressed, pointing at it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "detect/detect.h"

static bool groupable(const char *kind)
{
	static const char *const kinds[] = {"subslice_pins_array", "interior_pointer_pins_array",
					    "hidden_beyond_len", "slice_capacity_unused",
					    "substring_pins_string", "map_capacity_after_delete"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* The holder with its element selectors replaced by [*] and goroutine ids
 * by *, into sb; false when nothing was replaced (not in a collection). */
static bool collection_of(const char *h, struct ga_strbuf *sb)
{
	bool any = false;
	ga_sb_reset(sb);
	if (!strncmp(h, "goroutine ", 10) && h[10] >= '0' && h[10] <= '9') {
		ga_sb_printf(sb, "goroutine *");
		h += 10;
		while (*h >= '0' && *h <= '9')
			h++;
		any = true;
	}
	while (*h) {
		if (h[0] == '[' && h[1] == '"') {
			const char *p = h + 2;
			while (*p && !(p[0] == '"' && p[1] == ']'))
				p += p[0] == '\\' && p[1] ? 2 : 1;
			if (*p) {
				ga_sb_printf(sb, "[*]");
				h = p + 2;
				any = true;
				continue;
			}
		} else if (h[0] == '[' && h[1] >= '0' && h[1] <= '9') {
			const char *p = h + 1;
			while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == 'x')
				p++;
			if (*p == ']') {
				ga_sb_printf(sb, "[*]");
				h = p + 1;
				any = true;
				continue;
			}
		}
		ga_sb_appendn(sb, h, 1);
		h++;
	}
	return any;
}

struct member {
	const char *kind;
	const char *coll; /* the holder as a collection, owned by the report */
	size_t idx;       /* in c->findings */
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int k = strcmp(x->kind, y->kind);
	if (!k)
		k = strcmp(x->coll, y->coll);
	return k ? k : (x->idx > y->idx) - (x->idx < y->idx);
}

static bool under_thresholds(const struct det_ctx *c, const struct ga_finding *f)
{
	return f->waste_bytes < c->opt->min_waste || f->ratio < c->opt->min_ratio;
}

/* Adds the group finding for members m[0..n) if together they pass. */
static void add_group(struct det_ctx *c, const struct member *m, size_t n)
{
	uint64_t waste = 0, retained = 0, pinned = 0, nobj = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ga_finding *f = &c->findings.v[m[i].idx];
		waste += f->waste_bytes;
		retained += f->retained_bytes;
		pinned += f->ratio > 0 ? (uint64_t)((double)f->waste_bytes / f->ratio) : f->waste_bytes;
		nobj += f->nobjects;
	}
	double ratio = pinned ? (double)waste / (double)pinned : 0;
	if (waste < c->opt->min_waste || ratio < c->opt->min_ratio)
		return;
	/* at most a few objects of each member: the group can be thousands */
	enum { PER_MEMBER = 2, MAX_OBJECTS = 64 };
	size_t cap = nobj < MAX_OBJECTS ? nobj : MAX_OBJECTS;
	struct ga_finding_object *objs = det_alloc(c, (cap ? cap : 1) * sizeof(*objs));
	const char *kind = m[0].kind;
	const char *holder = m[0].coll;
	const struct ga_finding *f0 = &c->findings.v[m[0].idx];
	const char *title = det_str(c, "%zu allocations held through %s; the first: %s", n, holder ? holder : "?",
				    f0->title ? f0->title : "");
	const char *why = det_str(c, "counted in the %s finding for %s", kind, holder ? holder : "?");
	if (!objs || !holder || !title || !why)
		return;
	size_t no = 0;
	for (size_t i = 0; i < n && no < cap; i++) {
		const struct ga_finding *f = &c->findings.v[m[i].idx];
		for (size_t k = 0; k < f->nobjects && k < PER_MEMBER && no < cap; k++)
			objs[no++] = f->objects[k];
	}
	struct ga_location loc = f0->location;
	const char *evidence = f0->evidence;
	struct ga_finding *g = det_add(c, kind);
	if (!g)
		return;
	g->title = title;
	g->waste_bytes = waste;
	g->retained_bytes = retained;
	g->ratio = ratio;
	g->holder = holder;
	g->location = loc;
	g->severity = det_severity(waste);
	g->objects = objs;
	g->nobjects = no;
	g->count = n;
	g->evidence = evidence;
	for (size_t i = 0; i < n; i++)
		c->findings.v[m[i].idx].suppressed = why;
}

struct ga_error *det_group_collections(struct det_ctx *c)
{
	size_t nf = c->findings.len;
	struct member *m = malloc((nf ? nf : 1) * sizeof(*m));
	struct ga_strbuf sb = {0};
	if (!m)
		return &ga_error_nomem;
	size_t n = 0;
	for (size_t i = 0; i < nf && !c->oom; i++) {
		const struct ga_finding *f = &c->findings.v[i];
		if (f->suppressed || !f->holder || !groupable(f->kind) || !under_thresholds(c, f) ||
		    !collection_of(f->holder, &sb))
			continue;
		const char *coll = sb.oom ? NULL : det_str(c, "%s", ga_sb_str(&sb));
		if (!coll) {
			c->oom = true;
			break;
		}
		m[n++] = (struct member){f->kind, coll, i};
	}
	ga_sb_free(&sb);
	ga_sort(m, n, sizeof(*m), member_cmp);
	for (size_t i = 0; i < n && !c->oom;) {
		size_t j = i + 1;
		while (j < n && !strcmp(m[j].kind, m[i].kind) && !strcmp(m[j].coll, m[i].coll))
			j++;
		if (j - i >= 2)
			add_group(c, m + i, j - i);
		i = j;
	}
	free(m);
	return c->oom ? &ga_error_nomem : NULL;
}
