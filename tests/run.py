#!/usr/bin/env python3
"""goautopsy test runner.

Runs the C unit tests meson built and every test_* function of the t_*.py
modules here against the committed cores in corefiles/cores. Prints one line
per test and ends with "N passed, N failed". Uses only the standard library
(plus python3-jsonschema when a test validates against a schema).
"""
import argparse
import concurrent.futures
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lib  # noqa: E402


def discover(only):
    found = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("t_") and fn.endswith(".py")):
            continue
        mod = importlib.import_module(fn[:-3])
        items = list(mod.tests()) if hasattr(mod, "tests") else []
        items += [(name, getattr(mod, name)) for name in sorted(dir(mod))
                  if name.startswith("test_") and callable(getattr(mod, name))]
        for name, fn_ in items:
            full = f"{fn[:-3]}.{name}"
            if only and not any(o in full for o in only):
                continue
            found.append((full, fn_))
    return found


def run_one(item):
    name, fn = item
    t0 = time.time()
    try:
        fn()
        return name, True, "", time.time() - t0
    except lib.Skip as e:
        return name, None, str(e), time.time() - t0
    except AssertionError as e:
        return name, False, str(e) or traceback.format_exc(limit=3), time.time() - t0
    except Exception:  # a crash in a test is a failure, with its traceback
        return name, False, traceback.format_exc(limit=5), time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("only", nargs="*", help="run tests whose name contains one of these")
    args = ap.parse_args()
    lib.configure(os.path.abspath(args.build))

    items = lib.unit_tests(args.only) + discover(args.only)
    passed = failed = skipped = 0
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for name, ok, msg, dt in ex.map(run_one, items):
            if ok is None:
                skipped += 1
                print(f"skip {name}: {msg}", flush=True)
            elif ok:
                passed += 1
                if args.verbose:
                    print(f"ok   {name} ({dt:.1f}s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {name} ({dt:.1f}s)\n     " + msg.strip().replace("\n", "\n     "), flush=True)
    print(f"({len(items)} tests in {time.time() - t0:.0f}s, {skipped} skipped)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
