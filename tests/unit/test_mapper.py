"""The mapper: pure functions, then the script as a process on hostile input."""
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

import mapper
from conftest import SCRIPTS, parse_counts, reference_counts

MAPPER = [sys.executable, os.path.join(SCRIPTS, "mapper.py")]


def run_map_stream(data, chunk_bytes=7, max_keys=mapper.DEFAULT_MAX_KEYS):
    pieces = [data[i:i + 5] for i in range(0, len(data), 5)]  # short reads, like a pipe
    out = []

    def read(n):
        return pieces.pop(0) if pieces else b""

    mapper.map_stream(read, out.append, max_keys=max_keys, chunk_bytes=chunk_bytes)
    return b"".join(out)


def test_cut_point_prefers_the_last_newline():
    assert mapper.cut_point(b"ab cd\nef gh") == 6


def test_cut_point_falls_back_to_ascii_whitespace_then_nothing():
    assert mapper.cut_point(b"ab cd\x1fef") == 6
    assert mapper.cut_point(b"abcdef") == 0


def test_count_words_uses_unicode_whitespace():
    counts = mapper.Counter()
    mapper.count_words("a\u3000b\u00a0a\x1cc\n".encode(), counts)
    assert counts == {"a": 2, "b": 1, "c": 1}


def test_format_counts_round_trips_bad_bytes():
    counts = mapper.Counter()
    mapper.count_words(b"caf\xe9 caf\xe9", counts)
    assert mapper.format_counts(counts) == b"caf\xe9\t2\n"


def test_flush_bound_splits_output_but_keeps_totals():
    data = b" ".join(b"w%d" % (i % 50) for i in range(1000))
    out = run_map_stream(data, chunk_bytes=16, max_keys=10)
    lines = out.splitlines()
    assert len(lines) > 50  # flushed several times
    totals = {}
    for line in lines:
        word, _, n = line.partition(b"\t")
        totals[word] = totals.get(word, 0) + int(n)
    assert totals == {b"w%d" % i: 20 for i in range(50)}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 40))
def test_any_bytes_any_chunking_give_the_reference_counts(data, chunk):
    assert parse_counts(run_map_stream(data, chunk_bytes=chunk)) == reference_counts(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.integers(1, 40))
def test_any_unicode_text_gives_the_reference_counts(text, chunk):
    data = text.encode("utf-8", "surrogatepass")
    assert parse_counts(run_map_stream(data, chunk_bytes=chunk)) == reference_counts(data)


def run_mapper(data, *args):
    return subprocess.run(MAPPER + list(args), input=data, capture_output=True, check=False)


@pytest.mark.parametrize("data", [
    b"",
    b"no trailing newline",
    b"crlf line\r\nsecond\r\n",
    b"nul\x00byte inside\x00 words\n",
    b"\xef\xbb\xbfbom first\n",
    b"\xff\xfe\x80 broken \xc3 utf8 \xe2\x82\n",
    os.urandom(200_000),
    b"x" * (6 << 20) + b" tail\n" + b"y " * (3 << 20),  # multi-megabyte word and line
])
def test_process_on_hostile_input(data):
    result = run_mapper(data)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert parse_counts(result.stdout) == reference_counts(data)


def test_broken_pipe_ends_quietly():
    data = b"".join(b"word%d\n" % i for i in range(300_000))
    proc = subprocess.Popen(MAPPER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-n", "1"], stdin=proc.stdout, stdout=subprocess.PIPE)
    proc.stdout.close()
    proc.stdin.write(data)
    proc.stdin.close()
    assert len(head.communicate()[0].splitlines()) == 1
    proc.wait()
    assert b"Traceback" not in proc.stderr.read()


def test_max_keys_option_is_validated():
    result = run_mapper(b"", "--max-keys", "0")
    assert result.returncode == 2 and b"--max-keys" in result.stderr
