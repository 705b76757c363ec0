"""A job's settings: one typed object built from Hadoop's property names, and the engine's
named exit codes and defaults (the only place that knows them)."""

from __future__ import annotations

import enum
import os
import shlex
import sys
from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import Callable

SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    BAD_INPUT = 65  # EX_DATAERR: a mapper's "this input is bad"; never retried
    MAP_STAGE_FAILED = 66  # EX_NOINPUT: a reduce input that will never exist; never retried
    NO_SPACE = 75  # EX_TEMPFAIL: the disk or volume is full
    TERMINATED = 143  # 128 + SIGTERM


class JobError(Exception):
    """A failure to report in one line, with an exit code."""

    def __init__(self, message: str, exit_code: int = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.exit_code = int(exit_code)


# Defaults shared by the command lines and the functions (the chart passes its own values).
MAX_ATTEMPTS = 4  # Hadoop's mapreduce.map.maxattempts / mapreduce.reduce.maxattempts
POLL_SECONDS = 1.0
TASK_TIMEOUT_MS = 600_000  # mapreduce.task.timeout
MERGE_FAN_IN = 64  # files one merge pass holds open
HEARTBEAT_SECONDS = 10.0  # how often a running attempt touches its heartbeat file
STALE_SECONDS = 120.0  # a heartbeat this old: the attempt died without recording why

# The bundled word count needs only the standard library: -S skips site-packages, most of
# Python's start-up time, paid once per task process.
PYTHON = f"{shlex.quote(sys.executable)} -S"
DEFAULT_MAPPER = f"{PYTHON} {shlex.quote(os.path.join(SCRIPTS_DIR, 'mapper.py'))}"
DEFAULT_REDUCER = f"{PYTHON} {shlex.quote(os.path.join(SCRIPTS_DIR, 'reducer.py'))}"

# Hadoop's class names, the ones we implement.
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
KEY_VALUE_INPUT = "org.apache.hadoop.mapred.KeyValueTextInputFormat"
NLINE_INPUT = "org.apache.hadoop.mapred.lib.NLineInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.mapred.TextOutputFormat"
HASH_PARTITIONER = "org.apache.hadoop.mapred.lib.HashPartitioner"
KEY_FIELD_PARTITIONER = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
KEY_FIELD_COMPARATOR = "org.apache.hadoop.mapred.lib.KeyFieldBasedComparator"
IDENTITY_MAPPER = "org.apache.hadoop.mapred.lib.IdentityMapper"
IDENTITY_REDUCER = "org.apache.hadoop.mapred.lib.IdentityReducer"
GZIP_CODECS = (
    "org.apache.hadoop.io.compress.GzipCodec",
    "org.apache.hadoop.io.compress.DefaultCodec",
)


def _aliases(*classes: str) -> tuple[str, ...]:
    """A class under its mapred and mapreduce package names."""
    out = []
    for name in classes:
        out.append(name)
        if ".mapred.lib." in name:
            out.append(name.replace(".mapred.lib.", ".mapreduce.lib.partition."))
            out.append(name.replace(".mapred.lib.", ".mapreduce.lib.input."))
        elif ".mapred." in name:
            out.append(name.replace(".mapred.", ".mapreduce.lib.input."))
            out.append(name.replace(".mapred.", ".mapreduce.lib.output."))
    return tuple(out)


INPUT_FORMATS = {
    name: canonical
    for canonical in (TEXT_INPUT, KEY_VALUE_INPUT, NLINE_INPUT)
    for name in _aliases(canonical)
}
OUTPUT_FORMATS = {name: TEXT_OUTPUT for name in _aliases(TEXT_OUTPUT)}
PARTITIONERS = {
    name: canonical
    for canonical in (HASH_PARTITIONER, KEY_FIELD_PARTITIONER)
    for name in _aliases(canonical)
}
COMPARATORS = {name: KEY_FIELD_COMPARATOR for name in _aliases(KEY_FIELD_COMPARATOR)}

# Older property names Hadoop 3 still honours, and the names they stand for.
DEPRECATED = {
    "map.output.key.field.separator": "mapreduce.map.output.key.field.separator",
    "mapred.text.key.partitioner.options": "mapreduce.partition.keypartitioner.options",
    "mapred.text.key.comparator.options": "mapreduce.partition.keycomparator.options",
    "mapred.output.key.comparator.class": "mapreduce.job.output.key.comparator.class",
    "mapred.reduce.tasks": "mapreduce.job.reduces",
    "mapred.map.tasks": "mapreduce.job.maps",
    "mapred.output.compress": "mapreduce.output.fileoutputformat.compress",
    "mapred.output.compression.codec": "mapreduce.output.fileoutputformat.compress.codec",
    "mapred.line.input.format.linespermap": "mapreduce.input.lineinputformat.linespermap",
    "mapred.task.timeout": "mapreduce.task.timeout",
    "mapred.textoutputformat.separator": "mapreduce.output.textoutputformat.separator",
    "key.value.separator.in.input.line": "mapreduce.input.keyvaluelinerecordreader.key.value.separator",
    "mapred.job.name": "mapreduce.job.name",
    "mapred.map.max.attempts": "mapreduce.map.maxattempts",
    "mapred.reduce.max.attempts": "mapreduce.reduce.maxattempts",
    "mapred.job.id": "mapreduce.job.id",
}

# Properties we implement (after the renames above).
SUPPORTED = frozenset(
    {
        "stream.map.output.field.separator",
        "stream.num.map.output.key.fields",
        "stream.reduce.input.field.separator",
        "stream.reduce.output.field.separator",
        "stream.num.reduce.output.key.fields",
        "stream.map.input.field.separator",
        "stream.combine.input.field.separator",
        "mapreduce.map.output.key.field.separator",
        "mapreduce.output.textoutputformat.separator",
        "mapreduce.partition.keypartitioner.options",
        "mapreduce.partition.keycomparator.options",
        "mapreduce.job.output.key.comparator.class",
        "mapreduce.job.reduces",
        "mapreduce.job.maps",
        "mapreduce.output.fileoutputformat.compress",
        "mapreduce.output.fileoutputformat.compress.codec",
        "mapreduce.input.lineinputformat.linespermap",
        "mapreduce.task.timeout",
        "mapreduce.input.keyvaluelinerecordreader.key.value.separator",
        "mapreduce.job.name",
        "mapreduce.map.maxattempts",
        "mapreduce.reduce.maxattempts",
        "mapreduce.job.id",
        "mapred.input.format.class",
        "mapred.output.format.class",
        "mapred.partitioner.class",
        "num.key.fields.for.partition",
        "stream.non.zero.exit.is.failure",
        "mapreduce.map.speculative",
        "mapreduce.reduce.speculative",
        "mapreduce.map.memory.mb",
        "mapreduce.reduce.memory.mb",
        "mapreduce.job.queuename",
        "mapreduce.map.output.compress",
        "mapreduce.map.output.compress.codec",
        "mapreduce.output.fileoutputformat.compress.type",
    }
)
# Properties Hadoop defines that we refuse rather than ignore: ignoring them would change the
# answer.
UNSUPPORTED = frozenset(
    {
        "mapreduce.job.output.group.comparator.class",
        "stream.map.input",
        "stream.map.output",
        "stream.reduce.input",
        "stream.reduce.output",
        "stream.io.identifier.resolver.class",
        "mapreduce.job.inputformat.class",
        "mapreduce.job.outputformat.class",
        "mapreduce.job.partitioner.class",
        "mapreduce.job.combine.class",
        "mapred.mapper.class",
        "mapred.reducer.class",
        "mapreduce.input.fileinputformat.split.minsize",
        "mapreduce.input.fileinputformat.split.maxsize",
        "mapreduce.job.output.key.class",
        "stream.non.zero.exit.status.is.failure",
    }
)


def streaming_command(command: str, role: str) -> str:
    """The command line behind Hadoop Streaming's named commands: the identity classes and
    `aggregate` (its reducer or combiner)."""
    name = command.strip()
    if name in (IDENTITY_MAPPER, IDENTITY_REDUCER):
        return "cat"
    if name.lower() == "aggregate" and role in ("reducer", "combiner"):
        step = "reduce" if role == "reducer" else "combine"
        return f"{PYTHON} -m mapreduce.aggregate {step}"
    return command


def separator(value: str) -> bytes:
    """A separator property as bytes (Hadoop reads them as UTF-8 strings)."""
    if not value:
        raise JobError("a field separator may not be empty", ExitCode.USAGE)
    return value.encode("utf-8", "surrogateescape")


def _positive_int(properties: dict[str, str], name: str, default: int) -> int:
    raw = properties.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise JobError(f"-D {name}={raw}: not an integer", ExitCode.USAGE) from None
    if value < 0:
        raise JobError(f"-D {name}={raw}: must not be negative", ExitCode.USAGE)
    return value


def _boolean(properties: dict[str, str], name: str) -> bool:
    return properties.get(name, "false").strip().lower() == "true"


def _class(properties: dict[str, str], name: str, known: dict[str, str], default: str) -> str:
    value = properties.get(name, "").strip()
    if not value:
        return default
    if value not in known:
        raise JobError(
            f"-D {name}={value}: this class is not supported (supported: "
            f"{', '.join(sorted(set(known.values())))})",
            ExitCode.USAGE,
        )
    return known[value]


def normalize_properties(
    pairs: list[tuple[str, str]],
    warn: Callable[[str], object] = lambda message: sys.stderr.write(message + "\n"),
) -> dict[str, str]:
    """Properties by their current names; an unknown one warns (Hadoop ignores it), one we
    cannot honour is an error naming it. The last setting of a name wins."""
    properties: dict[str, str] = {}
    for name, value in pairs:
        name = name.strip()
        current = DEPRECATED.get(name, name)
        if current in UNSUPPORTED:
            raise JobError(
                f"-D {name}: not supported by this engine (it would change the job's answer)",
                ExitCode.USAGE,
            )
        if current not in SUPPORTED and not name.startswith(
            ("mapreduce.", "mapred.", "dfs.", "yarn.", "io.", "fs.", "hadoop.")
        ):
            warn(
                f"warning: unknown property {name} (passed to tasks' environment, "
                f"otherwise ignored)"
            )
        elif current not in SUPPORTED:
            warn(f"warning: property {name} has no effect here")
        properties[current] = value
    if "num.key.fields.for.partition" in properties:
        count = _positive_int(properties, "num.key.fields.for.partition", 0)
        properties.setdefault("mapreduce.partition.keypartitioner.options", f"-k1,{count}")
    return properties


def parse_property(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise JobError(f"-D {text}: expected NAME=VALUE", ExitCode.USAGE)
    return name.strip(), value


@dataclass(frozen=True)
class JobConf:
    """Everything a task needs to know about its job, from its properties and command lines."""

    mapper: str = DEFAULT_MAPPER
    reducer: str = DEFAULT_REDUCER
    combiner: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    cmdenv: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    bad_input_exit_code: int = ExitCode.BAD_INPUT
    map_stage_failed_exit_code: int = ExitCode.MAP_STAGE_FAILED
    keep_intermediate: bool = False  # map outputs stay after _SUCCESS (for inspection)

    def get(self, name: str, default: str = "") -> str:
        return self.properties.get(name, default)

    def task_exit_code(self, command_exit_code: int) -> int:
        """A user command's exit code as its task's. The codes by which the engine itself says
        "no space left" and "map stage failed" make a runner or a Job give up at once, so a
        command that happens to exit with one is a plain failure (its code stays in the
        message); the job's bad-input code passes through, as it must."""
        if command_exit_code != self.bad_input_exit_code and command_exit_code in (
            ExitCode.NO_SPACE,
            self.map_stage_failed_exit_code,
        ):
            return ExitCode.FAILED
        return command_exit_code

    def command(self, role: str) -> str:
        """The command line a task runs as its mapper, combiner or reducer ("" for no
        combiner). As in Hadoop, `-reducer aggregate` brings the aggregate combiner along."""
        if role == "combiner":
            text = self.combiner or (
                "aggregate" if self.reducer.strip().lower() == "aggregate" else ""
            )
            return streaming_command(text, role) if text else ""
        return streaming_command(self.mapper if role == "mapper" else self.reducer, role)

    @property
    def offset_keys(self) -> bool:
        """IdentityMapper over TextInputFormat: Hadoop's key is then each line's byte offset,
        a number (LongWritable): ordered and hashed as one."""
        return self.mapper.strip() == IDENTITY_MAPPER and self.input_format == TEXT_INPUT

    @property
    def map_output_separator(self) -> bytes:
        return separator(self.get("stream.map.output.field.separator", "\t"))

    @property
    def map_output_key_fields(self) -> int:
        return max(1, _positive_int(self.properties, "stream.num.map.output.key.fields", 1))

    @property
    def reduce_input_separator(self) -> bytes:
        return separator(self.get("stream.reduce.input.field.separator", "\t"))

    @property
    def reduce_output_separator(self) -> bytes:
        return separator(self.get("stream.reduce.output.field.separator", "\t"))

    @property
    def reduce_output_key_fields(self) -> int:
        return max(1, _positive_int(self.properties, "stream.num.reduce.output.key.fields", 1))

    @property
    def map_input_separator(self) -> bytes:
        return separator(self.get("stream.map.input.field.separator", "\t"))

    @property
    def key_value_input_separator(self) -> bytes:
        return separator(
            self.get("mapreduce.input.keyvaluelinerecordreader.key.value.separator", "\t")
        )

    @property
    def key_field_separator(self) -> bytes:
        return separator(self.get("mapreduce.map.output.key.field.separator", "\t"))

    @property
    def output_separator(self) -> bytes:
        return separator(self.get("mapreduce.output.textoutputformat.separator", "\t"))

    @property
    def input_format(self) -> str:
        return _class(self.properties, "mapred.input.format.class", INPUT_FORMATS, TEXT_INPUT)

    @property
    def output_format(self) -> str:
        return _class(self.properties, "mapred.output.format.class", OUTPUT_FORMATS, TEXT_OUTPUT)

    @property
    def partitioner(self) -> str:
        return _class(self.properties, "mapred.partitioner.class", PARTITIONERS, HASH_PARTITIONER)

    @property
    def partitioner_options(self) -> str:
        return self.get("mapreduce.partition.keypartitioner.options")

    @property
    def comparator_options(self) -> str:
        """The KeyFieldBasedComparator's options, or "" for the default byte order."""
        name = _class(self.properties, "mapreduce.job.output.key.comparator.class", COMPARATORS, "")
        return self.get("mapreduce.partition.keycomparator.options") if name else ""

    @property
    def compress_output(self) -> bool:
        if not _boolean(self.properties, "mapreduce.output.fileoutputformat.compress"):
            return False
        codec = self.get("mapreduce.output.fileoutputformat.compress.codec", GZIP_CODECS[1])
        if codec not in GZIP_CODECS:
            raise JobError(
                f"-D mapreduce.output.fileoutputformat.compress.codec={codec}: "
                f"only {GZIP_CODECS[0]} is supported",
                ExitCode.USAGE,
            )
        return True

    @property
    def output_suffix(self) -> str:
        """Hadoop names compressed parts by the codec's extension (.gz for both)."""
        if not self.compress_output:
            return ""
        codec = self.get("mapreduce.output.fileoutputformat.compress.codec", GZIP_CODECS[1])
        return ".gz" if codec == GZIP_CODECS[0] else ".deflate"

    @property
    def lines_per_map(self) -> int:
        return max(
            1, _positive_int(self.properties, "mapreduce.input.lineinputformat.linespermap", 1)
        )

    @property
    def task_timeout_seconds(self) -> float:
        """0 disables the timeout, as in Hadoop."""
        return _positive_int(self.properties, "mapreduce.task.timeout", TASK_TIMEOUT_MS) / 1000

    @property
    def max_attempts(self) -> int:
        return max(1, _positive_int(self.properties, "mapreduce.map.maxattempts", MAX_ATTEMPTS))

    def validate(self) -> None:
        """Evaluate every derived setting once, so a bad value fails before any task runs."""
        for name in (
            "map_output_separator",
            "map_output_key_fields",
            "reduce_input_separator",
            "reduce_output_separator",
            "reduce_output_key_fields",
            "map_input_separator",
            "key_value_input_separator",
            "key_field_separator",
            "output_separator",
            "input_format",
            "output_format",
            "partitioner",
            "comparator_options",
            "compress_output",
            "lines_per_map",
            "task_timeout_seconds",
            "max_attempts",
        ):
            getattr(self, name)
        from mapreduce import keys  # the option syntax lives with its users

        keys.parse_key_specs(self.partitioner_options)
        keys.parse_key_specs(self.comparator_options)
        for path in self.files:
            if not os.path.isfile(path):
                raise JobError(f"-file {path}: no such file", ExitCode.USAGE)
        names = [os.path.basename(p) for p in self.files]
        if len(set(names)) != len(names):
            raise JobError("-files: two files with one name", ExitCode.USAGE)
