#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "out/format.h"
#include "out/goroutines.h"
#include "out/jsonw.h"

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

/* " +0x1f": how far into its function the pc is, as the runtime prints it
 * after the file:line of a physical frame (not of an inlined call). */
static void offset_text(FILE *f, uint64_t pc, uint64_t entry)
{
	if (entry && pc > entry)
		fprintf(f, " +0x%" PRIx64, pc - entry);
}

static void frames_text(FILE *f, const struct ga_goroutine *g, const char *indent)
{
	for (size_t i = 0; i < g->nframes; i++) {
		const struct ga_frame *fr = &g->frames[i];
		fprintf(f, "%s%s(...)\n%s\t%s:%u", indent, fr->function, indent, or_q(fr->file), fr->line);
		if (!fr->inlined)
			offset_text(f, fr->pc, fr->entry);
		fputc('\n', f);
	}
}

static void created_text(FILE *f, const struct ga_goroutine *g, const char *indent)
{
	if (!g->created_by.function)
		return;
	fprintf(f, "%screated by %s", indent, g->created_by.function);
	if (g->parent_id)
		fprintf(f, " in goroutine %" PRIu64, g->parent_id);
	fprintf(f, "\n%s\t%s:%u", indent, or_q(g->created_by.file), g->created_by.line);
	offset_text(f, g->created_by.pc, g->created_by.entry);
	fputc('\n', f);
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
	if (s < 1)
		snprintf(buf, 48, "%.1fms", s * 1e3);
	else if (s < 120)
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
		fprintf(f, " (%s 0x%" PRIx64 ")", strcmp(g->blocked_on, "cond") ? "semaphore" : "notifyList", g->sema);
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

static void loc_json(struct out_jw *w, const struct ga_location *l)
{
	if (!l->function) {
		out_jw_null(w);
		return;
	}
	out_jw_obj(w);
	out_jw_kstr(w, "function", l->function);
	out_jw_kstr(w, "file", l->file);
	out_jw_ku64(w, "line", l->line);
	out_jw_kaddr(w, "pc", l->pc);
	out_jw_end(w);
}

static void frames_json(struct out_jw *w, const struct ga_goroutine *g, bool full)
{
	out_jw_arr(w);
	for (size_t i = 0; i < g->nframes; i++) {
		const struct ga_frame *fr = &g->frames[i];
		out_jw_obj(w);
		out_jw_kstr(w, "function", fr->function);
		out_jw_kstr(w, "file", fr->file);
		out_jw_ku64(w, "line", fr->line);
		if (full) {
			out_jw_kbool(w, "inlined", fr->inlined);
			out_jw_kaddr(w, "pc", fr->pc);
			out_jw_kaddr(w, "sp", fr->sp);
		}
		out_jw_end(w);
	}
	out_jw_end(w);
}

static void chans_json(struct out_jw *w, const struct ga_goroutine *g)
{
	out_jw_arr(w);
	for (size_t i = 0; i < g->nchans; i++) {
		const struct ga_chan *c = &g->chans[i];
		out_jw_obj(w);
		out_jw_kaddr(w, "addr", c->addr);
		out_jw_kstr(w, "dir", c->dir);
		out_jw_kbool(w, "readable", c->readable);
		if (c->readable) {
			out_jw_kstr(w, "elem_type", c->elem_type);
			out_jw_ku64(w, "elem_size", c->elem_size);
			out_jw_ku64(w, "len", c->len);
			out_jw_ku64(w, "cap", c->cap);
			out_jw_kbool(w, "closed", c->closed);
			out_jw_ku64(w, "recv_waiters", c->recv_waiters);
			out_jw_ku64(w, "send_waiters", c->send_waiters);
		}
		out_jw_end(w);
	}
	out_jw_end(w);
}

static void goroutine_json(struct out_jw *w, const struct ga_goroutine *g)
{
	out_jw_obj(w);
	out_jw_ku64(w, "id", g->id);
	out_jw_kaddr(w, "g", g->g);
	out_jw_kstr(w, "status", g->status);
	out_jw_kstr(w, "wait_reason", g->wait_reason);
	out_jw_ku64(w, "waitsince", g->waitsince);
	out_jw_ki64n(w, "waited_ns", g->waited_ns, g->waited_ns >= 0);
	out_jw_ki64n(w, "waited_minutes", (int64_t)(g->waited_ns / 60000000000ll), g->waited_ns >= 0);
	out_jw_kbool(w, "system", g->system);
	out_jw_kbool(w, "locked_to_thread", g->locked_to_thread);
	out_jw_ki64n(w, "m", g->m, g->m >= 0);
	out_jw_key(w, "created_by");
	loc_json(w, &g->created_by);
	out_jw_ki64n(w, "parent_id", (int64_t)g->parent_id, g->parent_id != 0);
	out_jw_key(w, "start");
	loc_json(w, &g->start);
	out_jw_key(w, "stack");
	out_jw_obj(w);
	out_jw_kaddr(w, "lo", g->stack_lo);
	out_jw_kaddr(w, "hi", g->stack_hi);
	out_jw_ku64(w, "size", g->stack_hi > g->stack_lo ? g->stack_hi - g->stack_lo : 0);
	out_jw_kaddr0(w, "sp", g->sp);
	out_jw_ku64(w, "used", g->sp && g->sp <= g->stack_hi ? g->stack_hi - g->sp : 0);
	out_jw_end(w);
	out_jw_kstr(w, "frames_from", g->frames_from);
	out_jw_kbool(w, "stack_complete", g->stack_complete);
	out_jw_key(w, "frames");
	frames_json(w, g, true);
	out_jw_kstr(w, "blocked_on", g->blocked_on);
	out_jw_kaddr0(w, "blocked_object", g->blocked_object);
	out_jw_kaddr0(w, "sema", g->sema);
	out_jw_kaddr0(w, "notify_list", !strcmp(g->blocked_on, "cond") ? g->sema : 0);
	out_jw_key(w, "chans");
	chans_json(w, g);
	out_jw_kstr(w, "error", g->error);
	out_jw_end(w);
}

int out_goroutine_json_print(FILE *f, const struct ga_goroutine *g)
{
	struct out_jw *w = malloc(sizeof(*w));
	if (!w)
		return -1;
	out_jw_init(w, f, OUT_JW_MAX_DEPTH);
	goroutine_json(w, g);
	out_jw_finish(w);
	free(w);
	return 0;
}

static void head_json(struct out_jw *w, const struct ga_goroutines *gs)
{
	out_jw_ku64(w, "total", gs->n);
	out_jw_ku64(w, "unreadable", gs->unreadable);
	out_jw_ki64(w, "dump_nanotime", gs->now);
	out_jw_kstr(w, "dump_nanotime_source", gs->now_source);
}

int out_goroutines_json_print(FILE *f, const struct ga_goroutines *gs, const struct ga_goroutine_filter *filter)
{
	struct out_jw *w = malloc(sizeof(*w));
	if (!w)
		return -1;
	/* one goroutine per line */
	out_jw_init(w, f, 2);
	out_jw_obj(w);
	head_json(w, gs);
	out_jw_key(w, "goroutines");
	out_jw_arr(w);
	for (size_t i = 0; i < gs->n; i++)
		if (ga_goroutine_matches(&gs->v[i], filter))
			goroutine_json(w, &gs->v[i]);
	out_jw_finish(w);
	free(w);
	return 0;
}

int out_goroutine_groups_json_print(FILE *f, const struct ga_goroutines *gs,
				    const struct ga_goroutine_groups *groups)
{
	struct out_jw *w = malloc(sizeof(*w));
	if (!w)
		return -1;
	out_jw_init(w, f, OUT_JW_MAX_DEPTH);
	out_jw_obj(w);
	head_json(w, gs);
	out_jw_ku64(w, "matching", groups->goroutines);
	out_jw_key(w, "groups");
	out_jw_arr(w);
	for (size_t i = 0; i < groups->n; i++) {
		const struct ga_goroutine_group *gr = &groups->v[i];
		const struct ga_goroutine *g = gr->first;
		out_jw_obj(w);
		out_jw_ku64(w, "count", gr->count);
		out_jw_key(w, "ids");
		w->pretty_depth = 3; /* the ids on one line */
		out_jw_arr(w);
		for (size_t k = 0; k < gr->count; k++)
			out_jw_u64(w, gr->members[k]->id);
		out_jw_end(w);
		w->pretty_depth = OUT_JW_MAX_DEPTH;
		out_jw_kstr(w, "status", g->status);
		out_jw_kstr(w, "wait_reason", g->wait_reason);
		out_jw_ki64n(w, "waited_min_ns", gr->waited_min_ns, gr->waited_min_ns >= 0);
		out_jw_ki64n(w, "waited_max_ns", gr->waited_max_ns, gr->waited_max_ns >= 0);
		out_jw_kbool(w, "system", g->system);
		out_jw_kstr(w, "blocked_on", g->blocked_on);
		out_jw_key(w, "created_by");
		loc_json(w, &g->created_by);
		out_jw_key(w, "frames");
		frames_json(w, g, false);
		out_jw_end(w);
	}
	out_jw_finish(w);
	free(w);
	return 0;
}
