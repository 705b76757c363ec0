"""run-local's guarantees on unlucky inputs and timing: nothing clobbered, nothing short,
nothing left behind."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import SCRIPTS, parse_counts, read_output_dir, reference_counts, shell

RUN_LOCAL = [sys.executable, os.path.join(SCRIPTS, "run-local"), "--quiet"]


def run(*args, **kwargs):
    return subprocess.run([*RUN_LOCAL, *map(str, args)], capture_output=True, text=True,
                          **kwargs)


@pytest.fixture
def words(tmp_path):
    path = tmp_path / "in" / "words.txt"
    path.parent.mkdir()
    path.write_bytes(b"one two three two\n" * 1000)
    return path


@pytest.mark.parametrize("where", ["same", "inside", "above"])
def test_output_overlapping_an_input_is_refused(words, where):
    folder = words.parent
    output = {"same": folder, "inside": folder / "out", "above": folder.parent}[where]
    result = run("--overwrite", "-o", output, folder)
    assert result.returncode == 2 and "overlaps input" in result.stderr
    assert words.read_bytes().startswith(b"one two")


def test_a_second_run_on_the_same_output_is_refused(words, tmp_path):
    out = tmp_path / "out"
    slow = subprocess.Popen([*RUN_LOCAL, "-o", str(out), "--mapper", shell("sleep 5; cat"),
                             str(words)], start_new_session=True)
    lock = tmp_path / ".out.lock"
    deadline = time.monotonic() + 30
    while not lock.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = run("--overwrite", "-o", out, words)
    assert second.returncode == 2 and "another run is writing" in second.stderr
    slow.send_signal(signal.SIGTERM)
    assert slow.wait(timeout=30) == 128 + signal.SIGTERM


def test_sigterm_stops_every_task_and_removes_staging(words, tmp_path):
    out = tmp_path / "out"
    marker = tmp_path / "started"
    mapper = shell(f"touch {marker}; sleep 300; cat")
    proc = subprocess.Popen([*RUN_LOCAL, "-o", str(out), "--mapper", mapper, str(words)],
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True)
    assert left.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["in", "started"]


def test_work_dir_on_another_filesystem(words, tmp_path):
    other = "/dev/shm" if os.path.isdir("/dev/shm") else None
    if other is None or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.fail("this test needs /dev/shm on another filesystem than the temp dir")
    work = os.path.join(other, f"work-{os.getpid()}")
    result = run("-m", 2, "-r", 2, "--work-dir", work, "-o", tmp_path / "out", words)
    assert result.returncode == 0, result.stderr
    assert parse_counts(read_output_dir(tmp_path / "out")) == reference_counts(
        words.read_bytes())
    assert os.listdir(work) == []
    os.rmdir(work)


def test_a_hung_mapper_times_out_and_fails_the_job(words, tmp_path):
    result = run("-D", "mapreduce.task.timeout=1500", "--max-attempts", 1, "--mapper",
                 "sleep 60", "-o", tmp_path / "out", words, timeout=50)
    assert result.returncode == 1
    assert "made no progress for 1.5s (mapreduce.task.timeout)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_status_lines_keep_a_slow_task_alive(words, tmp_path):
    alive = shell("for i in 1 2 3 4; do echo reporter:status:busy >&2; sleep 0.5; done; "
                  "cat >/dev/null")
    result = run("-D", "mapreduce.task.timeout=1200", "--mapper", alive, "-r", 0,
                 "-o", tmp_path / "out", words, timeout=50)
    assert result.returncode == 0, result.stderr


def test_unknown_property_warns_and_unsupported_one_fails(words, tmp_path):
    ok = run("-D", "my.own.setting=1", "-o", tmp_path / "a", words)
    assert ok.returncode == 0 and "unknown property my.own.setting" in ok.stderr
    bad = run("-D", "mapreduce.job.output.group.comparator.class=x", "-o", tmp_path / "b",
              words)
    assert bad.returncode == 2 and "mapreduce.job.output.group.comparator.class" in bad.stderr


def test_a_file_that_shrinks_during_the_job_fails_it(tmp_path):
    data = tmp_path / "in.txt"
    data.write_bytes(b"word " * 400_000 + b"\n")
    # The mapper of the first task truncates the input before the second task reads it.
    mapper = shell(f"cat >/dev/null; truncate -s 10 {data}")
    result = run("-m", 4, "--parallel", 1, "--max-attempts", 1, "--mapper", mapper,
                 "-o", tmp_path / "out", data)
    assert result.returncode != 0
    assert "changed" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def small_volume(tmp_path):
    """A 512 KB tmpfs: a volume that fills."""
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(small)],
                             capture_output=True, text=True)
    assert mounted.returncode == 0, f"make test runs as root here: {mounted.stderr}"
    yield small
    subprocess.run(["umount", str(small)], check=True)


def test_a_full_work_volume_is_one_line_and_no_retries(small_volume, tmp_path):
    """ENOSPC on the volume of the intermediate data: a message that says so, names the
    volume, its room and what the task needed, exit 75, no pointless retries, scratch
    removed."""
    big = tmp_path / "big.txt"
    big.write_bytes(b"".join(b"w%07d x\n" % i for i in range(200_000)))
    result = run("-m", 1, "--work-dir", small_volume, "--mapper", "cat", "-o", tmp_path / "out",
                 big, timeout=120)
    assert result.returncode == 75, result.stderr
    assert "no space left on the volume holding" in result.stderr
    assert "MB free of 0.5 MB" in result.stderr
    given = re.search(r"had given its sort ([0-9.]+) MB", result.stderr)
    assert given and float(given.group(1)) > 0.3, result.stderr
    assert result.stderr.count("attempt") <= 3  # one attempt, not four
    assert os.listdir(small_volume) == []
    assert not (tmp_path / "out").exists()


def test_a_reducer_that_fills_the_volume_fails_at_once(words, small_volume, tmp_path):
    reducer = shell("cat >/dev/null; head -c 2000000 /dev/zero | tr \"\\0\" x")
    result = run("-r", 1, "--work-dir", small_volume, "--reducer", reducer,
                 "-o", tmp_path / "out", words, timeout=120)
    assert result.returncode == 75, result.stderr
    assert "no space left on the volume holding" in result.stderr
    assert "no space left" in result.stderr.splitlines()[-1] or "exit code 75" in result.stderr
    assert os.listdir(small_volume) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("code", [75, 66])
def test_a_command_exiting_with_an_engine_code_is_an_ordinary_failure(words, tmp_path, code):
    """75 and 66 are the engine's "no space" and "map stage failed": a mapper that exits with
    one is retried like any failing mapper, not taken for the engine's verdict."""
    result = run("--max-attempts", 2, "--mapper", shell(f"cat >/dev/null; exit {code}"),
                 "-o", tmp_path / "out", words, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "2 attempts" in result.stderr
    assert f"exited with code {code}" in result.stderr
