/* The ELF core file: segments, threads and the notes the kernel (or gcore)
 * wrote. Knows nothing of Go. */
#ifndef GA_CORE_CORE_H
#define GA_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <libelf.h>

#include "base/file.h"
#include "base/vec.h"
#include "goautopsy/error.h"

struct ga_core_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz; /* filesz already clipped to what the file holds */
	uint64_t filesz_declared;
	uint32_t flags;          /* PF_R / PF_W / PF_X */
};

#define GA_CORE_MAX_REGS 34

struct ga_core_thread {
	int32_t lwp;
	int32_t cursig;
	uint32_t nregs;
	uint64_t regs[GA_CORE_MAX_REGS]; /* the arch's user_regs_struct order */
};

/* One NT_FILE entry. */
struct ga_core_file_map {
	uint64_t start, end, file_offset; /* file_offset in bytes */
	char *path;
};

struct ga_core {
	char *name;               /* for messages */
	struct ga_mapped_file file;
	Elf *elf;
	uint16_t machine;         /* EM_X86_64, EM_AARCH64 */
	GA_VEC(struct ga_core_segment) segs;
	GA_VEC(struct ga_core_thread) threads;
	GA_VEC(struct ga_core_file_map) files;
	/* NT_AUXV */
	uint64_t at_entry, at_phdr, at_execfn, at_pagesz, at_base;
	bool have_auxv;
	/* NT_PRPSINFO */
	bool have_psinfo;
	int32_t pid;
	char fname[17];
	char psargs[81];
	/* NT_SIGINFO */
	bool have_siginfo;
	int32_t signo, sigcode;
	uint64_t sigaddr;
	/* bytes the program headers promise beyond the end of the file */
	uint64_t missing_bytes;
};

struct ga_core_open_options {
	const char *tmpdir;
	bool allow_truncated; /* open a truncated core, reading what is there */
};

struct ga_error *ga_core_open(const char *path, const struct ga_core_open_options *opts,
			      struct ga_core **out);
void ga_core_close(struct ga_core *core);

/* Name of the register at index i of ga_core_thread.regs for this arch, or NULL. */
const char *ga_core_reg_name(const struct ga_core *core, unsigned i);
/* Index of pc / sp / frame pointer in regs, or -1. */
int ga_core_reg_pc(const struct ga_core *core);
int ga_core_reg_sp(const struct ga_core *core);
int ga_core_reg_fp(const struct ga_core *core);
/* The NT_FILE entry covering addr, or NULL. */
const struct ga_core_file_map *ga_core_file_at(const struct ga_core *core, uint64_t addr);
const char *ga_signal_name(int signo);

#endif
