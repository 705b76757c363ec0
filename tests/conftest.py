"""Shared helpers for every test layer: where the engine lives and the independent reference."""
import os
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(REPO, "scripts")  # the engine package (pytest pythonpath) and the scripts


def shell(script):
    """A command line that runs `script` with sh: commands are not run through a shell (as in
    Hadoop Streaming), so a test that wants one says so. No single quotes in `script`."""
    assert "'" not in script
    return f"sh -c '{script}'"


def reference_counts(data):
    """Word counts the way the original design defines them: str.split() on the UTF-8 text,
    bad bytes kept (surrogateescape), a leading BOM dropped (Hadoop's reader does)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return Counter(data.decode("utf-8", "surrogateescape").split())


def parse_counts(data):
    """word -> count from `word<TAB>count` lines; fails on a repeated word."""
    counts = {}
    for line in data.splitlines():
        key, tab, value = line.partition(b"\t")
        assert tab, f"no tab in output line {line!r}"
        word = key.decode("utf-8", "surrogateescape")
        assert word not in counts, f"word {word!r} appears twice in the output"
        counts[word] = int(value)
    return Counter(counts)


def read_output_dir(path):
    """The concatenated data files of a committed output directory."""
    assert os.path.exists(os.path.join(path, "_SUCCESS")), f"{path} did not commit"
    data = b""
    for name in sorted(os.listdir(path)):
        if not name.startswith(("_", ".")):
            with open(os.path.join(path, name), "rb") as f:
                data += f.read()
    return data
