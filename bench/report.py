"""The benchmarks' reports. The word count's: results.md (tables, headline ratios), the
headline written back into results.json and bench/README.md, and its plots. The shuffle's:
shuffle.md and its plot. The plots themselves are drawn by bench/plots.py."""
from __future__ import annotations

import json
from pathlib import Path

from bench import plots
from bench.common import BENCH, log, ratio, size_label
from bench.tools import run_local_config

HEADLINE_START, HEADLINE_END = "<!-- headline:start -->", "<!-- headline:end -->"


def best_rows(runs: list[dict]) -> dict[int, dict[str, dict]]:
    """Per size: the row of each tool, with run-local reduced to its best agreeing row."""
    by_size: dict[int, list[dict]] = {}
    for row in runs:
        by_size.setdefault(row["bytes"], []).append(row)
    table = {}
    for size, rows in by_size.items():
        picked: dict[str, dict] = {}
        for row in rows:
            name = row["group"] if row["group"] == "run-local" else row["tool"]
            current = picked.get(name)
            if row["group"] == "run-local" and not row["agrees"]:
                picked.setdefault(name, row)
                continue
            if current is None or (row["agrees"] and (not current["agrees"] or
                                                      row["wall_s"] < current["wall_s"])):
                picked[name] = row
        table[size] = picked
    return table


def python_note(builds: list[dict]) -> str:
    """One sentence on the interpreter: which build of those on PATH, and how fast."""
    used = [b for b in builds if b["used"]]
    if not builds or not used:
        return ""
    others = ", ".join(f"{b['probe_s']} s" for b in builds if not b["used"])
    if not others:
        return " It is the only CPython build on PATH."
    rank = "the fastest" if builds[0]["used"] else "not the fastest"
    return (f" It is {rank} of the {len(builds)} CPython builds on PATH (a dict/str loop "
            f"takes {used[0]['probe_s']} s in it, {others} in the "
            f"other{'s' if len(builds) > 2 else ''}; "
            f"see bench/pick_python.py).")


def introduction(document: dict) -> list[str]:
    m = document["machine"]
    return ["# Word-count benchmark results", "",
            f"Generated {document['generated']} by `python -m bench.run"
            f"{' --quick' if document.get('quick') else ''}`. Machine: "
            f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['java']}, Hadoop "
            f"{m['hadoop']}.{python_note(m.get('python_builds', []))}", "",
            "Throughput = input MB (10^6 bytes) / wall seconds. *ratio* = our best run-local "
            "throughput / the tool's (above 1: we are faster). Max RSS = largest single "
            "process; tree = peak of the summed RSS of all the command's processes. A time "
            "counts only if the output agrees with the independently computed counts.", ""]


def tools_table(rows: dict[str, dict], ours_tp: float | None) -> list[str]:
    lines = ["| tool | wall s | MB/s | ratio (run-local / tool) | max RSS MB | tree RSS MB "
             "| output |", "|---|---:|---:|---:|---:|---:|---|"]
    for row in sorted(rows.values(), key=lambda r: -r["throughput_mb_s"]):
        label = row["label"] + (" (best of sweep)" if row["group"] == "run-local" else "")
        why = " ".join(row["check"][:120].split())  # one table row, even for a stderr tail
        agrees = {True: "agrees", False: "DOES NOT COUNT: " + why,
                  None: "-"}[row["agrees"]]
        lines.append(
            f"| {label} | {row['wall_s']} | {row['throughput_mb_s']} | "
            f"{ratio(ours_tp, row['throughput_mb_s']) or '-'} | {row['max_rss_mb']} | "
            f"{row['peak_tree_rss_mb']} | {agrees} |")
    return lines + [""]


def headline_ratios(rows: dict[str, dict], runs: list[dict], size: int,
                    ours_tp: float | None) -> dict[str, float | None]:
    """run-local against every agreeing tool, and the project's targets."""
    heads = {}
    for name, row in rows.items():
        if name not in ("run-local", "cat") and row["agrees"]:
            heads[f"run-local / {name}"] = ratio(ours_tp, row["throughput_mb_s"])
    pipe, baseline = rows.get("ours-pipeline"), rows.get("baseline-pipeline")
    if pipe and baseline and pipe["agrees"] and baseline["agrees"]:
        heads["ours-pipeline / baseline-pipeline (target >= 8)"] = ratio(
            pipe["throughput_mb_s"], baseline["throughput_mb_s"])
    m4r3 = next((r for r in runs if r["bytes"] == size and r["tool"] == "run-local-m4-r3"
                 and r["agrees"]), None)
    if m4r3 and pipe and pipe["agrees"]:
        heads["run-local -m4 -r3 / ours-pipeline (target >= 1.4)"] = ratio(
            m4r3["throughput_mb_s"], pipe["throughput_mb_s"])
    spark = rows.get("pyspark-rdd")
    if spark and spark["agrees"]:
        heads["run-local / pyspark-rdd (target >= 5)"] = heads.pop("run-local / pyspark-rdd")
    return heads


def sweep_table(runs: list[dict], size: int) -> list[str]:
    """run-local's configurations; one measured twice shows its faster agreeing run."""
    fastest: dict[str, dict] = {}
    for r in runs:
        if r["bytes"] == size and r["group"] == "run-local":
            seen = fastest.get(r["tool"])
            if seen is None or (r["agrees"], -r["wall_s"]) > (seen["agrees"], -seen["wall_s"]):
                fastest[r["tool"]] = r
    if not fastest:
        return []
    lines = [f"run-local configurations on {size_label(size)}:", "",
             "| mappers | reducers | wall s | MB/s | max RSS MB | tree RSS MB | output |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for r in sorted(fastest.values(), key=lambda r: r["tool"]):
        m, rr = run_local_config(r["tool"])
        lines.append(f"| {m} | {rr} | {r['wall_s']} | {r['throughput_mb_s']} | "
                     f"{r['max_rss_mb']} | {r['peak_tree_rss_mb']} | "
                     f"{'agrees' if r['agrees'] else ' '.join(r['check'][:80].split())} |")
    return lines + [""]


def extras(document: dict) -> list[str]:
    """Reducer memory, the profile and every command line."""
    lines = []
    memory = document.get("reducer_memory")
    if memory:
        lines += ["", "## Reducer peak memory", "",
                  "| reducer | distinct keys | max RSS MB | wall s | output |",
                  "|---|---:|---:|---:|---|"]
        for m in memory.values():
            lines.append(f"| {m['script']} | {m['distinct_keys']} | {m['max_rss_mb']} | "
                         f"{m['wall_s']} | {'agrees' if m['agrees'] else 'WRONG'} |")
    profile = document.get("profile")
    if profile:
        lines += ["", "## Mapper and reducer alone", "", "```",
                  json.dumps(profile, indent=1), "```"]
    lines += ["", "Commands (paths relative to the repo; $CACHE_DIR is the data cache):", ""]
    seen = set()
    for row in document["runs"]:
        if row["tool"] not in seen:
            seen.add(row["tool"])
            lines.append(f"- `{row['tool']}`: `{row['command'][:400]}`")
    return lines


def report(json_path: Path, results_dir: Path) -> None:
    """results.md and the plots from results.json; the headline into both JSON and README."""
    document = json.loads(json_path.read_text())
    runs = document["runs"]
    table = best_rows(runs)
    lines = introduction(document)
    headline = {}
    for size in sorted(table):
        rows = table[size]
        ours = rows.get("run-local")
        ours_tp = ours["throughput_mb_s"] if ours and ours["agrees"] else None
        lines += [f"## {size_label(size)}", ""] + tools_table(rows, ours_tp)
        headline[size_label(size)] = headline_ratios(rows, runs, size, ours_tp)
        lines += sweep_table(runs, size)
    lines += ["## Headline ratios", ""]
    headline_lines = [f"- {size}: {name} = **{value}**"
                      for size, heads in headline.items() for name, value in heads.items()]
    lines += headline_lines + extras(document)
    (results_dir / "results.md").write_text("\n".join(lines) + "\n")
    document["headline"] = headline
    json_path.write_text(json.dumps(document, indent=1) + "\n")
    plots.throughput(table, results_dir / "throughput.png")
    plots.scaling(document["runs"], table, results_dir / "scaling.png")
    update_readme(results_dir, headline_lines)
    log(f"wrote {results_dir}/results.md, results.json, throughput.png, scaling.png")


def update_readme(results_dir: Path, headline_lines: list[str]) -> None:
    """Put the headline ratios into bench/README.md (between its markers), for the
    committed results only."""
    readme = BENCH / "README.md"
    if Path(results_dir).resolve() != (BENCH / "results").resolve() or not readme.exists():
        return
    text = readme.read_text()
    if HEADLINE_START not in text or HEADLINE_END not in text:
        return
    head, rest = text.split(HEADLINE_START, 1)
    tail = rest.split(HEADLINE_END, 1)[1]
    readme.write_text(head + HEADLINE_START + "\n" + "\n".join(headline_lines) + "\n"
                      + HEADLINE_END + tail)


# ---- the shuffle benchmark (bench/shuffle.py) ----------------------------------------------

SHUFFLE_GOAL = 1.5  # the cost of R = 1000 at most this many times that of R = 1


def output_note(row: dict) -> str:
    return "agrees" if row["agrees"] else "DOES NOT COUNT: " + " ".join(row["check"][:120].split())


def sweep_rows(rows: list[dict], *, first: str) -> list[str]:
    lines = [f"| mappers | map tasks | reducers | wall s | ratio to {first} | CPU s "
             "| intermediate files | intermediate MB | task logs | tree RSS MB | output |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['mappers']} | {r['map_tasks']} | {r['reducers']} | {r['wall_s']} | "
                     f"{r['ratio'] if r['ratio'] is not None else '-'} | {r['cpu_s']} | "
                     f"{r['intermediate_files']} | {r['intermediate_mb']} | {r['log_files']} | "
                     f"{r['peak_tree_rss_mb']} | {output_note(r)} |")
    return lines + [""]


def shuffle_goal(rows: list[dict]) -> list[str]:
    """Whether the largest R stays within SHUFFLE_GOAL of R = 1."""
    last = rows[-1] if rows else None
    if not last or last["reducers"] != 1000 or rows[0]["reducers"] != 1:
        return []
    if last["ratio"] is None:
        return ["Goal, R = 1000 within 1.5x of R = 1: no valid measurement.", ""]
    met = "met" if last["ratio"] <= SHUFFLE_GOAL else "not met"
    return [f"Goal, R = 1000 within {SHUFFLE_GOAL}x of R = 1: {last['ratio']}x, {met}.", ""]


def fixed_lines(fixed: dict) -> list[str]:
    n = fixed["tasks"]
    lines = ["## Fixed cost of a task (empty input, one task at a time)", "",
             f"run-local on an empty file with `--parallel 1`"
             f"{' and `--packed` (exactly M map tasks)' if fixed.get('packed') else ''}; "
             f"M = R = 1 against {n} map tasks, {n} reduce tasks, or both. Per task = the "
             "difference in time over the difference in tasks.", "",
             "| mappers | map tasks | reducers | wall s | CPU s | output |",
             "|---:|---:|---:|---:|---:|---|"]
    for r in fixed["rows"]:
        lines.append(f"| {r['mappers']} | {r['map_tasks']} | {r['reducers']} | {r['wall_s']} "
                     f"| {r['cpu_s']} | {output_note(r)} |")
    lines.append("")

    def cost(key: str) -> str:
        wall, cpu = fixed.get(f"{key}_s"), fixed.get(f"{key}_cpu_s")
        return "no valid measurement" if wall is None else f"{wall} s wall, {cpu} s CPU"

    if "job_s" in fixed:
        lines += [f"- a map task: {cost('map_task')}",
                  f"- a reduce task: {cost('reduce_task')}",
                  f"- a task of either kind (M = R = {n} against M = R = 1): {cost('task')}",
                  f"- a whole job with M = R = 1: {fixed['job_s']} s", ""]
    return lines


def shuffle_report(json_path: Path, results_dir: Path) -> None:
    """shuffle.md and shuffle.png from shuffle.json."""
    document = json.loads(json_path.read_text())
    m = document["machine"]
    data = document.get("input")
    lines = ["# Shuffle scaling", "",
             f"Generated {document['generated']} by `python -m bench.shuffle"
             f"{' --quick' if document.get('quick') else ''}`. Machine: {m['cpus']} CPUs "
             f"({m['cpu']}), Python {m['python']}.", ""]
    if data:
        lines += [f"Input: {size_label(data['bytes'])} of `scripts/gentext.py --seed "
                  f"{data['seed']}` ({data['words']} words, {data['distinct_words']} distinct). "
                  "Wall time of the whole `scripts/run-local` job; *ratio* = this run's wall "
                  "time / the first run's of the same table, in the same invocation. "
                  "Intermediate files: what the job left in its work directory "
                  "(`--keep-work`), task logs counted apart. A time counts only if the output "
                  "agrees with the independently computed counts.", ""]
    for key, other in (("reducers", "mappers"), ("mappers", "reducers")):
        section = document.get(key)
        if not section:
            continue
        rows, letter = section["rows"], key[0].upper()
        first = f"{letter} = {rows[0][key]}" if rows else "-"
        lines += [f"## Cost against {letter} ({other} = {section[other]})", ""]
        lines += sweep_rows(rows, first=first)
        if key == "reducers":
            lines += shuffle_goal(rows)
    if document.get("fixed"):
        lines += fixed_lines(document["fixed"])
    commands = [r["command"] for key in ("reducers", "mappers", "fixed")
                for r in (document.get(key) or {}).get("rows", [])[:1]]
    if commands:
        lines += ["Commands (the first of each table; paths relative to the repo):", ""]
        lines += [f"- `{c[:400]}`" for c in commands]
    (results_dir / "shuffle.md").write_text("\n".join(lines) + "\n")
    plots.shuffle(document, results_dir / "shuffle.png")
    log(f"wrote {results_dir}/shuffle.md, shuffle.json, shuffle.png")
