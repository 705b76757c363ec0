"""The shuffle: wait until every map task has committed (or fail fast when one failed for
good), copy partition r's byte range out of each map task's sorted data file, and merge the
copies with GNU sort -m: at most MERGE_FAN_IN files open at once, the file list read from a
file (never one argv entry per map task)."""

from __future__ import annotations

import errno
import heapq
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator

from mapreduce.commit import no_space_error, read_json, unique_suffix
from mapreduce.layout import JobLayout, failure_note, read_index_entry
from mapreduce.maptask import check_sort, sort_command
from mapreduce.settings import MERGE_FAN_IN, POLL_SECONDS, STALE_SECONDS, ExitCode, JobError
from mapreduce.tasks import pipe

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import Callable

PLAN_WAIT_SECONDS = 0.2
# A partition this small is merged here, in Python: below it that beats starting sort and cut;
# above, GNU sort -m is faster (measured crossover about 50 KB: 2 MB took 0.10 s here, 0.03 s
# with sort -m | cut).
SMALL_MERGE_BYTES = 32 << 10


def attempt_records(folder: str) -> list[dict]:
    """The failed attempts of a task: their records, and heartbeats gone stale (attempts
    killed outright, which could not say why)."""
    records: list[dict] = []
    if not os.path.isdir(folder):
        return records
    now = time.time()
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        try:
            if entry.endswith(".json"):
                records.append(read_json(path))
            elif entry.endswith(".running"):
                beat = os.stat(path).st_mtime
                if now - beat > STALE_SECONDS:
                    records.append(
                        {
                            "attempt": entry[: -len(".running")],
                            "reason": f"no heartbeat for {now - beat:.0f}s: the attempt "
                            "was killed (out of memory?) without recording why",
                            "time": beat,
                        }
                    )
        except (OSError, ValueError):
            pass  # being written or removed
    return sorted(records, key=lambda r: r.get("time", 0))


def map_stage_status(
    layout: JobLayout, indexes: Iterable[int], max_attempts: int
) -> tuple[list[int], dict[int, dict]]:
    """(map tasks of `indexes` still running, {index: failure record})."""
    pending: list[int] = []
    failed: dict[int, dict] = {}
    for index in indexes:
        if os.path.exists(layout.task_file("m", index)):
            continue
        records = attempt_records(layout.failed_dir("m", index))
        final = [r for r in records if r.get("final")]
        if final or (max_attempts and len(records) >= max_attempts):
            failed[index] = dict((final or records)[-1], attempts=len(records))
        else:
            pending.append(index)
    return pending, failed


def check_job_failures(layout: JobLayout) -> None:
    """Raise the first failure of the job as a whole, if any."""
    records = attempt_records(layout.job_failures)
    if records:
        raise JobError(
            f"the job failed before its map tasks could run: {records[0].get('reason')}",
            ExitCode.MAP_STAGE_FAILED,
        )


def describe_failure(index: int, record: dict) -> str:
    tail = "\n".join("    " + line for line in record.get("stderr_tail", [])[-10:])
    if not record.get("final"):
        why = f"{record['attempts']} failed attempts"
    else:  # a final failure: one that retries cannot mend
        why = "no space left" if record.get("exit_code") == ExitCode.NO_SPACE else "bad input"
    return (
        f"map task {index} failed for good ({why}; last exit code "
        f"{record.get('exit_code')}, attempt {record.get('attempt')}"
        f"{': ' + record['reason'] if record.get('reason') else ''})"
        + (f"; its stderr ends:\n{tail}" if tail else "")
    )


def wait_for_plan(layout: JobLayout, deadline: float | None) -> dict:
    while not os.path.exists(layout.plan):
        check_job_failures(layout)
        if deadline is not None and time.monotonic() > deadline:
            raise JobError(f"timed out waiting for the split plan {layout.plan}")
        time.sleep(PLAN_WAIT_SECONDS)
    return read_json(layout.plan)


def wait_for_maps(
    *,
    layout: JobLayout,
    max_attempts: int,
    timeout: float,
    poll: float = POLL_SECONDS,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Block until every map task has committed; returns their number. JobError when one
    failed for good, or at the timeout."""
    deadline = time.monotonic() + timeout if timeout else None
    maps = len(wait_for_plan(layout, deadline)["splits"])
    # Only the tasks not yet seen committed are looked at again: a poll costs what is left.
    remaining = list(range(maps))
    while True:
        check_job_failures(layout)
        pending, failed = map_stage_status(layout, remaining, max_attempts)
        if failed:
            index = min(failed)
            raise JobError(describe_failure(index, failed[index]), ExitCode.MAP_STAGE_FAILED)
        remaining = pending
        if not remaining:
            return maps
        if progress:
            progress(maps - len(remaining), maps)
        if deadline is not None and time.monotonic() > deadline:
            shown = ", ".join(map(str, remaining[:20])) + (" ..." if len(remaining) > 20 else "")
            raise JobError(
                f"timed out after {timeout:g}s waiting for map tasks {shown}",
                ExitCode.MAP_STAGE_FAILED,
            )
        time.sleep(poll)


def copy_range(source: str, offset: int, length: int, target: str) -> None:
    """`length` bytes of `source` from `offset` into a new file `target` (in the kernel when
    it can)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        done = 0
        while done < length:
            try:
                n = os.copy_file_range(src.fileno(), dst.fileno(), length - done, offset + done)
            except OSError:
                n = 0
            if n <= 0:
                src.seek(offset + done)
                block = src.read(min(1 << 20, length - done))
                if not block:
                    raise JobError(f"map output {source} is shorter than its index says")
                dst.write(block)
                n = len(block)
            done += n


def fetch_partition(*, layout: JobLayout, ranges: list, scratch: str) -> list[str]:
    """Copy each map output's byte range of a partition into `scratch`; the copies."""
    files = []
    for m, offset, length, _ in ranges:
        target = os.path.join(scratch, f"m-{m:05d}")
        copy_range(layout.map_data(m), offset, length, target)
        files.append(target)
    return files


def merge_files(files: list[str], output: str, scratch: str, strip: int) -> None:
    """GNU sort -m of sorted files, fan-in bounded, names read from a file, then `cut` of the
    fields that only the sort needed: `output` is what the reducer reads."""
    list_file = os.path.join(scratch, "inputs.list")
    with open(list_file, "wb") as f:
        for path in files:
            f.write(os.fsencode(path) + b"\0")
    with open(output, "wb") as out:
        merge = subprocess.Popen(
            sort_command("-m", f"--batch-size={MERGE_FAN_IN}", f"--files0-from={list_file}"),
            stdout=subprocess.PIPE,
            env=dict(os.environ, TMPDIR=scratch),
        )
        cut = subprocess.Popen(["cut", f"-f{strip}-"], stdin=merge.stdout, stdout=out)
        pipe(merge.stdout).close()
        check_sort(merge, "merge", os.path.dirname(output))
        if cut.wait():
            raise JobError(f"merge: cut failed with exit code {cut.returncode}")


def partition_ranges(
    *, layout: JobLayout, maps: int, partition: int
) -> list[tuple[int, int, int, int]]:
    """(map task, offset, length, records) of partition `partition` in each map output: one
    fixed-size entry read from each map's index, whatever the number of partitions."""
    ranges = []
    for m in range(maps):
        offset, length, count = read_index_entry(layout.map_index(m), partition)
        if length:
            ranges.append((m, offset, length, count))
    return ranges


def drop_fields(line: bytes, fields: int) -> bytes:
    """`line` without its first `fields` tab-separated fields (what `cut -f N-` keeps)."""
    start = 0
    for _ in range(fields):
        start = line.index(b"\t", start) + 1
    return line[start:]


def sort_key_of(line: bytes) -> bytes:
    """What `kvsort` compares: the partition and the sort key, the first two fields."""
    return line[: line.find(b"\t", line.find(b"\t") + 1)]


def merge_in_memory(*, layout: JobLayout, ranges: list, output: str, strip: int) -> None:
    """A small partition merged here: the same stable (partition, key) merge as GNU sort -m,
    without a copy of each range or a sort process (most of a small reduce task's cost), and
    without the fields only the sort needed."""
    runs = []
    for m, offset, length, _ in ranges:
        with open(layout.map_data(m), "rb") as f:
            f.seek(offset)
            data = f.read(length)
        if len(data) != length:
            raise JobError(f"map output {layout.map_data(m)} is shorter than its index says")
        runs.append([line + b"\n" for line in data[:-1].split(b"\n")])  # records end in \n
    merged: Iterator[bytes] = heapq.merge(*runs, key=sort_key_of)
    with open(output, "wb") as out:
        out.writelines(drop_fields(line, strip - 1) for line in merged)


def merge_partition(*, layout: JobLayout, maps: int, partition: int, output: str) -> int:
    """Partition `partition`, merged, into `output`; returns its record count."""
    ranges = partition_ranges(layout=layout, maps=maps, partition=partition)
    # The map outputs say which fields only the sort needed (the job's record shape).
    strip = read_json(layout.task_file("m", ranges[0][0]))["shape"] if ranges else 2
    try:
        _merge_ranges(layout=layout, ranges=ranges, partition=partition, output=output, strip=strip)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        size = sum(length for _, _, length, _ in ranges)
        raise no_space_error(
            error,
            os.path.dirname(output),
            needed=f"partition {partition} holds {size / 1e6:.1f} MB of map output, and "
            "merging it needs room for up to twice that",
        ) from None
    return sum(count for _, _, _, count in ranges)


def _merge_ranges(
    *, layout: JobLayout, ranges: list, partition: int, output: str, strip: int
) -> None:
    temp = f"{output}.tmp-{unique_suffix()}"
    if sum(length for _, _, length, _ in ranges) <= SMALL_MERGE_BYTES:
        merge_in_memory(layout=layout, ranges=ranges, output=temp, strip=strip)
    else:
        scratch = tempfile.mkdtemp(
            prefix=f"shuffle-r{partition}-",
            dir=os.environ.get("TMPDIR") or os.path.dirname(output),
        )
        try:
            files = fetch_partition(layout=layout, ranges=ranges, scratch=scratch)
            merge_files(files, temp, scratch, strip)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    os.replace(temp, output)


def shuffle(
    *,
    layout: JobLayout,
    index: int,
    max_attempts: int,
    timeout: float,
    output: str,
    poll: float = POLL_SECONDS,
    defer_failure: bool = False,
) -> int:
    """Wait for the map stage and merge partition `index` into `output`.

    With defer_failure, a map stage that failed for good (or the timeout) is written next to
    `output` and the shuffle exits 0, so that the reduce step reports it: in a pod, the
    shuffle is an init container, and `helm install` prints only main containers' logs."""
    last = [-1]

    def progress(done: int, total: int) -> None:  # a line when the count moves
        if done != last[0]:
            last[0] = done
            sys.stderr.write(f"shuffle r-{index:05d}: {done}/{total} map tasks committed\n")

    try:
        maps = wait_for_maps(
            layout=layout, max_attempts=max_attempts, timeout=timeout, poll=poll, progress=progress
        )
    except JobError as error:
        if not defer_failure:
            raise
        with open(failure_note(output), "w") as note:
            note.write(f"{error}\n")
        sys.stderr.write(f"shuffle r-{index:05d}: {error}\n")
        return 0
    records = merge_partition(layout=layout, maps=maps, partition=index, output=output)
    sys.stderr.write(
        f"shuffle r-{index:05d}: merged {records} records of {maps} map outputs into {output}\n"
    )
    return 0
