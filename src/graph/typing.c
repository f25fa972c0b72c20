#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exe/dwvars.h"
#include "graph/typing.h"
#include "rt/map.h"

/* A type is replaced at most this many times (by stronger or bigger
 * evidence); bounds the rescans. */
#define MAX_UPGRADES 6
/* Frame variables read per frame, at most. */
#define MAX_FRAME_VARS 4096

static const char *const how_names[TYPING_HOW_COUNT] = {
	[TYPING_NONE] = "untyped",
	[TYPING_HEADER] = "malloc header",
	[TYPING_LARGETYPE] = "largeType",
	[TYPING_FINALIZER] = "finalizer",
	[TYPING_POINTER] = "pointer",
	[TYPING_SLICE] = "slice",
	[TYPING_STRING] = "string",
	[TYPING_IFACE] = "interface",
	[TYPING_MAP] = "map",
	[TYPING_MAP_ENTRY] = "map entry",
	[TYPING_CHAN] = "channel",
	[TYPING_CLOSURE] = "closure",
	[TYPING_CLEANUP] = "cleanup argument",
};

const char *typing_how_name(uint8_t how)
{
	return how < TYPING_HOW_COUNT ? how_names[how] : "?";
}

/* count values of type at addr, still to scan */
struct item {
	uint64_t addr;
	uint64_t count;
	ga_type_id type;
};

/* Who holds the values being scanned. */
struct holder {
	uint8_t kind;      /* enum typing_holder */
	uint8_t strength;  /* the most a reference found here can prove */
	uint32_t id;
};

struct typer {
	struct graph_typing *t;
	struct ga_graph *g;
	struct rt_heap *h;
	struct ga_rt *rt;
	struct ga_dwarf *dw;
	GA_VEC(struct item) stack;     /* values to scan */
	GA_VEC(uint32_t) queue;        /* objects to scan */
	size_t qhead;
	uint64_t *queued;              /* bit per object */
	struct ga_hash maps_seen;      /* map header + 1 */
	struct ga_hash chans_seen;
	GA_VEC(struct rt_map_layout) layouts;
	struct ga_hash layout_idx;     /* map type -> index + 1 in layouts, or 0 when it failed */
	ga_type_id uint8_type, funcval_type;
	uint64_t header_size;          /* malloc header bytes */
	uint64_t types_base;           /* moduledata.types of the first module */
	ga_type_id mi_type;            /* the last type map_internal was asked about */
	bool mi;
	struct ga_error *err;
};

static const struct ga_type *ty(const struct typer *x, ga_type_id id)
{
	return ga_dwarf_type(x->dw, id);
}

static bool has_ptrs(struct typer *x, ga_type_id id)
{
	return ga_type_has_pointers(x->dw, id);
}

/* The slot holding addr: object id, slot base and size. */
static rt_obj_id slot_of(const struct typer *x, uint64_t addr, uint64_t *base, uint64_t *size)
{
	rt_obj_id id = rt_heap_find(x->h, addr);
	if (id == RT_NO_OBJ)
		return id;
	const struct rt_hspan *s = rt_heap_span_at(x->h, addr);
	*base = s->base + (addr - s->base) / s->elemsize * s->elemsize;
	*size = s->elemsize;
	return id;
}

static void enqueue(struct typer *x, rt_obj_id id)
{
	if (x->queued[id / 64] >> (id % 64) & 1)
		return;
	x->queued[id / 64] |= 1ull << (id % 64);
	if (ga_vec_push(&x->queue, id))
		x->err = &ga_error_nomem;
}

/* internal/sync.HashTrieMap (Go 1.24+, behind sync.Map and unique) points
 * to its nodes as *node[K,V]{isEntry bool}, the first field of either an
 * entry[K,V] or an indirect[K,V]: isEntry says which. The concrete type,
 * or type itself for anything else. */
static ga_type_id trie_node(struct typer *x, uint64_t p, ga_type_id type)
{
	static const char prefix[] = "internal/sync.node[";
	const struct ga_type *t = ty(x, type);
	if (!t || !t->name || strncmp(t->name, prefix, sizeof(prefix) - 1) || t->size != 1)
		return type;
	uint8_t is_entry;
	char name[512];
	if (!ga_mem_try_read(x->rt->mem, p, &is_entry, 1) || is_entry > 1 ||
	    (size_t)snprintf(name, sizeof(name), "internal/sync.%s[%s", is_entry ? "entry" : "indirect",
			     t->name + sizeof(prefix) - 1) >= sizeof(name))
		return type;
	ga_type_id c = ga_dwarf_type_by_name(x->dw, name);
	return c ? c : type;
}

/* Evidence that the values at p have type `type` (the element type when
 * array says the reference covers an array). */
static void evidence(struct typer *x, const struct holder *hd, uint64_t p, ga_type_id type,
		     uint8_t how, uint8_t edge, ga_type_id via)
{
	if (how == TYPING_POINTER)
		type = trie_node(x, p, type);
	const struct ga_type *tt = ty(x, type);
	uint64_t base, size;
	if (!p || !tt || !tt->size || x->err)
		return;
	rt_obj_id id = slot_of(x, p, &base, &size);
	if (id == RT_NO_OBJ)
		return;
	const struct rt_hspan *s = rt_heap_span_at(x->h, p);
	if (s->flags & RT_HSPAN_TINY)
		return; /* a tiny block packs several allocations: no one type */
	struct graph_typing *t = x->t;
	if (t->strength[id] == TYPING_S_RUNTIME)
		return;
	uint64_t d = p - base;
	if (d && edge == TYPING_S_EXACT)
		edge = how == TYPING_SLICE || how == TYPING_STRING ? TYPING_S_SUBSLICE : TYPING_S_INTERIOR;
	uint64_t off = d % tt->size;
	/* the values must fit the slot */
	if (off + tt->size > size || off > UINT32_MAX)
		return;
	uint8_t st = edge < hd->strength ? edge : hd->strength;
	if (st < t->strength[id])
		return;
	if (st == t->strength[id]) {
		const struct ga_type *old = ty(x, t->type[id]);
		if (t->type[id] == type || (old && old->size >= tt->size))
			return;
	}
	if (t->type[id]) {
		if (t->upgrades[id] >= MAX_UPGRADES)
			return;
		t->upgrades[id]++;
		t->st.upgrades++;
	}
	t->type[id] = type;
	t->off[id] = (uint32_t)off;
	t->strength[id] = st;
	t->how[id] = how;
	if (t->holder) {
		t->holder_kind[id] = hd->kind;
		t->holder[id] = hd->id;
		t->via[id] = via;
	}
	enqueue(x, id); /* (re)scan with the new type */
}

static void push(struct typer *x, uint64_t addr, ga_type_id type, uint64_t count)
{
	if (!count || !addr || !has_ptrs(x, type))
		return;
	struct item it = {addr, count, type};
	if (ga_vec_push(&x->stack, it))
		x->err = &ga_error_nomem;
}

/* ---- maps and channels ---- */

struct map_visit {
	struct typer *x;
	const struct holder *hd;
	const struct rt_map_layout *l;
};

static bool map_storage(void *ctx, const struct rt_map_ref *r)
{
	struct map_visit *v = ctx;
	evidence(v->x, v->hd, r->addr, r->type, TYPING_MAP, TYPING_S_EXACT, v->l->map);
	return !v->x->err;
}

static bool map_entry(void *ctx, const struct rt_map_entry *e)
{
	struct map_visit *v = ctx;
	struct typer *x = v->x;
	const struct rt_map_layout *l = v->l;
	if (l->indirect_key)
		evidence(x, v->hd, e->key, l->key, TYPING_MAP_ENTRY, TYPING_S_EXACT, l->map);
	else
		push(x, e->key, l->key, 1);
	if (l->indirect_elem)
		evidence(x, v->hd, e->elem, l->elem, TYPING_MAP_ENTRY, TYPING_S_EXACT, l->map);
	else
		push(x, e->elem, l->elem, 1);
	return !x->err;
}

static const struct rt_map_layout *map_layout(struct typer *x, ga_type_id map)
{
	uint64_t idx;
	if (ga_hash_get(&x->layout_idx, map, &idx))
		return idx ? &x->layouts.v[idx - 1] : NULL;
	struct rt_map_layout l;
	struct ga_error *err = rt_map_layout(x->rt, map, &l);
	if (err) {
		ga_error_destroy(err);
		x->t->st.map_errors++;
		if (ga_hash_put(&x->layout_idx, map, 0))
			x->err = &ga_error_nomem;
		return NULL;
	}
	if (ga_vec_push(&x->layouts, l) || ga_hash_put(&x->layout_idx, map, x->layouts.len)) {
		x->err = &ga_error_nomem;
		return NULL;
	}
	return &x->layouts.v[x->layouts.len - 1];
}

/* A map value: its header, storage and entries. */
static void visit_map(struct typer *x, const struct holder *hd, uint64_t h, ga_type_id map)
{
	if (!h || ga_hash_get(&x->maps_seen, h, NULL))
		return;
	if (ga_hash_put(&x->maps_seen, h, 1)) {
		x->err = &ga_error_nomem;
		return;
	}
	const struct rt_map_layout *l = map_layout(x, map);
	if (!l)
		return;
	x->t->st.maps++;
	evidence(x, hd, h, l->header, TYPING_MAP, TYPING_S_EXACT, map);
	struct map_visit v = {x, hd, l};
	struct rt_map_visitor vis = {map_storage, map_entry, &v};
	struct ga_error *err = rt_map_walk(x->rt, l, h, &vis, NULL);
	if (err == &ga_error_nomem)
		x->err = err;
	else if (err) {
		x->t->st.map_errors++;
		ga_error_destroy(err);
	}
}

/* A channel: hchan<T>, and its buffer as [dataqsiz]T with the queued
 * elements scanned in place (runtime/chan.go: buf + i*elemsize). */
static void visit_chan(struct typer *x, const struct holder *hd, uint64_t c, ga_type_id chan)
{
	const struct ga_type *ct = ty(x, chan);
	if (!c || !ct || ga_hash_get(&x->chans_seen, c, NULL))
		return;
	if (ga_hash_put(&x->chans_seen, c, 1)) {
		x->err = &ga_error_nomem;
		return;
	}
	x->t->st.chans++;
	evidence(x, hd, c, ct->aux, TYPING_CHAN, TYPING_S_EXACT, chan);
	const struct ga_type *et = ty(x, ct->elem);
	struct rt_field qcount = rt_field_of(x->rt, ct->aux, "qcount");
	struct rt_field dataqsiz = rt_field_of(x->rt, ct->aux, "dataqsiz");
	struct rt_field buf = rt_field_of(x->rt, ct->aux, "buf");
	struct rt_field recvx = rt_field_of(x->rt, ct->aux, "recvx");
	uint64_t n, cap, b, rx;
	if (!et || !et->size || !rt_read_field(x->rt, c, &qcount, &n) ||
	    !rt_read_field(x->rt, c, &dataqsiz, &cap) || !rt_read_field(x->rt, c, &buf, &b) ||
	    !rt_read_field(x->rt, c, &recvx, &rx) || !cap || !b || n > cap || rx >= cap ||
	    cap > UINT64_MAX / et->size)
		return;
	/* A buffer without pointers shares the hchan's allocation (makechan).
	 * The buffer must fit its slot: qcount and dataqsiz of a stale or
	 * hostile hchan bound nothing by themselves. */
	uint64_t cb, cs, bb, bs;
	rt_obj_id bid = slot_of(x, b, &bb, &bs);
	if (bid == RT_NO_OBJ || cap > (bb + bs - b) / et->size)
		return;
	if (bid != slot_of(x, c, &cb, &cs))
		evidence(x, hd, b, ct->elem, TYPING_CHAN, TYPING_S_EXACT, chan);
	if (!has_ptrs(x, ct->elem))
		return;
	for (uint64_t k = 0; k < n && !x->err; k++)
		push(x, b + (rx + k) % cap * et->size, ct->elem, 1);
}

/* ---- interfaces and closures ---- */

/* The DWARF type of the runtime type descriptor at rtype. The linker
 * writes DW_AT_go_runtime_type as an offset from the module's types
 * section (R_ADDROFF in cmd/link's dwarf.go), not as an address. */
static ga_type_id dwarf_of_rtype(const struct typer *x, uint64_t rtype)
{
	if (!rtype || rtype < x->types_base)
		return 0;
	return ga_dwarf_type_by_rtype(x->dw, rtype - x->types_base);
}

/* The runtime type an interface's first word names. */
static ga_type_id iface_dynamic(struct typer *x, const struct ga_type *it, uint64_t word)
{
	if (!word)
		return 0;
	uint64_t rtype = word;
	if (!it->eface) {
		/* iface: the word is an itab; its type field says the dynamic type */
		const struct ga_field *tab = it->nfields ? &x->dw->fields.v[it->first_field] : NULL;
		const struct ga_type *tabt = tab ? ty(x, tab->type) : NULL;
		ga_type_id itab = tabt && tabt->kind == GA_K_PTR ? tabt->elem : 0;
		struct rt_field f = rt_field_of(x->rt, itab, "_type");
		if (!f.ok)
			f = rt_field_of(x->rt, itab, "Type"); /* internal/abi.ITab, Go 1.21+ */
		if (!f.ok || !rt_read_ptr(x->rt, word + f.off, &rtype))
			return 0;
	}
	return dwarf_of_rtype(x, rtype);
}

/* Pointer-shaped types are stored in the interface's data word itself
 * (the compiler's isdirectiface): pointers, maps, chans, funcs, and
 * one-field structs / one-element arrays of them. */
static bool direct_iface(struct typer *x, ga_type_id id)
{
	const struct ga_type *t = ty(x, id);
	return t && t->size == 8 && has_ptrs(x, id);
}

/* T of a struct shaped like sync/atomic.Pointer[T]: a [0]*T field and an
 * unsafe.Pointer field v holding the pointer. 0 for other structs. */
static ga_type_id atomic_pointee(struct typer *x, const struct ga_type *t)
{
	ga_type_id elem = 0;
	bool v = false;
	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct ga_field *f = &x->dw->fields.v[t->first_field + i];
		const struct ga_type *ft = ty(x, f->type);
		if (!ft)
			continue;
		if (ft->kind == GA_K_ARRAY && !ft->count) {
			const struct ga_type *e = ty(x, ft->elem);
			if (e && e->kind == GA_K_PTR)
				elem = e->elem;
		} else if (ft->kind == GA_K_UNSAFEPTR && !strcmp(f->name, "v")) {
			v = true;
		}
	}
	return v ? elem : 0;
}

static uint64_t ap_off(struct typer *x, const struct ga_type *t)
{
	const struct ga_field *f = NULL;
	for (uint32_t i = 0; i < t->nfields && !f; i++)
		if (!strcmp(x->dw->fields.v[t->first_field + i].name, "v"))
			f = &x->dw->fields.v[t->first_field + i];
	return f ? f->offset : 0;
}

static void scan_value(struct typer *x, const struct holder *hd, uint64_t a, ga_type_id type)
{
	const struct ga_type *t = ty(x, type);
	struct ga_mem *mem = x->rt->mem;
	uint64_t w[3];
	switch (t->kind) {
	case GA_K_PTR:
		if (ga_mem_u64(mem, a, &w[0]))
			evidence(x, hd, w[0], t->elem, TYPING_POINTER, TYPING_S_EXACT, type);
		break;
	case GA_K_SLICE:
		if (ga_mem_try_read(mem, a, w, 24) && w[2] && w[1] <= w[2])
			evidence(x, hd, w[0], t->elem, TYPING_SLICE, TYPING_S_EXACT, type);
		break;
	case GA_K_STRING:
		if (ga_mem_try_read(mem, a, w, 16) && w[1])
			evidence(x, hd, w[0], x->uint8_type, TYPING_STRING, TYPING_S_EXACT, type);
		break;
	case GA_K_MAP:
		if (ga_mem_u64(mem, a, &w[0]))
			visit_map(x, hd, w[0], type);
		break;
	case GA_K_CHAN:
		if (ga_mem_u64(mem, a, &w[0]))
			visit_chan(x, hd, w[0], type);
		break;
	case GA_K_FUNC:
		if (ga_mem_u64(mem, a, &w[0]))
			evidence(x, hd, w[0], x->funcval_type, TYPING_CLOSURE, TYPING_S_EXACT, type);
		break;
	case GA_K_INTERFACE: {
		if (!ga_mem_try_read(mem, a, w, 16))
			break;
		ga_type_id dyn = iface_dynamic(x, t, w[0]);
		if (!dyn)
			break;
		if (direct_iface(x, dyn))
			push(x, a + 8, dyn, 1);
		else
			evidence(x, hd, w[1], dyn, TYPING_IFACE, TYPING_S_EXACT, type);
		break;
	}
	case GA_K_STRUCT: {
		/* sync/atomic.Pointer[T]{_ [0]*T; _ noCopy; v unsafe.Pointer}:
		 * the zero-length array names what v points to */
		ga_type_id ap = atomic_pointee(x, t);
		if (ap && ga_mem_u64(mem, a + ap_off(x, t), &w[0]))
			evidence(x, hd, w[0], ap, TYPING_POINTER, TYPING_S_EXACT, type);
		/* fields in reverse so they pop in order */
		for (uint32_t i = t->nfields; i-- > 0 && !x->err;) {
			const struct ga_field *f = &x->dw->fields.v[t->first_field + i];
			push(x, a + f->offset, f->type, 1);
		}
		break;
	}
	case GA_K_ARRAY: {
		const struct ga_type *e = ty(x, t->elem);
		if (e && e->size && t->count)
			push(x, a, t->elem, t->count);
		break;
	}
	default:
		break;
	}
}

/* Scans what push queued, with the references attributed to hd. */
static void drain(struct typer *x, const struct holder *hd)
{
	while (x->stack.len && !x->err) {
		struct item *it = &x->stack.v[x->stack.len - 1];
		uint64_t a = it->addr;
		ga_type_id type = it->type;
		const struct ga_type *t = ty(x, type);
		if (!t || !t->size || it->count <= 1) {
			x->stack.len--;
		} else {
			it->count--;
			it->addr += t->size;
		}
		if (t)
			scan_value(x, hd, a, type);
	}
	x->stack.len = 0;
}

/* Map buckets, groups, tables and headers are read through the map walk
 * (live slots only); scanning them as plain structs would follow stale
 * pointers in empty slots and mistake a small map's group for a directory. */
static bool map_internal(const struct ga_type *t)
{
	static const char *const prefixes[] = {
		"hash<", "bucket<", "map<", "table<", "groupReference<", "noalg.map.group[",
		"map.group[", "map.bucket[", "runtime.hmap", "runtime.bmap",
		"internal/runtime/maps.Map", "internal/runtime/maps.table",
	};
	if (!t || !t->name)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(t->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

struct closure_ctx {
	struct typer *x;
	uint64_t base, size;
};

static bool closure_var(void *ctx, const struct ga_frame_var *v)
{
	struct closure_ctx *c = ctx;
	if (v->addr >= 8 && v->size && v->addr + v->size <= c->size)
		push(c->x, c->base + v->addr, v->type, 1);
	return !c->x->err;
}

/* A closure: the code pointer, then the captured variables where the
 * closure function's DWARF places them. */
static void scan_closure(struct typer *x, uint64_t base, uint64_t size)
{
	uint64_t pc;
	if (!ga_mem_u64(x->rt->mem, base, &pc) || pc < x->rt->bias)
		return;
	struct closure_ctx c = {x, base, size};
	ga_dwarf_closure_vars(x->dw, pc - x->rt->bias, closure_var, &c);
}

static void scan_object(struct typer *x, rt_obj_id id)
{
	struct graph_typing *t = x->t;
	const struct ga_type *tt = ty(x, t->type[id]);
	const struct rt_hspan *sp = &x->h->spans.v[rt_heap_span_of(x->h, id)];
	uint64_t base = rt_heap_addr_in(x->h, sp, id), size = sp->elemsize;
	if (!tt || !tt->size || t->off[id] + tt->size > size)
		return;
	if (x->mi_type != t->type[id]) {
		x->mi_type = t->type[id];
		x->mi = map_internal(tt);
	}
	if (x->mi)
		return;
	struct holder hd = {TYPING_H_OBJECT,
			    t->strength[id] < TYPING_S_EXACT ? t->strength[id] : TYPING_S_EXACT, id};
	if (t->how[id] == TYPING_CLOSURE) {
		scan_closure(x, base, size);
		drain(x, &hd);
		return;
	}
	push(x, base + t->off[id], t->type[id], (size - t->off[id]) / tt->size);
	drain(x, &hd);
}

/* ---- seeds ---- */

static void seed_runtime(struct typer *x, struct rt_types *types)
{
	struct graph_typing *t = x->t;
	struct rt_heap *h = x->h;
	for (uint32_t id = 0; id < h->nobjs && !x->err; id++) {
		uint8_t by = h->obj_typed_by[id];
		if (by != RT_TYPED_HEADER && by != RT_TYPED_LARGETYPE && by != RT_TYPED_FINALIZER)
			continue;
		const struct rt_rtype *r = rt_types_get(types, h->obj_type[id]);
		ga_type_id d = r ? r->dwarf : 0;
		if (!d && r)
			d = dwarf_of_rtype(x, r->addr);
		if (!d && r) {
			/* the descriptor's name, as DWARF spells it (when
			 * DW_AT_go_runtime_type does not lead back to it) */
			const char *name = rt_types_name(types, h->obj_type[id]);
			d = name && *name ? ga_dwarf_type_by_name(x->dw, name) : 0;
		}
		t->strength[id] = TYPING_S_RUNTIME;
		t->how[id] = by == RT_TYPED_HEADER ? TYPING_HEADER
			     : by == RT_TYPED_LARGETYPE ? TYPING_LARGETYPE : TYPING_FINALIZER;
		t->off[id] = by == RT_TYPED_HEADER ? (uint32_t)x->header_size : 0;
		t->type[id] = d;
		if (d)
			enqueue(x, id);
	}
}

/* Global variables, and the frame variables the precise stack scan found
 * live (a frame root named after its DWARF variable). */
static void seed_globals(struct typer *x)
{
	for (uint32_t i = 0; i < x->g->nroots && !x->err; i++) {
		const struct graph_root *r = &x->g->roots.v[i];
		const struct ga_type *rt = ty(x, r->dwarf);
		if ((r->kind != GRAPH_ROOT_GLOBAL && r->kind != GRAPH_ROOT_FRAME) || !rt || !rt->size ||
		    rt->size > r->size || (r->flags & GRAPH_ROOT_CONSERVATIVE))
			continue;
		struct holder hd = {TYPING_H_ROOT, TYPING_S_EXACT, i};
		if (r->kind == GRAPH_ROOT_FRAME)
			x->t->st.frame_vars++;
		push(x, r->addr, r->dwarf, 1);
		drain(x, &hd);
	}
}

/* A type the runtime recorded for the object at p (a finalizer's ot). */
static void runtime_says(struct typer *x, uint64_t p, ga_type_id type, uint8_t how)
{
	struct graph_typing *t = x->t;
	uint64_t base, size;
	const struct ga_type *tt = ty(x, type);
	rt_obj_id id = p && tt && tt->size ? slot_of(x, p, &base, &size) : RT_NO_OBJ;
	if (id == RT_NO_OBJ || t->strength[id] == TYPING_S_RUNTIME || p != base || tt->size > size)
		return;
	t->type[id] = type;
	t->off[id] = 0;
	t->strength[id] = TYPING_S_RUNTIME;
	t->how[id] = how;
	if (t->holder_kind)
		t->holder_kind[id] = TYPING_H_NONE;
	enqueue(x, id);
}

/* A cleanupFn{call, fn, arg} (Go 1.26+ runtime/mcleanup.go): arg points to
 * the S that fn, a func(S), will be called with. */
static void cleanup_fn(struct typer *x, const struct holder *hd, uint64_t rec, ga_type_id cft)
{
	struct rt_field fn = rt_field_of(x->rt, cft, "fn"), arg = rt_field_of(x->rt, cft, "arg");
	uint64_t fv, a, pc;
	if (!fn.ok || !rt_read_field(x->rt, rec, &fn, &fv) || !fv)
		return;
	evidence(x, hd, fv, x->funcval_type, TYPING_CLOSURE, TYPING_S_EXACT, fn.type);
	if (!arg.ok || !rt_read_field(x->rt, rec, &arg, &a) || !a || !ga_mem_u64(x->rt->mem, fv, &pc) ||
	    pc < x->rt->bias)
		return;
	ga_type_id s = ga_dwarf_param_type(x->dw, pc - x->rt->bias, 0);
	if (s)
		evidence(x, hd, a, s, TYPING_CLEANUP, TYPING_S_EXACT, fn.type);
}

/* Finalizer and cleanup records: the functions they will call, the
 * objects queued finalizers will be called with (typed by their ot), the
 * arguments of cleanups. */
static void seed_specials(struct typer *x)
{
	struct ga_rt *rt = x->rt;
	ga_type_id sf = ga_dwarf_type_by_name(x->dw, "runtime.specialfinalizer");
	ga_type_id fin = ga_dwarf_type_by_name(x->dw, "runtime.finalizer");
	ga_type_id sc = ga_dwarf_type_by_name(x->dw, "runtime.specialCleanup");
	struct rt_field sc_cleanup = rt_field_of(rt, sc, "cleanup");
	struct rt_field sc_fn = rt_field_of(rt, sc, "fn");
	ga_type_id cfn = ga_dwarf_type_by_name(x->dw, "runtime.cleanupFn");
	for (uint32_t i = 0; i < x->g->nroots && !x->err; i++) {
		const struct graph_root *r = &x->g->roots.v[i];
		struct holder hd = {TYPING_H_ROOT, TYPING_S_EXACT, i};
		uint64_t v;
		switch (r->kind) {
		case GRAPH_ROOT_FINALIZER: {
			struct rt_field fn = rt_field_of(rt, sf, "fn");
			if (!(r->flags & GRAPH_ROOT_WEAK) && rt_read_field(rt, r->addr, &fn, &v))
				evidence(x, &hd, v, x->funcval_type, TYPING_CLOSURE, TYPING_S_EXACT, fn.type);
			break;
		}
		case GRAPH_ROOT_FINQ: {
			struct rt_field fn = rt_field_of(rt, fin, "fn"), ot = rt_field_of(rt, fin, "ot");
			uint64_t otv, elem;
			if (rt_read_field(rt, r->addr, &fn, &v))
				evidence(x, &hd, v, x->funcval_type, TYPING_CLOSURE, TYPING_S_EXACT, fn.type);
			if (rt_read_field(rt, r->addr, &ot, &otv) && otv &&
			    rt_read_field(rt, otv, &x->g->types->l.ptr_elem, &elem))
				runtime_says(x, r->obj, dwarf_of_rtype(x, elem), TYPING_FINALIZER);
			break;
		}
		case GRAPH_ROOT_CLEANUP:
			if (sc_cleanup.ok)
				cleanup_fn(x, &hd, r->addr + sc_cleanup.off, sc_cleanup.type);
			else if (rt_read_field(rt, r->addr, &sc_fn, &v)) /* Go 1.24-1.25: one closure */
				evidence(x, &hd, v, x->funcval_type, TYPING_CLOSURE, TYPING_S_EXACT, sc_fn.type);
			break;
		case GRAPH_ROOT_CLEANUPQ:
			if (cfn)
				cleanup_fn(x, &hd, r->addr, cfn);
			break;
		default:
			break;
		}
		drain(x, &hd);
	}
}

struct frame_ctx {
	struct typer *x;
	const struct typing_frame *f;
	uint64_t func_die;
};

static bool frame_var(void *ctx, const struct ga_frame_var *v)
{
	struct frame_ctx *c = ctx;
	struct typer *x = c->x;
	const struct ga_type *t = ty(x, v->type);
	/* only whole values inside the goroutine's frame */
	if (!t || !t->size || v->size < t->size || v->addr < c->f->sp || !has_ptrs(x, v->type))
		return true;
	struct typing_local l = {v->name, c->func_die, c->f->goid, v->addr, v->type};
	if (x->t->locals.len >= UINT32_MAX || ga_vec_push(&x->t->locals, l)) {
		x->err = &ga_error_nomem;
		return false;
	}
	x->t->st.frame_vars++;
	struct holder hd = {TYPING_H_LOCAL, TYPING_S_EXACT, (uint32_t)(x->t->locals.len - 1)};
	push(x, v->addr, v->type, 1);
	drain(x, &hd);
	return !x->err;
}

static void seed_frames(struct typer *x, const struct typing_frame *frames, size_t n)
{
	for (size_t i = 0; i < n && !x->err; i++) {
		const struct typing_frame *f = &frames[i];
		uint64_t pc = f->pc - x->rt->bias;
		struct frame_ctx c = {x, f, ga_dwarf_func_at(x->dw, pc)};
		if (!c.func_die)
			continue;
		x->t->st.frames++;
		ga_dwarf_frame_vars(x->dw, pc, f->cfa, frame_var, &c);
	}
}

/* ---- driver ---- */

static struct ga_error *alloc(struct graph_typing *t, uint32_t n, bool provenance)
{
	memset(t, 0, sizeof(*t));
	t->nobjs = n;
	size_t m = n ? n : 1;
	t->type = calloc(m, sizeof(*t->type));
	t->off = calloc(m, sizeof(*t->off));
	t->how = calloc(m, 1);
	t->strength = calloc(m, 1);
	t->upgrades = calloc(m, 1);
	/* who typed each object: only to say so (9 bytes an object) */
	if (provenance) {
		t->holder = calloc(m, sizeof(*t->holder));
		t->via = calloc(m, sizeof(*t->via));
		t->holder_kind = calloc(m, 1);
	}
	if (!t->type || !t->off || !t->how || !t->strength || !t->upgrades ||
	    (provenance && (!t->holder || !t->via || !t->holder_kind))) {
		graph_typing_free(t);
		return &ga_error_nomem;
	}
	return NULL;
}

/* Writes DWARF-found types into the heap's per-object hook and counts. */
static struct ga_error *write_back(struct typer *x, struct rt_types *types)
{
	struct graph_typing *t = x->t;
	struct rt_heap *h = x->h;
	struct ga_graph *g = x->g;
	struct ga_error *err = NULL;
	for (size_t si = 0; si < h->spans.len; si++) {
		const struct rt_hspan *s = &h->spans.v[si];
		for (uint32_t k = 0; k < s->nobjs; k++) {
			rt_obj_id id = s->first_id + k;
			bool live = graph_marked(g, graph_obj_node(g, id));
			if (t->type[id] && t->strength[id] < TYPING_S_RUNTIME) {
				rt_type_idx ti = rt_types_intern_dwarf(types, t->type[id], &err);
				if (err)
					return err;
				if (ti) {
					h->obj_type[id] = ti;
					h->obj_typed_by[id] = t->how[id] == TYPING_IFACE ? RT_TYPED_ITAB
											 : RT_TYPED_DWARF;
				}
			}
			if (!live)
				continue;
			t->st.live_objects++;
			t->st.live_bytes += s->elemsize;
			if (s->flags & RT_HSPAN_TINY)
				t->st.tiny_bytes += s->elemsize;
			if (t->type[id] || (t->strength[id] == TYPING_S_RUNTIME && h->obj_type[id])) {
				t->st.typed_objects++;
				t->st.typed_bytes += s->elemsize;
				t->st.by_how[t->how[id]] += s->elemsize;
			}
		}
	}
	return NULL;
}

struct ga_error *graph_typing_run(struct graph_typing *t, struct ga_graph *g, struct ga_rt *rt,
				  const struct typing_frame *frames, size_t nframes, bool provenance)
{
	struct ga_error *err = alloc(t, g->heap->nobjs, provenance);
	if (err)
		return err;
	struct typer x = {.t = t, .g = g, .h = g->heap, .rt = rt, .dw = rt->dw};
	ga_hash_init(&x.maps_seen);
	ga_hash_init(&x.chans_seen);
	ga_hash_init(&x.layout_idx);
	x.queued = calloc((t->nobjs + 63) / 64 + 1, 8);
	if (!x.queued) {
		graph_typing_free(t);
		return &ga_error_nomem;
	}
	x.uint8_type = ga_dwarf_type_by_name(rt->dw, "uint8");
	x.funcval_type = ga_dwarf_type_by_name(rt->dw, "runtime.funcval");
	int64_t v;
	x.header_size = rt_const(rt, "runtime.mallocHeaderSize", &v) && v > 0 ? (uint64_t)v : 8;
	x.types_base = g->types->modules.len ? g->types->modules.v[0].types : 0;

	seed_runtime(&x, g->types);
	seed_specials(&x);
	seed_globals(&x);
	seed_frames(&x, frames, nframes);
	while (x.qhead < x.queue.len && !x.err) {
		rt_obj_id id = x.queue.v[x.qhead++];
		x.queued[id / 64] &= ~(1ull << (id % 64));
		scan_object(&x, id);
	}
	err = x.err;
	if (!err)
		err = write_back(&x, g->types);
	ga_vec_free(&x.stack);
	ga_vec_free(&x.queue);
	ga_vec_free(&x.layouts);
	ga_hash_free(&x.maps_seen);
	ga_hash_free(&x.chans_seen);
	ga_hash_free(&x.layout_idx);
	free(x.queued);
	if (err)
		graph_typing_free(t);
	return err;
}

void graph_typing_drop_objects(struct graph_typing *t)
{
	struct typing_stats st = t->st;
	graph_typing_free(t);
	t->st = st;
}

void graph_typing_free(struct graph_typing *t)
{
	free(t->type);
	free(t->off);
	free(t->holder);
	free(t->via);
	free(t->how);
	free(t->strength);
	free(t->holder_kind);
	free(t->upgrades);
	ga_vec_free(&t->locals);
	memset(t, 0, sizeof(*t));
}

void graph_typing_provenance(const struct graph_typing *t, const struct ga_graph *g,
			     struct ga_rt *rt, rt_obj_id id, char *buf, size_t n)
{
	if (!n)
		return;
	buf[0] = 0;
	if (id >= t->nobjs)
		return;
	uint8_t how = t->how[id];
	if (t->strength[id] == TYPING_S_RUNTIME || how == TYPING_NONE) {
		snprintf(buf, n, "%s", typing_how_name(how));
		return;
	}
	if (!t->holder) {
		snprintf(buf, n, "%s", typing_how_name(how));
		return;
	}
	const struct ga_type *via = ga_dwarf_type(rt->dw, t->via[id]);
	const char *vn = via && via->name ? via->name : "?";
	const char *what = t->strength[id] == TYPING_S_INTERIOR ? " (into its middle)"
			   : t->strength[id] == TYPING_S_SUBSLICE ? " (into its middle)" : "";
	uint32_t hid = t->holder[id];
	switch (t->holder_kind[id]) {
	case TYPING_H_ROOT:
		snprintf(buf, n, "%s %s%s in %s", typing_how_name(how), vn, what,
			 hid < g->nroots ? graph_root_name(g, hid) : "?");
		break;
	case TYPING_H_LOCAL: {
		const struct typing_local *l = hid < t->locals.len ? &t->locals.v[hid] : NULL;
		const char *fn = l ? ga_dwarf_die_name(rt->dw, l->func_die) : NULL;
		snprintf(buf, n, "%s %s%s in local %s of %s (goroutine %" PRIu64 ")",
			 typing_how_name(how), vn, what, l && l->name ? l->name : "?", fn ? fn : "?",
			 l ? l->goid : 0);
		break;
	}
	case TYPING_H_OBJECT: {
		const struct ga_type *ht = hid < t->nobjs ? ga_dwarf_type(rt->dw, t->type[hid]) : NULL;
		snprintf(buf, n, "%s %s%s in object 0x%" PRIx64 " (%s)", typing_how_name(how), vn, what,
			 rt_heap_addr(g->heap, hid), ht && ht->name ? ht->name : "untyped");
		break;
	}
	default:
		snprintf(buf, n, "%s %s%s", typing_how_name(how), vn, what);
		break;
	}
}
