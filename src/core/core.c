#include <elf.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* Offsets inside the 64-bit Linux note payloads (include/uapi/linux/elfcore.h). */
#define PRSTATUS_CURSIG 12
#define PRSTATUS_PID 32
#define PRSTATUS_REG 112
#define PRPSINFO_PID 24
#define PRPSINFO_FNAME 40
#define PRPSINFO_PSARGS 56

static const char *const amd64_regs[] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
	"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

static unsigned arch_nregs(uint16_t machine)
{
	switch (machine) {
	case EM_X86_64:
		return 27;
	case EM_AARCH64:
		return 34; /* x0..x30, sp, pc, pstate */
	default:
		return 0;
	}
}

const char *ga_core_reg_name(const struct ga_core *core, unsigned i)
{
	static const char *const arm64[] = {
		"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10",
		"x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19",
		"x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
		"x29", "x30", "sp", "pc", "pstate",
	};
	if (core->machine == EM_X86_64 && i < 27)
		return amd64_regs[i];
	if (core->machine == EM_AARCH64 && i < 34)
		return arm64[i];
	return NULL;
}

int ga_core_reg_pc(const struct ga_core *core)
{
	return core->machine == EM_X86_64 ? 16 : core->machine == EM_AARCH64 ? 32 : -1;
}

int ga_core_reg_sp(const struct ga_core *core)
{
	return core->machine == EM_X86_64 ? 19 : core->machine == EM_AARCH64 ? 31 : -1;
}

int ga_core_reg_fp(const struct ga_core *core)
{
	return core->machine == EM_X86_64 ? 4 : core->machine == EM_AARCH64 ? 29 : -1;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static struct ga_error *parse_prstatus(struct ga_core *core, const uint8_t *d, size_t n)
{
	unsigned nregs = arch_nregs(core->machine);
	if (n < PRSTATUS_REG + nregs * 8)
		return ga_error_create(GA_ERR_FORMAT, "NT_PRSTATUS note too short (%zu bytes)", n);
	struct ga_core_thread t;
	memset(&t, 0, sizeof(t));
	t.cursig = (int16_t)(d[PRSTATUS_CURSIG] | d[PRSTATUS_CURSIG + 1] << 8);
	t.lwp = (int32_t)rd32(d + PRSTATUS_PID);
	t.nregs = nregs;
	for (unsigned i = 0; i < nregs; i++)
		t.regs[i] = rd64(d + PRSTATUS_REG + 8 * i);
	if (ga_vec_push(&core->threads, t))
		return &ga_error_nomem;
	return NULL;
}

static void parse_prpsinfo(struct ga_core *core, const uint8_t *d, size_t n)
{
	if (n < PRPSINFO_PSARGS + 80)
		return;
	core->have_psinfo = true;
	core->pid = (int32_t)rd32(d + PRPSINFO_PID);
	memcpy(core->fname, d + PRPSINFO_FNAME, 16);
	core->fname[16] = 0;
	memcpy(core->psargs, d + PRPSINFO_PSARGS, 80);
	core->psargs[80] = 0;
}

static void parse_auxv(struct ga_core *core, const uint8_t *d, size_t n)
{
	core->have_auxv = true;
	for (size_t i = 0; i + 16 <= n; i += 16) {
		uint64_t type = rd64(d + i), val = rd64(d + i + 8);
		switch (type) {
		case AT_ENTRY: core->at_entry = val; break;
		case AT_PHDR: core->at_phdr = val; break;
		case AT_EXECFN: core->at_execfn = val; break;
		case AT_PAGESZ: core->at_pagesz = val; break;
		case AT_BASE: core->at_base = val; break;
		default: break;
		}
		if (type == AT_NULL)
			break;
	}
}

static struct ga_error *parse_file_note(struct ga_core *core, const uint8_t *d, size_t n)
{
	if (n < 16)
		return ga_error_create(GA_ERR_FORMAT, "NT_FILE note too short");
	uint64_t count = rd64(d), pagesz = rd64(d + 8);
	if (count > (n - 16) / 24)
		return ga_error_create(GA_ERR_FORMAT, "NT_FILE note claims %llu entries in %zu bytes",
				       (unsigned long long)count, n);
	const uint8_t *names = d + 16 + count * 24;
	const uint8_t *end = d + n;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *e = d + 16 + i * 24;
		const uint8_t *nul = names < end ? memchr(names, 0, (size_t)(end - names)) : NULL;
		if (!nul)
			return ga_error_create(GA_ERR_FORMAT, "NT_FILE note: name %llu is not terminated",
					       (unsigned long long)i);
		struct ga_core_file_map fm = {
			.start = rd64(e), .end = rd64(e + 8), .file_offset = rd64(e + 16) * pagesz,
		};
		fm.path = strndup((const char *)names, (size_t)(nul - names));
		if (!fm.path || ga_vec_push(&core->files, fm)) {
			free(fm.path);
			return &ga_error_nomem;
		}
		names = nul + 1;
	}
	return NULL;
}

static struct ga_error *parse_notes(struct ga_core *core, const GElf_Phdr *ph)
{
	const uint8_t *raw = core->file.data;
	if (ph->p_offset > core->file.size || ph->p_filesz > core->file.size - ph->p_offset)
		return ga_error_create(GA_ERR_FORMAT,
				       "truncated core: note segment at file offset 0x%llx (%llu bytes) is past the end of the %zu-byte file",
				       (unsigned long long)ph->p_offset,
				       (unsigned long long)ph->p_filesz, core->file.size);
	const uint8_t *p = raw + ph->p_offset, *end = p + ph->p_filesz;
	while ((size_t)(end - p) >= 12) {
		uint32_t namesz = rd32(p), descsz = rd32(p + 4), type = rd32(p + 8);
		size_t nameal = ((size_t)namesz + 3) & ~(size_t)3;
		size_t descal = ((size_t)descsz + 3) & ~(size_t)3;
		if (nameal > (size_t)(end - p - 12) || descal > (size_t)(end - p - 12 - nameal))
			return ga_error_create(GA_ERR_FORMAT,
					       "malformed note at file offset 0x%llx: sizes run past the note segment",
					       (unsigned long long)(p - raw));
		const char *name = (const char *)p + 12;
		const uint8_t *desc = p + 12 + nameal;
		struct ga_error *err = NULL;
		if (namesz == 5 && !memcmp(name, "CORE", 5)) {
			switch (type) {
			case NT_PRSTATUS: err = parse_prstatus(core, desc, descsz); break;
			case NT_PRPSINFO: parse_prpsinfo(core, desc, descsz); break;
			case NT_AUXV: parse_auxv(core, desc, descsz); break;
			case NT_FILE: err = parse_file_note(core, desc, descsz); break;
			case NT_SIGINFO:
				if (descsz >= 24) {
					core->have_siginfo = true;
					core->signo = (int32_t)rd32(desc);
					core->sigcode = (int32_t)rd32(desc + 8);
					core->sigaddr = rd64(desc + 16);
				}
				break;
			default: break;
			}
		}
		if (err)
			return ga_error_context(err, "note at file offset 0x%llx",
						(unsigned long long)(p - raw));
		p += 12 + nameal + descal;
	}
	return NULL;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct ga_core_segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

struct ga_error *ga_core_open(const char *path, const struct ga_core_open_options *opts,
			      struct ga_core **out)
{
	static const struct ga_core_open_options defaults;
	if (!opts)
		opts = &defaults;
	struct ga_core *core = calloc(1, sizeof(*core));
	if (!core)
		return &ga_error_nomem;
	core->file.fd = -1;
	struct ga_error *err = NULL;
	core->name = strdup(!strcmp(path, "-") ? "<stdin>" : path);
	if (!core->name) {
		err = &ga_error_nomem;
		goto fail;
	}
	err = ga_file_open(path, opts->tmpdir, &core->file);
	if (err)
		goto fail;
	elf_version(EV_CURRENT);
	if (core->file.size < EI_NIDENT || memcmp(core->file.data, ELFMAG, SELFMAG)) {
		err = ga_error_create(GA_ERR_FORMAT, "%s is not an ELF file", core->name);
		goto fail;
	}
	size_t ehsize = core->file.data[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	if (core->file.size < ehsize) {
		err = ga_error_create(GA_ERR_FORMAT,
				      "%s is truncated: %zu bytes, shorter than an ELF header (%zu)",
				      core->name, core->file.size, ehsize);
		goto fail;
	}
	core->elf = elf_memory((char *)core->file.data, core->file.size);
	GElf_Ehdr eh;
	if (!core->elf || !gelf_getehdr(core->elf, &eh)) {
		err = ga_error_create(GA_ERR_FORMAT, "%s: bad ELF header: %s", core->name, elf_errmsg(-1));
		goto fail;
	}
	if (eh.e_type != ET_CORE) {
		err = ga_error_create(GA_ERR_FORMAT,
				      "%s is an ELF file but not a core dump (e_type %u; an executable is given with --exe)",
				      core->name, eh.e_type);
		goto fail;
	}
	if (gelf_getclass(core->elf) != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		err = ga_error_create(GA_ERR_UNSUPPORTED, "%s: only 64-bit little-endian cores are supported", core->name);
		goto fail;
	}
	core->machine = eh.e_machine;
	if (!arch_nregs(core->machine)) {
		err = ga_error_create(GA_ERR_UNSUPPORTED, "%s: unsupported machine %u (amd64 and arm64 are)",
				      core->name, core->machine);
		goto fail;
	}
	size_t phnum;
	if (eh.e_phnum != PN_XNUM && (eh.e_phoff > core->file.size ||
	    (uint64_t)eh.e_phnum * eh.e_phentsize > core->file.size - eh.e_phoff)) {
		err = ga_error_create(GA_ERR_FORMAT, "truncated core %s: program headers run past the end of the file",
				      core->name);
		goto fail;
	}
	if (elf_getphdrnum(core->elf, &phnum)) {
		err = ga_error_create(GA_ERR_FORMAT, "%s: cannot read program headers: %s", core->name, elf_errmsg(-1));
		goto fail;
	}
	if (eh.e_phoff > core->file.size || phnum * (uint64_t)eh.e_phentsize > core->file.size - eh.e_phoff) {
		err = ga_error_create(GA_ERR_FORMAT, "truncated core %s: program headers run past the end of the file",
				      core->name);
		goto fail;
	}
	bool have_note = false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(core->elf, (int)i, &ph)) {
			err = ga_error_create(GA_ERR_FORMAT, "%s: bad program header %zu: %s", core->name, i, elf_errmsg(-1));
			goto fail;
		}
		if (ph.p_type == PT_NOTE) {
			have_note = true;
			err = parse_notes(core, &ph);
			if (err)
				goto fail;
		} else if (ph.p_type == PT_LOAD) {
			struct ga_core_segment s = {
				.vaddr = ph.p_vaddr, .memsz = ph.p_memsz, .offset = ph.p_offset,
				.filesz = ph.p_filesz, .filesz_declared = ph.p_filesz, .flags = ph.p_flags,
			};
			if (s.filesz > s.memsz)
				s.filesz = s.memsz;
			if (s.vaddr + s.memsz < s.vaddr) {
				err = ga_error_create(GA_ERR_FORMAT, "%s: segment %zu wraps the address space",
						      core->name, i);
				goto fail;
			}
			if (s.filesz) {
				uint64_t have = s.offset >= core->file.size ? 0 : core->file.size - s.offset;
				if (have < s.filesz) {
					core->missing_bytes += s.filesz - have;
					s.filesz = have;
				}
			}
			if (ga_vec_push(&core->segs, s)) {
				err = &ga_error_nomem;
				goto fail;
			}
		}
	}
	if (!have_note || !core->threads.len) {
		err = ga_error_create(GA_ERR_FORMAT, "%s: core has no thread status notes (NT_PRSTATUS)", core->name);
		goto fail;
	}
	if (core->missing_bytes && !opts->allow_truncated) {
		err = ga_error_create(GA_ERR_FORMAT,
				      "truncated core %s: the file is %zu bytes but its segments need %llu bytes more (a partial copy? --allow-truncated reads what is there)",
				      core->name, core->file.size, (unsigned long long)core->missing_bytes);
		goto fail;
	}
	ga_sort(core->segs.v, core->segs.len, sizeof(core->segs.v[0]), seg_cmp);
	*out = core;
	return NULL;
fail:
	ga_core_close(core);
	return err;
}

void ga_core_close(struct ga_core *core)
{
	if (!core)
		return;
	if (core->elf)
		elf_end(core->elf);
	ga_file_close(&core->file);
	for (size_t i = 0; i < core->files.len; i++)
		free(core->files.v[i].path);
	ga_vec_free(&core->files);
	ga_vec_free(&core->segs);
	ga_vec_free(&core->threads);
	free(core->name);
	free(core);
}

const struct ga_core_file_map *ga_core_file_at(const struct ga_core *core, uint64_t addr)
{
	for (size_t i = 0; i < core->files.len; i++)
		if (addr >= core->files.v[i].start && addr < core->files.v[i].end)
			return &core->files.v[i];
	return NULL;
}

const char *ga_signal_name(int signo)
{
	static const char *const names[] = {
		[1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL",
		[5] = "SIGTRAP", [6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE",
		[9] = "SIGKILL", [10] = "SIGUSR1", [11] = "SIGSEGV", [12] = "SIGUSR2",
		[13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM", [17] = "SIGCHLD",
		[19] = "SIGSTOP", [24] = "SIGXCPU", [25] = "SIGXFSZ", [31] = "SIGSYS",
	};
	if (signo > 0 && signo < (int)(sizeof(names) / sizeof(names[0])) && names[signo])
		return names[signo];
	return NULL;
}
