#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/rt.h"

#define MAX_NAME 4096

struct rt_field rt_field_of(struct ga_rt *rt, ga_type_id type, const char *path)
{
	struct rt_field r = {0};
	char buf[256];
	if (strlen(path) >= sizeof(buf))
		return r;
	strcpy(buf, path);
	uint64_t off = 0;
	ga_type_id t = type;
	for (char *save = NULL, *part = strtok_r(buf, ".", &save); part;
	     part = strtok_r(NULL, ".", &save)) {
		const struct ga_field *f = ga_dwarf_field(rt->dw, t, part);
		if (!f)
			return r;
		off += f->offset;
		t = f->type;
	}
	const struct ga_type *ty = ga_dwarf_type(rt->dw, t);
	r.ok = true;
	r.off = off;
	r.type = t;
	r.size = ty ? ty->size : 0;
	return r;
}

struct rt_field rt_field(struct ga_rt *rt, const char *type_name, const char *path)
{
	ga_type_id t = ga_dwarf_type_by_name(rt->dw, type_name);
	if (!t) {
		struct rt_field r = {0};
		return r;
	}
	return rt_field_of(rt, t, path);
}

struct rt_field rt_scalar_field(struct ga_rt *rt, const char *type_name, const char *path)
{
	struct rt_field f = rt_field(rt, type_name, path);
	for (int depth = 0; f.ok && depth < 8; depth++) {
		const struct ga_type *t = ga_dwarf_type(rt->dw, f.type);
		if (!t || t->kind != GA_K_STRUCT)
			break;
		const struct ga_field *inner = NULL;
		for (uint32_t i = 0; i < t->nfields; i++) {
			const struct ga_field *c = &rt->dw->fields.v[t->first_field + i];
			const struct ga_type *ct = ga_dwarf_type(rt->dw, c->type);
			if (ct && ct->size) {
				inner = c;
				break;
			}
		}
		if (!inner)
			break;
		const struct ga_type *it = ga_dwarf_type(rt->dw, inner->type);
		f.off += inner->offset;
		f.type = inner->type;
		f.size = it ? it->size : 0;
	}
	return f;
}

struct ga_error *rt_need(const struct rt_field *f, const char *type_name, const char *path)
{
	if (f->ok)
		return NULL;
	return ga_error_create(GA_ERR_UNSUPPORTED,
			       "runtime layout not understood: DWARF has no field %s.%s", type_name, path);
}

uint64_t rt_global(struct ga_rt *rt, const char *name, ga_type_id *type_out)
{
	const struct ga_global *g = ga_dwarf_global(rt->dw, name);
	if (!g)
		return 0;
	if (type_out)
		*type_out = g->type_die ? ga_dwarf_type_by_die(rt->dw, g->type_die) : 0;
	return g->addr + rt->bias;
}

bool rt_const(struct ga_rt *rt, const char *name, int64_t *v)
{
	return ga_dwarf_const(rt->dw, name, v);
}

ga_type_id rt_dwarf_of_rtype(struct ga_rt *rt, uint64_t addr)
{
	if (!rt->types_base || addr < rt->types_base)
		return 0;
	return ga_dwarf_type_by_rtype(rt->dw, addr - rt->types_base);
}

uint64_t rt_rtype_of_dwarf(struct ga_rt *rt, ga_type_id id)
{
	const struct ga_type *t = ga_dwarf_type(rt->dw, id);
	return t && t->rtype && rt->types_base ? rt->types_base + t->rtype : 0;
}

bool rt_read_ptr(struct ga_rt *rt, uint64_t addr, uint64_t *v)
{
	return ga_mem_u64(rt->mem, addr, v);
}

bool rt_read_field(struct ga_rt *rt, uint64_t base, const struct rt_field *f, uint64_t *v)
{
	if (!f->ok)
		return false;
	return ga_mem_uint(rt->mem, base + f->off, (unsigned)f->size, v);
}

struct ga_error *rt_read_gostring(struct ga_rt *rt, uint64_t addr, uint64_t max, char **out)
{
	uint64_t hdr[2];
	if (!ga_mem_try_read(rt->mem, addr, hdr, sizeof(hdr)))
		return ga_error_create(GA_ERR_FAULT, "string header at 0x%llx not in core",
				       (unsigned long long)addr);
	return ga_mem_string(rt->mem, hdr[0], hdr[1], max, out);
}

bool rt_read_slice(struct ga_rt *rt, uint64_t addr, uint64_t *ptr, uint64_t *len, uint64_t *cap)
{
	uint64_t h[3];
	if (!ga_mem_try_read(rt->mem, addr, h, sizeof(h)))
		return false;
	*ptr = h[0];
	*len = h[1];
	if (cap)
		*cap = h[2];
	return true;
}

const char *rt_gstatus_name(const struct ga_rt *rt, uint64_t status)
{
	status &= ~(uint64_t)rt->gscan;
	if (status < 32 && rt->gstatus_names[status])
		return rt->gstatus_names[status];
	return "???";
}

const char *rt_waitreason(const struct ga_rt *rt, uint64_t reason)
{
	if (reason < rt->nwaitreasons && rt->waitreasons[reason])
		return rt->waitreasons[reason];
	return "";
}

/* Reads a global [N]string array from the core. */
static struct ga_error *read_string_table(struct ga_rt *rt, const char *name, char ***out,
					  size_t *n_out)
{
	ga_type_id t;
	uint64_t addr = rt_global(rt, name, &t);
	const struct ga_type *ty = ga_dwarf_type(rt->dw, t);
	*out = NULL;
	*n_out = 0;
	if (!addr || !ty || ty->kind != GA_K_ARRAY || ty->count > 1024)
		return ga_error_create(GA_ERR_NOT_FOUND, "%s not found in DWARF", name);
	char **v = calloc(ty->count ? ty->count : 1, sizeof(*v));
	if (!v)
		return &ga_error_nomem;
	for (uint64_t i = 0; i < ty->count; i++) {
		struct ga_error *err = rt_read_gostring(rt, addr + 16 * i, MAX_NAME, &v[i]);
		if (err) {
			for (uint64_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return ga_error_context(err, "reading %s[%llu]", name, (unsigned long long)i);
		}
	}
	*out = v;
	*n_out = ty->count;
	return NULL;
}

static void parse_version(struct ga_rt *rt)
{
	const char *v = rt->version;
	if (strncmp(v, "go", 2))
		return; /* "devel ..." builds: leave 0 and trust DWARF */
	sscanf(v + 2, "%d.%d.%d", &rt->major, &rt->minor, &rt->patch);
}

static struct ga_error *load_gstatus_names(struct ga_rt *rt)
{
	char **names;
	size_t n;
	struct ga_error *err = read_string_table(rt, "runtime.gStatusStrings", &names, &n);
	if (!err) {
		for (size_t i = 0; i < n; i++) {
			if (i < 32 && names[i] && *names[i])
				rt->gstatus_names[i] = names[i];
			else
				free(names[i]);
		}
		free(names);
	} else if (err->code == GA_ERR_NOMEM) {
		return err;
	} else {
		ga_error_destroy(err);
	}
	/* Fill gaps from the runtime._G* constants' names. */
	const struct ga_strmap *cm = &rt->dw->const_names;
	for (size_t i = 0; i < cm->cap; i++) {
		const char *k = cm->keys[i];
		if (!k || strncmp(k, "runtime._G", 10) || !strncmp(k, "runtime._Gscan", 14))
			continue;
		uint64_t v = cm->vals[i];
		if (v >= 32 || rt->gstatus_names[v])
			continue;
		char *s = strdup(k + 10);
		if (!s)
			return &ga_error_nomem;
		for (char *p = s; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		rt->gstatus_names[v] = s;
	}
	int64_t c;
	rt->gscan = rt_const(rt, "runtime._Gscan", &c) ? c : 0x1000;
	rt->gdead = rt_const(rt, "runtime._Gdead", &c) ? c : 6;
	rt->gdeadextra = rt_const(rt, "runtime._Gdeadextra", &c) ? c : -1;
	return NULL;
}

struct ga_error *rt_open(struct ga_core *core, struct ga_mem *mem, struct ga_exe *exe,
			 struct ga_dwarf *dw, uint64_t bias, struct ga_rt **out)
{
	struct ga_rt *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return &ga_error_nomem;
	rt->core = core;
	rt->mem = mem;
	rt->exe = exe;
	rt->dw = dw;
	rt->bias = bias;
	struct ga_error *err = NULL;
	uint64_t bv = rt_global(rt, "runtime.buildVersion", NULL);
	if (!bv) {
		err = ga_error_create(GA_ERR_NOT_GO, "not a Go program: %s has no runtime.buildVersion in its DWARF",
				      exe->path);
		goto fail;
	}
	err = rt_read_gostring(rt, bv, 256, &rt->version);
	if (err) {
		err = ga_error_context(err, "reading runtime.buildVersion");
		goto fail;
	}
	parse_version(rt);
	const struct ga_exe_section *bis = ga_exe_section(exe, ".go.buildinfo");
	if (bis) {
		const uint8_t *p = ga_exe_bytes(exe, bis->addr, bis->size);
		if (p) {
			struct ga_error *e2 = rt_parse_buildinfo(p, bis->size, &rt->bi);
			if (e2 && e2->code == GA_ERR_NOMEM) {
				err = e2;
				goto fail;
			}
			ga_error_destroy(e2); /* build info is optional */
		}
	}
	err = load_gstatus_names(rt);
	if (err)
		goto fail;
	ga_type_id mdt;
	uint64_t md = rt_global(rt, "runtime.firstmoduledata", &mdt);
	struct rt_field ft = rt_field_of(rt, mdt, "types");
	if (!md || !rt_read_field(rt, md, &ft, &rt->types_base))
		rt->types_base = 0;
	err = read_string_table(rt, "runtime.waitReasonStrings", &rt->waitreasons, &rt->nwaitreasons);
	if (err && err->code != GA_ERR_NOMEM) {
		ga_error_destroy(err); /* statuses still work without reasons */
		err = NULL;
	}
	if (err)
		goto fail;
	*out = rt;
	return NULL;
fail:
	rt_close(rt);
	return err;
}

void rt_close(struct ga_rt *rt)
{
	if (!rt)
		return;
	free(rt->version);
	rt_buildinfo_free(&rt->bi);
	for (int i = 0; i < 32; i++)
		free(rt->gstatus_names[i]);
	for (size_t i = 0; i < rt->nwaitreasons; i++)
		free(rt->waitreasons[i]);
	free(rt->waitreasons);
	free(rt);
}
