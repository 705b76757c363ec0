"""bench/pick_python.py: the benchmark's environment is built on the fastest CPython on PATH."""
import importlib.util
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "pick_python", os.path.join(ROOT, "bench", "pick_python.py"))
pick_python = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pick_python)


def fake_python(folder, probe_s, implementation="cpython", version="3.11.4", venv=True,
                executable=True):
    """A `python3` that answers the probe with fixed figures."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "python3")
    answer = json.dumps({"executable": path, "version": version,
                         "implementation": implementation, "venv": venv,
                         "probe_s": probe_s})
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\ncat <<'EOF'\n{answer}\nEOF\n")
    os.chmod(path, 0o755 if executable else 0o644)
    return path


def test_the_fastest_usable_interpreter_comes_first(tmp_path):
    slow = fake_python(tmp_path / "slow", 0.5)
    fast = fake_python(tmp_path / "fast", 0.2)
    fake_python(tmp_path / "pypy", 0.1, implementation="pypy")
    fake_python(tmp_path / "old", 0.1, version="3.8.18")
    fake_python(tmp_path / "novenv", 0.1, venv=False)
    fake_python(tmp_path / "notexec", 0.1, executable=False)
    os.makedirs(tmp_path / "link")
    os.symlink(slow, tmp_path / "link" / "python3")  # the same interpreter twice
    path = ":".join(str(tmp_path / d) for d in
                    ("slow", "pypy", "link", "old", "novenv", "notexec", "fast", "missing"))
    assert pick_python.path_candidates(path).count(slow) == 1
    found = pick_python.survey(path)
    assert [info["executable"] for info in found] == [fast, slow]


def test_a_broken_interpreter_is_passed_over(tmp_path):
    os.makedirs(tmp_path / "broken")
    broken = tmp_path / "broken" / "python3"
    broken.write_text("#!/bin/sh\necho not json\n")
    broken.chmod(0o755)
    good = fake_python(tmp_path / "good", 0.3)
    found = pick_python.survey(f"{tmp_path / 'broken'}:{tmp_path / 'good'}")
    assert [info["executable"] for info in found] == [good]


def test_the_real_interpreter_answers_the_probe():
    found = pick_python.survey(os.path.dirname(sys.executable))
    assert len(found) == 1
    info = found[0]
    assert info["version"] == sys.version.split()[0]
    assert info["probe_s"] > 0
