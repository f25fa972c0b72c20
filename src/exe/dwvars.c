#include <dwarf.h>
#include <string.h>

#include "exe/dwvars.h"

#define MAX_SCOPE_DEPTH 64
#define DW_AT_go_closure_offset 0x2907

/* Address of a location expression relative to cfa, or false. Handles
 * DW_OP_call_frame_cfa [+const], DW_OP_fbreg (Go's frame base is the CFA),
 * and leading contiguous memory pieces. */
static bool eval_loc(const Dwarf_Op *ops, size_t n, uint64_t cfa, uint64_t vsize, uint64_t *addr,
		     uint64_t *size)
{
	uint64_t start = 0, next = 0, got = 0;
	bool have = false, cur_mem = false;
	uint64_t cur = 0;
	for (size_t i = 0; i < n; i++) {
		const Dwarf_Op *op = &ops[i];
		switch (op->atom) {
		case DW_OP_call_frame_cfa:
			cur = cfa;
			cur_mem = true;
			break;
		case DW_OP_fbreg:
			cur = cfa + (uint64_t)(int64_t)op->number;
			cur_mem = true;
			break;
		case DW_OP_consts:
		case DW_OP_constu:
			if (i + 1 < n && ops[i + 1].atom == DW_OP_plus && cur_mem) {
				cur += op->number;
				i++;
				break;
			}
			return have;
		case DW_OP_plus_uconst:
			if (!cur_mem)
				return have;
			cur += op->number;
			break;
		case DW_OP_piece:
			if (!cur_mem || (have && cur != next)) {
				/* a register piece or a gap ends the memory run */
				if (!have)
					return false;
				*addr = start;
				*size = got;
				return true;
			}
			if (!have) {
				start = cur;
				have = true;
			}
			got += op->number;
			next = cur + op->number;
			cur_mem = false;
			break;
		default:
			/* registers, computed values: not in memory */
			if (!have)
				return false;
			*addr = start;
			*size = got;
			return true;
		}
	}
	if (have) {
		*addr = start;
		*size = got;
		return true;
	}
	if (!cur_mem)
		return false;
	*addr = cur;
	*size = vsize;
	return true;
}

/* A single location written as DW_FORM_block1, which libdw refuses in
 * DWARF 4+ units: decoded here for the forms Go writes. */
static size_t block_ops(Dwarf_Attribute *a, Dwarf_Op *ops, size_t max)
{
	Dwarf_Block b;
	if (dwarf_formblock(a, &b))
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < b.length && n < max;) {
		Dwarf_Op op = {0};
		op.atom = b.data[i++];
		if (op.atom == DW_OP_fbreg || op.atom == DW_OP_consts) {
			int64_t v = 0;
			unsigned sh = 0;
			uint8_t c = 0x80;
			while (i < b.length && (c & 0x80) && sh < 64) {
				c = b.data[i++];
				v |= (int64_t)(c & 0x7f) << sh;
				sh += 7;
			}
			if (sh < 64 && (c & 0x40))
				v |= -((int64_t)1 << sh);
			op.number = (Dwarf_Word)v;
		} else if (op.atom == DW_OP_piece || op.atom == DW_OP_constu ||
			   op.atom == DW_OP_plus_uconst) {
			uint64_t v = 0;
			unsigned sh = 0;
			uint8_t c = 0x80;
			while (i < b.length && (c & 0x80) && sh < 64) {
				c = b.data[i++];
				v |= (uint64_t)(c & 0x7f) << sh;
				sh += 7;
			}
			op.number = v;
		} else if (op.atom != DW_OP_call_frame_cfa && op.atom != DW_OP_plus) {
			ops[n++] = op; /* anything else ends eval_loc's memory run */
			break;
		}
		ops[n++] = op;
	}
	return n;
}

size_t ga_dwarf_frame_vars(struct ga_dwarf *d, uint64_t pc, uint64_t cfa,
			   bool (*fn)(void *ctx, const struct ga_frame_var *v), void *ctx)
{
	uint64_t fdie = ga_dwarf_func_at(d, pc);
	Dwarf_Die stack[MAX_SCOPE_DEPTH];
	int depth = 0;
	size_t given = 0;
	if (!fdie || !dwarf_offdie(d->dw, fdie, &stack[0]) || dwarf_child(&stack[0], &stack[0]))
		return 0;
	depth = 1;
	while (depth > 0) {
		Dwarf_Die *die = &stack[depth - 1];
		int tag = dwarf_tag(die);
		bool descend = false;
		if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) {
			Dwarf_Attribute a, ta, na;
			Dwarf_Op *ops = NULL, local[16];
			size_t nops = 0;
			Dwarf_Die tdie;
			if (dwarf_attr(die, DW_AT_location, &a) &&
			    dwarf_getlocation_addr(&a, pc, &ops, &nops, 1) != 1) {
				nops = dwarf_whatform(&a) == DW_FORM_block1 ? block_ops(&a, local, 16) : 0;
				ops = local;
			}
			if (nops && dwarf_attr_integrate(die, DW_AT_type, &ta) &&
			    dwarf_formref_die(&ta, &tdie)) {
				struct ga_frame_var v = {0};
				v.name = dwarf_attr_integrate(die, DW_AT_name, &na) ? dwarf_formstring(&na) : NULL;
				v.type = ga_dwarf_type_by_die(d, dwarf_dieoffset(&tdie));
				v.param = tag == DW_TAG_formal_parameter;
				const struct ga_type *t = ga_dwarf_type(d, v.type);
				if (t && eval_loc(ops, nops, cfa, t->size, &v.addr, &v.size)) {
					given++;
					if (!fn(ctx, &v))
						return given;
				}
			}
		} else if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
			   depth < MAX_SCOPE_DEPTH) {
			descend = dwarf_haspc(die, pc) == 1;
		}
		if (descend && dwarf_child(die, &stack[depth]) == 0) {
			depth++;
			continue;
		}
		/* next sibling, climbing out of finished scopes */
		while (depth > 0 && dwarf_siblingof(&stack[depth - 1], &stack[depth - 1]) != 0)
			depth--;
	}
	return given;
}

size_t ga_dwarf_closure_vars(struct ga_dwarf *d, uint64_t pc,
			     bool (*fn)(void *ctx, const struct ga_frame_var *v), void *ctx)
{
	uint64_t fdie = ga_dwarf_func_at(d, pc);
	Dwarf_Die die;
	size_t given = 0;
	if (!fdie || !dwarf_offdie(d->dw, fdie, &die) || dwarf_child(&die, &die))
		return 0;
	do {
		int tag = dwarf_tag(&die);
		Dwarf_Attribute a, ta, na;
		Dwarf_Word off;
		Dwarf_Die tdie;
		if ((tag != DW_TAG_variable && tag != DW_TAG_formal_parameter) ||
		    !dwarf_attr(&die, DW_AT_go_closure_offset, &a) || dwarf_formudata(&a, &off) ||
		    !dwarf_attr_integrate(&die, DW_AT_type, &ta) || !dwarf_formref_die(&ta, &tdie))
			continue;
		struct ga_frame_var v = {0};
		v.name = dwarf_attr_integrate(&die, DW_AT_name, &na) ? dwarf_formstring(&na) : NULL;
		v.type = ga_dwarf_type_by_die(d, dwarf_dieoffset(&tdie));
		v.addr = off;
		const struct ga_type *t = ga_dwarf_type(d, v.type);
		v.size = t ? t->size : 0;
		given++;
		if (!fn(ctx, &v))
			break;
	} while (dwarf_siblingof(&die, &die) == 0);
	return given;
}

ga_type_id ga_dwarf_param_type(struct ga_dwarf *d, uint64_t pc, unsigned index)
{
	uint64_t fdie = ga_dwarf_func_at(d, pc);
	Dwarf_Die die;
	if (!fdie || !dwarf_offdie(d->dw, fdie, &die) || dwarf_child(&die, &die))
		return 0;
	unsigned i = 0;
	do {
		Dwarf_Attribute a, ta;
		bool out = false;
		Dwarf_Die tdie;
		if (dwarf_tag(&die) != DW_TAG_formal_parameter)
			continue;
		/* results are formal parameters too, marked variable_parameter */
		if (dwarf_attr(&die, DW_AT_variable_parameter, &a) && !dwarf_formflag(&a, &out) && out)
			continue;
		if (i++ != index)
			continue;
		if (!dwarf_attr_integrate(&die, DW_AT_type, &ta) || !dwarf_formref_die(&ta, &tdie))
			return 0;
		return ga_dwarf_type_by_die(d, dwarf_dieoffset(&tdie));
	} while (dwarf_siblingof(&die, &die) == 0);
	return 0;
}
