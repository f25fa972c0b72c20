#include <inttypes.h>
#include <stdlib.h>

#include "out/format.h"
#include "out/typing.h"

#define JI(v) json_integer((json_int_t)(v))

static json_t *object_json(struct ga_session *s, uint64_t addr)
{
	json_t *o = json_object();
	json_object_set_new(o, "query", out_json_addr(addr));
	ga_obj id = ga_heap_find(s, addr);
	struct ga_object ob;
	struct ga_object_type ot;
	if (id == GA_NO_OBJ || !ga_heap_object(s, id, &ob) || !ga_heap_object_type(s, id, &ot)) {
		json_object_set_new(o, "object", json_null());
		return o;
	}
	json_object_set_new(o, "object", out_json_addr(ob.addr));
	json_object_set_new(o, "size", JI(ob.size));
	json_object_set_new(o, "live", json_boolean(ob.live));
	json_object_set_new(o, "type", *ot.name ? json_string(ot.name) : json_null());
	json_object_set_new(o, "how", json_string(ot.how));
	json_object_set_new(o, "offset", JI(ot.offset));
	json_object_set_new(o, "count", JI(ot.count));
	json_object_set_new(o, "provenance", json_string(ot.provenance));
	return o;
}

/* The first predecessor of an object, as a label. */
static const char *held_by(struct ga_session *s, ga_obj id, char *buf, size_t n)
{
	const ga_node *pred;
	size_t np;
	ga_heap_pred(s, ga_heap_node_of_obj(s, id), &pred, &np);
	if (!np)
		return "nothing";
	return ga_heap_node_label(s, pred[0], buf, n);
}

struct ga_error *out_types(FILE *f, struct ga_session *s, const uint64_t *addrs, size_t naddrs,
			   size_t untyped, bool json)
{
	struct ga_typing_stats st;
	struct ga_error *err = ga_heap_typing_stats(s, &st);
	if (err)
		return err;
	double share = st.live_bytes ? 100.0 * (double)st.typed_bytes / (double)st.live_bytes : 100;
	json_t *root = json ? json_object() : NULL;
	char b1[32], b2[32];
	if (json) {
		json_object_set_new(root, "live_objects", JI(st.live_objects));
		json_object_set_new(root, "live_bytes", JI(st.live_bytes));
		json_object_set_new(root, "typed_objects", JI(st.typed_objects));
		json_object_set_new(root, "typed_bytes", JI(st.typed_bytes));
		json_object_set_new(root, "typed_share", json_real(share / 100));
		json_object_set_new(root, "tiny_bytes", JI(st.tiny_bytes));
		json_object_set_new(root, "frames", JI(st.frames));
		json_object_set_new(root, "frame_vars", JI(st.frame_vars));
		json_object_set_new(root, "maps", JI(st.maps));
		json_object_set_new(root, "map_errors", JI(st.map_errors));
		json_t *by = json_object();
		for (size_t i = 0; i < st.n_by_how; i++)
			if (st.by_how[i].bytes)
				json_object_set_new(by, st.by_how[i].name, JI(st.by_how[i].bytes));
		json_object_set_new(root, "typed_bytes_by_evidence", by);
	} else {
		fprintf(f, "typed         %s of %s live (%.1f%%), %" PRIu64 " of %" PRIu64 " objects\n",
			out_bytes(st.typed_bytes, b1), out_bytes(st.live_bytes, b2), share,
			st.typed_objects, st.live_objects);
		for (size_t i = 0; i < st.n_by_how; i++)
			if (st.by_how[i].bytes)
				fprintf(f, "  %-14s %s\n", st.by_how[i].name,
					out_bytes(st.by_how[i].bytes, b1));
		if (st.frames)
			fprintf(f, "frames        %" PRIu64 " read, %" PRIu64 " variables with pointers\n",
				st.frames, st.frame_vars);
		else
			fprintf(f, "frame vars    %" PRIu64 " live variables with pointers (precise stack roots)\n",
				st.frame_vars);
		if (st.tiny_bytes)
			fprintf(f, "tiny blocks   %s (several small values each: not typed)\n",
				out_bytes(st.tiny_bytes, b1));
	}
	json_t *objs = json ? json_array() : NULL;
	for (size_t i = 0; i < naddrs; i++) {
		json_t *o = object_json(s, addrs[i]);
		if (json) {
			json_array_append_new(objs, o);
			continue;
		}
		json_t *ob = json_object_get(o, "object");
		if (json_is_null(ob)) {
			fprintf(f, "0x%" PRIx64 ": no heap object\n", addrs[i]);
		} else if (json_is_null(json_object_get(o, "type"))) {
			fprintf(f, "%s: %" PRIu64 " B, untyped (%s): no evidence reaches it\n",
				json_string_value(ob),
				(uint64_t)json_integer_value(json_object_get(o, "size")),
				json_is_true(json_object_get(o, "live")) ? "live" : "garbage awaiting sweep");
		} else {
			json_t *t = json_object_get(o, "type");
			fprintf(f, "%s: %" PRIu64 " B, %s%s x %" PRIu64 " at +%" PRIu64 ": %s\n",
				json_string_value(ob), (uint64_t)json_integer_value(json_object_get(o, "size")),
				json_is_null(t) ? "untyped" : json_string_value(t), "",
				(uint64_t)json_integer_value(json_object_get(o, "count")),
				(uint64_t)json_integer_value(json_object_get(o, "offset")),
				json_string_value(json_object_get(o, "provenance")));
		}
		json_decref(o);
	}
	if (json)
		json_object_set_new(root, "objects", objs);
	json_t *un = json ? json_array() : NULL;
	size_t n = ga_heap_nobjects(s), shown = 0;
	for (ga_obj id = 0; id < n && shown < untyped; id++) {
		struct ga_object ob;
		if (!ga_heap_object(s, id, &ob) || !ob.live || ob.type || ob.tiny)
			continue;
		char lb[160];
		const char *by = held_by(s, id, lb, sizeof(lb));
		shown++;
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "addr", out_json_addr(ob.addr));
			json_object_set_new(o, "size", JI(ob.size));
			json_object_set_new(o, "held_by", json_string(by));
			json_array_append_new(un, o);
		} else {
			fprintf(f, "untyped 0x%" PRIx64 " %" PRIu64 " B, held by %s\n", ob.addr, ob.size, by);
		}
	}
	if (json) {
		json_object_set_new(root, "untyped", un);
		out_json_print(f, root);
	}
	return NULL;
}
