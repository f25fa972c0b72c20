"""goautopsy info on every committed core: version, goroutines, heap."""
import lib


def _check(case):
    info = case.json("info")
    t = case.truth
    assert info["go_version"] == t["go_version"], \
        f"{case.id}: go_version {info['go_version']!r}, program said {t['go_version']!r}"
    assert info["goos"] == t.get("goos", "linux") and info["goarch"] == t.get("goarch", "amd64")
    assert info["executable"] == case.exe
    assert info["threads"] >= 1 and info["ms"] >= 1 and info["gomaxprocs"] >= 1
    if t.get("pid"):
        assert info["pid"] == t["pid"], f"pid {info['pid']} != {t['pid']}"
    tb = lib.parse_traceback(case.traceback)
    if tb:
        # GOTRACEBACK=crash lists every goroutine, system ones included.
        assert info["goroutines"] == len(tb), \
            f"{case.id}: {info['goroutines']} goroutines, traceback lists {len(tb)}"
        assert info["signal"] and info["signal"]["name"] == "SIGABRT", info["signal"]
    else:
        assert info["user_goroutines"] == t["num_goroutine"], \
            f"{case.id}: {info['user_goroutines']} user goroutines, program counted {t['num_goroutine']}"
    user = t.get("num_goroutine")
    if user is not None and tb:
        # NumGoroutine() was read before the crash; the panic path starts none.
        assert info["user_goroutines"] == user, \
            f"{case.id}: {info['user_goroutines']} user goroutines, NumGoroutine said {user}"
    by_status = info["goroutines_by_status"]
    assert sum(by_status.values()) == info["goroutines"]
    ms = t["memstats"]
    h = info["heap"]
    # Span bytes are the runtime's HeapInuse, up to what the truth writer
    # allocated after ReadMemStats.
    diff = abs(h["inuse_span_bytes"] - ms["HeapInuse"])
    assert diff <= max(ms["HeapInuse"] * 0.05, 512 << 10), \
        f"{case.id}: in-use spans {h['inuse_span_bytes']} vs HeapInuse {ms['HeapInuse']}"
    assert h["arenas"] >= 1


def tests():
    for case in lib.corpus():
        yield f"info[{case.id}]", (lambda c=case: _check(c))


def test_corpus_present():
    cases = lib.corpus()
    versions = {c.version for c in cases}
    assert {"go1.19", "go1.26", "go1.27"} <= versions, f"corpus versions: {sorted(versions)}"


def test_text_output():
    case = next(c for c in lib.corpus() if c.name == "subslice")
    r = case.run("info").ok()
    assert "goroutines" in r.out and case.truth["go_version"] in r.out


def test_stdin_zstd():
    case = next(c for c in lib.corpus() if c.name == "subslice")
    with open(case.core, "rb") as f:
        r = lib.tool("info", "-", "--exe", case.exe, "--json", stdin=f).ok()
    assert r.json()["go_version"] == case.truth["go_version"]
    assert r.json()["core_compressed"] is True
