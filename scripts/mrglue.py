#!/usr/bin/env python3
"""The glue of a streaming MapReduce job: split, partition, sort, merge and commit.

Written once and used by the local runner (scripts/run-local) and by the chart's pods alike;
each subcommand is one step of a job and is safe to run again, or twice at once:

  plan         print the split plan for INPUTs
  fetch-input  download URLs and/or write the generated sample into a directory (pre-stage)
  map-task     run split I through the mapper, partition into R, sort, combine, commit
  shuffle      wait for every map task, then merge partition r of all map outputs (sort -m)
  reduce-task  run the reducer over partition r, commit part-r, commit the job when complete
  commit-job   write OUT/_SUCCESS once every task has committed

Layout of a job directory (JOB) and an output directory (OUT):
  JOB/plan.json                 split plan; the first task to write it fixes it
  JOB/_temporary/ATTEMPT/       scratch of one task attempt (attempt ids are unique)
  JOB/map/m-00003/              committed map task 3: part-00000..part-R-1 and _task.json
  JOB/map/_failed/m-00003/*.json  failed attempts of map task 3 (exit code, stderr tail)
  JOB/reduce/r-00001/_task.json committed reduce task 1
  OUT/part-00001, OUT/_SUCCESS  the job's output (map-only jobs: part-m-00003)
A task attempt commits by renaming its scratch directory to its final name. The rename is
atomic and fails when another attempt got there first, so retried or duplicated attempts
replace nothing and duplicate nothing.
"""
import argparse
import collections
import errno
import glob
import gzip
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
KVSORT = os.path.join(SCRIPT_DIR, "kvsort")
# The bundled scripts need only the standard library: -S skips site-packages, which is most of
# Python's start-up time, paid once per task process.
PYTHON = f"{shlex.quote(sys.executable)} -S"
DEFAULT_MAPPER = f"{PYTHON} {shlex.quote(os.path.join(SCRIPT_DIR, 'mapper.py'))}"
DEFAULT_REDUCER = f"{PYTHON} {shlex.quote(os.path.join(SCRIPT_DIR, 'reducer.py'))}"
EXIT_BAD_INPUT = 65
EXIT_MAP_STAGE_FAILED = 66  # EX_NOINPUT: the reduce input will never exist; do not retry
EXIT_USAGE = 2
BLOCK = 1 << 20
BOM = b"\xef\xbb\xbf"
FRAMEWORK = "mapreduce"  # counter group of the glue's own counters
STDERR_TAIL_LINES = 20


class JobError(Exception):
    """A failure to report in one line, with an exit code."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------- file helpers

def unique_suffix():
    """A temp-name suffix no other process, thread or pod uses: pids repeat across containers
    (every pod's first process is pid 1), so they are not enough on a shared volume."""
    return f"{os.getpid()}-{os.urandom(6).hex()}"


def write_json_atomic(path, data):
    temp = f"{path}.tmp-{unique_suffix()}"
    with open(temp, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)
        out.write("\n")
    os.replace(temp, path)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def commit_dir(scratch, final):
    """Rename `scratch` to `final`; False (and scratch removed) if another attempt won."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    try:
        os.rename(scratch, final)
        return True
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        shutil.rmtree(scratch, ignore_errors=True)
        return False


def is_visible(name):
    """Hadoop's rule: readers ignore names starting with `_` or `.`."""
    return not name.startswith(("_", "."))


# --------------------------------------------------------------------------- splits

def expand_inputs(inputs):
    """Files named by INPUTs (files, directories, globs), sorted, each once."""
    files = []
    for item in inputs:
        matches = sorted(glob.glob(item)) if glob.has_magic(item) else [item]
        if not matches or not all(os.path.exists(m) for m in matches):
            raise JobError(f"input not found: {item}", EXIT_USAGE)
        for match in matches:
            if os.path.isdir(match):
                for root, dirs, names in os.walk(match):
                    dirs[:] = sorted(d for d in dirs if is_visible(d))
                    files.extend(os.path.join(root, n) for n in sorted(names) if is_visible(n))
            else:
                files.append(match)
    seen = set()
    unique = []
    for path in files:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def is_compressed(path):
    return path.endswith(".gz")


def plan_splits(files, mappers):
    """Exactly `mappers` splits over `files` [(path, size)], balanced by bytes.

    A split is a list of chunks {path, start, length}; plain files are cut into byte ranges
    (lines are aligned when read, Hadoop's rule), a .gz file is one chunk. Splits past the
    data are empty.
    """
    if mappers < 1:
        raise JobError("the number of map tasks must be at least 1", EXIT_USAGE)
    total = sum(size for _, size in files)
    target = max(1, -(-total // mappers))
    splits = [[] for _ in range(mappers)]
    index, fill = 0, 0
    for path, size in files:
        if size == 0:
            continue
        if is_compressed(path):
            splits[index].append({"path": path, "start": 0, "length": size})
            fill += size
        else:
            start = 0
            while start < size:
                room = size - start if index == mappers - 1 else target - fill
                take = min(room, size - start)
                splits[index].append({"path": path, "start": start, "length": take})
                start += take
                fill += take
                if fill >= target and index < mappers - 1:
                    index, fill = index + 1, 0
            continue
        if fill >= target and index < mappers - 1:
            index, fill = index + 1, 0
    return splits


def make_plan(inputs, mappers):
    files = [(path, os.path.getsize(path)) for path in expand_inputs(inputs)]
    return {"mappers": mappers, "inputs": list(inputs),
            "total_bytes": sum(size for _, size in files),
            "splits": plan_splits(files, mappers)}


def load_or_create_plan(job_dir, inputs, mappers):
    """The job's split plan: the first task to get here writes it, the others read it."""
    path = os.path.join(job_dir, "plan.json")
    if not os.path.exists(path):
        plan = make_plan(inputs, mappers)
        os.makedirs(job_dir, exist_ok=True)
        temp = f"{path}.tmp-{unique_suffix()}"
        write_json_atomic(temp, plan)
        try:
            os.link(temp, path)  # fails if another task fixed the plan first
        except FileExistsError:
            pass
        except OSError:
            os.replace(temp, path)  # no hard links here: plans from equal inputs are equal
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    plan = read_json(path)
    if plan["mappers"] != mappers:
        raise JobError(f"{path} was made for {plan['mappers']} map tasks, not {mappers}",
                       EXIT_USAGE)
    return plan


def copy_through_newline(f, write):
    """Pass `f`'s bytes up to and including the next newline to `write`, leaving `f` just
    after it. Returns (bytes passed, whether a newline was found before end of file)."""
    passed = 0
    while True:
        block = f.read(BLOCK)
        if not block:
            return passed, False
        at = block.find(b"\n")
        if at >= 0:
            write(block[: at + 1])
            f.seek(at + 1 - len(block), os.SEEK_CUR)
            return passed + at + 1, True
        write(block)
        passed += len(block)


def discard(data):
    pass


def read_chunk(path, start, length, write):
    """Write the lines of one chunk with Hadoop's rule: a chunk owns each line that starts in
    (start, start+length], or [0, length] when start is 0, so every line of a file is read
    once across its chunks. A UTF-8 BOM at offset 0 is dropped. Returns bytes written."""
    if is_compressed(path):
        with gzip.open(path, "rb") as f:
            return copy_stream(f.read, write, strip_bom=True)
    end = start + length
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start)
            _, found = copy_through_newline(f, discard)  # that line belongs to the chunk before
            if not found or f.tell() > end:
                return 0
        elif f.read(3) != BOM:
            f.seek(0)
        written = 0
        remaining = end - f.tell()
        while remaining > 0:  # every byte before `end` belongs to lines that start in range
            block = f.read(min(BLOCK, remaining))
            if not block:
                return written
            remaining -= len(block)
            write(block)
            written += len(block)
        # The line holding (or starting at) byte `end` runs through the next newline.
        return written + copy_through_newline(f, write)[0]


def copy_stream(read, write, strip_bom=False):
    written = 0
    block = read(BLOCK)
    if strip_bom and block.startswith(BOM):
        block = block[3:]
    while block:
        write(block)
        written += len(block)
        block = read(BLOCK)
    return written


# --------------------------------------------------------------------------- processes

class StderrReader(threading.Thread):
    """Forwards a task's stderr, taking out Hadoop `reporter:` lines as counters/status."""

    def __init__(self, stream, label):
        super().__init__(daemon=True)
        self.stream, self.label = stream, label
        self.counters = {}
        self.tail = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.start()

    def run(self):
        for raw in self.stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not parse_reporter_line(line, self.counters):
                self.tail.append(line)
                sys.stderr.write(f"[{self.label}] {line}\n")
                sys.stderr.flush()
        self.stream.close()


def parse_reporter_line(line, counters):
    """Apply one `reporter:counter:G,C,N` / `reporter:status:M` line; False if not one."""
    if line.startswith("reporter:counter:"):
        fields = line[len("reporter:counter:"):].split(",")
        if len(fields) < 3:
            return False
        group, name, amount = ",".join(fields[:-2]), fields[-2], fields[-1]
        try:
            add_counter(counters, group, name, int(amount))
        except ValueError:
            return False
        return True
    if line.startswith("reporter:status:"):
        sys.stderr.write(f"status: {line[len('reporter:status:'):]}\n")
        return True
    return False


def add_counter(counters, group, name, amount):
    group_counts = counters.setdefault(group, {})
    group_counts[name] = group_counts.get(name, 0) + amount


def merge_counters(into, other):
    for group, names in other.items():
        for name, amount in names.items():
            add_counter(into, group, name, amount)
    return into


def shell(command, **kwargs):
    """Start a user command line (mapper, reducer, combiner) with /bin/sh."""
    return subprocess.Popen(["/bin/sh", "-c", command], **kwargs)


def exit_code_of(returncode):
    """A process's status as a shell reports it (signals as 128+N)."""
    return 128 - returncode if returncode < 0 else returncode


def task_env(extra):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    return env


# --------------------------------------------------------------------------- map stage

def task_name(kind, index):
    return f"{kind}-{index:05d}"


def part_name(index):
    return f"part-{index:05d}"


def partition_of(key, reducers):
    """The reduce partition of a key: a stable hash of its bytes, the same everywhere."""
    return zlib.crc32(key) % reducers


def partition_lines(lines, outputs):
    """Spread records over `outputs` (file objects) by key; returns the record count."""
    reducers = len(outputs)
    writes = [out.write for out in outputs]
    crc32 = zlib.crc32
    count = 0
    for line in lines:
        tab = line.find(b"\t")
        key = line[:tab] if tab >= 0 else line.rstrip(b"\n")
        writes[crc32(key) % reducers](line if line.endswith(b"\n") else line + b"\n")
        count += 1
    return count


def copy_counting_lines(read, write):
    count, last = 0, b"\n"
    block = read(BLOCK)
    while block:
        write(block)
        count += block.count(b"\n")
        last = block[-1:]
        block = read(BLOCK)
    if last != b"\n":
        write(b"\n")
        count += 1
    return count


def feed_split(split, stdin, counters):
    """Thread body: write a split's lines to a mapper's stdin."""
    stats = {"bytes": 0, "records": 0, "last": b"\n"}

    def write(data):
        if data:
            stdin.write(data)
            stats["bytes"] += len(data)
            stats["records"] += data.count(b"\n")
            stats["last"] = data[-1:]

    try:
        for chunk in split:
            read_chunk(chunk["path"], chunk["start"], chunk["length"], write)
            if stats["last"] != b"\n":  # a file's last line ends with the file
                stdin.write(b"\n")
                stats["records"] += 1
                stats["last"] = b"\n"
    except BrokenPipeError:
        pass  # the mapper stopped reading; its exit code tells whether that is an error
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass
    add_counter(counters, FRAMEWORK, "MAP_INPUT_BYTES", stats["bytes"])
    add_counter(counters, FRAMEWORK, "MAP_INPUT_RECORDS", stats["records"])


def sort_and_combine(raw_path, out_path, combiner, env, label):
    """`kvsort < raw | combiner > out`; returns the combiner's counters."""
    with open(raw_path, "rb") as raw, open(out_path, "wb") as out:
        if not combiner:
            subprocess.run(["/bin/sh", KVSORT], stdin=raw, stdout=out, check=True)
            return {}
        sorter = subprocess.Popen(["/bin/sh", KVSORT], stdin=raw, stdout=subprocess.PIPE)
        proc = shell(combiner, stdin=sorter.stdout, stdout=out, stderr=subprocess.PIPE, env=env)
        sorter.stdout.close()
        reader = StderrReader(proc.stderr, label)
        proc.wait()
        sorter.wait()
        reader.join()
    if sorter.returncode:
        raise JobError(f"{label}: sort failed with exit code {sorter.returncode}")
    if proc.returncode:
        raise TaskFailed(exit_code_of(proc.returncode), list(reader.tail), "combiner")
    return reader.counters


class TaskFailed(Exception):
    def __init__(self, exit_code, tail, what):
        super().__init__(f"{what} exited with code {exit_code}")
        self.exit_code, self.tail, self.what = exit_code, tail, what


def widen_pipe(stream, size=BLOCK):
    """Ask for a 1 MiB pipe buffer (Linux): fewer wake-ups per megabyte moved."""
    try:
        import fcntl
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ImportError):
        pass  # a smaller pipe only costs speed


def run_mapper(split, command, env, reducers, scratch, label, counters):
    """Run the mapper over a split; write the raw partitions (or, map-only, the output)."""
    proc = shell(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, env=env, bufsize=BLOCK)
    widen_pipe(proc.stdin)
    widen_pipe(proc.stdout)
    reader = StderrReader(proc.stderr, label)
    feeder = threading.Thread(target=feed_split, args=(split, proc.stdin, counters), daemon=True)
    feeder.start()
    if reducers == 0:
        names = ["output"]
    else:
        names = [f"raw-{r:05d}" for r in range(reducers)]
    outputs = [open(os.path.join(scratch, name), "wb", buffering=BLOCK) for name in names]
    try:
        if reducers <= 1:
            records = copy_counting_lines(proc.stdout.read, outputs[0].write)
        else:
            records = partition_lines(proc.stdout, outputs)
    finally:
        for out in outputs:
            out.close()
    proc.wait()
    feeder.join()
    reader.join()
    merge_counters(counters, reader.counters)
    if proc.returncode:
        raise TaskFailed(exit_code_of(proc.returncode), list(reader.tail), "mapper")
    add_counter(counters, FRAMEWORK, "MAP_OUTPUT_RECORDS", records)


def record_failure(job_dir, kind, index, attempt, failure, bad_input_exit_code):
    folder = os.path.join(job_dir, kind, "_failed", task_name(kind[0], index))
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(os.path.join(folder, f"{attempt}.json"), {
        "attempt": attempt, "exit_code": failure.exit_code, "what": failure.what,
        "final": failure.exit_code == bad_input_exit_code,
        "stderr_tail": failure.tail, "time": time.time()})


def map_task(job_dir, index, mappers, reducers, inputs, attempt, output=None,
             mapper=DEFAULT_MAPPER, combiner=None, bad_input_exit_code=EXIT_BAD_INPUT):
    """Run map task `index` once; returns 0, or the failing command's exit code."""
    if not 0 <= index < mappers:
        raise JobError(f"map task index {index} is outside 0..{mappers - 1}", EXIT_USAGE)
    if reducers == 0 and not output:
        raise JobError("a map-only job (0 reducers) needs --output", EXIT_USAGE)
    plan = load_or_create_plan(job_dir, inputs, mappers)
    name = task_name("m", index)
    final = os.path.join(job_dir, "map", name)
    if not os.path.exists(os.path.join(final, "_task.json")):
        split = plan["splits"][index]
        first = split[0] if split else {"path": "", "start": 0, "length": 0}
        env = task_env({
            "mapreduce_map_input_file": first["path"],
            "mapreduce_map_input_start": first["start"],
            "mapreduce_map_input_length": sum(c["length"] for c in split),
            "mapreduce_task_partition": index,
            "mapreduce_task_attempt_id": attempt,
            "mapreduce_job_reduces": reducers,
        })
        scratch = os.path.join(job_dir, "_temporary", attempt, name)
        os.makedirs(scratch, exist_ok=True)
        label = f"{name} {attempt}"
        counters = {}
        try:
            run_mapper(split, mapper, env, reducers, scratch, label, counters)
            if reducers == 0:
                os.rename(os.path.join(scratch, "output"),
                          os.path.join(scratch, f"part-m-{index:05d}"))
            for r in range(reducers):
                raw = os.path.join(scratch, f"raw-{r:05d}")
                merge_counters(counters, sort_and_combine(
                    raw, os.path.join(scratch, part_name(r)), combiner, env, label))
                os.unlink(raw)
        except TaskFailed as failure:
            record_failure(job_dir, "map", index, attempt, failure, bad_input_exit_code)
            shutil.rmtree(os.path.dirname(scratch), ignore_errors=True)
            sys.stderr.write(f"{label}: {failure}\n")
            return failure.exit_code
        write_json_atomic(os.path.join(scratch, "_task.json"),
                          {"task": name, "attempt": attempt, "counters": counters})
        commit_dir(scratch, final)
        shutil.rmtree(os.path.join(job_dir, "_temporary", attempt), ignore_errors=True)
    if reducers == 0:
        publish(os.path.join(final, f"part-m-{index:05d}"), output)
        commit_job(job_dir, output, mappers, reducers)
    return 0


def publish(committed_file, output):
    """Move a committed part into OUT (done at most once; a retry finds it there)."""
    os.makedirs(output, exist_ok=True)
    target = os.path.join(output, os.path.basename(committed_file))
    if os.path.exists(committed_file):
        os.replace(committed_file, target)
    elif not os.path.exists(target):
        raise JobError(f"committed output {committed_file} is missing and not in {output}")


# --------------------------------------------------------------------------- shuffle

def map_stage_status(job_dir, mappers, max_attempts):
    """(indexes still running, {index: failure record}) of a job's map stage."""
    pending, failed = [], {}
    for index in range(mappers):
        name = task_name("m", index)
        if os.path.exists(os.path.join(job_dir, "map", name, "_task.json")):
            continue
        folder = os.path.join(job_dir, "map", "_failed", name)
        records = []
        if os.path.isdir(folder):
            for entry in sorted(os.listdir(folder)):
                if entry.endswith(".json"):
                    try:
                        records.append(read_json(os.path.join(folder, entry)))
                    except (OSError, ValueError):
                        pass  # being written
        records.sort(key=lambda r: r.get("time", 0))
        final = [r for r in records if r.get("final")]
        if final or (max_attempts and len(records) >= max_attempts):
            failed[index] = dict((final or records)[-1], attempts=len(records))
        else:
            pending.append(index)
    return pending, failed


def describe_failure(index, record):
    tail = "\n".join("    " + line for line in record.get("stderr_tail", [])[-10:])
    reason = ("bad input" if record.get("final") else f"{record['attempts']} failed attempts")
    return (f"map task {index} failed for good ({reason}; last exit code "
            f"{record.get('exit_code')}, attempt {record.get('attempt')})"
            + (f"; its stderr ends:\n{tail}" if tail else ""))


def wait_for_maps(job_dir, mappers, max_attempts, timeout, poll=0.5, progress=None):
    """Block until every map task has committed; JobError when one failed for good or at
    the timeout."""
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        pending, failed = map_stage_status(job_dir, mappers, max_attempts)
        if failed:
            index = min(failed)
            raise JobError(describe_failure(index, failed[index]))
        if not pending:
            return
        if progress:
            progress(mappers - len(pending), mappers)
        if deadline is not None and time.monotonic() > deadline:
            shown = ", ".join(map(str, pending[:20])) + (" ..." if len(pending) > 20 else "")
            raise JobError(f"timed out after {timeout:g}s waiting for map tasks {shown}")
        time.sleep(poll)


def map_outputs(job_dir, mappers, partition):
    return [os.path.join(job_dir, "map", task_name("m", i), part_name(partition))
            for i in range(mappers)]


def merge_command(job_dir, mappers, partition):
    """GNU sort -m over partition `partition` of every map task's output."""
    return ["/bin/sh", KVSORT, "-m", "--", *map_outputs(job_dir, mappers, partition)]


def failure_note(merged):
    """Where a deferred shuffle failure is left for the reduce step (see `shuffle`)."""
    return f"{merged}.failed"


def shuffle(job_dir, index, mappers, max_attempts, timeout, output, poll=0.5,
            defer_failure=False):
    """Wait for the map stage and merge partition `index` into `output`.

    With defer_failure, a map stage that failed for good (or the timeout) is written next to
    `output` and the shuffle exits 0, so that the reduce step reports it: in a pod, the
    shuffle is an init container, and `helm install` prints only main containers' logs."""
    last = [None]

    def progress(done, total):  # a line when the count moves, not at every poll
        if done != last[0]:
            last[0] = done
            sys.stderr.write(f"shuffle r-{index:05d}: {done}/{total} map tasks committed\n")

    try:
        wait_for_maps(job_dir, mappers, max_attempts, timeout, poll, progress)
    except JobError as error:
        if not defer_failure:
            raise
        with open(failure_note(output), "w") as note:
            note.write(f"{error}\n")
        sys.stderr.write(f"shuffle r-{index:05d}: {error}\n")
        return 0
    temp = f"{output}.tmp-{unique_suffix()}"
    with open(temp, "wb") as out:
        subprocess.run(merge_command(job_dir, mappers, index), stdout=out, check=True)
    os.replace(temp, output)
    sys.stderr.write(f"shuffle r-{index:05d}: merged {mappers} map outputs into {output}\n")
    return 0


# --------------------------------------------------------------------------- reduce stage

def reduce_task(job_dir, index, mappers, reducers, attempt, output, reducer=DEFAULT_REDUCER,
                merged=None):
    """Run reduce task `index` over the merged file, or merging the map outputs itself."""
    if not 0 <= index < reducers:
        raise JobError(f"reduce task index {index} is outside 0..{reducers - 1}", EXIT_USAGE)
    if merged and os.path.exists(failure_note(merged)):
        with open(failure_note(merged)) as note:
            raise JobError(f"no input for reduce task {index}: {note.read().strip()}",
                           EXIT_MAP_STAGE_FAILED)
    name = task_name("r", index)
    final = os.path.join(job_dir, "reduce", name)
    if not os.path.exists(os.path.join(final, "_task.json")):
        scratch = os.path.join(job_dir, "_temporary", attempt, name)
        os.makedirs(scratch, exist_ok=True)
        label = f"{name} {attempt}"
        env = task_env({"mapreduce_task_partition": index, "mapreduce_task_attempt_id": attempt,
                        "mapreduce_job_reduces": reducers})
        if merged:
            source, merger = open(merged, "rb"), None
        else:
            pending, failed = map_stage_status(job_dir, mappers, 0)
            if pending:
                raise JobError(f"{label}: map tasks {pending[:20]} have not committed")
            merger = subprocess.Popen(merge_command(job_dir, mappers, index),
                                      stdout=subprocess.PIPE)
            source = merger.stdout
        with source, open(os.path.join(scratch, part_name(index)), "wb") as out:
            proc = shell(reducer, stdin=source, stdout=out, stderr=subprocess.PIPE, env=env)
            reader = StderrReader(proc.stderr, label)
            proc.wait()
            reader.join()
        if merger and merger.wait():
            raise JobError(f"{label}: merging the map outputs failed "
                           f"(exit code {merger.returncode})")
        if proc.returncode:
            code = exit_code_of(proc.returncode)
            sys.stderr.write(f"{label}: reducer exited with code {code}\n")
            shutil.rmtree(os.path.dirname(scratch), ignore_errors=True)
            return code
        counters = reader.counters
        with open(os.path.join(scratch, part_name(index)), "rb") as part:
            records = sum(block.count(b"\n") for block in iter(lambda: part.read(BLOCK), b""))
        add_counter(counters, FRAMEWORK, "REDUCE_OUTPUT_RECORDS", records)
        write_json_atomic(os.path.join(scratch, "_task.json"),
                          {"task": name, "attempt": attempt, "counters": counters})
        commit_dir(scratch, final)
        shutil.rmtree(os.path.join(job_dir, "_temporary", attempt), ignore_errors=True)
    publish(os.path.join(final, part_name(index)), output)
    commit_job(job_dir, output, mappers, reducers)
    return 0


# --------------------------------------------------------------------------- job commit

def commit_job(job_dir, output, mappers, reducers):
    """Write OUT/_SUCCESS if every task has committed and published; True if it exists."""
    success = os.path.join(output, "_SUCCESS")
    if os.path.exists(success):
        return True
    if reducers == 0:
        tasks = [("map", task_name("m", i), f"part-m-{i:05d}") for i in range(mappers)]
    else:
        tasks = [("reduce", task_name("r", i), part_name(i)) for i in range(reducers)]
    for kind, name, part in tasks:
        if not (os.path.exists(os.path.join(job_dir, kind, name, "_task.json"))
                and os.path.exists(os.path.join(output, part))):
            return False
    counters = {}
    task_reports = {"map": {}, "reduce": {}}
    for kind, count, letter in (("map", mappers, "m"), ("reduce", reducers, "r")):
        for i in range(count):
            report = read_json(os.path.join(job_dir, kind, task_name(letter, i), "_task.json"))
            task_reports[kind][task_name(letter, i)] = report["attempt"]
            merge_counters(counters, report["counters"])
    plan = read_json(os.path.join(job_dir, "plan.json"))
    write_json_atomic(success, {
        "mappers": mappers, "reducers": reducers,
        "parts": [part for _, _, part in tasks],
        "counters": counters,
        "attempts": task_reports,
        "inputs": plan["inputs"], "total_bytes": plan["total_bytes"], "splits": plan["splits"],
        "committed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    return True


# --------------------------------------------------------------------------- input stage

def url_file_name(url):
    import urllib.parse
    path = urllib.parse.urlparse(url).path
    base = os.path.basename(path.rstrip("/")) or "index"
    # Two URLs with one base name must not collide: prefix a short stable hash of the URL.
    return f"{zlib.crc32(url.encode()):08x}-{base}"


def fetch_input(dest, urls=(), sample_bytes=0, sample_seed=1, timeout=60):
    """Download URLs once into DEST and/or write the generated sample; returns the paths."""
    import urllib.parse
    import urllib.request  # here, not at the top: it is slow to import and tasks never need it
    os.makedirs(dest, exist_ok=True)
    paths = []
    for url in urls:
        if urllib.parse.urlparse(url).scheme not in ("http", "https"):
            raise JobError(f"not an HTTP(S) URL: {url}", EXIT_USAGE)
        target = os.path.join(dest, url_file_name(url))
        if not os.path.exists(target):
            temp = os.path.join(dest, f".{os.path.basename(target)}.tmp-{unique_suffix()}")
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response, \
                        open(temp, "wb") as out:
                    shutil.copyfileobj(response, out, BLOCK)
            except (OSError, ValueError) as error:
                if os.path.exists(temp):
                    os.unlink(temp)
                raise JobError(f"downloading {url} failed: {error}") from None
            os.replace(temp, target)
        paths.append(target)
    if sample_bytes:
        sys.path.insert(0, SCRIPT_DIR)
        import gentext
        target = os.path.join(dest, f"sample-{sample_seed}-{sample_bytes}.txt")
        if not os.path.exists(target):
            temp = os.path.join(dest, f".{os.path.basename(target)}.tmp-{unique_suffix()}")
            with open(temp, "wb") as out:
                gentext.write_text(out, sample_bytes, sample_seed)
            os.replace(temp, target)
        paths.append(target)
    return paths


# --------------------------------------------------------------------------- command line

def build_parser():
    parser = argparse.ArgumentParser(
        prog="mrglue.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plan", help="print the split plan as JSON")
    p.add_argument("--mappers", type=int, required=True)
    p.add_argument("inputs", nargs="+", metavar="INPUT")

    p = sub.add_parser("fetch-input", help="download URLs / write the sample into DEST")
    p.add_argument("--dest", required=True)
    p.add_argument("--url", action="append", default=[])
    p.add_argument("--sample-bytes", type=int, default=0)
    p.add_argument("--sample-seed", type=int, default=1)

    def task_args(p, kind):
        p.add_argument("--job-dir", required=True, help="the job's working directory")
        p.add_argument("--index", type=int, required=True, help="the task's index")
        p.add_argument("--mappers", type=int, required=True)
        p.add_argument("--reducers", type=int, required=True)
        p.add_argument("--attempt", default=f"{kind}-attempt-{os.getpid()}-{time.time_ns()}",
                       help="an id unique to this attempt (a pod name)")
        p.add_argument("--output", help="the job's output directory")

    p = sub.add_parser("map-task", help="run one map task")
    task_args(p, "map")
    p.add_argument("--mapper", default=DEFAULT_MAPPER, help="mapper command line")
    p.add_argument("--combiner", default="", help="combiner command line (optional)")
    p.add_argument("--bad-input-exit-code", type=int, default=EXIT_BAD_INPUT)
    p.add_argument("inputs", nargs="+", metavar="INPUT")

    p = sub.add_parser("shuffle", help="wait for the map stage, merge one partition")
    p.add_argument("--job-dir", required=True)
    p.add_argument("--index", type=int, required=True, help="the reduce partition")
    p.add_argument("--mappers", type=int, required=True)
    p.add_argument("--max-attempts", type=int, default=4,
                   help="a map task with this many failed attempts has failed for good")
    p.add_argument("--timeout", type=float, default=0, help="seconds; 0 waits for ever")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between checks")
    p.add_argument("--output", required=True, help="the merged file to write")
    p.add_argument("--defer-failure", action="store_true",
                   help="on a failed map stage, leave OUTPUT.failed for reduce-task (which "
                        "then exits 66 with the message) and exit 0")

    p = sub.add_parser("reduce-task", help="run one reduce task")
    task_args(p, "reduce")
    p.add_argument("--reducer", default=DEFAULT_REDUCER, help="reducer command line")
    p.add_argument("--input", help="merged input from `shuffle` (default: merge here)")

    p = sub.add_parser("commit-job", help="write OUT/_SUCCESS if every task committed")
    p.add_argument("--job-dir", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--mappers", type=int, required=True)
    p.add_argument("--reducers", type=int, required=True)
    return parser


def run_command(args):
    if args.command == "plan":
        json.dump(make_plan(args.inputs, args.mappers), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if args.command == "fetch-input":
        for path in fetch_input(args.dest, args.url, args.sample_bytes, args.sample_seed):
            print(path)
        return 0
    if getattr(args, "reducers", 0) < 0 or getattr(args, "mappers", 1) < 1:
        raise JobError("--mappers must be at least 1 and --reducers at least 0", EXIT_USAGE)
    if args.command == "map-task":
        return map_task(args.job_dir, args.index, args.mappers, args.reducers, args.inputs,
                        args.attempt, args.output, args.mapper, args.combiner or None,
                        args.bad_input_exit_code)
    if args.command == "shuffle":
        return shuffle(args.job_dir, args.index, args.mappers, args.max_attempts,
                       args.timeout, args.output, args.poll, args.defer_failure)
    if args.command == "reduce-task":
        if not args.output:
            raise JobError("reduce-task needs --output", EXIT_USAGE)
        return reduce_task(args.job_dir, args.index, args.mappers, args.reducers,
                           args.attempt, args.output, args.reducer, args.input)
    if args.command == "commit-job":
        done = commit_job(args.job_dir, args.output, args.mappers, args.reducers)
        print("committed" if done else "not every task has committed yet")
        return 0 if done else 1
    raise AssertionError(args.command)


def main(argv=None):
    args = build_parser().parse_args(argv)
    # SIGTERM (pod deletion, a runner's kill) ends the attempt without recording a failure:
    # it is the platform's decision, not the task's.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    try:
        return run_command(args)
    except JobError as error:
        sys.stderr.write(f"mrglue {args.command}: {error}\n")
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
