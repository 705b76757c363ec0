"""The tools compared: each is a command line that counts the words of one file, where its
output goes, and how to read that output back (bench/check.py).

ours: the pipeline of scripts/mapper.py and scripts/reducer.py, and scripts/run-local (the
engine); the original design's scripts (bench/baseline) in the same pipeline; mawk and gawk;
tr | sort | uniq -c; mrjob's local runner; PySpark (RDD and DataFrame); Hadoop Streaming in
local mode running our scripts.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.check import Counts, parse_job_output, parse_tsv_files, parse_uniq_c, part_files
from bench.common import BENCH, CACHE, PY, ROOT, RUN_LOCAL, SCRIPTS, q

BASELINE = BENCH / "baseline"
PEERS = BENCH / "peers"
MAPPER, REDUCER = SCRIPTS / "mapper.py", SCRIPTS / "reducer.py"

Build = Callable[[Path, Path], str]  # (input file, output directory) -> bash command line
Parse = Callable[[Path], "tuple[Counts, int]"]  # output directory -> (counts, repeated words)


@dataclass(frozen=True)
class Tool:
    """One way to count words: a command line, where its output goes, how to read it."""
    name: str
    label: str
    build: Build
    parse: Parse | None  # None: a reference point with no output (cat)
    splits: str = "unicode"  # "unicode": str.split(); "ascii": spaces, tabs, newlines only
    sources: tuple[Path, ...] = ()  # files whose change invalidates an earlier measurement
    group: str = ""  # run-local's configurations share one group; default: the name
    slow: bool = False  # run only up to --slow-max-bytes

    @property
    def group_name(self) -> str:
        return self.group or self.name


def engine_sources() -> tuple[Path, ...]:
    """What run-local runs: the runner, the engine package, the key sort, our scripts."""
    package = sorted((SCRIPTS / "mapreduce").rglob("*.py"))
    return (RUN_LOCAL, SCRIPTS / "mapreduce" / "kvsort", *package, MAPPER, REDUCER)


def portable(command: str) -> str:
    """A command line as the report shows it: no paths of this machine."""
    command = command.replace(str(ROOT) + "/", "").replace(str(CACHE), "$CACHE_DIR")
    if "java" in command and shutil.which("java"):
        import hadoop_streaming

        command = command.replace(q(hadoop_streaming.java_executable()), "java")
    return command


def pipeline(mapper: Path, reducer: Path) -> Build:
    def build(data: Path, out: Path) -> str:
        return (q("cat", data) + f" | {q(PY, mapper)} | LC_ALL=C sort | {q(PY, reducer)} > "
                + q(out / "out.tsv"))
    return build


def tsv_file(out: Path) -> tuple[Counts, int]:
    return parse_tsv_files([out / "out.tsv"])


def result_parts(out: Path) -> tuple[Counts, int]:
    return parse_tsv_files(part_files(out / "result"))


def run_local_command(*, data: Path, output: Path, mappers: int, reducers: int,
                      extra: tuple[str, ...] = ()) -> str:
    """scripts/run-local's command line: the engine's one entry point for the benchmarks."""
    return q(PY, RUN_LOCAL, "--mappers", mappers, "--reducers", reducers, *extra,
             "--output", output, data)


def run_local_build(mappers: int, reducers: int) -> Build:
    def build(data: Path, out: Path) -> str:
        return run_local_command(data=data, output=out / "result", mappers=mappers,
                                 reducers=reducers)
    return build


def awk_build(awk: str) -> Build:
    def build(data: Path, out: Path) -> str:
        return f"LC_ALL=C {awk} -f {q(PEERS / 'wordcount.awk')} {q(data)} > " + \
            q(out / "out.tsv")
    return build


def tr_build(data: Path, out: Path) -> str:
    return (f"export LC_ALL=C; tr -s '[:space:]' '\\n' < {q(data)} | sort | uniq -c > "
            + q(out / "out.txt"))


def mrjob_build(data: Path, out: Path) -> str:
    return q(PY, PEERS / "mr_wordcount.py", "-r", "local", "--num-cores", "2",
             "--no-output", "--output-dir", out / "result", data)


def spark_build(mode: str) -> Build:
    def build(data: Path, out: Path) -> str:
        return q(PY, PEERS / "spark_wordcount.py", mode, data, out / "result")
    return build


def hadoop_build(data: Path, out: Path) -> str:
    # Hadoop's runner, shared with the Hadoop compatibility test; imported here, so that the
    # benchmarks without Hadoop run without it on the path.
    import hadoop_streaming

    lib = hadoop_streaming.ensure_installed()
    mapper, reducer = q(PY, MAPPER), q(PY, REDUCER)
    conf = {"hadoop.tmp.dir": str(out / "hadoop-tmp"),
            "mapreduce.local.map.tasks.maximum": "2",
            "mapreduce.local.reduce.tasks.maximum": "2"}
    command = hadoop_streaming.streaming_command(
        lib, ["-input", str(data), "-output", str(out / "result"), "-mapper", mapper,
              "-combiner", reducer, "-reducer", reducer, "-numReduceTasks", "2"], conf)
    return q(*command) + " 2> " + q(out / "hadoop-job.log")


def tools() -> dict[str, Tool]:
    """Every tool but run-local (whose configurations come from run_local_tool), by name."""
    scripts = (MAPPER, REDUCER)
    return {t.name: t for t in [
        Tool("cat", "cat > /dev/null (reading the input)",
             lambda d, o: f"cat {q(d)} > /dev/null", None),
        Tool("ours-pipeline", "ours: cat | mapper.py | sort | reducer.py",
             pipeline(MAPPER, REDUCER), tsv_file, sources=scripts),
        Tool("baseline-pipeline",
             "the original design's scripts: cat | mapper.py | sort | reducer.py",
             pipeline(BASELINE / "mapper.py", BASELINE / "reducer.py"), tsv_file,
             sources=(BASELINE / "mapper.py", BASELINE / "reducer.py"), slow=True),
        Tool("tr-sort-uniq", "LC_ALL=C tr -s '[:space:]' '\\n' | sort | uniq -c", tr_build,
             lambda o: parse_uniq_c(o / "out.txt"), splits="ascii"),
        Tool("mawk", "mawk word count (LC_ALL=C)", awk_build("mawk"), tsv_file, splits="ascii"),
        Tool("gawk", "gawk word count (LC_ALL=C)", awk_build("gawk"), tsv_file, splits="ascii"),
        Tool("mrjob", "mrjob 0.7.4 local runner, 2 cores", mrjob_build, result_parts,
             sources=(PEERS / "mr_wordcount.py",), slow=True),
        Tool("pyspark-rdd", "PySpark local[2], RDD (Python) word count", spark_build("rdd"),
             result_parts, sources=(PEERS / "spark_wordcount.py",)),
        Tool("pyspark-df", "PySpark local[2], DataFrame (JVM) word count", spark_build("df"),
             result_parts, splits="ascii", sources=(PEERS / "spark_wordcount.py",)),
        Tool("hadoop", "Hadoop Streaming 3.4 local mode, our scripts (2 map, 2 reduce slots)",
             hadoop_build, result_parts, sources=scripts),
    ]}


def run_local_tool(mappers: int, reducers: int) -> Tool:
    return Tool(f"run-local-m{mappers}-r{reducers}",
                f"ours: run-local --mappers {mappers} --reducers {reducers}",
                run_local_build(mappers, reducers),
                lambda out: parse_job_output(out / "result"),
                sources=engine_sources(), group="run-local")


def run_local_config(tool_name: str) -> tuple[int, int]:
    """(mappers, reducers) of a run-local tool's name, run-local-mM-rR."""
    mappers, reducers = tool_name.split("-m", 1)[1].split("-r")
    return int(mappers), int(reducers)
