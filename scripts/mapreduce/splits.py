"""Inputs and splits: which files a job reads, how they are cut into map tasks (Hadoop's
FileInputFormat and NLineInputFormat rules), and the records a map task feeds its mapper
(TextInputFormat, KeyValueTextInputFormat, NLineInputFormat)."""

from __future__ import annotations

import glob
import gzip
import os
import zlib
from collections.abc import Iterator

from mapreduce.settings import KEY_VALUE_INPUT, NLINE_INPUT, TEXT_INPUT, ExitCode, JobConf, JobError

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import BinaryIO, Callable, Protocol

    class Readable(Protocol):
        def read(self, n: int, /) -> bytes: ...

    Write = Callable[[bytes], object]

BLOCK = 1 << 20
BOM = b"\xef\xbb\xbf"
BLOCK_SIZE = 128 << 20  # HDFS's default block size: no split is larger (Hadoop's rule)
SPLIT_SLOP = 1.1  # Hadoop's: the last split may be up to 10% larger than the others


Chunk = dict  # {"path": str, "start": int, "length": int}


def is_visible(name: str) -> bool:
    """Hadoop's rule: readers ignore names starting with `_` or `.`."""
    return not name.startswith(("_", "."))


def is_compressed(path: str) -> bool:
    return path.endswith(".gz")


def _walk(folder: str) -> Iterator[str]:
    """Visible files under `folder`, sorted; symlinked directories are followed, a symlink
    loop is an error (never silently skipped)."""
    seen: set[tuple[int, int]] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        info = os.stat(root)
        if (info.st_dev, info.st_ino) in seen:
            raise JobError(f"input {folder}: a symbolic link loop at {root}", ExitCode.USAGE)
        seen.add((info.st_dev, info.st_ino))
        dirs[:] = sorted(d for d in dirs if is_visible(d))
        for name in sorted(names):
            if is_visible(name):
                path = os.path.join(root, name)
                if not os.path.exists(path):
                    raise JobError(f"input {path}: a broken symbolic link", ExitCode.USAGE)
                yield path


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files named by INPUTs, each once. A name that exists is that file or directory, even
    with `[`, `*` or `?` in it; otherwise it is a glob pattern, expanded once."""
    files: list[str] = []
    for item in inputs:
        if os.path.exists(item):
            matches = [item]
        elif glob.has_magic(item):
            matches = sorted(
                glob.glob(glob.escape(os.path.dirname(item)) + os.sep + os.path.basename(item))
                if os.path.dirname(item)
                else glob.glob(item)
            )
        else:
            matches = []
        if not matches:
            raise JobError(f"input not found: {item}", ExitCode.USAGE)
        for match in matches:
            files.extend(_walk(match) if os.path.isdir(match) else [match])
    unique: dict[str, str] = {}
    for path in files:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def file_splits(files: list[tuple[str, int]], hint: int) -> list[list[Chunk]]:
    """Hadoop's FileInputFormat.getSplits: the map count is a hint; a file is never packed
    with another; a .gz file is one split; an empty file is an empty split."""
    total = sum(size for _, size in files)
    goal = max(1, total // max(hint, 1))
    size = max(1, min(goal, BLOCK_SIZE))
    splits: list[list[Chunk]] = []
    for path, length in files:
        if length == 0 or is_compressed(path):
            splits.append([{"path": path, "start": 0, "length": length}])
            continue
        remaining = length
        while remaining / size > SPLIT_SLOP:
            splits.append([{"path": path, "start": length - remaining, "length": size}])
            remaining -= size
        if remaining:
            splits.append([{"path": path, "start": length - remaining, "length": remaining}])
    return splits


def packed_splits(files: list[tuple[str, int]], count: int) -> list[list[Chunk]]:
    """Exactly `count` splits balanced by bytes, files packed together (Hadoop's
    CombineFileInputFormat idea): fewer, fuller tasks for many small files."""
    total = sum(size for _, size in files)
    target = max(1, -(-total // count))
    splits: list[list[Chunk]] = [[] for _ in range(count)]
    index, fill = 0, 0
    for path, size in files:
        if size == 0:
            continue
        start = 0
        while start < size:
            whole = is_compressed(path)
            room = size - start if (whole or index == count - 1) else target - fill
            take = min(room, size - start)
            splits[index].append({"path": path, "start": start, "length": take})
            start += take
            fill += take
            if fill >= target and index < count - 1:
                index, fill = index + 1, 0
    return splits


def nline_chunk(path: str, start: int, end: int) -> Chunk:
    """A split of N lines. Hadoop's NLineInputFormat reports every split but a file's first
    as starting one byte early (and the first one byte short): its numbering and the task's
    environment follow those figures, the reading follows the lines."""
    hadoop = (0, end - 1) if start == 0 else (start - 1, end - start)
    return {
        "path": path,
        "start": start,
        "length": end - start,
        "hadoop_start": hadoop[0],
        "hadoop_length": hadoop[1],
    }


def nline_splits(files: list[tuple[str, int]], lines_per_map: int) -> list[list[Chunk]]:
    """NLineInputFormat: every `lines_per_map` lines of a file make one split."""
    splits: list[list[Chunk]] = []
    for path, _ in files:
        start = offset = lines = 0
        with _open_input(path) as f:
            for line in _lines(f):
                offset += len(line)
                lines += 1
                if lines == lines_per_map:
                    splits.append([nline_chunk(path, start, offset)])
                    start, lines = offset, 0
        if lines:
            splits.append([nline_chunk(path, start, offset)])
    return splits


def hadoop_length(split: list[Chunk]) -> int:
    return sum(c.get("hadoop_length", c["length"]) for c in split)


def number_like_hadoop(splits: list[list[Chunk]]) -> list[list[Chunk]]:
    """Hadoop numbers map tasks by split length, largest first (ties keep their order): the
    number is the map-only part file's and the environment's."""
    return sorted(splits, key=hadoop_length, reverse=True)


def make_plan(inputs: list[str], mappers: int, conf: JobConf, packed: bool = False) -> dict:
    if mappers < 1:
        raise JobError("the number of map tasks must be at least 1", ExitCode.USAGE)
    files = [(path, os.path.getsize(path)) for path in expand_inputs(inputs)]
    if conf.input_format == NLINE_INPUT:
        splits = number_like_hadoop(nline_splits(files, conf.lines_per_map))
    elif packed:
        splits = packed_splits(files, mappers)
    else:
        splits = number_like_hadoop(file_splits(files, mappers))
    if not splits:
        splits = [[]]  # no input at all: one map task over nothing, as Hadoop runs
    return {
        "mappers": mappers,
        "packed": packed,
        "inputs": list(inputs),
        "input_format": conf.input_format,
        "files": [{"path": p, "size": s} for p, s in files],
        "total_bytes": sum(size for _, size in files),
        "splits": splits,
    }


# --------------------------------------------------------------------------- reading


class InputChanged(JobError):
    """An input file that cannot be read as planned: truncated, corrupt, gone, shrunk."""


def _open_input(path: str) -> BinaryIO:
    try:
        if is_compressed(path):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")
    except OSError as error:
        raise InputChanged(f"input {path}: {error.strerror or error}") from None


def _lines(f: Readable) -> Iterator[bytes]:
    """Lines with Hadoop's terminators (\\n, \\r, \\r\\n), each kept with its terminator."""
    pending = b""
    while True:
        try:
            block = f.read(BLOCK)
        except (OSError, EOFError, zlib.error) as error:
            raise InputChanged(
                f"input {getattr(f, 'name', '?')}: cannot be read to its end ({error})"
            ) from None
        if not block:
            break
        data = pending + block
        start = 0
        while True:
            n = data.find(b"\n", start)
            r = data.find(b"\r", start, n if n >= 0 else len(data))
            if r >= 0:
                if r + 1 == len(data):
                    break  # a \r at the end of the block: \r\n or \r alone, next block says
                end = r + 2 if data[r + 1 : r + 2] == b"\n" else r + 1
            elif n >= 0:
                end = n + 1
            else:
                break
            yield data[start:end]
            start = end
        pending = data[start:]
    if pending:
        yield pending


def _read_exact_range(f: BinaryIO, path: str, start: int, length: int, write: Write) -> None:
    remaining = length
    while remaining > 0:
        block = f.read(min(BLOCK, remaining))
        if not block:
            raise InputChanged(
                f"input {path} ended at byte {start + length - remaining}, "
                f"before the planned {start + length}: it changed during "
                f"the job"
            )
        remaining -= len(block)
        write(block)


def _through_newline(f: BinaryIO, write: Write) -> bool:
    """Pass `f`'s bytes up to and including the next newline to `write`, leaving `f` just
    after it; False when the file ended first. Skips the line the previous split owns, and
    finishes the last line of a split."""
    while True:
        block = f.read(BLOCK)
        if not block:
            return False
        at = block.find(b"\n")
        if at >= 0:
            write(block[: at + 1])
            f.seek(at + 1 - len(block), os.SEEK_CUR)
            return True
        write(block)


def _discard(data: bytes) -> None:
    pass


def read_chunk_bytes(chunk: Chunk, write: Write) -> int:
    """The bytes of the lines a chunk owns (Hadoop's rule: lines that start in
    (start, start+length], or [0, length] when start is 0; a BOM at offset 0 dropped); an
    NLineInputFormat chunk is exactly its lines. Returns the offset of the first byte."""
    path, start, length = chunk["path"], chunk["start"], chunk["length"]
    if is_compressed(path):
        with _open_input(path) as f:
            at_start = True
            for line in _lines(f):
                write(line[3:] if at_start and line.startswith(BOM) else line)
                at_start = False
        return 0
    end = start + length
    with _open_input(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size < end:
            raise InputChanged(
                f"input {path} is {size} bytes, the plan expected at least "
                f"{end}: it changed during the job"
            )
        if "hadoop_start" in chunk:  # NLineInputFormat: whole lines, planned exactly
            f.seek(start)
            _read_exact_range(f, path, start, length, write)
            return int(start)
        if start > 0:
            f.seek(start)
            if not _through_newline(f, _discard) or f.tell() > end:
                return int(end)
        elif f.read(3) != BOM:
            f.seek(0)
        first = f.tell()
        _read_exact_range(f, path, first, end - first, write)
        _through_newline(f, write)  # the line holding byte `end` runs through its newline
        return first


def _normalized_lines(chunk: Chunk) -> Iterator[tuple[int, bytes]]:
    """(offset in the file, line without terminator) of each line a chunk owns."""
    parts: list[bytes] = []
    offset = read_chunk_bytes(chunk, parts.append)
    data = b"".join(parts)
    for line in _lines(_BytesReader(data)):
        yield offset, line.rstrip(b"\r\n") if line.endswith((b"\n", b"\r")) else line
        offset += len(line)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, n: int) -> bytes:
        block = self.data[self.at : self.at + n]
        self.at += len(block)
        return block


class TextFeeder:
    """Writes a chunk's lines as TextInputFormat gives them to a streaming mapper: each line
    ends with \\n (\\r\\n and \\r become \\n, a last line without one gets one)."""

    def __init__(self, write: Write) -> None:
        self.write = write
        self.records = 0
        self.bytes = 0
        self.cr_pending = False
        self.last = b"\n"

    def _emit(self, data: bytes) -> None:
        if data:
            self.write(data)
            self.records += data.count(b"\n")
            self.last = data[-1:]

    def feed(self, block: bytes) -> None:
        self.bytes += len(block)  # bytes read, as Hadoop counts them
        if self.cr_pending:
            block = b"\r" + block
            self.cr_pending = False
        if b"\r" in block:
            if block.endswith(b"\r"):
                block, self.cr_pending = block[:-1], True
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._emit(block)

    def end_chunk(self) -> None:
        if self.cr_pending:
            self.cr_pending = False
            self._emit(b"\n")
        if self.last != b"\n":
            self._emit(b"\n")


def feed_split(split: list[Chunk], conf: JobConf, write: Write) -> tuple[int, int]:
    """Write a split's records to a mapper as the job's input format defines them; returns
    (bytes read, records)."""
    fmt = conf.input_format
    if fmt == TEXT_INPUT and not conf.offset_keys:
        feeder = TextFeeder(write)
        for chunk in split:
            read_chunk_bytes(chunk, feeder.feed)
            feeder.end_chunk()
        return feeder.bytes, feeder.records
    records = size = 0
    out_sep = conf.map_input_separator
    kv_sep = conf.key_value_input_separator
    buffer: list[bytes] = []
    for chunk in split:
        for offset, line in _normalized_lines(chunk):
            if fmt == KEY_VALUE_INPUT:
                key, sep, value = line.partition(kv_sep)
                record = key + out_sep + value + b"\n"
            else:  # NLineInputFormat: the key is the line's byte offset
                record = b"%d%s%s\n" % (offset, out_sep, line)
            buffer.append(record)
            records += 1
            size += len(line) + 1
            if len(buffer) >= 4096:
                write(b"".join(buffer))
                buffer.clear()
    if buffer:
        write(b"".join(buffer))
    return size, records


def split_file(split: list[Chunk]) -> tuple[str, int, int]:
    """(file, start, length) a map task's environment names: its (first) file's range."""
    if not split:
        return "", 0, 0
    first = split[0]
    return (
        first["path"],
        first.get("hadoop_start", first["start"]),
        sum(c.get("hadoop_length", c["length"]) for c in split if c["path"] == first["path"]),
    )


def check_plan(plan: dict, inputs: list[str], mappers: int, packed: bool, where: str) -> None:
    """A plan fixed by an earlier task must be the plan of this job's inputs."""
    if (
        plan.get("inputs") != list(inputs)
        or plan.get("mappers") != mappers
        or plan.get("packed", False) != packed
    ):
        raise JobError(
            f"{where} was made for other inputs or map counts ({plan.get('inputs')}, "
            f"{plan.get('mappers')} maps) than this run's ({inputs}, {mappers}): "
            f"a job directory is never shared by two runs",
            ExitCode.USAGE,
        )
    for entry in plan.get("files", []):
        try:
            size: int | None = os.path.getsize(entry["path"])
        except OSError:
            size = None
        if size != entry["size"]:
            raise InputChanged(
                f"input {entry['path']} changed since the split plan was made "
                f"({entry['size']} bytes then, {size} now)"
            )
