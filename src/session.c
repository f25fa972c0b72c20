#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "session.h"

/* Where the core says the executable was: the file mapped at AT_ENTRY,
 * else AT_EXECFN, else the command name. */
static struct ga_error *core_exe_path(struct ga_session *s, char **out)
{
	struct ga_core *c = s->core;
	*out = NULL;
	if (c->at_entry) {
		const struct ga_core_file_map *fm = ga_core_file_at(c, c->at_entry);
		if (fm) {
			*out = strdup(fm->path);
			return *out ? NULL : &ga_error_nomem;
		}
	}
	if (c->at_execfn) {
		char *p = NULL;
		struct ga_error *err = ga_mem_cstring(&s->mem, c->at_execfn, 4096, &p);
		if (!err && p && *p) {
			*out = p;
			return NULL;
		}
		free(p);
		ga_error_destroy(err);
	}
	if (c->have_psinfo && c->psargs[0]) {
		char *p = strdup(c->psargs);
		if (!p)
			return &ga_error_nomem;
		char *sp = strchr(p, ' ');
		if (sp)
			*sp = 0;
		*out = p;
		return NULL;
	}
	return NULL;
}

/* The executable's allocated read-only sections, where the core dumped
 * them, must equal the file's. Sections rather than pages: a stripped or
 * re-linked copy of the same build moves the ELF header and section table,
 * which are mapped too but are not the program. */
static struct ga_error *verify_exe(struct ga_session *s)
{
	struct ga_core *c = s->core;
	uint64_t compared = 0;
	for (size_t i = 0; i < s->exe->sections.len; i++) {
		const struct ga_exe_section *sec = &s->exe->sections.v[i];
		if (!(sec->flags & SHF_ALLOC) || (sec->flags & SHF_WRITE) || sec->type == SHT_NOBITS ||
		    !sec->size || sec->offset > s->exe->file.size || sec->size > s->exe->file.size - sec->offset)
			continue;
		const uint8_t *want = s->exe->file.data + sec->offset;
		for (size_t j = 0; j < c->segs.len; j++) {
			const struct ga_core_segment *seg = &c->segs.v[j];
			uint64_t sa = sec->addr + s->bias;
			uint64_t lo = seg->vaddr > sa ? seg->vaddr : sa;
			uint64_t hi = seg->vaddr + seg->filesz < sa + sec->size ? seg->vaddr + seg->filesz
										  : sa + sec->size;
			if (!seg->filesz || lo >= hi)
				continue;
			const uint8_t *core_bytes = c->file.data + seg->offset + (lo - seg->vaddr);
			if (memcmp(core_bytes, want + (lo - sa), hi - lo))
				return ga_error_create(
					GA_ERR_MISMATCH,
					"executable %s does not match the core: its section %s differs from the process memory at 0x%llx (a different build? give the one that ran with --exe)",
					s->exe->path, sec->name ? sec->name : "?", (unsigned long long)lo);
			compared += hi - lo;
		}
	}
	char buf[128];
	if (compared) {
		snprintf(buf, sizeof(buf), "%llu bytes of read-only sections compared",
			 (unsigned long long)compared);
	} else if (s->exe->go_buildid) {
		/* No read-only page was dumped: look for the Go build ID note in memory. */
		const struct ga_exe_section *ns = ga_exe_section(s->exe, ".note.go.buildid");
		const uint8_t *want = ns ? ga_exe_bytes(s->exe, ns->addr, ns->size) : NULL;
		uint8_t *got = ns && ns->size < 4096 ? malloc(ns->size ? ns->size : 1) : NULL;
		bool ok = want && got && ga_mem_try_read(&s->mem, ns->addr + s->bias, got, ns->size);
		const struct ga_mem_region *r = ns ? ga_mem_region_at(&s->mem, ns->addr + s->bias) : NULL;
		if (ok && r && r->source == GA_MEM_CORE && memcmp(want, got, ns->size)) {
			free(got);
			return ga_error_create(GA_ERR_MISMATCH,
					       "executable %s does not match the core: Go build IDs differ (give the one that ran with --exe)",
					       s->exe->path);
		}
		snprintf(buf, sizeof(buf), ok && r && r->source == GA_MEM_CORE ? "Go build ID compared"
										 : "not verified: the core holds none of the executable's read-only pages");
		free(got);
	} else {
		snprintf(buf, sizeof(buf), "not verified: the core holds none of the executable's read-only pages");
	}
	s->exe_check = strdup(buf);
	return s->exe_check ? NULL : &ga_error_nomem;
}

/* When NT_FILE is missing (some gcore versions), pretend the executable's
 * load segments were mapped from the file so its read-only data is readable. */
static struct ga_error *synthesize_exe_mappings(struct ga_session *s)
{
	for (size_t i = 0; i < s->core->files.len; i++)
		if (!strcmp(s->core->files.v[i].path, s->exe_core_path))
			return NULL;
	for (size_t i = 0; i < s->exe->loads.len; i++) {
		const struct ga_exe_load *l = &s->exe->loads.v[i];
		uint64_t start = (l->vaddr + s->bias) & ~0xfffULL;
		uint64_t skew = (l->vaddr + s->bias) - start;
		if (l->offset < skew)
			continue;
		struct ga_core_file_map fm = {start, l->vaddr + s->bias + l->filesz, l->offset - skew,
					      strdup(s->exe_core_path)};
		if (!fm.path || ga_vec_push(&s->core->files, fm)) {
			free(fm.path);
			return &ga_error_nomem;
		}
	}
	return NULL;
}

struct ga_error *ga_session_open(const char *core_path, const struct ga_session_options *opts,
				 struct ga_session **out)
{
	static const struct ga_session_options defaults;
	if (!opts)
		opts = &defaults;
	double t0 = ga_now();
	struct ga_session *s = calloc(1, sizeof(*s));
	if (!s)
		return &ga_error_nomem;
	struct ga_core_open_options co = {opts->tmpdir, opts->allow_truncated};
	struct ga_error *err = ga_core_open(core_path, &co, &s->core);
	if (err)
		goto fail;
	/* A first memory view, without the executable, to read AT_EXECFN. */
	err = ga_mem_build(s->core, NULL, 0, &s->mem);
	if (err)
		goto fail;
	err = core_exe_path(s, &s->exe_core_path);
	if (err)
		goto fail;
	const char *exe_path = opts->exe_path ? opts->exe_path : s->exe_core_path;
	if (!exe_path) {
		err = ga_error_create(GA_ERR_NOT_FOUND,
				      "%s does not say which executable it came from: give it with --exe PATH",
				      s->core->name);
		goto fail;
	}
	if (!opts->exe_path && access(exe_path, R_OK)) {
		err = ga_error_create(GA_ERR_NOT_FOUND,
				      "the core names its executable %s, which cannot be read here: give it with --exe PATH",
				      exe_path);
		goto fail;
	}
	if (!s->exe_core_path && !(s->exe_core_path = strdup(exe_path))) {
		err = &ga_error_nomem;
		goto fail;
	}
	err = ga_exe_open(exe_path, opts->tmpdir, &s->exe);
	if (err)
		goto fail;
	if (!rt_exe_is_go(s->exe)) {
		err = ga_error_create(GA_ERR_NOT_GO,
				      "not a Go program: %s has no Go build information (.go.buildinfo, .gopclntab)",
				      exe_path);
		goto fail;
	}
	if (s->exe->machine != s->core->machine) {
		err = ga_error_create(GA_ERR_MISMATCH,
				      "executable %s is for machine %u but the core is for machine %u",
				      exe_path, s->exe->machine, s->core->machine);
		goto fail;
	}
	if (s->exe->type == ET_DYN && s->core->at_entry)
		s->bias = s->core->at_entry - s->exe->entry;
	err = synthesize_exe_mappings(s);
	if (err)
		goto fail;
	ga_mem_free(&s->mem);
	struct ga_mem_backing back = {s->exe_core_path, s->exe->file.data, s->exe->file.size};
	err = ga_mem_build(s->core, &back, 1, &s->mem);
	if (err)
		goto fail;
	s->conservative_stacks = opts->conservative_stacks;
	s->type_provenance = opts->type_provenance;
	if (!opts->skip_exe_check) {
		err = verify_exe(s);
		if (err)
			goto fail;
	} else if (!(s->exe_check = strdup("skipped (--no-exe-check)"))) {
		err = &ga_error_nomem;
		goto fail;
	}
	err = ga_dwarf_open(s->exe, &s->dw);
	if (err)
		goto fail;
	err = rt_open(s->core, &s->mem, s->exe, s->dw, s->bias, &s->rt);
	if (err)
		goto fail;
	s->t_open = ga_now() - t0;
	s->rss_open = ga_peak_rss(&s->anon_open);
	*out = s;
	return NULL;
fail:
	ga_session_close(s);
	return err;
}

void ga_session_close(struct ga_session *s)
{
	if (!s)
		return;
	ga_session_heap_free(s);
	free(s->heap_mark_error);
	ga_session_goroutines_free(s);
	rt_close(s->rt);
	ga_dwarf_close(s->dw);
	ga_mem_free(&s->mem);
	ga_exe_close(s->exe);
	ga_core_close(s->core);
	free(s->exe_core_path);
	free(s->exe_check);
	ga_vec_free(&s->by_status);
	ga_vec_free(&s->by_reason);
	free(s->goos);
	free(s->goarch);
	free(s->goexperiment);
	free(s->command);
	free(s->gs);
	free(s->spans);
	ga_vec_free(&s->map_layouts);
	ga_hash_free(&s->map_layout_idx);
	free(s->map_spans);
	free(s);
}

struct ga_error *ga_session_goroutines(struct ga_session *s, struct rt_g **gs, size_t *n)
{
	if (!s->gs_done) {
		struct ga_error *err = rt_read_allgs(s->rt, &s->gs, &s->ngs);
		if (err)
			return ga_error_context(err, "reading goroutines");
		s->gs_done = true;
	}
	*gs = s->gs;
	*n = s->ngs;
	return NULL;
}

struct ga_error *ga_session_spans(struct ga_session *s, struct rt_span **spans, size_t *n)
{
	if (!s->spans_done) {
		struct ga_error *err = rt_read_spans(s->rt, &s->spans, &s->nspans);
		if (err)
			return ga_error_context(err, "reading heap spans");
		s->spans_done = true;
	}
	*spans = s->spans;
	*n = s->nspans;
	return NULL;
}
