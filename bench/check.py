"""Every tool's output read into {word bytes: count} and compared with the expected counts
(bench/data.py): a time counts only when its run's output agrees."""
from __future__ import annotations

from pathlib import Path

Counts = dict[bytes, int]


def parse_tsv_files(paths: list[Path]) -> tuple[Counts, int]:
    """`word<TAB>count` lines of several files; also how many words came more than once."""
    counts: Counts = {}
    repeated = 0
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if not line:
                    continue
                key, _, value = line.rpartition(b"\t")
                if key in counts:
                    repeated += 1
                counts[key] = counts.get(key, 0) + int(value)
    return counts, repeated


def parse_uniq_c(path: Path) -> tuple[Counts, int]:
    """`uniq -c` lines: spaces, count, one space, word. Empty words (from leading
    whitespace that tr turned into an empty first line) are dropped."""
    counts: Counts = {}
    repeated = 0
    with open(path, "rb") as f:
        for line in f:
            number, _, word = line.rstrip(b"\n").lstrip(b" ").partition(b" ")
            if not word:
                continue
            repeated += word in counts
            counts[word] = counts.get(word, 0) + int(number)
    return counts, repeated


def part_files(directory: Path) -> list[Path]:
    """The part files of a job's output directory (Hadoop's .crc files left out)."""
    return sorted(p for p in Path(directory).rglob("part-*") if p.is_file()
                  and not p.name.endswith(".crc"))


def parse_job_output(directory: Path) -> tuple[Counts, int]:
    """The counts of a committed job's output directory; nothing when it has no _SUCCESS."""
    if not (Path(directory) / "_SUCCESS").exists():
        return {}, 0
    return parse_tsv_files(part_files(directory))


def check_output(counts: Counts, repeated: int, expected: Counts) -> tuple[bool, str]:
    """Whether the counts equal the expected ones, and a short account of the difference."""
    if repeated:
        return False, f"{repeated} words appear more than once in the output"
    if counts == expected:
        return True, f"{len(counts)} words, all counts equal"
    missing = [k for k in expected if k not in counts]
    extra = [k for k in counts if k not in expected]
    wrong = [k for k in expected if k in counts and counts[k] != expected[k]]
    return False, (f"{len(missing)} missing (e.g. {missing[:3]}), {len(extra)} unexpected "
                   f"(e.g. {extra[:3]}), {len(wrong)} wrong counts (e.g. "
                   f"{[(k, counts[k], expected[k]) for k in wrong[:3]]})")
