"""Where the mapper and reducer spend their time: each alone, under cProfile, and the
Python primitives the mapper is made of, timed one by one on the same bytes."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.common import MB, PY, q
from bench.measure import best_measure, clean_env
from bench.tools import BASELINE, MAPPER, REDUCER


def alone(*, data: Path, sorted_input: Path, distinct_keys: int, results_dir: Path,
          timeout: float) -> dict:
    """Throughput of `cat`, of each mapper and reducer alone, and their cProfile listings
    (written to results_dir/profile-{mapper,reducer}.txt)."""
    results: dict = {}
    size = data.stat().st_size
    cat = best_measure(f"cat {q(data)} > /dev/null")
    results["cat_mb_s"] = round(size / MB / cat["wall_s"], 1)
    for name, script in (("mapper", MAPPER), ("baseline-mapper", BASELINE / "mapper.py")):
        stats = best_measure(f"{q(PY, script)} < {q(data)} > /dev/null", timeout=timeout)
        results[f"{name}_alone_mb_s"] = round(size / MB / stats["wall_s"], 1)
    if sorted_input.exists():
        sorted_mb = sorted_input.stat().st_size / MB
        reducer = f"{q(PY, REDUCER)} < {q(sorted_input)} > /dev/null"
        stats = best_measure(reducer)
        results["reducer_alone_mb_s"] = round(sorted_mb / stats["wall_s"], 1)
        results["reducer_alone_records_per_s"] = round(2 * distinct_keys / stats["wall_s"])
        # The same with PYTHONUNBUFFERED=1, as container images often set it.
        slow = best_measure(reducer, env={"PYTHONUNBUFFERED": "1"})
        results["reducer_alone_unbuffered_mb_s"] = round(sorted_mb / slow["wall_s"], 1)
        baseline = best_measure(
            f"{q(PY, BASELINE / 'reducer.py')} < {q(sorted_input)} > /dev/null")
        results["baseline-reducer_alone_mb_s"] = round(sorted_mb / baseline["wall_s"], 1)
    for name, script, source in (("mapper", MAPPER, data), ("reducer", REDUCER, sorted_input)):
        if source.exists():
            write_cprofile(script=script, source=source,
                           target=results_dir / f"profile-{name}.txt")
    results["primitives"] = primitives(data)
    return results


def write_cprofile(*, script: Path, source: Path, target: Path) -> None:
    """The top of cProfile's listing of `script < source`, sorted by own time."""
    proc = subprocess.run(f"{q(PY, '-m', 'cProfile', '-s', 'tottime', script)} < {q(source)}",
                          shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          env=clean_env())
    text = proc.stdout.decode("utf-8", "replace")
    stats_at = text.find("function calls")
    lines = text[stats_at:].splitlines()[:30] if stats_at >= 0 else []
    target.write_text(f"# cProfile of scripts/{script.name} on {source.name} "
                      f"(sorted by own time)\n" + "\n".join(lines) + "\n")


PRIMITIVES = r"""
import sys, time, json
from collections import Counter
data = open(sys.argv[1], 'rb').read(int(sys.argv[2]))
cut = data.rfind(b'\n') + 1; data = data[:cut]
t = {}
t0 = time.perf_counter(); text = data.decode('utf-8', 'surrogateescape'); t['decode'] = time.perf_counter() - t0
t0 = time.perf_counter(); words = text.split(); t['str_split'] = time.perf_counter() - t0
t0 = time.perf_counter(); c = Counter(); c.update(words); t['counter_update'] = time.perf_counter() - t0
t['distinct_words'] = len(c)
# The same counting, but the table is written off and cleared past 10,000 keys, so it stays
# in the CPU caches: how much of the count is waiting on memory for a big table, and how
# many more lines such a mapper would hand to sort. Fresh word objects, as str caches its
# hash and the first count would otherwise pay for both.
del c, words
words = text.split()
t0 = time.perf_counter(); c = Counter(); out = 0
for i in range(0, len(words), 10000):
    c.update(words[i:i + 10000])
    if len(c) > 10000:
        out += len(c); c.clear()
t['counter_update_small_table'] = time.perf_counter() - t0
t['small_table_output_lines'] = out + len(c)
del c, words
t0 = time.perf_counter(); bwords = data.split(); t['bytes_split'] = time.perf_counter() - t0
t0 = time.perf_counter(); bc = Counter(); bc.update(bwords); t['counter_update_bytes'] = time.perf_counter() - t0
t['bytes'] = len(data)
print(json.dumps({k: round(v, 3) for k, v in t.items()}))
"""


def primitives(data: Path, *, limit: int = 200 * MB) -> dict:
    """Seconds for each step the mapper does, run alone on the same bytes in one process:
    the floor under the mapper's time with its design (decode, split, count)."""
    out = subprocess.run([PY, "-c", PRIMITIVES, str(data), str(limit)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    result: dict = json.loads(out)
    return result
