"""The whole pipeline and the local runner against the independent reference."""
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import SCRIPTS, parse_counts, read_output_dir, reference_counts, shell

PY = sys.executable
MAPPER = f"{PY} {SCRIPTS}/mapper.py"
REDUCER = f"{PY} {SCRIPTS}/reducer.py"
RUN_LOCAL = [PY, os.path.join(SCRIPTS, "run-local"), "--quiet"]
HOSTILE = (b"\xef\xbb\xbfbom\r\ncrlf line\r\n\x00nul\x00 \xff\xfe bad \xc3\n\n\t\ttabs\t\n"
           b"x" * 3_000_000 + b" long\n" + "uni\u3000space\u00a0nbsp \u2028ls\n".encode()
           + b"no final newline")


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "generated.txt"
    subprocess.run([PY, os.path.join(SCRIPTS, "gentext.py"), "--bytes", "3000000", "--seed",
                    "7", "--unicode-spaces", "--output", str(path)], check=True)
    return path


def test_generator_is_deterministic(tmp_path):
    runs = [subprocess.run([PY, os.path.join(SCRIPTS, "gentext.py"), "--bytes", "50000",
                            "--seed", "4"], capture_output=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 50000
    runs[0].decode("utf-8")  # valid UTF-8 even where it was cut to size


@pytest.mark.parametrize("sort", ["sort", "LC_ALL=C sort"])
def test_shell_pipeline_matches_reference(text, tmp_path, sort):
    hostile = tmp_path / "hostile"
    hostile.write_bytes(HOSTILE)
    for path in (text, hostile):
        out = subprocess.run(f"cat {path} | {MAPPER} | {sort} | {REDUCER}", shell=True,
                             capture_output=True, check=True).stdout
        assert parse_counts(out) == reference_counts(path.read_bytes())


@pytest.mark.parametrize("mappers,reducers", [(1, 1), (4, 3), (7, 2), (3, 0)])
def test_run_local_matches_reference(text, tmp_path, mappers, reducers):
    out = tmp_path / "out"
    subprocess.run(RUN_LOCAL + ["-m", str(mappers), "-r", str(reducers), "-o", str(out),
                                str(text)], check=True)
    names = sorted(n for n in os.listdir(out) if not n.startswith("_"))
    if reducers:
        assert names == [f"part-{i:05d}" for i in range(reducers)]
        assert parse_counts(read_output_dir(out)) == reference_counts(text.read_bytes())
    else:  # map-only: each map task's combined counts; totals still match
        maps = json.loads((out / "_SUCCESS").read_text())["mappers"]
        assert names == [f"part-{i:05d}" for i in range(maps)]  # Hadoop Streaming's names
        totals = {}
        for line in read_output_dir(out).splitlines():
            key, _, n = line.partition(b"\t")
            word = key.decode("utf-8", "surrogateescape")
            totals[word] = totals.get(word, 0) + int(n)
        assert totals == reference_counts(text.read_bytes())
    report = json.loads((out / "_SUCCESS").read_text())
    assert report["counters"]["mapreduce"]["MAP_INPUT_BYTES"] == text.stat().st_size
    assert len(report["splits"]) == mappers


def test_run_local_on_hostile_inputs_dirs_globs_gz(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_bytes(HOSTILE)
    (data / "b.txt").write_bytes(os.urandom(100_000))
    with gzip.open(data / "c.gz", "wb") as f:
        f.write(b"\xef\xbb\xbfzipped words words\n")
    (data / "_ignored").write_bytes(b"never counted\n")
    out = tmp_path / "out"
    subprocess.run(RUN_LOCAL + ["-m", "5", "-r", "2", "-o", str(out), str(data / "*.txt"),
                                str(data / "c.gz")], check=True)
    expected = reference_counts(HOSTILE) + reference_counts((data / "b.txt").read_bytes()) \
        + reference_counts(b"zipped words words\n")
    assert parse_counts(read_output_dir(out)) == expected


def test_custom_mapper_reducer_combiner_and_counters(tmp_path):
    (tmp_path / "in").write_bytes(b"a b\nc\n" * 1000)
    mapper = tmp_path / "chars.py"
    mapper.write_text(
        "import sys\n"
        "for line in sys.stdin:\n"
        "    sys.stdout.write('len\\t%d\\n' % len(line))\n"
        "    sys.stderr.write('reporter:counter:user,LINES,1\\n')\n")
    out = tmp_path / "out"
    subprocess.run(RUN_LOCAL + ["-m", "3", "-r", "2", "--mapper", f"{PY} {mapper}",
                                "--combiner", REDUCER, "-o", str(out), str(tmp_path / "in")],
                   check=True)
    assert parse_counts(read_output_dir(out)) == {"len": 6000}
    assert json.loads((out / "_SUCCESS").read_text())["counters"]["user"]["LINES"] == 2000


def test_flaky_task_is_retried(tmp_path):
    (tmp_path / "in").write_bytes(b"w\n" * 100)
    marker = tmp_path / "failed-once"
    flaky = shell(f"if [ ! -e {marker} ]; then touch {marker}; exit 1; fi; {MAPPER}")
    out = tmp_path / "out"
    subprocess.run(RUN_LOCAL + ["-m", "2", "--mapper", flaky, "-o", str(out),
                                str(tmp_path / "in")], check=True)
    assert parse_counts(read_output_dir(out)) == {"w": 100}


def test_failing_job_leaves_no_output_and_shows_stderr(tmp_path):
    (tmp_path / "in").write_bytes(b"w\n")
    out = tmp_path / "out"
    result = subprocess.run(RUN_LOCAL + ["-m", "2", "--max-attempts", "2", "--mapper",
                                         shell("echo mapper is broken >&2; exit 7"), "-o", str(out),
                                         str(tmp_path / "in")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "failed (2 attempts, exit code 7)" in result.stderr
    assert "mapper is broken" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["in"]


def test_bad_input_code_is_not_retried(tmp_path):
    (tmp_path / "in").write_bytes(b"w\n")
    count = tmp_path / "count"
    result = subprocess.run(RUN_LOCAL + ["-m", "1", "--mapper", shell(f"echo x >> {count}; exit 65"),
                                         "-o", str(tmp_path / "out"), str(tmp_path / "in")],
                            capture_output=True, text=True)
    assert result.returncode == 65 and "bad input" in result.stderr
    assert count.read_text() == "x\n"


def test_output_is_not_overwritten_unless_asked(tmp_path):
    (tmp_path / "in").write_bytes(b"w\n")
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(RUN_LOCAL + ["-o", str(out), str(tmp_path / "in")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    subprocess.run(RUN_LOCAL + ["--overwrite", "-o", str(out), str(tmp_path / "in")], check=True)
    assert parse_counts(read_output_dir(out)) == {"w": 1}


def test_missing_input_is_a_usage_error(tmp_path):
    result = subprocess.run(RUN_LOCAL + ["-o", str(tmp_path / "o"), str(tmp_path / "nope")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "input not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_work_dir_is_created_and_unwritable_output_is_a_clear_error(tmp_path):
    data = tmp_path / "in.txt"
    data.write_bytes(b"a b a\n")
    result = subprocess.run(RUN_LOCAL + ["-q", "-o", str(tmp_path / "o"), "--work-dir",
                                         str(tmp_path / "new" / "work"), str(data)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o" / "_SUCCESS").exists()
    assert os.listdir(tmp_path / "new" / "work") == []  # cleaned, not kept
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    result = subprocess.run(RUN_LOCAL + ["-o", str(blocker / "o"), str(data)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "run-local:" in result.stderr and str(blocker) in result.stderr
    assert "Traceback" not in result.stderr


def test_killed_map_task_leaves_no_duplicate(tmp_path):
    """Kill a map attempt mid-write, run the task again twice (one a duplicate): the job's
    output counts every word once."""
    data = (b"alpha beta gamma\n" * 200_000)
    (tmp_path / "in").write_bytes(data)
    job, out = tmp_path / "job", tmp_path / "out"
    slow = shell(f"{MAPPER} && sleep 30")
    engine = [PY, "-S", "-m", "mapreduce"]
    env = dict(os.environ, PYTHONPATH=SCRIPTS)
    common = ["--job-dir", str(job), "--reducers", "2", "--output", str(out)]
    maps = ["--mappers", "2", "--packed"]
    victim = subprocess.Popen(engine + ["map-task", *common, *maps, "--index", "0", "--attempt",
                                        "k1", "--mapper", slow, "--", str(tmp_path / "in")],
                              start_new_session=True, env=env)
    deadline = time.monotonic() + 60
    while not list((job / "_temporary").glob("k1-m0/m-00000/data")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    for attempt, index in (("a2", 0), ("a3", 0), ("a4", 1)):
        subprocess.run(engine + ["map-task", *common, *maps, "--index", str(index), "--attempt",
                                 attempt, "--", str(tmp_path / "in")], check=True, env=env)
    for r in (0, 1):
        subprocess.run(engine + ["reduce-task", *common, "--index", str(r)], check=True, env=env)
    assert parse_counts(read_output_dir(out)) == reference_counts(data)


def test_plan_option_prints_the_split_plan(text):
    out = subprocess.run(RUN_LOCAL + ["--plan", "-m", "3", "-o", "unused", str(text)],
                         capture_output=True, check=True).stdout
    plan = json.loads(out)
    assert len(plan["splits"]) == 3 and plan["total_bytes"] == text.stat().st_size


def run_with_stderr(tmp_path, stderr):
    (tmp_path / "in").write_bytes(b"w\n" * 1000)
    return subprocess.run([PY, os.path.join(SCRIPTS, "run-local"), "-m", "2", "--overwrite",
                           "-o", str(tmp_path / "out"), str(tmp_path / "in")],
                          stderr=stderr, check=True)


def test_progress_bar_on_a_terminal_only(tmp_path):
    import pty
    leader, follower = pty.openpty()
    run_with_stderr(tmp_path, follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        shown += data
    os.close(leader)
    assert b"map 2/2" in shown and b"\r[" in shown and b"read 0.0/0.0 MB" in shown
    piped = run_with_stderr(tmp_path, subprocess.PIPE).stderr
    assert b"\r[" not in piped and b"part file(s)" in piped
