"""goautopsy goroutines / goroutine against the runtime's own traceback.

For every committed core whose program died with GOTRACEBACK=crash, the
saved stderr lists every goroutine: same goid set, same status / wait reason,
same frames (function, file:line), same creator. The gcore_live core has no
traceback: its goroutine count must be what the program itself counted.
What each goroutine is blocked on is checked against the programs' truth.json.
"""
import os
import re
import shutil
import subprocess
import tempfile

import lib

BLOCKED_KINDS = {"chan_receive", "chan_send", "nil_chan", "select", "select_empty", "mutex",
                 "rwmutex", "waitgroup", "cond", "other"}


def _ours(case):
    js = case.json("goroutines", "--all")
    assert isinstance(js.get("goroutines"), list), f"{case.id}: no goroutines array"
    gs = {}
    for g in js["goroutines"]:
        for k in ("id", "status", "wait_reason", "created_by", "frames"):
            assert k in g, f"{case.id}: goroutine without {k}: {g}"
        assert g["id"] not in gs, f"{case.id}: goroutine {g['id']} listed twice"
        gs[g["id"]] = g
    return js, gs


def _tb_sections(text):
    """goroutine id -> its first listing's raw text (to see elisions)."""
    out = {}
    for b in re.split(r"\n(?=goroutine \d+)", "\n" + text):
        m = re.match(r"goroutine (\d+)", b.strip("\n"))
        if m and int(m.group(1)) not in out:
            out[int(m.group(1))] = b
    return out


def _func_name(line):
    """A traceback frame line "pkg.(*T).M(0x1, ...)" without its argument list
    (lib.parse_traceback cuts at the first parenthesis, losing receivers)."""
    line = line.strip()
    if not line.endswith(")"):
        return line
    depth = 0
    for i in range(len(line) - 1, -1, -1):
        if line[i] == ")":
            depth += 1
        elif line[i] == "(":
            depth -= 1
            if depth == 0:
                return line[:i]
    return line


def _fix_names(tb, text):
    """Re-reads the function names of each goroutine's first listing."""
    for gid, raw in _tb_sections(text).items():
        if gid not in tb:
            continue
        lines = raw.strip("\n").split("\n")[1:]
        names = []
        for i, l in enumerate(lines):
            if not l.strip():
                break
            if l.startswith("created by "):
                break
            if not l.startswith("\t") and i + 1 < len(lines) and lines[i + 1].startswith("\t"):
                names.append(_func_name(l))
        frames = tb[gid]["frames"]
        if len(names) == len(frames):
            tb[gid]["frames"] = [(n,) + tuple(f[1:]) for n, f in zip(names, frames)]
    return tb


def _frames_match(ours, theirs, raw, status):
    """The runtime prints every frame at GOTRACEBACK=crash except: the frames
    above the point a crashing goroutine's traceback started from (a prefix of
    ours), and the middle of very deep stacks ("...N frames elided...")."""
    if ours == theirs:
        return True
    if "frames elided" in raw or "additional frames elided" in raw:
        head = [f for f in theirs[:50]]
        tail = [f for f in theirs[50:]]
        return ours[:len(head)] == head and (not tail or ours[-len(tail):] == tail)
    if status == "running" and len(ours) > len(theirs) and ours[len(ours) - len(theirs):] == theirs:
        return True
    return False


def _check_traceback(case):
    tb = _fix_names(lib.parse_traceback(case.traceback), case.traceback)
    if not tb:
        raise lib.Skip(f"{case.id}: no traceback")
    js, gs = _ours(case)
    raw = _tb_sections(case.traceback)
    assert set(gs) == set(tb), \
        f"{case.id}: goroutine ids differ: only ours {sorted(set(gs) - set(tb))}, only traceback {sorted(set(tb) - set(gs))}"
    problems = []
    for gid, t in sorted(tb.items()):
        g = gs[gid]
        want_state = g["wait_reason"] or g["status"]
        if g["status"] == "leaked" and g["wait_reason"]:
            want_state += " (leaked)"
        ours = [(f["function"], f["file"], f["line"]) for f in g["frames"]]
        woken = g["status"] == "runnable" and ours == t["frames"]
        if t["state"] != want_state and not woken:
            # (a goroutine readied after the traceback was printed keeps its
            # parked stack and becomes runnable: the only change accepted)
            problems.append(f"goroutine {gid}: state {want_state!r}, traceback [{t['state']}]")
        if ("locked to thread" in t["flags"]) != g["locked_to_thread"]:
            problems.append(f"goroutine {gid}: locked_to_thread {g['locked_to_thread']}, traceback flags {t['flags']}")
        # our dump time is a lower bound of the runtime's nanotime() at print time
        if (g["waited_minutes"] or 0) > (t["minutes"] or 0):
            problems.append(f"goroutine {gid}: waited {g['waited_minutes']} minutes, traceback {t['minutes']}")
        ours = [(f["function"], f["file"], f["line"]) for f in g["frames"]]
        theirs = t["frames"]
        if not theirs and "stack unavailable" in raw.get(gid, ""):
            pass  # running on another thread: the runtime printed no frames
        elif not _frames_match(ours, theirs, raw.get(gid, ""), g["status"]):
            problems.append(f"goroutine {gid}: frames\n  ours      {ours}\n  traceback {theirs}")
        cb = g["created_by"]
        ours_cb = (cb["function"], cb["file"], cb["line"]) if cb else None
        if ours_cb != t["created_by"]:
            problems.append(f"goroutine {gid}: created by {ours_cb}, traceback {t['created_by']}")
        if t["created_in"] is not None and g["parent_id"] != t["created_in"]:
            problems.append(f"goroutine {gid}: parent {g['parent_id']}, traceback in goroutine {t['created_in']}")
        if g["error"]:
            problems.append(f"goroutine {gid}: error {g['error']}")
        if not g["stack_complete"] and t["frames"] and t["frames"][-1][0] == "runtime.goexit":
            problems.append(f"goroutine {gid}: walk did not reach goexit")
    assert not problems, f"{case.id}:\n" + "\n".join(problems[:20])


def _check_truth(case):
    """blocked_on, the object waited on and the creator, from what the program recorded."""
    t = case.truth
    want = t.get("goroutines") or []
    if not want:
        raise lib.Skip(f"{case.id}: truth lists no goroutines")
    _, gs = _ours(case)
    problems = []
    for w in want:
        gid = w["goid"]
        g = gs.get(gid)
        if not g:
            problems.append(f"goroutine {gid} missing")
            continue
        if w.get("wait_reason") and g["wait_reason"] != w["wait_reason"]:
            problems.append(f"goroutine {gid}: wait reason {g['wait_reason']!r}, program {w['wait_reason']!r}")
        kind = w.get("blocked_on")
        if kind in BLOCKED_KINDS and g["blocked_on"] != kind:
            problems.append(f"goroutine {gid}: blocked on {g['blocked_on']!r}, program {kind!r}")
        obj = w.get("object")
        if kind in BLOCKED_KINDS and obj:
            got = g["blocked_object"]
            chans = [c["addr"] for c in g["chans"]]
            if got != obj and obj not in chans:
                problems.append(f"goroutine {gid}: blocked on object {got} (chans {chans}), program {obj}")
        if w.get("created_by") and (not g["created_by"] or g["created_by"]["function"] != w["created_by"]):
            problems.append(f"goroutine {gid}: created by {g['created_by']}, program {w['created_by']}")
        fn = w.get("function")
        if fn and fn not in [f["function"] for f in g["frames"]]:
            problems.append(f"goroutine {gid}: no frame {fn}")
        stack = w.get("stack")
        if stack:
            names = [f["function"] for f in g["frames"]]
            # the program's runtime.Stack-derived list, innermost first, must appear in order
            i = 0
            for n in names:
                if i < len(stack) and n == stack[i]:
                    i += 1
            if i < len(stack):
                problems.append(f"goroutine {gid}: frames {names} do not contain {stack} in order")
    assert not problems, f"{case.id}:\n" + "\n".join(problems[:20])


def _check_count(case):
    t = case.truth
    if t.get("mode") == "crash" or case.traceback:
        raise lib.Skip(f"{case.id}: crash core (checked against the traceback)")
    _, gs = _ours(case)
    user = [g for g in gs.values() if not g["system"]]
    assert len(user) == t["num_goroutine"], \
        f"{case.id}: {len(user)} user goroutines, the program counted {t['num_goroutine']}"
    bad = [(g["id"], g["error"]) for g in gs.values() if g["error"]]
    assert not bad, f"{case.id}: goroutines with errors: {bad[:5]}"
    for g in gs.values():
        if g["status"] != "running":
            assert g["stack_complete"], f"{case.id}: goroutine {g['id']} walk did not reach goexit"


def tests():
    for case in lib.corpus():
        yield f"traceback[{case.id}]", (lambda c=case: _check_traceback(c))
        yield f"truth[{case.id}]", (lambda c=case: _check_truth(c))
        yield f"count[{case.id}]", (lambda c=case: _check_count(c))


def _case(name, version):
    for c in lib.corpus():
        if c.name == name and c.version == version:
            return c
    raise lib.Skip(f"corpus case {version}/{name} missing")


def test_text_and_single():
    for version in ("go1.19", "go1.26", "go1.27"):
        case = _case("lock_order", version)
        r = case.run("goroutines").ok()
        assert "goroutines in" in r.out and "main.transfer" in r.out, r.out[:500]
        js = case.json("goroutines")
        groups = js["groups"]
        assert sum(g["count"] for g in groups) == js["matching"] == js["total"]
        tb = lib.parse_traceback(case.traceback)
        gid = next(i for i, t in tb.items() if any(f[0] == "main.transfer" for f in t["frames"]))
        one = case.json("goroutine", gid)
        assert one["id"] == gid and one["blocked_on"] == "mutex", one
        r = case.run("goroutine", gid).ok()
        assert f"goroutine {gid} [" in r.out and "blocked on mutex" in r.out
        r = case.run("goroutine", 999999)
        assert r.code != 0 and "no goroutine 999999" in r.err


def test_filters():
    case = _case("chan_senders", "go1.26")
    t = case.truth
    senders = {w["goid"] for w in t["goroutines"] if w.get("blocked_on") == "chan_send"}
    js = case.json("goroutines", "--all", "--blocked-on", "chan_send")
    assert {g["id"] for g in js["goroutines"]} == senders
    js = case.json("goroutines", "--all", "--reason", "chan send", "--user")
    assert {g["id"] for g in js["goroutines"]} == senders
    js = case.json("goroutines", "--state", "waiting", "--func", "main.")
    assert js["matching"] >= len(senders)
    grouped = [g for g in js["groups"] if g["wait_reason"] == "chan send"]
    assert sum(g["count"] for g in grouped) == len(senders)


def _unzstd(src, dst):
    subprocess.run(["zstd", "-d", "-q", "-f", src, "-o", dst], check=True)


def _patch(path, addr_to_off, addr, data):
    off = addr_to_off(addr)
    assert off is not None, f"0x{addr:x} not in a dumped segment"
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def _segments(path):
    """PT_LOAD segments of a core: (vaddr, offset, filesz)."""
    import struct
    with open(path, "rb") as f:
        hdr = f.read(64)
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", ph, i * phentsize)
        if p_type == 1 and p_filesz:
            segs.append((p_vaddr, p_offset, p_filesz))
    return lambda a: next((o + a - v for v, o, n in segs if v <= a < v + n), None)


def test_corrupted_goroutines():
    """A g with garbage sched.pc/sp, a sudog cycle: listed with an error, no crash."""
    import struct
    for version in ("go1.19", "go1.26"):
        case = _case("chan_senders", version)
        js, gs = _ours(case)
        victims = sorted(i for i, g in gs.items() if g["blocked_on"] == "chan_send")[:3]
        assert len(victims) == 3
        with tempfile.TemporaryDirectory() as d:
            core = os.path.join(d, "core")
            _unzstd(case.core, core)
            a2o = _segments(core)
            # offsets of g.sched.sp/pc and g.waiting from a traceback-independent source:
            # the goroutine's own reported sp lies inside [stack lo, hi) and the g holds both
            g0, g1, g2 = (gs[v] for v in victims)
            gaddr = int(g0["g"], 16)
            # find sched.sp by value in the g (the innermost sp of a parked goroutine)
            blob = open(core, "rb")
            def read(addr, n):
                blob.seek(a2o(addr))
                return blob.read(n)
            gbytes = read(gaddr, 512)
            sp = int(g0["stack"]["sp"], 16)
            words = struct.unpack("<64Q", gbytes)
            sp_off = words.index(sp) * 8
            # 1: sched.sp outside the stack
            _patch(core, a2o, gaddr + sp_off, struct.pack("<Q", 0x10))
            # 2: sched.pc in no function (pc is the word after sp in gobuf: sp, pc)
            g1addr = int(g1["g"], 16)
            _patch(core, a2o, g1addr + sp_off + 8, struct.pack("<Q", 0x1234))
            # 3: a sudog whose waitlink points to itself
            g2addr = int(g2["g"], 16)
            g2words = struct.unpack("<64Q", read(g2addr, 512))
            # g.waiting holds the sudog: the only word pointing at a sudog whose first word is g itself
            sudog = None
            for w in g2words:
                try:
                    if w and a2o(w) is not None and struct.unpack("<Q", read(w, 8))[0] == g2addr:
                        sudog = w
                        break
                except Exception:
                    pass
            assert sudog, "no sudog found for the cycle test"
            sw = struct.unpack("<24Q", read(sudog, 192))
            # waitlink is the word after parent, before waittail; set every word that is 0
            # among the link fields to point back at the sudog itself
            for i in range(1, len(sw)):
                if sw[i] == 0 and i >= 8:
                    _patch(core, a2o, sudog + 8 * i, struct.pack("<Q", sudog))
            blob.close()
            r = lib.tool("goroutines", core, "--exe", case.exe, "--all", "--json", timeout=120).ok()
            out = {g["id"]: g for g in r.json()["goroutines"]}
            assert set(out) == set(gs), f"{version}: goroutine set changed"
            assert out[victims[0]]["error"] and "outside the stack" in out[victims[0]]["error"], out[victims[0]]
            assert out[victims[1]]["error"] and "no Go function" in out[victims[1]]["error"], out[victims[1]]
            # the untouched ones are still fine
            others = [i for i in gs if i not in victims and gs[i]["frames"]]
            assert all(out[i]["frames"] == gs[i]["frames"] for i in others)
            lib.tool("goroutines", core, "--exe", case.exe, timeout=120).ok()
            lib.tool("goroutine", core, str(victims[2]), "--exe", case.exe, timeout=120).ok()
