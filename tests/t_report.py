"""goautopsy report: the leak detectors against the corpus truth.

One test per committed core (case x Go version), driven by truth.json:
- every kind of expect_findings is reported; no kind outside
  expect_findings + allow_findings is (controls: no finding at all at the
  default thresholds);
- every seeded leak of truth.leaks is found with its kind, names the holder
  the program used, and its waste is within 5% of the recorded one;
- every goroutine truth marks leaked is in a goroutine_leak (or deadlock)
  finding, with the blocked_on the truth gives;
- the --json report validates against docs/report-schema.json.
Plus --fail-on, --all and the text layout on a few cores.
"""
import json
import os
import re

import lib

SCHEMA = os.path.join(lib.ROOT, "docs", "report-schema.json")
WASTE_TOLERANCE = 0.05
GOROUTINE_KINDS = ("goroutine_leak", "deadlock")
WINDOW_KINDS = ("subslice_pins_array", "interior_pointer_pins_array", "substring_pins_string",
                "slice_capacity_unused")

_schema = None
_reports = {}


def _validator():
    global _schema
    if _schema is None:
        try:
            import jsonschema
        except ImportError:
            raise lib.Skip("python3-jsonschema is not installed")
        with open(SCHEMA) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _schema = jsonschema.Draft202012Validator(schema)
    return _schema


def validate(report, what):
    errs = sorted(_validator().iter_errors(report), key=lambda e: list(e.path))
    assert not errs, f"{what}: report does not match docs/report-schema.json:\n" + "\n".join(
        f"  at {'/'.join(str(p) for p in e.path)}: {e.message[:300]}" for e in errs[:10])


def report(case, *args):
    """`report --json --all` of a case (cached: several checks share it)."""
    key = (case.id,) + args
    if key not in _reports:
        _reports[key] = case.json("report", "--all", *args)
    return _reports[key]


def _int(a):
    return int(a, 16) if isinstance(a, str) else int(a)


def _object_allocated(case, addr):
    """Whether the core holds an allocated heap object at addr (the program's
    truth is a claim; the core's allocation bits are the fact)."""
    r = case.run("object", hex(addr))
    return r.code == 0


def _covers(finding, addr):
    """addr is inside one of the finding's objects (a malloc header may put
    the object 8 bytes before the address the program saw)."""
    for o in finding.get("objects") or []:
        a, size = _int(o["addr"]), o["size"]
        if a <= addr < a + max(size, 1):
            return True
    return False


def _holder_ok(kind, truth_holder, holders):
    """The truth's holder, as goautopsy should name it."""
    if kind in GOROUTINE_KINDS:
        # "goroutine 6 main.watch var buf": the goroutine and its frame must
        # be named; a variable, when given, must be the program's. Parked
        # frames' DWARF often has no location for a spilled variable, so
        # the frame alone is accepted.
        m = re.match(r"(goroutine \d+ \S+)(?: var (\S+))?$", truth_holder)
        if not m:
            return any(h and truth_holder in h for h in holders)
        frame, var = m.group(1), m.group(2)
        for h in holders:
            if not h or not (h == frame or h.startswith(frame + " ")):
                continue
            hv = re.match(re.escape(frame) + r" var (\S+)", h)
            if not var or not hv or hv.group(1).split(".")[0].split("[")[0] == var:
                return True
        return False
    if kind == "finalizer_cycle":
        # "finalizer (runtime special) on *main.Foo"; the type only when known
        prefix, _, typ = truth_holder.partition(" on *")
        for h in holders:
            if h and h.startswith(prefix + " on *"):
                ours = h[len(prefix) + 5:].split(" ")[0]
                if ours in (typ, "object"):
                    return True
        return False
    return truth_holder in holders


def _finding_holders(f):
    return [f.get("holder")] + [o.get("holder") for o in f.get("objects") or []]


def _check_case(case):
    t = case.truth
    rep = report(case)
    validate(rep, case.id)
    expect = set(t.get("expect_findings") or [])
    allow = set(t.get("allow_findings") or [])
    kinds = [f["kind"] for f in rep["findings"]]
    summary = "\n".join(f"  {f['kind']} waste={f['waste_bytes']} holder={f.get('holder')}"
                        for f in rep["findings"])
    assert not rep["errors"], f"{case.id}: detectors failed: {rep['errors']}"
    missing = expect - set(kinds)
    assert not missing, f"{case.id}: expected {sorted(missing)} not reported; found:\n{summary}"
    extra = set(kinds) - expect - allow
    assert not extra, f"{case.id}: {sorted(extra)} reported but not expected nor allowed:\n{summary}"
    if not expect:
        assert not rep["findings"], f"{case.id}: leak-free control has findings:\n{summary}"
    for s in rep.get("suppressed") or []:
        assert s.get("suppressed"), f"{case.id}: suppressed candidate without a reason: {s}"
    # the runtime's own objects (a p's embedded pools, a Swiss map's groups
    # behind a malloc header) are never a program's pinned array, even
    # below the thresholds
    for f in rep["findings"] + (rep.get("suppressed") or []):
        if f["kind"] not in WINDOW_KINDS:
            continue
        for o in f.get("objects") or []:
            if o.get("role") == "backing array" and o.get("type"):
                assert not re.match(r"^[\[\]0-9*]*(runtime\.|internal/runtime/|map\.|noalg\.)", o["type"]), \
                    f"{case.id}: {f['kind']} candidate on a runtime structure {o['type']} ({f.get('holder')})"

    # seeded leaks: kind, holder, waste
    goroutine_waste = {}  # id(finding) -> truth waste of its members' leaks
    by_goid = {}
    for f in rep["findings"]:
        for g in f.get("goroutines") or []:
            by_goid[g] = f
    for leak in t.get("leaks") or []:
        kind, addr = leak["kind"], _int(leak["addr"])
        cands = [f for f in rep["findings"] if f["kind"] == kind]
        assert cands, f"{case.id}: no {kind} finding for the leak held by {leak['holder']}"
        if kind == "goroutine_leak":
            m = re.match(r"goroutine (\d+) ", leak["holder"])
            f = by_goid.get(int(m.group(1))) if m else None
            assert f is not None and f["kind"] == kind, \
                f"{case.id}: goroutine of {leak['holder']} is in no goroutine_leak finding:\n{summary}"
            holders = _finding_holders(f)
            # a group lists its biggest objects only: another member's
            # frame of the same function names the group's holder then
            members = set(f.get("goroutines") or [])
            if not any(h and h.startswith(f"goroutine {m.group(1)} ") for h in holders):
                holders = [re.sub(r"^goroutine (\d+) ", lambda x: f"goroutine {m.group(1)} "
                                  if int(x.group(1)) in members else x.group(0), h)
                           for h in holders if h]
            assert _holder_ok(kind, leak["holder"], holders), \
                f"{case.id}: holder {leak['holder']!r} not named; finding names {holders}"
            if leak.get("waste") is not None and _object_allocated(case, addr):
                goroutine_waste.setdefault(id(f), [f, 0])[1] += leak["waste"]
            continue
        match = [f for f in cands if _covers(f, addr)] or cands
        f = match[0]
        assert _holder_ok(kind, leak["holder"], _finding_holders(f)), \
            f"{case.id}: {kind}: holder {leak['holder']!r} not named; finding names {_finding_holders(f)}"
        if leak.get("waste"):
            want, got = leak["waste"], f["waste_bytes"]
            assert abs(got - want) <= WASTE_TOLERANCE * want, \
                f"{case.id}: {kind} held by {leak['holder']}: waste {got}, truth {want} (±5%)"
    for f, want in goroutine_waste.values():
        # the group's waste: the members' seeded buffers plus their stacks
        # (and the little runtime bookkeeping only they hold)
        want += f["stack_bytes"]
        got = f["waste_bytes"]
        assert abs(got - want) <= WASTE_TOLERANCE * want, \
            f"{case.id}: goroutine_leak {f['holder']}: waste {got}, truth {want} with stacks (±5%)"

    # parked goroutines: leaked ones reported with their blocked_on
    for g in t.get("goroutines") or []:
        if not g.get("leaked"):
            assert g["goid"] not in by_goid, \
                f"{case.id}: goroutine {g['goid']} ({g['blocked_on']}) is not leaked but reported"
            continue
        f = by_goid.get(g["goid"])
        assert f is not None, f"{case.id}: leaked goroutine {g['goid']} ({g['function']}, " \
                              f"{g['blocked_on']}) not reported:\n{summary}"
        if f["kind"] == "goroutine_leak" or g["blocked_on"] in ("mutex", "rwmutex"):
            assert f["blocked_on"] == g["blocked_on"], \
                f"{case.id}: goroutine {g['goid']}: blocked_on {f['blocked_on']}, truth {g['blocked_on']}"
    if t.get("finalizer_queue"):
        q = t["finalizer_queue"]
        fs = [f for f in rep["findings"] if f.get("queued")]
        assert fs and fs[0]["queued"] >= q["pending"], \
            f"{case.id}: the {q['pending']} queued finalizers are not reported"
        assert fs[0]["waste_bytes"] >= q["retained_bytes"], \
            f"{case.id}: the finalizer backlog wastes {fs[0]['waste_bytes']} < {q['retained_bytes']}"
    if t.get("deadlock_cycle"):
        dl = [f for f in rep["findings"] if f["kind"] == "deadlock"]
        assert any(sorted(f["goroutines"]) == sorted(t["deadlock_cycle"]) for f in dl), \
            f"{case.id}: deadlock cycle {t['deadlock_cycle']} not reported as one finding"


def tests():
    for case in lib.corpus():
        yield f"report[{case.id}]", (lambda c=case: _check_case(c))


def _case(name, version="go1.26"):
    for c in lib.corpus():
        if c.name == name and c.version == version:
            return c
    raise lib.Skip(f"no committed core {version}/{name}")


def test_fail_on():
    """--fail-on KIND, SEVERITY, any, waste>SIZE: exit 3 when a reported
    finding matches, 0 otherwise; a bad spec is a usage error."""
    c = _case("subslice")
    f = report(c)["findings"]
    assert len(f) == 1 and f[0]["kind"] == "subslice_pins_array" and f[0]["severity"] == "medium", f
    cases = [
        ("subslice_pins_array", 3), ("goroutine_leak", 0), ("deadlock,subslice_pins_array", 3),
        ("medium", 3), ("low", 3), ("high", 0), ("any", 3),
        ("waste>1M", 3), ("waste>16M", 0), ("waste>1G", 0), ("waste>15.9M", 3),
    ]
    for spec, code in cases:
        r = c.run("report", "--fail-on", spec)
        assert r.code == code, f"--fail-on {spec}: exit {r.code}, want {code}: {r.err[:300]}"
        assert "goautopsy report:" in r.out, f"--fail-on {spec}: the report is still printed"
    r = c.run("report", "--json", "--fail-on", "subslice_pins_array")
    assert r.code == 3 and json.loads(r.out)["findings"], "--json with --fail-on"
    ctl = _case("control_copied")
    for spec in ("any", "low", "subslice_pins_array", "waste>0"):
        r = ctl.run("report", "--fail-on", spec)
        assert r.code == 0, f"control --fail-on {spec}: exit {r.code}"
    for bad in ("no_such_kind", "waste>lots", "waste>"):
        r = c.run("report", "--fail-on", bad)
        assert r.code == 2 and "--fail-on" in r.err, f"--fail-on {bad}: exit {r.code}: {r.err[:200]}"


def test_all_lists_suppressed():
    """Candidates under the thresholds are counted, listed by --all with the
    reason, and become findings when the thresholds allow them."""
    c = _case("control_copied")
    rep = report(c)
    assert not rep["findings"], rep["findings"]
    sup = rep.get("suppressed") or []
    assert sup and rep["summary"]["suppressed"] == len(sup), rep["summary"]
    for s in sup:
        assert s["suppressed"], s
    assert any("under --min-waste" in s["suppressed"] for s in sup), [s["suppressed"] for s in sup]
    plain = c.json("report")
    assert "suppressed" not in plain and plain["summary"]["suppressed"] == len(sup), plain["summary"]
    text = c.run("report").ok().out
    assert "suppressed candidates" not in text and "--all lists them" in text, text[:400]
    text = c.run("report", "--all").ok().out
    assert "==== suppressed candidates" in text and "  suppressed:  " in text, text[:2000]
    # thresholds off: what was suppressed for its size is reported
    low = c.json("report", "--min-waste", "0", "--min-ratio", "0")
    validate(low, "control_copied --min-waste 0")
    sized = [s for s in sup if "under --min-" in s["suppressed"]]
    assert len(low["findings"]) >= len(sized), (len(low["findings"]), len(sized))
    assert low["options"] == {"min_waste": 0, "min_ratio": 0.0}, low["options"]


def test_bad_thresholds():
    c = _case("subslice")
    for args in (("--min-waste", "lots"), ("--min-ratio", "2"), ("--min-ratio", "x")):
        r = c.run("report", *args)
        assert r.code == 2, f"{args}: exit {r.code}"


def test_text_layout():
    """One-screen summary first (Go version, heap in use, attributed, top
    findings), then the findings by kind, then the top retainers."""
    c = _case("chan_senders")
    rep = report(c)
    out = c.run("report").ok().out
    lines = out.splitlines()
    assert lines[0].startswith("goautopsy report: go1.26") and "heap in use" in lines[0], lines[0]
    assert lines[1].startswith("attributed to findings:"), lines[1]
    head = "\n".join(lines[:12])
    assert "goroutine_leak" in head and "waste" in head, head
    first_kind = out.index("== goroutine_leak (")
    top = out.index("== top retainers ==")
    assert first_kind < top and out.index("goroutine_leak") < first_kind, out[:600]
    assert len(lines[:lines.index("") if "" in lines else 5]) <= 3
    f = rep["findings"][0]
    assert f"blocked on:  chan_send (chan send), {f['count']} goroutines" in out, out[:2000]
    assert "fix:" in out and "created by:" in out


def test_goroutine_leak_fields():
    """A goroutine group: count, blocked_on, wait reason, creator, waits,
    stacks, ids, an example stack."""
    c = _case("chan_senders")
    t = c.truth
    f = [x for x in report(c)["findings"] if x["kind"] == "goroutine_leak"][0]
    leaked = sorted(g["goid"] for g in t["goroutines"] if g["leaked"])
    assert sorted(f["goroutines"]) == leaked and f["count"] == len(leaked), (f["goroutines"], leaked)
    assert f["blocked_on"] == "chan_send" and f["wait_reason"] == "chan send", f
    assert f["created_by"]["function"] == t["goroutines"][0]["created_by"], f["created_by"]
    assert f["stack_bytes"] >= 2048 * f["count"] and f["longest_wait_ns"] is not None, f
    assert any(fr["function"] == "main.search" for fr in f["example"]["frames"]), f["example"]


def test_kinds_are_stable():
    """The kinds of leak-patterns.md, in every output: the schema lists the same."""
    with open(SCHEMA) as fh:
        schema = json.load(fh)
    kinds = schema["$defs"]["kind"]["enum"]
    assert kinds == ["subslice_pins_array", "interior_pointer_pins_array", "hidden_beyond_len",
                     "slice_capacity_unused", "map_capacity_after_delete", "substring_pins_string",
                     "finalizer_cycle", "goroutine_leak", "deadlock"], kinds
    for k in kinds:  # every kind is a valid --fail-on word
        r = _case("subslice").run("report", "--fail-on", k)
        assert r.code in (0, 3), f"--fail-on {k}: exit {r.code}: {r.err[:200]}"


def test_hostile_heap():
    """A core whose heap words are shuffled (pointers moved to wrong places:
    cycles, bogus channels, sudog chains, map headers) must give a report
    or one clean error, never a crash, a sanitizer report or a hang."""
    import random
    import subprocess
    import tempfile
    c = _case("finalizer_backlog", "go1.26")
    rnd = random.Random(4321)
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "core")
        subprocess.run(["zstd", "-d", "-q", "-f", c.core, "-o", full], check=True)
        orig = bytearray(open(full, "rb").read())
        # the words that look like pointers into the heap's 4 GiB, by offset
        base = _int(c.truth["goroutines"][0]["object"]) >> 32 << 32
        n8 = (len(orig) - 0x4000) // 8
        q = memoryview(orig)[0x4000:0x4000 + 8 * n8].cast("Q")
        words = [0x4000 + 8 * i for i in range(n8) if base <= q[i] < base + (1 << 32)]
        q.release()
        assert len(words) > 1000, len(words)
        bad = os.path.join(d, "bad")
        codes = []
        for trial in range(12):
            buf = bytearray(orig)
            for _ in range(len(words) // (4 << trial % 6)):
                a, b = rnd.choice(words), rnd.choice(words)
                buf[a:a + 8], buf[b:b + 8] = orig[b:b + 8], orig[a:a + 8]
            open(bad, "wb").write(buf)
            r = lib.tool("report", bad, "--exe", c.exe, "--json", "--all", "--no-exe-check", timeout=300)
            assert r.code in (0, 1), f"trial {trial}: exit {r.code}: {r.err[:500]}"
            codes.append(r.code)
            if r.code == 0:
                validate(json.loads(r.out), f"hostile trial {trial}")
            else:
                assert r.err.startswith("goautopsy: "), r.err[:500]
        assert 0 in codes, f"no damaged core got as far as a report: {codes}"


def test_lock_in_shared_tiny_block():
    """mutex_tiny: the mutex shares a tiny block with a counter a global
    keeps alive; the waiter is still leaked (pointers into the lock's own
    bytes decide), on every version."""
    cases = [c for c in lib.corpus() if c.name == "mutex_tiny"]
    if not cases:
        raise lib.Skip("no committed mutex_tiny core")
    for case in cases:
        tiny = case.truth["tiny"]
        obj = case.json("object", tiny["mutex"])
        assert obj.get("tiny") and _int(obj["addr"]) == _int(tiny["counter"]), \
            f"{case.id}: the mutex is not in the counter's tiny block: {obj['addr']}"
        rep = report(case)
        leaked = {g for f in rep["findings"] if f["kind"] == "goroutine_leak" for g in f.get("goroutines") or []}
        for g in case.truth["goroutines"]:
            if g["leaked"]:
                assert g["goid"] in leaked, f"{case.id}: goroutine {g['goid']} ({g['blocked_on']}) not leaked"
