"""The benchmarks' input, generated text, and its word counts computed independently.

The text comes from scripts/gentext.py and is cached in $CACHE_DIR/bench-data with the
expected counts beside it, computed here with Python's str.split() on the UTF-8 text: no
tool under test takes part in them.
"""
from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.common import CACHE, PY, SCRIPTS, SEED, log, sha256_file, size_label

DATA_DIR = CACHE / "bench-data"
BOM = b"\xef\xbb\xbf"
# Whitespace that Python's str.split() separates on but tr's [:space:] (C locale) and awk's
# default field splitting do not: \v \f \r, the ASCII separators \x1c-\x1f, and the
# Unicode spaces in UTF-8. Where the text holds none, all tools must agree exactly.
NON_AWK_WHITESPACE = re.compile(
    rb"[\x0b\x0c\r\x1c-\x1f]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]"
    rb"|\xe2\x81\x9f|\xe3\x80\x80")


def read_chunks(path: Path, *, size: int = 1 << 24) -> Iterator[bytes]:
    """The file's bytes in blocks cut after a newline (so no word is cut)."""
    with open(path, "rb") as f:
        pending = b""
        while True:
            block = f.read(size)
            if not block:
                if pending:
                    yield pending
                return
            block = pending + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                pending = block
                continue
            yield block[:cut]
            pending = block[cut:]


def generate(path: Path, *, size: int, seed: int) -> None:
    log(f"generating {size_label(size)} of text into {path}")
    subprocess.run([PY, str(SCRIPTS / "gentext.py"), "--bytes", str(size), "--seed",
                    str(seed), "--output", str(path)], check=True)


def count_words(path: Path) -> tuple[Counter, bool]:
    """The words of the file by str.split(), and whether its only whitespace is ASCII."""
    counts: Counter = Counter()
    ascii_only_whitespace = True
    for i, chunk in enumerate(read_chunks(path)):
        if i == 0 and chunk.startswith(BOM):
            chunk = chunk[len(BOM):]
        if ascii_only_whitespace and NON_AWK_WHITESPACE.search(chunk):
            ascii_only_whitespace = False
        counts.update(chunk.decode("utf-8", "surrogateescape").split())
    return counts, ascii_only_whitespace


def write_counts(counts: Counter, path: Path) -> None:
    """`word<TAB>count` lines, in byte order of the words."""
    with open(path, "wb") as out:
        for word in sorted(counts, key=lambda w: w.encode("utf-8", "surrogateescape")):
            out.write(b"%s\t%d\n" % (word.encode("utf-8", "surrogateescape"), counts[word]))


def dataset(size: int, *, seed: int = SEED) -> tuple[Path, dict]:
    """Generated text of `size` bytes plus its metadata, made once and cached."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"gentext-{size}-seed{seed}.txt"
    meta_path = path.with_suffix(".meta.json")
    gentext_sha = sha256_file(SCRIPTS / "gentext.py")
    if not path.exists() or path.stat().st_size != size:
        generate(path, size=size, seed=seed)
        meta_path.unlink(missing_ok=True)
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    if meta is None:
        log(f"computing the expected counts of {path.name}")
        counts, ascii_only_whitespace = count_words(path)
        reference = path.with_suffix(".expected.tsv")
        write_counts(counts, reference)
        meta = {"path": str(path), "bytes": size, "seed": seed,
                "gentext_sha256": gentext_sha, "distinct_words": len(counts),
                "words": sum(counts.values()), "ascii_only_whitespace": ascii_only_whitespace,
                "expected": str(reference), "expected_sha256": sha256_file(reference)}
        meta_path.write_text(json.dumps(meta, indent=1))
    if meta.get("gentext_sha256") != gentext_sha:
        log(f"note: {path.name} was made by an older scripts/gentext.py; the expected counts "
            "are computed from the file itself, so comparisons stay valid")
    return path, meta


def load_counts(path: Path) -> dict[bytes, int]:
    """{word bytes: count} from `word<TAB>count` lines."""
    counts = {}
    with open(path, "rb") as f:
        for line in f:
            key, _, value = line.rstrip(b"\n").partition(b"\t")
            counts[key] = int(value)
    return counts
