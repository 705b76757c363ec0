#!/usr/bin/env python3
"""Word-count benchmarks: our scripts against the tools people already use, in one run.

`make bench` runs this with the bench virtualenv (.venv-bench: mrjob, pyspark, matplotlib).
For each input size it generates text once with scripts/gentext.py (cached outside the
repo), computes the expected word counts independently, runs every tool on it, checks that
tool's output against the expected counts (a time counts only when it agrees), and writes
bench/results/: results.json, results.md, throughput.png, scaling.png and the profiles.

Measurements: wall time of the whole command; peak memory twice: the largest single
process's maximum RSS (getrusage of the waited children, what `/usr/bin/time -v` shows) and
the peak of the summed RSS of the command's process tree (sampled from /proc every 0.5 s).
Throughput is input bytes / wall time, in MB/s (10^6 bytes).

--quick runs the same pipeline on small sizes to prove the harness works (minutes).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT / "tests" / "hadoop"))
import hadoop_streaming as hs  # noqa: E402  (shared with the Hadoop compatibility test)
import pick_python  # noqa: E402  (bench/, beside this file)

PY = sys.executable
MB = 1_000_000
SEED = 1
CACHE = Path(os.environ.get("CACHE_DIR") or Path.home() / ".cache" / "mapreduce-k8s")
PAGE = os.sysconf("SC_PAGE_SIZE")
# Every tool runs with Python's defaults: a shell or CI that exports these would change the
# Python tools' speed (PYTHONUNBUFFERED=1 makes each print() or write() on stdout a system
# call), so they are removed from the environment; their effect is measured separately.
STRIPPED_ENV = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")

# Whitespace that Python's str.split() separates on but tr's [:space:] (C locale) and awk's
# default field splitting do not: \v \f \r, the ASCII separators \x1c-\x1f, and the
# Unicode spaces in UTF-8. Where the text holds none, all tools must agree exactly.
NON_AWK_WHITESPACE = re.compile(
    rb"[\x0b\x0c\r\x1c-\x1f]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]"
    rb"|\xe2\x81\x9f|\xe3\x80\x80")


def q(*words):
    return " ".join(shlex.quote(str(w)) for w in words)


def portable(command):
    """A command line as the report shows it: no paths of this machine."""
    command = command.replace(str(ROOT) + "/", "").replace(str(CACHE), "$CACHE_DIR")
    java = shutil.which("java")
    return command.replace(q(hs.java_executable()), "java") if java else command


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sha256_file(path, limit=None):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16] if limit is None else digest.hexdigest()[:limit]


def size_label(n):
    return f"{n // 10**9} GB" if n >= 10**9 and n % 10**9 == 0 else (
        f"{n // MB} MB" if n % MB == 0 else f"{n} B")


# ---------------------------------------------------------------------------------------
# Data and expected counts


def read_chunks(path, size=1 << 24):
    """The file's bytes in blocks cut after a newline (so no word is cut)."""
    with open(path, "rb") as f:
        pending = b""
        while True:
            block = f.read(size)
            if not block:
                if pending:
                    yield pending
                return
            block = pending + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                pending = block
                continue
            yield block[:cut]
            pending = block[cut:]


def dataset(size, seed=SEED):
    """Generated text of `size` bytes plus its metadata, made once and cached."""
    directory = CACHE / "bench-data"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"gentext-{size}-seed{seed}.txt"
    meta_path = path.with_suffix(".meta.json")
    gentext_sha = sha256_file(SCRIPTS / "gentext.py")
    if not path.exists() or path.stat().st_size != size:
        log(f"generating {size_label(size)} of text into {path}")
        subprocess.run([PY, str(SCRIPTS / "gentext.py"), "--bytes", str(size), "--seed",
                        str(seed), "--output", str(path)], check=True)
        meta_path.unlink(missing_ok=True)
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    if meta is None:
        log(f"computing the expected counts of {path.name}")
        counts, ascii_only_whitespace = Counter(), True
        bom = b"\xef\xbb\xbf"
        for i, chunk in enumerate(read_chunks(path)):
            if i == 0 and chunk.startswith(bom):
                chunk = chunk[len(bom):]
            if ascii_only_whitespace and NON_AWK_WHITESPACE.search(chunk):
                ascii_only_whitespace = False
            counts.update(chunk.decode("utf-8", "surrogateescape").split())
        reference = path.with_suffix(".expected.tsv")
        with open(reference, "wb") as out:
            for word in sorted(counts, key=lambda w: w.encode("utf-8", "surrogateescape")):
                out.write(b"%s\t%d\n" % (word.encode("utf-8", "surrogateescape"), counts[word]))
        meta = {"path": str(path), "bytes": size, "seed": seed,
                "gentext_sha256": gentext_sha, "distinct_words": len(counts),
                "words": sum(counts.values()), "ascii_only_whitespace": ascii_only_whitespace,
                "expected": str(reference), "expected_sha256": sha256_file(reference)}
        meta_path.write_text(json.dumps(meta, indent=1))
    if meta.get("gentext_sha256") != gentext_sha:
        log(f"note: {path.name} was made by an older scripts/gentext.py; the expected counts "
            "are computed from the file itself, so comparisons stay valid")
    return path, meta


def load_counts(path):
    counts = {}
    with open(path, "rb") as f:
        for line in f:
            key, _, value = line.rstrip(b"\n").partition(b"\t")
            counts[key] = int(value)
    return counts


# ---------------------------------------------------------------------------------------
# Running and measuring one command


def process_table():
    """{pid: (ppid, rss_bytes)} of every process, from /proc/PID/stat (one read each)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        try:  # fields from "state": ppid is the 2nd, rss (pages) the 22nd
            table[int(entry)] = (int(fields[1]), int(fields[21]) * PAGE)
        except (IndexError, ValueError):
            continue
    return table


def tree_rss(root):
    table = process_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


class Sampler(threading.Thread):
    """Peak of the summed RSS of a process tree, sampled."""

    def __init__(self, pid, interval=0.5):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.done.wait(self.interval)


TIME = "/usr/bin/time"  # GNU time (Debian package `time`)


def measure(command, *, stdout=None, timeout=None, cwd=ROOT, env=None, stderr_path=None):
    """Run a bash command line; wall time, CPU time, and peak memory two ways.

    GNU time runs the command and reports the largest max RSS among the processes it
    waited for (via getrusage). It is a small process: a child forked from this Python
    process would start with Python's max RSS, which getrusage keeps across exec.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    full_env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
    full_env.update(env or {})
    with tempfile.NamedTemporaryFile(prefix="bench-time-", suffix=".txt") as stat_file:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-f", "%M %U %S", "-o", stat_file.name,
                                 "bash", "-o", "pipefail", "-c", command], stdout=out,
                                stderr=err, cwd=cwd, env=full_env, start_new_session=True)
        sampler = Sampler(proc.pid)
        sampler.start()
        timed_out = False
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        fields = Path(stat_file.name).read_text().split()
    for f in (out, err):
        if f is not subprocess.DEVNULL:
            f.close()
    try:  # the last line is "maxrss user sys"; a "Command exited with ..." line may precede
        max_rss_kb, user, system = int(fields[-3]), float(fields[-2]), float(fields[-1])
    except (IndexError, ValueError):
        max_rss_kb, user, system = 0, 0.0, 0.0
    returncode = proc.returncode
    return {"wall_s": round(wall, 3), "user_s": user, "sys_s": system,
            "max_rss_mb": round(max_rss_kb / 1024, 1),
            "peak_tree_rss_mb": round(sampler.peak / 2**20, 1),
            "returncode": returncode, "timed_out": timed_out}


# ---------------------------------------------------------------------------------------
# Output normalisation: every tool's output becomes {word bytes: count}


def parse_tsv_files(paths):
    counts, repeated = {}, 0
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if not line:
                    continue
                key, _, value = line.rpartition(b"\t")
                if key in counts:
                    repeated += 1
                counts[key] = counts.get(key, 0) + int(value)
    return counts, repeated


def parse_uniq_c(path):
    """`uniq -c` lines: spaces, count, one space, word. Empty words (from leading
    whitespace that tr turned into an empty first line) are dropped."""
    counts, repeated = {}, 0
    with open(path, "rb") as f:
        for line in f:
            number, _, word = line.rstrip(b"\n").lstrip(b" ").partition(b" ")
            if not word:
                continue
            repeated += word in counts
            counts[word] = counts.get(word, 0) + int(number)
    return counts, repeated


def part_files(directory):
    return sorted(p for p in Path(directory).rglob("part-*") if p.is_file()
                  and not p.name.endswith(".crc"))


def check_output(counts, repeated, expected):
    if repeated:
        return False, f"{repeated} words appear more than once in the output"
    if counts == expected:
        return True, f"{len(counts)} words, all counts equal"
    missing = [k for k in expected if k not in counts]
    extra = [k for k in counts if k not in expected]
    wrong = [k for k in expected if k in counts and counts[k] != expected[k]]
    return False, (f"{len(missing)} missing (e.g. {missing[:3]}), {len(extra)} unexpected "
                   f"(e.g. {extra[:3]}), {len(wrong)} wrong counts (e.g. "
                   f"{[(k, counts[k], expected[k]) for k in wrong[:3]]})")


# ---------------------------------------------------------------------------------------
# The tools


class Tool:
    """One way to count words: a command line, where its output goes, how to read it."""

    def __init__(self, name, label, build, parse, *, splits="unicode", sources=(), group=None,
                 slow=False):
        self.name, self.label, self.build, self.parse = name, label, build, parse
        self.splits = splits  # "unicode": str.split(); "ascii": spaces, tabs, newlines only
        self.sources = sources
        self.group = group or name
        self.slow = slow


def pipeline(mapper, reducer):
    def build(data, out):
        return q("cat", data) + f" | {q(PY, mapper)} | LC_ALL=C sort | {q(PY, reducer)} > " + \
            q(out / "out.tsv")
    return build


def tsv_file(out):
    return parse_tsv_files([out / "out.tsv"])


def tsv_parts(out):
    return parse_tsv_files(part_files(out))


def run_local_build(mappers, reducers):
    def build(data, out):
        return q(PY, SCRIPTS / "run-local", "--mappers", mappers, "--reducers", reducers,
                 "--output", out / "result", data)
    return build


def run_local_parse(out):
    if not (out / "result" / "_SUCCESS").exists():
        return {}, 0
    return parse_tsv_files(part_files(out / "result"))


def awk_build(awk):
    def build(data, out):
        return f"LC_ALL=C {awk} -f {q(BENCH / 'peers' / 'wordcount.awk')} {q(data)} > " + \
            q(out / "out.tsv")
    return build


def tr_build(data, out):
    return (f"export LC_ALL=C; tr -s '[:space:]' '\\n' < {q(data)} | sort | uniq -c > "
            + q(out / "out.txt"))


def mrjob_build(data, out):
    return q(PY, BENCH / "peers" / "mr_wordcount.py", "-r", "local", "--num-cores", "2",
             "--no-output", "--output-dir", out / "result", data)


def spark_build(mode):
    def build(data, out):
        return q(PY, BENCH / "peers" / "spark_wordcount.py", mode, data, out / "result")
    return build


def hadoop_build(data, out):
    lib = hs.ensure_installed()
    mapper, reducer = q(PY, SCRIPTS / "mapper.py"), q(PY, SCRIPTS / "reducer.py")
    conf = {"hadoop.tmp.dir": str(out / "hadoop-tmp"),
            "mapreduce.local.map.tasks.maximum": "2",
            "mapreduce.local.reduce.tasks.maximum": "2"}
    command = hs.streaming_command(lib, ["-input", str(data), "-output", str(out / "result"),
                                         "-mapper", mapper, "-combiner", reducer,
                                         "-reducer", reducer, "-numReduceTasks", "2"], conf)
    return q(*command) + " 2> " + q(out / "hadoop-job.log")


def tools():
    ours = (SCRIPTS / "mapper.py", SCRIPTS / "reducer.py", SCRIPTS / "run-local")
    return {t.name: t for t in [
        Tool("cat", "cat > /dev/null (reading the input)",
             lambda d, o: f"cat {q(d)} > /dev/null", None),
        Tool("ours-pipeline", "ours: cat | mapper.py | sort | reducer.py",
             pipeline(SCRIPTS / "mapper.py", SCRIPTS / "reducer.py"), tsv_file,
             sources=ours[:2]),
        Tool("seed-pipeline", "original design: cat | mapper.py | sort | reducer.py",
             pipeline(BENCH / "baseline" / "mapper.py", BENCH / "baseline" / "reducer.py"),
             tsv_file, sources=(BENCH / "baseline" / "mapper.py",), slow=True),
        Tool("tr-sort-uniq", "LC_ALL=C tr -s '[:space:]' '\\n' | sort | uniq -c", tr_build,
             lambda o: parse_uniq_c(o / "out.txt"), splits="ascii"),
        Tool("mawk", "mawk word count (LC_ALL=C)", awk_build("mawk"), tsv_file, splits="ascii"),
        Tool("gawk", "gawk word count (LC_ALL=C)", awk_build("gawk"), tsv_file, splits="ascii"),
        Tool("mrjob", "mrjob 0.7.4 local runner, 2 cores", mrjob_build,
             lambda o: parse_tsv_files(part_files(o / "result")),
             sources=(BENCH / "peers" / "mr_wordcount.py",), slow=True),
        Tool("pyspark-rdd", "PySpark local[2], RDD (Python) word count", spark_build("rdd"),
             lambda o: parse_tsv_files(part_files(o / "result")),
             sources=(BENCH / "peers" / "spark_wordcount.py",)),
        Tool("pyspark-df", "PySpark local[2], DataFrame (JVM) word count", spark_build("df"),
             lambda o: parse_tsv_files(part_files(o / "result")), splits="ascii",
             sources=(BENCH / "peers" / "spark_wordcount.py",)),
        Tool("hadoop", "Hadoop Streaming 3.4 local mode, our scripts (2 map, 2 reduce slots)",
             hadoop_build, lambda o: parse_tsv_files(part_files(o / "result")),
             sources=ours[:2]),
    ]}


def run_local_tool(mappers, reducers):
    return Tool(f"run-local-m{mappers}-r{reducers}",
                f"ours: run-local --mappers {mappers} --reducers {reducers}",
                run_local_build(mappers, reducers), run_local_parse,
                sources=(SCRIPTS / "mapper.py", SCRIPTS / "reducer.py", SCRIPTS / "run-local"),
                group="run-local")


# ---------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.results_dir = Path(args.results)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.work = CACHE / ("bench-work-quick" if args.quick else "bench-work")
        self.json_path = self.results_dir / "results.json"
        self.old = {}
        if args.reuse and self.json_path.exists():
            for row in json.loads(self.json_path.read_text()).get("runs", []):
                self.old[(row["tool"], row["bytes"])] = row
        self.runs = []
        self.extra = {}

    def sources_sha(self, tool):
        digest = hashlib.sha256()
        for path in tool.sources:
            if Path(path).exists():
                digest.update(Path(path).read_bytes())
        return digest.hexdigest()[:12]

    def run_tool(self, tool, data, meta, expected):
        size = meta["bytes"]
        key = (tool.name, size)
        sha = self.sources_sha(tool)
        old = self.old.get(key)
        if old and old.get("sources_sha") == sha and old.get("data_sha") == meta[
                "expected_sha256"] and old.get("agrees") is not False and (
                "walls_s" in old or old["wall_s"] > self.args.repeat_below):
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
            if not stats["agrees"] and stats["agrees"] is not None:
                break
            if stats["wall_s"] > self.args.repeat_below:
                break
        best = min(attempts, key=lambda a: (a["agrees"] is False, a["wall_s"]))
        row = {"tool": tool.name, "group": tool.group, "label": tool.label, "bytes": size,
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

    def check(self, tool, out, stats, meta, expected):
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

    def save(self):
        document = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"), "machine": machine(), "quick": self.args.quick,
            "environment_removed": list(STRIPPED_ENV),
            "runs": self.runs, **self.extra}
        self.json_path.write_text(json.dumps(document, indent=1) + "\n")

    def main(self):
        all_tools = tools()
        selected = [n for n in all_tools if not self.args.only or n in self.args.only]
        sizes = self.args.sizes
        for size in sizes:
            data, meta = dataset(size)
            expected = load_counts(meta["expected"])
            self.extra.setdefault("datasets", {})[str(size)] = {
                k: meta[k] for k in ("bytes", "seed", "words", "distinct_words",
                                     "ascii_only_whitespace", "gentext_sha256")}
            measure(f"cat {q(data)} > /dev/null")  # into the page cache
            first = size == sizes[0]
            for name in selected:
                tool = all_tools[name]
                if tool.slow and size > self.args.slow_max_bytes:
                    log(f"{name} on {size_label(size)}: skipped (--slow-max-bytes)")
                    continue
                self.run_tool(tool, data, meta, expected)
            if "run-local" in self.args.only_groups():
                self.sweep(data, meta, expected, first)
        if not self.args.only or "reducer-memory" in self.args.only:
            self.reducer_memory()
        if not self.args.only or "profile" in self.args.only:
            self.profile(dataset(sizes[0])[0])
        self.save()
        report(self.json_path, self.results_dir)

    def sweep(self, data, meta, expected, full):
        """run-local over mapper and reducer counts; the best is 'run-local (best)'."""
        if full:
            grid = [(m, 2) for m in self.args.mapper_sweep]
        else:
            grid = []
        rows = [self.run_tool(run_local_tool(m, r), data, meta, expected) for m, r in grid]
        if full:
            good = [r for r in rows if r["agrees"]]
            best_m = int(min(good, key=lambda r: r["wall_s"])["tool"].split("-m")[1].split("-")[0]
                         ) if good else 2
            rows += [self.run_tool(run_local_tool(best_m, r), data, meta, expected)
                     for r in self.args.reducer_sweep if r != 2]
            self.best = min((r for r in rows if r["agrees"]), key=lambda r: r["wall_s"],
                            default=None)
        # The configuration the issue names, and the best one found on the first size.
        measured = {r["tool"] for r in rows}
        configs = {(4, 3)}
        if getattr(self, "best", None):
            m, r = self.best["tool"].split("-m")[1].split("-r")
            configs.add((int(m), int(r)))
        for m, r in sorted(configs):
            if run_local_tool(m, r).name not in measured:
                self.run_tool(run_local_tool(m, r), data, meta, expected)

    def reducer_memory(self):
        """Peak memory of the reducers over N distinct keys (each key twice, sorted)."""
        keys = self.args.distinct_keys
        path = CACHE / "bench-data" / f"sorted-{keys}-keys.tsv"
        if not path.exists():
            log(f"writing {keys} distinct sorted keys into {path}")
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as out:
                for block in range(0, keys, 100_000):
                    out.write(b"".join(b"key%08d\t1\nkey%08d\t2\n" % (i, i)
                                       for i in range(block, min(keys, block + 100_000))))
            tmp.replace(path)
        rows = {}
        for name, script in (("ours", SCRIPTS / "reducer.py"),
                             ("seed", BENCH / "baseline" / "reducer.py")):
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
                         input_bytes=path.stat().st_size,
                         agrees=(lines == keys == ok))
            out.unlink()
            log(f"reducer memory, {name}: {stats}")
            rows[name] = stats
        self.extra["reducer_memory"] = rows

    def profile(self, data):
        """Where the mapper and reducer spend their time (cProfile), and the floor."""
        results = {}
        cat = best_measure(f"cat {q(data)} > /dev/null")
        size = data.stat().st_size
        results["cat_mb_s"] = round(size / MB / cat["wall_s"], 1)
        for name, command in [
                ("mapper", f"{q(PY, SCRIPTS / 'mapper.py')} < {q(data)} > /dev/null"),
                ("seed-mapper",
                 f"{q(PY, BENCH / 'baseline' / 'mapper.py')} < {q(data)} > /dev/null")]:
            stats = best_measure(command, timeout=self.args.timeout)
            results[f"{name}_alone_mb_s"] = round(size / MB / stats["wall_s"], 1)
        sorted_input = CACHE / "bench-data" / f"sorted-{self.args.distinct_keys}-keys.tsv"
        if sorted_input.exists():
            stats = best_measure(f"{q(PY, SCRIPTS / 'reducer.py')} < {q(sorted_input)} > /dev/null")
            results["reducer_alone_mb_s"] = round(sorted_input.stat().st_size / MB /
                                                  stats["wall_s"], 1)
            results["reducer_alone_records_per_s"] = round(2 * self.args.distinct_keys /
                                                           stats["wall_s"])
            # The same with PYTHONUNBUFFERED=1, as container images often set it.
            slow = best_measure(f"{q(PY, SCRIPTS / 'reducer.py')} < {q(sorted_input)} > /dev/null",
                           env={"PYTHONUNBUFFERED": "1"})
            results["reducer_alone_unbuffered_mb_s"] = round(
                sorted_input.stat().st_size / MB / slow["wall_s"], 1)
            seed_stats = best_measure(
                f"{q(PY, BENCH / 'baseline' / 'reducer.py')} < {q(sorted_input)} > /dev/null")
            results["seed-reducer_alone_mb_s"] = round(
                sorted_input.stat().st_size / MB / seed_stats["wall_s"], 1)
        for name, script, source in [("mapper", SCRIPTS / "mapper.py", data),
                                     ("reducer", SCRIPTS / "reducer.py", sorted_input)]:
            if not source.exists():
                continue
            target = self.results_dir / f"profile-{name}.txt"
            proc = subprocess.run(
                f"{q(PY, '-m', 'cProfile', '-s', 'tottime', script)} < {q(source)}",
                shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if k not in STRIPPED_ENV})
            text = proc.stdout.decode("utf-8", "replace")
            stats_at = text.find("function calls")
            lines = text[stats_at:].splitlines()[:30] if stats_at >= 0 else []
            target.write_text(f"# cProfile of scripts/{script.name} on {source.name} "
                              f"(sorted by own time)\n" + "\n".join(lines) + "\n")
        results["primitives"] = primitives(data)
        self.extra["profile"] = results
        log(f"profile: {json.dumps(results)}")


def best_measure(command, repeat=3, **kwargs):
    """The fastest of `repeat` runs (the machine may be shared: noise only slows)."""
    return min((measure(command, **kwargs) for _ in range(repeat)), key=lambda m: m["wall_s"])


def primitives(data, limit=200 * MB):
    """Seconds for each step the mapper does, run alone on the same bytes in one process:
    the floor under the mapper's time with its design (decode, split, count)."""
    code = r"""
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
    out = subprocess.run([PY, "-c", code, str(data), str(limit)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def python_builds():
    """The CPython builds on PATH, fastest first, and which one this run uses."""
    ours = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return [{"version": info["version"], "probe_s": info["probe_s"],
             "used": os.path.realpath(info["executable"]) == ours}
            for info in pick_python.survey()]


def python_note(builds):
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


def machine():
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    java = subprocess.run([hs.java_executable(), "-version"], stderr=subprocess.PIPE,
                          text=True).stderr.splitlines()[0] if shutil.which("java") else None
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "python_builds": python_builds(),
            "kernel": platform.release(), "java": java,
            "hadoop": hs.hadoop_version(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


# ---------------------------------------------------------------------------------------
# Report: markdown table, plots, headline ratios


def best_rows(runs):
    """Per size: the row of each tool, with run-local reduced to its best agreeing row."""
    by_size = {}
    for row in runs:
        by_size.setdefault(row["bytes"], []).append(row)
    table = {}
    for size, rows in by_size.items():
        picked = {}
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


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def report(json_path, results_dir):
    document = json.loads(json_path.read_text())
    runs = document["runs"]
    table = best_rows(runs)
    lines = [f"# Word-count benchmark results", "",
             f"Generated {document['generated']} by `bench/run.py`"
             f"{' --quick' if document.get('quick') else ''}. Machine: "
             f"{document['machine']['cpus']} CPUs ({document['machine']['cpu']}), Python "
             f"{document['machine']['python']}, {document['machine']['java']}, Hadoop "
             f"{document['machine']['hadoop']}."
             f"{python_note(document['machine'].get('python_builds', []))}", "",
             "Throughput = input MB (10^6 bytes) / wall seconds. *ratio* = our best run-local "
             "throughput / the tool's (above 1: we are faster). Max RSS = largest single "
             "process; tree = peak of the summed RSS of all the command's processes. A time "
             "counts only if the output agrees with the independently computed counts.", ""]
    headline = {}
    for size in sorted(table):
        rows = table[size]
        ours = rows.get("run-local")
        ours_tp = ours["throughput_mb_s"] if ours and ours["agrees"] else None
        lines += [f"## {size_label(size)}", "",
                  "| tool | wall s | MB/s | ratio (run-local / tool) | max RSS MB | tree RSS MB "
                  "| output |", "|---|---:|---:|---:|---:|---:|---|"]
        for row in sorted(rows.values(), key=lambda r: -r["throughput_mb_s"]):
            label = row["label"] + (" (best of sweep)" if row["group"] == "run-local" else "")
            agrees = {True: "agrees", False: "DOES NOT COUNT: " + row["check"][:120],
                      None: "-"}[row["agrees"]]
            lines.append(
                f"| {label} | {row['wall_s']} | {row['throughput_mb_s']} | "
                f"{ratio(ours_tp, row['throughput_mb_s']) or '-'} | {row['max_rss_mb']} | "
                f"{row['peak_tree_rss_mb']} | {agrees} |")
        lines.append("")
        heads = {}
        for name, row in rows.items():
            if name not in ("run-local", "cat") and row["agrees"]:
                heads[f"run-local / {name}"] = ratio(ours_tp, row["throughput_mb_s"])
        pipe, seed = rows.get("ours-pipeline"), rows.get("seed-pipeline")
        if pipe and seed and pipe["agrees"] and seed["agrees"]:
            heads["ours-pipeline / seed-pipeline (issue 2 target >= 8)"] = ratio(
                pipe["throughput_mb_s"], seed["throughput_mb_s"])
        m4r3 = next((r for r in runs if r["bytes"] == size and r["tool"] ==
                     "run-local-m4-r3" and r["agrees"]), None)
        if m4r3 and pipe and pipe["agrees"]:
            heads["run-local -m4 -r3 / ours-pipeline (issue 2 target >= 1.4)"] = ratio(
                m4r3["throughput_mb_s"], pipe["throughput_mb_s"])
        spark = rows.get("pyspark-rdd")
        if spark and spark["agrees"]:
            heads["run-local / pyspark-rdd (issue 5 target >= 5)"] = heads.pop(
                "run-local / pyspark-rdd")
        headline[size_label(size)] = heads
        fastest = {}
        for r in runs:  # a configuration measured twice shows its faster agreeing run
            if r["bytes"] == size and r["group"] == "run-local":
                seen = fastest.get(r["tool"])
                if seen is None or (r["agrees"], -r["wall_s"]) > (seen["agrees"], -seen["wall_s"]):
                    fastest[r["tool"]] = r
        sweep = sorted(fastest.values(), key=lambda r: r["tool"])
        if sweep:
            lines += [f"run-local configurations on {size_label(size)}:", "",
                      "| mappers | reducers | wall s | MB/s | max RSS MB | tree RSS MB | output |",
                      "|---:|---:|---:|---:|---:|---:|---|"]
            for r in sweep:
                m, rr = r["tool"].split("-m")[1].split("-r")
                lines.append(f"| {m} | {rr} | {r['wall_s']} | {r['throughput_mb_s']} | "
                             f"{r['max_rss_mb']} | {r['peak_tree_rss_mb']} | "
                             f"{'agrees' if r['agrees'] else r['check'][:80]} |")
            lines.append("")
    lines += ["## Headline ratios", ""]
    for size, heads in headline.items():
        for name, value in heads.items():
            lines.append(f"- {size}: {name} = **{value}**")
    memory = document.get("reducer_memory")
    if memory:
        lines += ["", "## Reducer peak memory", "",
                  "| reducer | distinct keys | max RSS MB | wall s | output |",
                  "|---|---:|---:|---:|---|"]
        for name, m in memory.items():
            lines.append(f"| {m['script']} | {m['distinct_keys']} | {m['max_rss_mb']} | "
                         f"{m['wall_s']} | {'agrees' if m['agrees'] else 'WRONG'} |")
    profile = document.get("profile")
    if profile:
        lines += ["", "## Mapper and reducer alone", "", "```",
                  json.dumps(profile, indent=1), "```"]
    lines += ["", "Commands (paths relative to the repo; $CACHE_DIR is the data cache):", ""]
    seen = set()
    for row in runs:
        if row["tool"] not in seen:
            seen.add(row["tool"])
            lines.append(f"- `{row['tool']}`: `{row['command'][:400]}`")
    (results_dir / "results.md").write_text("\n".join(lines) + "\n")
    document["headline"] = headline
    json_path.write_text(json.dumps(document, indent=1) + "\n")
    plots(document, table, results_dir)
    update_readme(results_dir, lines[lines.index("## Headline ratios") + 2:])
    log(f"wrote {results_dir}/results.md, results.json, throughput.png, scaling.png")


def update_readme(results_dir, headline_lines):
    """Put the headline ratios into bench/README.md (between its markers), for the
    committed results only."""
    readme = BENCH / "README.md"
    if Path(results_dir).resolve() != (BENCH / "results").resolve() or not readme.exists():
        return
    text = readme.read_text()
    start, end = "<!-- headline:start -->", "<!-- headline:end -->"
    if start not in text or end not in text:
        return
    block = [line for line in headline_lines if line.startswith("- ") and " = **" in line]
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(head + start + "\n" + "\n".join(block) + "\n" + end + tail)


def plots(document, table, results_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    fig.savefig(results_dir / "throughput.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for size in sizes:
        points = sorted((int(r["tool"].split("-m")[1].split("-r")[0]), r["throughput_mb_s"])
                        for r in document["runs"] if r["bytes"] == size and r["agrees"]
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
    fig.savefig(results_dir / "scaling.png", dpi=110)
    plt.close(fig)


def parse_size(text):
    text = text.strip().upper()
    for suffix, factor in (("GB", 10**9), ("G", 10**9), ("MB", MB), ("M", MB), ("KB", 1000),
                           ("K", 1000)):
        if text.endswith(suffix):
            return int(float(text[:-len(suffix)]) * factor)
    return int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and sweeps: proves the harness works in minutes")
    parser.add_argument("--sizes", help="comma-separated input sizes (default 100MB,1GB)")
    parser.add_argument("--only", default="",
                        help="comma-separated tools (and run-local, reducer-memory, profile)")
    parser.add_argument("--results", default=str(BENCH / "results"),
                        help="where to write results (default bench/results; --quick: "
                             "$CACHE_DIR/bench-quick-results)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep earlier measurements from results.json when the tool's "
                             "sources and the data are unchanged")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--slow-max-bytes", type=parse_size, default=200 * MB,
                        help="run the slow peers (the seed pipeline, mrjob) only up to this "
                             "input size (default 200MB: on 1 GB they take 15-60 minutes)")
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
        results = Path(args.results)
        report(results / "results.json", results)
        return 0
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.quick:
        args.sizes = args.sizes or "4MB,12MB"
        if args.results == str(BENCH / "results"):
            args.results = str(CACHE / "bench-quick-results")
        args.mapper_sweep, args.reducer_sweep, args.distinct_keys = [1, 2, 4], [1, 2, 3], 30_000
    else:
        args.sizes = args.sizes or "100MB,1GB"
        args.mapper_sweep, args.reducer_sweep, args.distinct_keys = (
            [1, 2, 3, 4, 6, 8], [1, 2, 3, 4], 3_000_000)
    args.sizes = [parse_size(s) for s in args.sizes.split(",")]
    args.only = [s for s in args.only.split(",") if s]
    args.only_groups = lambda: args.only or ["run-local"]
    if not (SCRIPTS / "run-local").exists():
        parser.error("scripts/run-local is missing")
    Bench(args).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
