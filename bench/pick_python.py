#!/usr/bin/env python3
"""Print the fastest CPython 3 on PATH: the interpreter the benchmark's environment uses.

Builds of the same Python version differ a lot on bytecode-heavy code: one compiled
without profile-guided optimisation (pyenv's default) runs the original design's scripts
about 1.6x slower than a distribution's build, but our scripts (whose time is in C loops)
only about 1.15x slower. Peers written in Python (the original design's scripts, mrjob,
PySpark's RDD workers) would be slowed more than we are and flatter our ratios, so every
Python in the benchmark runs under the fastest interpreter found, and the report says which.

    python3 bench/pick_python.py          # the path of the fastest one
    python3 bench/pick_python.py --all    # every candidate and its time, as JSON
"""
import json
import os
import subprocess
import sys

# A dictionary-and-string loop, the kind of work the Python peers do per word. It prints
# the interpreter's own path (a pyenv shim resolves to the real one this way), its
# version, whether it can build a venv, and the best of three timings.
PROBE = r"""
import json, sys, time
def loop():
    counts = {}
    for i in range(1_000_000):
        word = str(i % 5000)
        counts[word] = counts.get(word, 0) + 1
    return counts
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    loop()
    best = min(best, time.perf_counter() - start)
try:
    import ensurepip, venv
    has_venv = True
except ImportError:
    has_venv = False
print(json.dumps({"executable": sys.executable, "version": sys.version.split()[0],
                  "implementation": sys.implementation.name, "venv": has_venv,
                  "probe_s": round(best, 4)}))
"""


def path_candidates(path=None):
    """Every distinct `python3` file on PATH, in PATH order."""
    found = {}  # real path -> the first name found for it (dicts keep insertion order)
    for directory in (path if path is not None else os.environ.get("PATH", "")).split(":"):
        candidate = os.path.join(directory or ".", "python3")
        if os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            found.setdefault(os.path.realpath(candidate), candidate)
    return list(found.values())


def probe(candidate):
    """What `candidate` says about itself, or None if it cannot run the probe."""
    try:
        out = subprocess.run([candidate, "-I", "-c", PROBE], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=120, check=True)
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def usable(info):
    return (info is not None and info["implementation"] == "cpython" and info["venv"]
            and tuple(int(x) for x in info["version"].split(".")[:2]) >= (3, 9))


def survey(path=None):
    """Every usable interpreter on PATH (one entry per real executable), fastest first."""
    by_executable = {}
    for candidate in path_candidates(path):
        info = probe(candidate)
        if usable(info):
            by_executable.setdefault(os.path.realpath(info["executable"]), info)
    return sorted(by_executable.values(), key=lambda info: info["probe_s"])


def main(argv):
    found = survey()
    if "--all" in argv:
        json.dump(found, sys.stdout, indent=1)
        print()
        return 0
    if not found:
        sys.stderr.write("pick_python: no CPython >= 3.9 with venv on PATH\n")
        return 1
    print(found[0]["executable"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
