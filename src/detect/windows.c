/* Shared by the window-based detectors. */
#include <inttypes.h>
#include <stdio.h>

#include "detect/windows.h"

bool det_pin_truncated(struct det_ctx *c, const struct det_pin *p, const struct det_ref **which)
{
	for (uint32_t k = 0; k < p->n; k++) {
		const struct det_ref *r = &c->refs->refs.v[c->pins->order[p->first + k]];
		if (r->kind != DET_REF_SLICE || r->ptr != p->data)
			continue;
		/* cap reaches the last whole element of the slot */
		if (r->ptr + (r->cap + 1) * r->elem_size > p->addr + p->size) {
			*which = r;
			return true;
		}
	}
	return false;
}

struct ga_finding *det_pin_finding(struct det_ctx *c, const char *kind, const struct det_pin *p)
{
	uint64_t usable = p->addr + p->size - p->data;
	if (p->covered >= usable || p->map_storage)
		return NULL;
	const struct det_ref *main = det_pin_main_ref(c, p);
	struct ga_finding *f = det_add(c, kind);
	if (!f)
		return NULL;
	f->waste_bytes = usable - p->covered;
	f->ratio = (double)f->waste_bytes / (double)p->size;
	f->severity = det_severity(f->waste_bytes);
	det_pin_describe(c, f, p, main);
	if (main) {
		f->len = main->len;
		f->cap = main->cap;
		f->elem_size = main->elem_size;
	}
	if (p->unsure)
		f->suppressed = p->unsure;
	return f;
}

struct ga_error *det_pins_each(struct det_ctx *c, const char *kind, det_pin_pred pred,
			       det_pin_describe_fn describe)
{
	struct det_pins *ps;
	struct ga_error *err = det_pins_get(c, &ps);
	if (err)
		return err;
	for (size_t i = 0; i < ps->v.len && !c->oom; i++) {
		const struct det_pin *p = &ps->v.v[i];
		const struct det_ref *tr = NULL;
		if (p->slices)
			det_pin_truncated(c, p, &tr);
		if (!pred(c, p, tr))
			continue;
		struct ga_finding *f = det_pin_finding(c, kind, p);
		if (f)
			describe(c, f, p, tr);
	}
	return NULL;
}
