/* The executable: sections, loadable segments, Go build ID, and bytes at
 * link-time addresses. */
#ifndef GA_EXE_EXE_H
#define GA_EXE_EXE_H

#include <stdbool.h>
#include <stdint.h>
#include <libelf.h>

#include "base/file.h"
#include "base/vec.h"
#include "goautopsy/error.h"

struct ga_exe_section {
	const char *name; /* in the ELF string table */
	uint64_t addr, size, offset;
	uint32_t type;
	uint64_t flags;
};

struct ga_exe_load {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;
};

struct ga_exe {
	char *path;
	struct ga_mapped_file file;
	Elf *elf;
	uint16_t machine;
	uint16_t type;  /* ET_EXEC or ET_DYN (PIE) */
	uint64_t entry;
	GA_VEC(struct ga_exe_section) sections;
	GA_VEC(struct ga_exe_load) loads;
	char *go_buildid;   /* from .note.go.buildid, or NULL */
	char *gnu_buildid;  /* hex, or NULL */
};

struct ga_error *ga_exe_open(const char *path, const char *tmpdir, struct ga_exe **out);
void ga_exe_close(struct ga_exe *exe);

const struct ga_exe_section *ga_exe_section(const struct ga_exe *exe, const char *name);
/* Bytes of the file at link-time address addr (n bytes), or NULL if the
 * range is not wholly backed by file contents. */
const uint8_t *ga_exe_bytes(const struct ga_exe *exe, uint64_t addr, uint64_t n);
bool ga_exe_has_dwarf(const struct ga_exe *exe);

#endif
