"""The heap engine on every committed core, against the program's own truth:
the runtime's MemStats after runtime.GC() and the leaks it recorded."""
import os
import re

import lib


def _int(x):
    return int(x, 16) if isinstance(x, str) else int(x)


def _histogram(case, *extra):
    r = case.run("histogram", "--json", "--limit", "100000", *extra)
    if r.code != 0 and ("reading runtime.buildVersion" in r.err or "not a Go program" in r.err):
        # the session cannot open this core at all: not the heap's doing
        raise lib.Skip(f"{case.id}: session does not open: {r.err.strip()[:200]}")
    return r.ok().json()


def _accounting(case):
    """Totals agree with MemStats (HeapAlloc, HeapObjects, HeapInuse) taken
    right after the program's last runtime.GC().

    Objects allocated since their span was last swept ("fresh") came after
    that GC. So allocated - fresh is what the runtime had counted at the end
    of the GC, and MemStats (read a moment later) lies between it and
    everything allocated: the difference x is what was allocated between
    the GC's end and ReadMemStats; it is known exactly and is a fresh object.
    Marking: old objects still reachable, plus those x, must be within 1 % of
    HeapObjects/HeapAlloc; the rest of the old objects died after the GC
    (temporaries of the program's truth writer), which the runtime had
    counted live.

    The program's last frames hold its truth writer (main.Truth and its
    tree) until the final panic; precisely (stack maps) those variables are
    dead by then, so the comparison with MemStats uses conservative stack
    scanning, as the GC at the time of ReadMemStats still had them live.
    Precise marking must then keep at most what conservative marking keeps."""
    h = _histogram(case, "--conservative-stacks")
    precise = _histogram(case)
    assert precise["live_objects"] <= h["live_objects"], \
        f"{case.id}: precise stacks keep {precise['live_objects']} objects, conservative {h['live_objects']}"
    assert precise["goroutines_conservative"] == 0 or precise["goroutines_precise"] > 0, precise
    ms = case.truth["memstats"]
    if h["num_gc"] != ms["NumGC"]:
        raise lib.Skip(f"{case.id}: {h['num_gc'] - ms['NumGC']} GC cycles ran after MemStats was read")
    assert h["inuse_span_bytes"] == ms["HeapInuse"], \
        f"{case.id}: in-use spans {h['inuse_span_bytes']} B, HeapInuse {ms['HeapInuse']}"
    old_objects = h["alloc_objects"] - h["fresh_objects"]
    old_bytes = h["alloc_bytes"] - h["fresh_bytes"]
    x_objects = ms["HeapObjects"] - old_objects
    x_bytes = ms["HeapAlloc"] - old_bytes
    assert 0 <= x_objects <= h["fresh_objects"] and 0 <= x_bytes <= h["fresh_bytes"], \
        f"{case.id}: allocated {h['alloc_objects']} objects / {h['alloc_bytes']} B, " \
        f"{h['fresh_objects']} / {h['fresh_bytes']} B of them since the GC; " \
        f"HeapObjects {ms['HeapObjects']}, HeapAlloc {ms['HeapAlloc']} is outside that bracket"
    assert h["live_objects"] + h["garbage_objects"] == h["alloc_objects"]
    live_old_objects = h["live_objects"] - h["fresh_live_objects"] + x_objects
    live_old_bytes = h["live_bytes"] - h["fresh_live_bytes"] + x_bytes
    # a handful of the truth writer's temporaries die after the GC even in a
    # tiny heap (go1.19/select_empty: 2 of 188, 32 bytes)
    assert abs(live_old_objects - ms["HeapObjects"]) <= max(0.01 * ms["HeapObjects"], 3), \
        f"{case.id}: marked {h['live_objects']} live objects ({h['fresh_live_objects']} of them " \
        f"allocated after the GC, {x_objects} before MemStats): {live_old_objects} vs " \
        f"HeapObjects {ms['HeapObjects']}"
    assert abs(live_old_bytes - ms["HeapAlloc"]) <= 0.01 * ms["HeapAlloc"], \
        f"{case.id}: marked {h['live_bytes']} live bytes -> {live_old_bytes} vs HeapAlloc {ms['HeapAlloc']}"
    # the histogram covers every live object exactly once
    assert sum(r["count"] for r in h["types"]) == h["live_objects"]
    assert sum(r["bytes"] for r in h["types"]) == h["live_bytes"]
    for r in h["types"]:
        assert r["retained"] >= r["bytes"] or r["retained"] >= 0 and r["bytes"] > 0, r


def _root_for(case, leak):
    """The --from selector for the holder the program names."""
    holder = leak["holder"]
    m = re.match(r"goroutine (\d+) ", holder)
    if m:
        return f"goroutine {m.group(1)}"
    m = re.match(r"(cleanup|finalizer) \(runtime special\)", holder)
    if m:
        return f"{m.group(1)} of 0x{_int(leak['addr']):x}"
    if re.match(r"^[\w./]+\.\w+$", holder):
        return holder
    return None


def _leaks(case):
    leaks = case.truth.get("leaks") or []
    if not leaks:
        raise lib.Skip(f"{case.id}: no leaks recorded")
    _histogram(case)
    for leak in leaks:
        addr = _int(leak["addr"])
        r = case.run("object", f"0x{addr:x}", "--json", "--limit", "5")
        obj = r.ok().json()
        base = _int(obj["addr"])
        size = obj["size"]
        # the address the program took is the object's start, or 8 bytes in
        # when a Go 1.22+ malloc header precedes the data
        hdr = 8 if obj["typed_by"] == "malloc header" else 0
        if leak["kind"] != "map_capacity_after_delete":
            assert base + hdr == addr or (hdr == 0 and base + 8 == addr and size > 512), \
                f"{case.id}: leak at 0x{addr:x} is at +{addr - base} of object 0x{base:x}"
            want = leak["size"]
            assert size >= want + hdr, f"{case.id}: object of {size} B for a {want} B allocation"
            # size classes waste at most 1/8; large objects round to 8 KiB pages
            assert size - (want + hdr) <= max(want // 8 + 16, 8192), \
                f"{case.id}: object of {size} B is too big for a {want} B allocation"
            if obj["type"] is not None:
                label = obj["type_label"]
                assert obj["type"] == leak["elem_type"] or label.endswith("]" + leak["elem_type"]), \
                    f"{case.id}: object typed {label} ({obj['typed_by']}), program says {leak['elem_type']}"
        else:
            # addr is the map header; the map keeps its storage alive
            assert obj["retained"] >= leak["waste"], \
                f"{case.id}: map header retains {obj['retained']} B, waste is {leak['waste']}"
        assert obj["live"], f"{case.id}: leaked object 0x{addr:x} not reachable"
        sel = _root_for(case, leak)
        if sel is None:
            continue
        p = case.json("path", f"0x{addr:x}", "--from", sel)
        assert p["reachable"] and p["paths"] >= 1, \
            f"{case.id}: 0x{addr:x} not reachable from {sel!r} (holder {leak['holder']!r})"
        first = p["nodes"][0]
        assert first["kind"] == "root" and first["root"]["name"].startswith(sel), first
        if sel.startswith("main."):
            assert first["root"]["kind"] == "global" and first["root"]["scan"] == "precise", first


def tests():
    for case in lib.corpus():
        yield f"heap_accounting[{case.id}]", (lambda c=case: _accounting(c))
        yield f"heap_leaks[{case.id}]", (lambda c=case: _leaks(c))


def _case(name, version=None):
    for c in lib.corpus():
        if c.name == name and (version is None or c.version == version):
            return c
    raise lib.Skip(f"no committed core {name}")


def test_top_names_holder():
    """The 16 MiB array pinned by main.keep: main.keep is the top retainer."""
    for c in lib.corpus():
        if c.name != "subslice":
            continue
        top = c.json("top", "--limit", "3", "--depth", "1")
        leak = c.truth["leaks"][0]
        first = top["retainers"][0]
        assert first["kind"] == "root" and first["root"]["name"] == "main.keep", first
        assert first["retained"] >= leak["size"], first
        kids = first.get("dominates") or []
        assert kids and _int(kids[0]["object"]["addr"]) == _int(leak["addr"]), kids


def test_object_referrers():
    """object lists who points to it, with the offset in the holder."""
    c = _case("interior_pointer")
    leak = c.truth["leaks"][0]
    o = c.json("object", leak["addr"])
    names = [r["root"]["name"] for r in o["referrers"] if r["kind"] == "root"]
    assert leak["holder"] in names, f"referrers {names}"
    r = next(r for r in o["referrers"] if r["kind"] == "root" and r["root"]["name"] == leak["holder"])
    assert r["offsets"] == [0], r
    # the interior pointer: object accepts an address inside
    inner = _int(leak["ref"]["ptr"])
    o2 = c.json("object", f"0x{inner:x}")
    assert o2["addr"] == o["addr"] and o2["offset"] == inner - _int(o["addr"])


def test_finalizer_cycle_held_by_special():
    """An object that reaches itself and has a finalizer: only its finalizer
    special holds it, and it is live (the finalizer never runs)."""
    for c in lib.corpus():
        if c.name != "finalizer_cycle":
            continue
        leak = c.truth["leaks"][0]
        p = c.json("path", leak["addr"])
        assert p["reachable"]
        root = p["nodes"][0]["root"]
        assert root["kind"] == "finalizer" and root.get("weak"), root
        assert _int(root["object"]) == _int(leak["addr"]), root


def test_text_outputs():
    c = _case("subslice")
    leak = c.truth["leaks"][0]
    for cmd in (["histogram"], ["top", "--depth", "2"], ["path", leak["addr"]], ["object", leak["addr"]]):
        r = c.run(*cmd).ok()
        assert r.out.strip(), cmd
    assert "main.keep" in c.run("path", leak["addr"]).ok().out


def test_bad_address():
    c = _case("subslice")
    r = c.run("object", "0x10")
    assert r.code == 1 and "not in an allocated heap object" in r.err, r.err
    r = c.run("path", "nonsense")
    assert r.code == 2, r.err


def test_types_provenance():
    """The subslice array has no runtime type (noscan, no header): typing
    gives it [N]uint8 from the slice in main.keep, into its middle."""
    for c in lib.corpus():
        if c.name != "subslice":
            continue
        leak = c.truth["leaks"][0]
        t = c.json("types", leak["addr"])
        assert t["typed_share"] > 0.9, t["typed_share"]
        o = t["objects"][0]
        assert o["type"] == "uint8" and o["how"] in ("slice", "malloc header", "largeType"), o
        if o["how"] == "slice":
            assert "main.keep" in o["provenance"] and "middle" in o["provenance"], o
        assert o["count"] * 1 + o["offset"] <= o["size"], o


def test_precise_stack_roots():
    """A blocked sender's buffer is held by its frame, scanned by the stack
    map (not conservatively), named after the goroutine and the function."""
    for c in lib.corpus():
        if c.name != "chan_senders":
            continue
        h = _histogram(c)
        assert h["goroutines_precise"] > 0, h
        leak = c.truth["leaks"][0]
        gid = re.match(r"goroutine (\d+) ", leak["holder"]).group(1)
        p = c.json("path", leak["addr"], "--from", f"goroutine {gid}")
        root = p["nodes"][0]["root"]
        assert root["kind"] == "frame" and root["scan"] == "precise", root
        assert root["name"].startswith(f"goroutine {gid} frame main.search"), root
        cons = _histogram(c, "--conservative-stacks")
        assert cons["goroutines_precise"] == 0 and cons["goroutines_conservative"] > 0, cons


def test_heap_survives_damage():
    """Damaged heap and stack memory (random words, and words copied from
    elsewhere in the core, which look like pointers) must never crash or
    hang the graph, the precise stack scan or the typing pass."""
    import random
    import subprocess
    import tempfile
    c = _case("chan_senders", "go1.26")
    rnd = random.Random(4321)
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "core")
        subprocess.run(["zstd", "-d", "-q", "-f", c.core, "-o", full], check=True)
        orig = bytearray(open(full, "rb").read())
        bad = os.path.join(d, "bad")
        n = len(orig) // 8
        for trial in range(6):
            buf = bytearray(orig)
            for _ in range(30000):
                pos = rnd.randrange(0x4000 // 8, n) * 8
                if rnd.random() < 0.5:
                    src = rnd.randrange(0x4000 // 8, n) * 8
                    buf[pos:pos + 8] = orig[src:src + 8]
                else:
                    buf[pos:pos + 8] = rnd.getrandbits(64).to_bytes(8, "little")
            open(bad, "wb").write(buf)
            for cmd in (["histogram", "--limit", "5"], ["types", "--limit", "5"],
                        ["top", "--limit", "5"]):
                r = lib.tool(cmd[0], bad, "--exe", c.exe, "--json", "--no-exe-check", *cmd[1:],
                             timeout=120)
                assert r.code in (0, 1), f"{r.cmdline()}: exit {r.code}: {r.err[:500]}"
