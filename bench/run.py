"""Word-count benchmarks: our scripts against the tools people already use, in one run.

`make bench` runs this (`python -m bench.run` from the repository root) with the bench
virtualenv (.venv-bench: mrjob, pyspark, matplotlib). For each input size it generates text
once with scripts/gentext.py (cached outside the repo), computes the expected word counts
independently, runs every tool on it, checks that tool's output against the expected counts
(a time counts only when it agrees), and writes bench/results/: results.json, results.md,
throughput.png, scaling.png and the profiles.

Measurements: wall time of the whole command; peak memory twice: the largest single
process's maximum RSS (getrusage of the waited children, what `/usr/bin/time -v` shows) and
the peak of the summed RSS of the command's process tree (sampled from /proc every 0.5 s).
Throughput is input bytes / wall time, in MB/s (10^6 bytes).

--quick runs the same pipeline on small sizes to prove the harness works (minutes).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.common import CACHE, MB, RESULTS, RUN_LOCAL, parse_size
from bench.report import report
from bench.wordcount import WordCountBench


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and sweeps: proves the harness works in minutes")
    parser.add_argument("--sizes", help="comma-separated input sizes (default 100MB,1GB)")
    parser.add_argument("--only", default="",
                        help="comma-separated tools (and run-local, reducer-memory, profile)")
    parser.add_argument("--results", default=str(RESULTS),
                        help="where to write results (default bench/results; --quick: "
                             "$CACHE_DIR/bench-quick-results)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep earlier measurements from results.json when the tool's "
                             "sources and the data are unchanged")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--slow-max-bytes", type=parse_size, default=200 * MB,
                        help="run the slow peers (the original design's scripts, mrjob) only "
                             "up to this input size (default 200MB: on 1 GB they take 15-60 "
                             "minutes)")
    parser.add_argument("--keep-outputs", action="store_true")
    parser.add_argument("--repeat", type=int,
                        help="runs per tool; the fastest agreeing one counts (default 3, "
                             "--quick: 1)")
    parser.add_argument("--repeat-below", type=float, default=60,
                        help="repeat only runs faster than this many seconds (default 60)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite results.md and the plots from results.json")
    args = parser.parse_args(argv)
    if args.report_only:
        return args
    if not RUN_LOCAL.exists():
        parser.error("scripts/run-local is missing")
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.quick:
        args.sizes = args.sizes or "4MB,12MB"
        if args.results == str(RESULTS):
            args.results = str(CACHE / "bench-quick-results")
        args.mapper_sweep, args.reducer_sweep, args.distinct_keys = [1, 2, 4], [1, 2, 3], 30_000
    else:
        args.sizes = args.sizes or "100MB,1GB"
        args.mapper_sweep, args.reducer_sweep, args.distinct_keys = (
            [1, 2, 3, 4, 6, 8], [1, 2, 3, 4], 3_000_000)
    args.sizes = [parse_size(s) for s in args.sizes.split(",")]
    args.only = [s for s in args.only.split(",") if s]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        results = Path(args.results)
        report(results / "results.json", results)
    else:
        WordCountBench(args).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
