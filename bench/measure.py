"""Running one command and measuring it: wall and CPU time, and peak memory two ways.

Peak memory: the largest single process's maximum RSS (getrusage of the waited children,
what GNU `/usr/bin/time -v` shows) and the peak of the summed RSS of the command's process
tree (sampled from /proc every 0.5 s).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT

PAGE = os.sysconf("SC_PAGE_SIZE")
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
# Every tool runs with Python's defaults: a shell or CI that exports these would change the
# Python tools' speed (PYTHONUNBUFFERED=1 makes each print() or write() on stdout a system
# call), so they are removed from the environment; their effect is measured separately.
STRIPPED_ENV = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without STRIPPED_ENV, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
    env.update(extra or {})
    return env


def process_table() -> dict[int, tuple[int, int]]:
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


def descendants(root: int, table: dict[int, tuple[int, int]]) -> list[int]:
    """`root` and every process below it in `table`."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def tree_rss(root: int) -> int:
    """The summed RSS, in bytes, of `root` and all its descendants now."""
    table = process_table()
    return sum(table[pid][1] for pid in descendants(root, table))


def kill_tree(root: int) -> None:
    """SIGKILL a command's whole tree: its process group, and the processes below it that
    started sessions of their own (run-local's tasks do), which the group's kill misses."""
    for pid in descendants(root, process_table()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(root, signal.SIGKILL)


class Sampler(threading.Thread):
    """Peak of the summed RSS of a process tree, sampled."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.done.wait(self.interval)


def measure(command: str, *, stdout: Path | None = None, timeout: float | None = None,
            cwd: Path = ROOT, env: dict[str, str] | None = None,
            stderr_path: Path | None = None) -> dict:
    """Run a bash command line; wall time, CPU time, and peak memory two ways.

    GNU time runs the command and reports the largest max RSS among the processes it
    waited for (via getrusage), and the CPU time of the whole tree. It is a small process:
    a child forked from this Python process would start with Python's max RSS, which
    getrusage keeps across exec.
    """
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(stdout, "wb")) if stdout else subprocess.DEVNULL
        err = files.enter_context(open(stderr_path, "wb")) if stderr_path else subprocess.DEVNULL
        stat_file = files.enter_context(
            tempfile.NamedTemporaryFile(prefix="bench-time-", suffix=".txt"))
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-f", "%M %U %S", "-o", stat_file.name,
                                 "bash", "-o", "pipefail", "-c", command], stdout=out,
                                stderr=err, cwd=cwd, env=clean_env(env),
                                start_new_session=True)
        sampler = Sampler(proc.pid)
        sampler.start()
        timed_out = False
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_tree(proc.pid)
            proc.wait()
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        fields = Path(stat_file.name).read_text().split()
    try:  # the last line is "maxrss user sys"; a "Command exited with ..." line may precede
        max_rss_kb, user, system = int(fields[-3]), float(fields[-2]), float(fields[-1])
    except (IndexError, ValueError):
        max_rss_kb, user, system = 0, 0.0, 0.0
    return {"wall_s": round(wall, 3), "user_s": user, "sys_s": system,
            "max_rss_mb": round(max_rss_kb / 1024, 1),
            "peak_tree_rss_mb": round(sampler.peak / 2**20, 1),
            "returncode": proc.returncode, "timed_out": timed_out}


def best_measure(command: str, *, repeat: int = 3, **kwargs: Any) -> dict:
    """The fastest of `repeat` runs (the machine may be shared: noise only slows)."""
    return min((measure(command, **kwargs) for _ in range(repeat)), key=lambda m: m["wall_s"])
