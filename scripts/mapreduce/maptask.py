"""A map task: feed its split to the mapper, partition and sort the mapper's output with ONE
sort process, run the combiner at most once over that sorted stream, and commit one data file
plus the index of its partitions' byte ranges. Map-only jobs write their part file instead.

Processes per map task do not depend on the number of reducers: mapper and sort (plus cut,
combiner and a second sort when there is a combiner)."""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import subprocess
import sys
import threading
import time

from mapreduce import keys, splits
from mapreduce.commit import (
    add_counter,
    commit_dir,
    finish_task,
    merge_counters,
    no_space_error,
    read_json,
    unique_suffix,
    volume_is_full,
    write_json_atomic,
)
from mapreduce.layout import MAP_INDEX, JobLayout, part_name, task_name, write_index
from mapreduce.settings import ExitCode, JobConf, JobError
from mapreduce.tasks import (
    FRAMEWORK,
    Heartbeat,
    Progress,
    StderrReader,
    TaskFailed,
    finish,
    kill_group,
    pipe,
    prepare_workdir,
    start_command,
    task_env,
    widen_pipe,
)

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import IO, Any, Callable

KVSORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kvsort")
BLOCK = 1 << 20


# --------------------------------------------------------------------------- the plan


def new_job_id() -> str:
    """A Hadoop-shaped job id, fixed with the plan: job_<ms since epoch>_<4 random digits>."""
    return f"job_{int(time.time() * 1000)}_{int(unique_suffix()[:4], 16) % 10000:04d}"


def load_or_create_plan(
    *, layout: JobLayout, inputs: list[str], mappers: int, conf: JobConf, packed: bool = False
) -> dict:
    """The job's split plan: the first task to get here writes it, the others read it; a plan
    made for other inputs is an error, not a result."""
    if not os.path.exists(layout.plan):
        plan = splits.make_plan(inputs, mappers, conf, packed)
        plan["job_id"] = new_job_id()
        os.makedirs(layout.job_dir, exist_ok=True)
        temp = f"{layout.plan}.new-{unique_suffix()}"
        write_json_atomic(temp, plan)
        try:
            os.link(temp, layout.plan)  # fails if another task fixed the plan first
        except FileExistsError:
            pass
        except OSError:
            os.replace(temp, layout.plan)  # no hard links here: equal inputs, equal plans
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    plan = read_json(layout.plan)
    splits.check_plan(plan, inputs, mappers, packed, layout.plan)
    return plan


def task_ids(plan: dict, kind: str, index: int, attempt_number: int) -> dict[str, str]:
    """Hadoop's task and attempt ids: task_<job>_m_000003, attempt_<job>_m_000003_0."""
    job = plan["job_id"][len("job_") :]
    task = f"{job}_{kind}_{index:06d}"
    return {
        "mapreduce_job_id": plan["job_id"],
        "mapreduce_task_id": f"task_{task}",
        "mapreduce_task_attempt_id": f"attempt_{task}_{attempt_number}",
    }


def failed_attempts(layout: JobLayout, kind: str, index: int) -> int:
    folder = layout.failed_dir(kind, index)
    if not os.path.isdir(folder):
        return 0
    return sum(name.endswith(".json") for name in os.listdir(folder))


# --------------------------------------------------------------------------- output sides


def output_line_writer(
    conf: JobConf, out: IO[bytes], sep: bytes, key_fields: int
) -> Callable[[list[bytes]], None]:
    """TextOutputFormat: each line becomes key, the output separator, value."""
    out_sep = conf.output_separator
    write = out.write
    if sep == b"\t" and key_fields == 1 and out_sep == b"\t":

        def tab_lines(lines: list[bytes]) -> None:
            write(b"".join([line + b"\n" if b"\t" in line else line + b"\t\n" for line in lines]))

        return tab_lines

    def formatted_lines(lines: list[bytes]) -> None:
        parts = []
        for line in lines:
            key, value = keys.split_key_value(line, sep, key_fields)
            parts.append(key + out_sep + value + b"\n")
        write(b"".join(parts))

    return formatted_lines


def open_output(path: str, compress: bool) -> IO[bytes]:
    if compress:
        return gzip.open(path, "wb", compresslevel=6)  # type: ignore[return-value]
    return open(path, "wb", buffering=1 << 20)


def each_batch(
    stream: IO[bytes], handle: Callable[[list[bytes]], None], progress: Progress | None = None
) -> int:
    """Call `handle` with the lines of a command's output, a block's worth at a time; a line
    ends at \\n, \\r or \\r\\n (Hadoop reads commands' output as it reads input files).
    Returns the number of lines."""
    count = 0
    pending = b""
    read = stream.read1 if hasattr(stream, "read1") else stream.read
    while True:
        block = read(BLOCK)
        if not block:
            break
        data = pending + block
        if b"\r" in data:
            held = data.endswith(b"\r")  # \r\n or \r alone: the next block says
            body = data[:-1] if held else data
            data = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if held else b"")
        lines = data.split(b"\n")
        pending = lines.pop()
        if lines:
            handle(lines)
            count += len(lines)
        if progress:
            progress.tick()
    if pending:
        handle([pending[:-1] if pending.endswith(b"\r") else pending])
        count += 1
    return count


def sort_command(*extra: str) -> list[str]:
    return ["/bin/sh", KVSORT, *extra]


def close_quietly(stream: IO[bytes]) -> None:
    """Close a pipe whose reader may be gone (what it did is checked by its exit status)."""
    try:
        stream.close()
    except BrokenPipeError:
        pass


def check_sort(proc: subprocess.Popen, label: str, where: str) -> None:
    """A failed sort; on a full volume (sort's own message says only "write failed"), the
    failure says so, and is not retried."""
    if proc.wait():
        if volume_is_full(where):
            raise OSError(errno.ENOSPC, "No space left on device (sort)", where)
        raise JobError(f"{label}: sort failed with exit code {proc.returncode}")


# --------------------------------------------------------------------------- one map task


class MapAttempt:
    """One attempt of one map task."""

    def __init__(
        self,
        *,
        layout: JobLayout,
        conf: JobConf,
        plan: dict,
        index: int,
        reducers: int,
        attempt: str,
    ) -> None:
        self.layout, self.conf, self.plan = layout, conf, plan
        self.index, self.reducers, self.attempt = index, reducers, attempt
        self.name = task_name("m", index)
        self.label = f"{self.name} {attempt}"
        self.scratch = os.path.join(layout.scratch(attempt), self.name)
        self.counters: dict = {}
        self.output_sizes: list[list[int]] = []  # bytes per partition, of each sort's input
        self.progress = Progress(conf.task_timeout_seconds)
        self.workdir = prepare_workdir(
            workdir=os.path.join(layout.scratch(attempt), "work"), conf=conf
        )
        path, start, length = splits.split_file(plan["splits"][index])
        path = f"file:{os.path.abspath(path)}" if path else ""  # Hadoop gives a URI
        self.env = task_env(
            conf=conf,
            extra={
                "mapreduce_task_ismap": "true",
                "mapreduce_task_partition": index,
                "mapreduce_job_maps": len(plan["splits"]),
                "map_input_file": path,
                "mapreduce_map_input_file": path,
                "mapreduce_map_input_start": start,
                "mapreduce_map_input_length": length,
                "map_input_start": start,
                "map_input_length": length,
                "mapreduce_job_reduces": reducers,
                **task_ids(plan, "m", index, failed_attempts(layout, "m", index)),
            },
        )

    def run(self) -> dict:
        """Run the attempt into its scratch directory; returns the task report."""
        os.makedirs(self.scratch, exist_ok=True)
        if self.reducers == 0:
            self.map_only()
        else:
            index = self.map_sort_combine() if self.conf.command("combiner") else self.map_sort()
            write_index(os.path.join(self.scratch, MAP_INDEX), index)
        self.progress.stop()
        return {
            "task": self.name,
            "attempt": self.attempt,
            "counters": self.counters,
            "shape": keys.RecordShape.of(self.conf).strip_fields,
        }

    def needed(self) -> str:
        """What this attempt needed of the volume when it ran out: its sorts' input so far;
        a sort that spills needs up to twice its input."""
        written = sum(sum(sizes) for sizes in self.output_sizes)
        return (
            f"this map attempt had given its sort {written / 1e6:.1f} MB, "
            "and a sort needs room for up to twice its input"
        )

    def start_mapper(
        self, stdout: Any
    ) -> tuple[subprocess.Popen, StderrReader, threading.Thread, list]:
        proc = start_command(
            self.conf.command("mapper"),
            env=self.env,
            cwd=self.workdir,
            stdin=subprocess.PIPE,
            stdout=stdout,
            progress=self.progress,
        )
        widen_pipe(proc.stdin)
        if stdout is subprocess.PIPE:
            widen_pipe(proc.stdout)
        reader = StderrReader(proc.stderr, self.label, self.progress)
        errors: list = []
        feeder = threading.Thread(target=self.feed, args=(proc.stdin, errors), daemon=True)
        feeder.start()
        return proc, reader, feeder, errors

    def feed(self, stdin: IO[bytes], errors: list) -> None:
        """Thread body: the split's records into the mapper's stdin."""

        def write(data: bytes) -> None:
            stdin.write(data)
            self.progress.tick()

        try:
            size, records = splits.feed_split(self.plan["splits"][self.index], self.conf, write)
            add_counter(self.counters, FRAMEWORK, "MAP_INPUT_BYTES", size)
            add_counter(self.counters, FRAMEWORK, "MAP_INPUT_RECORDS", records)
        except BrokenPipeError:
            pass  # the mapper stopped reading; its exit code tells whether that is an error
        except splits.InputChanged as error:
            errors.append(error)
        except Exception as error:  # the task must fail, never commit a short input
            errors.append(error)
        finally:
            try:
                stdin.close()
            except BrokenPipeError:
                pass

    def end_mapper(
        self,
        proc: subprocess.Popen,
        reader: StderrReader,
        feeder: threading.Thread,
        errors: list,
    ) -> None:
        feeder.join()
        if errors:
            proc.kill()
            proc.wait()
            reader.join()
            raise TaskFailed(
                self.conf.bad_input_exit_code,
                list(reader.tail),
                "input",
                f"input not read to its end: {errors[0]}",
            )
        merge_counters(self.counters, finish(proc, reader, "mapper", self.progress))

    def map_only(self) -> None:
        suffix = self.conf.output_suffix
        path = os.path.join(self.scratch, part_name(self.index, suffix))
        proc, reader, feeder, errors = self.start_mapper(subprocess.PIPE)
        with open_output(path, self.conf.compress_output) as out:
            records = each_batch(
                pipe(proc.stdout),
                output_line_writer(
                    self.conf, out, self.conf.map_output_separator, self.conf.map_output_key_fields
                ),
                self.progress,
            )
        self.end_mapper(proc, reader, feeder, errors)
        add_counter(self.counters, FRAMEWORK, "MAP_OUTPUT_RECORDS", records)

    def partition_into(
        self,
        source: IO[bytes],
        sink: IO[bytes],
        *,
        split_sep: bytes | None = None,
        key_fields: int | None = None,
    ) -> tuple[int, list[int], list[int]]:
        counts = [0] * self.reducers
        sizes = [0] * self.reducers
        self.output_sizes.append(sizes)
        writer = keys.make_record_writer(
            self.conf, self.reducers, sink.write, counts, sizes, split_sep, key_fields
        )
        records = each_batch(source, writer, self.progress)
        return records, counts, sizes

    def map_into(self, sorter: subprocess.Popen) -> tuple[int, list[int], list[int]]:
        """The mapper's output, partitioned, into `sorter`; waits for both."""
        proc, reader, feeder, errors = self.start_mapper(subprocess.PIPE)
        try:
            partitioned = self.partition_into(pipe(proc.stdout), pipe(sorter.stdin))
        except BrokenPipeError:
            kill_group(proc)  # the sort stopped reading: its exit status says why
            check_sort(sorter, self.label, self.scratch)
            raise
        finally:
            close_quietly(pipe(sorter.stdin))
        self.end_mapper(proc, reader, feeder, errors)
        check_sort(sorter, self.label, self.scratch)
        return partitioned

    def map_sort(self) -> list[tuple[int, int, int]]:
        data = os.path.join(self.scratch, "data")
        with open(data, "wb") as out:
            sorter = subprocess.Popen(sort_command(), stdin=subprocess.PIPE, stdout=out)
            records, counts, sizes = self.map_into(sorter)
        add_counter(self.counters, FRAMEWORK, "MAP_OUTPUT_RECORDS", records)
        return index_of(counts, sizes)

    def map_sort_combine(self) -> list[tuple[int, int, int]]:
        """mapper -> partition -> sort -> cut -> combiner -> partition -> sort -> data: the
        combiner runs once over the whole sorted stream; what it emits is placed by its own
        key (a combiner that changes keys still lands every record in the right partition)."""
        shape = keys.RecordShape.of(self.conf)
        data = os.path.join(self.scratch, "data")
        first = subprocess.Popen(sort_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        cut = subprocess.Popen(
            ["cut", f"-f{shape.strip_fields}-"], stdin=pipe(first.stdout), stdout=subprocess.PIPE
        )
        pipe(first.stdout).close()
        env = dict(self.env, mapreduce_task_ismap="true")
        combiner = start_command(
            self.conf.command("combiner"),
            env=env,
            cwd=self.workdir,
            stdin=pipe(cut.stdout),
            stdout=subprocess.PIPE,
            progress=self.progress,
        )
        pipe(cut.stdout).close()
        combiner_reader = StderrReader(combiner.stderr, f"{self.label} combiner", self.progress)
        with open(data, "wb") as out:
            second = subprocess.Popen(sort_command(), stdin=subprocess.PIPE, stdout=out)
            done: list = []

            def recombine_body() -> None:
                try:
                    done.append(
                        self.partition_into(
                            pipe(combiner.stdout),
                            pipe(second.stdin),
                            split_sep=self.conf.reduce_output_separator,
                            key_fields=self.conf.reduce_output_key_fields,
                        )
                    )
                except BrokenPipeError:
                    kill_group(combiner)  # the second sort stopped reading: unwind the pipes

            recombine = threading.Thread(target=recombine_body, daemon=True)
            recombine.start()
            records, _, _ = self.map_into(first)
            recombine.join()
            close_quietly(pipe(second.stdin))
            if not done:
                check_sort(second, self.label, self.scratch)
                raise JobError(f"{self.label}: the sort of the combiner's output stopped")
            cut.wait()
            merge_counters(
                self.counters, finish(combiner, combiner_reader, "combiner", self.progress)
            )
            check_sort(second, self.label, self.scratch)
        combined, counts, sizes = done[0]
        add_counter(self.counters, FRAMEWORK, "MAP_OUTPUT_RECORDS", records)
        add_counter(self.counters, FRAMEWORK, "COMBINE_OUTPUT_RECORDS", combined)
        return index_of(counts, sizes)


def index_of(counts: list[int], sizes: list[int]) -> list[tuple[int, int, int]]:
    """(offset, length, records) of each partition in the sorted data file."""
    index, offset = [], 0
    for count, size in zip(counts, sizes):
        index.append((offset, size, count))
        offset += size
    return index


def record_failure(
    *, layout: JobLayout, kind: str, index: int, attempt: str, failure: TaskFailed, final: bool
) -> None:
    folder = layout.failed_dir(kind, index)
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(
        os.path.join(folder, f"{attempt}.json"),
        {
            "attempt": attempt,
            "exit_code": failure.exit_code,
            "what": failure.what,
            "reason": str(failure),
            "final": final,
            "stderr_tail": failure.tail,
            "time": time.time(),
        },
    )


def record_job_failure(*, layout: JobLayout, attempt: str, reason: str) -> None:
    """A failure no retry can mend (missing input, a plan for other inputs, a failed
    download): the shuffle sees it and fails the job at once."""
    os.makedirs(layout.job_failures, exist_ok=True)
    write_json_atomic(
        os.path.join(layout.job_failures, f"{attempt}.json"),
        {"attempt": attempt, "reason": reason, "final": True, "time": time.time()},
    )


def run_one_map(
    *,
    layout: JobLayout,
    conf: JobConf,
    plan: dict,
    index: int,
    reducers: int,
    attempt: str,
    output: str | None,
) -> int:
    """Run map task `index` once unless it has committed; 0 or the failing exit code."""
    final = layout.task_dir("m", index)
    if not os.path.exists(layout.task_file("m", index)):
        label = f"{task_name('m', index)} {attempt}"
        task: MapAttempt | None = None
        try:
            with Heartbeat(layout.running_file("m", index, attempt)):
                task = MapAttempt(
                    layout=layout,
                    conf=conf,
                    plan=plan,
                    index=index,
                    reducers=reducers,
                    attempt=attempt,
                )
                report = task.run()
        except (TaskFailed, JobError, OSError) as error:
            if isinstance(error, OSError) and error.errno == errno.ENOSPC:  # room as it was
                error = no_space_error(error, layout.job_dir, needed=task.needed() if task else "")
            shutil.rmtree(layout.scratch(attempt), ignore_errors=True)  # first: it frees room
            if isinstance(error, TaskFailed):
                failure, code = error, conf.task_exit_code(error.exit_code)
            else:
                code = getattr(error, "exit_code", ExitCode.FAILED)
                failure = TaskFailed(code, [], "map task", str(error))
            sys.stderr.write(f"{label}: {failure}\n")
            record_failure(
                layout=layout,
                kind="m",
                index=index,
                attempt=attempt,
                failure=failure,
                final=code in (conf.bad_input_exit_code, ExitCode.NO_SPACE),
            )
            return code or ExitCode.FAILED
        write_json_atomic(os.path.join(task.scratch, "_task.json"), report)
        commit_dir(task.scratch, final)
        shutil.rmtree(layout.scratch(attempt), ignore_errors=True)
    finish_task(
        layout=layout,
        task_dir=final,
        part=part_name(index, conf.output_suffix) if reducers == 0 else None,
        output=output,
        reducers=reducers,
        suffix=conf.output_suffix,
        keep_intermediate=conf.keep_intermediate,
    )
    return 0


def map_task(
    *,
    layout: JobLayout,
    conf: JobConf,
    inputs: list[str],
    mappers: int,
    reducers: int,
    index: int,
    attempt: str,
    output: str | None = None,
    stride: int = 0,
    packed: bool = False,
) -> int:
    """Map task `index` of the plan; with `stride` (a pod of `stride` map pods), every
    split index, index+stride, ... in turn, each its own task with its own commit."""
    if reducers == 0 and not output:
        raise JobError("a map-only job (0 reducers) needs --output", ExitCode.USAGE)
    try:
        plan = load_or_create_plan(
            layout=layout, inputs=inputs, mappers=mappers, conf=conf, packed=packed
        )
    except JobError as error:
        record_job_failure(layout=layout, attempt=attempt, reason=str(error))
        raise
    total = len(plan["splits"])
    if stride:
        indexes = list(range(index, total, stride))
    elif 0 <= index < total:
        indexes = [index]
    else:
        raise JobError(f"map task index {index} is outside 0..{total - 1}", ExitCode.USAGE)
    for split in indexes:
        code = run_one_map(
            layout=layout,
            conf=conf,
            plan=plan,
            index=split,
            reducers=reducers,
            attempt=f"{attempt}-m{split}",
            output=output,
        )
        if code:
            return code
    return 0
