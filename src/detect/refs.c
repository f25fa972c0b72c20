/* Typed references: see refs.h. */
#include <dwarf.h>
#include <stdarg.h>
#include <elfutils/libdw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "detect/refs.h"
#include "goautopsy/goroutines.h"
#include "goautopsy/maps.h"
#include "rt/map.h"
#include "rt/rt.h"

#define NONE UINT32_MAX
#define SELF (UINT32_MAX - 1)   /* o_parent: typed by the runtime, reached untyped */
#define MAX_EXPAND 32           /* array elements flattened into a layout */
#define MAX_LAYOUT 4096         /* entries of one flattened layout */
#define MAX_ELEMS (1u << 26)    /* elements scanned in one object */
#define MAX_MAP_ENTRIES (1u << 22)
#define MAX_CHAN_ELEMS (1u << 20)
#define MAX_PATH_DEPTH 24
#define MAX_VAR_BYTES 512       /* frame values assembled from pieces */

enum ent_kind { E_PTR = 1, E_SLICE, E_STRING, E_MAP, E_CHAN, E_IFACE, E_ARRAY };

struct ent {
	uint32_t off;
	uint8_t kind;
	bool eface;
	ga_type_id type;   /* the field's type */
	uint64_t count;    /* E_ARRAY */
};

struct layout {
	uint32_t first, n; /* into walker.ents */
};

/* An object queued for scanning, with where it lies. */
struct qent {
	ga_obj id;
	uint64_t addr, size;
};

struct walker {
	struct det_refs *r;
	struct ga_session *s;
	struct ga_rt *rt;
	struct ga_dwarf *dw;
	struct ga_mem *mem;
	struct ga_hash layouts;          /* type id -> index in lay */
	GA_VEC(struct layout) lay;
	GA_VEC(struct ent) ents;
	GA_VEC(struct qent) queue;
	uint8_t *need;                   /* per object: may lead to a large object (scan it) */
	struct ga_hash map_layouts;      /* map type id + 1 -> index in mlay, UINT64_MAX: none */
	GA_VEC(struct rt_map_layout) mlay;
	size_t qhead;
	uint64_t itab_type_off;
	struct rt_field hc_qcount, hc_dataqsiz, hc_buf, hc_recvx;
	struct ga_error *err;
};

/* A value being scanned: in memory at addr, or assembled in buf from
 * pieces (frame variables), word i of it at waddr[i] (0: in a register). */
struct vsrc {
	uint64_t addr;
	const uint8_t *buf;
	uint64_t len;
	const uint64_t *waddr;
};

static bool src_word(struct walker *w, const struct vsrc *v, uint64_t off, uint64_t *val,
		     uint64_t *where)
{
	if (!v->buf) {
		*where = v->addr + off;
		return ga_mem_u64(w->mem, v->addr + off, val);
	}
	if (off % 8 || off + 8 > v->len || !v->waddr[off / 8])
		return false;
	memcpy(val, v->buf + off, 8);
	*where = v->waddr[off / 8];
	return true;
}

/* ---- layouts: the interesting words of a type, flattened ---- */

static void flatten(struct walker *w, ga_type_id root, uint32_t *n)
{
	struct item {
		ga_type_id t;
		uint64_t off;
	};
	struct item stack[64];
	int sp = 0;
	stack[sp++] = (struct item){root, 0};
	while (sp && *n < MAX_LAYOUT) {
		struct item it = stack[--sp];
		const struct ga_type *t = ga_dwarf_type(w->dw, it.t);
		if (!t || it.off > UINT32_MAX || !ga_type_has_pointers(w->dw, it.t))
			continue;
		struct ent e = {.off = (uint32_t)it.off, .type = it.t};
		switch (t->kind) {
		case GA_K_PTR:
			e.kind = E_PTR;
			break;
		case GA_K_SLICE:
			e.kind = E_SLICE;
			break;
		case GA_K_STRING:
			e.kind = E_STRING;
			break;
		case GA_K_MAP:
			e.kind = E_MAP;
			break;
		case GA_K_CHAN:
			e.kind = E_CHAN;
			break;
		case GA_K_INTERFACE:
			e.kind = E_IFACE;
			e.eface = t->eface;
			break;
		case GA_K_STRUCT:
			for (uint32_t i = t->nfields; i-- > 0 && sp < 64;) {
				const struct ga_field *f = &w->dw->fields.v[t->first_field + i];
				stack[sp++] = (struct item){f->type, it.off + f->offset};
			}
			continue;
		case GA_K_ARRAY: {
			const struct ga_type *et = ga_dwarf_type(w->dw, t->elem);
			if (!et || !et->size || !t->count)
				continue;
			if (t->count <= MAX_EXPAND && sp + (int)t->count <= 64) {
				for (uint64_t i = t->count; i-- > 0;)
					stack[sp++] = (struct item){t->elem, it.off + i * et->size};
				continue;
			}
			e.kind = E_ARRAY;
			e.type = t->elem;
			e.count = t->count;
			break;
		}
		default:
			continue; /* func values, unsafe.Pointer: untyped */
		}
		if (ga_vec_push(&w->ents, e)) {
			w->err = &ga_error_nomem;
			return;
		}
		(*n)++;
	}
}

static const struct layout *layout_of(struct walker *w, ga_type_id t)
{
	uint64_t i;
	if (ga_hash_get(&w->layouts, (uint64_t)t + 1, &i))
		return &w->lay.v[i];
	struct layout l = {(uint32_t)w->ents.len, 0};
	flatten(w, t, &l.n);
	/* entries were pushed in field order already (stack reversed them back) */
	if (w->err || ga_vec_push(&w->lay, l) ||
	    ga_hash_put(&w->layouts, (uint64_t)t + 1, w->lay.len - 1)) {
		w->err = w->err ? w->err : &ga_error_nomem;
		return NULL;
	}
	return &w->lay.v[w->lay.len - 1];
}

/* ---- visiting objects ---- */

/* The object holding p: id, addr and size of o (one lookup). */
static ga_obj locate(struct walker *w, uint64_t p, struct ga_object *o)
{
	o->id = ga_heap_locate(w->s, p, &o->addr, &o->size);
	return o->id;
}

static void visit(struct walker *w, const struct ga_object *o, ga_type_id type, uint64_t base, uint8_t how,
		  uint32_t parent, uint64_t off)
{
	ga_obj id = o->id;
	struct det_refs *r = w->r;
	if (id >= r->nobjs || r->o_parent[id] != NONE)
		return;
	r->o_parent[id] = parent;
	r->o_off[id] = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
	r->o_type[id] = type;
	r->o_base[id] = base > UINT32_MAX ? UINT32_MAX : (uint32_t)base;
	r->o_how[id] = how;
	r->objects_typed++;
	struct qent q = {id, o->addr, o->size};
	if ((how == DET_O_VALUE || how == DET_O_ELEMS) && type && (!w->need || w->need[id]) &&
	    ga_type_has_pointers(w->dw, type) && ga_vec_push(&w->queue, q))
		w->err = &ga_error_nomem;
}

static void add_ref(struct walker *w, uint8_t kind, uint64_t where, uint64_t ptr, uint64_t len,
		    uint64_t cap, uint64_t esize, ga_type_id type, const struct ga_object *o, uint32_t origin,
		    uint64_t off)
{
	ga_obj tgt = o->id;
	/* small arrays matter only for what their hidden tail holds */
	if (o->size < w->r->min_target &&
	    !(kind == DET_REF_SLICE && len < cap && ga_type_has_pointers(w->dw, ga_dwarf_type(w->dw, type)->elem)))
		return;
	struct det_ref ref = {where, ptr, len, cap, esize, type, tgt, origin,
			      off > UINT32_MAX ? UINT32_MAX : (uint32_t)off, kind};
	if (ga_vec_push(&w->r->refs, ref) ||
	    (where && ga_hash_put(&w->r->where, where + 1, w->r->refs.len - 1)))
		w->err = &ga_error_nomem;
}

static void scan(struct walker *w, const struct vsrc *v, ga_type_id type, uint32_t origin,
		 uint64_t voff);

/* The runtime layout of a map type, built once per type. */
static const struct rt_map_layout *map_layout(struct walker *w, ga_type_id mt)
{
	uint64_t i;
	if (ga_hash_get(&w->map_layouts, (uint64_t)mt + 1, &i))
		return i == UINT64_MAX ? NULL : &w->mlay.v[i];
	struct rt_map_layout l;
	struct ga_error *err = rt_map_layout(w->rt, mt, &l);
	if (err == &ga_error_nomem) {
		w->err = err;
		return NULL;
	}
	ga_error_destroy(err);
	i = err ? UINT64_MAX : w->mlay.len;
	if ((!err && ga_vec_push(&w->mlay, l)) || ga_hash_put(&w->map_layouts, (uint64_t)mt + 1, i)) {
		w->err = &ga_error_nomem;
		return NULL;
	}
	return err ? NULL : &w->mlay.v[i];
}

struct map_walk {
	struct walker *w;
	const struct ga_type *t;
	uint32_t origin;
	uint64_t off, n;
	uint64_t slot_lo, slot_hi; /* the storage object of the last entry */
	bool slot_need;
};

/* One live entry: its key and value, typed, as map data of the holder. */
static bool map_entry(void *ctx, const struct rt_map_entry *e)
{
	struct map_walk *mw = ctx;
	struct walker *w = mw->w;
	/* entries in storage that leads to no large object hold no reference
	 * worth recording (need_set) */
	if (w->need) {
		if (e->key_slot < mw->slot_lo || e->key_slot >= mw->slot_hi) {
			struct ga_object so;
			mw->slot_need = locate(w, e->key_slot, &so) != GA_NO_OBJ && w->need[so.id];
			mw->slot_lo = so.addr;
			mw->slot_hi = so.id != GA_NO_OBJ ? so.addr + so.size : 0;
		}
		if (!mw->slot_need)
			return ++mw->n < MAX_MAP_ENTRIES;
	}
	uint64_t addrs[2] = {e->key, e->elem};
	ga_type_id types[2] = {mw->t->key, mw->t->elem};
	for (int k = 0; k < 2 && !w->err; k++) {
		struct ga_object o;
		ga_obj so = locate(w, addrs[k], &o);
		if (so == GA_NO_OBJ)
			continue;
		visit(w, &o, 0, 0, DET_O_MAPDATA, mw->origin, mw->off);
		struct vsrc v = {.addr = addrs[k]};
		scan(w, &v, types[k], so, addrs[k] - o.addr);
	}
	return !w->err && ++mw->n < MAX_MAP_ENTRIES;
}

static void scan_map(struct walker *w, uint64_t header, ga_type_id mt, uint32_t origin, uint64_t off,
		     uint64_t where)
{
	const struct ga_type *t = ga_dwarf_type(w->dw, mt);
	struct ga_object ho;
	ga_obj hid = locate(w, header, &ho);
	if (!t || !t->name || hid == GA_NO_OBJ || w->r->o_parent[hid] != NONE)
		return;
	struct det_map_ref m = {where, header, mt, origin, off > UINT32_MAX ? UINT32_MAX : (uint32_t)off};
	if (ga_vec_push(&w->r->maps, m)) {
		w->err = &ga_error_nomem;
		return;
	}
	visit(w, &ho, t->aux, 0, DET_O_VALUE, origin, off);
	if (!ga_type_has_pointers(w->dw, t->key) && !ga_type_has_pointers(w->dw, t->elem))
		return;
	const struct rt_map_layout *l = map_layout(w, mt);
	if (!l)
		return;
	struct map_walk mw = {w, t, origin, off, 0, 0, 0, false};
	struct rt_map_visitor v = {NULL, map_entry, &mw};
	struct ga_error *err = rt_map_walk(w->rt, l, header, &v, NULL);
	if (err == &ga_error_nomem)
		w->err = err;
	else
		ga_error_destroy(err); /* a corrupt map: what was walked counts */
}

static void scan_chan(struct walker *w, uint64_t h, ga_type_id ct, uint32_t origin, uint64_t off)
{
	const struct ga_type *t = ga_dwarf_type(w->dw, ct);
	struct ga_object ho;
	ga_obj hid = locate(w, h, &ho);
	if (!t || hid == GA_NO_OBJ || w->r->o_parent[hid] != NONE)
		return;
	visit(w, &ho, t->aux, 0, DET_O_VALUE, origin, off);
	const struct ga_type *et = ga_dwarf_type(w->dw, t->elem);
	uint64_t qcount, size, buf, recvx;
	if (!et || !et->size || !ga_type_has_pointers(w->dw, t->elem) ||
	    !rt_read_field(w->rt, h, &w->hc_qcount, &qcount) ||
	    !rt_read_field(w->rt, h, &w->hc_dataqsiz, &size) ||
	    !rt_read_field(w->rt, h, &w->hc_buf, &buf) || !rt_read_field(w->rt, h, &w->hc_recvx, &recvx) ||
	    !size || qcount > size || qcount > MAX_CHAN_ELEMS)
		return;
	struct ga_object o;
	ga_obj bo = locate(w, buf, &o);
	if (bo == GA_NO_OBJ)
		return;
	if (bo != hid)
		visit(w, &o, 0, 0, DET_O_CHANBUF, origin, off);
	for (uint64_t k = 0; k < qcount && !w->err; k++) {
		uint64_t a = buf + ((recvx + k) % size) * et->size;
		struct vsrc v = {.addr = a};
		scan(w, &v, t->elem, bo, a - o.addr);
	}
}

static void scan_ptr(struct walker *w, uint64_t where, uint64_t p, ga_type_id ptype, ga_type_id elem,
		     uint32_t origin, uint64_t off)
{
	struct ga_object o;
	ga_obj tgt = locate(w, p, &o);
	if (tgt == GA_NO_OBJ)
		return;
	const struct ga_type *et = ga_dwarf_type(w->dw, elem);
	uint64_t esz = et && et->size ? et->size : 1;
	add_ref(w, DET_REF_PTR, where, p, 1, 1, esz, ptype, &o, origin, off);
	visit(w, &o, elem, p - o.addr, DET_O_VALUE, origin, off);
}

static void scan_iface(struct walker *w, const struct vsrc *v, const struct ent *e, uint32_t origin,
		       uint64_t voff)
{
	uint64_t tw, dw, where0, where;
	if (!src_word(w, v, e->off, &tw, &where0) || !tw || !src_word(w, v, e->off + 8, &dw, &where) || !dw)
		return;
	uint64_t rtype = tw;
	if (!e->eface && (!w->itab_type_off || !ga_mem_u64(w->mem, tw + w->itab_type_off, &rtype)))
		return;
	ga_type_id t = rt_dwarf_of_rtype(w->rt, rtype);
	const struct ga_type *ty = ga_dwarf_type(w->dw, t);
	if (!ty) {
		w->r->untyped_ifaces++;
		return;
	}
	bool direct = ty->kind == GA_K_PTR || ty->kind == GA_K_UNSAFEPTR || ty->kind == GA_K_MAP ||
		      ty->kind == GA_K_CHAN || ty->kind == GA_K_FUNC ||
		      (ty->size == 8 && ga_type_has_pointers(w->dw, t));
	if (direct) {
		struct vsrc one = {.addr = where};
		scan(w, &one, t, origin, voff + e->off + 8);
		return;
	}
	scan_ptr(w, where, dw, 0, t, origin, voff + e->off + 8);
}

/* Scans one value of type `type`; voff: its offset in the origin's value. */
static void scan(struct walker *w, const struct vsrc *v, ga_type_id type, uint32_t origin,
		 uint64_t voff)
{
	const struct layout *l = layout_of(w, type);
	if (!l)
		return;
	uint32_t first = l->first, n = l->n; /* w->lay may move below */
	for (uint32_t i = 0; i < n && !w->err; i++) {
		struct ent e = w->ents.v[first + i];
		const struct ga_type *t = ga_dwarf_type(w->dw, e.type);
		uint64_t val, where, off = voff + e.off;
		if (e.kind != E_ARRAY && e.kind != E_IFACE && !src_word(w, v, e.off, &val, &where))
			continue;
		switch (e.kind) {
		case E_PTR:
			if (val)
				scan_ptr(w, where, val, e.type, t ? t->elem : 0, origin, off);
			break;
		case E_SLICE: {
			uint64_t len, cap, wl;
			const struct ga_type *et = ga_dwarf_type(w->dw, t ? t->elem : 0);
			if (!val || !et || !src_word(w, v, e.off + 8, &len, &wl) ||
			    !src_word(w, v, e.off + 16, &cap, &wl) || len > cap || !cap)
				break;
			struct ga_object o;
			ga_obj tgt = locate(w, val, &o);
			if (tgt == GA_NO_OBJ)
				break;
			uint64_t esz = et->size;
			if (esz && cap > (o.addr + o.size - val) / esz)
				break; /* not a header the runtime could have made */
			add_ref(w, DET_REF_SLICE, where, val, len, cap, esz ? esz : 1, e.type, &o, origin, off);
			if (esz)
				visit(w, &o, t->elem, (val - o.addr) % esz, DET_O_ELEMS, origin, off);
			break;
		}
		case E_STRING: {
			uint64_t len, wl;
			if (!val || !src_word(w, v, e.off + 8, &len, &wl) || !len)
				break;
			struct ga_object o;
			ga_obj tgt = locate(w, val, &o);
			if (tgt == GA_NO_OBJ || len > o.addr + o.size - val)
				break;
			add_ref(w, DET_REF_STRING, where, val, len, len, 1, e.type, &o, origin, off);
			break;
		}
		case E_MAP:
			if (val)
				scan_map(w, val, e.type, origin, off, where);
			break;
		case E_CHAN:
			if (val)
				scan_chan(w, val, e.type, origin, off);
			break;
		case E_IFACE:
			scan_iface(w, v, &e, origin, voff);
			break;
		case E_ARRAY: {
			const struct ga_type *et = ga_dwarf_type(w->dw, e.type);
			if (v->buf || !et || !et->size)
				break;
			uint64_t cnt = e.count < MAX_ELEMS ? e.count : MAX_ELEMS;
			for (uint64_t k = 0; k < cnt && !w->err; k++) {
				struct vsrc ev = {.addr = v->addr + e.off + k * et->size};
				scan(w, &ev, e.type, origin, off + k * et->size);
			}
			break;
		}
		}
	}
}

static void drain(struct walker *w)
{
	while (w->qhead < w->queue.len && !w->err) {
		struct qent o = w->queue.v[w->qhead++];
		ga_obj id = o.id;
		struct det_refs *r = w->r;
		const struct ga_type *t = ga_dwarf_type(w->dw, r->o_type[id]);
		if (!t || !t->size || r->o_base[id] >= o.size)
			continue;
		uint64_t n = 1;
		if (r->o_how[id] == DET_O_ELEMS) {
			n = (o.size - r->o_base[id]) / t->size;
			if (n > MAX_ELEMS)
				n = MAX_ELEMS;
		} else if (t->size > o.size - r->o_base[id]) {
			continue;
		}
		for (uint64_t k = 0; k < n && !w->err; k++) {
			struct vsrc v = {.addr = o.addr + r->o_base[id] + k * t->size};
			scan(w, &v, r->o_type[id], id, k * t->size);
		}
	}
	if (w->qhead == w->queue.len)
		w->qhead = w->queue.len = 0;
}

static uint32_t add_root(struct walker *w, uint64_t addr, ga_type_id type, uint64_t goid, uint64_t pc,
			 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static uint32_t add_root(struct walker *w, uint64_t addr, ga_type_id type, uint64_t goid, uint64_t pc,
			 const char *fmt, ...)
{
	struct det_refs *r = w->r;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct det_root_origin ro = {addr, goid, pc, (uint32_t)r->names.len, type};
	ga_sb_appendn(&r->names, buf, strlen(buf) + 1);
	if (r->names.oom || r->nobjs + r->roots.len >= SELF || ga_vec_push(&r->roots, ro)) {
		w->err = &ga_error_nomem;
		return NONE;
	}
	return (uint32_t)(r->nobjs + r->roots.len - 1);
}

/* ---- frame variables ---- */

struct piece {
	uint64_t off, size, addr; /* addr 0: not in memory */
};

/* Evaluates a Go location expression; at most npieces pieces. Returns the
 * number of pieces, 0 if the value is nowhere we can read. */
static size_t eval_loc(const Dwarf_Op *ops, size_t nops, uint64_t cfa, uint64_t bias,
		       struct piece *pieces, size_t npieces)
{
	uint64_t stack[8];
	int sp = 0;
	bool reg = false;
	size_t np = 0;
	uint64_t voff = 0;
	for (size_t i = 0; i < nops; i++) {
		const Dwarf_Op *op = &ops[i];
		switch (op->atom) {
		case DW_OP_call_frame_cfa:
			if (sp < 8)
				stack[sp++] = cfa;
			break;
		case DW_OP_fbreg:
			if (sp < 8)
				stack[sp++] = cfa + (uint64_t)(int64_t)op->number;
			break;
		case DW_OP_addr:
			if (sp < 8)
				stack[sp++] = op->number + bias;
			break;
		case DW_OP_consts:
		case DW_OP_constu:
		case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s:
		case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
			if (sp < 8)
				stack[sp++] = op->number;
			break;
		case DW_OP_plus:
			if (sp >= 2) {
				stack[sp - 2] += stack[sp - 1];
				sp--;
			}
			break;
		case DW_OP_minus:
			if (sp >= 2) {
				stack[sp - 2] -= stack[sp - 1];
				sp--;
			}
			break;
		case DW_OP_plus_uconst:
			if (sp >= 1)
				stack[sp - 1] += op->number;
			break;
		case DW_OP_piece:
			if (np < npieces)
				pieces[np++] = (struct piece){voff, op->number, !reg && sp ? stack[sp - 1] : 0};
			voff += op->number;
			sp = 0;
			reg = false;
			break;
		default:
			if ((op->atom >= DW_OP_reg0 && op->atom <= DW_OP_reg31) || op->atom == DW_OP_regx) {
				reg = true;
				break;
			}
			return 0; /* stack values, implicit values: not memory */
		}
	}
	if (np == 0 && sp && !reg && npieces) {
		pieces[0] = (struct piece){0, 0, stack[sp - 1]};
		return 1;
	}
	return np;
}

static void frame_var(struct walker *w, Dwarf_Die *var, uint64_t lpc, uint64_t cfa,
		      const struct ga_goroutine *g, const char *func, uint64_t pc)
{
	Dwarf_Attribute a;
	Dwarf_Die td;
	const char *name = dwarf_diename(var);
	if (!name || !dwarf_attr_integrate(var, DW_AT_location, &a) ||
	    !dwarf_attr_integrate(var, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
		return;
	ga_type_id type = ga_dwarf_type_by_die(w->dw, dwarf_dieoffset(&td));
	const struct ga_type *t = ga_dwarf_type(w->dw, type);
	if (!t || !ga_type_has_pointers(w->dw, type))
		return;
	Dwarf_Op *ops;
	size_t nops;
	dwarf_attr_integrate(var, DW_AT_location, &a);
	if (dwarf_getlocation_addr(&a, lpc, &ops, &nops, 1) != 1)
		return;
	struct piece pieces[16];
	size_t np = eval_loc(ops, nops, cfa, w->rt->bias, pieces, 16);
	if (!np)
		return;
	w->r->frame_vars++;
	struct vsrc v = {0};
	uint8_t buf[MAX_VAR_BYTES];
	uint64_t waddr[MAX_VAR_BYTES / 8];
	uint64_t addr0 = pieces[0].addr;
	if (np == 1 && pieces[0].size == 0) {
		if (!addr0)
			return;
		v.addr = addr0;
	} else {
		if (t->size > MAX_VAR_BYTES)
			return;
		memset(buf, 0, sizeof(buf));
		memset(waddr, 0, sizeof(waddr));
		for (size_t i = 0; i < np; i++) {
			const struct piece *p = &pieces[i];
			if (!p->addr || p->off + p->size > t->size)
				continue;
			if (!ga_mem_try_read(w->mem, p->addr, buf + p->off, p->size))
				continue;
			for (uint64_t o = p->off; o + 8 <= p->off + p->size; o += 8)
				if (o % 8 == 0)
					waddr[o / 8] = p->addr + (o - p->off);
		}
		v.buf = buf;
		v.len = t->size;
		v.waddr = waddr;
		for (size_t i = 0; i < np && !addr0; i++)
			addr0 = pieces[i].addr;
	}
	uint32_t origin = add_root(w, addr0, type, g->id, pc, "goroutine %" PRIu64 " %s var %s", g->id,
				   func, name);
	if (origin == NONE)
		return;
	scan(w, &v, type, origin, 0);
	drain(w);
}

/* Variables of the scope die at lpc, recursing into lexical blocks and
 * inlined calls that contain it (with an explicit stack). */
static void frame_scope(struct walker *w, Dwarf_Die *fn, uint64_t lpc, uint64_t cfa,
			const struct ga_goroutine *g, const char *fname, uint64_t pc)
{
	struct scope {
		Dwarf_Die die;
		const char *func;
	};
	struct scope stack[32];
	int sp = 0;
	stack[sp++] = (struct scope){*fn, fname};
	while (sp && !w->err) {
		struct scope sc = stack[--sp];
		Dwarf_Die c;
		if (dwarf_child(&sc.die, &c) != 0)
			continue;
		do {
			int tag = dwarf_tag(&c);
			if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) {
				frame_var(w, &c, lpc, cfa, g, sc.func, pc);
			} else if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
				   dwarf_haspc(&c, lpc) == 1 && sp < 32) {
				const char *f = sc.func;
				if (tag == DW_TAG_inlined_subroutine) {
					Dwarf_Attribute a;
					Dwarf_Die origin;
					if (dwarf_attr(&c, DW_AT_abstract_origin, &a) && dwarf_formref_die(&a, &origin) &&
					    dwarf_diename(&origin))
						f = dwarf_diename(&origin);
				}
				stack[sp++] = (struct scope){c, f};
			}
		} while (dwarf_siblingof(&c, &c) == 0 && !w->err);
	}
}

static void frames(struct walker *w)
{
	const struct ga_goroutines *gs;
	struct ga_error *err = ga_session_goroutine_list(w->s, &gs);
	if (err) {
		ga_error_destroy(err);
		return;
	}
	for (size_t gi = 0; gi < gs->n && !w->err; gi++) {
		const struct ga_goroutine *g = &gs->v[gi];
		for (size_t i = 0; i < g->nframes; i++) {
			const struct ga_frame *f = &g->frames[i];
			if (f->inlined)
				continue;
			/* the caller's sp is this frame's CFA */
			size_t j = i + 1;
			while (j < g->nframes && g->frames[j].inlined)
				j++;
			while (j < g->nframes && g->frames[j].sp == f->sp)
				j++;
			if (j >= g->nframes || !f->function || !strncmp(f->function, "runtime.", 8))
				continue;
			uint64_t cfa = g->frames[j].sp;
			uint64_t pc = i == 0 && !strcmp(g->frames_from ? g->frames_from : "", "registers") ? f->pc
												   : f->pc - 1;
			if (pc < w->rt->bias)
				continue;
			uint64_t lpc = pc - w->rt->bias;
			uint64_t die = ga_dwarf_func_at(w->dw, lpc);
			Dwarf_Die fd;
			if (!die || !dwarf_offdie(w->dw->dw, die, &fd))
				continue;
			const char *fname = dwarf_diename(&fd);
			w->r->frames_typed++;
			frame_scope(w, &fd, lpc, cfa, g, fname ? fname : f->function, f->pc);
		}
	}
}

/* ---- globals ---- */

static void globals(struct walker *w)
{
	size_t nr = ga_heap_nroots(w->s);
	for (size_t i = 0; i < nr && !w->err; i++) {
		struct ga_root rt;
		if (!ga_heap_root(w->s, i, &rt) || rt.kind != GA_ROOT_GLOBAL || !rt.dwarf_type)
			continue;
		uint32_t origin = add_root(w, rt.addr, rt.dwarf_type, 0, 0, "%s", rt.name);
		if (origin == NONE)
			return;
		struct vsrc v = {.addr = rt.addr};
		scan(w, &v, rt.dwarf_type, origin, 0);
		drain(w);
	}
}

/* Objects whose type the runtime recorded (malloc headers, largeType,
 * finalizers) that no typed path reached. */
static void runtime_typed(struct walker *w)
{
	struct det_refs *r = w->r;
	for (ga_obj id = 0; id < r->nobjs && !w->err; id++) {
		struct ga_object o;
		if (r->o_parent[id] != NONE || (w->need && !w->need[id]) || !ga_heap_object(w->s, id, &o) ||
		    !o.live || !o.type)
			continue;
		ga_type_id t = ga_heap_type_dwarf(w->s, o.type);
		const struct ga_type *ty = ga_dwarf_type(w->dw, t);
		if (!ty || !ty->size)
			continue;
		uint64_t base = o.typed_by == GA_TYPED_HEADER ? 8 : 0;
		uint8_t how = o.size - base >= 2 * ty->size ? DET_O_ELEMS : DET_O_VALUE;
		visit(w, &o, t, base, how, SELF, 0);
		drain(w);
	}
}

/* The objects worth scanning: those from which an object of at least
 * min_target bytes can be reached (a backward walk of the graph from the
 * large objects). The others can hold no reference the detectors record
 * and are only named, not scanned: on a heap of millions of small objects
 * (trees, lists) this is most of the walk saved. */
static struct ga_error *need_set(struct walker *w)
{
	struct det_refs *r = w->r;
	if (!r->min_target)
		return NULL; /* everything counts */
	size_t nr = ga_heap_ranges_at_least(w->s, r->min_target, NULL, 0);
	struct ga_id_range *rg = malloc((nr ? nr : 1) * sizeof(*rg));
	w->need = calloc(r->nobjs ? r->nobjs : 1, 1);
	ga_obj *queue = malloc((r->nobjs ? r->nobjs : 1) * sizeof(*queue));
	if (!rg || !w->need || !queue) {
		free(rg);
		free(queue);
		return &ga_error_nomem;
	}
	nr = ga_heap_ranges_at_least(w->s, r->min_target, rg, nr);
	/* the large objects start the walk but are not worth scanning
	 * themselves unless they lead to another one */
	size_t qt = 0;
	for (size_t i = 0; i < nr; i++)
		for (uint32_t k = 0; k < rg[i].n; k++) {
			ga_obj id = rg[i].first + k;
			if (id < r->nobjs)
				queue[qt++] = id;
		}
	while (qt) {
		ga_obj id = queue[--qt];
		const ga_node *pred;
		size_t np;
		ga_heap_pred(w->s, ga_heap_node_of_obj(w->s, id), &pred, &np);
		for (size_t i = 0; i < np; i++) {
			ga_obj p = ga_heap_node_obj(w->s, pred[i]);
			if (p != GA_NO_OBJ && p < r->nobjs && !w->need[p]) {
				w->need[p] = 1;
				queue[qt++] = p;
			}
		}
	}
	free(rg);
	free(queue);
	return NULL;
}

struct ga_error *det_refs_build(struct ga_session *s, struct ga_rt *rt, uint64_t min_target,
				struct det_refs **out)
{
	*out = NULL;
	struct det_refs *r = calloc(1, sizeof(*r));
	if (!r)
		return &ga_error_nomem;
	r->s = s;
	r->dw = rt->dw;
	r->mem = rt->mem;
	r->bias = rt->bias;
	r->min_target = min_target;
	r->nobjs = ga_heap_nobjects(s);
	ga_sb_init(&r->names);
	ga_sb_appendn(&r->names, "", 1);
	ga_hash_init(&r->where);
	size_t n = r->nobjs ? r->nobjs : 1;
	r->o_parent = malloc(n * 4);
	r->o_off = calloc(n, 4);
	r->o_type = calloc(n, 4);
	r->o_base = calloc(n, 4);
	r->o_how = calloc(n, 1);
	if (!r->o_parent || !r->o_off || !r->o_type || !r->o_base || !r->o_how) {
		det_refs_free(r);
		return &ga_error_nomem;
	}
	memset(r->o_parent, 0xff, n * 4);
	struct walker w = {.r = r, .s = s, .rt = rt, .dw = rt->dw, .mem = rt->mem};
	ga_hash_init(&w.layouts);
	ga_hash_init(&w.map_layouts);
	struct rt_field f = rt_field(rt, "runtime.itab", "_type");
	if (!f.ok)
		f = rt_field(rt, "internal/abi.ITab", "Type");
	w.itab_type_off = f.ok ? f.off : 0;
	w.hc_qcount = rt_field(rt, "runtime.hchan", "qcount");
	w.hc_dataqsiz = rt_field(rt, "runtime.hchan", "dataqsiz");
	w.hc_buf = rt_field(rt, "runtime.hchan", "buf");
	w.hc_recvx = rt_field(rt, "runtime.hchan", "recvx");
	w.err = need_set(&w);
	if (!w.err)
		globals(&w);
	if (!w.err)
		frames(&w);
	if (!w.err)
		runtime_typed(&w);
	free(w.need);
	ga_hash_free(&w.layouts);
	ga_hash_free(&w.map_layouts);
	ga_vec_free(&w.mlay);
	ga_vec_free(&w.lay);
	ga_vec_free(&w.ents);
	ga_vec_free(&w.queue);
	if (w.err) {
		det_refs_free(r);
		return w.err;
	}
	*out = r;
	return NULL;
}

void det_refs_free(struct det_refs *r)
{
	if (!r)
		return;
	free(r->o_parent);
	free(r->o_off);
	free(r->o_type);
	free(r->o_base);
	free(r->o_how);
	ga_vec_free(&r->roots);
	ga_vec_free(&r->refs);
	ga_vec_free(&r->maps);
	ga_sb_free(&r->names);
	ga_hash_free(&r->where);
	free(r);
}

long det_refs_where(const struct det_refs *r, uint64_t where)
{
	uint64_t i;
	return ga_hash_get(&r->where, where + 1, &i) ? (long)i : -1;
}

bool det_refs_origin_frame(const struct det_refs *r, uint32_t origin, uint64_t *goid, uint64_t *pc)
{
	if (origin < r->nobjs || origin - r->nobjs >= r->roots.len)
		return false;
	const struct det_root_origin *ro = &r->roots.v[origin - r->nobjs];
	*goid = ro->goid;
	*pc = ro->pc;
	return ro->goid != 0;
}

uint32_t det_refs_root_of(const struct det_refs *r, uint32_t origin)
{
	for (int d = 0; d < 1000 && origin < r->nobjs; d++)
		origin = r->o_parent[origin];
	return origin < r->nobjs + r->roots.len ? origin : NONE;
}

/* ---- paths ---- */

/* Appends the field path of offset off inside a value of type t. */
static void field_path(struct det_refs *r, struct ga_strbuf *sb, ga_type_id type, uint64_t off)
{
	for (int depth = 0; depth < 16; depth++) {
		const struct ga_type *t = ga_dwarf_type(r->dw, type);
		if (!t)
			return;
		if (t->kind == GA_K_STRUCT) {
			const struct ga_field *best = NULL;
			for (uint32_t i = 0; i < t->nfields; i++) {
				const struct ga_field *f = &r->dw->fields.v[t->first_field + i];
				const struct ga_type *ft = ga_dwarf_type(r->dw, f->type);
				uint64_t sz = ft ? ft->size : 0;
				if (f->offset <= off && (off < f->offset + sz || (sz == 0 && off == f->offset)))
					best = f;
			}
			if (!best)
				return;
			ga_sb_printf(sb, ".%s", best->name ? best->name : "?");
			off -= best->offset;
			type = best->type;
		} else if (t->kind == GA_K_ARRAY) {
			const struct ga_type *et = ga_dwarf_type(r->dw, t->elem);
			if (!et || !et->size)
				return;
			ga_sb_printf(sb, "[%" PRIu64 "]", off / et->size);
			off %= et->size;
			type = t->elem;
		} else {
			return;
		}
	}
}

static void map_key(struct det_refs *r, struct ga_strbuf *sb, uint64_t header, ga_type_id mt,
		    uint64_t addr, ga_type_id *elem, uint64_t *elem_off)
{
	const struct ga_type *t = ga_dwarf_type(r->dw, mt);
	struct ga_map_summary *ms = NULL;
	*elem = 0;
	if (!t || !t->name || ga_map_summary(r->s, header, t->name, MAX_MAP_ENTRIES, &ms)) {
		ga_sb_append(sb, "[…]");
		return;
	}
	const struct ga_type *et = ga_dwarf_type(r->dw, t->elem);
	const struct ga_type *kt = ga_dwarf_type(r->dw, t->key);
	for (size_t i = 0; i < ms->n_entries; i++) {
		const struct ga_map_entry *e = &ms->entries[i];
		bool in_elem = et && addr >= e->elem_addr && addr < e->elem_addr + (et->size ? et->size : 1);
		bool in_key = kt && addr >= e->key_addr && addr < e->key_addr + (kt->size ? kt->size : 1);
		if (!in_elem && !in_key)
			continue;
		if (e->key)
			ga_sb_printf(sb, "[%s]", e->key);
		else
			ga_sb_append(sb, "[…]");
		if (in_elem) {
			*elem = t->elem;
			*elem_off = addr - e->elem_addr;
		} else {
			ga_sb_append(sb, " (key)");
		}
		ga_map_summary_free(ms);
		return;
	}
	ga_map_summary_free(ms);
	ga_sb_append(sb, "[…]");
}

const char *det_refs_path(struct det_refs *r, uint32_t origin, uint64_t off, char *buf, size_t n)
{
	/* the chain from the value back to its root */
	uint32_t chain[MAX_PATH_DEPTH];
	uint64_t offs[MAX_PATH_DEPTH];
	int depth = 0;
	uint32_t o = origin;
	uint64_t so = off;
	while (depth < MAX_PATH_DEPTH) {
		chain[depth] = o;
		offs[depth++] = so;
		if (o >= r->nobjs)
			break;
		uint32_t p = r->o_parent[o];
		if (p == NONE || p == SELF)
			break;
		so = r->o_off[o];
		o = p;
	}
	struct ga_strbuf sb;
	ga_sb_init(&sb);
	uint32_t top = chain[depth - 1];
	if (top >= r->nobjs && top - r->nobjs < r->roots.len) {
		ga_sb_append(&sb, r->names.s + r->roots.v[top - r->nobjs].name);
	} else if (top < r->nobjs) {
		struct ga_object ob;
		ga_heap_object(r->s, top, &ob);
		const struct ga_type *tt = ga_dwarf_type(r->dw, r->o_type[top]);
		const char *tn = tt ? tt->name : NULL;
		if (depth == MAX_PATH_DEPTH)
			ga_sb_append(&sb, "…");
		else
			ga_sb_printf(&sb, "(*%s)(0x%" PRIx64 ")", tn ? tn : "?", ob.addr + r->o_base[top]);
	}
	for (int i = depth - 1; i >= 0; i--) {
		uint32_t c = chain[i];
		uint64_t co = offs[i];
		if (c >= r->nobjs) {
			field_path(r, &sb, r->roots.v[c - r->nobjs].type, co);
			continue;
		}
		ga_type_id t = r->o_type[c];
		const struct ga_type *ty = ga_dwarf_type(r->dw, t);
		switch (r->o_how[c]) {
		case DET_O_ELEMS:
			if (ty && ty->size) {
				ga_sb_printf(&sb, "[%" PRIu64 "]", co / ty->size);
				co %= ty->size;
			}
			field_path(r, &sb, t, co);
			break;
		case DET_O_MAPDATA: {
			/* the map word sits in the parent value: read the header back */
			ga_type_id et = 0;
			uint64_t eoff = 0;
			struct ga_object ob;
			ga_heap_object(r->s, c, &ob);
			long mi = -1;
			for (size_t k = 0; k < r->maps.len; k++)
				if (r->maps.v[k].origin == r->o_parent[c] && r->maps.v[k].off == r->o_off[c])
					mi = (long)k;
			if (mi < 0) {
				ga_sb_append(&sb, "[…]");
				break;
			}
			map_key(r, &sb, r->maps.v[mi].header, r->maps.v[mi].type, ob.addr + co, &et, &eoff);
			if (et)
				field_path(r, &sb, et, eoff);
			break;
		}
		case DET_O_CHANBUF:
			ga_sb_append(&sb, " (channel buffer)");
			break;
		default:
			field_path(r, &sb, t, co);
			break;
		}
	}
	snprintf(buf, n, "%s", sb.oom ? "?" : ga_sb_str(&sb));
	ga_sb_free(&sb);
	return buf;
}

const char *det_refs_obj_path(struct det_refs *r, ga_obj id, char *buf, size_t n)
{
	if (id >= r->nobjs || r->o_parent[id] == NONE) {
		snprintf(buf, n, "?");
		return buf;
	}
	if (r->o_parent[id] == SELF)
		return det_refs_path(r, id, 0, buf, n);
	return det_refs_path(r, r->o_parent[id], r->o_off[id], buf, n);
}

/* ---- naming a frame's slot without a location ---- */

/* Whether a value of DWARF type t can point to an object of size bytes
 * (noscan: without pointers) by its first word. */
static bool may_point_to(struct det_refs *r, const struct ga_type *t, uint64_t size, bool noscan)
{
	const struct ga_type *e = ga_dwarf_type(r->dw, t->elem);
	switch (t->kind) {
	case GA_K_SLICE:
		return e && e->size && noscan == !ga_type_has_pointers(r->dw, t->elem) && size >= e->size;
	case GA_K_STRING:
		return noscan;
	case GA_K_PTR:
		return e && e->size <= size && (!e->size || noscan == !ga_type_has_pointers(r->dw, t->elem));
	default:
		return false; /* maps, channels, interfaces, funcs: too loose to tell */
	}
}

const char *det_refs_guess_var(struct det_refs *r, const struct ga_goroutine *g, const char *func,
			       uint64_t size, bool noscan, char *buf, size_t n)
{
	for (size_t i = 0; i < g->nframes; i++) {
		const struct ga_frame *f = &g->frames[i];
		if (f->inlined || !f->function || strcmp(f->function, func) || f->pc < 1)
			continue;
		uint64_t pc = f->pc - 1;
		if (pc < r->bias)
			return NULL;
		uint64_t lpc = pc - r->bias, die = ga_dwarf_func_at(r->dw, lpc);
		Dwarf_Die fd, c;
		if (!die || !dwarf_offdie(r->dw->dw, die, &fd) || dwarf_child(&fd, &c) != 0)
			return NULL;
		/* the function's own variables (not those of inlined calls) */
		const char *found = NULL;
		int nfound = 0;
		do {
			int tag = dwarf_tag(&c);
			if (tag != DW_TAG_variable && tag != DW_TAG_formal_parameter)
				continue;
			Dwarf_Attribute a;
			Dwarf_Die td;
			Dwarf_Op *ops;
			size_t nops;
			const char *name = dwarf_diename(&c);
			if (!name || !dwarf_attr_integrate(&c, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
				continue;
			/* a variable located at this pc was walked already */
			if (dwarf_attr_integrate(&c, DW_AT_location, &a) &&
			    dwarf_getlocation_addr(&a, lpc, &ops, &nops, 1) == 1)
				continue;
			const struct ga_type *t = ga_dwarf_type(r->dw, ga_dwarf_type_by_die(r->dw, dwarf_dieoffset(&td)));
			if (t && may_point_to(r, t, size, noscan)) {
				found = name;
				nfound++;
			}
		} while (dwarf_siblingof(&c, &c) == 0 && nfound < 2);
		if (nfound != 1)
			return NULL;
		snprintf(buf, n, "%s", found);
		return buf;
	}
	return NULL;
}
