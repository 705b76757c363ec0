"""The reducer/combiner: pure functions, then the script as a process."""
import os
import socket
import subprocess
import sys
import threading

from hypothesis import given, settings, strategies as st

import reducer
from conftest import SCRIPTS

REDUCER = [sys.executable, os.path.join(SCRIPTS, "reducer.py")]


def reduce(data, strict=False):
    out = []
    skipped = reducer.reduce_lines(data.splitlines(keepends=True), out.append, strict)
    return b"".join(out), skipped


def test_sums_adjacent_equal_keys():
    assert reduce(b"a\t1\na\t2\nb\t5\n")[0] == b"a\t3\nb\t5\n"


def test_key_is_everything_before_the_first_tab():
    assert reduce(b"a b\t1\na b\t2\n")[0] == b"a b\t3\n"


def test_crlf_and_missing_final_newline():
    assert reduce(b"a\t1\r\na\t2")[0] == b"a\t3\n"


def test_counts_follow_java_long_parse_long():
    """Signs are fine; spaces, `_` and values beyond a Java long are malformed records (never
    a crash), as Long.parseLong refuses them."""
    data = (b"a\t+3\na\t-1\na\t1_000\na\t 5\na\t5 \na\t9223372036854775807\n"
            b"a\t9223372036854775808\na\t-9223372036854775808\na\t99999999999999999999999\n")
    out, skipped = reduce(data)
    assert out == b"a\t%d\n" % (3 - 1 + 9223372036854775807 - 9223372036854775808)
    assert skipped == {"BAD_COUNT": 5}


def test_malformed_records_are_skipped_and_counted():
    out, skipped = reduce(b"a\t1\n\nnotab\na\tx\na\t2\n")
    assert out == b"a\t3\n"
    assert skipped == {"BLANK_LINE": 1, "NO_TAB": 1, "BAD_COUNT": 1}
    lines = reducer.counter_lines(skipped)
    assert "reporter:counter:wordcount,MALFORMED_NO_TAB,1\n" in lines


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=5).filter(
    lambda k: b"\t" not in k and b"\n" not in k and b"\r" not in k), st.integers(-5, 10**12))))
def test_sorted_records_reduce_to_their_sums(records):
    records.sort(key=lambda r: r[0])
    data = b"".join(b"%s\t%d\n" % r for r in records)
    expected = {}
    for key, n in records:
        expected[key] = expected.get(key, 0) + n
    out, skipped = reduce(data)
    got = {}
    for line in out.splitlines():
        key, _, n = line.rpartition(b"\t")
        assert key not in got
        got[key] = int(n)
    assert got == expected and not skipped


def reduce_by_parse_record(lines):
    """The reducer's contract spelled out slowly: parse_record on every line."""
    out, skipped, current, total = [], {}, None, 0
    for line in lines:
        try:
            key, count = reducer.parse_record(line)
        except ValueError as error:
            skipped[str(error)] = skipped.get(str(error), 0) + 1
            continue
        if key == current:
            total += count
        else:
            if current is not None:
                out.append(b"%s\t%d\n" % (current, total))
            current, total = key, count
    if current is not None:
        out.append(b"%s\t%d\n" % (current, total))
    return b"".join(out), skipped


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.binary(max_size=8),
    st.tuples(st.sampled_from([b"a", b"b", b"", b"a\r"]),
              st.sampled_from([b"1", b" 2 ", b"x", b"3\r", b"", b"1_0", b"-4", b"\x0b5"]))
    .map(lambda kv: kv[0] + b"\t" + kv[1]))
    .map(lambda line: line + b"\n")))
def test_fast_path_agrees_with_parse_record(lines):
    assert reduce(b"".join(lines)) == reduce_by_parse_record(
        b"".join(lines).splitlines(keepends=True))


def test_output_is_buffered_even_when_python_is_unbuffered():
    # The images set PYTHONUNBUFFERED=1; the reducer keeps its own buffer anyway. Its
    # stdout is a SOCK_SEQPACKET socket, which keeps each write() a separate message,
    # so the number of messages is the number of writes.
    data = b"".join(b"k%06d\t1\n" % i for i in range(20000))
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        proc = subprocess.Popen(REDUCER, stdin=subprocess.PIPE, stdout=theirs,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        theirs.close()
        feeder = threading.Thread(target=lambda: (proc.stdin.write(data), proc.stdin.close()))
        feeder.start()
        messages = []
        while True:
            message = ours.recv(1 << 20)
            if not message:
                break
            messages.append(message)
        feeder.join()
    assert proc.wait() == 0
    assert b"".join(messages) == data
    assert len(messages) < 20


def test_process_counters_on_stderr():
    result = subprocess.run(REDUCER, input=b"a\t1\nbad\n", capture_output=True)
    assert result.returncode == 0
    assert result.stdout == b"a\t1\n"
    assert result.stderr == b"reporter:counter:wordcount,MALFORMED_NO_TAB,1\n"


def test_strict_mode_names_the_first_bad_line():
    for args, env in (([ "--strict"], {}), ([], {"REDUCER_STRICT": "1"})):
        result = subprocess.run(REDUCER + args, input=b"a\t1\na\t2\nb\tnope\nc\n",
                                capture_output=True, env=dict(os.environ, **env))
        assert result.returncode == reducer.EXIT_BAD_INPUT
        assert b"line 3" in result.stderr and b"BAD_COUNT" in result.stderr
        assert b"Traceback" not in result.stderr


def test_empty_and_binary_input():
    assert subprocess.run(REDUCER, input=b"", capture_output=True).stdout == b""
    result = subprocess.run(REDUCER, input=os.urandom(100_000), capture_output=True)
    assert result.returncode == 0 and b"Traceback" not in result.stderr
