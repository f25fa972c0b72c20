"""goautopsy map on the map_after_delete* cores: what the program's own probe
of its map header (truth.json) says against what the tool decodes."""
import lib

CASES = ("map_after_delete", "map_after_delete_big")


def _leak(case):
    leaks = [l for l in case.truth["leaks"] if l["kind"] == "map_capacity_after_delete"]
    assert len(leaks) == 1, f"{case.id}: truth has {len(leaks)} map leaks"
    return leaks[0]


def _check(case):
    t = _leak(case)
    probe = t["probe"]
    m = case.json("map", t["holder"])
    ctx = f"{case.id} {t['holder']}"
    assert m["header"] == t["addr"], f"{ctx}: header {m['header']}, program said {t['addr']}"
    assert m["map_type"] == t["map_type"] and m["elem_type"] == t["elem_type"] \
        and m["key_type"] == t["key_type"], f"{ctx}: types {m['map_type']} {m['key_type']} {m['elem_type']}"
    want_layout = "classic" if probe["layout"].startswith("classic") else "swiss"
    assert m["layout"] == want_layout, f"{ctx}: layout {m['layout']}, program's probe says {probe['layout']}"
    # len(m) as the program saw it, the header's count and the full slots found
    assert m["count"] == t["live"] and m["live"] == t["live"], \
        f"{ctx}: count {m['count']} / {m['live']} full slots, len(m) was {t['live']}"
    # main.go keeps keys 0..live-1 and deletes the rest
    keys = sorted(int(e["key"]) for e in m["entries"])
    assert keys == list(range(t["live"])), f"{ctx}: keys {keys}"
    assert m["indirect_elem"] == t["value_indirect"] and not m["indirect_key"], ctx
    assert m["slot_size"] == t["slot_bytes"], f"{ctx}: slot {m['slot_size']} B, program says {t['slot_bytes']}"
    if m["indirect_elem"]:
        # each live value is its own allocation of at least elem size
        assert m["indirect_bytes"] >= t["live"] * 256, ctx
        assert all(e["elem_addr"] not in ("0x0",) for e in m["entries"]), ctx
    if want_layout == "classic":
        c = m["classic"]
        assert c["B"] == probe["B"] and c["buckets"] == probe["buckets"], \
            f"{ctx}: B={c['B']} buckets {c['buckets']}, probe B={probe['B']} {probe['buckets']}"
        assert c["noverflow"] == probe["noverflow"], ctx
        assert not c["growing"] and probe["oldbuckets"] == "0x0", ctx
        if probe["B"] < 16:
            # noverflow counts every overflow bucket exactly while B < 16
            assert c["overflow_buckets"] == probe["noverflow"], \
                f"{ctx}: {c['overflow_buckets']} overflow buckets on the chains, noverflow {probe['noverflow']}"
            assert m["capacity"] == probe["capacity_slots"], \
                f"{ctx}: capacity {m['capacity']}, probe {probe['capacity_slots']}"
        arr = [o for o in m["objects"] if o["kind"] == "buckets"]
        assert len(arr) == 1 and arr[0]["addr"] == probe["buckets"] \
            and arr[0]["size"] >= probe["buckets_bytes"], f"{ctx}: bucket array {arr}"
    else:
        s = m["swiss"]
        assert s["dir_len"] == probe["dirLen"] and s["global_depth"] == probe["globalDepth"], ctx
        assert s["tables"] == len(probe["tables"]), f"{ctx}: {s['tables']} tables, probe {len(probe['tables'])}"
        assert m["capacity"] == probe["capacity_slots"] == sum(probe["table_capacity"]), \
            f"{ctx}: capacity {m['capacity']}, probe {probe['capacity_slots']}"
        assert m["tombstones"] == probe["tombstones"], \
            f"{ctx}: {m['tombstones']} tombstones, probe counted {probe['tombstones']}"
        assert m["capacity"] - m["live"] - m["tombstones"] == probe["empty_slots"], ctx
        objs = m["objects"]
        tables = {o["addr"] for o in objs if o["kind"] == "table"}
        assert tables == set(probe["tables"]), f"{ctx}: table objects differ from the probe's"
        groups = [o for o in objs if o["kind"] == "groups"]
        for g in probe["table_groups"]:
            ga = int(g, 16)
            # the object may begin with a malloc header before the groups
            assert any(int(o["addr"], 16) <= ga < int(o["addr"], 16) + o["size"] for o in groups), \
                f"{ctx}: groups at {g} are in no groups object"
        assert any(o["kind"] == "directory" and int(o["addr"], 16) <= int(probe["dirPtr"], 16)
                   < int(o["addr"], 16) + o["size"] for o in objs), f"{ctx}: no directory object"
    # waste as the program defines it: (capacity_slots - live) * slot bytes
    assert m["waste"] == t["waste"], f"{ctx}: waste {m['waste']}, program says {t['waste']}"
    assert m["sizes_exact"], f"{ctx}: some storage was not found in the heap"
    # The program measured HeapAlloc around fill+delete: the map's storage,
    # its live values, and the header (a few hundred bytes of noise).
    held = t["heap_bytes_held"]
    ours = m["storage_bytes"] + m["indirect_bytes"]
    assert abs(ours - held) <= max(held * 0.02, 16 << 10), \
        f"{ctx}: storage {ours} B, heap growth measured {held} B"


def _text(case):
    t = _leak(case)
    r = case.run("map", t["holder"]).ok()
    assert t["map_type"] in r.out and "live" in r.out, r.out[:500]


def tests():
    cases = [c for c in lib.corpus() if c.name in CASES]
    for case in cases:
        yield f"map[{case.id}]", (lambda c=case: _check(c))
    for case in cases[:1]:
        yield f"map_text[{case.id}]", (lambda c=case: _text(c))
    if not cases:
        def none():
            raise lib.Skip("no map_after_delete cores in corefiles/cores yet")
        yield "map[corpus]", none


def test_map_errors():
    case = next((c for c in lib.corpus() if c.name in CASES), None) or \
        next(iter(lib.corpus()), None)
    if case is None:
        raise lib.Skip("no corpus")
    r = case.run("map", "0x1000")
    assert r.code == 2 and "--type" in r.err, (r.code, r.err)
    r = case.run("map", "main.doesNotExist")
    assert r.code == 1 and "main.doesNotExist" in r.err, (r.code, r.err)
    # an unreadable header is an error, not a crash
    r = case.run("map", "0x10", "--type", "map[string]int")
    assert r.code in (1, 2) and "goautopsy:" in r.err, (r.code, r.err)
