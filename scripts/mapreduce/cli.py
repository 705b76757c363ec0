"""The engine's steps as a command line, run the same way by run-local and by the pods:

  plan         print the split plan for INPUTs
  fetch-input  download URLs and/or write the generated sample into a directory (pre-stage)
  map-task     run map task I: mapper, partition, sort, combine, commit (data + index)
  shuffle      wait for every map task, then merge partition r of all map outputs
  reduce-task  run the reducer over partition r, commit its part, commit the job when complete
  commit-job   write OUT/_SUCCESS once every task has committed

Every step is safe to run again, or twice at once. Job settings are Hadoop properties
(-D NAME=VALUE), the same ones run-local and the chart take.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from mapreduce.commit import commit_job, unique_suffix
from mapreduce.layout import JobLayout
from mapreduce.settings import (
    DEFAULT_MAPPER,
    DEFAULT_REDUCER,
    MAX_ATTEMPTS,
    POLL_SECONDS,
    ExitCode,
    JobConf,
    JobError,
    normalize_properties,
    parse_property,
)


def add_job_options(parser: argparse.ArgumentParser, *, commands: bool = True) -> None:
    """The options that make a JobConf, the same for every task step (a map task needs to
    know the reducer, a reduce task the mapper); run-local spells the commands Hadoop's way
    itself (`commands=False`)."""
    if commands:
        parser.add_argument("--mapper", default=DEFAULT_MAPPER, help="mapper command line")
        parser.add_argument("--reducer", default=DEFAULT_REDUCER, help="reducer command line")
        parser.add_argument("--combiner", default="", help="combiner command line (optional)")
    parser.add_argument(
        "-D",
        dest="properties",
        action="append",
        default=[],
        type=parse_property,
        metavar="NAME=VALUE",
        help="a job property",
    )
    parser.add_argument(
        "--cmdenv",
        action="append",
        default=[],
        type=parse_property,
        metavar="NAME=VALUE",
        help="environment of the user's commands",
    )
    parser.add_argument(
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="PATH",
        help="a file linked into each task's working directory",
    )
    parser.add_argument(
        "--bad-input-exit-code",
        type=int,
        default=ExitCode.BAD_INPUT,
        help="a mapper exit code that fails its task at once (no retries)",
    )
    parser.add_argument(
        "--map-stage-failed-exit-code",
        type=int,
        default=ExitCode.MAP_STAGE_FAILED,
        help="what reduce-task exits with when the map stage failed for good",
    )
    parser.add_argument(
        "--keep-intermediate",
        action="store_true",
        help="keep the map outputs after the job commits (removed by default)",
    )


def job_conf(args: argparse.Namespace) -> JobConf:
    conf = JobConf(
        mapper=getattr(args, "mapper", DEFAULT_MAPPER),
        reducer=getattr(args, "reducer", DEFAULT_REDUCER),
        combiner=getattr(args, "combiner", "") or "",
        properties=normalize_properties(args.properties),
        cmdenv=dict(args.cmdenv),
        files=tuple(args.files),
        bad_input_exit_code=args.bad_input_exit_code,
        map_stage_failed_exit_code=args.map_stage_failed_exit_code,
        keep_intermediate=args.keep_intermediate,
    )
    conf.validate()
    return conf


def default_attempt(kind: str) -> str:
    return f"{kind}-{os.getpid()}-{unique_suffix()}"


def build_parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python3 -m mapreduce",
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1],
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plan", help="print the split plan as JSON")
    p.add_argument("--mappers", type=int, required=True, help="map tasks (a hint)")
    p.add_argument("--packed", action="store_true", help="exactly --mappers splits")
    add_job_options(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT")

    p = sub.add_parser("fetch-input", help="download URLs / write the sample into DEST")
    p.add_argument("--dest", required=True)
    p.add_argument("--url", action="append", default=[])
    p.add_argument("--sample-bytes", type=int, default=0)
    p.add_argument("--sample-seed", type=int, default=1)
    p.add_argument(
        "--job-dir", help="a failure is recorded there, so the job's shuffle fails at once"
    )

    def task_options(p: argparse.ArgumentParser, kind: str) -> None:
        p.add_argument("--job-dir", required=True, help="the job's working directory")
        p.add_argument("--index", type=int, required=True, help="the task's index")
        p.add_argument("--reducers", type=int, required=True)
        p.add_argument(
            "--attempt",
            default=default_attempt(kind),
            help="an id unique to this attempt (a pod name)",
        )
        p.add_argument("--output", help="the job's output directory")
        add_job_options(p)

    p = sub.add_parser("map-task", help="run one map task (or, with --stride, several)")
    task_options(p, "map")
    p.add_argument("--mappers", type=int, required=True, help="map tasks (a hint)")
    p.add_argument(
        "--packed",
        action="store_true",
        help="exactly --mappers splits, small files packed together",
    )
    p.add_argument(
        "--stride",
        type=int,
        default=0,
        help="run split INDEX, INDEX+STRIDE, ... (STRIDE map pods share the plan)",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")

    p = sub.add_parser("shuffle", help="wait for the map stage, merge one partition")
    p.add_argument("--job-dir", required=True)
    p.add_argument("--index", type=int, required=True, help="the reduce partition")
    p.add_argument(
        "--max-attempts",
        type=int,
        default=MAX_ATTEMPTS,
        help="a map task with this many failed attempts has failed for good",
    )
    p.add_argument("--timeout", type=float, default=0, help="seconds; 0 waits for ever")
    p.add_argument("--poll", type=float, default=POLL_SECONDS, help="seconds between checks")
    p.add_argument("--output", required=True, help="the merged file to write")
    p.add_argument(
        "--defer-failure",
        action="store_true",
        help="on a failed map stage, leave OUTPUT.failed for reduce-task (which "
        "then exits with --map-stage-failed-exit-code) and exit 0",
    )

    p = sub.add_parser("reduce-task", help="run one reduce task")
    task_options(p, "reduce")
    p.add_argument("--input", help="merged input from `shuffle` (default: merge here)")
    p.add_argument(
        "--stride", type=int, default=0, help="run partition INDEX, INDEX+STRIDE, ... in turn"
    )

    p = sub.add_parser("commit-job", help="write OUT/_SUCCESS if every task committed")
    p.add_argument("--job-dir", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--reducers", type=int, required=True)
    add_job_options(p)
    return parser


def run_step(args: argparse.Namespace) -> int:
    if args.command == "fetch-input":
        from mapreduce.download import fetch_input

        try:
            paths = fetch_input(
                dest=args.dest,
                urls=tuple(args.url),
                sample_bytes=args.sample_bytes,
                sample_seed=args.sample_seed,
            )
        except JobError as error:
            if args.job_dir:
                from mapreduce.maptask import record_job_failure

                record_job_failure(
                    layout=JobLayout(args.job_dir),
                    attempt=default_attempt("fetch"),
                    reason=str(error),
                )
            raise
        for path in paths:
            print(path)
        return 0
    if args.command == "shuffle":
        from mapreduce.shuffle import shuffle

        return shuffle(
            layout=JobLayout(args.job_dir),
            index=args.index,
            max_attempts=args.max_attempts,
            timeout=args.timeout,
            output=args.output,
            poll=args.poll,
            defer_failure=args.defer_failure,
        )
    conf = job_conf(args)
    if args.command == "plan":
        from mapreduce.splits import make_plan

        json.dump(make_plan(args.inputs, args.mappers, conf, args.packed), sys.stdout, indent=1)
        print()
        return 0
    if getattr(args, "reducers", 0) < 0:
        raise JobError("--reducers must be at least 0", ExitCode.USAGE)
    layout = JobLayout(args.job_dir)
    if args.command == "map-task":
        from mapreduce.maptask import map_task

        return map_task(
            layout=layout,
            conf=conf,
            inputs=args.inputs,
            mappers=args.mappers,
            reducers=args.reducers,
            index=args.index,
            attempt=args.attempt,
            output=args.output,
            stride=args.stride,
            packed=args.packed,
        )
    if args.command == "reduce-task":
        from mapreduce.reducetask import reduce_tasks

        if not args.output:
            raise JobError("reduce-task needs --output", ExitCode.USAGE)
        if args.stride and args.input:
            raise JobError("--stride merges each partition itself: no --input", ExitCode.USAGE)
        return reduce_tasks(
            layout=layout,
            conf=conf,
            index=args.index,
            reducers=args.reducers,
            attempt=args.attempt,
            output=args.output,
            merged=args.input,
            stride=args.stride,
        )
    if args.command == "commit-job":
        done = commit_job(
            layout=layout, output=args.output, reducers=args.reducers, suffix=conf.output_suffix
        )
        print("committed" if done else "not every task has committed yet")
        return 0 if done else 1
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM (pod deletion, a runner's stop) ends the attempt without recording a failure:
    # it is the platform's decision, not the task's.
    from mapreduce.tasks import stop_all

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop_all)
    started = time.monotonic()
    try:
        return run_step(args)
    except JobError as error:
        sys.stderr.write(f"mapreduce {args.command}: {error}\n")
        return error.exit_code
    except OSError as error:
        if error.errno == 28:
            from mapreduce.commit import no_space_error

            where = getattr(args, "job_dir", None) or getattr(args, "dest", None) or "."
            message = no_space_error(error, where)
            sys.stderr.write(f"mapreduce {args.command}: {message}\n")
            return message.exit_code
        raise
    finally:
        if os.environ.get("MAPREDUCE_TIMING"):
            sys.stderr.write(f"{args.command}: {time.monotonic() - started:.3f}s\n")
