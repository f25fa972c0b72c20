#include <stdlib.h>
#include <string.h>

#include "rt/sema.h"

#define MAX_SEMA_NODES (1u << 22)
#define MAX_ROOTS 4096

struct ga_error *rt_semtable_read(struct rt_chans *c, struct rt_semtable *out)
{
	struct ga_rt *rt = c->rt;
	memset(out, 0, sizeof(*out));
	ga_hash_init(&out->g_sema);
	ga_type_id tt;
	uint64_t tab = rt_global(rt, "runtime.semtable", &tt);
	const struct ga_type *t = ga_dwarf_type(rt->dw, tt);
	const struct ga_type *et = t ? ga_dwarf_type(rt->dw, t->elem) : NULL;
	if (!tab || !t || t->kind != GA_K_ARRAY || !et || !c->have_sudog)
		return NULL;
	struct rt_field treap = rt_field_of(rt, t->elem, "root.treap");
	if (!treap.ok || t->count > MAX_ROOTS)
		return NULL;
	out->present = true;
	struct ga_hash seen;
	ga_hash_init(&seen);
	GA_VEC(uint64_t) todo = {0};
	struct ga_error *err = NULL;
	size_t steps = 0;
	for (uint64_t i = 0; i < t->count && !err; i++) {
		uint64_t root;
		if (!rt_read_ptr(rt, tab + i * et->size + treap.off, &root)) {
			out->broken = true;
			continue;
		}
		todo.len = 0;
		if (root && ga_vec_push(&todo, root)) {
			err = &ga_error_nomem;
			break;
		}
		/* explicit stack over the treap (prev/next are the children) */
		while (todo.len && !err) {
			uint64_t node = todo.v[--todo.len];
			/* the node, then its waitlink chain of same-address waiters */
			for (uint64_t s = node; s; ) {
				uint64_t dummy;
				if (++steps > MAX_SEMA_NODES || ga_hash_get(&seen, s, &dummy)) {
					out->broken = true;
					break;
				}
				if (ga_hash_put(&seen, s, 1)) {
					err = &ga_error_nomem;
					break;
				}
				struct rt_sudog sg;
				if (!rt_sudog_read(c, s, &sg)) {
					out->broken = true;
					break;
				}
				if (sg.g && ga_hash_put(&out->g_sema, sg.g, sg.elem)) {
					err = &ga_error_nomem;
					break;
				}
				out->waiters++;
				if (s == node) {
					if ((sg.prev && ga_vec_push(&todo, sg.prev)) ||
					    (sg.next && ga_vec_push(&todo, sg.next))) {
						err = &ga_error_nomem;
						break;
					}
				}
				s = sg.waitlink;
			}
			if (todo.len > MAX_SEMA_NODES) {
				out->broken = true;
				break;
			}
		}
	}
	ga_vec_free(&todo);
	ga_hash_free(&seen);
	if (err) {
		rt_semtable_free(out);
		return err;
	}
	return NULL;
}

void rt_semtable_free(struct rt_semtable *st)
{
	ga_hash_free(&st->g_sema);
}

bool rt_sema_of_g(const struct rt_semtable *st, uint64_t g, uint64_t *sema)
{
	return g && ga_hash_get(&st->g_sema, g, sema);
}

bool rt_notifylist_first(struct rt_chans *c, uint64_t nl, uint64_t *first)
{
	struct rt_field head = rt_scalar_field(c->rt, "runtime.notifyList", "head");
	*first = 0;
	return nl && head.ok && rt_read_ptr(c->rt, nl + head.off, first);
}
