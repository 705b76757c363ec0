"""The engine's steps: split plans and the line rule, commit, map tasks with one sorted data
file and its index, the shuffle's waiting and merging, the reduce step, the input pre-stage."""
import errno
import gzip
import json
import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SCRIPTS, parse_counts, reference_counts, shell
from mapreduce import commit, download, maptask, reducetask, shuffle, splits
from mapreduce.layout import INDEX_ENTRY, JobLayout, read_index_entry
from mapreduce.settings import DEFAULT_MAPPER, ExitCode, JobConf, JobError
from mapreduce.tasks import parse_reporter_line

ENGINE = [sys.executable, "-S", "-m", "mapreduce"]
ENV = dict(os.environ, PYTHONPATH=SCRIPTS)


def engine(*args, **kwargs):
    return subprocess.run([*ENGINE, *args], env=ENV, capture_output=True, text=True, **kwargs)


def read_split(split):
    out = []
    splits.feed_split(split, JobConf(), out.append)
    return b"".join(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=4), st.integers(1, 12),
       st.booleans())
def test_every_line_is_read_once_across_splits(tmp_path_factory, files, mappers, packed):
    folder = tmp_path_factory.mktemp("in")
    listed = []
    for i, data in enumerate(files):
        path = folder / f"f{i}"
        path.write_bytes(data)
        listed.append((str(path), len(data)))
    plan = (splits.packed_splits(listed, mappers) if packed
            else splits.file_splits(listed, mappers))
    got = b"".join(read_split(s) for s in plan)
    expected = b""
    for data in files:
        data = data[3:] if data.startswith(splits.BOM) else data
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        expected += data + (b"\n" if data and not data.endswith(b"\n") else b"")
    assert got == expected


def test_file_splits_follow_hadoop_rules(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x\n" * 500)
    (tmp_path / "empty.txt").write_bytes(b"")
    with gzip.open(tmp_path / "b.gz", "wb") as f:
        f.write(b"\xef\xbb\xbfgz words\n")
    plan = splits.make_plan([str(tmp_path)], 4, JobConf())
    by_file = {}
    for split in plan["splits"]:
        assert len({c["path"] for c in split}) == 1  # a file is never packed with another
        by_file.setdefault(os.path.basename(split[0]["path"]), []).append(split)
    assert len(by_file["b.gz"]) == 1 and len(by_file["empty.txt"]) == 1
    assert read_split(by_file["b.gz"][0]) == b"gz words\n"
    assert 2 <= len(by_file["a.txt"]) <= 4


def test_packed_plan_has_exactly_the_given_count(tmp_path):
    for i in range(10):
        (tmp_path / f"f{i}").write_bytes(b"w\n" * (i + 1))
    plan = splits.make_plan([str(tmp_path)], 3, JobConf(), packed=True)
    assert len(plan["splits"]) == 3


def test_inputs_files_dirs_globs_skip_hidden(tmp_path):
    for name in ("a.txt", "b.txt", "_SUCCESS", ".hidden", "sub/c.txt", "b[1].txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("w\n")
    files = splits.expand_inputs([str(tmp_path / "*.txt"), str(tmp_path)])
    assert sorted(os.path.relpath(f, tmp_path) for f in files) == [
        "a.txt", "b.txt", "b[1].txt", "sub/c.txt"]
    # a name that exists is that file, even with pattern characters in it
    assert splits.expand_inputs([str(tmp_path / "b[1].txt")]) == [str(tmp_path / "b[1].txt")]
    with pytest.raises(JobError, match="input not found"):
        splits.expand_inputs([str(tmp_path / "nothing*")])


def test_symlinked_directories_are_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "x.txt").write_text("w\n")
    (tmp_path / "in").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "in" / "link")
    files = splits.expand_inputs([str(tmp_path / "in")])
    assert [os.path.basename(f) for f in files] == ["x.txt"]


def test_plan_command_prints_json(tmp_path):
    (tmp_path / "a").write_bytes(b"one two\n" * 10)
    out = engine("plan", "--mappers", "3", "--packed", str(tmp_path / "a"), check=True).stdout
    assert len(json.loads(out)["splits"]) == 3


def test_reporter_lines_become_counters():
    counters = {}
    assert parse_reporter_line("reporter:counter:g,c,5", counters) == "counter"
    assert parse_reporter_line("reporter:counter:g,c,2", counters) == "counter"
    assert parse_reporter_line("reporter:status:busy", counters) == "status"
    assert parse_reporter_line("reporter:counter:bad", counters) is None
    assert parse_reporter_line("a normal log line", counters) is None
    assert counters == {"g": {"c": 7}}


def test_commit_dir_first_attempt_wins(tmp_path):
    final = tmp_path / "map" / "m-00000"
    for attempt in ("a1", "a2"):
        scratch = tmp_path / attempt
        scratch.mkdir()
        (scratch / "part-00000").write_text(attempt)
    assert commit.commit_dir(str(tmp_path / "a1"), str(final))
    assert not commit.commit_dir(str(tmp_path / "a2"), str(final))
    assert (final / "part-00000").read_text() == "a1"
    assert not (tmp_path / "a2").exists()


def run_map(tmp_path, index, attempt, mapper=DEFAULT_MAPPER, reducers=2, mappers=2,
            combiner="", packed=True):
    conf = JobConf(mapper=mapper, combiner=combiner)
    return maptask.map_task(layout=JobLayout(str(tmp_path / "job")), conf=conf,
                            inputs=[str(tmp_path / "in.txt")], mappers=mappers,
                            reducers=reducers, index=index, attempt=attempt,
                            output=str(tmp_path / "out"), packed=packed)


def run_reduce(tmp_path, index, reducers=2, reducer=None):
    conf = JobConf() if reducer is None else JobConf(reducer=reducer)
    return reducetask.reduce_task(layout=JobLayout(str(tmp_path / "job")), conf=conf,
                                  index=index, reducers=reducers,
                                  attempt=f"r{index}-{os.urandom(3).hex()}",
                                  output=str(tmp_path / "out"))


@pytest.mark.parametrize("combiner", ["", "reducer"])
def test_map_and_reduce_tasks_commit_once(tmp_path, combiner):
    data = b"the cat the dog\na cat\n" * 100
    (tmp_path / "in.txt").write_bytes(data)
    if combiner:
        combiner = f"{sys.executable} -S {os.path.join(SCRIPTS, 'reducer.py')}"
    for index in (0, 1, 0):  # the repeat is a duplicated attempt: it must change nothing
        assert run_map(tmp_path, index, f"m{index}-{os.urandom(3).hex()}",
                       combiner=combiner) == 0
    for r in (0, 1, 1):
        assert run_reduce(tmp_path, r) == 0
    report = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    assert report["counters"]["mapreduce"]["MAP_INPUT_BYTES"] == len(data)
    merged = (tmp_path / "out" / "part-00000").read_bytes() + \
        (tmp_path / "out" / "part-00001").read_bytes()
    assert parse_counts(merged) == reference_counts(data)


def test_map_output_is_one_sorted_file_with_an_index(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"b a c a d e f g h\n" * 20)
    assert run_map(tmp_path, 0, "m0", reducers=5, mappers=1) == 0
    layout = JobLayout(str(tmp_path / "job"))
    data = open(layout.map_data(0), "rb").read()
    assert sorted(os.listdir(layout.task_dir("m", 0))) == ["_task.json", "data", "index"]
    assert os.path.getsize(layout.map_index(0)) == 5 * INDEX_ENTRY.size
    seen = []
    for p in range(5):
        offset, length, records = read_index_entry(layout.map_index(0), p)
        chunk = data[offset:offset + length]
        assert chunk.count(b"\n") == records
        for line in chunk.splitlines():
            assert int(line.split(b"\t")[0]) == p  # every record in exactly its partition
            seen.append(line)
    assert len(seen) == data.count(b"\n") == 8


def test_failed_attempts_make_the_shuffle_fail_fast(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n" * 100)
    failing = f"{sys.executable} -c \"import sys; sys.stderr.write('boom here'); sys.exit(3)\""
    assert run_map(tmp_path, 0, "m0-a", mapper=failing) == 3
    assert run_map(tmp_path, 1, "m1-a") == 0
    layout = JobLayout(str(tmp_path / "job"))
    pending, failed = shuffle.map_stage_status(layout, range(2), max_attempts=2)
    assert pending == [0] and not failed
    assert run_map(tmp_path, 0, "m0-b", mapper=failing) == 3
    with pytest.raises(JobError, match=r"(?s)map task 0 failed for good.*boom here"):
        shuffle.wait_for_maps(layout=layout, max_attempts=2, timeout=30, poll=0.01)


def test_bad_input_exit_code_is_final_at_once(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n" * 100)
    assert run_map(tmp_path, 1, "m1-a", mapper=shell("cat >/dev/null; exit 65")) == 65
    with pytest.raises(JobError, match="map task 1 failed for good \\(bad input"):
        shuffle.wait_for_maps(layout=JobLayout(str(tmp_path / "job")), max_attempts=4,
                              timeout=30, poll=0.01)


def test_a_mapper_exiting_75_is_retried_but_a_full_volume_is_final(tmp_path, monkeypatch):
    """75 is the engine's own "no space left": a mapper that exits 75 is an ordinary failure
    (exit 1 for the pod, retried); a full volume fails the task for good at once."""
    (tmp_path / "in.txt").write_bytes(b"x\n" * 100)
    assert run_map(tmp_path, 0, "m0-a", mapper=shell("cat >/dev/null; exit 75")) == 1
    layout = JobLayout(str(tmp_path / "job"))
    pending, failed = shuffle.map_stage_status(layout, range(1), max_attempts=2)
    assert pending == [0] and not failed  # not final: another attempt may run

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "somewhere")

    monkeypatch.setattr(maptask.MapAttempt, "map_sort", full)
    assert run_map(tmp_path, 0, "m0-b") == ExitCode.NO_SPACE
    with pytest.raises(JobError, match=r"map task 0 failed for good \(no space left; last exit "
                                       r"code 75.*no space left on the volume holding"):
        shuffle.wait_for_maps(layout=layout, max_attempts=4, timeout=30, poll=0.01)


def test_truncated_gzip_fails_the_task_and_never_commits(tmp_path):
    whole = gzip.compress(b"word " * 100000)
    (tmp_path / "in.txt.gz").write_bytes(whole[: len(whole) // 2])
    conf = JobConf()
    code = maptask.map_task(layout=JobLayout(str(tmp_path / "job")), conf=conf,
                            inputs=[str(tmp_path / "in.txt.gz")], mappers=1, reducers=1,
                            index=0, attempt="m0", output=str(tmp_path / "out"))
    assert code == ExitCode.BAD_INPUT
    assert not os.path.exists(JobLayout(str(tmp_path / "job")).task_file("m", 0))


def test_shuffle_times_out_naming_the_missing_tasks(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"a\n" * 30)
    layout = JobLayout(str(tmp_path / "job"))
    maptask.load_or_create_plan(layout=layout, inputs=[str(tmp_path / "in.txt")], mappers=3,
                                conf=JobConf(), packed=True)
    result = engine("shuffle", "--job-dir", layout.job_dir, "--index", "0", "--timeout", "0.3",
                    "--poll", "0.05", "--output", str(tmp_path / "merged"))
    assert result.returncode == ExitCode.MAP_STAGE_FAILED
    assert "timed out after 0.3s waiting for map tasks 0, 1, 2" in result.stderr


def test_shuffle_waits_then_merges(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"b a c a\n" * 50)
    job = str(tmp_path / "job")
    proc = subprocess.Popen([*ENGINE, "shuffle", "--job-dir", job, "--index", "0", "--poll",
                             "0.05", "--timeout", "60", "--output", str(tmp_path / "merged")],
                            stderr=subprocess.PIPE, env=ENV)
    run_map(tmp_path, 0, "m0")  # writes the plan
    run_map(tmp_path, 1, "m1")
    assert proc.wait(timeout=60) == 0
    # the reducer's lines: key and value, in key order, the partition field gone
    keys = [line.split(b"\t")[0] for line in (tmp_path / "merged").read_bytes().splitlines()]
    assert keys == sorted(keys) and keys and set(keys) <= {b"a", b"b", b"c"}


def test_merge_fan_in_beyond_the_batch_size(tmp_path):
    inputs = []
    for i in range(150):  # more files than MERGE_FAN_IN: staged merges
        path = tmp_path / f"in{i}"
        path.write_bytes(b"".join(b"00000\tk%04d\t%d\n" % (j, i) for j in range(i % 7, 40, 7)))
        inputs.append(str(path))
    shuffle.merge_files(inputs, str(tmp_path / "merged"), str(tmp_path), strip=2)
    lines = (tmp_path / "merged").read_bytes().splitlines()
    assert len(lines) == sum(len(range(i % 7, 40, 7)) for i in range(150))
    # what the reducer reads: the partition field is gone, keys in order
    assert [line.split(b"\t")[0] for line in lines] == sorted(line.split(b"\t")[0]
                                                            for line in lines)


@pytest.mark.parametrize("strip", [2, 3])
def test_merge_in_memory_and_merge_files_agree(tmp_path, monkeypatch, strip):
    """A small partition (merged here) and a big one (sort -m | cut) give the reducer the same
    lines: the fields only the sort needed dropped, ties kept in map order."""
    data = tmp_path / "job" / "map"
    ranges, files = [], []
    for m in range(5):
        records = b"".join(b"00003\t%s\tk%d\tv%d-%d\n" % (b"s%02d" % (j % 6), j % 6, m, j)
                           for j in sorted(range(m, 30, 2), key=lambda j: j % 6))
        folder = data / f"m-{m:05d}"
        folder.mkdir(parents=True)
        (folder / "data").write_bytes(b"junk" + records)
        ranges.append((m, 4, len(records), records.count(b"\n")))
        (tmp_path / f"r{m}").write_bytes(records)
        files.append(str(tmp_path / f"r{m}"))
    layout = JobLayout(str(tmp_path / "job"))
    shuffle.merge_in_memory(layout=layout, ranges=ranges, output=str(tmp_path / "a"), strip=strip)
    shuffle.merge_files(files, str(tmp_path / "b"), str(tmp_path), strip=strip)
    small, big = (tmp_path / "a").read_bytes(), (tmp_path / "b").read_bytes()
    assert small == big and small.count(b"\n") == sum(r[3] for r in ranges)
    first = small.splitlines()[0]
    assert first.startswith(b"s00\t" if strip == 2 else b"k0\t")


def test_task_environment_names_the_split(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"a b\n" * 10)
    show = shell("printf \"file\\t%s\\nstart\\t%s\\npart\\t%s\\nattempt\\t%s\\n\" "
                 "\"$mapreduce_map_input_file\" \"$mapreduce_map_input_start\" "
                 "\"$mapreduce_task_partition\" \"$mapreduce_task_attempt_id\"; cat >/dev/null")
    assert run_map(tmp_path, 1, "m1", mapper=show, reducers=0) == 0
    out = (tmp_path / "out" / "part-00001").read_bytes().decode()
    assert f"file\tfile:{tmp_path / 'in.txt'}" in out and "part\t1" in out
    assert "start\t20" in out
    assert "attempt\tattempt_" in out and "_m_000001_0" in out


def test_fetch_input_sample_and_url_errors(tmp_path):
    paths = download.fetch_input(dest=str(tmp_path), sample_bytes=1000, sample_seed=3)
    assert os.path.getsize(paths[0]) == 1000
    with pytest.raises(JobError, match="not an HTTP"):
        download.fetch_input(dest=str(tmp_path), urls=("file:///etc/passwd",))
    with pytest.raises(JobError, match="downloading .* failed"):
        download.fetch_input(dest=str(tmp_path), urls=("http://127.0.0.1:9/none",))
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n or n.endswith(".lock")]


def serve(body, declared=None):
    import http.server
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(declared or len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


def test_fetch_input_downloads_once(tmp_path):
    server, hits = serve(b"served words\n")
    url = f"http://127.0.0.1:{server.server_port}/data/words.txt"
    try:
        first = download.fetch_input(dest=str(tmp_path), urls=(url,))
        second = download.fetch_input(dest=str(tmp_path), urls=(url,))
    finally:
        server.shutdown()
    assert first == second and len(hits) == 1
    assert open(first[0], "rb").read() == b"served words\n"


def test_short_download_fails_and_leaves_nothing(tmp_path):
    server, _ = serve(b"only part", declared=1000)
    url = f"http://127.0.0.1:{server.server_port}/short.txt"
    try:
        with pytest.raises(JobError, match="downloading"):
            download.fetch_input(dest=str(tmp_path), urls=(url,))
    finally:
        server.shutdown()
    assert os.listdir(tmp_path) == []


def test_concurrent_fetch_input_writers_do_not_collide(tmp_path):
    """Pods on a shared volume all have pid 1: temp names must still be unique."""
    errors = []

    def fetch():
        try:
            download.fetch_input(dest=str(tmp_path), sample_bytes=200_000, sample_seed=2)
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert os.listdir(tmp_path) == ["sample-2-200000.txt"]


def test_deferred_shuffle_failure_is_reported_by_the_reduce_step(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n" * 100)
    assert run_map(tmp_path, 1, "m1-a", mapper=shell("echo broken record >&2; exit 65")) == 65
    job, merged = str(tmp_path / "job"), str(tmp_path / "merged")
    common = ["--job-dir", job, "--index", "0"]
    result = engine("shuffle", *common, "--poll", "0.05", "--output", merged, "--defer-failure")
    assert result.returncode == 0 and not os.path.exists(merged)
    result = engine("reduce-task", *common, "--reducers", "1", "--input", merged, "--output",
                    str(tmp_path / "out"), "--map-stage-failed-exit-code", "77")
    assert result.returncode == 77
    assert "no input for reduce task 0: map task 1 failed for good (bad input" in result.stderr
    assert "broken record" in result.stderr


def test_a_plan_for_other_inputs_is_an_error(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n")
    (tmp_path / "other.txt").write_bytes(b"y\n")
    layout = JobLayout(str(tmp_path / "job"))
    maptask.load_or_create_plan(layout=layout, inputs=[str(tmp_path / "in.txt")], mappers=1,
                                conf=JobConf())
    with pytest.raises(JobError, match="other inputs"):
        maptask.load_or_create_plan(layout=layout, inputs=[str(tmp_path / "other.txt")],
                                    mappers=1, conf=JobConf())


def test_an_attempt_killed_outright_counts_once_its_heartbeat_is_stale(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n" * 100)
    layout = JobLayout(str(tmp_path / "job"))
    maptask.load_or_create_plan(layout=layout, inputs=[str(tmp_path / "in.txt")], mappers=1,
                                conf=JobConf(), packed=True)
    beat = layout.running_file("m", 0, "oom-victim")
    os.makedirs(os.path.dirname(beat))
    open(beat, "w").close()
    assert shuffle.map_stage_status(layout, range(1), max_attempts=1) == ([0], {})
    old = os.stat(beat).st_mtime - 3600
    os.utime(beat, (old, old))
    pending, failed = shuffle.map_stage_status(layout, range(1), max_attempts=1)
    assert pending == [] and "killed (out of memory?)" in failed[0]["reason"]


def test_a_missing_input_fails_the_shuffle_at_once(tmp_path):
    job = str(tmp_path / "job")
    result = engine("map-task", "--job-dir", job, "--index", "0", "--mappers", "2",
                    "--reducers", "1", "--attempt", "pod-a", str(tmp_path / "missing.txt"))
    assert result.returncode == ExitCode.USAGE and "input not found" in result.stderr
    result = engine("shuffle", "--job-dir", job, "--index", "0", "--timeout", "30",
                    "--poll", "0.05", "--output", str(tmp_path / "merged"))
    assert result.returncode == ExitCode.MAP_STAGE_FAILED
    assert "before its map tasks could run: input not found" in result.stderr


def test_a_failed_download_fails_the_shuffle_at_once(tmp_path):
    job = str(tmp_path / "job")
    result = engine("fetch-input", "--dest", str(tmp_path / "urls"), "--job-dir", job,
                    "--url", "http://127.0.0.1:9/none")
    assert result.returncode == 1
    result = engine("shuffle", "--job-dir", job, "--index", "0", "--timeout", "30",
                    "--poll", "0.05", "--output", str(tmp_path / "merged"))
    assert result.returncode == ExitCode.MAP_STAGE_FAILED and "downloading" in result.stderr


@pytest.mark.parametrize("keep", [False, True])
def test_intermediate_data_is_removed_after_success_unless_kept(tmp_path, keep):
    (tmp_path / "in.txt").write_bytes(b"a b c\n" * 100)
    conf = JobConf(keep_intermediate=keep)
    layout = JobLayout(str(tmp_path / "job"))
    common = dict(layout=layout, conf=conf, output=str(tmp_path / "out"))
    assert maptask.map_task(inputs=[str(tmp_path / "in.txt")], mappers=1, reducers=2,
                            index=0, attempt="m0", **common) == 0
    for r in (0, 1):
        assert reducetask.reduce_task(index=r, reducers=2, attempt=f"r{r}", **common) == 0
    report = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    assert set(report["task_finished"]) == {"m-00000", "r-00000", "r-00001"}
    assert os.path.exists(layout.task_dir("m", 0)) == keep
    assert os.path.exists(layout.plan)


def test_small_partitions_merge_in_memory_exactly_as_sort_does(tmp_path):
    """The in-memory merge of a small partition and GNU sort -m give the same bytes: ties in
    map order, keys that are prefixes of others, bytes above 0x7f."""
    words = [b"a", b"ab", b"a\xff", b"\xc3\xa9t\xc3\xa9", b"b", b"a b", b"Z", b""]
    data = b"".join(b" ".join(words[(i * 7 + j) % len(words)] for j in range(5)) + b"\n"
                    for i in range(300))
    (tmp_path / "in.txt").write_bytes(data)
    cat = "cat"  # one record per line: keys with spaces, empty keys, many ties
    for m in range(3):
        assert run_map(tmp_path, m, f"m{m}", mapper=cat, reducers=2, mappers=3) == 0
    layout = JobLayout(str(tmp_path / "job"))
    for r in range(2):
        ranges = shuffle.partition_ranges(layout=layout, maps=3, partition=r)
        shuffle.merge_in_memory(layout=layout, ranges=ranges, output=str(tmp_path / "mem"),
                                strip=2)
        copies = []
        for m, offset, length, _ in ranges:
            target = tmp_path / f"copy{m}"
            shuffle.copy_range(layout.map_data(m), offset, length, str(target))
            copies.append(str(target))
        shuffle.merge_files(copies, str(tmp_path / "sorted"), str(tmp_path), strip=2)
        assert (tmp_path / "mem").read_bytes() == (tmp_path / "sorted").read_bytes()


@pytest.mark.parametrize("combiner", [False, True])
def test_a_map_task_starts_as_many_processes_for_1_as_for_50_reducers(tmp_path, monkeypatch,
                                                                      combiner):
    """Processes per map task do not grow with the number of reducers."""
    import subprocess as real_subprocess
    started = []
    popen = real_subprocess.Popen

    def counting_popen(argv, *args, **kwargs):
        started.append(argv)
        return popen(argv, *args, **kwargs)

    monkeypatch.setattr(real_subprocess, "Popen", counting_popen)
    (tmp_path / "in.txt").write_bytes(b"the cat sat on the mat\n" * 2000)
    reducer = f"{sys.executable} -S {os.path.join(SCRIPTS, 'reducer.py')}" if combiner else ""
    counts = {}
    for reducers in (1, 50):
        started.clear()
        job = tmp_path / f"job{reducers}"
        conf = JobConf(combiner=reducer)
        assert maptask.map_task(layout=JobLayout(str(job)), conf=conf,
                                inputs=[str(tmp_path / "in.txt")], mappers=1, reducers=reducers,
                                index=0, attempt="m0", output=str(tmp_path / "out")) == 0
        counts[reducers] = len(started)
    assert counts[1] == counts[50] == (5 if combiner else 2)
