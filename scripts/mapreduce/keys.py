"""Keys as Hadoop Streaming sees them: the key/value split of a line, the partition of a key
(HashPartitioner, KeyFieldBasedPartitioner) and the order of keys (byte order, or the
KeyFieldBasedComparator's `-k`, `-n`, `-r` options).

Sorting is GNU sort's job (bounded memory, spills, merges). Every record handed to it is one
line `PPPPP<TAB>SORTKEY<TAB>REST`: a fixed-width partition number, then a sort key whose plain
byte order is the job's key order, so that `sort -t<TAB> -k1,2` orders by (partition, key).
For the common job (tab separator, one key field, byte order) SORTKEY is the key itself and
REST the value; otherwise SORTKEY is an order-preserving encoding of the key in hex and REST
the whole reducer input line.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapreduce.settings import KEY_FIELD_PARTITIONER, ExitCode, JobConf, JobError

TYPE_CHECKING = False  # typing costs start-up time; the names are for the checkers only
if TYPE_CHECKING:
    from typing import Callable


def find_nth(data: bytes, sep: bytes, n: int) -> int:
    """Offset of the n-th (1-based) occurrence of `sep` in `data`, or -1."""
    at = -len(sep)
    for _ in range(n):
        at = data.find(sep, at + len(sep))
        if at < 0:
            return -1
    return at


def split_key_value(line: bytes, sep: bytes, key_fields: int) -> tuple[bytes, bytes]:
    """Hadoop's split of an output line: the key is everything before the `key_fields`-th
    separator; a line with fewer separators is all key and an empty value."""
    if key_fields == 1:
        at = line.find(sep)
    else:
        at = find_nth(line, sep, key_fields)
    if at < 0:
        return line, b""
    return line[:at], line[at + len(sep) :]


# --------------------------------------------------------------------------- partitioners


def _to_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


_SIGNED = [b - 256 if b > 127 else b for b in range(256)]

# Hadoop's hash of n bytes is a polynomial in 31: start*31**n + the sum of signed(byte i) *
# 31**(n-1-i), mod 2**32. int(digits, 31) evaluates such a polynomial in C, one call instead of
# a Python step per byte, but its digits must be 0..30: each signed byte is shifted by _SHIFT
# into 27..282 and written as two digits, 31*high + low (bytes.translate). int() of the low
# digits plus 31 times int() of the high ones, less the shift's share, is the hash.
_SHIFT = 155
# Longer data goes in pieces: int() of a long digit string is quadratic (and Python caps it).
_PIECE = 256
_DIGITS = b"0123456789abcdefghijklmnopqrstu"
# Made on first use: the low and the high digit of every byte, and for n up to _PIECE both 31**n
# and the start of 1 less the shift's share, 31**n - _SHIFT * (1 + 31 + ... + 31**(n-1)), mod
# 2**32.
_TABLES: list[tuple[bytes, bytes, list[int], list[int]]] = []


def _hash_tables() -> tuple[bytes, bytes, list[int], list[int]]:
    if not _TABLES:
        low = bytes(_DIGITS[(s + _SHIFT) % 31] for s in _SIGNED)
        high = bytes(_DIGITS[(s + _SHIFT) // 31] for s in _SIGNED)
        powers = [1]
        shifts = [0]
        for _ in range(_PIECE):
            powers.append(powers[-1] * 31 & 0xFFFFFFFF)
            shifts.append((shifts[-1] * 31 + _SHIFT) & 0xFFFFFFFF)
        starts = [(power - shift) & 0xFFFFFFFF for power, shift in zip(powers, shifts)]
        _TABLES.append((low, high, powers, starts))
    return _TABLES[0]


def java_bytes_hash(data: bytes, start_hash: int = 1) -> int:
    """Hadoop's WritableComparator.hashBytes (Text.hashCode): 31*h + signed byte, from 1."""
    low, high, powers, starts = _TABLES[0] if _TABLES else _hash_tables()
    pieces = (
        [data]
        if len(data) <= _PIECE
        else [data[at : at + _PIECE] for at in range(0, len(data), _PIECE)]
    )
    h = start_hash
    for piece in pieces:
        n = len(piece)
        if n:  # int() takes no empty digit string
            # starts[n] is powers[n] less the shift: h * powers[n] is added as (h - 1) * powers[n]
            poly = int(piece.translate(low), 31) + 31 * int(piece.translate(high), 31)
            h = ((h - 1) * powers[n] + starts[n] + poly) & 0xFFFFFFFF
    return _to_int32(h)


def _hash_partitioner(reducers: int) -> Callable[[bytes], int]:
    """HashPartitioner: java_bytes_hash and the partition in one call, for the common key; the
    low 31 bits of the unsigned hash are those of Java's signed one."""
    low, high, _, starts = _TABLES[0] if _TABLES else _hash_tables()

    def partition(key: bytes) -> int:
        n = len(key)
        if 0 < n <= _PIECE:
            h = int(key.translate(low), 31) + 31 * int(key.translate(high), 31) + starts[n]
        else:
            h = java_bytes_hash(key)
        return (h & 0x7FFFFFFF) % reducers

    return partition


def java_string_hash(data: bytes) -> int:
    """String.hashCode of the UTF-8 decoding of `data` (bad bytes become U+FFFD, as Java's
    decoder does), over UTF-16 code units."""
    text = data.decode("utf-8", "replace").encode("utf-16-be")
    h = 0
    for i in range(0, len(text), 2):
        h = (31 * h + (text[i] << 8 | text[i + 1])) & 0xFFFFFFFF
    return _to_int32(h)


def _long_hash(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return _to_int32(value ^ (value >> 32))


def hadoop_partition(hash_value: int, reducers: int) -> int:
    return (hash_value & 0x7FFFFFFF) % reducers


@dataclass(frozen=True)
class KeySpec:
    """One `-k pos1[,pos2]` of Hadoop's key field options (fields and chars 1-based)."""

    begin_field: int = 1
    begin_char: int = 1
    end_field: int = 0  # 0: to the end of the key
    end_char: int = 0  # 0: to the end of the field
    numeric: bool = False
    reverse: bool = False


def _parse_position(text: str, option: str) -> tuple[int, int, str]:
    """`f[.c][opts]` -> (f, c or -1, opts)."""
    digits = text
    flags = ""
    while digits and digits[-1] in "nr":
        flags = digits[-1] + flags
        digits = digits[:-1]
    field_text, dot, char_text = digits.partition(".")
    try:
        return int(field_text), (int(char_text) if dot else -1), flags
    except ValueError:
        raise JobError(
            f"bad key field option {option!r}: expected -k pos1[,pos2] where pos is f[.c][nr]",
            ExitCode.USAGE,
        ) from None


def parse_key_specs(options: str) -> tuple[KeySpec, ...]:
    """Hadoop's KeyFieldHelper.parseOption: `-k1,2 -k3nr -n -r`. Global -n/-r apply to the
    specs that have no flags of their own; no -k at all with a global flag is one spec over
    the whole key."""
    tokens = options.split()
    specs: list[tuple[int, int, int, int, str]] = []
    numeric = reverse = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in ("-n", "-r", "-nr", "-rn"):
            numeric = numeric or "n" in token
            reverse = reverse or "r" in token
        elif token.startswith("-k"):
            body = token[2:]
            if not body and i + 1 < len(tokens):
                i += 1
                body = tokens[i]
            if body:
                first, _, second = body.partition(",")
                f1, c1, flags1 = _parse_position(first, token)
                f2, c2, flags2 = _parse_position(second, token) if second else (0, 0, "")
                specs.append((f1, max(c1, 1) if c1 >= 0 else 1, f2, max(c2, 0), flags1 + flags2))
        i += 1
    if not specs:
        return (KeySpec(numeric=numeric, reverse=reverse),) if (numeric or reverse) else ()
    out = []
    for f1, c1, f2, c2, flags in specs:
        own_n, own_r = "n" in flags, "r" in flags
        if not (own_n or own_r):
            own_n, own_r = numeric, reverse
        out.append(KeySpec(f1, c1, f2, c2, own_n, own_r))
    return tuple(out)


def field_lengths(key: bytes, sep: bytes) -> list[int]:
    """Lengths of the key's fields, as KeyFieldHelper.getWordLengths counts them."""
    lengths = []
    start = 0
    while True:
        at = key.find(sep, start)
        if at < 0:
            break
        lengths.append(at - start)
        start = at + 1  # Hadoop steps one byte past a separator, whatever its length
    if start != len(key):
        lengths.append(len(key) - start)
    return lengths


def key_range(
    key: bytes, lengths: list[int], sep_len: int, spec: KeySpec
) -> tuple[int, int] | None:
    """[start, end] (inclusive) of `spec` in `key`, or None when the key lacks the field."""
    if len(lengths) < spec.begin_field:
        return None
    position = sum(lengths[i] + sep_len for i in range(spec.begin_field - 1))
    if position + spec.begin_char > len(key):
        return None
    start = position + spec.begin_char - 1
    end = len(key) - 1
    if spec.end_field and len(lengths) >= spec.end_field:
        position = sum(lengths[i] + sep_len for i in range(spec.end_field - 1))
        if spec.end_char == 0:
            position += lengths[spec.end_field - 1]
        if position + spec.end_char <= len(key):
            end = position + spec.end_char - 1
    return start, end


def make_partitioner(conf: JobConf, reducers: int) -> Callable[[bytes], int]:
    """key -> partition, exactly as the job's Hadoop partitioner computes it."""
    if reducers <= 1:
        return lambda key: 0
    if conf.offset_keys:  # LongWritable.hashCode: the value folded to 32 bits
        return lambda key: hadoop_partition(_long_hash(int(key)), reducers)
    if conf.partitioner != KEY_FIELD_PARTITIONER:
        return _hash_partitioner(reducers)
    specs = parse_key_specs(conf.partitioner_options)
    if not specs:
        return lambda key: hadoop_partition(java_string_hash(key), reducers)
    sep = conf.key_field_separator

    def key_field_partition(key: bytes) -> int:
        # Hadoop hashes the key after a round trip through a Java String.
        data = key.decode("utf-8", "replace").encode("utf-8")
        if not data:
            return 0
        lengths = field_lengths(data, sep)
        h = 0
        for spec in specs:
            span = key_range(data, lengths, len(sep), spec)
            if span is not None:
                h = java_bytes_hash(data[span[0] : span[1] + 1], h)
        return hadoop_partition(h, reducers)

    return key_field_partition


# --------------------------------------------------------------------------- key order


def _escape_bytes(data: bytes) -> bytes:
    """Order-preserving, prefix-free: 0x00 -> 0x00 0x01, terminated by 0x00 0x00."""
    return data.replace(b"\x00", b"\x00\x01") + b"\x00\x00"


def _leading_number(data: bytes) -> tuple[bool, bytes, bytes]:
    """(negative, integer digits without leading zeros, fraction digits without trailing
    zeros) of the number at the start of `data`; what is not a number counts as 0."""
    negative = data.startswith(b"-")
    i = 1 if negative else 0
    j = i
    while j < len(data) and 48 <= data[j] <= 57:
        j += 1
    integer = data[i:j].lstrip(b"0")
    fraction = b""
    if j < len(data) and data[j] == 46:  # '.'
        k = j + 1
        while k < len(data) and 48 <= data[k] <= 57:
            k += 1
        fraction = data[j + 1 : k].rstrip(b"0")
    return negative, integer, fraction


def _encode_number(data: bytes) -> bytes:
    negative, integer, fraction = _leading_number(data)
    if not integer and not fraction:
        return b"\x02"  # zero, -0 and 0.0 alike
    magnitude = len(integer).to_bytes(4, "big") + integer + fraction + b"\x00"
    if negative:
        return b"\x01" + bytes(255 - b for b in magnitude)
    return b"\x03" + magnitude


def _invert(data: bytes) -> bytes:
    return bytes(255 - b for b in data)


def make_sort_key(conf: JobConf) -> Callable[[bytes], bytes]:
    """key -> bytes whose byte order is the job's key order (then hex: safe in a line)."""
    specs = parse_key_specs("-n" if conf.offset_keys else conf.comparator_options)
    if not specs:
        return lambda key: key.hex().encode()
    sep = conf.key_field_separator

    def encode(key: bytes) -> bytes:
        lengths = field_lengths(key, sep)
        parts = []
        for spec in specs:
            span = key_range(key, lengths, len(sep), spec)
            if span is None:
                part = b"\x00"  # a missing field sorts first (last when reversed)
            else:
                value = key[span[0] : span[1] + 1]
                part = b"\x01" + (_encode_number(value) if spec.numeric else _escape_bytes(value))
            parts.append(_invert(part) if spec.reverse else part)
        return b"".join(parts).hex().encode()

    return encode


# --------------------------------------------------------------------------- sort records


@dataclass(frozen=True)
class RecordShape:
    """How map output lines become sort records, and sort records reducer input lines."""

    raw: bool  # SORTKEY is the key itself and REST the value
    strip_fields: int  # `cut -f N-` gives the reducer's input line

    @staticmethod
    def of(conf: JobConf) -> RecordShape:
        raw = (
            conf.map_output_separator == b"\t"
            and conf.map_output_key_fields == 1
            and conf.reduce_input_separator == b"\t"
            and not conf.comparator_options
            and not conf.offset_keys
        )
        return RecordShape(raw=raw, strip_fields=2 if raw else 3)


def partition_width(reducers: int) -> int:
    return max(5, len(str(max(reducers - 1, 0))))


def make_record_writer(
    conf: JobConf,
    reducers: int,
    write: Callable[[bytes], object],
    counts: list[int],
    sizes: list[int],
    split_sep: bytes | None = None,
    key_fields: int | None = None,
) -> Callable[[list[bytes]], None]:
    """lines (without their newlines) -> sort records written with `write`, one write per
    batch; counts and sizes (per partition) are updated so the map output's index needs no
    second pass. `split_sep`/`key_fields` default to the map output's (a combiner's output is
    split as reducer output is)."""
    shape = RecordShape.of(conf)
    sep = conf.map_output_separator if split_sep is None else split_sep
    fields = conf.map_output_key_fields if key_fields is None else key_fields
    partition_of = make_partitioner(conf, reducers)
    single = reducers <= 1
    width = partition_width(reducers)
    prefixes = [b"%0*d\t" % (width, p) for p in range(max(reducers, 1))]
    reduce_sep = conf.reduce_input_separator
    sort_key = make_sort_key(conf)

    if shape.raw and sep == b"\t" and fields == 1:
        # HashPartitioner, the common job, is _hash_partitioner's expression written out in
        # the loop: the call per key would be a fifth of its cost.
        hashed = not single and conf.partitioner != KEY_FIELD_PARTITIONER
        low, high, _, starts = _TABLES[0] if _TABLES else _hash_tables()

        def raw_records(lines: list[bytes]) -> None:
            out: list[bytes] = []
            append = out.append
            for line in lines:
                key, _, value = line.partition(b"\t")
                n = len(key)
                if hashed and 0 < n <= _PIECE:
                    h = int(key.translate(low), 31) + 31 * int(key.translate(high), 31) + starts[n]
                    p = (h & 0x7FFFFFFF) % reducers
                else:
                    p = 0 if single else partition_of(key)
                record = b"%s%s\t%s\n" % (prefixes[p], key, value)
                append(record)
                counts[p] += 1
                sizes[p] += len(record)
            write(b"".join(out))

        return raw_records

    def encoded_records(lines: list[bytes]) -> None:
        out = []
        for line in lines:
            key, value = split_key_value(line, sep, fields)
            p = 0 if single else partition_of(key)
            rest = key + reduce_sep + value if shape.strip_fields == 3 else value
            head = key if shape.raw else sort_key(key)
            record = b"%s%s\t%s\n" % (prefixes[p], head, rest)
            out.append(record)
            counts[p] += 1
            sizes[p] += len(record)
        write(b"".join(out))

    return encoded_records
