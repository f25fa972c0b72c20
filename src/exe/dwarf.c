#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "exe/dwarf.h"

/* Go's own DWARF attributes (cmd/internal/dwarf). */
#define DW_AT_go_kind 0x2900
#define DW_AT_go_key 0x2901
#define DW_AT_go_elem 0x2902
#define DW_AT_go_embedded_field 0x2903
#define DW_AT_go_runtime_type 0x2904

#define MAX_TYPE_DEPTH 96

static bool attr_udata(Dwarf_Die *die, unsigned name, uint64_t *v)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &w))
		return false;
	*v = w;
	return true;
}

static bool attr_ref(Dwarf_Die *die, unsigned name, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	return dwarf_attr(die, name, &a) && dwarf_formref_die(&a, out);
}

static bool attr_addr(Dwarf_Die *die, unsigned name, uint64_t *v)
{
	Dwarf_Attribute a;
	if (!dwarf_attr(die, name, &a))
		return false;
	Dwarf_Addr addr;
	if (!dwarf_formaddr(&a, &addr)) {
		*v = addr;
		return true;
	}
	Dwarf_Word w;
	if (!dwarf_formudata(&a, &w)) {
		*v = w;
		return true;
	}
	return false;
}

/* A location that is a single DW_OP_addr. Go writes it as DW_FORM_block1,
 * which libdw's dwarf_getlocation refuses in DWARF 4+ units. */
static bool location_addr(Dwarf_Attribute *a, uint64_t *addr)
{
	Dwarf_Block b;
	if (!dwarf_formblock(a, &b) && b.length == 9 && b.data[0] == DW_OP_addr) {
		uint64_t v;
		memcpy(&v, b.data + 1, 8);
		*addr = v;
		return true;
	}
	Dwarf_Op *ops;
	size_t nops;
	if (!dwarf_getlocation(a, &ops, &nops) && nops >= 1 && ops[0].atom == DW_OP_addr) {
		*addr = ops[0].number;
		return true;
	}
	return false;
}

static bool is_type_tag(int tag)
{
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_pointer_type:
	case DW_TAG_structure_type:
	case DW_TAG_array_type:
	case DW_TAG_typedef:
	case DW_TAG_subroutine_type:
	case DW_TAG_unspecified_type:
		return true;
	default:
		return false;
	}
}

static int func_cmp(const void *a, const void *b)
{
	const struct ga_func_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct ga_error *index_die(struct ga_dwarf *d, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name = dwarf_diename(die);
	uint64_t off = dwarf_dieoffset(die);
	if (is_type_tag(tag)) {
		if (name && ga_strmap_put_first(&d->type_names, name, off))
			return &ga_error_nomem;
		uint64_t rt;
		if (attr_addr(die, DW_AT_go_runtime_type, &rt) && rt &&
		    !ga_hash_get(&d->rtype_dies, rt, NULL) && ga_hash_put(&d->rtype_dies, rt, off))
			return &ga_error_nomem;
		return NULL;
	}
	switch (tag) {
	case DW_TAG_variable: {
		Dwarf_Attribute a;
		uint64_t addr;
		if (!name || !dwarf_attr(die, DW_AT_location, &a) || !location_addr(&a, &addr))
			return NULL;
		Dwarf_Die t;
		struct ga_global g = {name, addr, attr_ref(die, DW_AT_type, &t) ? dwarf_dieoffset(&t) : 0};
		if (ga_strmap_put_first(&d->global_names, name, d->globals.len) ||
		    ga_vec_push(&d->globals, g))
			return &ga_error_nomem;
		return NULL;
	}
	case DW_TAG_constant: {
		Dwarf_Attribute a;
		if (!name || !dwarf_attr(die, DW_AT_const_value, &a))
			return NULL;
		Dwarf_Sword s;
		Dwarf_Word u;
		uint64_t v;
		if (dwarf_whatform(&a) == DW_FORM_udata && !dwarf_formudata(&a, &u))
			v = u;
		else if (!dwarf_formsdata(&a, &s))
			v = (uint64_t)s;
		else if (!dwarf_formudata(&a, &u))
			v = u;
		else
			return NULL;
		if (ga_strmap_put_first(&d->const_names, name, v))
			return &ga_error_nomem;
		return NULL;
	}
	case DW_TAG_subprogram: {
		Dwarf_Addr lo, hi;
		if (dwarf_lowpc(die, &lo) || dwarf_highpc(die, &hi) || hi <= lo)
			return NULL;
		struct ga_func_range f = {lo, hi, off};
		if (ga_vec_push(&d->funcs, f))
			return &ga_error_nomem;
		return NULL;
	}
	default:
		return NULL;
	}
}

static struct ga_error *build_index(struct ga_dwarf *d)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(d->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				struct ga_error *err = index_die(d, &child);
				if (err)
					return err;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	ga_sort(d->funcs.v, d->funcs.len, sizeof(d->funcs.v[0]), func_cmp);
	return NULL;
}

struct ga_error *ga_dwarf_open(struct ga_exe *exe, struct ga_dwarf **out)
{
	if (!ga_exe_has_dwarf(exe))
		return ga_error_create(GA_ERR_NO_DWARF,
				       "executable %s has no DWARF debug info (built with -ldflags=-w or stripped?): give the unstripped binary with --exe",
				       exe->path);
	struct ga_dwarf *d = calloc(1, sizeof(*d));
	if (!d)
		return &ga_error_nomem;
	d->exe = exe;
	ga_strmap_init(&d->type_names);
	ga_strmap_init(&d->const_names);
	ga_strmap_init(&d->global_names);
	ga_hash_init(&d->rtype_dies);
	ga_hash_init(&d->die_types);
	struct ga_type zero = {0};
	if (ga_vec_push(&d->types, zero)) {
		ga_dwarf_close(d);
		return &ga_error_nomem;
	}
	d->dw = dwarf_begin_elf(exe->elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		struct ga_error *err = ga_error_create(GA_ERR_NO_DWARF,
						       "executable %s: cannot read DWARF: %s (give the unstripped binary with --exe)",
						       exe->path, dwarf_errmsg(-1));
		ga_dwarf_close(d);
		return err;
	}
	struct ga_error *err = build_index(d);
	if (err) {
		ga_dwarf_close(d);
		return ga_error_context(err, "indexing DWARF of %s", exe->path);
	}
	if (!d->globals.len && !d->type_names.len) {
		ga_dwarf_close(d);
		return ga_error_create(GA_ERR_NO_DWARF, "executable %s: DWARF holds no types or variables",
				       exe->path);
	}
	*out = d;
	return NULL;
}

void ga_dwarf_close(struct ga_dwarf *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	ga_strmap_free(&d->type_names);
	ga_strmap_free(&d->const_names);
	ga_strmap_free(&d->global_names);
	ga_hash_free(&d->rtype_dies);
	ga_vec_free(&d->typedef_fix);
	ga_hash_free(&d->die_types);
	ga_vec_free(&d->globals);
	ga_vec_free(&d->funcs);
	ga_vec_free(&d->types);
	ga_vec_free(&d->fields);
	ga_error_destroy(d->build_err);
	free(d);
}

static ga_type_id build_type(struct ga_dwarf *d, Dwarf_Die *die, int depth);

static ga_type_id build_ref(struct ga_dwarf *d, Dwarf_Die *die, unsigned attr, int depth)
{
	Dwarf_Die t;
	if (!attr_ref(die, attr, &t))
		return 0;
	return build_type(d, &t, depth + 1);
}

static enum ga_kind base_kind(Dwarf_Die *die, uint64_t size)
{
	uint64_t enc = 0;
	attr_udata(die, DW_AT_encoding, &enc);
	switch (enc) {
	case DW_ATE_boolean:
		return GA_K_BOOL;
	case DW_ATE_float:
		return size == 4 ? GA_K_FLOAT32 : GA_K_FLOAT64;
	case DW_ATE_complex_float:
		return size == 8 ? GA_K_COMPLEX64 : GA_K_COMPLEX128;
	case DW_ATE_signed:
		return size == 1 ? GA_K_INT8 : size == 2 ? GA_K_INT16 : size == 4 ? GA_K_INT32 : GA_K_INT64;
	default:
		return size == 1 ? GA_K_UINT8 : size == 2 ? GA_K_UINT16 : size == 4 ? GA_K_UINT32 : GA_K_UINT64;
	}
}

/* Copies what a typedef inherits from its target. */
static void inherit(struct ga_type *t, const struct ga_type *u)
{
	t->size = u->size;
	t->count = u->count;
	t->elem = u->elem;
	t->key = u->key;
	t->aux = u->aux;
	t->first_field = u->first_field;
	t->nfields = u->nfields;
	t->kind = u->kind;
	t->eface = u->eface;
}

/* A typedef takes its target's shape; maps, channels, interfaces and
 * funcs keep what DW_AT_go_kind says. */
static void finish_typedef(struct ga_dwarf *d, const struct ga_typedef_fix *fx)
{
	struct ga_type *t = &d->types.v[fx->id];
	if (fx->target)
		inherit(t, &d->types.v[fx->target]);
	if (fx->gokind == GA_K_MAP || fx->gokind == GA_K_CHAN) {
		t->kind = fx->gokind;
		t->size = 8;
		t->elem = fx->elem;
		t->key = fx->key;
		t->first_field = t->nfields = 0;
		/* the target points to the hash, map or hchan struct */
		t->aux = fx->target ? d->types.v[fx->target].elem : 0;
	} else if (fx->gokind == GA_K_INTERFACE) {
		t->kind = GA_K_INTERFACE;
		const struct ga_field *f0 = t->nfields ? &d->fields.v[t->first_field] : NULL;
		t->eface = f0 && !strcmp(f0->name, "_type");
	} else if (fx->gokind == GA_K_FUNC) {
		t->kind = GA_K_FUNC;
		t->size = 8;
		t->elem = 0;
	}
}

static struct ga_error *build_fields(struct ga_dwarf *d, ga_type_id id, Dwarf_Die *die, int depth)
{
	GA_VEC(struct ga_field) tmp = {0};
	Dwarf_Die c;
	if (dwarf_child(die, &c) == 0) {
		do {
			if (dwarf_tag(&c) != DW_TAG_member)
				continue;
			struct ga_field f = {0};
			f.name = dwarf_diename(&c);
			if (!f.name)
				f.name = "";
			attr_udata(&c, DW_AT_data_member_location, &f.offset);
			uint64_t emb = 0;
			f.embedded = attr_udata(&c, DW_AT_go_embedded_field, &emb) && emb;
			f.type = build_ref(d, &c, DW_AT_type, depth);
			if (ga_vec_push(&tmp, f)) {
				ga_vec_free(&tmp);
				return &ga_error_nomem;
			}
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	if (ga_vec_reserve(&d->fields, tmp.len)) {
		ga_vec_free(&tmp);
		return &ga_error_nomem;
	}
	struct ga_type *t = &d->types.v[id];
	t->first_field = (uint32_t)d->fields.len;
	t->nfields = (uint32_t)tmp.len;
	if (tmp.len) /* struct{} has no members: tmp.v is NULL */
		memcpy(d->fields.v + d->fields.len, tmp.v, tmp.len * sizeof(*tmp.v));
	d->fields.len += tmp.len;
	ga_vec_free(&tmp);
	return NULL;
}

static ga_type_id build_type(struct ga_dwarf *d, Dwarf_Die *die, int depth)
{
	uint64_t off = dwarf_dieoffset(die);
	uint64_t idv;
	if (ga_hash_get(&d->die_types, off + 1, &idv))
		return (ga_type_id)idv;
	if (depth > MAX_TYPE_DEPTH) {
		if (!d->build_err)
			d->build_err = ga_error_create(GA_ERR_CORRUPT, "DWARF type at 0x%llx nests too deep",
						       (unsigned long long)off);
		return 0;
	}
	struct ga_type nt = {0};
	nt.die = off;
	nt.name = dwarf_diename(die);
	nt.has_ptrs = -1;
	attr_udata(die, DW_AT_byte_size, &nt.size);
	attr_addr(die, DW_AT_go_runtime_type, &nt.rtype);
	uint64_t gokind = 0;
	attr_udata(die, DW_AT_go_kind, &gokind);
	if (d->types.len >= UINT32_MAX || ga_vec_push(&d->types, nt)) {
		if (!d->build_err)
			d->build_err = &ga_error_nomem;
		return 0;
	}
	ga_type_id id = (ga_type_id)(d->types.len - 1);
	if (ga_hash_put(&d->die_types, off + 1, id)) {
		if (!d->build_err)
			d->build_err = &ga_error_nomem;
		return 0;
	}
	/* d->types may move during recursion: index, never hold pointers. */
#define T (d->types.v[id])
	struct ga_error *err = NULL;
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
		T.kind = gokind ? (uint8_t)gokind : base_kind(die, T.size);
		if (T.kind == GA_K_INT && T.size != 8)
			T.kind = base_kind(die, T.size);
		break;
	case DW_TAG_pointer_type: {
		ga_type_id e = build_ref(d, die, DW_AT_type, depth);
		T.size = 8;
		T.elem = e;
		T.kind = (T.name && !strcmp(T.name, "unsafe.Pointer")) || !e ? GA_K_UNSAFEPTR : GA_K_PTR;
		if (gokind == GA_K_UNSAFEPTR)
			T.kind = GA_K_UNSAFEPTR;
		break;
	}
	case DW_TAG_structure_type:
		T.kind = gokind == GA_K_SLICE || gokind == GA_K_STRING ? (uint8_t)gokind : GA_K_STRUCT;
		err = build_fields(d, id, die, depth);
		if (!err && T.kind == GA_K_SLICE) {
			ga_type_id e = build_ref(d, die, DW_AT_go_elem, depth);
			T.elem = e;
		}
		break;
	case DW_TAG_array_type: {
		ga_type_id e = build_ref(d, die, DW_AT_type, depth);
		T.kind = GA_K_ARRAY;
		T.elem = e;
		Dwarf_Die c;
		if (dwarf_child(die, &c) == 0) {
			do {
				if (dwarf_tag(&c) != DW_TAG_subrange_type)
					continue;
				uint64_t n;
				if (attr_udata(&c, DW_AT_count, &n))
					T.count = n;
				else if (attr_udata(&c, DW_AT_upper_bound, &n))
					T.count = n + 1;
				break;
			} while (dwarf_siblingof(&c, &c) == 0);
		}
		const struct ga_type *et = ga_dwarf_type(d, e);
		if (!T.size && et && T.count && et->size <= UINT64_MAX / T.count)
			T.size = et->size * T.count;
		break;
	}
	case DW_TAG_typedef: {
		struct ga_typedef_fix fx = {.id = id, .gokind = (uint8_t)gokind};
		fx.target = build_ref(d, die, DW_AT_type, depth);
		if (gokind == GA_K_MAP || gokind == GA_K_CHAN)
			fx.elem = build_ref(d, die, DW_AT_go_elem, depth);
		if (gokind == GA_K_MAP)
			fx.key = build_ref(d, die, DW_AT_go_key, depth);
		finish_typedef(d, &fx);
		if (ga_vec_push(&d->typedef_fix, fx) && !d->build_err)
			d->build_err = &ga_error_nomem;
		break;
	}
	case DW_TAG_subroutine_type:
		T.kind = GA_K_FUNC;
		break;
	default:
		T.kind = GA_K_INVALID;
		break;
	}
#undef T
	if (depth == 0) {
		/* innermost typedefs were pushed first */
		for (size_t i = 0; i < d->typedef_fix.len; i++)
			finish_typedef(d, &d->typedef_fix.v[i]);
		d->typedef_fix.len = 0;
	}
	if (err && !d->build_err)
		d->build_err = err;
	else if (err)
		ga_error_destroy(err);
	return id;
}

ga_type_id ga_dwarf_type_by_die(struct ga_dwarf *d, uint64_t die)
{
	uint64_t idv;
	if (ga_hash_get(&d->die_types, die + 1, &idv))
		return (ga_type_id)idv;
	Dwarf_Die dd;
	if (!dwarf_offdie(d->dw, die, &dd))
		return 0;
	return build_type(d, &dd, 0);
}

ga_type_id ga_dwarf_type_by_name(struct ga_dwarf *d, const char *name)
{
	uint64_t die;
	if (!ga_strmap_get(&d->type_names, name, &die))
		return 0;
	return ga_dwarf_type_by_die(d, die);
}

ga_type_id ga_dwarf_type_by_rtype(struct ga_dwarf *d, uint64_t rtype)
{
	uint64_t die;
	if (!rtype || !ga_hash_get(&d->rtype_dies, rtype, &die))
		return 0;
	return ga_dwarf_type_by_die(d, die);
}

const struct ga_field *ga_dwarf_field(const struct ga_dwarf *d, ga_type_id id, const char *name)
{
	const struct ga_type *t = ga_dwarf_type(d, id);
	if (!t)
		return NULL;
	for (uint32_t i = 0; i < t->nfields; i++)
		if (!strcmp(d->fields.v[t->first_field + i].name, name))
			return &d->fields.v[t->first_field + i];
	return NULL;
}

bool ga_dwarf_const(struct ga_dwarf *d, const char *name, int64_t *val)
{
	uint64_t v;
	if (!ga_strmap_get(&d->const_names, name, &v))
		return false;
	*val = (int64_t)v;
	return true;
}

const struct ga_global *ga_dwarf_global(struct ga_dwarf *d, const char *name)
{
	uint64_t i;
	if (!ga_strmap_get(&d->global_names, name, &i))
		return NULL;
	return &d->globals.v[i];
}

uint64_t ga_dwarf_func_at(const struct ga_dwarf *d, uint64_t pc)
{
	size_t lo = 0, hi = d->funcs.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->funcs.v[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && pc < d->funcs.v[lo - 1].hi)
		return d->funcs.v[lo - 1].die;
	return 0;
}

static bool has_ptrs_rec(struct ga_dwarf *d, ga_type_id id, int depth)
{
	const struct ga_type *t = ga_dwarf_type(d, id);
	if (!t || depth > MAX_TYPE_DEPTH)
		return false;
	if (t->has_ptrs >= 0)
		return t->has_ptrs;
	bool r = false;
	switch (t->kind) {
	case GA_K_PTR: case GA_K_UNSAFEPTR: case GA_K_STRING: case GA_K_SLICE:
	case GA_K_INTERFACE: case GA_K_MAP: case GA_K_CHAN: case GA_K_FUNC:
		r = true;
		break;
	case GA_K_ARRAY:
		r = t->count && has_ptrs_rec(d, t->elem, depth + 1);
		break;
	case GA_K_STRUCT: {
		uint32_t first = t->first_field, n = t->nfields;
		for (uint32_t i = 0; i < n && !r; i++)
			r = has_ptrs_rec(d, d->fields.v[first + i].type, depth + 1);
		break;
	}
	default:
		break;
	}
	d->types.v[id].has_ptrs = r;
	return r;
}

bool ga_type_has_pointers(struct ga_dwarf *d, ga_type_id id)
{
	return has_ptrs_rec(d, id, 0);
}

const char *ga_dwarf_die_name(struct ga_dwarf *d, uint64_t die)
{
	Dwarf_Die dd;
	if (!die || !dwarf_offdie(d->dw, die, &dd))
		return NULL;
	return dwarf_diename(&dd);
}
