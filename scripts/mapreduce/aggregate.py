"""Hadoop's `aggregate` package as a streaming reducer and combiner, standard library only.

  python3 -S -m mapreduce.aggregate reduce    < sorted `Type:id<TAB>value` lines
  python3 -S -m mapreduce.aggregate combine   < the same, one map task's sorted partition

Hadoop Streaming's `-reducer aggregate` runs ValueAggregatorReducer and, always with it,
ValueAggregatorCombiner. A map output key is `Type:id` (Type matched case-insensitively:
LongValueSum, LongValueMax, LongValueMin, DoubleValueSum, StringValueMax, StringValueMin,
UniqValueCount, ValueHistogram); records with the same key bytes are one group, in input order.
`reduce` writes `id<TAB>report` per group, `combine` writes `Type:id<TAB>partial` lines that a
later `reduce` accepts. Texts are what Hadoop's Text.toString() gives (UTF-8, invalid bytes
replaced by U+FFFD), strings compare as Java's String.compareTo does (UTF-16 code units), numbers
parse and print as Java's Long and Double do. A value Hadoop cannot parse, an unknown type or a
key without `:` fails the task (exit 1), as it fails Hadoop's.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Iterator

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import BinaryIO

TYPE_SEPARATOR = ":"
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
USAGE = "usage: python3 -m mapreduce.aggregate {reduce|combine}"


class AggregateError(ValueError):
    """A record Hadoop's aggregate classes would fail on."""


# ---- Java's text and number rules ---------------------------------------------------------


def java_text(data: bytes) -> str:
    """Text.toString(): UTF-8 with each malformed sequence replaced by U+FFFD."""
    return data.decode("utf-8", "replace")


def utf16_order(text: str) -> bytes:
    """A sort key that orders strings as Java's String.compareTo (UTF-16 code units)."""
    return text.encode("utf-16-be", "surrogatepass")


def wrap_long(value: int) -> int:
    """Java long arithmetic wraps around at 64 bits."""
    return (value - LONG_MIN) % (1 << 64) + LONG_MIN


_LONG = re.compile(r"[+-]?\d+")  # \d: Unicode decimal digits, as Character.digit accepts


def parse_long(text: str) -> int:
    """Long.parseLong: an optional sign and decimal digits, within 64 bits."""
    if not _LONG.fullmatch(text):
        raise AggregateError(f'For input string: "{text}"')
    value = int(text)
    if not LONG_MIN <= value <= LONG_MAX:
        raise AggregateError(f'For input string: "{text}"')
    return value


_DECIMAL = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"[fFdD]?)"
)
_HEX = re.compile(
    r"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
    r"[pP][+-]?[0-9]+)[fFdD]?"
)


def parse_double(text: str) -> float:
    """Double.parseDouble: Java's grammar (trimmed, `NaN`, `Infinity`, a type suffix, hex)."""
    trimmed = text.strip("".join(map(chr, range(33))))  # String.trim(): every char <= U+0020
    hex_match = _HEX.fullmatch(trimmed)
    if hex_match:
        value = float.fromhex("0x" + hex_match.group(2))
        return -value if hex_match.group(1) == "-" else value
    if not _DECIMAL.fullmatch(trimmed):
        raise AggregateError(f'For input string: "{text}"')
    body = trimmed.rstrip("fFdD")
    if body.lstrip("+-") == "Infinity":
        return -math.inf if body.startswith("-") else math.inf
    return float(body)  # NaN keeps its name in Python's float() too


def _shortest_digits(value: float) -> tuple[str, int]:
    """(digits, point) with value = 0.digits * 10**point, digits the shortest round-trip ones."""
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(raw) - len(digits))
    return digits.rstrip("0"), point


def java_double(value: float) -> str:
    """Double.toString: plain for 1e-3 <= |x| < 1e7, else `d.dddE<n>`; one decimal at least.

    The digits are the shortest that read back as the same double, which is what Java 19+
    prints. Java 8-17 print a few more digits for some values of magnitude 1e17..1e29
    (2e23 as 1.9999999999999998E23); checked against Java 17 on 5,500 values, those are the
    only differences, besides Double.MIN_VALUE, which every Java prints as 4.9E-324.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0.0"
    if abs(value) == 5e-324:
        return sign + "4.9E-324"
    digits, point = _shortest_digits(abs(value))
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


# ---- the aggregators (Hadoop's org.apache.hadoop.mapreduce.lib.aggregate) -------------------


class Aggregator:
    def add(self, value: str) -> None:
        raise NotImplementedError

    def report(self) -> str:
        raise NotImplementedError

    def combiner_output(self) -> list[str]:
        return [self.report()]


class LongValueSum(Aggregator):
    def __init__(self) -> None:
        self.total = 0

    def add(self, value: str) -> None:
        self.total = wrap_long(self.total + parse_long(value))

    def report(self) -> str:
        return str(self.total)


class LongValueMax(Aggregator):
    def __init__(self) -> None:
        self.best = LONG_MIN

    def add(self, value: str) -> None:
        self.best = max(self.best, parse_long(value))

    def report(self) -> str:
        return str(self.best)


class LongValueMin(Aggregator):
    def __init__(self) -> None:
        self.best = LONG_MAX

    def add(self, value: str) -> None:
        self.best = min(self.best, parse_long(value))

    def report(self) -> str:
        return str(self.best)


class DoubleValueSum(Aggregator):
    def __init__(self) -> None:
        self.total = 0.0

    def add(self, value: str) -> None:
        self.total += parse_double(value)

    def report(self) -> str:
        return java_double(self.total)


class StringValueMax(Aggregator):
    def __init__(self) -> None:
        self.best: str | None = None

    def add(self, value: str) -> None:
        if self.best is None or utf16_order(self.best) < utf16_order(value):
            self.best = value

    def report(self) -> str:
        return str(self.best)


class StringValueMin(Aggregator):
    def __init__(self) -> None:
        self.best: str | None = None

    def add(self, value: str) -> None:
        if self.best is None or utf16_order(self.best) > utf16_order(value):
            self.best = value

    def report(self) -> str:
        return str(self.best)


class UniqValueCount(Aggregator):
    def __init__(self) -> None:
        self.items: set[str] = set()

    def add(self, value: str) -> None:
        self.items.add(value)

    def report(self) -> str:
        return str(len(self.items))

    def combiner_output(self) -> list[str]:
        return sorted(self.items, key=utf16_order)  # Hadoop's TreeMap order


class ValueHistogram(Aggregator):
    """Counts per value; `value<TAB>N` adds N (split at the last tab), a bare value adds 1."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, value: str) -> None:
        item, tab, count = value.rpartition("\t")
        if not tab:
            item, count = value, "1"
        self.counts[item] = wrap_long(self.counts.get(item, 0) + parse_long(count))

    def report(self) -> str:
        counts = sorted(self.counts.values())
        if not counts:
            return "0"
        average = float(wrap_long(sum(counts))) / len(counts)
        spread = 0.0
        for count in counts:  # summed in ascending order, as Hadoop does
            spread += (count - average) * (count - average)
        deviation = math.sqrt(spread / len(counts))
        fields = [len(counts), counts[0], counts[len(counts) // 2], counts[-1]]
        return "\t".join([*map(str, fields), java_double(average), java_double(deviation)])

    def combiner_output(self) -> list[str]:
        return [f"{item}\t{self.counts[item]}" for item in sorted(self.counts, key=utf16_order)]


AGGREGATORS = {
    cls.__name__.lower(): cls
    for cls in (
        LongValueSum,
        LongValueMax,
        LongValueMin,
        DoubleValueSum,
        StringValueMax,
        StringValueMin,
        UniqValueCount,
        ValueHistogram,
    )
}


def make_aggregator(type_name: str) -> Aggregator:
    """The aggregator a key's type names (case-insensitive, as Hadoop matches it)."""
    cls = AGGREGATORS.get(type_name.lower())
    if cls is None:
        raise AggregateError(
            f"unknown aggregator type {type_name!r} (Hadoop knows "
            + ", ".join(c.__name__ for c in AGGREGATORS.values())
            + ")"
        )
    return cls()


def split_type(key: str) -> tuple[str, str]:
    """`Type:id` -> (Type, id), split at the first `:`."""
    type_name, separator, ident = key.partition(TYPE_SEPARATOR)
    if not separator:
        raise AggregateError(f"key {key!r} has no `Type:` prefix")
    return type_name, ident


# ---- groups of records -> output lines -----------------------------------------------------


def split_record(line: bytes) -> tuple[bytes, bytes]:
    """key<TAB>value (a line without a tab: key = line, empty value)."""
    key, _, value = line.partition(b"\t")
    return key, value


def groups(records: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, list[bytes]]]:
    """Consecutive records with the same key bytes, as (key, values)."""
    current: bytes | None = None
    values: list[bytes] = []
    for key, value in records:
        if key != current and current is not None:
            yield current, values
            values = []
        current = key
        values.append(value)
    if current is not None:
        yield current, values


def aggregate(key: bytes, values: Iterable[bytes]) -> Aggregator:
    aggregator = make_aggregator(split_type(java_text(key))[0])
    for value in values:
        aggregator.add(java_text(value))
    return aggregator


def reduce_group(key: bytes, values: Iterable[bytes]) -> bytes:
    """ValueAggregatorReducer: `id<TAB>report` for one key's values."""
    report = aggregate(key, values).report()
    ident = split_type(java_text(key))[1]
    return f"{ident}\t{report}\n".encode()


def combine_group(key: bytes, values: Iterable[bytes]) -> bytes:
    """ValueAggregatorCombiner: the key's bytes as they came, with each partial value."""
    partials = aggregate(key, values).combiner_output()
    return b"".join(key + b"\t" + p.encode("utf-8") + b"\n" for p in partials)


def run(*, mode: str, records: Iterable[tuple[bytes, bytes]], out: BinaryIO) -> None:
    step = reduce_group if mode == "reduce" else combine_group
    for key, values in groups(records):
        out.write(step(key, values))


def read_records(stream: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    for line in stream:
        yield split_record(line[:-1] if line.endswith(b"\n") else line)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in ("reduce", "combine"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        run(mode=args[0], records=read_records(sys.stdin.buffer), out=sys.stdout.buffer)
    except AggregateError as error:
        print(f"aggregate {args[0]}: {error}", file=sys.stderr)
        return 1
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
