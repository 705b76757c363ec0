"""Classic Hadoop Streaming jobs, each run under Apache Hadoop Streaming 3.4.2 (local mode) and
under scripts/run-local with the SAME command line; their outputs must be equal.

Every job below is written here: its mapper and reducer (Python, awk, sh), its options (the
names a Hadoop user already has) and a small deterministic generator for its input. Equal
means: the same part files (names included, `.gz` ones decompressed), and in each part the same
bytes where Hadoop defines the order (`exact`), else the same lines. Outputs are exact when the
reducers' answers do not depend on the order of values within a key, which Hadoop leaves
undefined; every exact job is built that way (unique composite keys, order-free reducers).

Hadoop runs each job once per session, two jobs at a time, in the background, while the tests
run run-local on the jobs already done (a few seconds of JVM per job). Before comparing, each
test checks Hadoop's own output for what the job claims to exercise (several partitions used,
an empty one, a descending sort...), so a job that stops exercising its feature fails too.
"""
from __future__ import annotations

import collections
import gzip
import random
import re
import shlex
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

import hadoop_streaming as hs

ROOT = Path(__file__).resolve().parents[2]
RUN_LOCAL = ROOT / "scripts" / "run-local"
PY = shlex.quote(sys.executable)
JOB_TIMEOUT = 600

KFP = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
KFC = "org.apache.hadoop.mapred.lib.KeyFieldBasedComparator"
KV_INPUT = "org.apache.hadoop.mapred.KeyValueTextInputFormat"
NLINE_INPUT = "org.apache.hadoop.mapred.lib.NLineInputFormat"
IDENTITY_MAPPER = "org.apache.hadoop.mapred.lib.IdentityMapper"
IDENTITY_REDUCER = "org.apache.hadoop.mapred.lib.IdentityReducer"
# Hadoop's local mode always plans with mapreduce.job.maps=1 (LocalClientProtocolProvider):
# one split per file under the block size. A map-only job's part files are its map tasks, so
# these jobs say maps=1, which gives that layout on a cluster and under run-local too.
ONE_MAP_HINT = ("-D", "mapreduce.job.maps=1")
GZIP = ("-D", "mapreduce.output.fileoutputformat.compress=true",
        "-D", "mapreduce.output.fileoutputformat.compress.codec=org.apache.hadoop.io.compress.GzipCodec")

Parts = dict  # part-file name -> its bytes (decompressed)


@dataclass(frozen=True)
class Job:
    """One streaming job. In `args`, @IN@ is the job's input folder, @BIN@ its scripts' folder,
    @PY@ this Python; `inputs(rng)` makes the input files; `check(parts)` asserts what the job
    must exercise, on Hadoop's output."""
    name: str
    args: tuple
    inputs: Callable[[random.Random], dict]
    scripts: dict = field(default_factory=dict)
    exact: bool = True
    check: Callable[[Parts], None] | None = None


# ---- input generators ------------------------------------------------------------------------

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon"]
ODD_WORDS = ["caf\xe9".encode(), b"caf\xe9", b"\xff\xfe", b"na\xc3\xafve", b"\xc3(",
             "\u65e5\u672c".encode("utf-8"), "\U0001F600".encode("utf-8"), b"Zebra", b"zebra"]
STATIONS = [b"oslo", b"lima", b"nairobi", b"quito", b"perth", b"caf\xc3\xa9", b"reykjav\xc3\xadk",
            b"st\xff", b"A-10", b"a-10", b"hilo", b"ushuaia"]


def lines(items) -> bytes:
    return b"".join(item + b"\n" for item in items)


def word_text(rng: random.Random, n_lines: int, line_end: bytes = b"\n") -> bytes:
    vocabulary = [w.encode() for w in WORDS] + ODD_WORDS
    out = []
    for _ in range(n_lines):
        out.append(b" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 9))))
    return line_end.join(out) + line_end


def weather(rng: random.Random) -> dict:
    """station<TAB>year<TAB>temperature; temperatures distinct per station (no sort ties)."""
    rows = []
    for station in STATIONS:
        years = rng.sample(range(1950, 2030), 14)
        temps = rng.sample([t for t in range(-400, 460, 5) if t], 14)
        for year, temp in zip(years, temps):
            rows.append(b"%s\t%d\t%s" % (station, year, b"%.1f" % (temp / 10)))
    rng.shuffle(rows)
    half = len(rows) // 2
    return {"weather-a.tsv": lines(rows[:half]), "weather-b.tsv": lines(rows[half:])}


def join_tables(rng: random.Random) -> dict:
    users = [b"u%03d\t%s" % (i, rng.choice(WORDS).encode() + b"-" + ODD_WORDS[i % len(ODD_WORDS)])
             for i in range(40)]
    orders = [b"o%04d\tu%03d\t%d" % (i, rng.randrange(45), rng.randint(1, 999)) for i in range(160)]
    return {"users.tsv": lines(users), "orders.tsv": lines(orders)}


def documents(rng: random.Random) -> dict:
    docs = {}
    for name, n in (("doc-one.txt", 30), ("doc-two.txt", 18), ("doc-three.txt", 9)):
        docs[name] = lines(b" ".join(rng.choice(WORDS).encode() for _ in range(rng.randint(1, 8)))
                           for _ in range(n))
    return docs


def scores(rng: random.Random) -> dict:
    rows = [b"%s\titem%03d\t%d" % (rng.choice(WORDS[:7]).encode(), i, rng.randint(0, 50))
            for i in range(300)]
    return {"scores.tsv": lines(rows)}


def pairs(rng: random.Random) -> dict:
    rows = []
    for _ in range(400):
        a, b = rng.choice(WORDS[:6]).encode(), rng.choice(ODD_WORDS + [b"x", b"y"])
        rows.append(b"%s\t%s\tignored\t%d" % (a, b, rng.randint(1, 20)))
    return {"pairs.tsv": lines(rows)}


def dotted_keys(rng: random.Random) -> dict:
    """The streaming guide's 4-field dotted keys, plus short keys and a value field."""
    fields = [b"11", b"12", b"13", b"2", b"caf\xc3\xa9", b"\xff", b"x"]
    rows = {}  # by key (the first 4 fields): one value per key, so the order is defined
    while len(rows) < 160:
        row = [rng.choice(fields) for _ in range(rng.choice([4, 4, 4, 5, 2, 1]))]
        rows.setdefault(b".".join(row[:4]), b".".join(row))
    ordered = list(rows.values())
    rng.shuffle(ordered)
    return {"dotted.txt": lines(ordered)}


def numeric_dotted(rng: random.Random) -> dict:
    """Dotted keys whose 2nd field is a number, unique (so a numeric sort has no ties)."""
    numbers = rng.sample(range(-5000, 5000), 120)
    rows = [b"%s.%d.%d.%s" % (rng.choice(WORDS[:4]).encode(), n, rng.randrange(9),
                              rng.choice(WORDS).encode()) for n in numbers]
    return {"numbers.txt": lines(rows)}


def separated(rng: random.Random) -> dict:
    rows = [b"k%03d:%s" % (i, b":".join(rng.choice(WORDS).encode() for _ in range(rng.randint(0, 3))))
            for i in range(120)]
    rows += [b"solo", b"", b"lead:", b"tab\tinside:v"]
    rng.shuffle(rows)
    return {"separated.txt": lines(rows)}


def raw_text(rng: random.Random) -> dict:
    """Text with every line end Hadoop knows, a BOM, bytes that are not UTF-8, no final newline."""
    first = b"\xef\xbb\xbf" + word_text(rng, 60, b"\r\n")
    second = word_text(rng, 35, b"\r") + b"last line no newline \xff"
    third = word_text(rng, 12) + b"\n\n\t\n  \n"
    return {"crlf.txt": first, "cr.txt": second, "lf.txt": third}


def nline_files(rng: random.Random) -> dict:
    """Two files whose NLineInputFormat splits (4 lines each) all differ in length, so that
    Hadoop's map task numbering (longest split first) is defined."""
    while True:
        files = {"ten.txt": [rng.choice(WORDS).encode() * rng.randint(1, 4) for _ in range(10)],
                 "five.txt": [rng.choice(WORDS).encode() * rng.randint(1, 4) for _ in range(5)]}
        files["five.txt"][2] += b"\r"  # a CRLF line end inside a split
        lengths = []
        for rows in files.values():
            for start in range(0, len(rows), 4):
                size = len(lines(rows[start:start + 4]))
                lengths.append(size - 1 if start == 0 else size)
        if len(set(lengths)) == len(lengths):
            return {name: lines(rows) for name, rows in files.items()}


def key_values(rng: random.Random) -> dict:
    rows = [b"%s,%d" % (rng.choice(WORDS[:8]).encode(), rng.randint(1, 99)) for _ in range(200)]
    rows += [b"no separator here", b",empty key", b"trailing,", b"two,commas,here",
             b"tab\there,7"]
    rng.shuffle(rows)
    return {"kv.csv": lines(rows)}


def dictionary_words(rng: random.Random) -> dict:
    return {"words.txt": lines(rng.choice(WORDS[:6]).encode() for _ in range(50))}


def access_log(rng: random.Random) -> dict:
    rows = []
    for _ in range(300):
        rows.append(b"\t".join([rng.choice(WORDS[:9]).encode(),
                                rng.choice([b"get", b"put", b"post", b"delete"]),
                                b"%d" % rng.randint(1, 5000),
                                rng.choice([b"no", b"pe", b"ke", b"caf\xc3\xa9", b"\xff"])]))
    return {"access.log": lines(rows)}


def unique_records(rng: random.Random) -> dict:
    keys = rng.sample(range(10_000), 150)
    rows = [b"key%05d\t%s" % (k, rng.choice(WORDS).encode()) for k in keys[:140]]
    rows += [b"key%05d" % k for k in keys[140:]]  # no tab: key only
    return {"unique.tsv": lines(rows)}


def sized_texts(rng: random.Random) -> dict:
    return {"big.txt": word_text(rng, 40), "small.txt": word_text(rng, 3) + b"x\ty\r\n",
            "mid.txt": word_text(rng, 15)}


def one_key(rng: random.Random) -> dict:
    return {"one.txt": lines([b"only\tsame"] * rng.randint(15, 25))}


# ---- scripts (written for these jobs, as users write them) -----------------------------------

WORDCOUNT_MAPPER = r'''
import sys
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    for word in line.split():
        out.write(word + b"\t1\n")
'''

SUM_REDUCER = r'''
import sys
out = sys.stdout.buffer
current, total = None, 0
for line in sys.stdin.buffer:
    key, _, value = line.rstrip(b"\n").partition(b"\t")
    if key != current and current is not None:
        out.write(current + b"\t%d\n" % total)
        total = 0
    current = key
    total += int(value)
if current is not None:
    out.write(current + b"\t%d\n" % total)
'''

SWAP_YEAR_TEMP_AWK = r'''
BEGIN { FS = OFS = "\t" }
{ print $1, $3, $2 }
'''

COLDEST_REDUCER = r'''
import sys
out = sys.stdout.buffer
current, first, count = None, None, 0
def flush():
    if current is not None:
        out.write(first + b"\t%d\n" % count)
for line in sys.stdin.buffer:
    station = line.split(b"\t", 1)[0]
    if station != current:
        flush()
        current, first, count = station, line.rstrip(b"\n"), 0
    count += 1
flush()
'''

JOIN_MAPPER = r'''
import os, sys
source = os.path.basename(os.environ["mapreduce_map_input_file"])
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    fields = line.rstrip(b"\n").split(b"\t")
    if source == "users.tsv":
        out.write(fields[0] + b"\tA\t" + fields[1] + b"\n")
    else:
        out.write(fields[1] + b"\tB\t" + fields[0] + b"\t" + fields[2] + b"\n")
'''

JOIN_REDUCER = r'''
import sys
out = sys.stdout.buffer
def flush(user, name, orders):
    if user is None:
        return
    if name is None:
        out.write(user + b"\t(no such user)\t%d\n" % len(orders))
    for oid, amount in sorted(orders):
        out.write(user + b"\t" + (name or b"?") + b"\t" + oid + b"\t" + amount + b"\n")
user, name, orders = None, None, []
for line in sys.stdin.buffer:
    fields = line.rstrip(b"\n").split(b"\t")
    if fields[0] != user:
        flush(user, name, orders)
        user, name, orders = fields[0], None, []
    if fields[1] == b"A":
        name = fields[2]
    else:
        orders.append((fields[2], fields[3]))
flush(user, name, orders)
'''

INDEX_MAPPER_AWK = r'''
BEGIN { doc = ENVIRON["map_input_file"]; sub(/.*\//, "", doc) }
{ for (i = 1; i <= NF; i++) print $i "\t" doc }
'''

INDEX_REDUCER = r'''
import sys
out = sys.stdout.buffer
def flush(word, docs):
    if word is not None:
        out.write(word + b"\t%d\t" % len(docs) + b",".join(sorted(docs)) + b"\n")
word, docs = None, set()
for line in sys.stdin.buffer:
    key, _, doc = line.rstrip(b"\n").partition(b"\t")
    if key != word:
        flush(word, docs)
        word, docs = key, set()
    docs.add(doc)
flush(word, docs)
'''

TOP3_REDUCER = r'''
import sys
out = sys.stdout.buffer
def flush(key, items):
    if key is not None:
        best = sorted(items, key=lambda item: (-int(item[1]), item[0]))[:3]
        out.write(key + b"\t" + b" ".join(i + b"=" + s for i, s in best) + b"\n")
key, items = None, []
for line in sys.stdin.buffer:
    k, item, score = line.rstrip(b"\n").split(b"\t")
    if k != key:
        flush(key, items)
        key, items = k, []
    items.append((item, score))
flush(key, items)
'''

PAIR_SUM_REDUCER = r'''
import sys
out = sys.stdout.buffer
current, total = None, 0
for line in sys.stdin.buffer:
    a, b, n = line.rstrip(b"\n").split(b"\t")
    if (a, b) != current and current is not None:
        out.write(b"\t".join(current) + b"\t%d\n" % total)
        total = 0
    current = (a, b)
    total += int(n)
if current is not None:
    out.write(b"\t".join(current) + b"\t%d\n" % total)
'''

KV_MAPPER = r'''
import sys
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    key, bar, value = line.rstrip(b"\n").partition(b"|")
    out.write(key + b"\t%d\t%d\n" % (len(value), bool(bar)))
'''

KV_REDUCER_AWK = r'''
BEGIN { FS = OFS = "\t" }
$1 != key { if (NR > 1) print key, n, total; key = $1; n = 0; total = 0 }
{ n++; total += $2 }
END { if (NR > 0) print key, n, total }
'''

ENV_MAPPER = r'''
import os, re, sys
env = os.environ
table = dict(line.split() for line in open("dictionary.txt"))
attempt = env["mapreduce_task_attempt_id"]
checks = [
    re.fullmatch(r"attempt_\w+_m_0*(\d+)_\d+", attempt).group(1) == env["mapreduce_task_partition"],
    re.fullmatch(r"task_\w+_m_\d{6}", env["mapreduce_task_id"]) is not None,
    attempt.startswith(env["mapreduce_task_id"].replace("task_", "attempt_", 1) + "_"),
    re.fullmatch(r"job_\w+", env["mapreduce_job_id"]) is not None,
    env["mapreduce_task_id"].split("_")[1:3] == env["mapreduce_job_id"].split("_")[1:3],
    env["mapreduce_task_ismap"] == "true",
    env["map_input_file"] == env["mapreduce_map_input_file"],
    env["mapreduce_map_input_file"].endswith("/words.txt"),
    env["mapreduce_map_input_start"] == "0",
    env["mapreduce_map_input_length"] == str(os.path.getsize(re.sub("^file:", "", env["mapreduce_map_input_file"]))),
    os.path.exists("helper.sh"),
]
tag = "".join("1" if ok else "0" for ok in checks)
extra = [env.get("GREETING", "-"), "[%s]" % env.get("EMPTY", "unset"), env.get("my_custom_prop", "-"),
         env.get("stream_map_output_field_separator", "-"), env.get("dotted_name_x", "-")]
for line in sys.stdin:
    word = line.strip()
    print("\t".join([word, table.get(word, "?"), tag] + extra))
'''

DICTIONARY = "".join(f"{w} {w[::-1]}\n" for w in WORDS[:5])

ENV_REDUCER_SH = r'''#!/bin/sh
set -eu
case "$mapreduce_task_attempt_id" in
  attempt_*_r_00000"$mapreduce_task_partition"_*) ok=attempt-ok ;;
  *) ok=attempt-BAD ;;
esac
while IFS= read -r line; do
  printf '%s\t%s\t%s\t%s\n' "$line" "$mapreduce_task_ismap" "$ok" "$GREETING"
done
'''

AGGREGATE_MAPPER = r'''
import sys
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    user, action, size, country = line.rstrip(b"\n").split(b"\t")
    out.write(b"LongValueSum:bytes-" + user + b"\t" + size + b"\n")
    out.write(b"LongValueMax:max-" + action + b"\t" + size + b"\n")
    out.write(b"LongValueMin:min-" + action + b"\t" + size + b"\n")
    out.write(b"DoubleValueSum:quarter-" + country + b"\t%s\n" % repr(int(size) / 4).encode())
    out.write(b"StringValueMax:last-" + country + b"\t" + user + b"\n")
    out.write(b"StringValueMin:first-" + country + b"\t" + user + b"\n")
    out.write(b"UniqValueCount:users-" + action + b"\t" + user + b"\n")
    out.write(b"ValueHistogram:actions-" + country + b"\t" + action + b"\n")
    out.write(b"valuehistogram:weighted\t" + action + b"\t" + size[-1:] + b"\n")
    out.write(b"LongValueSum:requests\t1\n")
'''

IDENTITY_CHECK_AWK = r'''
BEGIN { FS = OFS = "\t" }
$1 != key { if (NR > 1) print key, n, total; key = $1; n = 0; total = 0 }
{ n++; total += $NF }
END { if (NR > 0) print key, n, total }
'''

BYTES_AWK = r'''
{ print NR, length($0), $0 }
'''

END_REDUCER_AWK = r'''
{ n++; print }
END { print "records", n + 0 }
'''


# ---- checks on Hadoop's output (does the job exercise what it says?) -------------------------

def nonempty(parts: Parts) -> list:
    return [name for name, data in parts.items() if data]


def several_partitions(parts: Parts) -> None:
    assert len(nonempty(parts)) >= 2, f"only {nonempty(parts)} hold data"


def key_groups_in_one_part(key_of: Callable[[bytes], bytes]) -> Callable[[Parts], None]:
    def check(parts: Parts) -> None:
        several_partitions(parts)
        home = {}
        for name, data in parts.items():
            for line in data.splitlines():
                assert home.setdefault(key_of(line), name) == name, f"{key_of(line)!r} is split"
    return check


def station_temps_descending(parts: Parts) -> None:
    key_groups_in_one_part(lambda line: line.split(b"\t")[0])(parts)
    for data in parts.values():
        rows = [line.split(b"\t") for line in data.splitlines()]
        for a, b in zip(rows, rows[1:]):
            if a[0] == b[0]:
                assert float(a[1]) > float(b[1]), (a, b)


def dotted_prefix(line: bytes) -> bytes:
    return b".".join(line.split(b"\t")[0].split(b".")[:2])


def numbers_descending(parts: Parts) -> None:
    (data,) = parts.values()
    numbers = [int(line.split(b".")[1]) for line in data.splitlines()]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 120


def gzip_names(parts: Parts) -> None:
    assert all(name.endswith(".gz") for name in parts), sorted(parts)


def has_empty_part(parts: Parts) -> None:
    assert len(parts) == 4 and len(nonempty(parts)) == 1, {k: len(v) for k, v in parts.items()}


def all_env_checks_pass(parts: Parts) -> None:
    rows = [line.split(b"\t") for data in parts.values() for line in data.splitlines()]
    assert rows and all(row[2] == b"11111111111" for row in rows), rows[:3]
    assert all(row[-3:] == [b"false", b"attempt-ok", b"hello"] for row in rows), rows[:3]


def offsets_then_lines(parts: Parts) -> None:
    for data in parts.values():
        for line in data.splitlines():
            assert re.match(rb"\d+\t", line), line


def map_only_layout(count: int) -> Callable[[Parts], None]:
    def check(parts: Parts) -> None:
        assert sorted(parts) == [f"part-{i:05d}" for i in range(count)], sorted(parts)
    return check


# ---- the jobs ---------------------------------------------------------------------------------

def python(script: str) -> str:
    return f"@PY@ @BIN@/{script}"


JOBS = [
    Job("secondary_sort", (
        "-D", "stream.num.map.output.key.fields=2",
        "-D", "mapreduce.partition.keypartitioner.options=-k1,1",
        "-D", f"mapreduce.job.output.key.comparator.class={KFC}",
        "-D", "mapreduce.partition.keycomparator.options=-k1,1 -k2,2nr",
        "-input", "@IN@/weather-a.tsv", "-input", "@IN@/weather-b.tsv",
        "-mapper", "awk -f @BIN@/swap.awk", "-reducer", "cat",
        "-partitioner", KFP, "-numReduceTasks", "3"),
        weather, {"swap.awk": SWAP_YEAR_TEMP_AWK}, check=station_temps_descending),
    Job("secondary_sort_old_property_names", (
        "-D", "stream.num.map.output.key.fields=2",
        "-D", "num.key.fields.for.partition=1",
        "-D", f"mapred.partitioner.class={KFP}",
        "-D", f"mapred.output.key.comparator.class={KFC}",
        "-D", "mapred.text.key.comparator.options=-k1,1 -k2,2n",
        "-D", "mapred.reduce.tasks=2",
        "-input", "@IN@/weather-a.tsv,@IN@/weather-b.tsv",
        "-mapper", "awk -f @BIN@/swap.awk", "-reducer", python("coldest.py")),
        weather, {"swap.awk": SWAP_YEAR_TEMP_AWK, "coldest.py": COLDEST_REDUCER},
        check=several_partitions),
    Job("reduce_side_join", (
        "-D", "stream.num.map.output.key.fields=2",
        "-D", "mapreduce.partition.keypartitioner.options=-k1,1",
        "-input", "@IN@/users.tsv", "-input", "@IN@/orders.tsv",
        "-mapper", python("join_map.py"), "-reducer", python("join_reduce.py"),
        "-partitioner", KFP, "-numReduceTasks", "2"),
        join_tables, {"join_map.py": JOIN_MAPPER, "join_reduce.py": JOIN_REDUCER},
        check=key_groups_in_one_part(lambda line: line.split(b"\t")[0])),
    Job("inverted_index", (
        "-input", "@IN@", "-mapper", "awk -f @BIN@/index.awk",
        "-reducer", python("index.py"), "-jobconf", "mapreduce.job.reduces=2",
        "-inputformat", "org.apache.hadoop.mapred.TextInputFormat",
        "-outputformat", "org.apache.hadoop.mapred.TextOutputFormat"),
        documents, {"index.awk": INDEX_MAPPER_AWK, "index.py": INDEX_REDUCER},
        check=several_partitions),
    Job("top_n_per_key", (
        "-input", "@IN@/scores.tsv", "-mapper", "cat", "-reducer", python("top3.py"),
        "-numReduceTasks", "2"),
        scores, {"top3.py": TOP3_REDUCER}, check=several_partitions),
    Job("two_field_keys", (
        "-D", "stream.num.map.output.key.fields=2",
        "-D", "stream.num.reduce.output.key.fields=2",  # the combiner's output keeps both fields
        "-D", "mapred.text.key.partitioner.options=-k1,1",
        "-input", "@IN@/pairs.tsv", "-mapper", "cut -f 1,2,4",
        "-combiner", python("pairsum.py"), "-reducer", python("pairsum.py"),
        "-partitioner", KFP, "-numReduceTasks", "3"),
        pairs, {"pairsum.py": PAIR_SUM_REDUCER},
        check=key_groups_in_one_part(lambda line: line.split(b"\t")[0])),
    Job("guide_key_field_partitioner", (
        "-D", "stream.map.output.field.separator=.",
        "-D", "stream.num.map.output.key.fields=4",
        "-D", "map.output.key.field.separator=.",
        "-D", "mapreduce.partition.keypartitioner.options=-k1,2",
        "-D", "mapreduce.job.reduces=5",
        "-input", "@IN@/dotted.txt", "-mapper", "cat", "-reducer", "cat",
        "-partitioner", KFP),
        dotted_keys, check=key_groups_in_one_part(dotted_prefix)),
    Job("guide_key_field_comparator", (
        "-D", f"mapreduce.job.output.key.comparator.class={KFC}",
        "-D", "stream.map.output.field.separator=.",
        "-D", "stream.num.map.output.key.fields=4",
        "-D", "mapreduce.map.output.key.field.separator=.",
        "-D", "mapreduce.partition.keycomparator.options=-k2,2nr",
        "-D", "mapreduce.job.reduces=1",
        "-input", "@IN@/numbers.txt", "-mapper", "cat", "-reducer", "cat"),
        numeric_dotted, check=numbers_descending),
    Job("output_separators", (
        "-D", "stream.map.output.field.separator=:",
        "-D", "stream.reduce.input.field.separator=;",
        "-D", "stream.reduce.output.field.separator=;",
        "-D", "stream.num.reduce.output.key.fields=2",
        "-D", "mapreduce.output.textoutputformat.separator=|",
        "-input", "@IN@/separated.txt", "-mapper", "cat", "-reducer", "sed -e s/^/r;/",
        "-numReduceTasks", "2"),
        separated, check=several_partitions),
    Job("gzip_wordcount_with_combiner", (
        *GZIP, "-input", "@IN@", "-mapper", python("wc_map.py"),
        "-combiner", python("sum.py"), "-reducer", python("sum.py"), "-numReduceTasks", "2"),
        raw_text, {"wc_map.py": WORDCOUNT_MAPPER, "sum.py": SUM_REDUCER}, check=gzip_names),
    Job("gzip_map_only", (
        *GZIP, *ONE_MAP_HINT, "-input", "@IN@/big.txt", "-mapper", "awk -f @BIN@/bytes.awk",
        "-numReduceTasks", "0", "-cmdenv", "LC_ALL=C"),
        sized_texts, {"bytes.awk": BYTES_AWK}, check=gzip_names),
    Job("nline_input_map_only", (
        "-D", "mapreduce.input.lineinputformat.linespermap=4",
        "-inputformat", NLINE_INPUT, "-input", "@IN@/ten.txt", "-input", "@IN@/five.txt",
        "-mapper", "cat", "-numReduceTasks", "0"),
        nline_files, check=lambda parts: (map_only_layout(5)(parts), offsets_then_lines(parts))),
    Job("key_value_input", (
        "-D", "mapreduce.input.keyvaluelinerecordreader.key.value.separator=,",
        "-D", "stream.map.input.field.separator=|",
        "-inputformat", KV_INPUT, "-input", "@IN@/kv.csv",
        "-mapper", python("kv_map.py"), "-reducer", "awk -f @BIN@/kv.awk", "-numReduceTasks", "2"),
        key_values, {"kv_map.py": KV_MAPPER, "kv.awk": KV_REDUCER_AWK}, check=several_partitions),
    Job("cmdenv_files_and_task_environment", (
        *ONE_MAP_HINT,  # the mapper checks that its split is its whole file
        "-D", "my.custom.prop=xyz", "-D", "dotted.name:x=colon",
        "-files", "@BIN@/dictionary.txt,@BIN@/env_map.py",
        "-file", "@BIN@/helper.sh",
        "-cmdenv", "GREETING=hello", "-cmdenv", "EMPTY=",
        "-input", "@IN@/words.txt", "-mapper", "@PY@ env_map.py", "-reducer", "sh helper.sh",
        "-numReduceTasks", "2"),
        dictionary_words, {"env_map.py": ENV_MAPPER, "dictionary.txt": DICTIONARY,
                           "helper.sh": ENV_REDUCER_SH}, check=all_env_checks_pass),
    Job("aggregate_reducer", (
        "-input", "@IN@/access.log", "-mapper", python("agg_map.py"), "-reducer", "aggregate",
        "-numReduceTasks", "2"),
        access_log, {"agg_map.py": AGGREGATE_MAPPER}, check=several_partitions),
    Job("identity_reducer", (
        "-input", "@IN@/unique.tsv", "-mapper", "cat", "-reducer", IDENTITY_REDUCER,
        "-numReduceTasks", "2"),
        unique_records, check=several_partitions),
    Job("identity_mapper_key_value_input", (
        "-inputformat", KV_INPUT, "-input", "@IN@/scores.tsv", "-mapper", IDENTITY_MAPPER,
        "-reducer", "awk -f @BIN@/count.awk", "-numReduceTasks", "2"),
        scores, {"count.awk": IDENTITY_CHECK_AWK}, check=several_partitions),
    Job("identity_mapper_map_only", (
        *ONE_MAP_HINT, "-input", "@IN@", "-mapper", IDENTITY_MAPPER, "-numReduceTasks", "0"),
        sized_texts, check=lambda parts: (map_only_layout(3)(parts), offsets_then_lines(parts))),
    Job("identity_mapper_and_reducer_sort_offsets", (
        *ONE_MAP_HINT, "-input", "@IN@/big.txt", "-mapper", IDENTITY_MAPPER,
        "-reducer", IDENTITY_REDUCER),
        sized_texts, check=offsets_then_lines),
    Job("map_only_line_ends_and_raw_bytes", (
        *ONE_MAP_HINT, "-input", "@IN@", "-mapper", "awk -f @BIN@/bytes.awk", "-numReduceTasks", "0",
        "-cmdenv", "LC_ALL=C"),
        raw_text, {"bytes.awk": BYTES_AWK}, check=map_only_layout(3)),
    Job("reducer_none", (
        *ONE_MAP_HINT, "-input", "@IN@/scores.tsv", "-mapper", "tr a-z A-Z", "-reducer", "NONE"),
        scores, check=map_only_layout(1)),
    Job("empty_partitions_skip_the_reducer", (
        "-input", "@IN@/one.txt", "-mapper", "cat", "-reducer", "awk -f @BIN@/end.awk",
        "-numReduceTasks", "4"),
        one_key, {"end.awk": END_REDUCER_AWK}, check=has_empty_part),
    Job("wordcount_cr_line_ends_and_raw_bytes", (
        "-input", "@IN@", "-mapper", python("wc_map.py"), "-combiner", python("sum.py"),
        "-reducer", python("sum.py"), "-numReduceTasks", "3"),
        raw_text, {"wc_map.py": WORDCOUNT_MAPPER, "sum.py": SUM_REDUCER},
        check=several_partitions),
]


# ---- running the two engines ------------------------------------------------------------------

@dataclass
class Prepared:
    job: Job
    folder: Path
    args: list

    def output(self, engine: str) -> Path:
        return self.folder / f"{engine}-out"


def prepare(job: Job, root: Path) -> Prepared:
    """Write the job's inputs and scripts; its command line with the placeholders filled in."""
    folder = root / job.name
    (folder / "in").mkdir(parents=True)
    (folder / "bin").mkdir()
    seed = sum(job.name.encode())  # a fixed seed per job: the same input every session
    for name, data in job.inputs(random.Random(seed)).items():
        (folder / "in" / name).write_bytes(data)
    for name, text in job.scripts.items():
        (folder / "bin" / name).write_text(text.lstrip("\n"))
    fill = {"@IN@": str(folder / "in"), "@BIN@": str(folder / "bin"), "@PY@": PY}
    args = []
    for arg in job.args:
        for mark, value in fill.items():
            arg = arg.replace(mark, value)
        args.append(arg)
    return Prepared(job, folder, args)


def run_hadoop(prepared: Prepared, lib: Path) -> hs.StreamingRun:
    out = prepared.output("hadoop")
    return hs.run_streaming([*prepared.args, "-output", str(out)], prepared.folder / "hadoop-work",
                            lib=lib, timeout=JOB_TIMEOUT)


def read_parts(directory: Path) -> Parts:
    """part-* files (gzip ones decompressed); fails when the job did not commit."""
    assert (directory / "_SUCCESS").exists(), f"{directory} has no _SUCCESS"
    parts = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith("part-"):
            data = path.read_bytes()
            parts[path.name] = gzip.decompress(data) if path.name.endswith(".gz") else data
    return parts


def first_difference(ours: bytes, theirs: bytes) -> str:
    a, b = ours.splitlines(keepends=True), theirs.splitlines(keepends=True)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"line {i + 1}: run-local {x!r}, Hadoop {y!r}"
    return f"run-local has {len(a)} lines, Hadoop {len(b)}"


def assert_same_output(job: Job, ours: Parts, theirs: Parts) -> None:
    assert sorted(ours) == sorted(theirs), (
        f"part files differ: run-local {sorted(ours)}, Hadoop {sorted(theirs)}")
    for name in sorted(theirs):
        if job.exact:
            assert ours[name] == theirs[name], f"{name}: {first_difference(ours[name], theirs[name])}"
        else:
            got = collections.Counter(ours[name].splitlines())
            want = collections.Counter(theirs[name].splitlines())
            assert got == want, f"{name}: extra {list(got - want)[:5]}, missing {list(want - got)[:5]}"


@pytest.fixture(scope="session")
def hadoop_runs(request, tmp_path_factory):
    """Hadoop's run of every selected job, started at once on two workers."""
    lib = hs.ensure_installed()
    wanted = {item.callspec.params["job"].name for item in request.session.items
              if getattr(item, "callspec", None) and "job" in item.callspec.params}
    root = tmp_path_factory.mktemp("compat")
    pool = ThreadPoolExecutor(max_workers=2)
    runs: dict[str, tuple[Prepared, Future]] = {}
    for job in JOBS:
        if job.name in wanted:
            prepared = prepare(job, root)
            runs[job.name] = (prepared, pool.submit(run_hadoop, prepared, lib))
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


def test_the_suite_is_what_it_says():
    """At least 15 jobs, unique names, mappers and reducers in Python, awk and sh."""
    names = [job.name for job in JOBS]
    assert len(names) >= 15 and len(set(names)) == len(names)
    commands = " ".join(arg for job in JOBS for arg in job.args)
    for tool in ("@PY@", "awk -f", "cat", "sh ", "cut ", "sed ", "tr "):
        assert tool in commands, tool


@pytest.mark.parametrize("job", JOBS, ids=[job.name for job in JOBS])
def test_job_gives_hadoops_output(job, hadoop_runs):
    prepared, future = hadoop_runs[job.name]
    run = future.result(timeout=JOB_TIMEOUT)
    hs.assert_no_module_errors(run)
    assert run.returncode == 0, f"Hadoop Streaming failed:\n{run.log[-5000:]}"
    theirs = read_parts(prepared.output("hadoop"))
    if job.check:
        job.check(theirs)

    ours_dir = prepared.output("ours")
    proc = subprocess.run([sys.executable, str(RUN_LOCAL), *prepared.args, "-output", str(ours_dir)],
                          cwd=prepared.folder, capture_output=True, timeout=JOB_TIMEOUT)
    assert proc.returncode == 0, (
        f"run-local failed ({proc.returncode}) on Hadoop's command line:\n"
        f"{shlex.join(prepared.args)}\n{proc.stderr.decode(errors='replace')[-5000:]}")
    assert_same_output(job, read_parts(ours_dir), theirs)
