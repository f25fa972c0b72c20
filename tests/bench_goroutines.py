#!/usr/bin/python3
"""Benchmark: goautopsy goroutines on a core with 100 000 goroutines.

Not part of the test suite (tests/run.py never imports it). Builds the
benchmark core with corefiles/generate.sh --bench (programs/bench_goroutines:
100 000 goroutines blocked in ten ways, 10 000 each) unless it is already
there, checks that every goroutine is listed with the kind of wait the program
recorded, then times each command a few times and prints the best wall-clock
time and the CPU time (user + sys) of that run.

    tests/bench_goroutines.py [--build build] [--dir /tmp/goautopsy-bench]
                              [--versions "1.26"] [--runs 5] [--regen]

Needs a Go toolchain for the versions asked (see corefiles/README.md) and a
core_pattern writing "core" into the current directory. The figures recorded
in docs/performance-goroutines.md come from this script.
"""
import argparse
import collections
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def machine():
    cpus = os.cpu_count()
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
            mem = f"{kb / (1 << 20):.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    osname = platform.system()
    try:
        with open("/etc/os-release") as f:
            osname = next(l for l in f if l.startswith("PRETTY_NAME")).split("=", 1)[1].strip().strip('"')
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpus} cores, {mem}, {osname}, load average {load:.2f}"


def ensure_core(args, version):
    d = os.path.join(args.dir, f"go{version}", "bench_goroutines")
    core = os.path.join(d, "core")
    if args.regen or not os.path.exists(core):
        cmd = [os.path.join(ROOT, "corefiles", "generate.sh"), "--bench", args.dir,
               "--versions", version, "bench_goroutines"]
        print("building the core:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return d


def timed(argv, runs):
    """Best wall time over runs, with that run's CPU time (user + sys), peak
    resident size (the mapped core counts as it is touched) and output size."""
    best = None
    for _ in range(runs):
        with open(os.devnull, "wb") as null:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=null)
            size = 0
            while True:
                chunk = p.stdout.read(1 << 20)
                if not chunk:
                    break
                size += len(chunk)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode:
            sys.exit(f"{' '.join(argv)} exited {p.returncode}")
        run = (wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, size)
        if best is None or run[0] < best[0]:
            best = run
    return best


def check(tool, d):
    """Every parked goroutine is listed with the wait the program recorded."""
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    p = subprocess.run([tool, "goroutines", os.path.join(d, "core"), "--exe", os.path.join(d, "exe"),
                        "--all", "--json"], stdout=subprocess.PIPE, check=True)
    gs = json.loads(p.stdout)["goroutines"]
    got = collections.Counter(g["blocked_on"] for g in gs if not g["system"])
    want = collections.Counter()
    for c in truth["categories"]:
        kind = c["blocked_on"] if c["blocked_on"] != "sleep" else "other"
        want[kind] += c["count"]
    bad = {k: (got.get(k, 0), n) for k, n in want.items() if got.get(k, 0) != n}
    errors = [g for g in gs if g["error"]]
    user = sum(1 for g in gs if not g["system"])
    ok = not bad and not errors and user == truth["num_goroutine"]
    print(f"check: {len(gs)} goroutines ({user} user, the program counted {truth['num_goroutine']}), "
          f"{len(errors)} with errors, blocked_on {'as recorded' if not bad else bad}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--dir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "goautopsy-bench"))
    ap.add_argument("--versions", default="1.26")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--regen", action="store_true", help="rebuild the core even if present")
    args = ap.parse_args()
    tool = os.path.join(args.build, "goautopsy")
    print("machine:", machine())
    ok = True
    for version in args.versions.split():
        d = ensure_core(args, version)
        core, exe = os.path.join(d, "core"), os.path.join(d, "exe")
        with open(os.path.join(d, "truth.json")) as f:
            gover = json.load(f)["go_version"]
        print(f"\n{gover}: {os.path.getsize(core) / (1 << 20):.0f} MiB core")
        print(f"{'command':42} {'wall s':>8} {'cpu s':>8} {'max rss':>9} {'output':>10}")
        for extra in ([], ["--json"], ["--all"], ["--all", "--json"], ["--blocked-on", "mutex"]):
            wall, cpu, rss, size = timed([tool, "goroutines", core, "--exe", exe] + extra, args.runs)
            name = " ".join(["goroutines"] + extra)
            print(f"{name:42} {wall:8.3f} {cpu:8.3f} {rss / 1024:7.0f}MB {size / (1 << 20):8.1f}MB")
        wall, cpu, rss, size = timed([tool, "goroutine", core, "50000", "--exe", exe], args.runs)
        print(f"{'goroutine 50000':42} {wall:8.3f} {cpu:8.3f} {rss / 1024:7.0f}MB {size / (1 << 20):8.1f}MB")
        # after the timings: a forked child's peak RSS counts this process's
        ok = check(tool, d) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
