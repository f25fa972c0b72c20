#!/usr/bin/env python3
"""Heap benchmark: wall time and peak RSS per phase of goautopsy's heap
analysis on one core (normally a bench_heap core made by
`corefiles/generate.sh --bench DIR bench_heap`).

    tests/bench.py --build build DIR/go1.26/bench_heap [--runs 3]

Runs `goautopsy histogram --json` (which builds everything: load, enumerate,
edges, mark, typing, dominators and retained sizes) and prints, per phase,
the wall seconds and the process's peak RSS when the phase ended, then the
whole run's wall time and peak RSS (from wait4), and analyzer bytes per heap
object. With --runs N the fastest run is shown. Standard library only.
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

PHASES = ["load", "enumerate", "edges", "mark", "typing", "dominators"]


def run_once(tool, case_dir, extra):
    core = os.path.join(case_dir, "core")
    exe = os.path.join(case_dir, "exe")
    if not os.path.exists(core):
        core += ".zst"
        exe += ".zst"
    args = [tool, "histogram", core, "--exe", exe, "--json", "--limit", "20"] + extra
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {p.returncode}: {err.decode()[:2000]}")
    return json.loads(out), wall


def machine():
    cpus = os.cpu_count()
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    osname = platform.platform()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return f"{cpus} CPUs ({model}), {mem / 2**30:.0f} GiB RAM, {osname}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--conservative-stacks", action="store_true")
    ap.add_argument("case_dir")
    a = ap.parse_args()
    tool = os.path.join(os.path.abspath(a.build), "goautopsy")
    extra = ["--conservative-stacks"] if a.conservative_stacks else []
    best = None
    for _ in range(max(1, a.runs)):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        j, wall = run_once(tool, a.case_dir, extra)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # RUSAGE_CHILDREN keeps the largest child so far: exact for run 1
        peak = max(r0.ru_maxrss, r1.ru_maxrss) * 1024
        cpu = (r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime)
        if best is None or wall < best[1]:
            best = (j, wall, peak, cpu)
    j, wall, peak, cpu = best
    truth = {}
    tp = os.path.join(a.case_dir, "truth.json")
    if os.path.exists(tp):
        with open(tp) as f:
            truth = json.load(f)
    core = os.path.join(a.case_dir, "core")
    core_size = os.path.getsize(core) if os.path.exists(core) else 0
    nobj = j["alloc_objects"]
    print(f"machine        {machine()}")
    if truth:
        print(f"program        {truth.get('case')} {truth.get('go_version')}, "
              f"HeapAlloc {truth['memstats']['HeapAlloc'] / 2**30:.2f} GiB, "
              f"HeapObjects {truth['memstats']['HeapObjects']}, runtime.GC() "
              f"{min(truth.get('gc_wall_seconds') or [0]):.2f} s")
    if core_size:
        print(f"core           {core_size / 2**30:.2f} GiB (uncompressed)")
    print(f"heap           {nobj} objects, {j['alloc_bytes'] / 2**30:.2f} GiB allocated, "
          f"{j['live_objects']} live, {j['edges']} edges, {j['roots']} roots, "
          f"{j['typed_objects']} typed")
    print(f"{'phase':<12} {'seconds':>8} {'peak RSS':>10}")
    total = 0.0
    for name in PHASES:
        p = j["phases"][name]
        total += p["seconds"]
        rss = f"{p['peak_rss'] / 2**20:.0f} MiB" if "peak_rss" in p else "-"
        print(f"{name:<12} {p['seconds']:>8.2f} {rss:>10}")
    print(f"{'phases':<12} {total:>8.2f}")
    print(f"{'whole run':<12} {wall:>8.2f} {peak / 2**20:>6.0f} MiB   "
          f"(CPU: {cpu[0]:.2f} s user, {cpu[1]:.2f} s system; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    load_rss = j["phases"]["load"].get("peak_rss", 0)
    anon = j.get("anon_rss_after_dominators", 0) - j.get("anon_rss_after_load", 0)
    if nobj:
        print(f"peak RSS - RSS after load: {(peak - load_rss) / nobj:.1f} bytes per object "
              f"(includes the core's pages read through the mapping)")
        if anon > 0:
            print(f"analyzer memory: {anon / 2**20:.0f} MiB anonymous after the dominators, "
                  f"{anon / nobj:.1f} bytes per object")
    return 0


if __name__ == "__main__":
    sys.exit(main())
