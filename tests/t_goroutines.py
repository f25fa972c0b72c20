"""goautopsy goroutines / goroutine against the runtime's own traceback.

For every committed core whose program died with GOTRACEBACK=crash, the
saved stderr lists every goroutine: same goid set, same status / wait reason,
same frames (function, file:line), same creator. The gcore_live core has no
traceback: its goroutine count must be what the program itself counted.
What each goroutine is blocked on is checked against the programs' truth.json.
"""
import re

import lib

BLOCKED_KINDS = {"chan_receive", "chan_send", "nil_chan", "select", "select_empty", "mutex",
                 "rwmutex", "waitgroup", "cond", "other"}


def _ours(case):
    js = case.json("goroutines", "--all")
    assert isinstance(js.get("goroutines"), list), f"{case.id}: no goroutines array"
    gs = {}
    for g in js["goroutines"]:
        _check_shape(case, g)
        assert g["id"] not in gs, f"{case.id}: goroutine {g['id']} listed twice"
        gs[g["id"]] = g
    return js, gs


GOROUTINE_KEYS = {"id", "g", "status", "wait_reason", "waitsince", "waited_ns", "waited_minutes", "system",
                  "locked_to_thread", "m", "created_by", "parent_id", "start", "stack", "frames_from",
                  "stack_complete", "frames", "blocked_on", "blocked_object", "sema", "notify_list",
                  "chans", "error"}


def _check_shape(case, g):
    """Every field of goroutines --all --json, with its type."""
    where = f"{case.id}: goroutine {g.get('id')}"
    assert GOROUTINE_KEYS <= set(g), f"{where}: missing {sorted(GOROUTINE_KEYS - set(g))}"
    assert isinstance(g["id"], int) and g["id"] > 0, where
    assert isinstance(g["status"], str) and g["status"], where
    assert isinstance(g["wait_reason"], str), where
    assert (g["wait_reason"] != "") == (g["status"] in ("waiting", "leaked")), \
        f"{where}: status {g['status']!r} with wait reason {g['wait_reason']!r}"
    assert g["waited_ns"] is None or (isinstance(g["waited_ns"], int) and g["waited_ns"] >= 0), where
    for loc in (g["created_by"], g["start"]):
        assert loc is None or (set(loc) >= {"function", "file", "line"} and loc["function"]), where
    assert g["created_by"] is not None or g["id"] == 1, f"{where}: no creator"
    assert g["parent_id"] is None or isinstance(g["parent_id"], int), where
    st = g["stack"]
    lo, hi = int(st["lo"], 16), int(st["hi"], 16)
    assert lo < hi and st["size"] == hi - lo and st["size"] >= 2048, f"{where}: stack {st}"
    if st["sp"] is not None and g["frames_from"] == "sched":
        assert lo <= int(st["sp"], 16) < hi and st["used"] == hi - int(st["sp"], 16), f"{where}: stack {st}"
    for f in g["frames"]:
        assert set(f) >= {"function", "file", "line", "inlined", "pc", "sp"} and f["function"], f"{where}: {f}"
    assert g["blocked_on"] in BLOCKED_KINDS | {""}, where
    assert (g["blocked_on"] == "") == (g["status"] not in ("waiting", "leaked")), where
    if g["blocked_on"] == "cond":
        assert g["notify_list"] == g["sema"], where
    else:
        assert g["notify_list"] is None, where
    for c in g["chans"]:
        assert set(c) >= {"addr", "dir", "readable"}, f"{where}: {c}"
        if c["readable"]:
            assert set(c) >= {"elem_type", "elem_size", "len", "cap", "closed", "recv_waiters",
                              "send_waiters"}, f"{where}: {c}"
            assert 0 <= c["len"] <= c["cap"], f"{where}: {c}"


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
        problems += _check_object(case, w, g)
        if g["status"] in ("waiting", "leaked") and g["waitsince"] and g["waited_ns"] is None:
            problems.append(f"goroutine {gid}: waitsince {g['waitsince']} but no waited_ns")
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


def _check_object(case, w, g):
    """What the goroutine waits on, against the program's own view of it:
    the channel (buffer, closed, waiters, element type), every channel of a
    select, the semaphore inside a Mutex / WaitGroup, the Cond's notifyList."""
    t = case.truth
    gid = w["goid"]
    kind = w.get("blocked_on")
    problems = []
    if kind in ("chan_receive", "chan_send", "select"):
        want = set(w.get("objects") or [w.get("object")])
        got = {c["addr"] for c in g["chans"]}
        # (a select whose truth names one channel only: that one must be among them)
        if got != want and not (kind == "select" and not w.get("objects") and want <= got):
            problems.append(f"goroutine {gid}: channels {sorted(got)}, program {sorted(want)}")
        dirs = {c["dir"] for c in g["chans"]}
        if kind != "select" and dirs != {"receive" if kind == "chan_receive" else "send"}:
            problems.append(f"goroutine {gid}: channel direction {dirs} for {kind}")
        if kind == "select" and "" in dirs:
            problems.append(f"goroutine {gid}: a select case without a direction: {g['chans']}")
        ch = t.get("channel")
        for c in g["chans"]:
            if not c["readable"]:
                problems.append(f"goroutine {gid}: channel {c['addr']} not read")
                continue
            if not ch or ch.get("addr") != c["addr"]:
                continue
            for ours, theirs in (("cap", "cap"), ("closed", "closed"), ("recv_waiters", "receivers_waiting"),
                                 ("send_waiters", "senders_waiting")):
                if theirs in ch and c[ours] != ch[theirs]:
                    problems.append(f"goroutine {gid}: channel {ours} {c[ours]}, program {theirs} {ch[theirs]}")
            # (null until DW_AT_go_runtime_type is read as an offset from moduledata.types)
            if c["elem_type"] is not None and ch.get("elem_type") and c["elem_type"] != ch["elem_type"]:
                problems.append(f"goroutine {gid}: element type {c['elem_type']}, program {ch['elem_type']}")
    elif kind in ("mutex", "rwmutex", "waitgroup"):
        obj, sema = g["blocked_object"], g["sema"]
        if not sema or not obj or not 0 <= int(sema, 16) - int(obj, 16) < 64:
            problems.append(f"goroutine {gid}: semaphore {sema} not inside the {kind} at {obj}")
        if g["chans"]:
            problems.append(f"goroutine {gid}: channels listed for a {kind} wait")
    elif kind == "cond":
        nl, obj = g["notify_list"], g["blocked_object"]
        if not nl or not obj or not 0 < int(nl, 16) - int(obj, 16) < 64:
            problems.append(f"goroutine {gid}: notifyList {nl} not inside the Cond at {obj}")
    elif kind in ("nil_chan", "select_empty"):
        if g["chans"] or g["blocked_object"]:
            problems.append(f"goroutine {gid}: {kind} with channels {g['chans']} / object {g['blocked_object']}")
    return problems


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


_LOC = re.compile(r"^\t(.+?:\d+)(?: (\+0x[0-9a-f]+))?(?: fp=.*)?$")


def _text_locations(text):
    """goroutine id -> [(file:line, "+0x.." or None)] of its frames and creator,
    from a traceback in the runtime's format (first listing of each)."""
    out = {}
    for gid, raw in _tb_sections(text).items():
        out[gid] = [(m.group(1), m.group(2)) for m in map(_LOC.match, raw.split("\n")) if m]
    return out


def _check_text(case):
    """goroutines --all prints each goroutine as the runtime does: the same
    file:line and +0x offset (into the function) on every frame line."""
    if not case.traceback:
        raise lib.Skip(f"{case.id}: no traceback")
    theirs = _text_locations(case.traceback)
    ours = _text_locations(case.run("goroutines", "--all").ok().out)
    problems = []
    for gid, t in sorted(theirs.items()):
        o = ours.get(gid)
        if o is None:
            problems.append(f"goroutine {gid}: not listed")
        elif "elided" in _tb_sections(case.traceback)[gid] or not t:
            continue
        elif o != t and o[len(o) - len(t):] != t:  # a running goroutine: ours start deeper
            problems.append(f"goroutine {gid}:\n  ours      {o}\n  traceback {t}")
    assert not problems, f"{case.id}:\n" + "\n".join(problems[:10])


def tests():
    for case in lib.corpus():
        yield f"traceback[{case.id}]", (lambda c=case: _check_traceback(c))
        yield f"text[{case.id}]", (lambda c=case: _check_text(c))
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
