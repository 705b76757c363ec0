#!/usr/bin/env python3
"""Word count reducer (and combiner) in the Hadoop-streaming line protocol.

stdin: `key<TAB>count` lines sorted by key (equal keys adjacent). stdout: one `key<TAB>sum`
line per run of equal keys. Only the current key is held in memory, so memory does not
grow with the number of distinct keys.

Malformed records (blank lines, no tab, a count that is not an integer) are skipped and
counted on stderr as Hadoop counters (`reporter:counter:wordcount,MALFORMED_...,N`).
With --strict (or REDUCER_STRICT=1) the first one ends the run with exit code 65 and a
message naming the line.
"""
import os
import sys

EXIT_BAD_INPUT = 65  # EX_DATAERR
COUNTER_GROUP = "wordcount"


class BadRecord(Exception):
    def __init__(self, line_number, line, reason):
        super().__init__(f"line {line_number}: {reason}: {line[:200]!r}")
        self.reason = reason


LONG_MAX = (1 << 63) - 1  # a count is a Java long, as Hadoop's Long.parseLong reads it
# Digits only below this length: a plain count that surely fits a long (the fast path).
SAFE_DIGITS = 18


def parse_count(value):
    """Long.parseLong's rules: an optional sign, then ASCII digits, nothing else (no spaces,
    no `_`), within a long's range. ValueError otherwise."""
    digits = value[1:] if value[:1] in (b"+", b"-") else value
    if not digits.isdigit():
        raise ValueError(value)
    count = int(value)
    if not -LONG_MAX - 1 <= count <= LONG_MAX:
        raise ValueError(value)
    return count


def parse_record(line):
    """(key, count) of one line, or raise ValueError naming what is wrong."""
    line = line.rstrip(b"\r\n")
    if not line:
        raise ValueError("BLANK_LINE")
    key, tab, value = line.partition(b"\t")
    if not tab:
        raise ValueError("NO_TAB")
    try:
        return key, parse_count(value)
    except ValueError:
        raise ValueError("BAD_COUNT") from None


def reduce_lines(lines, write, strict=False):
    """Sum the counts of adjacent equal keys; return the skipped-record counts by reason."""
    skipped = {}
    current, total = None, 0
    for number, line in enumerate(lines, 1):
        # Fast path, inlined (half the reducer's time was the call): a value of a few plain
        # digits and a newline. Anything else (signs, huge numbers, no tab, bad text) goes
        # through parse_record, which applies Long.parseLong's rules and names the reason.
        key, _, value = line.partition(b"\t")
        digits = value[:-1] if value[-1:] == b"\n" else value
        try:
            if not (digits.isdigit() and len(digits) <= SAFE_DIGITS):
                raise ValueError
            count = int(digits)
        except ValueError:
            try:
                key, count = parse_record(line)
            except ValueError as error:
                reason = str(error)
                if strict:
                    raise BadRecord(number, line, reason) from None
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
        if key == current:
            total += count
        else:
            if current is not None:
                write(b"%s\t%d\n" % (current, total))
            current, total = key, count
    if current is not None:
        write(b"%s\t%d\n" % (current, total))
    return skipped


def counter_lines(skipped):
    return "".join(
        f"reporter:counter:{COUNTER_GROUP},MALFORMED_{reason},{n}\n"
        for reason, n in sorted(skipped.items()))


def strict_from_env():
    return os.environ.get("REDUCER_STRICT", "") not in ("", "0")


def parse_args(argv):
    """Whether to be strict. Without options (a pipeline, a task) argparse is not imported:
    it is most of our start-up time, paid once per reduce task."""
    if not (sys.argv[1:] if argv is None else argv):
        return strict_from_env()
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--strict", action="store_true",
        default=strict_from_env(),
        help="exit 65 on the first malformed record (env REDUCER_STRICT=1)")
    return parser.parse_args(argv).strict


def main(argv=None):
    strict = parse_args(argv)
    # Our own buffer: with PYTHONUNBUFFERED=1 (set in the images, so logs show at once)
    # sys.stdout.buffer would make every key a system call.
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)
    try:
        try:
            skipped = reduce_lines(sys.stdin.buffer, out.write, strict)
        finally:
            out.flush()
    except BadRecord as error:
        sys.stderr.write(f"reducer: malformed input, {error}\n")
        sys.stderr.write(counter_lines({error.reason: 1}))
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return downstream_closed()
    sys.stderr.write(counter_lines(skipped))
    return 0


def downstream_closed():
    """A closed downstream pipe ends us quietly with the status `cat` gets from SIGPIPE (the
    signal module is not imported for it: its import costs a task's start-up more)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
    return 128 + 13


if __name__ == "__main__":
    sys.exit(main())
