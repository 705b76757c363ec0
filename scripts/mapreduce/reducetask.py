"""A reduce task: its merged partition (from the shuffle, or merged here) through the reducer,
the reducer's lines written by the output format, one part file committed, then the job
committed once every part is there. An empty partition writes an empty part without starting
the reducer, as Hadoop does."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys

from mapreduce.commit import (
    add_counter,
    commit_dir,
    finish_task,
    no_space_error,
    read_json,
    tree_size,
    write_json_atomic,
)
from mapreduce.layout import JobLayout, failure_note, part_name, success_file, task_name
from mapreduce.maptask import (
    each_batch,
    failed_attempts,
    open_output,
    output_line_writer,
    record_failure,
    task_ids,
)
from mapreduce.settings import ExitCode, JobConf, JobError
from mapreduce.shuffle import map_stage_status, merge_partition
from mapreduce.tasks import (
    FRAMEWORK,
    Progress,
    StderrReader,
    TaskFailed,
    finish,
    pipe,
    prepare_workdir,
    start_command,
    task_env,
)

_PLANS: dict[str, dict] = {}


def job_plan(layout: JobLayout) -> dict:
    """The job's plan, read once per process: it never changes once written, and one process
    may run many reduce tasks (a plan of M splits read by each would cost M x R)."""
    if layout.plan not in _PLANS:
        _PLANS[layout.plan] = read_json(layout.plan)
    return _PLANS[layout.plan]


def run_reducer(
    *, conf: JobConf, merged: str, part: str, env: dict, workdir: str, label: str
) -> tuple[dict, int]:
    """merged partition (the reducer's lines, from the shuffle) -> reducer -> output format
    -> part; (counters, output records)."""
    progress = Progress(conf.task_timeout_seconds)
    with open(merged, "rb") as source:
        proc = start_command(
            conf.command("reducer"),
            env=env,
            cwd=workdir,
            stdin=source,
            stdout=subprocess.PIPE,
            progress=progress,
        )
    reader = StderrReader(proc.stderr, label, progress)
    with open_output(part, conf.compress_output) as out:
        records = each_batch(
            pipe(proc.stdout),
            output_line_writer(
                conf, out, conf.reduce_output_separator, conf.reduce_output_key_fields
            ),
            progress,
        )
    counters = finish(proc, reader, "reducer", progress)
    progress.stop()
    return counters, records


def reduce_task(
    *,
    layout: JobLayout,
    conf: JobConf,
    index: int,
    reducers: int,
    attempt: str,
    output: str,
    merged: str | None = None,
) -> int:
    """Run reduce task `index` (0 or the reducer's exit code), then try to commit the job."""
    if not 0 <= index < reducers:
        raise JobError(f"reduce task index {index} is outside 0..{reducers - 1}", ExitCode.USAGE)
    if os.path.exists(success_file(output)):
        return 0  # the job has committed: a late or repeated attempt has nothing to do
    if merged and os.path.exists(failure_note(merged)):
        with open(failure_note(merged)) as note:
            raise JobError(
                f"no input for reduce task {index}: {note.read().strip()}",
                conf.map_stage_failed_exit_code,
            )
    suffix = conf.output_suffix
    name = task_name("r", index)
    part = part_name(index, suffix)
    final = layout.task_dir("r", index)
    if not os.path.exists(layout.task_file("r", index)):
        scratch = os.path.join(layout.scratch(attempt), name)
        os.makedirs(scratch, exist_ok=True)
        label = f"{name} {attempt}"
        try:
            code = _attempt(
                layout=layout,
                conf=conf,
                index=index,
                reducers=reducers,
                attempt=attempt,
                scratch=scratch,
                part=part,
                merged=merged,
                label=label,
            )
        except TaskFailed as failure:
            record_failure(
                layout=layout, kind="r", index=index, attempt=attempt, failure=failure, final=False
            )
            shutil.rmtree(layout.scratch(attempt), ignore_errors=True)
            sys.stderr.write(f"{label}: {failure}\n")
            return conf.task_exit_code(failure.exit_code) or ExitCode.FAILED
        except (JobError, OSError) as error:
            if isinstance(error, OSError) and error.errno == errno.ENOSPC:  # room as it was
                error = no_space_error(
                    error,
                    layout.job_dir,
                    needed=f"reduce task {index} had written {tree_size(scratch) / 1e6:.1f} MB",
                )
            shutil.rmtree(layout.scratch(attempt), ignore_errors=True)  # first: it frees room
            raise error from None
        if code:
            return code
        commit_dir(scratch, final)
        shutil.rmtree(layout.scratch(attempt), ignore_errors=True)
    finish_task(
        layout=layout,
        task_dir=final,
        part=part,
        output=output,
        reducers=reducers,
        suffix=suffix,
        keep_intermediate=conf.keep_intermediate,
    )
    return 0


def _attempt(
    *,
    layout: JobLayout,
    conf: JobConf,
    index: int,
    reducers: int,
    attempt: str,
    scratch: str,
    part: str,
    merged: str | None,
    label: str,
) -> int:
    plan = job_plan(layout)
    maps = len(plan["splits"])
    if not merged:
        pending, _ = map_stage_status(layout, range(maps), 0)
        if pending:
            raise JobError(f"{label}: map tasks {pending[:20]} have not committed")
        merged = os.path.join(scratch, "merged")
        merge_partition(layout=layout, maps=maps, partition=index, output=merged)
    counters: dict = {}
    part_path = os.path.join(scratch, part)
    if os.path.getsize(merged) == 0:
        open_output(part_path, conf.compress_output).close()
        records = 0
    else:
        workdir = prepare_workdir(workdir=os.path.join(layout.scratch(attempt), "work"), conf=conf)
        env = task_env(
            conf=conf,
            extra={
                "mapreduce_task_ismap": "false",
                "mapreduce_task_partition": index,
                "mapreduce_job_reduces": reducers,
                **task_ids(plan, "r", index, failed_attempts(layout, "r", index)),
            },
        )
        counters, records = run_reducer(
            conf=conf, merged=merged, part=part_path, env=env, workdir=workdir, label=label
        )
    if merged.startswith(scratch):
        os.unlink(merged)
    add_counter(counters, FRAMEWORK, "REDUCE_OUTPUT_RECORDS", records)
    write_json_atomic(
        os.path.join(scratch, "_task.json"),
        {"task": task_name("r", index), "attempt": attempt, "counters": counters},
    )
    return 0


def reduce_tasks(
    *,
    layout: JobLayout,
    conf: JobConf,
    index: int,
    reducers: int,
    attempt: str,
    output: str,
    merged: str | None = None,
    stride: int = 0,
) -> int:
    """Reduce task `index`; with `stride`, every partition index, index+stride, ... in turn
    (each its own task and commit): one process serves many small tasks."""
    indexes = range(index, reducers, stride) if stride else [index]
    for partition in indexes:
        code = reduce_task(
            layout=layout,
            conf=conf,
            index=partition,
            reducers=reducers,
            attempt=f"{attempt}-r{partition}" if stride else attempt,
            output=output,
            merged=merged,
        )
        if code:
            return code
    return 0
