"""Hadoop's `aggregate` reducer and combiner (mapreduce.aggregate), as functions and as the
streaming command `python3 -S -m mapreduce.aggregate reduce|combine`.

The expected texts are what Apache Hadoop Streaming 3.4.2 wrote for the same inputs (local
mode, Java 17: ValueAggregatorReducer/Combiner, Double.toString, Long.parseLong); the
tests/hadoop suite checks the same reducer against Hadoop itself.
"""
import itertools
import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SCRIPTS
from mapreduce import aggregate as ag

ENV = dict(os.environ, PYTHONPATH=SCRIPTS)

# Map output (already sorted by key bytes) and Hadoop's output for it, byte for byte.
SORTED_INPUT = b"".join(line + b"\n" for line in [
    b"DoubleValueSum:big\t1e10", b"DoubleValueSum:d\t1.5", b"DoubleValueSum:d\t2",
    b"DoubleValueSum:int\t3", b"DoubleValueSum:neg\t-2.5", b"DoubleValueSum:third\t0.1",
    b"DoubleValueSum:third\t0.2", b"DoubleValueSum:tiny\t0.0001",
    b"LongValueMax:m\t5", b"LongValueMax:m\t-7", b"LongValueMin:n\t5", b"LongValueMin:n\t-7",
    b"LongValueSum:a\t3", b"LongValueSum:a\t4", b"LongValueSum:a:b\t1",
    b"StringValueMax:s\tapple", b"StringValueMax:s\tbanana", b"StringValueMax:s\tCherry",
    b"StringValueMin:s\tapple", b"StringValueMin:s\tbanana", b"StringValueMin:s\tCherry",
    b"UniqValueCount:u\tx", b"UniqValueCount:u\ty", b"UniqValueCount:u\tx",
    b"ValueHistogram:h\tred", b"ValueHistogram:h\tblue", b"ValueHistogram:h\tred",
    b"ValueHistogram:h\tred", b"ValueHistogram:h\tgreen",
    b"ValueHistogram:h2\tred\t3", b"ValueHistogram:h2\tgreen\t2", b"ValueHistogram:h2\tred\t1",
])
HADOOP_OUTPUT = (b"big\t1.0E10\nd\t3.5\nint\t3.0\nneg\t-2.5\nthird\t0.30000000000000004\n"
                 b"tiny\t1.0E-4\nm\t5\nn\t-7\na\t7\na:b\t1\ns\tbanana\ns\tCherry\nu\t2\n"
                 b"h\t3\t1\t1\t3\t1.6666666666666667\t0.9428090415820634\n"
                 b"h2\t2\t2\t4\t4\t3.0\t1.0\n")


def aggregate_command(mode, data):
    return subprocess.run([sys.executable, "-S", "-m", "mapreduce.aggregate", mode],
                          input=data, env=ENV, capture_output=True)


def reduce_lines(lines):
    out = []
    for key, values in ag.groups(ag.split_record(line) for line in lines):
        out.append(ag.reduce_group(key, values))
    return b"".join(out)


def combine_then_reduce(chunks):
    """Each chunk is one map task's sorted output: combine each, merge, then reduce."""
    combined = []
    for chunk in chunks:
        for key, values in ag.groups(ag.split_record(line) for line in chunk):
            combined += ag.combine_group(key, values).splitlines()
    return reduce_lines(sorted(combined, key=lambda line: ag.split_record(line)[0]))


# ---- Java's number and text rules ------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (3.5, "3.5"), (3.0, "3.0"), (-2.5, "-2.5"), (1e10, "1.0E10"), (1e-4, "1.0E-4"),
    (0.1 + 0.2, "0.30000000000000004"), (12345678.9, "1.23456789E7"), (9999999.0, "9999999.0"),
    (1e7, "1.0E7"), (0.001, "0.001"), (0.00099999, "9.9999E-4"), (100.0, "100.0"),
    (0.0, "0.0"), (-0.0, "-0.0"), (math.nan, "NaN"), (math.inf, "Infinity"),
    (-math.inf, "-Infinity"), (5e-324, "4.9E-324"), (1.7976931348623157e308, "1.7976931348623157E308"),
    (123456.789, "123456.789"), (-1234567.0, "-1234567.0"),
])
def test_java_double_prints_as_java(value, text):
    assert ag.java_double(value) == text


@pytest.mark.parametrize("text, value", [
    ("1.5", 1.5), (" 1.5 ", 1.5), ("\t2\x00", 2.0), ("2d", 2.0), ("2F", 2.0), ("1e3", 1000.0),
    (".5", 0.5), ("5.", 5.0), ("-.5e2", -50.0), ("+Infinity", math.inf), ("-Infinity", -math.inf),
    ("0x1p3", 8.0), ("0x1.8p1", 3.0), ("-0x.8p0", -0.5), ("0X1P-2d", 0.25), ("1e400", math.inf),
])
def test_parse_double_accepts_javas_grammar(text, value):
    assert ag.parse_double(text) == value


@pytest.mark.parametrize("text", ["", " ", ".", "1e", "inf", "nan", "NaNd", "1_000", "0x10",
                                  "١٢", "1 2", "--1", "+", "Infinityf"])
def test_parse_double_refuses_what_java_refuses(text):
    with pytest.raises(ag.AggregateError):
        ag.parse_double(text)


def test_parse_double_nan():
    assert math.isnan(ag.parse_double("NaN")) and math.isnan(ag.parse_double("-NaN"))


@pytest.mark.parametrize("text, value", [
    ("7", 7), ("+5", 5), ("-5", -5), ("00012", 12), ("١٢", 12), ("１２", 12),
    ("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -2**63),
])
def test_parse_long(text, value):
    assert ag.parse_long(text) == value


@pytest.mark.parametrize("text", ["", "+", "-", " 1", "1 ", "1.0", "1e3", "1_0", "0x10",
                                  "9223372036854775808", "-9223372036854775809"])
def test_parse_long_refuses(text):
    with pytest.raises(ag.AggregateError):
        ag.parse_long(text)


def test_long_sums_wrap_as_java_longs():
    total = ag.LongValueSum()
    for value in ("9223372036854775807", "1"):
        total.add(value)
    assert total.report() == "-9223372036854775808"


def test_strings_compare_as_utf16_code_units():
    # U+FFFD is above the surrogates that encode U+1F600 in UTF-16, though below it in UTF-8.
    assert ag.utf16_order("\ufffd") > ag.utf16_order("\U0001F600")
    high, low = ag.StringValueMax(), ag.StringValueMin()
    for value in ("apple", "\U0001F600", "\ufffd", "Cherry"):
        high.add(value)
        low.add(value)
    assert (high.report(), low.report()) == ("\ufffd", "Cherry")


def test_text_replaces_invalid_utf8():
    assert ag.java_text(b"a\xffb\xc3(") == "a\ufffdb\ufffd("


# ---- the aggregators -----------------------------------------------------------------------

def test_histogram_report_and_combiner_output():
    histogram = ag.ValueHistogram()
    for value in ("x\t2", "y", "z\t5", "w\t3"):
        histogram.add(value)
    assert histogram.report() == "4\t1\t3\t5\t2.75\t1.479019945774904"
    assert histogram.combiner_output() == ["w\t3", "x\t2", "y\t1", "z\t5"]
    tabbed = ag.ValueHistogram()
    tabbed.add("a\tb\t4")  # the count follows the LAST tab
    assert tabbed.combiner_output() == ["a\tb\t4"]


def test_uniq_value_count_combiner_lists_each_value_once():
    uniq = ag.UniqValueCount()
    for value in ("b", "a", "b", ""):
        uniq.add(value)
    assert uniq.report() == "3"
    assert uniq.combiner_output() == ["", "a", "b"]


@pytest.mark.parametrize("name", ["LongValueSum", "longvaluesum", "LONGVALUESUM"])
def test_type_names_match_case_insensitively(name):
    assert isinstance(ag.make_aggregator(name), ag.LongValueSum)


def test_reduce_output_matches_hadoop():
    assert reduce_lines(SORTED_INPUT.splitlines()) == HADOOP_OUTPUT


def test_more_of_hadoops_answers():
    lines = [b"DoubleValueSum:big2\t12345678.9", b"DoubleValueSum:e7\t9999999",
             b"DoubleValueSum:inf\tInfinity", b"DoubleValueSum:nan\tNaN",
             b"DoubleValueSum:neg0\t-0.0", b"DoubleValueSum:small\t0.001",
             b"DoubleValueSum:sp\t 1.5 ", b"DoubleValueSum:sp\t2d",
             b"LongValueMax:big\t9223372036854775807", b"LongValueSum:plus\t+5",
             b"LongValueSum:plus\t-2"]
    assert reduce_lines(lines) == (
        b"big2\t1.23456789E7\ne7\t9999999.0\ninf\tInfinity\nnan\tNaN\nneg0\t0.0\n"
        b"small\t0.001\nsp\t3.5\nbig\t9223372036854775807\nplus\t3\n")


def test_reduce_keeps_key_bytes_apart_but_prints_them_as_text():
    # Two keys that differ in bytes stay two groups, each printed through Text.toString().
    lines = [b"LongValueSum:\xfe\t1", b"LongValueSum:\xff\t2", b"LongValueSum:\xff\t3"]
    assert reduce_lines(lines) == b"\xef\xbf\xbd\t1\n\xef\xbf\xbd\t5\n"


def test_combiner_keeps_the_key_and_the_reducer_accepts_its_output():
    lines = SORTED_INPUT.splitlines()
    # Any cut of the sorted input into map tasks, combined per task, reduces to the same.
    for cut in (1, 7, 13, 29):
        chunks = [lines[:cut], lines[cut:]]
        assert combine_then_reduce(chunks) == HADOOP_OUTPUT


def test_combiner_output_lines():
    out = b"".join(ag.combine_group(key, values) for key, values in ag.groups(
        ag.split_record(line) for line in [b"LongValueSum:\xffa\t3", b"LongValueSum:\xffa\t4",
                                           b"UniqValueCount:u\tb", b"UniqValueCount:u\ta",
                                           b"DoubleValueSum:d\t1"]))
    assert out == (b"LongValueSum:\xffa\t7\nUniqValueCount:u\ta\nUniqValueCount:u\tb\n"
                   b"DoubleValueSum:d\t1.0\n")


@pytest.mark.parametrize("line", [b"Bogus:b\t2", b"nocolon\t1", b"LongValueSum:a",
                                  b"LongValueSum:a\tx", b"ValueHistogram:h\tv\tNaN"])
def test_records_hadoop_fails_on(line):
    with pytest.raises(ag.AggregateError):
        reduce_lines([line])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["LongValueSum", "LongValueMax", "LongValueMin",
                                           "UniqValueCount", "ValueHistogram",
                                           "StringValueMax", "StringValueMin"]),
                          st.sampled_from(["k", "k2", "\u00e9"]),
                          st.integers(-10**6, 10**6)), min_size=1, max_size=40),
       st.integers(0, 40))
def test_combining_never_changes_the_answer(records, cut):
    lines = sorted((f"{kind}:{key}\t{value}".encode() for kind, key, value in records),
                   key=lambda line: ag.split_record(line)[0])
    whole = reduce_lines(lines)
    assert combine_then_reduce([lines[:cut], lines[cut:]]) == whole


def test_groups_are_runs_of_equal_key_bytes():
    records = [(b"a", b"1"), (b"a", b"2"), (b"b", b""), (b"a", b"3")]
    assert list(ag.groups(records)) == [(b"a", [b"1", b"2"]), (b"b", [b""]), (b"a", [b"3"])]
    assert list(ag.groups([])) == []
    assert list(itertools.islice(ag.groups(iter(records)), 1)) == [(b"a", [b"1", b"2"])]


# ---- the streaming command -------------------------------------------------------------------

def test_command_reduce_matches_hadoop():
    proc = aggregate_command("reduce", SORTED_INPUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == HADOOP_OUTPUT


def test_command_combine_then_reduce():
    combined = aggregate_command("combine", SORTED_INPUT)
    assert combined.returncode == 0, combined.stderr
    assert b"ValueHistogram:h\tblue\t1\n" in combined.stdout
    proc = aggregate_command("reduce", combined.stdout)
    assert (proc.returncode, proc.stdout) == (0, HADOOP_OUTPUT)


def test_command_last_line_without_newline_and_empty_input():
    assert aggregate_command("reduce", b"LongValueSum:a\t1\nLongValueSum:a\t2").stdout == b"a\t3\n"
    assert aggregate_command("reduce", b"").stdout == b""


def test_command_fails_the_task_on_a_bad_record():
    proc = aggregate_command("reduce", b"LongValueSum:a\t1\nBogus:b\t2\n")
    assert proc.returncode == 1
    assert b"Bogus" in proc.stderr


def test_command_usage():
    proc = subprocess.run([sys.executable, "-S", "-m", "mapreduce.aggregate"], env=ENV,
                          capture_output=True)
    assert proc.returncode == 2 and b"usage" in proc.stderr
