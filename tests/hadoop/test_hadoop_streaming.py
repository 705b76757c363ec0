"""Our scripts under real Apache Hadoop Streaming (local mode), compared with run-local.

Hadoop's jars come from install-hadoop.sh (pinned in pom.xml, cached outside the repo): the
fixture installs them when they are missing, so nothing here is skipped for want of a tool.
scripts/mapper.py and scripts/reducer.py run unchanged under both engines; the expected
word counts are also computed here independently (Python's str.split() over the UTF-8
reading of each file, undecodable bytes kept as they are), so that both engines agreeing
on a wrong answer fails too.
"""
import collections
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import hadoop_streaming as hs

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
HERE = Path(__file__).resolve().parent
BOM = b"\xef\xbb\xbf"

# Small splits, so that every text file is cut into several map tasks at byte offsets that
# fall inside lines (Hadoop's LineRecordReader rule decides who reads the cut line).
SMALL_SPLITS = {
    "fs.local.block.size": str(256 * 1024),
    "mapreduce.local.map.tasks.maximum": "2",
    "mapreduce.local.reduce.tasks.maximum": "2",
}

# Bytes that are not all UTF-8, with a byte order mark, CRLF line ends and a last line
# without a newline: streaming scripts see raw bytes, both engines must pass them through.
RAW_BYTES = (BOM + b"first words\r\nlatin-1 caf\xe9 \xe9t\xe9\r\n\xff\xfe broken \xc3\x28 x\n"
             b"\n   \t \nnel\x85inside caf\xc3\xa9 caf\xc3\xa9\nlast line no newline")


def command(script, *args):
    """A shell command line that runs `script` with this interpreter (stdlib only)."""
    return " ".join(shlex.quote(str(a)) for a in (sys.executable, script, *args))


MAPPER = command(SCRIPTS / "mapper.py")
REDUCER = command(SCRIPTS / "reducer.py")
COUNTING_MAPPER = command(HERE / "counting_mapper.py")


def words_of(data):
    """The words of one input file, as bytes, by the seed's rule (str.split)."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    return [w.encode("utf-8", "surrogateescape")
            for w in data.decode("utf-8", "surrogateescape").split()]


def reference_counts(paths):
    counts = collections.Counter()
    for path in paths:
        counts.update(words_of(Path(path).read_bytes()))
    return dict(counts)


def part_files(directory):
    parts = sorted(p for p in Path(directory).iterdir() if p.name.startswith("part-"))
    assert parts, f"no part files in {directory}: {sorted(Path(directory).iterdir())}"
    return parts


def records(path):
    """(key, count) pairs of one part file, as bytes and int."""
    pairs = []
    for line in Path(path).read_bytes().splitlines():
        key, tab, value = line.partition(b"\t")
        assert tab, f"{path}: line without a tab: {line[:100]!r}"
        pairs.append((key, int(value)))
    return pairs


def unique_counts(parts):
    """{word: count} over part files in which every word must appear once in all."""
    counts = {}
    for part in parts:
        for key, n in records(part):
            assert key not in counts, f"{key!r} appears twice (again in {part.name})"
            counts[key] = n
    return counts


def summed_counts(parts):
    """{word: sum} over part files, each of which holds a word at most once."""
    total = collections.Counter()
    for part in parts:
        keys = [k for k, _ in records(part)]
        repeated = [k for k, n in collections.Counter(keys).items() if n > 1]
        assert not repeated, f"{part.name} repeats words: {repeated[:5]}"
        total.update(dict(records(part)))
    return dict(total)


def diff_summary(got, want):
    missing = [k for k in want if k not in got][:5]
    extra = [k for k in got if k not in want][:5]
    wrong = [(k, got[k], want[k]) for k in want if k in got and got[k] != want[k]][:5]
    return f"missing {missing}, unexpected {extra}, wrong counts {wrong}"


def assert_same_counts(got, want, what):
    assert got == want, f"{what}: {len(got)} words vs {len(want)}; {diff_summary(got, want)}"


def hadoop(args, workdir, lib, conf=None):
    run = hs.run_streaming(args, workdir, conf=conf, lib=lib)
    hs.assert_no_module_errors(run)
    assert run.returncode == 0, f"Hadoop Streaming failed:\n{run.log[-6000:]}"
    return run


def run_local(args, output):
    proc = subprocess.run([sys.executable, str(SCRIPTS / "run-local"), *args,
                           "--output", str(output)],
                          cwd=ROOT, capture_output=True)
    assert proc.returncode == 0, (
        f"run-local failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-6000:]}")
    success = Path(output) / "_SUCCESS"
    assert success.exists(), "run-local wrote no _SUCCESS"
    return json.loads(success.read_text())


def split_count(run):
    lines = [line for line in run.log.splitlines() if "number of splits:" in line]
    assert lines, "Hadoop's log names no number of splits"
    return int(lines[-1].rsplit(":", 1)[1])


@pytest.fixture(scope="session")
def hadoop_lib():
    return hs.ensure_installed()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Generated text (plain, and with Unicode whitespace) plus a file of raw bytes."""
    directory = tmp_path_factory.mktemp("corpus")
    specs = [("plain.txt", 1_200_000, 11, []), ("uspaces.txt", 700_000, 12, ["--unicode-spaces"])]
    for name, size, seed, extra in specs:
        subprocess.run([sys.executable, str(SCRIPTS / "gentext.py"), "--bytes", str(size),
                        "--seed", str(seed), "--output", str(directory / name), *extra],
                       check=True)
    (directory / "raw.bin").write_bytes(RAW_BYTES)
    return sorted(directory.iterdir())


def test_corpus_exercises_what_it_should(corpus):
    """Guards the other tests: the input must hold what they claim to exercise."""
    text = b"".join(p.read_bytes() for p in corpus)
    uspaces = next(p for p in corpus if p.name == "uspaces.txt").read_text("utf-8")
    assert any(ch in uspaces for ch in "\u00a0\u3000\u2009\x1f")
    assert any(not w.isascii() for w in words_of(text))
    assert b"\xff" in text and b"\r\n" in text and text.count(b"\n") > 10_000


def test_wordcount_with_combiner_and_two_reducers_matches_run_local(
        corpus, hadoop_lib, tmp_path):
    out = tmp_path / "hadoop-out"
    run = hadoop(["-input", ",".join(map(str, corpus)), "-output", str(out),
                  "-mapper", MAPPER, "-combiner", REDUCER, "-reducer", REDUCER,
                  "-numReduceTasks", "2"], tmp_path / "hadoop-work", hadoop_lib,
                 conf=SMALL_SPLITS)
    assert split_count(run) >= 5
    framework = run.counters["Map-Reduce Framework"]
    assert framework["Combine input records"] > 0, "the combiner did not run"
    assert framework["Reduce output records"] == framework["Reduce input groups"]
    parts = part_files(out)
    assert [p.name for p in parts] == ["part-00000", "part-00001"]
    for part in parts:
        keys = [k for k, _ in records(part)]
        assert keys == sorted(set(keys)), f"{part.name} is not sorted by key bytes"
    from_hadoop = unique_counts(parts)

    ours = tmp_path / "ours"
    run_local(["--mappers", "3", "--reducers", "2", "--mapper", MAPPER,
               "--combiner", REDUCER, "--reducer", REDUCER, *map(str, corpus)], ours)
    ours_parts = part_files(ours)
    assert len(ours_parts) == 2
    from_ours = unique_counts(ours_parts)

    assert_same_counts(from_hadoop, from_ours, "Hadoop vs run-local")
    assert_same_counts(from_ours, reference_counts(corpus), "run-local vs reference")


def test_map_only_single_split_gives_the_same_lines(corpus, hadoop_lib, tmp_path):
    """One input split on both sides: the map-only outputs must be the same lines.

    The mapper combines in memory, so its output is one `word<TAB>count` line per distinct
    word of its split; with the same (single) split, both engines must produce the same
    multiset of lines (the order within the file is the mapper's and need not match).
    """
    text = next(p for p in corpus if p.name == "plain.txt")
    out = tmp_path / "hadoop-out"
    run = hadoop(["-input", str(text), "-output", str(out), "-mapper", MAPPER,
                  "-numReduceTasks", "0"], tmp_path / "hadoop-work", hadoop_lib)
    assert split_count(run) == 1
    hadoop_lines = [line for p in part_files(out) for line in p.read_bytes().splitlines()]

    ours = tmp_path / "ours"
    run_local(["--mappers", "1", "--reducers", "0", str(text)], ours)
    ours_parts = part_files(ours)
    assert [p.name for p in ours_parts] == ["part-00000"]  # Hadoop Streaming's map-only name
    ours_lines = ours_parts[0].read_bytes().splitlines()

    assert collections.Counter(hadoop_lines) == collections.Counter(ours_lines)
    assert_same_counts(summed_counts(ours_parts), reference_counts([text]), "map-only")


def test_map_only_many_splits_sums_match(corpus, hadoop_lib, tmp_path):
    """Many splits: each engine cuts the input its own way, so the part files differ.

    What must hold for both: one part file per map task, no word twice within a part
    (the mapper combines its split), and per-word sums over all parts equal to the
    reference: every line was read once, whoever's split it fell in.
    """
    out = tmp_path / "hadoop-out"
    run = hadoop(["-input", ",".join(map(str, corpus)), "-output", str(out),
                  "-mapper", MAPPER, "-numReduceTasks", "0"],
                 tmp_path / "hadoop-work", hadoop_lib, conf=SMALL_SPLITS)
    splits = split_count(run)
    assert splits >= 5
    parts = part_files(out)
    assert len(parts) == splits
    want = reference_counts(corpus)
    assert_same_counts(summed_counts(parts), want, "Hadoop map-only sums")

    ours = tmp_path / "ours"
    run_local(["--mappers", "4", "--reducers", "0", *map(str, corpus)], ours)
    ours_parts = part_files(ours)
    assert all(re.fullmatch(r"part-\d{5}", p.name) for p in ours_parts), ours_parts
    assert_same_counts(summed_counts(ours_parts), want, "run-local map-only sums")


def expected_user_counters(paths):
    """What counting_mapper.py must report, computed from the files directly.

    Lines are what Hadoop's LineRecordReader reads (ends: LF, CR or CRLF; a last line
    without an end counts; a BOM at offset 0 is dropped), which for this corpus (no lone
    CR) is also what a script reading its stdin line by line sees under run-local.
    """
    lines = []
    for path in paths:
        data = Path(path).read_bytes()
        assert b"\r" not in data.replace(b"\r\n", b""), "a lone CR would count differently"
        lines += data[len(BOM):].splitlines() if data.startswith(BOM) else data.splitlines()
    split = [line.decode("utf-8", "surrogateescape").split() for line in lines]
    words = [w for line_words in split for w in line_words]
    return {"LINES": len(lines), "WORDS": len(words),
            "BLANK_LINES": sum(1 for line_words in split if not line_words),
            "NON_ASCII_WORDS": sum(1 for w in words if not w.isascii())}


def test_user_script_counters_agree(corpus, hadoop_lib, tmp_path):
    """A user's mapper reporting `reporter:counter:` lines: Hadoop's sums equal ours.

    No combiner here: Hadoop may run a combiner any number of times per task, so the
    counters a combiner reports are not defined; a mapper's and a reducer's are.
    """
    out = tmp_path / "hadoop-out"
    run = hadoop(["-input", ",".join(map(str, corpus)), "-output", str(out),
                  "-mapper", COUNTING_MAPPER, "-reducer", REDUCER, "-numReduceTasks", "2"],
                 tmp_path / "hadoop-work", hadoop_lib, conf=SMALL_SPLITS)
    assert split_count(run) >= 5
    hadoop_counters = run.user_counters()
    want = expected_user_counters(corpus)
    assert hadoop_counters.get("User Words") == want, hadoop_counters
    assert run.counters["Map-Reduce Framework"]["Map input records"] == want["LINES"]

    ours = tmp_path / "ours"
    success = run_local(["--mappers", "3", "--reducers", "2", "--mapper", COUNTING_MAPPER,
                         "--reducer", REDUCER, *map(str, corpus)], ours)
    ours_counters = success.get("counters", {})
    for group, values in hadoop_counters.items():
        assert ours_counters.get(group) == values, (
            f"counter group {group!r}: Hadoop {values}, run-local {ours_counters.get(group)}")

    assert_same_counts(unique_counts(part_files(ours)), unique_counts(part_files(out)),
                       "run-local vs Hadoop with the user's mapper")
    assert_same_counts(unique_counts(part_files(out)), reference_counts(corpus), "reference")


def test_counter_parser_reads_the_job_summary_only():
    """The parser takes the job client's final block, not the per-task ones before it."""
    log = "\n".join([
        "12:00:01 INFO mapred.Task: Final Counters for attempt_1_m_000000_0: Counters: 2",
        "\tUser Words", "\t\tLINES=3",
        "12:00:02 INFO mapreduce.Job: Counters: 3",
        "\tMap-Reduce Framework", "\t\tMap input records=10",
        "\tUser Words", "\t\tLINES=10", "\t\tWORDS=4",
        "\tFile Output Format Counters ", "\t\tBytes Written=99",
        "12:00:03 INFO streaming.StreamJob: Output directory: out",
    ])
    counters = hs.parse_job_counters(log)
    assert counters == {"Map-Reduce Framework": {"Map input records": 10},
                        "User Words": {"LINES": 10, "WORDS": 4},
                        "File Output Format Counters": {"Bytes Written": 99}}
    run = hs.StreamingRun([], 0, log, counters)
    assert run.user_counters() == {"User Words": {"LINES": 10, "WORDS": 4}}
