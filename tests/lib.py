"""Shared helpers for the goautopsy tests: running the tool, the corpus."""
import glob
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORES = os.path.join(ROOT, "corefiles", "cores")
BUILD = None
TOOL = None

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


class Skip(Exception):
    pass


def configure(build):
    global BUILD, TOOL
    BUILD = build
    TOOL = os.path.join(build, "goautopsy")
    os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")


class Result:
    def __init__(self, args, proc):
        self.args = args
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise AssertionError(f"{self.cmdline()}: output is not JSON ({e}): {self.out[:300]!r}")

    def cmdline(self):
        return "goautopsy " + " ".join(self.args)

    def ok(self):
        assert self.code == 0, f"{self.cmdline()} exited {self.code}: {self.err.strip()[:2000]}"
        return self


def tool(*args, stdin=None, timeout=600, input_bytes=None):
    """Runs goautopsy; any sanitizer report fails the test whatever the exit code."""
    args = [str(a) for a in args]
    proc = subprocess.run([TOOL] + args, stdin=stdin, input=input_bytes,
                          capture_output=True, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    proc.stdout, proc.stderr = out, err
    for mark in SANITIZER_MARKS:
        assert mark not in err, f"goautopsy {' '.join(args)}: sanitizer report:\n{err[:4000]}"
    assert proc.returncode >= 0, f"goautopsy {' '.join(args)} killed by signal {-proc.returncode}"
    return Result(args, proc)


class Case:
    """One committed core: corefiles/cores/<version>/<case>/."""

    def __init__(self, d):
        self.dir = d
        self.version = os.path.basename(os.path.dirname(d))
        self.name = os.path.basename(d)
        self.core = os.path.join(d, "core.zst")
        self.exe = os.path.join(d, "exe.zst")
        self._truth = None
        self._tb = None

    @property
    def id(self):
        return f"{self.version}/{self.name}"

    @property
    def truth(self):
        if self._truth is None:
            with open(os.path.join(self.dir, "truth.json")) as f:
                self._truth = json.load(f)
        return self._truth

    @property
    def traceback(self):
        if self._tb is None:
            p = os.path.join(self.dir, "traceback.txt")
            self._tb = open(p, encoding="utf-8", errors="replace").read() if os.path.exists(p) else ""
        return self._tb

    def run(self, cmd, *args, **kw):
        return tool(cmd, self.core, "--exe", self.exe, *args, **kw)

    def json(self, cmd, *args):
        return self.run(cmd, "--json", *args).ok().json()


def corpus():
    return [Case(d) for d in sorted(glob.glob(os.path.join(CORES, "go*", "*")))
            if os.path.exists(os.path.join(d, "core.zst"))]


def unit_tests(only):
    """C unit test binaries built by meson under build/tests: each prints
    'ok NAME' / 'FAIL NAME: why' lines and exits non-zero on failure."""
    items = []
    for exe in sorted(glob.glob(os.path.join(BUILD or "", "tests", "unit_*"))):
        if not os.access(exe, os.X_OK) or exe.endswith((".p", ".o")):
            continue
        name = "unit." + os.path.basename(exe)[5:]
        if only and not any(o in name for o in only):
            continue

        def run(exe=exe):
            proc = subprocess.run([exe, ROOT], capture_output=True, timeout=900)
            out = proc.stdout.decode("utf-8", "replace")
            err = proc.stderr.decode("utf-8", "replace")
            for mark in SANITIZER_MARKS:
                assert mark not in err, f"sanitizer report:\n{err[:4000]}"
            fails = [l for l in out.splitlines() if l.startswith("FAIL")]
            assert proc.returncode == 0 and not fails, \
                f"exit {proc.returncode}\n" + "\n".join(fails[:40]) + "\n" + err[-2000:]
        items.append((name, run))
    return items


def parse_traceback(text):
    """Parses a Go crash traceback into goroutine records:
    {id, status, wait_reason, minutes, frames: [(func, file, line)], created_by, created_in}."""
    gs = {}
    blocks = re.split(r"\n(?=goroutine \d+)", "\n" + text)
    head_re = re.compile(r"^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\]:")
    for b in blocks:
        lines = b.strip("\n").split("\n")
        m = head_re.match(lines[0]) if lines else None
        if not m:
            continue
        gid = int(m.group(1))
        state = m.group(2)
        parts = [p.strip() for p in state.split(",")]
        status_word = parts[0]
        minutes = None
        flags = []
        for p in parts[1:]:
            mm = re.match(r"(\d+) minutes?", p)
            if mm:
                minutes = int(mm.group(1))
            else:
                flags.append(p)
        frames = []
        created_by = created_in = None
        i = 1
        while i < len(lines):
            l = lines[i]
            if not l.strip():
                break
            if l.startswith("created by "):
                cm = re.match(r"created by (\S+)(?: in goroutine (\d+))?", l)
                created_by = cm.group(1)
                created_in = int(cm.group(2)) if cm.group(2) else None
                loc = lines[i + 1].strip() if i + 1 < len(lines) else ""
                lm = re.match(r"(.*):(\d+)", loc)
                if lm:
                    created_by = (created_by, lm.group(1), int(lm.group(2)))
                else:
                    created_by = (created_by, None, None)
                i += 2
                continue
            if not l.startswith("\t") and i + 1 < len(lines) and lines[i + 1].startswith("\t"):
                fn = re.sub(r"\(.*\)$", "", l.strip())
                if fn.endswith("(...)"):
                    fn = fn[:-5]
                loc = lines[i + 1].strip()
                lm = re.match(r"(.*?):(\d+)", loc)
                frames.append((fn, lm.group(1) if lm else None, int(lm.group(2)) if lm else None))
                i += 2
                continue
            i += 1
        rec = {"id": gid, "state": status_word, "flags": flags, "minutes": minutes,
               "frames": frames, "created_by": created_by, "created_in": created_in}
        # The first listing of a goroutine is the full one; the crash may repeat it.
        if gid not in gs:
            gs[gid] = rec
    return gs
