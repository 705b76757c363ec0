"""The shuffle's cost against the number of reduce tasks R and map tasks M, and the fixed cost
of one task, with scripts/run-local (`python -m bench.shuffle`, part of `make bench`).

  reducers   20 MB of generated text, M = 4, R = 1, 10, 100, 1000
  mappers    the same text, R = 4, M = 4, 40, 400, 4000
  fixed      an empty input, M = R = 1 against M = 50 or R = 50 or both, one task at a time
             (--parallel 1): the cost of a map task and of a reduce task that have no data

Every run's output is checked against the word counts computed independently
(bench/data.py); a time counts only when it agrees. Each run keeps its intermediate data
(--keep-work, --work-dir) and the files in it are counted: the task logs apart, the rest is
what the map and reduce tasks leave on the shared volume in a cluster. Ratios compare each
run with the first of its sweep (R = 1, M = 4) in the same invocation. Only run-local's
own options are used, so the benchmark runs against any version of the engine.

Writes bench/results/shuffle.{md,json,png} (--quick: $CACHE_DIR/bench-quick-results).
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.check import Counts, check_output, parse_job_output
from bench.common import CACHE, MB, PY, RESULTS, RUN_LOCAL, log, parse_size, q, ratio
from bench.data import DATA_DIR, dataset, load_counts
from bench.machine import machine
from bench.measure import measure
from bench.report import shuffle_report
from bench.tools import portable, run_local_command

WORK = CACHE / "bench-work-shuffle"
LOG_DIRS = ("_logs",)  # run-local's task logs, not data a task hands on


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.shuffle",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 MB, R up to 100, M up to 200, 10 tasks for the fixed cost, "
                             "one run each: proves the benchmark works in a minute or two")
    parser.add_argument("--bytes", type=parse_size, help="input size (default 20MB)")
    parser.add_argument("--reducers", help="R of the reducers sweep (default 1,10,100,1000)")
    parser.add_argument("--mappers", help="M of the mappers sweep (default 4,40,400,4000)")
    parser.add_argument("--sweep-mappers", type=int, default=4,
                        help="M while R varies (default 4)")
    parser.add_argument("--sweep-reducers", type=int, default=4,
                        help="R while M varies (default 4)")
    parser.add_argument("--fixed-tasks", type=int,
                        help="tasks of the fixed-cost runs on empty input (default 50)")
    parser.add_argument("--sections", default="reducers,mappers,fixed",
                        help="which parts to run (default reducers,mappers,fixed)")
    parser.add_argument("--repeat", type=int,
                        help="runs per configuration; the fastest agreeing one counts "
                             "(default 3, --quick: 1)")
    parser.add_argument("--repeat-below", type=float, default=30,
                        help="repeat only runs faster than this many seconds (default 30)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--results", default=str(RESULTS),
                        help="where to write shuffle.{md,json,png} (default bench/results; "
                             "--quick: $CACHE_DIR/bench-quick-results)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite shuffle.md and the plot from shuffle.json")
    args = parser.parse_args(argv)
    if args.quick and args.results == str(RESULTS):
        args.results = str(CACHE / "bench-quick-results")
    if args.report_only:
        return args
    defaults = ((2 * MB, "1,10,100", "4,40,200", 10, 1) if args.quick else
                (20 * MB, "1,10,100,1000", "4,40,400,4000", 50, 3))
    args.bytes = args.bytes or defaults[0]
    args.reducers = [int(r) for r in (args.reducers or defaults[1]).split(",")]
    args.mappers = [int(m) for m in (args.mappers or defaults[2]).split(",")]
    args.fixed_tasks = args.fixed_tasks or defaults[3]
    args.repeat = args.repeat or defaults[4]
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - {"reducers", "mappers", "fixed"}
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.fixed_tasks < 2:
        parser.error("--fixed-tasks must be at least 2")
    return args


def run_local_supports(option: str) -> bool:
    """Whether this engine's run-local has `option` (older ones lack --packed)."""
    out = subprocess.run([PY, str(RUN_LOCAL), "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    return option in out.split()


def map_task_count(*, data: Path, mappers: int, reducers: int, options: tuple[str, ...],
                   scratch: Path) -> int | None:
    """How many map tasks run-local makes of `data` (--mappers is a hint to some engines)."""
    proc = subprocess.run([PY, str(RUN_LOCAL), "--plan", "--mappers", str(mappers),
                           "--reducers", str(reducers), *options, "--output",
                           str(scratch / "plan-only"), str(data)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        return len(json.loads(proc.stdout)["splits"])
    except (ValueError, KeyError, TypeError):
        return None


def count_files(work: Path) -> dict[str, float]:
    """Files and bytes a job left in its work directory, its task logs counted apart."""
    files = logs = size = 0
    for path in work.rglob("*") if work.exists() else ():
        if not path.is_file():
            continue
        if any(part in LOG_DIRS for part in path.relative_to(work).parts):
            logs += 1
            continue
        files += 1
        size += path.stat().st_size
    return {"intermediate_files": files, "intermediate_mb": round(size / MB, 2),
            "log_files": logs}


class ShuffleBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results_dir = Path(args.results)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.json_path = self.results_dir / "shuffle.json"
        self.document: dict = {"quick": args.quick}

    def save(self) -> None:
        self.document["generated"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")
        self.document["machine"] = machine(with_java=False)
        self.json_path.write_text(json.dumps(self.document, indent=1) + "\n")

    def run(self, *, data: Path, expected: Counts, mappers: int, reducers: int,
            options: tuple[str, ...] = ()) -> dict:
        """One configuration, --repeat times when fast; its fastest agreeing run."""
        directory = WORK / f"m{mappers}-r{reducers}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        map_tasks = map_task_count(data=data, mappers=mappers, reducers=reducers,
                                   options=options, scratch=directory)
        attempts = []
        for attempt in range(self.args.repeat):
            output, work = directory / "output", directory / "work"
            shutil.rmtree(output, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
            command = run_local_command(
                data=data, output=output, mappers=mappers, reducers=reducers,
                extra=(*options, "--quiet", "--keep-work", "--work-dir", str(work)))
            if attempt == 0:
                log(f"M={mappers} R={reducers}: {portable(command)[:200]}")
            stats = measure(command, timeout=self.args.timeout,
                            stderr_path=directory / "stderr.txt")
            stats.update(self.check(stats, output, directory, expected))
            stats.update(count_files(work))
            attempts.append(stats)
            if not stats["agrees"] or stats["wall_s"] > self.args.repeat_below:
                break
        shutil.rmtree(directory, ignore_errors=True)
        best = min(attempts, key=lambda a: (not a["agrees"], a["wall_s"]))
        row = {"mappers": mappers, "map_tasks": map_tasks, "reducers": reducers, **best,
               "cpu_s": round(best["user_s"] + best["sys_s"], 2),
               "walls_s": [a["wall_s"] for a in attempts], "command": portable(command)}
        log(f"  -> {row['wall_s']} s, CPU {row['cpu_s']} s, {row['map_tasks']} map tasks, "
            f"{row['intermediate_files']} intermediate files, agrees={row['agrees']} "
            f"({row['check'][:200]})")
        return row

    def check(self, stats: dict, output: Path, directory: Path, expected: Counts) -> dict:
        if stats["timed_out"]:
            return {"agrees": False, "check": f"timed out after {self.args.timeout} s"}
        if stats["returncode"] != 0:
            tail = (directory / "stderr.txt").read_bytes()[-1500:].decode(errors="replace")
            return {"agrees": False, "check": f"exit code {stats['returncode']}: {tail}"}
        if not (output / "_SUCCESS").exists():
            return {"agrees": False, "check": "no _SUCCESS in the output"}
        counts, repeated = parse_job_output(output)
        ok, detail = check_output(counts, repeated, expected)
        return {"agrees": ok, "check": detail}

    def sweep(self, name: str, *, data: Path, expected: Counts,
              configs: list[tuple[int, int]]) -> None:
        """Runs of one sweep, each with its ratio to the sweep's first run."""
        rows: list[dict] = []
        self.document[name]["rows"] = rows
        for mappers, reducers in configs:
            rows.append(self.run(data=data, expected=expected, mappers=mappers,
                                 reducers=reducers))
            first = rows[0]
            for row in rows:
                row["ratio"] = ratio(row["wall_s"], first["wall_s"]) \
                    if row["agrees"] and first["agrees"] else None
            self.save()

    def fixed_cost(self) -> None:
        """Empty input, one task at a time: 1 map and 1 reduce task against n of either."""
        n = self.args.fixed_tasks
        empty = DATA_DIR / "empty.txt"
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        empty.write_bytes(b"")
        # Engines that take --mappers as a hint make one map task of an empty file; --packed
        # asks them for exactly that many.
        packed = run_local_supports("--packed")
        options = ("--parallel", "1", *(("--packed",) if packed else ()))
        section: dict = {"tasks": n, "parallel": 1, "packed": packed, "rows": []}
        self.document["fixed"] = section
        for mappers, reducers in ((1, 1), (n, 1), (1, n), (n, n)):
            section["rows"].append(self.run(data=empty, expected={}, mappers=mappers,
                                            reducers=reducers, options=options))
            self.save()
        section.update(per_task(section["rows"]))
        self.save()

    def main(self) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        sections = self.args.sections
        if "reducers" in sections or "mappers" in sections:
            data, meta = dataset(self.args.bytes)
            expected = load_counts(Path(meta["expected"]))
            self.document["input"] = {k: meta[k] for k in ("bytes", "seed", "words",
                                                           "distinct_words")}
            measure(f"cat {q(data)} > /dev/null")  # into the page cache
        if "reducers" in sections:
            m = self.args.sweep_mappers
            self.document["reducers"] = {"mappers": m}
            self.sweep("reducers", data=data, expected=expected,
                       configs=[(m, r) for r in self.args.reducers])
        if "mappers" in sections:
            r = self.args.sweep_reducers
            self.document["mappers"] = {"reducers": r}
            self.sweep("mappers", data=data, expected=expected,
                       configs=[(m, r) for m in self.args.mappers])
        if "fixed" in sections:
            self.fixed_cost()
        self.save()
        shuffle_report(self.json_path, self.results_dir)


def per_task(rows: list[dict]) -> dict:
    """Seconds (wall and CPU) one more map task, reduce task, or task of either costs:
    the difference to the M = R = 1 run over the difference in tasks."""
    base = rows[0]
    costs: dict = {}
    for key, row, kind in (("map_task", rows[1], "m"), ("reduce_task", rows[2], "r"),
                           ("task", rows[3], "mr")):
        extra = 0
        if "m" in kind and row["map_tasks"] is not None and base["map_tasks"] is not None:
            extra += row["map_tasks"] - base["map_tasks"]
        if "r" in kind:
            extra += row["reducers"] - base["reducers"]
        good = row["agrees"] and base["agrees"] and extra > 0
        costs[f"{key}_s"] = round((row["wall_s"] - base["wall_s"]) / extra, 3) if good else None
        costs[f"{key}_cpu_s"] = round((row["cpu_s"] - base["cpu_s"]) / extra, 3) \
            if good else None
    costs["job_s"] = base["wall_s"] if base["agrees"] else None
    return costs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        results = Path(args.results)
        shuffle_report(results / "shuffle.json", results)
        return 0
    ShuffleBench(args).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
