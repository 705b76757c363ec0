"""Atomic and durable writes: attempt directories renamed into place, fsync before a rename
publishes, and the job commit (_SUCCESS once every task has committed)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import time

from mapreduce.layout import JobLayout, part_name, success_file
from mapreduce.settings import ExitCode, JobError

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import Any


def unique_suffix() -> str:
    """A name part no other process, thread or pod uses (pids repeat across containers)."""
    return os.urandom(6).hex()


def fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EBADF):  # some filesystems refuse dirs
            raise
    finally:
        os.close(fd)


def write_json_atomic(path: str, data: Any, *, durable: bool = False) -> None:
    """Write a JSON record under a temporary name and rename it into place; `durable` (what
    a reader of the output relies on) syncs it and its directory first."""
    temp = f"{path}.tmp-{unique_suffix()}"
    with open(temp, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)
        out.write("\n")
        if durable:
            out.flush()
            os.fsync(out.fileno())
    os.replace(temp, path)
    if durable:
        fsync_path(os.path.dirname(path) or ".")


def read_json(path: str) -> dict:
    """One of the engine's JSON records (always an object)."""
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise JobError(f"{path}: not one of the engine's records")
    return data


def commit_dir(scratch: str, final: str) -> bool:
    """Rename `scratch` to `final`; False, scratch removed, if another attempt won. Only the
    job's output is synced to disk (`publish`): a crash loses intermediate data with the run."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    try:
        os.rename(scratch, final)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        shutil.rmtree(scratch, ignore_errors=True)
        return False
    return True


def publish(committed_file: str, output: str) -> None:
    """Move a committed part into OUT (done at most once; a retry finds it there). Across
    filesystems it is copied, made durable and renamed, never left half-written."""
    os.makedirs(output, exist_ok=True)
    target = os.path.join(output, os.path.basename(committed_file))
    if os.path.exists(committed_file):
        fsync_path(committed_file)  # durable before its name is published
        try:
            os.replace(committed_file, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            temp = os.path.join(output, f".{os.path.basename(target)}.tmp-{unique_suffix()}")
            shutil.copyfile(committed_file, temp)
            fsync_path(temp)
            os.replace(temp, target)
            os.unlink(committed_file)
        fsync_path(output)
    elif not os.path.exists(target):
        raise JobError(f"committed output {committed_file} is missing and not in {output}")


def finish_task(
    *,
    layout: JobLayout,
    task_dir: str,
    part: str | None,
    output: str | None,
    reducers: int,
    suffix: str,
    keep_intermediate: bool,
) -> None:
    """After a task has committed: publish its part (a reduce task's, or a map-only map
    task's) and commit the job if it was the last one."""
    if part is None or output is None:
        return
    publish(os.path.join(task_dir, part), output)
    commit_job(
        layout=layout,
        output=output,
        reducers=reducers,
        suffix=suffix,
        remove_intermediate=not keep_intermediate,
    )


def add_counter(counters: dict, group: str, name: str, amount: int) -> None:
    group_counts = counters.setdefault(group, {})
    group_counts[name] = group_counts.get(name, 0) + amount


def merge_counters(into: dict, other: dict) -> dict:
    for group, names in other.items():
        for name, amount in names.items():
            add_counter(into, group, name, amount)
    return into


def commit_job(
    *,
    layout: JobLayout,
    output: str,
    reducers: int,
    suffix: str = "",
    remove_intermediate: bool = False,
) -> bool:
    """Write OUT/_SUCCESS if every task has committed and published; True if it exists."""
    success = success_file(output)
    if os.path.exists(success):
        return True
    if not os.path.exists(layout.plan):
        return False
    if reducers:
        kind, count = "r", reducers
    else:  # a map-only job: the map tasks write the parts
        kind, count = "m", len(read_json(layout.plan)["splits"])
    # Last first: tasks tend to finish in index order, so a job that is not done yet is
    # usually told by one look, not R (every task asks once: R looks, not R squared).
    for i in reversed(range(count)):
        if not (
            os.path.exists(layout.task_file(kind, i))
            and os.path.exists(os.path.join(output, part_name(i, suffix)))
        ):
            return False
    plan = read_json(layout.plan)
    maps = len(plan["splits"])
    parts = [part_name(i, suffix) for i in range(count)]
    counters: dict = {}
    attempts: dict = {"map": {}, "reduce": {}}
    finished: dict = {}  # when each task committed: the stages' timing survives the cleanup
    for stage, letter, total in (("map", "m", maps), ("reduce", "r", reducers)):
        for i in range(total):
            name = os.path.basename(layout.task_dir(letter, i))
            report = read_json(layout.task_file(letter, i))
            attempts[stage][name] = report["attempt"]
            finished[name] = os.path.getmtime(layout.task_file(letter, i))
            merge_counters(counters, report["counters"])
    write_json_atomic(
        success,
        {
            "mappers": maps,
            "reducers": reducers,
            "parts": parts,
            "counters": counters,
            "attempts": attempts,
            "plan_made": os.path.getmtime(layout.plan),
            "task_finished": finished,
            "inputs": plan["inputs"],
            "total_bytes": plan["total_bytes"],
            "splits": plan["splits"],
            "committed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        durable=True,
    )
    if remove_intermediate:  # the plan and the failure records stay: small, and telling
        for stage in ("map", "reduce", "_temporary"):
            shutil.rmtree(os.path.join(layout.job_dir, stage), ignore_errors=True)
    return True


def volume_is_full(where: str, margin: int = 1 << 20) -> bool:
    """Less than `margin` bytes left for us on the volume holding `where`."""
    try:
        stat = os.statvfs(where)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < margin


def tree_size(path: str) -> int:
    """Bytes in the files under `path`."""
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def no_space_error(error: OSError, where: str, *, needed: str = "") -> JobError:
    """ENOSPC as one line that names the volume, how much room it has and, when the step
    knows it, how much it needed."""
    try:
        stat = os.statvfs(where)
        room = (
            f"{stat.f_bavail * stat.f_frsize / 1e6:.1f} MB free of "
            f"{stat.f_blocks * stat.f_frsize / 1e6:.1f} MB"
        )
    except OSError:
        room = "its size unknown"
    return JobError(
        f"no space left on the volume holding {where} ({room}"
        f"{'; ' + needed if needed else ''})" + (f": {error.filename}" if error.filename else ""),
        ExitCode.NO_SPACE,
    )
