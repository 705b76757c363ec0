"""Running the user's commands (mapper, combiner, reducer) as Hadoop Streaming runs them: a
shell command line, the job's environment, a working directory holding the job's files,
`reporter:` lines on stderr as counters and status, and a timeout without progress."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time

from mapreduce.commit import add_counter
from mapreduce.settings import HEARTBEAT_SECONDS, JobConf

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import IO, Any

FRAMEWORK = "mapreduce"  # counter group of the engine's own counters
STDERR_TAIL_LINES = 20
PIPE_SIZE = 1 << 20
# User commands run in process groups of their own (a timeout kills a whole group); these are
# the ones still running, for a stop to end them too.
RUNNING: set = set()
BEATING: set = set()  # heartbeat files of this process's attempts


class TaskFailed(Exception):
    """A user command failed: its exit code, the end of its stderr, and what it was."""

    def __init__(self, exit_code: int, tail: list[str], what: str, reason: str = "") -> None:
        super().__init__(reason or f"{what} exited with code {exit_code}")
        self.exit_code, self.tail, self.what = exit_code, tail, what


class Progress:
    """When the task last showed life (Hadoop's progress: input read, output written, a
    status line); a watchdog kills the task's processes after `timeout` seconds without."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.last = time.monotonic()
        self.timed_out = False
        self._procs: list[subprocess.Popen] = []
        self._done = threading.Event()

    def tick(self) -> None:
        self.last = time.monotonic()

    def watch(self, proc: subprocess.Popen) -> None:
        self._procs.append(proc)
        if self.timeout and len(self._procs) == 1:
            threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._done.wait(min(1.0, self.timeout / 4)):
            if time.monotonic() - self.last > self.timeout:
                self.timed_out = True
                for proc in self._procs:
                    kill_group(proc)
                return

    def stop(self) -> None:
        self._done.set()


class Heartbeat:
    """Touches `path` every HEARTBEAT_SECONDS while the block runs; removes it at the end.
    A process killed outright (SIGKILL, out of memory) leaves it behind, going stale."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._done = threading.Event()

    def __enter__(self) -> Heartbeat:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        open(self.path, "w").close()
        BEATING.add(self.path)
        threading.Thread(target=self._beat, daemon=True).start()
        return self

    def _beat(self) -> None:
        while not self._done.wait(HEARTBEAT_SECONDS):
            try:
                os.utime(self.path)
            except OSError:
                pass

    def __exit__(self, *_: object) -> None:
        self._done.set()
        BEATING.discard(self.path)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def parse_reporter_line(line: str, counters: dict) -> str | None:
    """Apply one `reporter:counter:G,C,N` line; returns "counter", "status" or None."""
    if line.startswith("reporter:counter:"):
        fields = line[len("reporter:counter:") :].split(",")
        if len(fields) < 3:
            return None
        try:
            amount = int(fields[-1])
        except ValueError:
            return None
        add_counter(counters, ",".join(fields[:-2]), fields[-2], amount)
        return "counter"
    if line.startswith("reporter:status:"):
        return "status"
    return None


class StderrReader(threading.Thread):
    """Forwards a task's stderr, taking out Hadoop `reporter:` lines as counters/status."""

    def __init__(
        self, stream: IO[bytes] | None, label: str, progress: Progress | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.stream, self.label, self.progress = pipe(stream), label, progress
        self.counters: dict = {}
        self.tail: collections.deque = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.start()

    def run(self) -> None:
        for raw in self.stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            kind = parse_reporter_line(line, self.counters)
            if kind == "status":
                if self.progress:
                    self.progress.tick()
                sys.stderr.write(f"[{self.label}] status: {line[len('reporter:status:') :]}\n")
            elif kind is None:
                self.tail.append(line)
                sys.stderr.write(f"[{self.label}] {line}\n")
            sys.stderr.flush()
        self.stream.close()


def exit_code_of(returncode: int) -> int:
    """A process's status as a shell reports it (signals as 128+N)."""
    return 128 - returncode if returncode < 0 else returncode


def env_name(name: str) -> str:
    """Hadoop's rule for a property as an environment variable: other than letters, digits
    and `_`, every character becomes `_`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def task_env(*, conf: JobConf, extra: dict) -> dict[str, str]:
    """The environment of a user command: ours, every job property (dots as underscores),
    the task's own variables, then -cmdenv."""
    env = dict(os.environ)
    for name, value in conf.properties.items():
        env[env_name(name)] = value
    env.update({k: str(v) for k, v in extra.items()})
    env.update(conf.cmdenv)
    return env


def prepare_workdir(*, workdir: str, conf: JobConf) -> str:
    """A task's working directory with a link to each -file (Hadoop's distributed cache)."""
    os.makedirs(workdir, exist_ok=True)
    for path in conf.files:
        link = os.path.join(workdir, os.path.basename(path))
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(path), link)
    return workdir


def split_command(command: str) -> list[str]:
    """Hadoop Streaming's split of a command line (PipeMapRed.splitArgs): spaces separate
    arguments outside quotes; a quote opens or closes a quoted argument (and ends the one
    before it); nothing else is special, no escapes."""
    args: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in command:
        if ch in "'\"" and (not quote or ch == quote):
            quote = "" if quote else ch
            if current:
                args.append("".join(current))
                current = []
        elif ch == " " and not quote:
            if current:
                args.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        args.append("".join(current))
    return args


def start_command(
    command: str,
    *,
    env: dict,
    cwd: str,
    stdin: Any,
    stdout: Any,
    progress: Progress | None = None,
) -> subprocess.Popen:
    """Start a user command line as Hadoop Streaming does: split into arguments (no shell:
    `;`, `|` and `$` are plain characters; `sh -c '...'` asks for one), the program looked
    up in the task's working directory (its -files) before PATH; in its own process group,
    so a timeout or a stop reaches its children too."""
    argv = split_command(command)
    if not argv:
        raise TaskFailed(127, [], "command", f"empty command line {command!r}")
    if not os.path.isabs(argv[0]) and os.path.exists(os.path.join(cwd, argv[0])):
        argv[0] = os.path.join(cwd, argv[0])
    try:
        proc = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            bufsize=PIPE_SIZE,
            start_new_session=True,
        )
    except OSError as error:
        code = 127 if isinstance(error, FileNotFoundError) else 126
        raise TaskFailed(code, [], "command", f"cannot run {argv[0]!r}: {error.strerror}") from None
    RUNNING.add(proc)
    if progress:
        progress.watch(proc)
    return proc


def stop_all(*_: object) -> None:
    """Signal handler: end every user command's process group, then this process. A stop is
    the platform's decision (a deleted or evicted pod, run-local stopped), not the attempt's
    failure: its heartbeat goes too, so it never counts as one."""
    for proc in list(RUNNING):
        kill_group(proc)
    for path in list(BEATING):
        try:
            os.unlink(path)
        except OSError:
            pass
    os._exit(143)


def pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A Popen pipe we asked for (typed as optional by the standard library)."""
    assert stream is not None
    return stream


def widen_pipe(stream: IO | None) -> None:
    """Ask for a 1 MiB pipe buffer (Linux): fewer wake-ups per megabyte moved."""
    try:
        import fcntl

        fcntl.fcntl(pipe(stream).fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except (OSError, ImportError, ValueError):
        pass  # a smaller pipe only costs speed


def finish(
    proc: subprocess.Popen, reader: StderrReader, what: str, progress: Progress | None = None
) -> dict:
    """Wait for a command; its counters, or TaskFailed."""
    proc.wait()
    RUNNING.discard(proc)
    reader.join()
    if progress and progress.timed_out:
        raise TaskFailed(
            exit_code_of(proc.returncode),
            list(reader.tail),
            what,
            f"{what} made no progress for {progress.timeout:g}s (mapreduce.task.timeout): killed",
        )
    if proc.returncode:
        raise TaskFailed(exit_code_of(proc.returncode), list(reader.tail), what)
    return reader.counters
