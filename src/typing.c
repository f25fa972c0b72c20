/* The typing pass (src/graph/typing.h) run for a session, and the public
 * questions about an object's type (include/goautopsy/heap.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goautopsy/heap.h"
#include "graph/typing.h"
#include "rt/unwind.h"
#include "session.h"

/* Physical frames of every live goroutine, for their DWARF variables.
 * A goroutine whose stack cannot be walked gives the frames found before
 * the walk stopped; without an unwinder there are no frames at all. */
static struct ga_error *frames(struct ga_session *s, struct typing_frame **out, size_t *n)
{
	GA_VEC(struct typing_frame) v = {0};
	*out = NULL;
	*n = 0;
	struct rt_g *gs;
	size_t ngs;
	struct rt_unwinder *u;
	struct ga_error *err = ga_session_goroutines(s, &gs, &ngs);
	if (!err)
		err = ga_session_unwinder(s, &u);
	if (err) {
		if (err == &ga_error_nomem)
			return err;
		ga_error_destroy(err);
		return NULL;
	}
	struct rt_stack st = {0};
	for (size_t i = 0; i < ngs && !err; i++) {
		if (!gs[i].readable || rt_g_is_dead(s->rt, &gs[i]))
			continue;
		if ((err = rt_unwind_g(u, &gs[i], RT_UNWIND_GC, &st)))
			break;
		for (size_t k = 0; k < st.frames.len; k++) {
			const struct rt_frame *f = &st.frames.v[k];
			/* a dead frame (under sigpanic) holds nothing */
			if (!f->continpc)
				continue;
			struct typing_frame tf = {f->sym_pc, f->fp, f->sp, gs[i].goid};
			if (ga_vec_push(&v, tf)) {
				err = &ga_error_nomem;
				break;
			}
		}
	}
	rt_stack_free(&st);
	if (err) {
		ga_vec_free(&v);
		return err;
	}
	*out = v.v;
	*n = v.len;
	return NULL;
}

struct ga_error *ga_session_type_objects(struct ga_session *s, struct ga_graph *g,
					 struct graph_typing *t)
{
	/* precise stack roots carry their DWARF variables already; frames
	 * are read here only when stacks were scanned conservatively */
	struct typing_frame *fr = NULL;
	size_t nfr = 0;
	struct ga_error *err = s->conservative_stacks ? frames(s, &fr, &nfr) : NULL;
	if (!err)
		err = graph_typing_run(t, g, s->rt, fr, nfr, s->type_provenance);
	free(fr);
	return err ? ga_error_context(err, "typing heap objects") : NULL;
}

struct ga_error *ga_heap_typing_stats(struct ga_session *s, struct ga_typing_stats *out)
{
	memset(out, 0, sizeof(*out));
	const struct ga_heap_stats *hst;
	struct ga_error *err = ga_heap_stats(s, &hst);
	if (err)
		return err;
	const struct ga_graph *g;
	const struct graph_typing *t = ga_session_heap_typing(s, &g);
	if (!t)
		return ga_error_create(GA_ERR_NOT_FOUND, "heap objects were not typed");
	const struct typing_stats *st = &t->st;
	out->live_objects = st->live_objects;
	out->live_bytes = st->live_bytes;
	out->typed_objects = st->typed_objects;
	out->typed_bytes = st->typed_bytes;
	out->tiny_bytes = st->tiny_bytes;
	out->frames = st->frames;
	out->frame_vars = st->frame_vars;
	out->maps = st->maps;
	out->map_errors = st->map_errors;
	out->upgrades = st->upgrades;
	for (int i = 0; i < TYPING_HOW_COUNT && i < GA_TYPING_HOW_MAX; i++) {
		out->by_how[i].name = typing_how_name((uint8_t)i);
		out->by_how[i].bytes = st->by_how[i];
	}
	out->n_by_how = TYPING_HOW_COUNT < GA_TYPING_HOW_MAX ? TYPING_HOW_COUNT : GA_TYPING_HOW_MAX;
	return NULL;
}

bool ga_heap_object_type(struct ga_session *s, ga_obj id, struct ga_object_type *out)
{
	memset(out, 0, sizeof(*out));
	struct ga_object o;
	const struct ga_graph *g;
	const struct graph_typing *t = ga_session_heap_typing(s, &g);
	if (!t || !ga_heap_object(s, id, &o) || id >= t->nobjs)
		return false;
	out->type = o.type;
	out->typed_by = o.typed_by;
	out->name = o.type ? ga_heap_type_name(s, o.type) : "";
	out->dwarf_type = t->type[id] ? t->type[id] : ga_heap_type_dwarf(s, o.type);
	const struct ga_type *dt = ga_dwarf_type(s->dw, out->dwarf_type);
	if (dt && dt->name && (!o.type || !*out->name))
		out->name = dt->name;
	out->how = typing_how_name(t->how[id]);
	out->offset = t->off[id];
	uint64_t esz = dt ? dt->size : ga_heap_type_size(s, o.type);
	if (t->how[id] == TYPING_CLOSURE)
		out->count = 1;
	else if (esz && o.size > out->offset)
		out->count = (o.size - out->offset) / esz;
	graph_typing_provenance(t, g, s->rt, id, out->provenance,
				sizeof(out->provenance));
	return true;
}
