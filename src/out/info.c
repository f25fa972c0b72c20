#include <inttypes.h>
#include <string.h>

#include "out/format.h"
#include "out/info.h"

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

void out_info_text(FILE *f, const struct ga_info *in)
{
	char b1[32], b2[32], b3[32];
	fprintf(f, "core          %s%s\n", in->core_path, in->core_compressed ? " (zstd)" : "");
	fprintf(f, "executable    %s\n", in->executable);
	fprintf(f, "  matched     %s\n", in->exe_check);
	fprintf(f, "go            %s %s/%s%s%s%s\n", in->go_version, in->goos, in->goarch,
		in->cgo ? " cgo" : "", *in->goexperiment ? " GOEXPERIMENT=" : "", in->goexperiment);
	fprintf(f, "main          %s", or_dash(in->main_path));
	if (in->main_module && *in->main_module)
		fprintf(f, " (module %s %s)", in->main_module, or_dash(in->main_version));
	fputc('\n', f);
	if (in->pid || in->command)
		fprintf(f, "process       pid %d: %s\n", in->pid, or_dash(in->command));
	if (in->signal)
		fprintf(f, "signal        %d %s (addr 0x%" PRIx64 ")\n", in->signal,
			or_dash(in->signal_name), in->signal_addr);
	else
		fprintf(f, "signal        none recorded (a snapshot, e.g. gcore)\n");
	fprintf(f, "threads       %u   Ms %u   GOMAXPROCS %d\n", in->threads, in->ms, in->gomaxprocs);
	fprintf(f, "goroutines    %" PRIu64 " (%" PRIu64 " user)", in->goroutines, in->user_goroutines);
	if (in->goroutines_unreadable)
		fprintf(f, " (+%" PRIu64 " unreadable)", in->goroutines_unreadable);
	fputc('\n', f);
	for (size_t i = 0; i < in->n_by_status; i++)
		fprintf(f, "  %-12s %" PRIu64 "\n", in->by_status[i].name, in->by_status[i].count);
	if (in->n_by_wait_reason) {
		fprintf(f, "  waiting on:\n");
		for (size_t i = 0; i < in->n_by_wait_reason; i++)
			fprintf(f, "    %-28s %" PRIu64 "\n", in->by_wait_reason[i].name,
				in->by_wait_reason[i].count);
	}
	fprintf(f, "heap          %" PRIu64 " arena(s) of %s, %" PRIu64 " spans (%" PRIu64 " in use, %" PRIu64 " manual, %" PRIu64 " free)\n",
		in->heap.arenas, out_bytes(in->heap.arena_bytes, b1), in->heap.spans,
		in->heap.spans_inuse, in->heap.spans_manual, in->heap.spans_free);
	fprintf(f, "  in-use spans %s, %" PRIu64 " objects allocated; stacks and manual spans %s\n",
		out_bytes(in->heap.inuse_span_bytes, b2), in->heap.alloc_objects,
		out_bytes(in->heap.manual_span_bytes, b3));
	if (in->heap.marked)
		fprintf(f, "  marked live %s in %" PRIu64 " objects; garbage awaiting sweep %s in %" PRIu64 " objects\n",
			out_bytes(in->heap.live_bytes, b1), in->heap.live_objects,
			out_bytes(in->heap.garbage_bytes, b2), in->heap.garbage_objects);
	else
		fprintf(f, "  not marked: %s\n", in->heap.mark_error ? in->heap.mark_error : "?");
}

static json_t *counts(const struct ga_count *c, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, c[i].name, json_integer((json_int_t)c[i].count));
	return o;
}

json_t *out_info_json(const struct ga_info *in)
{
	json_t *o = json_object();
	json_object_set_new(o, "core", json_string(in->core_path));
	json_object_set_new(o, "core_compressed", json_boolean(in->core_compressed));
	json_object_set_new(o, "executable", json_string(in->executable));
	json_object_set_new(o, "executable_check", json_string(in->exe_check));
	json_object_set_new(o, "go_version", json_string(in->go_version));
	json_object_set_new(o, "goos", json_string(in->goos));
	json_object_set_new(o, "goarch", json_string(in->goarch));
	json_t *b = json_object();
	json_object_set_new(b, "path", in->main_path ? json_string(in->main_path) : json_null());
	json_object_set_new(b, "main_module", in->main_module ? json_string(in->main_module) : json_null());
	json_object_set_new(b, "main_version", in->main_version ? json_string(in->main_version) : json_null());
	json_object_set_new(b, "cgo", json_boolean(in->cgo));
	json_object_set_new(b, "goexperiment", json_string(in->goexperiment));
	json_t *settings = json_object();
	for (size_t i = 0; i < in->n_build_settings; i++) {
		const char *kv = in->build_settings[i];
		const char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		char key[128];
		size_t k = (size_t)(eq - kv) < sizeof(key) - 1 ? (size_t)(eq - kv) : sizeof(key) - 1;
		memcpy(key, kv, k);
		key[k] = 0;
		json_object_set_new(settings, key, json_string(eq + 1));
	}
	json_object_set_new(b, "settings", settings);
	json_object_set_new(o, "build", b);
	json_object_set_new(o, "pid", json_integer(in->pid));
	json_object_set_new(o, "command", in->command ? json_string(in->command) : json_null());
	if (in->signal) {
		json_t *sg = json_object();
		json_object_set_new(sg, "number", json_integer(in->signal));
		json_object_set_new(sg, "name", in->signal_name ? json_string(in->signal_name) : json_null());
		json_object_set_new(sg, "addr", out_json_addr(in->signal_addr));
		json_object_set_new(o, "signal", sg);
	} else {
		json_object_set_new(o, "signal", json_null());
	}
	json_object_set_new(o, "threads", json_integer(in->threads));
	json_object_set_new(o, "ms", json_integer(in->ms));
	json_object_set_new(o, "gomaxprocs", json_integer(in->gomaxprocs));
	json_object_set_new(o, "goroutines", json_integer((json_int_t)in->goroutines));
	json_object_set_new(o, "user_goroutines", json_integer((json_int_t)in->user_goroutines));
	json_object_set_new(o, "goroutines_unreadable", json_integer((json_int_t)in->goroutines_unreadable));
	json_object_set_new(o, "goroutines_by_status", counts(in->by_status, in->n_by_status));
	json_object_set_new(o, "goroutines_by_wait_reason", counts(in->by_wait_reason, in->n_by_wait_reason));
	json_t *h = json_object();
	json_object_set_new(h, "arenas", json_integer((json_int_t)in->heap.arenas));
	json_object_set_new(h, "arena_bytes", json_integer((json_int_t)in->heap.arena_bytes));
	json_object_set_new(h, "page_size", json_integer((json_int_t)in->heap.page_size));
	json_object_set_new(h, "spans", json_integer((json_int_t)in->heap.spans));
	json_object_set_new(h, "spans_inuse", json_integer((json_int_t)in->heap.spans_inuse));
	json_object_set_new(h, "spans_manual", json_integer((json_int_t)in->heap.spans_manual));
	json_object_set_new(h, "spans_free", json_integer((json_int_t)in->heap.spans_free));
	json_object_set_new(h, "inuse_span_bytes", json_integer((json_int_t)in->heap.inuse_span_bytes));
	json_object_set_new(h, "manual_span_bytes", json_integer((json_int_t)in->heap.manual_span_bytes));
	json_object_set_new(h, "alloc_objects", json_integer((json_int_t)in->heap.alloc_objects));
	if (in->heap.marked) {
		json_object_set_new(h, "live_bytes", json_integer((json_int_t)in->heap.live_bytes));
		json_object_set_new(h, "live_objects", json_integer((json_int_t)in->heap.live_objects));
		json_object_set_new(h, "garbage_bytes", json_integer((json_int_t)in->heap.garbage_bytes));
		json_object_set_new(h, "garbage_objects", json_integer((json_int_t)in->heap.garbage_objects));
	} else {
		json_object_set_new(h, "mark_error", json_string(in->heap.mark_error ? in->heap.mark_error : "?"));
	}
	json_object_set_new(o, "heap", h);
	return o;
}
