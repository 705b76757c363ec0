#!/usr/bin/env python3
"""Job makespan on the local test cluster beside run-local on the same input, same run.

  python -m bench.cluster_makespan [--bytes 100000000] [--mappers 1,2,4,8] [--reducers 2]
      [--parallelism P] [--reduce-parallelism Q] [--cpu-request 50m] [--name cluster]

Many pods on the one-node test cluster: cap the pods running at once (--parallelism for map
pods, --reduce-parallelism for reduce pods) under the node's pod limit and CPU, e.g.
  --bytes 4000000 --mappers 1000 --reducers 100 --parallelism 40 --reduce-parallelism 20
      --cpu-request 10m --name cluster-many

Needs `make cluster images` first (the bench Makefile target does it). For each mapper count
it installs the chart on a file placed on the shared volume, times `helm install` (the reduce
hook runs inside it), reads the stage boundaries from the engine's own files on the volume,
and runs `scripts/run-local` with the same M and R on the same file. Writes
bench/results/cluster.{md,json,png}. The engine's paths inside a job directory come from the
engine package (mapreduce.layout, on PYTHONPATH: the Makefile adds scripts/).

Stages, from the engine's commit files (their modification times):
  start-up   helm install begins -> plan.json written (first map task running: API objects,
             scheduling, pod sandbox and container start, input pre-stage)
  map        plan.json -> the last map task committed
  reduce     last map commit -> _SUCCESS (reduce hook Job created, pods started, shuffle,
             reduce, commit)
  finish     _SUCCESS -> helm install returns (hook completion noticed)
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

from bench.common import PY, RESULTS, ROOT, RUN_LOCAL, SCRIPTS
from bench.plots import pyplot
from mapreduce.layout import success_file


def cluster_env() -> dict[str, str]:
    """The environment `.cluster/env` sets up (KUBECONFIG, PATH, CLUSTER_*)."""
    env_file = ROOT / ".cluster" / "env"
    if not env_file.exists():
        sys.exit("cluster_makespan: .cluster/env missing: run `make cluster images` first")
    out = subprocess.run(["bash", "-c", f". {env_file} && env -0"], capture_output=True,
                         check=True).stdout
    env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    env["PATH"] = f"{ROOT / '.tools' / 'bin'}:{env['PATH']}"
    return env


def run(argv: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True, **kw)


def place_input(shared: pathlib.Path, size: int, seed: int) -> pathlib.Path:
    """The generated text on the shared volume (reused when already there)."""
    target = shared / "bench-input" / f"text-{seed}-{size}.txt"
    if not target.exists() or target.stat().st_size != size:
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([PY, str(SCRIPTS / "gentext.py"), "--bytes",
                        str(size), "--seed", str(seed), "--output", str(target)], check=True)
        os.chmod(target.parent, 0o755)
        os.chmod(target, 0o644)
    return target


def cluster_run(env: dict[str, str], shared: pathlib.Path, input_rel: str, mappers: int,
                reducers: int, tag: str, extra: list[str], cpu: str) -> dict[str, Any]:
    namespace, release = f"bench-{tag}", f"mk{tag}"
    run(["bash", str(ROOT / "ci" / "cluster" / "ns-restricted.sh"), namespace], env)
    started = time.time()
    try:
        run(["helm", "install", release, str(ROOT / "chart"), "--namespace", namespace,
             "--values", str(ROOT / ".cluster" / "values.yaml"), "--timeout", "60m",
             "--set", f"mappers={mappers}", "--set", f"reducers={reducers}",
             "--set", "input.sample.enabled=false", "--set", f"input.paths[0]={input_rel}",
             # small CPU requests so that every map pod of the run fits on this node at once
             "--set", f"map.resources.requests.cpu={cpu}",
             "--set", f"reduce.resources.requests.cpu={cpu}",
             "--set", f"shuffle.resources.requests.cpu={cpu}",
             "--set", "map.resources.limits.memory=1Gi", *extra], env)
        finished = time.time()
        # Run ids are the revision and a random suffix: revision 1's is the one output.
        (output,) = (shared / namespace / release / "output").glob("1-*")
        success = os.path.getmtime(success_file(str(output)))
        report = json.loads(pathlib.Path(success_file(str(output))).read_text())
        # The map outputs are gone after the commit; _SUCCESS keeps when each task committed.
        plan = report["plan_made"]
        map_end = max(t for name, t in report["task_finished"].items() if name.startswith("m-"))
        return {
            "makespan": finished - started, "startup": plan - started,
            "map": map_end - plan, "reduce": success - map_end, "finish": finished - success,
            "input_bytes": report["counters"]["mapreduce"]["MAP_INPUT_BYTES"],
            "output": output}
    finally:
        subprocess.run(["helm", "uninstall", release, "--namespace", namespace, "--wait"],
                       env=env, capture_output=True)
        subprocess.run(["kubectl", "delete", "namespace", namespace, "--wait=false"], env=env,
                       capture_output=True)


def local_run(input_path: pathlib.Path, mappers: int, reducers: int,
              out_dir: pathlib.Path) -> float:
    started = time.time()
    subprocess.run([PY, str(RUN_LOCAL), "--quiet",
                    "--overwrite", "--mappers", str(mappers), "--reducers", str(reducers),
                    "--output", str(out_dir), str(input_path)], check=True)
    return time.time() - started


def same_parts(a: pathlib.Path, b: pathlib.Path) -> bool:
    names = sorted(n for n in os.listdir(a) if not n.startswith(("_", ".")))
    return names == sorted(n for n in os.listdir(b) if not n.startswith(("_", "."))) and all(
        (pathlib.Path(a) / n).read_bytes() == (pathlib.Path(b) / n).read_bytes() for n in names)


def write_results(rows: list[dict[str, Any]], size: int, name: str, note: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [f"Cluster makespan, {size / 1e6:.0f} MB of generated text, reducers = "
             f"{rows[0]['reducers']}, local test cluster (1 node, 2 cores), "
             f"`python -m bench.cluster_makespan{note}`.", "",
             "| mappers | cluster makespan s | start-up s | map s | reduce s | finish s | "
             "run-local s | cluster / run-local | same output |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mappers']} | {r['makespan']:.1f} | {r['startup']:.1f} | "
                     f"{r['map']:.1f} | {r['reduce']:.1f} | {r['finish']:.1f} | "
                     f"{r['local']:.1f} | {r['makespan'] / r['local']:.2f} | "
                     f"{'yes' if r['same'] else 'NO'} |")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    try:
        plt = pyplot()
    except ImportError:
        print("cluster_makespan: matplotlib missing, no plot (use the bench venv)")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ms = [r["mappers"] for r in rows]
    bottom = [0.0] * len(rows)
    for stage in ("startup", "map", "reduce", "finish"):
        values = [r[stage] for r in rows]
        ax.bar([str(m) for m in ms], values, bottom=bottom, label=f"cluster: {stage}")
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.plot([str(m) for m in ms], [r["local"] for r in rows], "ko-", label="run-local")
    ax.set_xlabel("mappers")
    ax.set_ylabel("seconds")
    ax.set_title(f"Makespan, {size / 1e6:.0f} MB, reducers={rows[0]['reducers']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{name}.png", dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bytes", type=int, default=100_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mappers", default="1,2,4,8")
    parser.add_argument("--reducers", type=int, default=2)
    parser.add_argument("--parallelism", type=int, help="map pods at once (default: all)")
    parser.add_argument("--reduce-parallelism", type=int, help="reduce pods at once")
    parser.add_argument("--cpu-request", default="50m", help="CPU request of every container")
    parser.add_argument("--name", default="cluster", help="results file name in bench/results")
    args = parser.parse_args(argv)
    extra, note = [], ""
    if args.parallelism:
        extra += ["--set", f"parallelism={args.parallelism}"]
    if args.reduce_parallelism:
        extra += ["--set", f"reduce.parallelism={args.reduce_parallelism}"]
    if argv is None and len(sys.argv) > 1:
        note = " " + " ".join(sys.argv[1:])
    env = cluster_env()
    shared = pathlib.Path(env["CLUSTER_SHARED_DIR"])
    text = place_input(shared, args.bytes, args.seed)
    rows = []
    for mappers in (int(m) for m in args.mappers.split(",")):
        tag = f"m{mappers}-{os.getpid() % 10000}"
        cluster = cluster_run(env, shared, str(text.relative_to(shared)), mappers,
                              args.reducers, tag, extra, args.cpu_request)
        local_out = ROOT / "bench" / "work" / f"cluster-local-m{mappers}"
        local = local_run(text, mappers, args.reducers, local_out)
        row = {k: v for k, v in cluster.items() if k != "output"}
        row.update(mappers=mappers, reducers=args.reducers, local=local,
                   same=same_parts(cluster["output"], local_out))
        rows.append(row)
        print(f"mappers={mappers}: cluster {row['makespan']:.1f}s (start-up "
              f"{row['startup']:.1f}, map {row['map']:.1f}, reduce {row['reduce']:.1f}, "
              f"finish {row['finish']:.1f}), run-local {local:.1f}s, same output: "
              f"{row['same']}", flush=True)
    write_results(rows, args.bytes, args.name, note)
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
