"""The glue: split plans and the line rule, partitioning, commit, shuffle waiting."""
import gzip
import json
import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SCRIPTS, parse_counts, reference_counts
import mrglue

GLUE = [sys.executable, os.path.join(SCRIPTS, "mrglue.py")]


def read_split(split):
    out = []
    for chunk in split:
        mrglue.read_chunk(chunk["path"], chunk["start"], chunk["length"], out.append)
    return b"".join(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=4), st.integers(1, 12))
def test_every_line_is_read_once_across_splits(tmp_path_factory, files, mappers):
    folder = tmp_path_factory.mktemp("in")
    listed = []
    for i, data in enumerate(files):
        path = folder / f"f{i}"
        path.write_bytes(data)
        listed.append((str(path), len(data)))
    splits = mrglue.plan_splits(listed, mappers)
    assert len(splits) == mappers
    got = b"".join(read_split(s) for s in splits)
    expected = b""
    for data in files:
        data = data[3:] if data.startswith(mrglue.BOM) else data
        expected += data
    # Lines are whole and in order; only a missing final newline can differ per file.
    assert got.replace(b"\n", b"") == expected.replace(b"\n", b"")
    assert got.count(b"\n") == expected.count(b"\n")


def test_plan_balances_bytes_and_keeps_gz_whole(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x\n" * 500)
    with gzip.open(tmp_path / "b.gz", "wb") as f:
        f.write(b"\xef\xbb\xbfgz words\n")
    plan = mrglue.make_plan([str(tmp_path)], 4)
    assert len(plan["splits"]) == 4
    gz_chunks = [c for s in plan["splits"] for c in s if c["path"].endswith(".gz")]
    assert len(gz_chunks) == 1 and gz_chunks[0]["start"] == 0
    sizes = [sum(c["length"] for c in s) for s in plan["splits"]]
    assert max(sizes) - min(sizes) <= plan["total_bytes"] // 4 + 1
    assert read_split([gz_chunks[0]]) == b"gz words\n"


def test_inputs_files_dirs_globs_skip_hidden(tmp_path):
    for name in ("a.txt", "b.txt", "_SUCCESS", ".hidden", "sub/c.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("w\n")
    files = mrglue.expand_inputs([str(tmp_path / "*.txt"), str(tmp_path)])
    assert [os.path.relpath(f, tmp_path) for f in files] == ["a.txt", "b.txt", "sub/c.txt"]
    with pytest.raises(mrglue.JobError, match="input not found"):
        mrglue.expand_inputs([str(tmp_path / "nothing*")])


def test_plan_command_prints_json(tmp_path):
    (tmp_path / "a").write_bytes(b"one two\n" * 10)
    out = subprocess.run(GLUE + ["plan", "--mappers", "3", str(tmp_path / "a")],
                         capture_output=True, check=True).stdout
    assert len(json.loads(out)["splits"]) == 3


def test_partition_hash_is_stable_across_processes():
    code = ("import sys, zlib; sys.path.insert(0, %r); import mrglue; "
            "print([mrglue.partition_of(k.encode(), 7) for k in ('a', 'word', 'ωμέγα', '')])"
            % SCRIPTS)
    results = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED=str(seed))).stdout
               for seed in (0, 1, 12345)}
    assert len(results) == 1
    assert results.pop().strip() == str([mrglue.partition_of(k.encode(), 7)
                                         for k in ("a", "word", "ωμέγα", "")])


def test_partition_lines_groups_keys():
    outs = [__import__("io").BytesIO() for _ in range(3)]
    n = mrglue.partition_lines([b"a\t1\n", b"b\t2\n", b"a\t3", b"notab\n"], outs)
    assert n == 4
    where = {line.split(b"\t")[0].strip(): i for i, o in enumerate(outs)
             for line in o.getvalue().splitlines()}
    assert where[b"a"] == mrglue.partition_of(b"a", 3)
    assert sum(o.getvalue().count(b"\n") for o in outs) == 4


def test_reporter_lines_become_counters():
    counters = {}
    assert mrglue.parse_reporter_line("reporter:counter:g,c,5", counters)
    assert mrglue.parse_reporter_line("reporter:counter:g,c,2", counters)
    assert not mrglue.parse_reporter_line("reporter:counter:bad", counters)
    assert not mrglue.parse_reporter_line("a normal log line", counters)
    assert counters == {"g": {"c": 7}}


def test_commit_dir_first_attempt_wins(tmp_path):
    final = tmp_path / "map" / "m-00000"
    for attempt in ("a1", "a2"):
        scratch = tmp_path / attempt
        scratch.mkdir()
        (scratch / "part-00000").write_text(attempt)
    assert mrglue.commit_dir(str(tmp_path / "a1"), str(final))
    assert not mrglue.commit_dir(str(tmp_path / "a2"), str(final))
    assert (final / "part-00000").read_text() == "a1"
    assert not (tmp_path / "a2").exists()


def map_task(tmp_path, index, attempt, mapper=mrglue.DEFAULT_MAPPER, reducers=2, mappers=2):
    return mrglue.map_task(str(tmp_path / "job"), index, mappers, reducers,
                           [str(tmp_path / "in.txt")], attempt, str(tmp_path / "out"), mapper)


def test_map_and_reduce_tasks_commit_once(tmp_path):
    data = b"the cat the dog\na cat\n" * 100
    (tmp_path / "in.txt").write_bytes(data)
    for index in (0, 1, 0):  # the repeat is a duplicated attempt: it must change nothing
        assert map_task(tmp_path, index, f"m{index}-{os.urandom(3).hex()}") == 0
    job, out = str(tmp_path / "job"), str(tmp_path / "out")
    for r in (0, 1, 1):
        assert mrglue.reduce_task(job, r, 2, 2, f"r{r}-{os.urandom(3).hex()}", out) == 0
    report = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    assert report["counters"]["mapreduce"]["MAP_INPUT_BYTES"] == len(data)
    merged = (tmp_path / "out" / "part-00000").read_bytes() + \
        (tmp_path / "out" / "part-00001").read_bytes()
    assert parse_counts(merged) == reference_counts(data)
    assert sorted(os.listdir(tmp_path / "job" / "_temporary")) == []


def test_failed_attempts_make_the_shuffle_fail_fast(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n")
    failing = f"{sys.executable} -c 'import sys; sys.stderr.write(\"boom here\\n\"); sys.exit(3)'"
    assert map_task(tmp_path, 0, "m0-a", mapper=failing) == 3
    assert map_task(tmp_path, 1, "m1-a") == 0
    job = str(tmp_path / "job")
    pending, failed = mrglue.map_stage_status(job, 2, max_attempts=2)
    assert pending == [0] and not failed
    assert map_task(tmp_path, 0, "m0-b", mapper=failing) == 3
    with pytest.raises(mrglue.JobError, match=r"(?s)map task 0 failed for good.*boom here"):
        mrglue.wait_for_maps(job, 2, max_attempts=2, timeout=30, poll=0.01)


def test_bad_input_exit_code_is_final_at_once(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"x\n")
    assert map_task(tmp_path, 1, "m1-a", mapper="exit 65") == 65
    with pytest.raises(mrglue.JobError, match="map task 1 failed for good \\(bad input"):
        mrglue.wait_for_maps(str(tmp_path / "job"), 2, max_attempts=4, timeout=30, poll=0.01)


def test_shuffle_times_out_naming_the_missing_tasks(tmp_path):
    (tmp_path / "job").mkdir()
    result = subprocess.run(GLUE + ["shuffle", "--job-dir", str(tmp_path / "job"), "--index",
                                    "0", "--mappers", "3", "--timeout", "0.3", "--poll",
                                    "0.05", "--output", str(tmp_path / "merged")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "timed out after 0.3s waiting for map tasks 0, 1, 2" in result.stderr


def test_shuffle_waits_then_merges(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"b a c a\n" * 50)
    job = str(tmp_path / "job")
    proc = subprocess.Popen(GLUE + ["shuffle", "--job-dir", job, "--index", "0", "--mappers",
                                    "2", "--poll", "0.05", "--timeout", "60", "--output",
                                    str(tmp_path / "merged")], stderr=subprocess.PIPE)
    threads = [threading.Thread(target=map_task, args=(tmp_path, i, f"m{i}", ))
               for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert proc.wait(timeout=60) == 0
    keys = [line.split(b"\t")[0] for line in (tmp_path / "merged").read_bytes().splitlines()]
    assert keys == sorted(keys)


def test_task_environment_names_the_split(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"a b\n" * 10)
    show = ("printf 'file\\t%s\\nstart\\t%s\\npart\\t%s\\n' \"$mapreduce_map_input_file\" "
            "\"$mapreduce_map_input_start\" \"$mapreduce_task_partition\"; cat >/dev/null")
    assert map_task(tmp_path, 1, "m1", mapper=show, reducers=0) == 0
    out = (tmp_path / "out" / "part-m-00001").read_bytes().decode()
    assert f"file\t{tmp_path / 'in.txt'}" in out and "part\t1" in out
    assert "start\t20" in out


def test_fetch_input_sample_and_url_errors(tmp_path):
    paths = mrglue.fetch_input(str(tmp_path), sample_bytes=1000, sample_seed=3)
    assert os.path.getsize(paths[0]) == 1000
    with pytest.raises(mrglue.JobError, match="not an HTTP"):
        mrglue.fetch_input(str(tmp_path), urls=["file:///etc/passwd"])
    with pytest.raises(mrglue.JobError, match="downloading .* failed"):
        mrglue.fetch_input(str(tmp_path), urls=["http://127.0.0.1:9/none"])
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]


def test_fetch_input_downloads_once(tmp_path):
    import http.server
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"served words\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/data/words.txt"
    try:
        first = mrglue.fetch_input(str(tmp_path), urls=[url])
        second = mrglue.fetch_input(str(tmp_path), urls=[url])
    finally:
        server.shutdown()
    assert first == second and len(hits) == 1
    assert open(first[0], "rb").read() == b"served words\n"


def test_concurrent_fetch_input_writers_do_not_collide(tmp_path):
    """Pods on a shared volume all have pid 1: temp names must still be unique."""
    errors = []

    def fetch():
        try:
            mrglue.fetch_input(str(tmp_path), sample_bytes=200_000, sample_seed=2)
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
    (tmp_path / "in.txt").write_bytes(b"x\n")
    assert map_task(tmp_path, 1, "m1-a", mapper="echo broken record >&2; exit 65") == 65
    job, merged = str(tmp_path / "job"), str(tmp_path / "merged")
    common = ["--job-dir", job, "--index", "0", "--mappers", "2"]
    shuffle = subprocess.run(GLUE + ["shuffle", *common, "--poll", "0.05", "--output", merged,
                                     "--defer-failure"], capture_output=True, text=True)
    assert shuffle.returncode == 0 and not os.path.exists(merged)
    reduce = subprocess.run(GLUE + ["reduce-task", *common, "--reducers", "1", "--input",
                                    merged, "--output", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert reduce.returncode == mrglue.EXIT_MAP_STAGE_FAILED
    assert "no input for reduce task 0: map task 1 failed for good (bad input" in reduce.stderr
    assert "broken record" in reduce.stderr
