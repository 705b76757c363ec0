"""Every path of a job, in one place.

Job directory (JOB), shared by every task of one run:
  JOB/plan.json                      the split plan; the first task to write it fixes it
  JOB/_temporary/ATTEMPT/            scratch of one task attempt (attempt ids are unique)
  JOB/map/m-00003/data               committed map task 3: its output sorted by (partition, key)
  JOB/map/m-00003/index              ... where each partition lies in `data` (INDEX_ENTRY each)
  JOB/map/m-00003/_task.json         ... its counters and the record shape
  JOB/map/_failed/m-00003/A.json     failed attempts of map task 3 (exit code, stderr tail)
  JOB/map/_failed/m-00003/A.running  the heartbeat of a running attempt
  JOB/_failed/A.json                 a failure of the whole job (inputs, plan, download)
  JOB/reduce/r-00001/_task.json      committed reduce task 1
  JOB/_logs/                         run-local's task logs
Output directory (OUT): part-00000[.gz] ... and _SUCCESS (written last).
A task attempt commits by renaming its scratch directory to its final name: the rename is
atomic and fails when another attempt got there first.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

TASK_FILE = "_task.json"
MAP_DATA = "data"
MAP_INDEX = "index"
# One partition of a map output: offset and length in `data`, and its record count. Fixed
# width, so that a reduce task reads its own entry of each map's index and nothing else.
INDEX_ENTRY = struct.Struct("<QQQ")
SUCCESS = "_SUCCESS"


def task_name(kind: str, index: int) -> str:
    """`m-00003` / `r-00001`."""
    return f"{kind}-{index:05d}"


def part_name(index: int, suffix: str = "") -> str:
    """Hadoop Streaming's (old API) output names, for map-only and reduce output alike."""
    return f"part-{index:05d}{suffix}"


@dataclass(frozen=True)
class JobLayout:
    job_dir: str

    @property
    def plan(self) -> str:
        return os.path.join(self.job_dir, "plan.json")

    @property
    def logs(self) -> str:
        return os.path.join(self.job_dir, "_logs")

    def scratch(self, attempt: str) -> str:
        return os.path.join(self.job_dir, "_temporary", attempt)

    def task_dir(self, kind: str, index: int) -> str:
        stage = "map" if kind == "m" else "reduce"
        return os.path.join(self.job_dir, stage, task_name(kind, index))

    def task_file(self, kind: str, index: int) -> str:
        return os.path.join(self.task_dir(kind, index), TASK_FILE)

    def map_data(self, index: int) -> str:
        return os.path.join(self.task_dir("m", index), MAP_DATA)

    def map_index(self, index: int) -> str:
        return os.path.join(self.task_dir("m", index), MAP_INDEX)

    @property
    def job_failures(self) -> str:
        """Failures of the job as a whole (its inputs, its plan, a download): final."""
        return os.path.join(self.job_dir, "_failed")

    def running_file(self, kind: str, index: int, attempt: str) -> str:
        """An attempt's heartbeat: touched while it runs, removed when it ends; one left
        behind and gone stale is an attempt that died without a word (killed, out of memory)."""
        return os.path.join(self.failed_dir(kind, index), f"{attempt}.running")

    def failed_dir(self, kind: str, index: int) -> str:
        stage = "map" if kind == "m" else "reduce"
        return os.path.join(self.job_dir, stage, "_failed", task_name(kind, index))


def write_index(path: str, entries: list[tuple[int, int, int]]) -> None:
    """A map output's index: (offset, length, records) of every partition, in order."""
    with open(path, "wb") as f:
        f.write(b"".join(INDEX_ENTRY.pack(*entry) for entry in entries))


def read_index_entry(path: str, partition: int) -> tuple[int, int, int]:
    """(offset, length, records) of one partition, read alone."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, INDEX_ENTRY.size, partition * INDEX_ENTRY.size)
    finally:
        os.close(fd)
    if len(data) != INDEX_ENTRY.size:
        raise ValueError(f"{path}: no entry for partition {partition}")
    offset, length, records = INDEX_ENTRY.unpack(data)
    return offset, length, records


def success_file(output: str) -> str:
    return os.path.join(output, SUCCESS)


def failure_note(merged: str) -> str:
    """Where a shuffle leaves a map stage failure for its reduce step."""
    return f"{merged}.failed"
