"""run-local: a whole job on this machine, every task the same engine step a pod runs, as
parallel processes. Takes Hadoop Streaming's own command line as well as ours:

  run-local --mappers 4 --reducers 2 --output out/wc INPUT...
  run-local -D stream.num.map.output.key.fields=2 -input in/ -output out/ \\
            -mapper 'python3 m.py' -reducer 'python3 r.py' -numReduceTasks 3 -file m.py

The output directory gets part-00000 ... and _SUCCESS (JSON: counters, split plan). It is
built beside its final place and renamed into it at the end, so it never holds a half-written
result. A failed task is retried up to --max-attempts times; a mapper that exits with the
bad-input code is not retried.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from mapreduce.cli import add_job_options
from mapreduce.commit import commit_job, read_json
from mapreduce.layout import JobLayout, success_file, task_name
from mapreduce.maptask import load_or_create_plan
from mapreduce.settings import (
    DEFAULT_MAPPER,
    DEFAULT_REDUCER,
    MAX_ATTEMPTS,
    SCRIPTS_DIR,
    ExitCode,
    JobConf,
    JobError,
    normalize_properties,
    parse_property,
)
from mapreduce.splits import expand_inputs, make_plan
from mapreduce.tasks import exit_code_of

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import Callable


def comma_list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def build_parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="run-local",
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1],
    )
    cpus = os.cpu_count() or 1
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="files, directories or globs (.gz files are read whole)",
    )
    parser.add_argument(
        "-input",
        "--input",
        dest="more_inputs",
        action="append",
        default=[],
        help="an input (Hadoop's spelling; repeatable, comma lists too)",
    )
    parser.add_argument("-output", "--output", "-o", required=True, help="output directory")
    parser.add_argument(
        "--mappers",
        "-m",
        type=int,
        default=None,
        help=f"map tasks, a hint as in Hadoop (default: CPUs, {cpus})",
    )
    parser.add_argument(
        "-numReduceTasks",
        "--numReduceTasks",
        "--reducers",
        "-r",
        dest="reducers",
        type=int,
        default=None,
        help="reduce tasks; 0 = map-only (default 1)",
    )
    parser.add_argument(
        "--parallel",
        "-j",
        type=int,
        default=cpus,
        help="tasks running at once (default: CPUs, %(default)s)",
    )
    parser.add_argument("-mapper", "--mapper", default=DEFAULT_MAPPER, help="mapper command line")
    parser.add_argument(
        "-reducer",
        "--reducer",
        default=DEFAULT_REDUCER,
        help="reducer command line (NONE: map-only)",
    )
    parser.add_argument(
        "-combiner",
        "--combiner",
        default="",
        help="combiner command line, run once over each map task's sorted output",
    )
    parser.add_argument("-partitioner", "--partitioner", help="partitioner class")
    parser.add_argument("-inputformat", "--inputformat", help="input format class")
    parser.add_argument("-outputformat", "--outputformat", help="output format class")
    parser.add_argument(
        "-jobconf",
        "--jobconf",
        dest="jobconf",
        action="append",
        default=[],
        type=parse_property,
        metavar="NAME=VALUE",
        help="old spelling of -D",
    )
    parser.add_argument(
        "-cmdenv",
        dest="cmdenv_hadoop",
        action="append",
        default=[],
        type=parse_property,
        metavar="NAME=VALUE",
    )
    parser.add_argument(
        "-file",
        dest="file_hadoop",
        action="append",
        default=[],
        metavar="PATH",
        help="a file in every task's working directory",
    )
    parser.add_argument(
        "-files",
        "--files",
        dest="file_lists",
        action="append",
        default=[],
        type=comma_list,
        metavar="A,B,C",
    )
    add_job_options(parser, commands=False)
    parser.add_argument(
        "--packed",
        action="store_true",
        help="exactly --mappers map tasks, small files packed together",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=None,
        help=f"attempts per task before the job fails (default {MAX_ATTEMPTS})",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing output directory"
    )
    parser.add_argument(
        "--work-dir",
        help="where the intermediate data goes (default: a temporary directory beside the output)",
    )
    parser.add_argument("--keep-work", action="store_true", help="keep intermediate data")
    parser.add_argument("--plan", action="store_true", help="print the split plan as JSON and exit")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress or summary")
    return parser


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, JobConf, list[str]]:
    parser = build_parser()
    args = parser.parse_args(argv)
    inputs = list(args.inputs)
    for item in args.more_inputs:
        inputs.extend(comma_list(item))
    if not inputs:
        parser.error("no input (give INPUT arguments or -input)")
    pairs = list(args.jobconf) + list(args.properties)
    for option, name in (
        ("partitioner", "mapred.partitioner.class"),
        ("inputformat", "mapred.input.format.class"),
        ("outputformat", "mapred.output.format.class"),
    ):
        if getattr(args, option):
            pairs.append((name, getattr(args, option)))
    try:
        properties = normalize_properties(pairs)
    except JobError as error:
        parser.error(str(error))
    reducer = args.reducer
    if args.reducers is None:
        args.reducers = int(properties.get("mapreduce.job.reduces", "1"))
    if reducer == "NONE":
        args.reducers, reducer = 0, DEFAULT_REDUCER
    if args.mappers is None:
        args.mappers = int(properties.get("mapreduce.job.maps", os.cpu_count() or 1))
    properties["mapreduce.job.reduces"] = str(args.reducers)
    if args.max_attempts is None:
        args.max_attempts = int(properties.get("mapreduce.map.maxattempts", MAX_ATTEMPTS))
    for name, low in (("mappers", 1), ("reducers", 0), ("parallel", 1), ("max_attempts", 1)):
        if getattr(args, name) < low:
            parser.error(f"--{name.replace('_', '-')} must be at least {low}")
    files = list(args.files) + list(args.file_hadoop)
    for group in args.file_lists:
        files.extend(group)
    conf = JobConf(
        mapper=args.mapper,
        reducer=reducer,
        combiner=args.combiner,
        properties=properties,
        cmdenv=dict(args.cmdenv + args.cmdenv_hadoop),
        files=tuple(os.path.abspath(f) for f in files),
        bad_input_exit_code=args.bad_input_exit_code,
        keep_intermediate=args.keep_intermediate or args.keep_work,
    )
    try:
        conf.validate()
    except JobError as error:
        parser.error(str(error))
    return args, conf, inputs


def job_options(conf: JobConf) -> list[str]:
    """The JobConf again as engine-step options: one implementation reads them."""
    out = ["--mapper", conf.mapper, "--reducer", conf.reducer, "--combiner", conf.combiner]
    for name, value in conf.properties.items():
        out += ["-D", f"{name}={value}"]
    for name, value in conf.cmdenv.items():
        out += ["--cmdenv", f"{name}={value}"]
    for path in conf.files:
        out += ["--file", path]
    out += ["--bad-input-exit-code", str(conf.bad_input_exit_code)]
    if conf.keep_intermediate:
        out.append("--keep-intermediate")
    return out


class Progress:
    """One status line on a terminal; nothing when stderr is piped or --quiet."""

    def __init__(self, enabled: bool, total_bytes: int, maps: int, reducers: int) -> None:
        self.enabled = enabled
        self.total_bytes, self.maps_total, self.reducers = total_bytes, maps, reducers
        self.maps = self.reduces = self.bytes = 0
        self.started = time.monotonic()

    def show(self) -> None:
        if not self.enabled:
            return
        width = 24
        done = (self.maps + self.reduces) / max(1, self.maps_total + self.reducers)
        bar = "#" * int(done * width)
        sys.stderr.write(
            f"\r[{bar:<{width}}] map {self.maps}/{self.maps_total}"
            f"  reduce {self.reduces}/{self.reducers}"
            f"  read {self.bytes / 1e6:.1f}/{self.total_bytes / 1e6:.1f} MB"
            f"  {time.monotonic() - self.started:.1f}s "
        )
        sys.stderr.flush()

    def end(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


class Stopped(Exception):
    """SIGTERM or SIGHUP reached run-local."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class TaskRunner:
    """Runs task commands as process groups, `parallel` at a time, with retries."""

    def __init__(
        self, *, parallel: int, max_attempts: int, bad_input_exit_code: int, log_dir: str, env: dict
    ) -> None:
        self.parallel, self.max_attempts = parallel, max_attempts
        self.bad_input_exit_code = bad_input_exit_code
        self.log_dir, self.env = log_dir, env
        self.running: dict = {}  # pid -> (task, attempt number, Popen, log path)
        self.sequence = 0

    def run_all(
        self, tasks: dict[str, Callable[[str], list[str]]], on_done: Callable[[str], None]
    ) -> None:
        """tasks: {name: function(attempt id) -> argv}. Raises JobError on a failed task."""
        queue = [(name, 1) for name in reversed(list(tasks))]
        while queue or self.running:
            while queue and len(self.running) < self.parallel:
                name, number = queue.pop()
                self.sequence += 1
                attempt = f"{name}-a{number}-{os.getpid()}-{self.sequence}"
                log = os.path.join(self.log_dir, f"{attempt}.log")
                with open(log, "wb") as log_file:
                    proc = subprocess.Popen(
                        tasks[name](attempt),
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        env=self.env,
                        start_new_session=True,
                    )
                self.running[proc.pid] = (name, number, proc, log)
            pid, status = os.wait()
            if pid not in self.running:
                continue
            name, number, proc, log = self.running.pop(pid)
            proc.returncode = exit_code_of(os.waitstatus_to_exitcode(status))
            if proc.returncode == 0:
                on_done(name)
                continue
            final = proc.returncode in (self.bad_input_exit_code, ExitCode.NO_SPACE)
            if final or number >= self.max_attempts:
                why = (
                    "bad input"
                    if proc.returncode == self.bad_input_exit_code
                    else "no space left"
                    if final
                    else f"{number} attempts"
                )
                raise JobError(
                    f"task {name} failed ({why}, exit code {proc.returncode}); "
                    f"its output ends:\n{tail(log)}",
                    proc.returncode if final else ExitCode.FAILED,
                )
            queue.append((name, number + 1))

    def kill_all(self) -> None:
        """End every running task: SIGTERM first (the engine ends its commands' groups),
        then SIGKILL for the whole group."""
        for _, _, proc, _ in self.running.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        for _, _, proc, _ in self.running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait()
            except ChildProcessError:
                pass
        self.running.clear()


def tail(path: str, lines: int = 15) -> str:
    with open(path, "rb") as f:
        text = f.read()[-20000:].decode("utf-8", "replace")
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def engine_env(work: str) -> dict:
    """Task processes find the engine package beside this file, and spill sorts into the
    work directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SCRIPTS_DIR, env.get("PYTHONPATH")) if p)
    env["TMPDIR"] = work
    return env


def run_job(
    *, args: argparse.Namespace, conf: JobConf, inputs: list[str], work: str, staging: str
) -> dict:
    """Run the job with JOB under `work` and OUT=staging; returns the _SUCCESS report."""
    layout = JobLayout(os.path.join(work, "job"))
    plan = load_or_create_plan(
        layout=layout, inputs=inputs, mappers=args.mappers, conf=conf, packed=args.packed
    )
    maps = len(plan["splits"])
    os.makedirs(layout.logs, exist_ok=True)
    progress = Progress(
        sys.stderr.isatty() and not args.quiet, plan["total_bytes"], maps, args.reducers
    )
    runner = TaskRunner(
        parallel=args.parallel,
        max_attempts=args.max_attempts,
        bad_input_exit_code=conf.bad_input_exit_code,
        log_dir=layout.logs,
        env=engine_env(work),
    )
    engine = [sys.executable, "-S", "-m", "mapreduce"]
    common = [
        "--job-dir",
        layout.job_dir,
        "--reducers",
        str(args.reducers),
        "--output",
        staging,
        *job_options(conf),
    ]

    map_stride = stride_for(maps, args.parallel)
    reduce_stride = stride_for(args.reducers, args.parallel)

    def map_argv(index: int) -> Callable[[str], list[str]]:
        return lambda attempt: [
            *engine,
            "map-task",
            *common,
            "--index",
            str(index),
            "--stride",
            str(map_stride),
            "--attempt",
            attempt,
            "--mappers",
            str(args.mappers),
            *(["--packed"] if args.packed else []),
            "--",
            *inputs,
        ]

    def reduce_argv(index: int) -> Callable[[str], list[str]]:
        return lambda attempt: [
            *engine,
            "reduce-task",
            *common,
            "--index",
            str(index),
            "--stride",
            str(reduce_stride),
            "--attempt",
            attempt,
        ]

    def map_done(name: str) -> None:
        for index in tasks_of(name, maps, map_stride):
            progress.maps += 1
            progress.bytes += sum(c["length"] for c in plan["splits"][index])
        progress.show()

    def reduce_done(name: str) -> None:
        progress.reduces += len(tasks_of(name, args.reducers, reduce_stride))
        progress.show()

    progress.show()
    try:
        runner.run_all(
            {task_name("m", i): map_argv(i) for i in range(map_stride or maps)}, map_done
        )
        runner.run_all(
            {task_name("r", i): reduce_argv(i) for i in range(reduce_stride or args.reducers)},
            reduce_done,
        )
    finally:
        runner.kill_all()
        progress.end()
    if not commit_job(
        layout=layout, output=staging, reducers=args.reducers, suffix=conf.output_suffix
    ):
        raise JobError("every task finished but the job could not commit")
    return read_json(success_file(staging))


def stride_for(tasks: int, parallel: int) -> int:
    """Many more tasks than slots: `parallel` engine processes each run every parallel-th
    task (one start-up each, not one per task). 0: a process per task, retried alone."""
    return parallel if tasks > 2 * parallel else 0


def tasks_of(name: str, total: int, stride: int) -> range:
    first = int(name[2:])
    return range(first, total, stride) if stride else range(first, first + 1)


def summary(report: dict, output: str, seconds: float) -> str:
    counters = report["counters"].get("mapreduce", {})
    lines = [
        f"run-local: {output}: {len(report['parts'])} part file(s), "
        f"{counters.get('MAP_INPUT_BYTES', 0) / 1e6:.1f} MB read in {seconds:.1f}s"
    ]
    for group, names in sorted(report["counters"].items()):
        for name, value in sorted(names.items()):
            lines.append(f"  {group}.{name} = {value}")
    return "\n".join(lines) + "\n"


def check_output_apart(output: str, inputs: list[str]) -> None:
    """The output may not be an input, inside one, or above one: --overwrite would delete
    the data the job reads."""
    out = os.path.realpath(output)
    for item in inputs:
        paths = [item] if os.path.exists(item) else []
        if not paths:
            import glob

            paths = glob.glob(item)
        for path in paths:
            real = os.path.realpath(path)
            if out == real or real.startswith(out + os.sep) or out.startswith(real + os.sep):
                raise JobError(f"output {output} overlaps input {item}: refused", ExitCode.USAGE)


class OutputLock:
    """One run at a time per output directory: a lock file beside it holding our pid; a
    lock whose process is gone is taken over."""

    def __init__(self, output: str) -> None:
        self.path = os.path.join(os.path.dirname(output), f".{os.path.basename(output)}.lock")

    def __enter__(self) -> OutputLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    with open(self.path) as f:
                        pid = int(f.read().strip() or 0)
                    os.kill(pid, 0)
                except (ValueError, ProcessLookupError, FileNotFoundError):
                    os.unlink(self.path)  # its run is gone
                    continue
                except PermissionError:
                    pass
                raise JobError(
                    f"another run is writing {self.path[:-5]} (lock {self.path})", ExitCode.USAGE
                ) from None
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()}\n")
            return self
        raise JobError(f"could not take the lock {self.path}", ExitCode.USAGE)

    def __exit__(self, *_: object) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def raise_stopped(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def execute(args: argparse.Namespace, conf: JobConf, inputs: list[str]) -> int:
    output = os.path.abspath(args.output)
    if os.path.exists(output) and not args.overwrite:
        raise JobError(
            f"output {args.output} exists (use --overwrite to replace it)", ExitCode.USAGE
        )
    expand_inputs(inputs)  # report a missing input before any work
    check_output_apart(output, inputs)
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    if args.work_dir:
        os.makedirs(args.work_dir, exist_ok=True)
    started = time.monotonic()
    with OutputLock(output):
        staging = work = None
        try:
            staging = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}.tmp-", dir=parent)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would hide the result
            work = tempfile.mkdtemp(
                prefix=f".{os.path.basename(output)}.work-", dir=args.work_dir or parent
            )
            report = run_job(args=args, conf=conf, inputs=inputs, work=work, staging=staging)
            if os.path.exists(output):
                trash = f"{staging}.old"
                os.rename(output, trash)
                os.rename(staging, output)
                shutil.rmtree(trash)
            else:
                os.rename(staging, output)
        finally:
            if staging and os.path.exists(staging):
                shutil.rmtree(staging)
            if work and args.keep_work:
                sys.stderr.write(f"run-local: intermediate data kept in {work}\n")
            elif work:
                shutil.rmtree(work, ignore_errors=True)
    if not args.quiet:
        sys.stderr.write(summary(report, args.output, time.monotonic() - started))
    return 0


def main(argv: list[str] | None = None) -> int:
    args, conf, inputs = parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_stopped)
    try:
        if args.plan:
            import json

            json.dump(make_plan(inputs, args.mappers, conf, args.packed), sys.stdout, indent=1)
            print()
            return 0
        return execute(args, conf, inputs)
    except JobError as error:
        sys.stderr.write(f"run-local: {error}\n")
        return error.exit_code
    except OSError as error:  # e.g. an output or work directory we may not write to
        if error.errno == 28:
            from mapreduce.commit import no_space_error

            sys.stderr.write(f"run-local: {no_space_error(error, args.work_dir or args.output)}\n")
            return ExitCode.NO_SPACE
        sys.stderr.write(f"run-local: {error.strerror}: {error.filename}\n")
        return ExitCode.FAILED
    except KeyboardInterrupt:
        sys.stderr.write("run-local: interrupted; no output written\n")
        return 130
    except Stopped as stop:
        sys.stderr.write(f"run-local: stopped by {stop}; no output written\n")
        return 128 + stop.signum
