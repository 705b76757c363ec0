"""chart/files/check-output.py, the `helm test` check, on output directories laid out as the
engine commits them (plain and gzip parts), started as the test pod starts it."""
import gzip
import json
import subprocess
import sys

from conftest import CHART, ROOT

CHECK = CHART / "files" / "check-output.py"


def commit(out, parts, records, reducers=2):
    out.mkdir()
    for name, data in parts.items():
        (out / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    stage = "REDUCE" if reducers else "MAP"
    (out / "_SUCCESS").write_text(json.dumps({
        "reducers": reducers, "parts": sorted(parts),
        "counters": {"mapreduce": {f"{stage}_OUTPUT_RECORDS": records}}}))


def check(out, *extra):
    return subprocess.run([sys.executable, "-S", str(CHECK), "--output", str(out), *extra],
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "scripts")})


def test_a_committed_run_passes_and_prints_the_top_keys(tmp_path):
    out = tmp_path / "out"
    commit(out, {"part-00000": b"the\t5\nof\t3\n", "part-00001": b"and\t4\n"}, records=3)
    proc = check(out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sum of values: 12" in proc.stdout and "5\tthe" in proc.stdout


def test_gzip_parts_and_text_values_are_read(tmp_path):
    out = tmp_path / "out"
    commit(out, {"part-00000.gz": b"k1\tv1\nk2\tv2\n", "part-00001.gz": b"k3\n"}, records=3)
    proc = check(out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "records: 3" in proc.stdout and "sum of values" not in proc.stdout


def test_a_missing_part_or_a_wrong_count_fails(tmp_path):
    out = tmp_path / "out"
    commit(out, {"part-00000": b"a\t1\n", "part-00001": b"b\t1\n"}, records=2)
    (out / "part-00001").unlink()
    proc = check(out)
    assert proc.returncode == 1 and "missing ['part-00001']" in proc.stdout
    out2 = tmp_path / "out2"
    commit(out2, {"part-00000": b"a\t1\n"}, records=2, reducers=0)
    proc = check(out2)
    assert proc.returncode == 1 and "counter mapreduce.MAP_OUTPUT_RECORDS = 2" in proc.stdout


def test_no_success_file_fails(tmp_path):
    proc = check(tmp_path)
    assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_waiting_stops_at_a_failed_map_task(tmp_path):
    job = tmp_path / "job"
    (job / "map" / "_failed" / "m-00000").mkdir(parents=True)
    (job / "plan.json").write_text(json.dumps({"splits": [{}]}))
    (job / "map" / "_failed" / "m-00000" / "a1.json").write_text(json.dumps(
        {"final": True, "exit_code": 65, "attempt": "a1", "stderr_tail": ["bad line 3"]}))
    proc = check(tmp_path / "out", "--job-dir", str(job), "--wait-seconds", "30")
    assert proc.returncode == 1 and "map task 0 failed for good" in proc.stderr
    assert "bad line 3" in proc.stderr
