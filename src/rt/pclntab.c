#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "rt/pclntab.h"

#define MAX_MODULES 64
#define MAX_TEXTSECTS 256
#define MAX_TABLE (1ull << 32)   /* a pclntab table larger than 4 GiB is corrupt */
#define MAX_INLINE_DEPTH 512
#define ARGS_SIZE_UNKNOWN ((int32_t)0x80000000)

static const char qmark[] = "?";

/* Names of the FuncID constants, pre-1.21 (runtime.funcID_*) and later
 * (internal/abi.FuncID*), in enum rt_funcid order. */
static const char *const funcid_names[RT_FID_COUNT][2] = {
	[RT_FID_NORMAL] = {"runtime.funcID_normal", "internal/abi.FuncIDNormal"},
	[RT_FID_ABORT] = {"runtime.funcID_abort", "internal/abi.FuncID_abort"},
	[RT_FID_ASMCGOCALL] = {"runtime.funcID_asmcgocall", "internal/abi.FuncID_asmcgocall"},
	[RT_FID_ASYNCPREEMPT] = {"runtime.funcID_asyncPreempt", "internal/abi.FuncID_asyncPreempt"},
	[RT_FID_CGOCALLBACK] = {"runtime.funcID_cgocallback", "internal/abi.FuncID_cgocallback"},
	[RT_FID_COROSTART] = {"runtime.funcID_corostart", "internal/abi.FuncID_corostart"},
	[RT_FID_DEBUGCALLV2] = {"runtime.funcID_debugCallV2", "internal/abi.FuncID_debugCallV2"},
	[RT_FID_GCBGMARKWORKER] = {"runtime.funcID_gcBgMarkWorker", "internal/abi.FuncID_gcBgMarkWorker"},
	[RT_FID_GOEXIT] = {"runtime.funcID_goexit", "internal/abi.FuncID_goexit"},
	[RT_FID_GOGO] = {"runtime.funcID_gogo", "internal/abi.FuncID_gogo"},
	[RT_FID_GOPANIC] = {"runtime.funcID_gopanic", "internal/abi.FuncID_gopanic"},
	[RT_FID_HANDLEASYNCEVENT] = {"runtime.funcID_handleAsyncEvent", "internal/abi.FuncID_handleAsyncEvent"},
	[RT_FID_MCALL] = {"runtime.funcID_mcall", "internal/abi.FuncID_mcall"},
	[RT_FID_MORESTACK] = {"runtime.funcID_morestack", "internal/abi.FuncID_morestack"},
	[RT_FID_MSTART] = {"runtime.funcID_mstart", "internal/abi.FuncID_mstart"},
	[RT_FID_PANICWRAP] = {"runtime.funcID_panicwrap", "internal/abi.FuncID_panicwrap"},
	[RT_FID_RT0_GO] = {"runtime.funcID_rt0_go", "internal/abi.FuncID_rt0_go"},
	[RT_FID_RUNFINALIZERS] = {"runtime.funcID_runfinq", "internal/abi.FuncID_runFinalizers"},
	[RT_FID_RUNCLEANUPS] = {"runtime.funcID_runCleanups", "internal/abi.FuncID_runCleanups"},
	[RT_FID_RUNTIME_MAIN] = {"runtime.funcID_runtime_main", "internal/abi.FuncID_runtime_main"},
	[RT_FID_SIGPANIC] = {"runtime.funcID_sigpanic", "internal/abi.FuncID_sigpanic"},
	[RT_FID_SYSTEMSTACK] = {"runtime.funcID_systemstack", "internal/abi.FuncID_systemstack"},
	[RT_FID_SYSTEMSTACK_SWITCH] = {"runtime.funcID_systemstack_switch", "internal/abi.FuncID_systemstack_switch"},
	[RT_FID_WRAPPER] = {"runtime.funcID_wrapper", "internal/abi.FuncIDWrapper"},
};

/* Extra spellings some releases used. */
static const struct {
	const char *name;
	uint8_t id;
} funcid_aliases[] = {
	{"internal/abi.FuncID_runfinq", RT_FID_RUNFINALIZERS},
	{"internal/abi.FuncID_wrapper", RT_FID_WRAPPER},
	{"internal/abi.FuncID_normal", RT_FID_NORMAL},
};

static bool konst(struct ga_rt *rt, const char *a, const char *b, int64_t *v)
{
	return rt_const(rt, a, v) || (b && rt_const(rt, b, v));
}

static int konst_or(struct ga_rt *rt, const char *a, const char *b, int def)
{
	int64_t v;
	return konst(rt, a, b, &v) && v >= 0 && v < 256 ? (int)v : def;
}

static void tab_free(struct rt_pcln_tab *tb)
{
	free(tb->owned);
	memset(tb, 0, sizeof(*tb));
}

/* Views (or copies) len bytes at addr. */
static struct ga_error *tab_load(struct ga_rt *rt, uint64_t addr, uint64_t len, const char *what,
				 struct rt_pcln_tab *tb)
{
	memset(tb, 0, sizeof(*tb));
	if (len > MAX_TABLE)
		return ga_error_create(GA_ERR_CORRUPT, "moduledata.%s has implausible length %llu",
				       what, (unsigned long long)len);
	tb->addr = addr;
	tb->len = len;
	if (!len)
		return NULL;
	tb->p = ga_mem_view(rt->mem, addr, (size_t)len);
	if (tb->p)
		return NULL;
	tb->owned = malloc((size_t)len);
	if (!tb->owned)
		return &ga_error_nomem;
	struct ga_error *err = ga_mem_read(rt->mem, addr, tb->owned, (size_t)len);
	if (err) {
		free(tb->owned);
		tb->owned = NULL;
		return ga_error_context(err, "reading moduledata.%s (%llu bytes)", what,
					(unsigned long long)len);
	}
	tb->p = tb->owned;
	return NULL;
}

static uint64_t get_le(const uint8_t *p, uint64_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size > 8 ? 8 : size);
	return v;
}

/* A field of a record held in memory at rec (recsz bytes). */
static uint64_t rec_field(const uint8_t *rec, uint64_t recsz, const struct rt_field *f)
{
	if (!f->ok || !f->size || f->size > 8 || f->off + f->size > recsz)
		return 0;
	return get_le(rec + f->off, f->size);
}

static struct ga_error *load_module(struct rt_pcln *t, uint64_t md, struct rt_pcln_module *m)
{
	struct ga_rt *rt = t->rt;
	const char *T = "runtime.moduledata";
	memset(m, 0, sizeof(*m));
	m->md = md;
	const struct ga_type *mt = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, T));
	if (!mt)
		return ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no type %s", T);
	uint8_t *buf = malloc(mt->size ? mt->size : 1);
	if (!buf)
		return &ga_error_nomem;
	struct ga_error *err = ga_mem_read(rt->mem, md, buf, mt->size);
	if (err) {
		free(buf);
		return ga_error_context(err, "reading the moduledata");
	}
	struct rt_field f;
#define SCALAR(dst, name)                                        \
	do {                                                     \
		f = rt_scalar_field(rt, T, name);                \
		(dst) = rec_field(buf, mt->size, &f);            \
	} while (0)
	SCALAR(m->minpc, "minpc");
	SCALAR(m->maxpc, "maxpc");
	SCALAR(m->text, "text");
	SCALAR(m->etext, "etext");
	SCALAR(m->gofunc, "gofunc");
	SCALAR(m->rodata, "rodata");
	SCALAR(m->noptrbss, "noptrbss");
	SCALAR(m->enoptrbss, "enoptrbss");
	uint64_t hdr;
	SCALAR(hdr, "pcHeader");
#undef SCALAR
	static const struct {
		const char *name;
		size_t off;
		uint64_t elem;
	} slices[] = {
		{"funcnametab", offsetof(struct rt_pcln_module, funcnametab), 1},
		{"cutab", offsetof(struct rt_pcln_module, cutab), 4},
		{"filetab", offsetof(struct rt_pcln_module, filetab), 1},
		{"pctab", offsetof(struct rt_pcln_module, pctab), 1},
		{"pclntable", offsetof(struct rt_pcln_module, pclntable), 1},
		{"ftab", offsetof(struct rt_pcln_module, ftab), 0},
	};
	const struct ga_type *ft = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, "runtime.functab"));
	uint64_t ftsz = ft ? ft->size : 8;
	for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]) && !err; i++) {
		f = rt_field(rt, T, slices[i].name);
		if (!f.ok || f.off + 16 > mt->size) {
			err = rt_need(&f, T, slices[i].name);
			break;
		}
		uint64_t ptr = get_le(buf + f.off, 8), len = get_le(buf + f.off + 8, 8);
		uint64_t elem = slices[i].elem ? slices[i].elem : ftsz;
		if (len > MAX_TABLE / elem) {
			err = ga_error_create(GA_ERR_CORRUPT, "moduledata.%s has implausible length %llu",
					      slices[i].name, (unsigned long long)len);
			break;
		}
		if (!slices[i].elem)
			m->nftab = len;
		err = tab_load(rt, ptr, len * elem, slices[i].name,
			       (struct rt_pcln_tab *)((char *)m + slices[i].off));
	}
	if (!err) {
		f = rt_field(rt, T, "textsectmap");
		const struct ga_type *st = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, "runtime.textsect"));
		if (f.ok && st && f.off + 16 <= mt->size) {
			uint64_t ptr = get_le(buf + f.off, 8), len = get_le(buf + f.off + 8, 8);
			struct rt_field va = rt_field(rt, "runtime.textsect", "vaddr");
			struct rt_field en = rt_field(rt, "runtime.textsect", "end");
			struct rt_field ba = rt_field(rt, "runtime.textsect", "baseaddr");
			if (len > MAX_TEXTSECTS)
				err = ga_error_create(GA_ERR_CORRUPT, "moduledata.textsectmap has %llu entries",
						      (unsigned long long)len);
			else if (len > 1 && va.ok && en.ok && ba.ok) {
				m->sects = calloc(len, sizeof(*m->sects));
				if (!m->sects)
					err = &ga_error_nomem;
				for (uint64_t i = 0; !err && i < len; i++) {
					uint8_t sb[64];
					uint64_t n = st->size < sizeof(sb) ? st->size : sizeof(sb);
					if (!ga_mem_try_read(rt->mem, ptr + i * st->size, sb, n)) {
						err = ga_error_create(GA_ERR_FAULT, "textsectmap[%llu] not in core",
								      (unsigned long long)i);
						break;
					}
					m->sects[i].vaddr = rec_field(sb, n, &va);
					m->sects[i].end = rec_field(sb, n, &en);
					m->sects[i].baseaddr = rec_field(sb, n, &ba);
				}
				m->nsects = err ? 0 : len;
			}
		}
	}
	free(buf);
	if (err)
		return err;
	if (hdr) {
		struct rt_field mg = rt_scalar_field(rt, "runtime.pcHeader", "magic");
		uint64_t v;
		if (rt_read_field(rt, hdr, &mg, &v))
			m->magic = (uint32_t)v;
	}
	if (m->nftab < 1 || m->maxpc <= m->minpc)
		return ga_error_create(GA_ERR_CORRUPT, "moduledata at 0x%llx has an empty function table",
				       (unsigned long long)md);
	return NULL;
}

static void load_ids(struct rt_pcln *t)
{
	struct ga_rt *rt = t->rt;
	for (int i = 0; i < 256; i++)
		t->funcid_of_raw[i] = RT_FID_NORMAL;
	for (int id = 1; id < RT_FID_COUNT; id++) {
		int64_t v;
		if (konst(rt, funcid_names[id][0], funcid_names[id][1], &v) && v > 0 && v < 256)
			t->funcid_of_raw[v] = (uint8_t)id;
	}
	for (size_t i = 0; i < sizeof(funcid_aliases) / sizeof(funcid_aliases[0]); i++) {
		int64_t v;
		if (rt_const(rt, funcid_aliases[i].name, &v) && v > 0 && v < 256)
			t->funcid_of_raw[v] = funcid_aliases[i].id;
	}
	t->flag_topframe = (uint8_t)konst_or(rt, "runtime.funcFlag_TOPFRAME", "internal/abi.FuncFlagTopFrame", 1);
	t->flag_spwrite = (uint8_t)konst_or(rt, "runtime.funcFlag_SPWRITE", "internal/abi.FuncFlagSPWrite", 2);
	t->flag_asm = (uint8_t)konst_or(rt, "runtime.funcFlag_ASM", "internal/abi.FuncFlagAsm", 4);
	t->pcdata_stackmap = konst_or(rt, "runtime._PCDATA_StackMapIndex", "internal/abi.PCDATA_StackMapIndex", RT_PCDATA_STACKMAPINDEX);
	t->pcdata_inltree = konst_or(rt, "runtime._PCDATA_InlTreeIndex", "internal/abi.PCDATA_InlTreeIndex", RT_PCDATA_INLTREEINDEX);
	t->pcdata_arglive = konst_or(rt, "runtime._PCDATA_ArgLiveIndex", "internal/abi.PCDATA_ArgLiveIndex", RT_PCDATA_ARGLIVEINDEX);
	t->funcdata_args = konst_or(rt, "runtime._FUNCDATA_ArgsPointerMaps", "internal/abi.FUNCDATA_ArgsPointerMaps", RT_FUNCDATA_ARGSPOINTERMAPS);
	t->funcdata_locals = konst_or(rt, "runtime._FUNCDATA_LocalsPointerMaps", "internal/abi.FUNCDATA_LocalsPointerMaps", RT_FUNCDATA_LOCALSPOINTERMAPS);
	t->funcdata_stackobjs = konst_or(rt, "runtime._FUNCDATA_StackObjects", "internal/abi.FUNCDATA_StackObjects", RT_FUNCDATA_STACKOBJECTS);
	t->funcdata_inltree = konst_or(rt, "runtime._FUNCDATA_InlTree", "internal/abi.FUNCDATA_InlTree", RT_FUNCDATA_INLTREE);
}

static struct rt_field field2(struct ga_rt *rt, const char *type, const char *a, const char *b)
{
	struct rt_field f = rt_scalar_field(rt, type, a);
	if (!f.ok && b)
		f = rt_scalar_field(rt, type, b);
	return f;
}

static struct ga_error *load_layouts(struct rt_pcln *t)
{
	struct ga_rt *rt = t->rt;
	const char *F = "runtime._func";
	t->f_entry = field2(rt, F, "entryOff", "entryoff");
	t->f_name = field2(rt, F, "nameOff", "nameoff");
	t->f_args = field2(rt, F, "args", NULL);
	t->f_deferreturn = field2(rt, F, "deferreturn", NULL);
	t->f_pcsp = field2(rt, F, "pcsp", NULL);
	t->f_pcfile = field2(rt, F, "pcfile", NULL);
	t->f_pcln = field2(rt, F, "pcln", NULL);
	t->f_npcdata = field2(rt, F, "npcdata", NULL);
	t->f_cu = field2(rt, F, "cuOffset", NULL);
	t->f_startline = field2(rt, F, "startLine", NULL);
	t->f_funcid = field2(rt, F, "funcID", NULL);
	t->f_flag = field2(rt, F, "flag", NULL);
	t->f_nfuncdata = field2(rt, F, "nfuncdata", NULL);
	struct ga_error *err;
	if ((err = rt_need(&t->f_entry, F, "entryOff")) || (err = rt_need(&t->f_name, F, "nameOff")) ||
	    (err = rt_need(&t->f_pcsp, F, "pcsp")) || (err = rt_need(&t->f_pcfile, F, "pcfile")) ||
	    (err = rt_need(&t->f_pcln, F, "pcln")) || (err = rt_need(&t->f_npcdata, F, "npcdata")) ||
	    (err = rt_need(&t->f_cu, F, "cuOffset")) || (err = rt_need(&t->f_funcid, F, "funcID")) ||
	    (err = rt_need(&t->f_nfuncdata, F, "nfuncdata")))
		return err;
	/* The pcdata and funcdata offset arrays follow nfuncdata, the last field. */
	t->func_hdr = t->f_nfuncdata.off + 1;
	const char *I = "runtime.inlinedCall";
	const struct ga_type *it = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, I));
	if (it) {
		t->inl_size = it->size;
		t->inl_funcid = field2(rt, I, "funcID", NULL);
		t->inl_name = field2(rt, I, "nameOff", "func_");
		t->inl_parentpc = field2(rt, I, "parentPc", NULL);
		t->inl_startline = field2(rt, I, "startLine", NULL);
	}
	const char *S = "runtime.stackObjectRecord";
	const struct ga_type *so = ga_dwarf_type(rt->dw, ga_dwarf_type_by_name(rt->dw, S));
	if (so) {
		t->sobj_size = so->size;
		t->sobj_off = field2(rt, S, "off", NULL);
		t->sobj_size_f = field2(rt, S, "size", NULL);
		t->sobj_ptrdata = field2(rt, S, "ptrBytes", "_ptrdata");
		if (!t->sobj_ptrdata.ok)
			t->sobj_ptrdata = field2(rt, S, "ptrdata", NULL);
		t->sobj_gcdataoff = field2(rt, S, "gcdataoff", NULL);
	}
	return NULL;
}

struct ga_error *rt_pcln_open(struct ga_rt *rt, struct rt_pcln **out)
{
	*out = NULL;
	struct rt_pcln *t = calloc(1, sizeof(*t));
	if (!t)
		return &ga_error_nomem;
	t->rt = rt;
	load_ids(t);
	struct ga_error *err = load_layouts(t);
	uint64_t md = rt_global(rt, "runtime.firstmoduledata", NULL);
	if (!err && !md)
		err = ga_error_create(GA_ERR_UNSUPPORTED, "DWARF has no runtime.firstmoduledata");
	struct rt_field next = rt_field(rt, "runtime.moduledata", "next");
	while (!err && md) {
		if (t->nmods >= MAX_MODULES) {
			err = ga_error_create(GA_ERR_CORRUPT, "more than %d modules (a cycle in moduledata.next?)",
					      MAX_MODULES);
			break;
		}
		if (!(t->nmods & (t->nmods - 1)) || !t->mods) {
			size_t cap = t->nmods ? t->nmods * 2 : 1;
			struct rt_pcln_module *nm = realloc(t->mods, cap * sizeof(*nm));
			if (!nm) {
				err = &ga_error_nomem;
				break;
			}
			t->mods = nm;
		}
		err = load_module(t, md, &t->mods[t->nmods]);
		if (err) {
			/* plugins may be half-loaded; the first module is the one we need */
			if (t->nmods && err->code != GA_ERR_NOMEM) {
				ga_error_destroy(err);
				err = NULL;
			}
			break;
		}
		t->nmods++;
		if (!next.ok || !rt_read_ptr(rt, md + next.off, &md))
			break;
	}
	if (err) {
		rt_pcln_close(t);
		return ga_error_context(err, "reading the function table (pclntab)");
	}
	*out = t;
	return NULL;
}

void rt_pcln_close(struct rt_pcln *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nmods; i++) {
		struct rt_pcln_module *m = &t->mods[i];
		tab_free(&m->funcnametab);
		tab_free(&m->cutab);
		tab_free(&m->filetab);
		tab_free(&m->pctab);
		tab_free(&m->pclntable);
		tab_free(&m->ftab);
		free(m->sects);
	}
	free(t->mods);
	free(t);
}

const struct rt_pcln_module *rt_pcln_module_of(const struct rt_pcln *t, uint64_t pc)
{
	for (size_t i = 0; i < t->nmods; i++)
		if (t->mods[i].minpc <= pc && pc < t->mods[i].maxpc)
			return &t->mods[i];
	return NULL;
}

/* moduledata.textOff */
static bool text_off(const struct rt_pcln_module *m, uint64_t pc, uint32_t *off)
{
	uint64_t res = pc - m->text;
	if (m->nsects > 1) {
		for (size_t i = 0; i < m->nsects; i++) {
			const struct rt_pcln_textsect *s = &m->sects[i];
			if (s->baseaddr > pc)
				return false;
			uint64_t end = s->baseaddr + (s->end - s->vaddr);
			if (i == m->nsects - 1)
				end++;
			if (pc < end) {
				res = pc - s->baseaddr + s->vaddr;
				break;
			}
		}
	}
	if (res > UINT32_MAX)
		return false;
	*off = (uint32_t)res;
	return true;
}

/* moduledata.textAddr */
static uint64_t text_addr(const struct rt_pcln_module *m, uint32_t off)
{
	uint64_t res = m->text + off;
	for (size_t i = 0; m->nsects > 1 && i < m->nsects; i++) {
		const struct rt_pcln_textsect *s = &m->sects[i];
		if ((off >= s->vaddr && off < s->end) || (i == m->nsects - 1 && off == s->end)) {
			res = s->baseaddr + off - s->vaddr;
			break;
		}
	}
	return res;
}

static uint32_t ftab_entry(const struct rt_pcln_module *m, uint64_t i, int which)
{
	uint64_t esz = m->ftab.len / m->nftab;
	const uint8_t *p = m->ftab.p + i * esz + (which ? 4 : 0);
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static bool decode_func(const struct rt_pcln *t, const struct rt_pcln_module *m, uint16_t mi,
			uint32_t funcoff, struct rt_func *f)
{
	const struct rt_pcln_tab *pt = &m->pclntable;
	if (funcoff >= pt->len || pt->len - funcoff < t->func_hdr)
		return false;
	const uint8_t *rec = pt->p + funcoff;
	uint64_t avail = pt->len - funcoff;
	memset(f, 0, sizeof(*f));
	f->funcoff = funcoff;
	f->module = mi;
	f->entry = text_addr(m, (uint32_t)rec_field(rec, avail, &t->f_entry));
	f->name_off = (int32_t)rec_field(rec, avail, &t->f_name);
	f->args = t->f_args.ok ? (int32_t)rec_field(rec, avail, &t->f_args) : ARGS_SIZE_UNKNOWN;
	f->deferreturn = (uint32_t)rec_field(rec, avail, &t->f_deferreturn);
	f->pcsp = (uint32_t)rec_field(rec, avail, &t->f_pcsp);
	f->pcfile = (uint32_t)rec_field(rec, avail, &t->f_pcfile);
	f->pcln = (uint32_t)rec_field(rec, avail, &t->f_pcln);
	f->npcdata = (uint32_t)rec_field(rec, avail, &t->f_npcdata);
	f->cu_offset = (uint32_t)rec_field(rec, avail, &t->f_cu);
	f->start_line = (int32_t)rec_field(rec, avail, &t->f_startline);
	f->raw_funcid = (uint8_t)rec_field(rec, avail, &t->f_funcid);
	f->funcid = t->funcid_of_raw[f->raw_funcid];
	uint8_t raw = (uint8_t)rec_field(rec, avail, &t->f_flag);
	f->flag = (uint8_t)(((raw & t->flag_topframe) ? RT_FUNCFLAG_TOPFRAME : 0) |
			    ((raw & t->flag_spwrite) ? RT_FUNCFLAG_SPWRITE : 0) |
			    ((raw & t->flag_asm) ? RT_FUNCFLAG_ASM : 0));
	f->nfuncdata = (uint8_t)rec_field(rec, avail, &t->f_nfuncdata);
	/* the offset arrays must fit in the table */
	if ((uint64_t)f->npcdata > (avail - t->func_hdr) / 4 ||
	    t->func_hdr + 4ull * (f->npcdata + f->nfuncdata) > avail)
		return false;
	return true;
}

bool rt_pcln_find(const struct rt_pcln *t, uint64_t pc, struct rt_func *f)
{
	for (size_t mi = 0; mi < t->nmods; mi++) {
		const struct rt_pcln_module *m = &t->mods[mi];
		if (pc < m->minpc || pc >= m->maxpc)
			continue;
		uint32_t off;
		if (!text_off(m, pc, &off) || m->nftab < 2)
			return false;
		/* the last ftab entry is the end sentinel: search [0, nftab-1) */
		uint64_t lo = 0, hi = m->nftab - 1;
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			if (ftab_entry(m, mid, 0) <= off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo)
			return false;
		uint64_t idx = lo - 1;
		if (ftab_entry(m, idx + 1, 0) <= off)
			return false;
		return decode_func(t, m, (uint16_t)mi, ftab_entry(m, idx, 1), f);
	}
	return false;
}

static const char *cstr_at(const struct rt_pcln_tab *tb, uint64_t off)
{
	if (off >= tb->len)
		return NULL;
	const uint8_t *p = tb->p + off;
	if (!memchr(p, 0, (size_t)(tb->len - off)))
		return NULL;
	return (const char *)p;
}

const char *rt_pcln_name_at(const struct rt_pcln *t, uint16_t module, int32_t name_off)
{
	if (module >= t->nmods || name_off <= 0)
		return qmark;
	const char *s = cstr_at(&t->mods[module].funcnametab, (uint64_t)name_off);
	return s ? s : qmark;
}

const char *rt_pcln_name(const struct rt_pcln *t, const struct rt_func *f)
{
	return rt_pcln_name_at(t, f->module, f->name_off);
}

static bool varint(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
	const uint8_t *p = *pp;
	uint32_t r = 0;
	for (unsigned shift = 0; shift < 35; shift += 7) {
		if (p >= end)
			return false;
		uint8_t b = *p++;
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*v = r;
			return true;
		}
	}
	return false;
}

bool rt_pcln_value(const struct rt_pcln *t, const struct rt_func *f, uint32_t off,
		   uint64_t targetpc, int32_t *val, uint64_t *start_pc)
{
	*val = -1;
	if (!off || f->module >= t->nmods)
		return false;
	const struct rt_pcln_tab *pt = &t->mods[f->module].pctab;
	if (off >= pt->len)
		return false;
	const uint8_t *p = pt->p + off, *end = pt->p + pt->len;
	uint64_t pc = f->entry, prevpc = pc;
	int32_t v = -1;
	/* PCQuantum is 1 on amd64 and 4 on arm64; amd64 only for now. */
	const uint64_t quantum = t->rt->core && t->rt->core->machine == 183 ? 4 : 1;
	for (bool first = true;; first = false) {
		uint32_t uv, pcd;
		if (p >= end)
			return false;
		if (*p == 0 && !first)
			return false; /* end of table before targetpc */
		if (!varint(&p, end, &uv) || !varint(&p, end, &pcd))
			return false;
		v += (int32_t)(-(uv & 1) ^ (uv >> 1));
		pc += (uint64_t)pcd * quantum;
		if (targetpc < pc) {
			*val = v;
			if (start_pc)
				*start_pc = prevpc;
			return true;
		}
		prevpc = pc;
	}
}

int32_t rt_pcln_spdelta(const struct rt_pcln *t, const struct rt_func *f, uint64_t pc)
{
	int32_t v;
	return rt_pcln_value(t, f, f->pcsp, pc, &v, NULL) ? v : -1;
}

static uint32_t arr_u32(const struct rt_pcln *t, const struct rt_func *f, uint64_t index)
{
	const struct rt_pcln_tab *pt = &t->mods[f->module].pclntable;
	uint64_t o = f->funcoff + t->func_hdr + 4 * index;
	if (o + 4 > pt->len)
		return 0;
	uint32_t v;
	memcpy(&v, pt->p + o, 4);
	return v;
}

int32_t rt_pcln_pcdata(const struct rt_pcln *t, const struct rt_func *f, uint32_t table,
		       uint64_t pc)
{
	if (table >= f->npcdata)
		return -1;
	int32_t v;
	return rt_pcln_value(t, f, arr_u32(t, f, table), pc, &v, NULL) ? v : -1;
}

uint64_t rt_pcln_funcdata(const struct rt_pcln *t, const struct rt_func *f, uint32_t i)
{
	if (i >= f->nfuncdata)
		return 0;
	uint32_t off = arr_u32(t, f, (uint64_t)f->npcdata + i);
	if (off == UINT32_MAX)
		return 0;
	return t->mods[f->module].gofunc + off;
}

bool rt_pcln_fileline(const struct rt_pcln *t, const struct rt_func *f, uint64_t pc,
		      const char **file, int32_t *line)
{
	*file = qmark;
	*line = 0;
	int32_t fileno, ln;
	if (!rt_pcln_value(t, f, f->pcfile, pc, &fileno, NULL) ||
	    !rt_pcln_value(t, f, f->pcln, pc, &ln, NULL) || fileno < 0 || ln < 0)
		return false;
	const struct rt_pcln_module *m = &t->mods[f->module];
	uint64_t idx = (uint64_t)f->cu_offset + (uint32_t)fileno;
	if (idx >= m->cutab.len / 4)
		return false;
	uint32_t fo;
	memcpy(&fo, m->cutab.p + idx * 4, 4);
	if (fo == UINT32_MAX)
		return false;
	const char *s = cstr_at(&m->filetab, fo);
	if (!s)
		return false;
	*file = s;
	*line = ln;
	return true;
}

size_t rt_pcln_inline(const struct rt_pcln *t, const struct rt_func *f, uint64_t pc,
		      struct rt_inl_frame *out, size_t max, bool *more)
{
	size_t n = 0;
	*more = false;
	uint64_t tree = t->inl_size && t->pcdata_inltree >= 0
				? rt_pcln_funcdata(t, f, (uint32_t)t->funcdata_inltree) : 0;
	for (int depth = 0; tree && depth < MAX_INLINE_DEPTH; depth++) {
		int32_t ix = rt_pcln_pcdata(t, f, (uint32_t)t->pcdata_inltree, pc);
		if (ix < 0)
			break;
		uint8_t rec[64];
		uint64_t rs = t->inl_size < sizeof(rec) ? t->inl_size : sizeof(rec);
		if (!ga_mem_try_read(t->rt->mem, tree + (uint64_t)ix * t->inl_size, rec, rs))
			break;
		if (n < max) {
			struct rt_inl_frame *o = &out[n];
			o->name = rt_pcln_name_at(t, f->module, (int32_t)rec_field(rec, rs, &t->inl_name));
			o->funcid = t->funcid_of_raw[(uint8_t)rec_field(rec, rs, &t->inl_funcid)];
			o->inlined = true;
			o->pc = pc;
			rt_pcln_fileline(t, f, pc, &o->file, &o->line);
			n++;
		} else {
			*more = true;
		}
		uint64_t parent = f->entry + (uint64_t)(int64_t)(int32_t)rec_field(rec, rs, &t->inl_parentpc);
		if (parent == pc)
			break; /* a corrupt tree pointing at itself */
		pc = parent;
	}
	if (n < max) {
		struct rt_inl_frame *o = &out[n];
		o->name = rt_pcln_name(t, f);
		o->funcid = f->funcid;
		o->inlined = false;
		o->pc = pc;
		rt_pcln_fileline(t, f, pc, &o->file, &o->line);
		n++;
	} else {
		*more = true;
	}
	return n;
}
