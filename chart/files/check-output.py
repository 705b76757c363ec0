#!/usr/bin/env python3
"""helm test: check one MapReduce run's output directory, then print its most frequent keys.

Checks: _SUCCESS exists and is JSON; exactly the expected part files exist (part-NNNNN for R
reducers, part-m-NNNNN for a map-only job); every record is `key<TAB>value`; the number of
records and the sum of the values agree with the job counters in _SUCCESS. Exit 1 on a mismatch.
"""
import argparse
import heapq
import json
import os
import sys
import time

sys.path.insert(0, "/opt/mapreduce")  # the engine in the image: its view of the map stage


def wait_for_commit(success, job_dir, mappers, max_attempts, seconds, poll=2.0):
    """Wait until `success` exists; exit at once if a map task failed for good."""
    import mrglue
    deadline = time.monotonic() + seconds
    while not os.path.exists(success):
        _, failed = mrglue.map_stage_status(job_dir, mappers, max_attempts)
        if failed:
            index = min(failed)
            sys.exit(f"FAIL: {mrglue.describe_failure(index, failed[index])}")
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


def find(counters, *names):
    """Value of the first counter whose last name part is one of `names` (None if none)."""
    for name in names:
        for key, value in counters.items():
            if key.rsplit(".", 1)[-1].upper() == name:
                return key, value
    return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", required=True)
    ap.add_argument("--mappers", type=int, required=True)
    ap.add_argument("--reducers", type=int, required=True)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--job-dir", help="the run's engine directory (to see map failures)")
    ap.add_argument("--max-attempts", type=int, default=4)
    ap.add_argument("--wait-seconds", type=int, default=0,
                    help="wait this long for the run to commit (0: check once)")
    args = ap.parse_args()
    problems = []

    success = os.path.join(args.output, "_SUCCESS")
    if args.wait_seconds and args.job_dir:
        wait_for_commit(success, args.job_dir, args.mappers, args.max_attempts,
                        args.wait_seconds)
    try:
        with open(success, "rb") as f:
            marker = json.loads(f.read() or b"{}")
    except FileNotFoundError:
        sys.exit(f"FAIL: {success} does not exist: the job did not commit")
    except ValueError as e:
        sys.exit(f"FAIL: {success} is not JSON: {e}")

    if args.reducers > 0:
        expected = {"part-%05d" % i for i in range(args.reducers)}
    else:
        expected = {"part-m-%05d" % i for i in range(args.mappers)}
    present = {n for n in os.listdir(args.output) if not n.startswith(("_", "."))}
    if present != expected:
        problems.append(f"part files: missing {sorted(expected - present)}, unexpected {sorted(present - expected)}")

    records = total = 0
    numeric = True
    top = []
    for name in sorted(present & expected):
        with open(os.path.join(args.output, name), "rb") as f:
            for n, line in enumerate(f, 1):
                key, tab, value = line.rstrip(b"\n").partition(b"\t")
                records += 1
                if not tab:
                    problems.append(f"{name}:{n}: no tab in record {line[:80]!r}")
                    continue
                try:
                    v = int(value)
                except ValueError:
                    numeric = False
                    continue
                total += v
                item = (v, key)
                if len(top) < args.top:
                    heapq.heappush(top, item)
                elif item > top[0]:
                    heapq.heapreplace(top, item)

    counters = flatten(marker.get("counters", marker))
    stage = "REDUCE" if args.reducers > 0 else "MAP"
    key, want = find(counters, f"{stage}_OUTPUT_RECORDS")
    if want is None:
        problems.append(f"_SUCCESS has no {stage}_OUTPUT_RECORDS counter (counters: {sorted(counters)})")
    elif want != records:
        problems.append(f"{records} records in the part files, but counter {key} = {want}")
    print(f"output: {args.output}")
    print(f"parts: {len(present & expected)}, records: {records}" + (f", sum of values: {total}" if numeric else ""))
    for name in sorted(counters):
        print(f"counter {name} = {counters[name]}")
    if problems:
        for p in problems:
            print("FAIL:", p)
        return 1
    if numeric and top:
        print(f"top {len(top)} keys by value:")
        for v, k in sorted(top, reverse=True):
            print(f"{v}\t{k.decode('utf-8', 'backslashreplace')}")
    print("OK: _SUCCESS present and the totals add up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
