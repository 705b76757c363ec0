"""Paths, constants and small helpers shared by every benchmark."""
from __future__ import annotations

import hashlib
import os
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SCRIPTS = ROOT / "scripts"
RUN_LOCAL = SCRIPTS / "run-local"
RESULTS = BENCH / "results"
CACHE = Path(os.environ.get("CACHE_DIR") or Path.home() / ".cache" / "mapreduce-k8s")
# Every Python in the benchmark runs under the interpreter of the bench virtualenv (the
# fastest build on PATH: bench/pick_python.py).
PY = sys.executable
MB = 1_000_000
SEED = 1


def q(*words: object) -> str:
    """A shell command line of these words, each quoted."""
    return " ".join(shlex.quote(str(w)) for w in words)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sha256_file(path: Path, *, limit: int = 16) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:limit]


def sha256_files(paths: list[Path], *, limit: int = 12) -> str:
    """One digest of several files' contents (missing files are skipped)."""
    digest = hashlib.sha256()
    for path in paths:
        if Path(path).exists():
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:limit]


def size_label(n: int) -> str:
    if n >= 10**9 and n % 10**9 == 0:
        return f"{n // 10**9} GB"
    return f"{n // MB} MB" if n % MB == 0 else f"{n} B"


def parse_size(text: str) -> int:
    """'100MB', '1G', '4k' or a plain number of bytes (10^3 multiples)."""
    text = text.strip().upper()
    for suffix, factor in (("GB", 10**9), ("G", 10**9), ("MB", MB), ("M", MB), ("KB", 1000),
                           ("K", 1000)):
        if text.endswith(suffix):
            return int(float(text[:-len(suffix)]) * factor)
    return int(text)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None
