#!/usr/bin/env python3
"""helm test: check one MapReduce run's output directory, then print its most frequent keys.

Checks: _SUCCESS exists and is JSON; exactly the part files it lists exist (plain or gzip);
the number of records agrees with the job's output-records counter in _SUCCESS. Exit 1 on a
mismatch. Started as `python3 -S check-output.py` with the engine package on PYTHONPATH (the
images set it), whose view of the map stage it uses while it waits.
"""
import argparse
import gzip
import heapq
import json
import os
import sys
import time

from mapreduce.layout import JobLayout, success_file
from mapreduce.shuffle import describe_failure, map_stage_status


def wait_for_commit(*, success: str, job_dir: str, max_attempts: int, seconds: int,
                    poll: float = 2.0) -> None:
    """Wait until `success` exists; exit at once if a map task failed for good."""
    layout = JobLayout(job_dir)
    deadline = time.monotonic() + seconds
    while not os.path.exists(success):
        if os.path.exists(layout.plan):
            with open(layout.plan, "rb") as f:
                maps = len(json.load(f)["splits"])
            _, failed = map_stage_status(layout, range(maps), max_attempts)
            if failed:
                index = min(failed)
                sys.exit(f"FAIL: {describe_failure(index, failed[index])}")
        if time.monotonic() > deadline:
            sys.exit(f"FAIL: {success} does not exist after {seconds}s: the job did not commit")
        time.sleep(poll)


def flatten(node, prefix=""):
    """{"GROUP.NAME": int} of every integer leaf in a (nested) counters object."""
    out = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(node, int) and not isinstance(node, bool):
        out[prefix.rstrip(".")] = node
    return out


def find(counters, name):
    """(full name, value) of the counter whose last name part is `name` ((None, None) if none)."""
    for key, value in counters.items():
        if key.rsplit(".", 1)[-1].upper() == name:
            return key, value
    return None, None


def open_part(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_parts(output, names, top_n):
    """(records, sum of the values or None when one is not an integer, top keys by value)."""
    records, total, top = 0, 0, []
    for name in names:
        with open_part(os.path.join(output, name)) as f:
            for line in f:
                records += 1
                key, _, value = line.rstrip(b"\r\n").partition(b"\t")
                try:
                    number = int(value)
                except ValueError:
                    total = None
                    continue
                if total is None:
                    continue
                total += number
                item = (number, key)
                if len(top) < top_n:
                    heapq.heappush(top, item)
                elif item > top[0]:
                    heapq.heapreplace(top, item)
    return records, total, top if total is not None else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", required=True)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--job-dir", help="the run's engine directory (to see map failures)")
    ap.add_argument("--max-attempts", type=int, default=4)
    ap.add_argument("--wait-seconds", type=int, default=0,
                    help="wait this long for the run to commit (0: check once)")
    args = ap.parse_args()
    success = success_file(args.output)
    if args.wait_seconds and args.job_dir:
        wait_for_commit(success=success, job_dir=args.job_dir, max_attempts=args.max_attempts,
                        seconds=args.wait_seconds)
    try:
        with open(success, "rb") as f:
            marker = json.loads(f.read() or b"{}")
    except FileNotFoundError:
        sys.exit(f"FAIL: {success} does not exist: the job did not commit")
    except ValueError as e:
        sys.exit(f"FAIL: {success} is not JSON: {e}")

    problems = []
    expected = set(marker.get("parts", []))
    if not expected:
        problems.append("_SUCCESS lists no part files")
    present = {n for n in os.listdir(args.output) if not n.startswith(("_", "."))}
    if present != expected:
        problems.append(f"part files: missing {sorted(expected - present)}, "
                        f"unexpected {sorted(present - expected)}")
    records, total, top = read_parts(args.output, sorted(present & expected), args.top)

    counters = flatten(marker.get("counters", {}))
    stage = "REDUCE" if marker.get("reducers", 0) > 0 else "MAP"
    key, want = find(counters, f"{stage}_OUTPUT_RECORDS")
    if want is None:
        problems.append(f"_SUCCESS has no {stage}_OUTPUT_RECORDS counter (counters: {sorted(counters)})")
    elif want != records:
        problems.append(f"{records} records in the part files, but counter {key} = {want}")
    print(f"output: {args.output}")
    print(f"parts: {len(present & expected)}, records: {records}"
          + (f", sum of values: {total}" if total is not None else ""))
    for name in sorted(counters):
        print(f"counter {name} = {counters[name]}")
    if problems:
        for p in problems:
            print("FAIL:", p)
        return 1
    if top:
        print(f"top {len(top)} keys by value:")
        for v, k in sorted(top, reverse=True):
            print(f"{v}\t{k.decode('utf-8', 'backslashreplace')}")
    print("OK: _SUCCESS present and the totals add up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
