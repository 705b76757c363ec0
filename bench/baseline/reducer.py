# The original design's reducer (shared/seed/design.txt, "Reducer Code"), copied unchanged as
# the benchmark baseline. Not maintained: do not improve it.
# Kept as written, so the linter leaves it alone:
# ruff: noqa
import sys
from collections import defaultdict

counts = defaultdict(int)
for line in sys.stdin:
    word, count = line.split("\t")
    counts[word] += int(count)

for word, count in counts.items():
    print(f"{word}\t{count}")
