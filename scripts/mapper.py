#!/usr/bin/env python3
"""Word count mapper in the Hadoop-streaming line protocol.

stdin: any bytes. stdout: one `word<TAB>count` line per distinct word.

A word is what Python's str.split() separates (runs of Unicode whitespace) in the UTF-8
reading of the input; bytes that are not UTF-8 stay inside their word and are written back
unchanged (surrogateescape). Counts are combined in memory, and the table is written out
and cleared whenever it holds more than --max-keys words, so memory stays bounded whatever
the vocabulary. Words are combined across the whole input until then, which also keeps
the output correct after a locale-aware `sort` (every word appears once per flush).
"""
import os
import sys
from collections import Counter

CHUNK_BYTES = 1 << 22
DEFAULT_MAX_KEYS = 500_000
# ASCII bytes that str.split() treats as whitespace: safe places to cut a chunk, since they
# are never part of a multi-byte UTF-8 sequence.
ASCII_WHITESPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def cut_point(data):
    """Length of the longest prefix of `data` that ends on a word boundary (0 if none)."""
    cut = data.rfind(b"\n") + 1
    if cut:
        return cut
    return max(data.rfind(bytes([b])) for b in ASCII_WHITESPACE) + 1


def count_words(data, counts):
    """Add the words of the byte string `data` (cut on a word boundary) to `counts`."""
    counts.update(data.decode("utf-8", "surrogateescape").split())


def format_counts(counts):
    """The `word<TAB>count` lines for a table of counts, as bytes."""
    if not counts:
        return b""
    text = "\n".join([f"{word}\t{n}" for word, n in counts.items()])
    return text.encode("utf-8", "surrogateescape") + b"\n"


def strip_bom(data):
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def map_stream(read, write, max_keys=DEFAULT_MAX_KEYS, chunk_bytes=CHUNK_BYTES):
    """Count the words of a byte stream given by `read(n)`, writing lines with `write`."""
    counts = Counter()
    pending = strip_bom(read(chunk_bytes))
    while pending:
        more = read(chunk_bytes)
        if more:
            cut = cut_point(pending)
            data, pending = pending[:cut], pending[cut:] + more
        else:
            data, pending = pending, b""
        if data:
            count_words(data, counts)
            if len(counts) > max_keys:
                write(format_counts(counts))
                counts.clear()
    write(format_counts(counts))


def parse_args(argv):
    """The --max-keys value. Without options (a pipeline, a task) argparse is not imported: it
    is most of our start-up time, paid once per map task."""
    if not (sys.argv[1:] if argv is None else argv):
        try:
            max_keys = int(os.environ.get("MAPPER_MAX_KEYS", DEFAULT_MAX_KEYS))
        except ValueError:
            max_keys = 0
        if max_keys >= 1:
            return max_keys
    import argparse  # options to read, or a bad value to report

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-keys", type=int,
        default=os.environ.get("MAPPER_MAX_KEYS", str(DEFAULT_MAX_KEYS)),
        help="flush the in-memory table past this many distinct words "
             "(env MAPPER_MAX_KEYS, default %(default)s)")
    args = parser.parse_args(argv)
    if args.max_keys < 1:
        parser.error("--max-keys must be at least 1")
    return args.max_keys


def main(argv=None):
    max_keys = parse_args(argv)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        map_stream(stdin.read, stdout.write, max_keys)
        stdout.flush()
    except BrokenPipeError:
        return downstream_closed()
    return 0


def downstream_closed():
    """A closed downstream pipe ends us quietly with the status `cat` gets from SIGPIPE (the
    signal module is not imported for it: its import costs a task's start-up more)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
    return 128 + 13


if __name__ == "__main__":
    sys.exit(main())
