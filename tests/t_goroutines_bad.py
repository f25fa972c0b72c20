"""goroutines / goroutine on cores whose goroutine structures were damaged.

Each test decompresses a committed core into a temporary file, overwrites
words of some g's, their stacks or their sudogs, and runs the goroutine
commands on it. A damaged goroutine must still be listed with what could be
read (id, status, wait reason, creator) and an error saying what could not;
the others must be unchanged; no command may crash, loop or take long.

Where things are is found from the tool's own JSON of the intact core (g
addresses, stack bounds, sp, frame pcs) and by looking at the words of the
core itself (a g's sched.sp holds the innermost sp; a sudog's first word is
its g; g.waiting is the word of g pointing at such a sudog), so no offset is
hard-coded.
"""
import os
import struct
import subprocess
import tempfile

import lib

VERSIONS = ("go1.19", "go1.26", "go1.27")
TIMEOUT = 60  # a loop on a cycle would hit this
G_WORDS = 64  # the words of a g searched (sched, stack and waiting are near its start)


class Core:
    """A decompressed, writable copy of a core: words by virtual address."""

    def __init__(self, case, d):
        self.case = case
        self.path = os.path.join(d, "core")
        subprocess.run(["zstd", "-d", "-q", "-f", case.core, "-o", self.path], check=True)
        with open(self.path, "rb") as f:
            hdr = f.read(64)
            phoff, = struct.unpack_from("<Q", hdr, 32)
            phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
        self.segs = []
        for i in range(phnum):
            p_type, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", ph, i * phentsize)
            if p_type == 1 and filesz:
                self.segs.append((vaddr, off, filesz))
        self.f = open(self.path, "r+b")
        self._data = None

    def segments(self):
        """(vaddr, bytes) of every dumped segment, read once until a write."""
        if self._data is None:
            self._data = []
            for v, o, n in self.segs:
                self.f.seek(o)
                self._data.append((v, self.f.read(n)))
        return self._data

    def close(self):
        self.f.close()

    def off(self, addr):
        for v, o, n in self.segs:
            if v <= addr < v + n:
                return o + addr - v
        return None

    def u64(self, addr):
        o = self.off(addr)
        if o is None:
            return None
        self.f.seek(o)
        return struct.unpack("<Q", self.f.read(8))[0]

    def words(self, addr, n):
        return [self.u64(addr + 8 * i) for i in range(n)]

    def put(self, addr, value):
        o = self.off(addr)
        assert o is not None, f"0x{addr:x} is not in a dumped segment"
        self.f.seek(o)
        self.f.write(struct.pack("<Q", value))
        self.f.flush()
        self._data = None

    def run(self, *args):
        return lib.tool(args[0], self.path, *args[1:], "--exe", self.case.exe, timeout=TIMEOUT)

    def goroutines(self):
        r = self.run("goroutines", "--all", "--json").ok()
        js = r.json()
        return js, {g["id"]: g for g in js["goroutines"]}


def _addr(s):
    return int(s, 16)


def _case(name, version):
    for c in lib.corpus():
        if c.name == name and c.version == version:
            return c
    raise lib.Skip(f"corpus case {version}/{name} missing")


def _word_index(words, value):
    return words.index(value) if value in words else None


def _sudogs_of(core, gaddr):
    """(offset in g of g.waiting, the sudog) or (None, None): the word of g
    pointing at a sudog whose first word (sudog.g) is g."""
    for i, w in enumerate(core.words(gaddr, G_WORDS)):
        if w and w != gaddr and core.off(w) is not None and core.u64(w) == gaddr:
            return 8 * i, w
    return None, None


def _find_all(core, value, low=False):
    """Addresses of the 8-aligned words equal to value (low: only in the
    segments below 4 GiB, where a non-PIE executable keeps its globals)."""
    out = []
    needle = struct.pack("<Q", value)
    for v, data in core.segments():
        if low and v >= 1 << 32:
            continue
        at = data.find(needle)
        while at >= 0:
            if at % 8 == 0:
                out.append(v + at)
            at = data.find(needle, at + 1)
    return out


def _allgs(core, known, ga, max_index=512):
    """(address of the runtime.allgs slot holding ga, address of the slice
    header runtime.allgs) or (None, None). The header is in the executable's
    data: looked for there first."""
    return _allgs1(core, known, ga, max_index, True) or _allgs1(core, known, ga, max_index, False) \
        or (None, None)


def _allgs1(core, known, ga, max_index, low):
    for c in _find_all(core, ga):
        # the array starts somewhere up the run of pointers before c
        for k in range(max_index):
            base = c - 8 * k
            w = core.u64(base)
            if not w or core.off(w) is None:
                break
            for h in _find_all(core, base, low):
                n, cap = core.u64(h + 8), core.u64(h + 16)
                if n is None or cap is None or not k < n <= cap < 1 << 20:
                    continue
                if known <= set(core.words(base, n)):
                    return c, h
    return None


def _all_commands(core, ids):
    core.run("goroutines").ok()
    core.run("goroutines", "--all").ok()
    core.run("goroutines", "--json").ok()
    core.run("info").ok()
    for i in ids:
        core.run("goroutine", str(i)).ok()
        core.run("goroutine", str(i), "--json").ok()


def _unchanged(before, after, skip):
    changed = [i for i, g in before.items() if i not in skip and
               (after.get(i) is None or after[i]["frames"] != g["frames"] or
                after[i]["blocked_on"] != g["blocked_on"])]
    assert not changed, f"untouched goroutines changed: {changed[:10]}"


def _same_identity(before, after, fields=("status", "wait_reason", "created_by", "parent_id", "g")):
    for k in fields:
        assert after[k] == before[k], f"goroutine {before['id']}: {k} {after[k]!r}, intact core {before[k]!r}"


def _corrupt_g(version):
    """Garbage in g.sched, the stack bounds, a return address, g.waiting and allgs."""
    case = _case("chan_senders", version)
    with tempfile.TemporaryDirectory() as d:
        core = Core(case, d)
        try:
            _, gs = core.goroutines()
            victims = sorted(i for i, g in gs.items() if g["blocked_on"] == "chan_send")
            assert len(victims) >= 6, f"{case.id}: {len(victims)} chan_send goroutines"
            v_sp, v_pc, v_bounds, v_ret, v_waiting, v_allgs = (gs[i] for i in victims[:6])
            for g in (v_sp, v_pc, v_bounds, v_ret, v_waiting, v_allgs):
                assert not g["error"] and g["stack_complete"], g

            # g.sched.sp: the word of g equal to the innermost sp of a parked goroutine
            ga = _addr(v_sp["g"])
            sp_i = _word_index(core.words(ga, G_WORDS), _addr(v_sp["stack"]["sp"]))
            assert sp_i is not None, f"{case.id}: sched.sp not found in g"
            core.put(ga + 8 * sp_i, 0x10)
            # g.sched.pc follows sched.sp in gobuf
            ga = _addr(v_pc["g"])
            core.put(ga + 8 * sp_i + 8, 0x1234)
            # stack.lo / stack.hi: two consecutive words; swap them
            ga = _addr(v_bounds["g"])
            lo, hi = _addr(v_bounds["stack"]["lo"]), _addr(v_bounds["stack"]["hi"])
            lo_i = _word_index(core.words(ga, G_WORDS), lo)
            assert lo_i is not None and core.u64(ga + 8 * lo_i + 8) == hi
            core.put(ga + 8 * lo_i, hi)
            core.put(ga + 8 * lo_i + 8, lo)
            # the return address of the innermost physical frame, on the stack
            fr = [f for f in v_ret["frames"] if not f["inlined"]]
            ret = _addr(fr[1]["pc"])
            sp0, sp1 = _addr(fr[0]["sp"]), _addr(fr[1]["sp"])
            slot = next(a for a in range(sp0, sp1, 8) if core.u64(a) == ret)
            core.put(slot, 0x1234)
            # g.waiting: pointing at nothing
            ga = _addr(v_waiting["g"])
            w_off, _ = _sudogs_of(core, ga)
            assert w_off is not None, f"{case.id}: g.waiting not found"
            core.put(ga + w_off, 0xdead0000)
            # the allgs entry of one goroutine: a word equal to its g inside an
            # array that a slice header (ptr, len, cap) describes and that holds
            # every listed g (garbage copies of older allgs arrays hold fewer)
            entry, _ = _allgs(core, {_addr(g["g"]) for g in gs.values()}, _addr(v_allgs["g"]))
            assert entry, f"{case.id}: allgs entry of goroutine {v_allgs['id']} not found"
            core.put(entry, 0x10)

            js, after = core.goroutines()
            g = after[v_sp["id"]]
            _same_identity(v_sp, g)
            assert g["frames"] == [] and "outside the stack" in (g["error"] or ""), g
            g = after[v_pc["id"]]
            _same_identity(v_pc, g)
            assert g["frames"] == [] and "no Go function" in (g["error"] or ""), g
            g = after[v_bounds["id"]]
            _same_identity(v_bounds, g)
            assert g["frames"] == [] and "stack bounds" in (g["error"] or ""), g
            g = after[v_ret["id"]]
            _same_identity(v_ret, g)
            assert "unexpected return pc" in (g["error"] or ""), g
            assert not g["stack_complete"] and g["frames"] and g["frames"] == v_ret["frames"][:len(g["frames"])]
            assert len(g["frames"]) < len(v_ret["frames"])
            g = after[v_waiting["id"]]
            _same_identity(v_waiting, g)
            assert g["blocked_on"] == "chan_send" and g["chans"] == [] and "g.waiting" in (g["error"] or ""), g
            assert g["frames"] == v_waiting["frames"]
            # the goroutine behind the damaged allgs entry is gone; an unreadable entry is counted
            assert v_allgs["id"] not in after, after.get(v_allgs["id"])
            assert js["unreadable"] == 1 and js["total"] == len(gs)
            lost = [x for x in js["goroutines"] if x["g"] == "0x10"]
            assert len(lost) == 1 and "not in the core" in lost[0]["error"], lost
            _unchanged(gs, after, {v["id"] for v in (v_sp, v_pc, v_bounds, v_ret, v_waiting, v_allgs)} | {0})
            _all_commands(core, [v["id"] for v in (v_sp, v_pc, v_bounds, v_ret, v_waiting)])
            r = core.run("goroutines").ok()
            assert "1 unreadable" in r.out, r.out[:300]
        finally:
            core.close()


def _sudog_cycles(version):
    """Cycles through sudogs: g.waiting's waitlink chain of a select, the
    channels' wait queues, and (Go 1.26+, where g.waiting is set for
    semaphores too) a semaphore treap node that is its own child."""
    with tempfile.TemporaryDirectory() as d:
        case = _case("select_leak", version)
        core = Core(case, d)
        try:
            _, gs = core.goroutines()
            sel = [g for g in gs.values() if g["blocked_on"] == "select"]
            assert len(sel) == 1 and len(sel[0]["chans"]) == 2, sel
            g = sel[0]
            ga = _addr(g["g"])
            _, s1 = _sudogs_of(core, ga)
            assert s1, f"{case.id}: no sudog on g.waiting"
            # sudog.waitlink: the word of the first sudog pointing at the second one
            s1w = core.words(s1, 24)
            link = [i for i, w in enumerate(s1w) if i and w and w != s1 and core.off(w) is not None
                    and core.u64(w) == ga]
            assert len(link) == 1, f"{case.id}: waitlink not found ({link})"
            s2 = s1w[link[0]]
            core.put(s2 + 8 * link[0], s1)  # s1 -> s2 -> s1 -> ...
            # sudog.next (the second word) of each: its own wait queue loops
            core.put(s1 + 8, s1)
            core.put(s2 + 8, s2)
            _, after = core.goroutines()
            a = after[g["id"]]
            _same_identity(g, a)
            assert a["blocked_on"] == "select" and a["frames"] == g["frames"], a
            assert "g.waiting" in (a["error"] or ""), a
            assert {c["addr"] for c in a["chans"]} == {c["addr"] for c in g["chans"]}, a["chans"]
            _unchanged(gs, after, {g["id"]})
            _all_commands(core, [g["id"]])
        finally:
            core.close()
        if version == "go1.19":
            return
        case = _case("self_deadlock", version)
        core = Core(case, d)
        try:
            _, gs = core.goroutines()
            mus = [g for g in gs.values() if g["blocked_on"] == "mutex"]
            assert mus, f"{case.id}: no goroutine blocked on a mutex"
            g = mus[0]
            _, s = _sudogs_of(core, _addr(g["g"]))
            assert s, f"{case.id}: no sudog on g.waiting"
            core.put(s + 8, s)       # treap: next child is itself
            core.put(s + 16, s)      # and so is prev
            _, after = core.goroutines()
            a = after[g["id"]]
            _same_identity(g, a)
            assert a["blocked_on"] == "mutex" and a["frames"] == g["frames"], a
            _all_commands(core, [g["id"]])
        finally:
            core.close()


def _allgs_length(version):
    """A huge runtime.allgs length: the slots past the real array are heap
    words (mostly nil or not g's): they must not become goroutines each."""
    case = _case("chan_senders", version)
    with tempfile.TemporaryDirectory() as d:
        core = Core(case, d)
        try:
            _, gs = core.goroutines()
            _, hdr = _allgs(core, {_addr(g["g"]) for g in gs.values()}, _addr(gs[1]["g"]))
            assert hdr, f"{case.id}: runtime.allgs not found"
            n = core.u64(hdr + 8)
            for length in (1 << 20, 1 << 24):
                core.put(hdr + 8, length)
                core.put(hdr + 16, length)
                js, after = core.goroutines()
                assert js["total"] < 10000, f"{case.id}: {js['total']} goroutines listed for allgs len {length}"
                assert js["unreadable"] > length - n - 10000, js["unreadable"]
                stand_in = [g for g in js["goroutines"] if g["error"] and "runtime.allgs" in g["error"]]
                assert len(stand_in) == 1 and stand_in[0]["id"] == 0, stand_in[:3]
                by_g = {}
                for g in js["goroutines"]:
                    by_g.setdefault(g["g"], []).append(g)
                for i, g in gs.items():
                    same = [x for x in by_g.get(g["g"], []) if x["id"] == i]
                    assert len(same) == 1 and same[0]["frames"] == g["frames"], \
                        f"{case.id}: goroutine {i} changed or listed twice: {same}"
            core.put(hdr + 8, 1 << 40)  # beyond any plausible length: an error, no listing
            r = core.run("goroutines")
            assert r.code != 0 and "implausible length" in r.err, r.err
        finally:
            core.close()


def tests():
    for v in VERSIONS:
        yield f"allgs_length[{v}]", (lambda v=v: _allgs_length(v))
        yield f"corrupt_g[{v}]", (lambda v=v: _corrupt_g(v))
        yield f"sudog_cycles[{v}]", (lambda v=v: _sudog_cycles(v))
