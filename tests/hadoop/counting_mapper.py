#!/usr/bin/env python3
"""A user's word-count mapper that reports through Hadoop-streaming counters.

It is written the way people write streaming scripts (line by line, one `word<TAB>1` per
word) and reports, on stderr, in the group "User Words": LINES, WORDS, BLANK_LINES (lines
with no word) and NON_ASCII_WORDS. It reports in installments every 1000 lines, as
long-running scripts do, so that the framework has to sum several lines per task; and it
writes `reporter:status:` lines, which a framework must accept and not count.
"""
import sys

GROUP = "User Words"
EVERY = 1000


def report(pending):
    for name in sorted(pending):
        if pending[name]:
            sys.stderr.write(f"reporter:counter:{GROUP},{name},{pending[name]}\n")
            pending[name] = 0
    sys.stderr.flush()


def main():
    pending = {"LINES": 0, "WORDS": 0, "BLANK_LINES": 0, "NON_ASCII_WORDS": 0}
    out = sys.stdout.buffer
    for number, line in enumerate(sys.stdin.buffer, 1):
        words = line.decode("utf-8", "surrogateescape").split()
        pending["LINES"] += 1
        pending["WORDS"] += len(words)
        pending["BLANK_LINES"] += not words
        for word in words:
            pending["NON_ASCII_WORDS"] += not word.isascii()
            out.write(word.encode("utf-8", "surrogateescape") + b"\t1\n")
        if number % EVERY == 0:
            report(pending)
            sys.stderr.write(f"reporter:status:{number} lines read\n")
    report(pending)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
