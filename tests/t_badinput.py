"""Bad input gets one clear line on stderr and a non-zero exit, never a crash."""
import os
import shutil
import subprocess
import tempfile

import lib

NONGO = os.path.join(lib.ROOT, "corefiles", "nongo", "c_abort")


def _one_line_error(r, *words):
    assert r.code != 0, f"{r.cmdline()}: exit 0 on bad input"
    lines = [l for l in r.err.splitlines() if l.strip()]
    assert len(lines) == 1, f"{r.cmdline()}: expected one stderr line, got:\n{r.err[:2000]}"
    assert lines[0].startswith("goautopsy: "), lines[0]
    low = lines[0].lower()
    for w in words:
        assert w.lower() in low, f"{r.cmdline()}: {lines[0]!r} does not mention {w!r}"
    assert r.out == "", f"{r.cmdline()}: printed to stdout on error: {r.out[:200]!r}"


def _case(name="subslice", version="go1.26"):
    for c in lib.corpus():
        if c.name == name and c.version == version:
            return c
    raise lib.Skip(f"corpus case {version}/{name} missing")


def _unzstd(src, dst):
    subprocess.run(["zstd", "-d", "-q", "-f", src, "-o", dst], check=True)


def test_missing_file():
    r = lib.tool("info", "/nonexistent/core")
    _one_line_error(r, "/nonexistent/core")


def test_directory():
    r = lib.tool("info", lib.HERE)
    _one_line_error(r, "directory")


def test_empty_file():
    with tempfile.NamedTemporaryFile() as f:
        _one_line_error(lib.tool("info", f.name), "empty")


def test_not_elf():
    _one_line_error(lib.tool("info", __file__), "not an ELF")


def test_executable_as_core():
    c = _case()
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "exe")
        _unzstd(c.exe, exe)
        _one_line_error(lib.tool("info", exe, "--exe", exe), "not a core")


def test_core_as_executable():
    c = _case()
    _one_line_error(lib.tool("info", c.core, "--exe", c.core), "core")


def test_truncated_core_everywhere():
    c = _case()
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "core")
        _unzstd(c.core, full)
        size = os.path.getsize(full)
        data = open(full, "rb").read(min(size, 1 << 16))
        cut = os.path.join(d, "cut")
        # inside the ELF header, the program headers, the notes, then the segments
        points = [1, 10, 63, 64, 100, 500, 1000, 2000, 4000, 8192, size // 3, size // 2, size - 4096, size - 1]
        for p in points:
            with open(full, "rb") as src, open(cut, "wb") as dst:
                remaining = p
                while remaining:
                    chunk = src.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    dst.write(chunk)
                    remaining -= len(chunk)
            r = lib.tool("info", cut, "--exe", c.exe)
            _one_line_error(r)
            assert any(w in r.err for w in ("truncated", "not an ELF", "too short", "past the end")), \
                f"cut at {p}: {r.err.strip()}"
        del data


def test_truncated_core_allowed():
    """--allow-truncated reads what a partial core still holds."""
    c = _case()
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "core")
        _unzstd(c.core, full)
        size = os.path.getsize(full)
        with open(full, "r+b") as f:
            f.truncate(size - 4096)
        r = lib.tool("info", full, "--exe", c.exe, "--allow-truncated", "--json")
        # Either it reads on, or it names what is missing; never a crash.
        if r.code == 0:
            assert r.json()["go_version"] == c.truth["go_version"]
        else:
            _one_line_error(r)


def test_truncated_zstd():
    c = _case()
    with tempfile.TemporaryDirectory() as d:
        cut = os.path.join(d, "core.zst")
        data = open(c.core, "rb").read()
        for p in (5, len(data) // 2, len(data) - 3):
            open(cut, "wb").write(data[:p])
            r = lib.tool("info", cut, "--exe", c.exe)
            _one_line_error(r, "zstd")


def test_garbage_zstd():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "junk.zst")
        open(p, "wb").write(b"\x28\xb5\x2f\xfd" + os.urandom(5000))
        _one_line_error(lib.tool("info", p), "zstd")


def test_non_go_core():
    core = os.path.join(NONGO, "core.zst")
    exe = os.path.join(NONGO, "exe.zst")
    _one_line_error(lib.tool("info", core, "--exe", exe), "not a Go program")


def test_non_go_core_without_exe():
    # The core names an executable that is not here: a clear error either way.
    r = lib.tool("info", os.path.join(NONGO, "core.zst"))
    _one_line_error(r)


def test_mismatched_exe():
    a = _case("subslice")
    b = _case("substring")
    r = lib.tool("info", a.core, "--exe", b.exe)
    _one_line_error(r, "does not match")


def test_mismatched_version_exe():
    a = _case("subslice", "go1.26")
    b = _case("subslice", "go1.19")
    _one_line_error(lib.tool("info", a.core, "--exe", b.exe), "match")


def test_stripped_exe():
    c = _case()
    if not shutil.which("objcopy"):
        raise lib.Skip("objcopy (binutils) not installed")
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "exe")
        _unzstd(c.exe, exe)
        stripped = os.path.join(d, "stripped")
        subprocess.run(["objcopy", "--strip-debug", exe, stripped], check=True)
        r = lib.tool("info", c.core, "--exe", stripped)
        _one_line_error(r, "DWARF", "--exe")


def test_core_names_missing_exe():
    c = _case()
    r = lib.tool("info", c.core)
    _one_line_error(r, "--exe")


def test_unknown_command_and_option():
    r = lib.tool("frobnicate", "x")
    assert r.code == 2 and "unknown command" in r.err
    c = _case()
    r = lib.tool("info", c.core, "--bogus")
    assert r.code == 2 and "unknown option" in r.err


def test_corrupted_core_bytes():
    """Random damage to the notes and heap must never crash the tool."""
    c = _case()
    import random
    rnd = random.Random(1234)
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "core")
        _unzstd(c.core, full)
        orig = bytearray(open(full, "rb").read())
        bad = os.path.join(d, "bad")
        for trial in range(12):
            buf = bytearray(orig)
            for _ in range(64):
                pos = rnd.randrange(64, len(buf))
                buf[pos] = rnd.randrange(256)
            # damage the note segment too
            for _ in range(16):
                pos = rnd.randrange(64, min(len(buf), 0x4000))
                buf[pos] = rnd.randrange(256)
            open(bad, "wb").write(buf)
            r = lib.tool("info", bad, "--exe", c.exe, "--json", "--no-exe-check")
            if r.code != 0:
                _one_line_error(r)
