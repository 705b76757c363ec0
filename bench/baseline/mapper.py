# The original design's mapper (shared/seed/design.txt, "Mapper Code"), copied unchanged as
# the benchmark baseline. Not maintained: do not improve it.
# Kept as written, so the linter leaves it alone:
# ruff: noqa
import sys
for line in sys.stdin:
    words = line.strip().split()
    for word in words:
        print(f"{word}\t1")
