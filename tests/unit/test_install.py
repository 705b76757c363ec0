"""`pip install .` gives the commands, with the standard library only, outside the clone."""
import os
import shutil
import subprocess
import sys

from conftest import REPO, parse_counts, read_output_dir, reference_counts


def test_pip_install_gives_run_local_and_the_engine(tmp_path):
    source = tmp_path / "src"  # a copy: an in-tree build would leave build/ in the clone
    shutil.copytree(os.path.join(REPO, "scripts"), source / "scripts",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)], check=True)
    freeze = subprocess.run([str(venv / "bin" / "pip"), "freeze"], capture_output=True,
                            text=True, check=True).stdout
    assert [line for line in freeze.splitlines() if not line.startswith("mapreduce-k8s")] == []
    text = tmp_path / "in.txt"
    text.write_bytes("one two two\nthree é\n".encode() * 500)
    out = tmp_path / "out"
    subprocess.run([str(venv / "bin" / "run-local"), "-q", "-m", "2", "-r", "2", "-o", str(out),
                    str(text)], check=True, cwd=tmp_path)
    assert parse_counts(read_output_dir(out)) == reference_counts(text.read_bytes())
    steps = subprocess.run([str(venv / "bin" / "mapreduce"), "--help"], capture_output=True,
                           text=True, check=True).stdout
    assert "map-task" in steps and "reduce-task" in steps
