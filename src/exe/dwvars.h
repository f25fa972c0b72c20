/* The variables of a function's frame as DWARF locates them at one pc:
 * parameters and locals (inlined calls included) that live in the frame's
 * memory, relative to the canonical frame address. */
#ifndef GA_EXE_DWVARS_H
#define GA_EXE_DWVARS_H

#include "exe/dwarf.h"

struct ga_frame_var {
	const char *name;   /* owned by libdw */
	ga_type_id type;
	uint64_t addr;      /* cfa + offset */
	uint64_t size;      /* bytes at addr: the whole value, or its first pieces */
	bool param;
};

/* Calls fn for each variable of the function containing link-time pc whose
 * location at pc is memory at a constant offset from cfa (Go's
 * DW_OP_call_frame_cfa / DW_OP_fbreg). A value split into pieces is given
 * for its leading run of contiguous memory pieces. Returns the number of
 * variables given; fn returning false stops. */
size_t ga_dwarf_frame_vars(struct ga_dwarf *d, uint64_t pc, uint64_t cfa,
			   bool (*fn)(void *ctx, const struct ga_frame_var *v), void *ctx);

/* The captured variables of the closure function containing link-time pc:
 * addr is the variable's offset in the closure object (the linker's
 * DW_AT_go_closure_offset, Go 1.23+). Returns how many were given. */
size_t ga_dwarf_closure_vars(struct ga_dwarf *d, uint64_t pc,
			     bool (*fn)(void *ctx, const struct ga_frame_var *v), void *ctx);

/* The type of the index-th parameter (receiver first) of the function
 * containing link-time pc; 0 if it has none. */
ga_type_id ga_dwarf_param_type(struct ga_dwarf *d, uint64_t pc, unsigned index);

#endif
