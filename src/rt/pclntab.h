/* The runtime's function table (pclntab), read the way runtime/symtab.go
 * reads it: runtime.firstmoduledata (and its `next` modules) → ftab →
 * _func records → pc-value tables, funcdata, inline trees.
 *
 * Every layout (moduledata, _func, pcHeader, functab, textsect, inlinedCall)
 * comes from DWARF, so Go 1.19 (magic 0xfffffff0, textStart in pcHeader,
 * 20-byte inlinedCall) and 1.20+ (0xfffffff1, startLine, 16-byte
 * inlinedCall, 1.26's moduledata section) are the same code path. The tables
 * are viewed through the memory reader (they live in read-only pages the
 * executable backs) and every offset read from them is bounds-checked.
 *
 * API in short:
 *   rt_pcln_open / rt_pcln_close        once per session
 *   rt_pcln_find(t, pc, &f)             pc → struct rt_func (findfunc)
 *   rt_pcln_name(t, f)                  function symbol name (raw, not "panic")
 *   rt_pcln_value(t, f, off, pc, ...)   one pc-value table (pcsp/pcfile/pcln/pcdata)
 *   rt_pcln_spdelta / rt_pcln_pcdata    funcspdelta / pcdatavalue
 *   rt_pcln_funcdata(t, f, i)           funcdata pointer (runtime address) or 0
 *   rt_pcln_fileline(t, f, pc, ...)     funcline
 *   rt_pcln_inline(t, f, pc, ...)       logical frames at a call pc, innermost first
 * Function ids and flags are normalized to enum rt_funcid / RT_FUNCFLAG_* (the
 * raw numbering changes between releases; the DWARF constants say which).
 * Nothing here allocates per call; names and files point into the table and
 * stay valid until rt_pcln_close. */
#ifndef GA_RT_PCLNTAB_H
#define GA_RT_PCLNTAB_H

#include "rt/rt.h"

/* Special functions, as internal/abi.FuncID (runtime.funcID_* before 1.21)
 * names them. RT_FID_NORMAL for every other function. */
enum rt_funcid {
	RT_FID_NORMAL = 0,
	RT_FID_ABORT,
	RT_FID_ASMCGOCALL,
	RT_FID_ASYNCPREEMPT,
	RT_FID_CGOCALLBACK,
	RT_FID_COROSTART,
	RT_FID_DEBUGCALLV2,
	RT_FID_GCBGMARKWORKER,
	RT_FID_GOEXIT,
	RT_FID_GOGO,
	RT_FID_GOPANIC,
	RT_FID_HANDLEASYNCEVENT,
	RT_FID_MCALL,
	RT_FID_MORESTACK,
	RT_FID_MSTART,
	RT_FID_PANICWRAP,
	RT_FID_RT0_GO,
	RT_FID_RUNFINALIZERS, /* runtime.runfinq before 1.24 */
	RT_FID_RUNCLEANUPS,
	RT_FID_RUNTIME_MAIN,
	RT_FID_SIGPANIC,
	RT_FID_SYSTEMSTACK,
	RT_FID_SYSTEMSTACK_SWITCH,
	RT_FID_WRAPPER,
	RT_FID_COUNT
};

enum {
	RT_FUNCFLAG_TOPFRAME = 1, /* marks the top of a stack: unwinding stops */
	RT_FUNCFLAG_SPWRITE = 2,  /* writes SP in ways pcsp cannot describe */
	RT_FUNCFLAG_ASM = 4,
};

/* Well-known pcdata / funcdata indices (read from DWARF, these defaults
 * have not changed from 1.19 to 1.27). */
enum {
	RT_PCDATA_UNSAFEPOINT = 0,
	RT_PCDATA_STACKMAPINDEX = 1,
	RT_PCDATA_INLTREEINDEX = 2,
	RT_PCDATA_ARGLIVEINDEX = 3,
	RT_FUNCDATA_ARGSPOINTERMAPS = 0,
	RT_FUNCDATA_LOCALSPOINTERMAPS = 1,
	RT_FUNCDATA_STACKOBJECTS = 2,
	RT_FUNCDATA_INLTREE = 3,
	RT_FUNCDATA_OPENCODEDDEFERINFO = 4,
	RT_FUNCDATA_ARGINFO = 5,
	RT_FUNCDATA_ARGLIVEINFO = 6,
	RT_FUNCDATA_WRAPINFO = 7,
};

/* One decoded _func record. */
struct rt_func {
	uint64_t entry;      /* runtime address of the first instruction */
	uint32_t funcoff;    /* offset of the record in its module's pclntable */
	uint16_t module;     /* index in rt_pcln.mods */
	uint8_t funcid;      /* enum rt_funcid */
	uint8_t flag;        /* RT_FUNCFLAG_* */
	uint8_t raw_funcid;
	uint8_t nfuncdata;
	int32_t name_off;    /* into funcnametab */
	int32_t args;        /* argument+result bytes; ArgsSizeUnknown = 0x80000000 */
	uint32_t deferreturn;
	uint32_t pcsp, pcfile, pcln, npcdata, cu_offset;
	int32_t start_line;  /* 0 before Go 1.20 */
};

/* A logical frame at one pc: an inlined call or the physical function. */
struct rt_inl_frame {
	const char *name;   /* symbol name; never NULL ("?" when unreadable) */
	const char *file;   /* "?" when unknown */
	int32_t line;
	uint8_t funcid;     /* enum rt_funcid */
	bool inlined;       /* false for the physical (outermost) function */
	uint64_t pc;        /* the pc its file:line was looked up at */
};

/* A table read through the memory reader: a view into mapped bytes, or an
 * owned copy when the range spans regions. */
struct rt_pcln_tab {
	uint64_t addr, len;
	const uint8_t *p;
	uint8_t *owned;
};

struct rt_pcln_textsect {
	uint64_t vaddr, end, baseaddr;
};

struct rt_pcln_module {
	uint64_t md;         /* the moduledata */
	uint64_t minpc, maxpc, text, etext, gofunc, rodata;
	uint64_t noptrbss, enoptrbss;
	uint32_t magic;
	struct rt_pcln_tab funcnametab, cutab, filetab, pctab, pclntable, ftab;
	uint64_t nftab;      /* entries in ftab, the last one being the end sentinel */
	struct rt_pcln_textsect *sects;
	size_t nsects;
};

struct rt_pcln {
	struct ga_rt *rt;
	struct rt_pcln_module *mods;
	size_t nmods;
	uint8_t funcid_of_raw[256];    /* raw FuncID → enum rt_funcid */
	uint8_t flag_topframe, flag_spwrite, flag_asm; /* raw flag bits */
	int pcdata_stackmap, pcdata_inltree, pcdata_arglive;
	int funcdata_args, funcdata_locals, funcdata_stackobjs, funcdata_inltree;
	/* _func layout */
	uint64_t func_hdr;   /* bytes before the pcdata offsets (offset of nfuncdata + 1) */
	struct rt_field f_entry, f_name, f_args, f_deferreturn, f_pcsp, f_pcfile, f_pcln,
		f_npcdata, f_cu, f_startline, f_funcid, f_flag, f_nfuncdata;
	/* inlinedCall layout */
	uint64_t inl_size;
	struct rt_field inl_funcid, inl_name, inl_parentpc, inl_startline;
	/* stackObjectRecord layout (used by stackmap.c) */
	uint64_t sobj_size;
	struct rt_field sobj_off, sobj_size_f, sobj_ptrdata, sobj_gcdataoff;
};

struct ga_error *rt_pcln_open(struct ga_rt *rt, struct rt_pcln **out);
void rt_pcln_close(struct rt_pcln *t);

/* findfunc: the function containing pc, or false. */
bool rt_pcln_find(const struct rt_pcln *t, uint64_t pc, struct rt_func *f);
/* The function's symbol name (e.g. "main.(*T).M", "runtime.gopanic"). */
const char *rt_pcln_name(const struct rt_pcln *t, const struct rt_func *f);
const char *rt_pcln_name_at(const struct rt_pcln *t, uint16_t module, int32_t name_off);
/* Value of the pc-value table at table offset `off` for targetpc; false when
 * there is no table or it does not cover targetpc. start_pc (optional): the
 * pc where that value starts. */
bool rt_pcln_value(const struct rt_pcln *t, const struct rt_func *f, uint32_t off,
		   uint64_t targetpc, int32_t *val, uint64_t *start_pc);
/* funcspdelta: bytes the function has pushed at pc; -1 if unknown. */
int32_t rt_pcln_spdelta(const struct rt_pcln *t, const struct rt_func *f, uint64_t pc);
/* pcdatavalue: -1 when absent. */
int32_t rt_pcln_pcdata(const struct rt_pcln *t, const struct rt_func *f, uint32_t table,
		       uint64_t pc);
/* funcdata: runtime address of funcdata i, 0 if none. */
uint64_t rt_pcln_funcdata(const struct rt_pcln *t, const struct rt_func *f, uint32_t i);
/* funcline: file and line at pc; false (and "?", 0) when unknown. */
bool rt_pcln_fileline(const struct rt_pcln *t, const struct rt_func *f, uint64_t pc,
		      const char **file, int32_t *line);
/* Logical frames at a call pc (already backed up into the CALL), innermost
 * first, the physical function last. Returns how many were written (at most
 * max); *more is set when the inline chain was longer than max. */
size_t rt_pcln_inline(const struct rt_pcln *t, const struct rt_func *f, uint64_t pc,
		      struct rt_inl_frame *out, size_t max, bool *more);
/* Whether addr lies in the module's funcdata (gofunc) area; used to check
 * stack object records. */
const struct rt_pcln_module *rt_pcln_module_of(const struct rt_pcln *t, uint64_t pc);

#endif
