"""The benchmarks' plots (matplotlib, from the bench virtualenv), written as PNG files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import size_label
from bench.tools import run_local_config


def pyplot() -> Any:
    """matplotlib's pyplot without a display; imported only when a plot is drawn."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def throughput(table: dict[int, dict[str, dict]], target: Path) -> None:
    """Throughput of every tool per input size, horizontal bars on a log scale."""
    plt = pyplot()
    sizes = sorted(table)
    names = sorted({n for s in sizes for n in table[s] if n != "cat"},
                   key=lambda n: -max(table[s][n]["throughput_mb_s"] for s in sizes
                                      if n in table[s]))
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(names) * len(sizes) + 1.5))
    height = 0.8 / len(sizes)
    for i, size in enumerate(sizes):
        values = [table[size][n]["throughput_mb_s"] if n in table[size] and
                  table[size][n]["agrees"] else 0 for n in names]
        bars = ax.barh([y + i * height for y in range(len(names))], values, height,
                       label=size_label(size))
        for bar, value in zip(bars, values):
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                    f" {value:g}" if value else " (no valid run)", va="center", fontsize=8)
    ax.set_yticks([y + height * (len(sizes) - 1) / 2 for y in range(len(names))])
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("throughput, MB/s (log scale; higher is better)")
    cat = [table[s]["cat"]["throughput_mb_s"] for s in sizes if "cat" in table[s]]
    ax.set_title("Word count on generated text, 2 cores" +
                 (f" (cat > /dev/null: {max(cat):g} MB/s)" if cat else ""))
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)


def scaling(runs: list[dict], table: dict[int, dict[str, dict]], target: Path) -> None:
    """run-local's throughput against its mapper count (2 reducers), the pipeline beside it."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for size in sorted(table):
        points = sorted((run_local_config(r["tool"])[0], r["throughput_mb_s"])
                        for r in runs if r["bytes"] == size and r["agrees"]
                        and r["group"] == "run-local" and r["tool"].endswith("-r2"))
        if points:
            ax.plot(*zip(*points), marker="o", label=f"run-local, 2 reducers, {size_label(size)}")
        pipe = table[size].get("ours-pipeline")
        if pipe and pipe["agrees"]:
            ax.axhline(pipe["throughput_mb_s"], linestyle="--", linewidth=1, color="grey")
            ax.text(1, pipe["throughput_mb_s"], f" single pipeline, {size_label(size)}",
                    va="bottom", fontsize=8, color="grey")
    ax.set_xlabel("mappers (--mappers)")
    ax.set_ylabel("throughput, MB/s")
    ax.set_title("run-local scaling on a 2-core machine")
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)


def shuffle(document: dict, target: Path) -> None:
    """The shuffle benchmark: wall time and intermediate files against R and against M, and
    the fixed cost of a map and a reduce task."""
    plt = pyplot()
    sweeps = [(key, document[key]) for key in ("reducers", "mappers") if document.get(key)]
    fixed = document.get("fixed")
    panels = len(sweeps) + (1 if fixed else 0)
    if not panels:
        return
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2), squeeze=False)
    for ax, (key, section) in zip(axes[0], sweeps):
        other = "mappers" if key == "reducers" else "reducers"
        rows = [r for r in section["rows"] if r["agrees"]]
        xs = [r[key] for r in rows]
        ax.plot(xs, [r["wall_s"] for r in rows], "o-", color="C0", label="wall time")
        for r in rows:
            ax.annotate(f"{r['ratio']}x", (r[key], r["wall_s"]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(f"{key} ({other} = {section[other]})")
        ax.set_ylabel("wall s", color="C0")
        ax.set_ylim(bottom=0)
        ax.margins(y=0.15)  # room for the ratio labels
        files = ax.twinx()
        files.plot(xs, [max(r["intermediate_files"], 1) for r in rows], "s--", color="C1",
                   label="intermediate files")
        files.set_yscale("log")
        files.set_ylabel("intermediate files per job", color="C1")
        ax.set_title(f"run-local against {key}")
    if fixed:
        ax = axes[0][-1]
        kinds = [("map task", "map_task"), ("reduce task", "reduce_task"), ("either", "task")]
        walls = [fixed.get(f"{k}_s") or 0 for _, k in kinds]
        cpus = [fixed.get(f"{k}_cpu_s") or 0 for _, k in kinds]
        positions = range(len(kinds))
        ax.bar([p - 0.2 for p in positions], walls, 0.4, label="wall s")
        ax.bar([p + 0.2 for p in positions], cpus, 0.4, label="CPU s")
        ax.set_xticks(list(positions))
        ax.set_xticklabels([name for name, _ in kinds])
        ax.set_ylabel("seconds per task")
        ax.set_title(f"Fixed cost per task, empty input ({fixed['tasks']} tasks)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
