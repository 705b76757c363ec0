"""The word-count benchmark's runs: every tool on every input size, run-local over mapper and
reducer counts, the reducers' peak memory and the profile; results.json is saved after each
run, so an interrupted benchmark keeps what it measured."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
from pathlib import Path

from bench import profiling
from bench.check import Counts, check_output
from bench.common import CACHE, MB, PY, ROOT, log, q, sha256_files, size_label
from bench.data import DATA_DIR, dataset, load_counts
from bench.machine import machine
from bench.measure import STRIPPED_ENV, measure
from bench.report import report
from bench.tools import BASELINE, REDUCER, Tool, portable, run_local_config, run_local_tool, tools


class WordCountBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results_dir = Path(args.results)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.work = CACHE / ("bench-work-quick" if args.quick else "bench-work")
        self.json_path = self.results_dir / "results.json"
        self.old: dict[tuple[str, int], dict] = {}
        if args.reuse and self.json_path.exists():
            for row in json.loads(self.json_path.read_text()).get("runs", []):
                self.old[(row["tool"], row["bytes"])] = row
        self.runs: list[dict] = []
        self.extra: dict = {}
        self.best: dict | None = None

    def reusable(self, tool: Tool, size: int, *, sha: str, data_sha: str) -> dict | None:
        """An earlier measurement of the same sources on the same data, if --reuse."""
        old = self.old.get((tool.name, size))
        if old and old.get("sources_sha") == sha and old.get("data_sha") == data_sha and \
                old.get("agrees") is not False and (
                "walls_s" in old or old["wall_s"] > self.args.repeat_below):
            return old
        return None

    def run_tool(self, tool: Tool, data: Path, meta: dict, expected: Counts) -> dict:
        """Run a tool (--repeat times when fast) and record its fastest agreeing run."""
        size = meta["bytes"]
        sha = sha256_files(list(tool.sources))
        old = self.reusable(tool, size, sha=sha, data_sha=meta["expected_sha256"])
        if old:
            log(f"{tool.name} on {size_label(size)}: reusing the earlier measurement")
            old["command"] = portable(old["command"])
            self.runs.append(old)
            return old
        load = [round(x, 2) for x in os.getloadavg()]
        attempts = []
        for attempt in range(self.args.repeat):
            out = self.work / f"{tool.name}-{size}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            command = tool.build(data, out)
            if attempt == 0:
                log(f"{tool.name} on {size_label(size)}: {portable(command)[:200]}")
            stats = measure(command, timeout=self.args.timeout,
                            stderr_path=out / "stderr.txt")
            stats.update(self.check(tool, out, stats, meta, expected))
            attempts.append(stats)
            if not self.args.keep_outputs:
                shutil.rmtree(out, ignore_errors=True)
            if stats["agrees"] is False or stats["wall_s"] > self.args.repeat_below:
                break
        best = min(attempts, key=lambda a: (a["agrees"] is False, a["wall_s"]))
        row = {"tool": tool.name, "group": tool.group_name, "label": tool.label, "bytes": size,
               "command": portable(command), "sources_sha": sha,
               "data_sha": meta["expected_sha256"], **best,
               "max_rss_mb": max(a["max_rss_mb"] for a in attempts),
               "peak_tree_rss_mb": max(a["peak_tree_rss_mb"] for a in attempts),
               "walls_s": [a["wall_s"] for a in attempts], "load_average_before": load}
        row["throughput_mb_s"] = round(size / MB / row["wall_s"], 2)
        log(f"  -> {row['wall_s']} s, {row['throughput_mb_s']} MB/s, "
            f"max RSS {row['max_rss_mb']} MB, tree {row['peak_tree_rss_mb']} MB, "
            f"agrees={row['agrees']} ({row['check'][:200]})")
        self.runs.append(row)
        self.save()
        return row

    def check(self, tool: Tool, out: Path, stats: dict, meta: dict, expected: Counts) -> dict:
        """Whether this run's output agrees with the expected counts, and why not."""
        if stats["timed_out"]:
            return {"agrees": False, "check": f"timed out after {self.args.timeout} s"}
        if stats["returncode"] != 0:
            tail = (out / "stderr.txt").read_bytes()[-1500:].decode(errors="replace")
            return {"agrees": False, "check": f"exit code {stats['returncode']}: {tail}"}
        if tool.parse is None:
            return {"agrees": None, "check": "no output (reference point)"}
        if tool.splits == "ascii" and not meta["ascii_only_whitespace"]:
            return {"agrees": False, "check": "not comparable: the text holds whitespace "
                    "that this tool does not split on"}
        counts, repeated = tool.parse(out)
        ok, detail = check_output(counts, repeated, expected)
        return {"agrees": ok, "check": detail}

    def save(self) -> None:
        document = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"), "machine": machine(), "quick": self.args.quick,
            "environment_removed": list(STRIPPED_ENV),
            "runs": self.runs, **self.extra}
        self.json_path.write_text(json.dumps(document, indent=1) + "\n")

    def main(self) -> None:
        all_tools = tools()
        selected = [n for n in all_tools if not self.args.only or n in self.args.only]
        sizes = self.args.sizes
        for size in sizes:
            data, meta = dataset(size)
            expected = load_counts(Path(meta["expected"]))
            self.extra.setdefault("datasets", {})[str(size)] = {
                k: meta[k] for k in ("bytes", "seed", "words", "distinct_words",
                                     "ascii_only_whitespace", "gentext_sha256")}
            measure(f"cat {q(data)} > /dev/null")  # into the page cache
            for name in selected:
                tool = all_tools[name]
                if tool.slow and size > self.args.slow_max_bytes:
                    log(f"{name} on {size_label(size)}: skipped (--slow-max-bytes)")
                    continue
                self.run_tool(tool, data, meta, expected)
            if not self.args.only or "run-local" in self.args.only:
                self.sweep(data, meta, expected, full=size == sizes[0])
        if not self.args.only or "reducer-memory" in self.args.only:
            self.reducer_memory()
        if not self.args.only or "profile" in self.args.only:
            self.profile(dataset(sizes[0])[0])
        self.save()
        report(self.json_path, self.results_dir)

    def sweep(self, data: Path, meta: dict, expected: Counts, *, full: bool) -> None:
        """run-local over mapper and reducer counts (on the first size only); the best is
        'run-local (best)'. Every size gets -m4 -r3 and the best configuration found."""
        rows = []
        if full:
            rows = [self.run_tool(run_local_tool(m, 2), data, meta, expected)
                    for m in self.args.mapper_sweep]
            good = [r for r in rows if r["agrees"]]
            best_m = run_local_config(min(good, key=lambda r: r["wall_s"])["tool"])[0] \
                if good else 2
            rows += [self.run_tool(run_local_tool(best_m, r), data, meta, expected)
                     for r in self.args.reducer_sweep if r != 2]
            self.best = min((r for r in rows if r["agrees"]), key=lambda r: r["wall_s"],
                            default=None)
        measured = {r["tool"] for r in rows}
        configs = {(4, 3)}
        if self.best:
            configs.add(run_local_config(self.best["tool"]))
        for m, r in sorted(configs):
            if run_local_tool(m, r).name not in measured:
                self.run_tool(run_local_tool(m, r), data, meta, expected)

    def sorted_keys_file(self) -> Path:
        """N distinct keys, each twice, sorted: a reducer's input (made once, cached)."""
        keys = self.args.distinct_keys
        path = DATA_DIR / f"sorted-{keys}-keys.tsv"
        if not path.exists():
            log(f"writing {keys} distinct sorted keys into {path}")
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as out:
                for block in range(0, keys, 100_000):
                    out.write(b"".join(b"key%08d\t1\nkey%08d\t2\n" % (i, i)
                                       for i in range(block, min(keys, block + 100_000))))
            tmp.replace(path)
        return path

    def reducer_memory(self) -> None:
        """Peak memory of our reducer and the original design's over N distinct keys."""
        keys = self.args.distinct_keys
        path = self.sorted_keys_file()
        rows = {}
        for name, script in (("ours", REDUCER), ("baseline", BASELINE / "reducer.py")):
            out = self.work / f"reducer-memory-{name}.tsv"
            out.parent.mkdir(parents=True, exist_ok=True)
            stats = measure(f"{q(PY, script)} < {q(path)}", stdout=out,
                            timeout=self.args.timeout)
            lines = ok = 0
            with open(out, "rb") as f:
                for line in f:
                    lines += 1
                    ok += line.endswith(b"\t3\n")
            stats.update(script=str(script.relative_to(ROOT)), distinct_keys=keys,
                         input_bytes=path.stat().st_size, agrees=(lines == keys == ok))
            out.unlink()
            log(f"reducer memory, {name}: {stats}")
            rows[name] = stats
        self.extra["reducer_memory"] = rows

    def profile(self, data: Path) -> None:
        results = profiling.alone(
            data=data, sorted_input=DATA_DIR / f"sorted-{self.args.distinct_keys}-keys.tsv",
            distinct_keys=self.args.distinct_keys, results_dir=self.results_dir,
            timeout=self.args.timeout)
        self.extra["profile"] = results
        log(f"profile: {json.dumps(results)}")
