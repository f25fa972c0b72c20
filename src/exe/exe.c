#include <elf.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exe/exe.h"

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Walks an ELF note area for (owner, type); returns desc or NULL. */
static const uint8_t *find_note(const uint8_t *p, uint64_t n, const char *owner, uint32_t type,
				uint32_t *descsz)
{
	size_t olen = strlen(owner) + 1;
	const uint8_t *end = p + n;
	while ((size_t)(end - p) >= 12) {
		uint32_t nsz = rd32(p), dsz = rd32(p + 4), t = rd32(p + 8);
		size_t nal = ((size_t)nsz + 3) & ~(size_t)3, dal = ((size_t)dsz + 3) & ~(size_t)3;
		if (nal > (size_t)(end - p - 12) || dal > (size_t)(end - p - 12 - nal))
			return NULL;
		if (t == type && nsz == olen && !memcmp(p + 12, owner, olen)) {
			*descsz = dsz;
			return p + 12 + nal;
		}
		p += 12 + nal + dal;
	}
	return NULL;
}

struct ga_error *ga_exe_open(const char *path, const char *tmpdir, struct ga_exe **out)
{
	struct ga_exe *exe = calloc(1, sizeof(*exe));
	if (!exe)
		return &ga_error_nomem;
	exe->file.fd = -1;
	struct ga_error *err = NULL;
	exe->path = strdup(path);
	if (!exe->path) {
		err = &ga_error_nomem;
		goto fail;
	}
	err = ga_file_open(path, tmpdir, &exe->file);
	if (err)
		goto fail;
	elf_version(EV_CURRENT);
	if (exe->file.size < EI_NIDENT || memcmp(exe->file.data, ELFMAG, SELFMAG)) {
		err = ga_error_create(GA_ERR_FORMAT, "executable %s is not an ELF file", path);
		goto fail;
	}
	exe->elf = elf_memory((char *)exe->file.data, exe->file.size);
	GElf_Ehdr eh;
	if (!exe->elf || !gelf_getehdr(exe->elf, &eh)) {
		err = ga_error_create(GA_ERR_FORMAT, "executable %s: bad ELF header: %s", path, elf_errmsg(-1));
		goto fail;
	}
	if (eh.e_type == ET_CORE) {
		err = ga_error_create(GA_ERR_FORMAT, "%s is a core dump, not an executable", path);
		goto fail;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		err = ga_error_create(GA_ERR_FORMAT, "%s is not an executable (e_type %u)", path, eh.e_type);
		goto fail;
	}
	exe->machine = eh.e_machine;
	exe->type = eh.e_type;
	exe->entry = eh.e_entry;
	size_t phnum = 0, shstrndx = 0;
	if (elf_getphdrnum(exe->elf, &phnum) || elf_getshdrstrndx(exe->elf, &shstrndx)) {
		err = ga_error_create(GA_ERR_FORMAT, "executable %s: %s", path, elf_errmsg(-1));
		goto fail;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(exe->elf, (int)i, &ph))
			continue;
		if (ph.p_type != PT_LOAD)
			continue;
		struct ga_exe_load l = {ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags};
		if (l.offset > exe->file.size)
			l.filesz = 0;
		else if (l.filesz > exe->file.size - l.offset)
			l.filesz = exe->file.size - l.offset;
		if (ga_vec_push(&exe->loads, l)) {
			err = &ga_error_nomem;
			goto fail;
		}
	}
	for (Elf_Scn *scn = elf_nextscn(exe->elf, NULL); scn; scn = elf_nextscn(exe->elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(exe->elf, shstrndx, sh.sh_name);
		struct ga_exe_section s = {name ? name : "", sh.sh_addr, sh.sh_size, sh.sh_offset,
					   sh.sh_type, sh.sh_flags};
		if (ga_vec_push(&exe->sections, s)) {
			err = &ga_error_nomem;
			goto fail;
		}
	}
	const struct ga_exe_section *ns = ga_exe_section(exe, ".note.go.buildid");
	if (ns && ns->offset <= exe->file.size && ns->size <= exe->file.size - ns->offset) {
		uint32_t dsz;
		const uint8_t *d = find_note(exe->file.data + ns->offset, ns->size, "Go", 4, &dsz);
		if (d)
			exe->go_buildid = strndup((const char *)d, dsz);
	}
	ns = ga_exe_section(exe, ".note.gnu.build-id");
	if (ns && ns->offset <= exe->file.size && ns->size <= exe->file.size - ns->offset) {
		uint32_t dsz;
		const uint8_t *d = find_note(exe->file.data + ns->offset, ns->size, "GNU", 3, &dsz);
		if (d && dsz <= 64 && (exe->gnu_buildid = malloc(2 * (size_t)dsz + 1))) {
			for (uint32_t i = 0; i < dsz; i++)
				snprintf(exe->gnu_buildid + 2 * i, 3, "%02x", d[i]);
		}
	}
	*out = exe;
	return NULL;
fail:
	ga_exe_close(exe);
	return err;
}

void ga_exe_close(struct ga_exe *exe)
{
	if (!exe)
		return;
	if (exe->elf)
		elf_end(exe->elf);
	ga_file_close(&exe->file);
	ga_vec_free(&exe->sections);
	ga_vec_free(&exe->loads);
	free(exe->go_buildid);
	free(exe->gnu_buildid);
	free(exe->path);
	free(exe);
}

const struct ga_exe_section *ga_exe_section(const struct ga_exe *exe, const char *name)
{
	for (size_t i = 0; i < exe->sections.len; i++)
		if (!strcmp(exe->sections.v[i].name, name))
			return &exe->sections.v[i];
	return NULL;
}

const uint8_t *ga_exe_bytes(const struct ga_exe *exe, uint64_t addr, uint64_t n)
{
	for (size_t i = 0; i < exe->loads.len; i++) {
		const struct ga_exe_load *l = &exe->loads.v[i];
		if (addr >= l->vaddr && addr - l->vaddr < l->filesz && n <= l->filesz - (addr - l->vaddr))
			return exe->file.data + l->offset + (addr - l->vaddr);
	}
	return NULL;
}

bool ga_exe_has_dwarf(const struct ga_exe *exe)
{
	return ga_exe_section(exe, ".debug_info") || ga_exe_section(exe, ".zdebug_info");
}
