#include <inttypes.h>
#include <string.h>

#include "out/format.h"
#include "out/goroutines.h"

#define MAX_IDS_SHOWN 64

static const char *or_q(const char *s)
{
	return s && *s ? s : "?";
}

/* The bracketed state of the runtime's goroutine header. */
static void state_text(FILE *f, const struct ga_goroutine *g)
{
	bool leaked = !strcmp(g->status, "leaked");
	fputs(*g->wait_reason ? g->wait_reason : g->status, f);
	if (leaked && *g->wait_reason)
		fputs(" (leaked)", f);
	if (g->waited_ns >= 60000000000ll)
		fprintf(f, ", %" PRId64 " minutes", (int64_t)(g->waited_ns / 60000000000ll));
	if (g->locked_to_thread)
		fputs(", locked to thread", f);
}

static void frames_text(FILE *f, const struct ga_goroutine *g, const char *indent)
{
	for (size_t i = 0; i < g->nframes; i++) {
		const struct ga_frame *fr = &g->frames[i];
		fprintf(f, "%s%s(...)\n%s\t%s:%u\n", indent, fr->function, indent, or_q(fr->file), fr->line);
	}
}

static void created_text(FILE *f, const struct ga_goroutine *g, const char *indent)
{
	if (!g->created_by.function)
		return;
	fprintf(f, "%screated by %s", indent, g->created_by.function);
	if (g->parent_id)
		fprintf(f, " in goroutine %" PRIu64, g->parent_id);
	fprintf(f, "\n%s\t%s:%u\n", indent, or_q(g->created_by.file), g->created_by.line);
}

void out_goroutine_traceback(FILE *f, const struct ga_goroutine *g)
{
	fprintf(f, "goroutine %" PRIu64 " [", g->id);
	state_text(f, g);
	fputs("]:\n", f);
	frames_text(f, g, "");
	created_text(f, g, "");
	if (g->error)
		fprintf(f, "(error: %s)\n", g->error);
}

static const char *duration(int64_t ns, char buf[48])
{
	if (ns < 0)
		return "not recorded";
	double s = (double)ns / 1e9;
	if (s < 120)
		snprintf(buf, 48, "%.1fs", s);
	else if (s < 7200)
		snprintf(buf, 48, "%.1f minutes", s / 60);
	else
		snprintf(buf, 48, "%.1f hours", s / 3600);
	return buf;
}

static void chans_text(FILE *f, const struct ga_goroutine *g, const char *indent)
{
	for (size_t i = 0; i < g->nchans; i++) {
		const struct ga_chan *c = &g->chans[i];
		fprintf(f, "%schannel 0x%" PRIx64, indent, c->addr);
		if (*c->dir)
			fprintf(f, " (%s)", c->dir);
		if (!c->readable) {
			fputs(": not in the core\n", f);
			continue;
		}
		fprintf(f, ": chan %s, %" PRIu64 "/%" PRIu64 " buffered%s, %" PRIu64 " receivers and %" PRIu64 " senders waiting\n",
			or_q(c->elem_type), c->len, c->cap, c->closed ? ", closed" : "", c->recv_waiters,
			c->send_waiters);
	}
}

static void blocked_text(FILE *f, const struct ga_goroutine *g, const char *indent)
{
	if (!*g->blocked_on || (!strcmp(g->blocked_on, "other") && !g->sema))
		return;
	fprintf(f, "%sblocked on %s", indent, g->blocked_on);
	if (g->blocked_object)
		fprintf(f, " 0x%" PRIx64, g->blocked_object);
	if (g->sema)
		fprintf(f, " (semaphore 0x%" PRIx64 ")", g->sema);
	fputc('\n', f);
	chans_text(f, g, indent);
}

void out_goroutine_detail(FILE *f, const struct ga_goroutines *gs, const struct ga_goroutine *g)
{
	char b[48], b2[32];
	out_goroutine_traceback(f, g);
	fputc('\n', f);
	fprintf(f, "g             0x%" PRIx64 "%s\n", g->g, g->system ? " (runtime system goroutine)" : "");
	fprintf(f, "status        %s%s%s\n", g->status, *g->wait_reason ? ": " : "", g->wait_reason);
	if (g->waitsince)
		fprintf(f, "waiting since nanotime %" PRIu64 ": %s before the dump (dump time from %s)\n",
			g->waitsince, duration(g->waited_ns, b), gs->now_source);
	if (g->m >= 0)
		fprintf(f, "m             %" PRId64 "%s\n", g->m, g->locked_to_thread ? " (locked to thread)" : "");
	if (g->start.function)
		fprintf(f, "start         %s\n\t%s:%u\n", g->start.function, or_q(g->start.file), g->start.line);
	if (g->stack_hi > g->stack_lo)
		fprintf(f, "stack         [0x%" PRIx64 ", 0x%" PRIx64 ") %s, %s used\n", g->stack_lo,
			g->stack_hi, out_bytes(g->stack_hi - g->stack_lo, b2),
			g->sp && g->sp <= g->stack_hi ? out_bytes(g->stack_hi - g->sp, b) : "?");
	fprintf(f, "frames from   %s%s\n", or_q(g->frames_from), g->stack_complete ? "" : " (walk did not reach goexit)");
	blocked_text(f, g, "");
	if (g->nframes) {
		fputs("\nframes:\n", f);
		for (size_t i = 0; i < g->nframes; i++) {
			const struct ga_frame *fr = &g->frames[i];
			fprintf(f, "  %-3zu %s%s\n       %s:%u  pc=0x%" PRIx64 " sp=0x%" PRIx64 "\n", i,
				fr->function, fr->inlined ? " (inlined)" : "", or_q(fr->file), fr->line, fr->pc,
				fr->sp);
		}
	}
}

void out_goroutine_groups_text(FILE *f, const struct ga_goroutines *gs,
			       const struct ga_goroutine_groups *groups)
{
	fprintf(f, "%zu goroutines in %zu groups", groups->goroutines, groups->n);
	if (groups->goroutines != gs->n)
		fprintf(f, " (of %zu)", gs->n);
	if (gs->unreadable)
		fprintf(f, "; %" PRIu64 " unreadable", gs->unreadable);
	fputs("\n", f);
	for (size_t i = 0; i < groups->n; i++) {
		const struct ga_goroutine_group *gr = &groups->v[i];
		const struct ga_goroutine *g = gr->first;
		fprintf(f, "\n%zu goroutine%s [", gr->count, gr->count == 1 ? "" : "s");
		state_text(f, g);
		fputs("]", f);
		if (gr->waited_max_ns >= 60000000000ll && gr->waited_min_ns != gr->waited_max_ns)
			fprintf(f, " (%" PRId64 "-%" PRId64 " minutes)", (int64_t)(gr->waited_min_ns / 60000000000ll),
				(int64_t)(gr->waited_max_ns / 60000000000ll));
		if (g->system)
			fputs(" runtime", f);
		fputs(":", f);
		for (size_t k = 0; k < gr->count && k < MAX_IDS_SHOWN; k++)
			fprintf(f, " %" PRIu64, gr->members[k]->id);
		if (gr->count > MAX_IDS_SHOWN)
			fprintf(f, " ... (%zu more)", gr->count - MAX_IDS_SHOWN);
		fputc('\n', f);
		if (gr->count == 1)
			blocked_text(f, g, "  ");
		else if (*g->blocked_on && strcmp(g->blocked_on, "other"))
			fprintf(f, "  blocked on %s\n", g->blocked_on);
		frames_text(f, g, "  ");
		created_text(f, g, "  ");
		if (g->error)
			fprintf(f, "  (error: %s)\n", g->error);
	}
}

static json_t *loc_json(const struct ga_location *l)
{
	if (!l->function)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "function", json_string(l->function));
	json_object_set_new(o, "file", l->file ? json_string(l->file) : json_null());
	json_object_set_new(o, "line", json_integer(l->line));
	json_object_set_new(o, "pc", out_json_addr(l->pc));
	return o;
}

static json_t *frames_json(const struct ga_goroutine *g, bool full)
{
	json_t *a = json_array();
	for (size_t i = 0; i < g->nframes; i++) {
		const struct ga_frame *fr = &g->frames[i];
		json_t *o = json_object();
		json_object_set_new(o, "function", json_string(fr->function));
		json_object_set_new(o, "file", fr->file ? json_string(fr->file) : json_null());
		json_object_set_new(o, "line", json_integer(fr->line));
		if (full) {
			json_object_set_new(o, "inlined", json_boolean(fr->inlined));
			json_object_set_new(o, "pc", out_json_addr(fr->pc));
			json_object_set_new(o, "sp", out_json_addr(fr->sp));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *chans_json(const struct ga_goroutine *g)
{
	json_t *a = json_array();
	for (size_t i = 0; i < g->nchans; i++) {
		const struct ga_chan *c = &g->chans[i];
		json_t *o = json_object();
		json_object_set_new(o, "addr", out_json_addr(c->addr));
		json_object_set_new(o, "dir", json_string(c->dir));
		json_object_set_new(o, "readable", json_boolean(c->readable));
		if (c->readable) {
			json_object_set_new(o, "elem_type", c->elem_type ? json_string(c->elem_type) : json_null());
			json_object_set_new(o, "elem_size", json_integer((json_int_t)c->elem_size));
			json_object_set_new(o, "len", json_integer((json_int_t)c->len));
			json_object_set_new(o, "cap", json_integer((json_int_t)c->cap));
			json_object_set_new(o, "closed", json_boolean(c->closed));
			json_object_set_new(o, "recv_waiters", json_integer((json_int_t)c->recv_waiters));
			json_object_set_new(o, "send_waiters", json_integer((json_int_t)c->send_waiters));
		}
		json_array_append_new(a, o);
	}
	return a;
}

json_t *out_goroutine_json(const struct ga_goroutine *g)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer((json_int_t)g->id));
	json_object_set_new(o, "g", out_json_addr(g->g));
	json_object_set_new(o, "status", json_string(g->status));
	json_object_set_new(o, "wait_reason", json_string(g->wait_reason));
	json_object_set_new(o, "waitsince", json_integer((json_int_t)g->waitsince));
	json_object_set_new(o, "waited_ns", g->waited_ns >= 0 ? json_integer(g->waited_ns) : json_null());
	json_object_set_new(o, "waited_minutes",
			    g->waited_ns >= 0 ? json_integer((json_int_t)(g->waited_ns / 60000000000ll)) : json_null());
	json_object_set_new(o, "system", json_boolean(g->system));
	json_object_set_new(o, "locked_to_thread", json_boolean(g->locked_to_thread));
	json_object_set_new(o, "m", g->m >= 0 ? json_integer(g->m) : json_null());
	json_object_set_new(o, "created_by", loc_json(&g->created_by));
	json_object_set_new(o, "parent_id", g->parent_id ? json_integer((json_int_t)g->parent_id) : json_null());
	json_object_set_new(o, "start", loc_json(&g->start));
	json_t *st = json_object();
	json_object_set_new(st, "lo", out_json_addr(g->stack_lo));
	json_object_set_new(st, "hi", out_json_addr(g->stack_hi));
	json_object_set_new(st, "size", json_integer((json_int_t)(g->stack_hi > g->stack_lo ? g->stack_hi - g->stack_lo : 0)));
	json_object_set_new(st, "sp", g->sp ? out_json_addr(g->sp) : json_null());
	json_object_set_new(st, "used", json_integer((json_int_t)(g->sp && g->sp <= g->stack_hi ? g->stack_hi - g->sp : 0)));
	json_object_set_new(o, "stack", st);
	json_object_set_new(o, "frames_from", json_string(g->frames_from));
	json_object_set_new(o, "stack_complete", json_boolean(g->stack_complete));
	json_object_set_new(o, "frames", frames_json(g, true));
	json_object_set_new(o, "blocked_on", json_string(g->blocked_on));
	json_object_set_new(o, "blocked_object", g->blocked_object ? out_json_addr(g->blocked_object) : json_null());
	json_object_set_new(o, "sema", g->sema ? out_json_addr(g->sema) : json_null());
	json_object_set_new(o, "chans", chans_json(g));
	json_object_set_new(o, "error", g->error ? json_string(g->error) : json_null());
	return o;
}

static json_t *head_json(const struct ga_goroutines *gs)
{
	json_t *o = json_object();
	json_object_set_new(o, "total", json_integer((json_int_t)gs->n));
	json_object_set_new(o, "unreadable", json_integer((json_int_t)gs->unreadable));
	json_object_set_new(o, "dump_nanotime", json_integer(gs->now));
	json_object_set_new(o, "dump_nanotime_source", json_string(gs->now_source));
	return o;
}

json_t *out_goroutines_json(const struct ga_goroutines *gs, const struct ga_goroutine_filter *filter)
{
	json_t *o = head_json(gs);
	json_t *a = json_array();
	for (size_t i = 0; i < gs->n; i++)
		if (ga_goroutine_matches(&gs->v[i], filter))
			json_array_append_new(a, out_goroutine_json(&gs->v[i]));
	json_object_set_new(o, "goroutines", a);
	return o;
}

json_t *out_goroutine_groups_json(const struct ga_goroutines *gs,
				  const struct ga_goroutine_groups *groups)
{
	json_t *o = head_json(gs);
	json_object_set_new(o, "matching", json_integer((json_int_t)groups->goroutines));
	json_t *a = json_array();
	for (size_t i = 0; i < groups->n; i++) {
		const struct ga_goroutine_group *gr = &groups->v[i];
		const struct ga_goroutine *g = gr->first;
		json_t *e = json_object();
		json_object_set_new(e, "count", json_integer((json_int_t)gr->count));
		json_t *ids = json_array();
		for (size_t k = 0; k < gr->count; k++)
			json_array_append_new(ids, json_integer((json_int_t)gr->members[k]->id));
		json_object_set_new(e, "ids", ids);
		json_object_set_new(e, "status", json_string(g->status));
		json_object_set_new(e, "wait_reason", json_string(g->wait_reason));
		json_object_set_new(e, "waited_min_ns", gr->waited_min_ns >= 0 ? json_integer(gr->waited_min_ns) : json_null());
		json_object_set_new(e, "waited_max_ns", gr->waited_max_ns >= 0 ? json_integer(gr->waited_max_ns) : json_null());
		json_object_set_new(e, "system", json_boolean(g->system));
		json_object_set_new(e, "blocked_on", json_string(g->blocked_on));
		json_object_set_new(e, "created_by", loc_json(&g->created_by));
		json_object_set_new(e, "frames", frames_json(g, false));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "groups", a);
	return o;
}
