"""What a benchmark ran on: CPUs, kernel, the Python builds on PATH, Java and Hadoop."""
from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
import sys

from bench import pick_python


@functools.cache  # probing every interpreter takes seconds; the answer does not change
def python_builds() -> list[dict]:
    """The CPython builds on PATH, fastest first, and which one this run uses."""
    ours = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return [{"version": info["version"], "probe_s": info["probe_s"],
             "used": os.path.realpath(info["executable"]) == ours}
            for info in pick_python.survey()]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def java_version() -> str | None:
    import hadoop_streaming  # only when Java matters: the shuffle benchmark runs without it

    if not shutil.which("java"):
        return None
    return subprocess.run([hadoop_streaming.java_executable(), "-version"],
                          stderr=subprocess.PIPE, text=True).stderr.splitlines()[0]


def machine(*, with_java: bool = True) -> dict:
    """The machine, the interpreters and (with_java) Java and Hadoop's version."""
    info: dict[str, object] = {"cpus": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
            "python_builds": python_builds(), "kernel": platform.release()}
    if with_java:
        import hadoop_streaming

        info.update(java=java_version(), hadoop=hadoop_streaming.hadoop_version())
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return info
