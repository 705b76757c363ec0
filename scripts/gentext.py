#!/usr/bin/env python3
"""Deterministic generated text for samples, tests and benchmarks.

Words come from a synthetic vocabulary (syllables put together by a seeded random
generator) drawn with a Zipf-like law, as in natural text: a few very common words and a
long tail. A share of words is non-ASCII (accented Latin, Greek, Cyrillic, CJK), some carry
punctuation or capitals, and line lengths vary. The same --seed and --bytes always give the
same bytes, on every machine and Python version that keeps `random`'s documented
reproducibility (seeded Random with random() and choices()).
"""
import argparse
import bisect
import itertools
import os
import random
import sys

SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["th", "st", "qu", "sh"]
NON_ASCII_SYLLABLES = ["é", "ü", "ñ", "ø", "ça", "ψα", "λο", "мо", "ри", "水", "木", "語", "ß"]
PUNCTUATION = [",", ".", ";", ":", "!", "?", "'s", "-"]
UNICODE_SPACES = ["\u00a0", "\u3000", "\u2009", "\x1f"]


def make_vocabulary(rng, size):
    words = set()
    while len(words) < size:
        parts = rng.choices(SYLLABLES, k=rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))
        if rng.random() < 0.04:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(NON_ASCII_SYLLABLES))
        words.add("".join(parts))
    return sorted(words)


def zipf_cumulative_weights(n, exponent=1.05):
    return list(itertools.accumulate(1.0 / (rank ** exponent) for rank in range(1, n + 1)))


def decorate(rng, word):
    """Occasional capitals and punctuation, as running text has."""
    r = rng.random()
    if r < 0.06:
        return word.capitalize()
    if r < 0.12:
        return word + rng.choice(PUNCTUATION)
    return word


def generate_lines(seed, vocabulary_size=60_000, unicode_spaces=False):
    """An endless iterator of text lines (str, newline included)."""
    rng = random.Random(seed)
    vocabulary = make_vocabulary(rng, vocabulary_size)
    rng.shuffle(vocabulary)  # rank must not follow the alphabet
    cumulative = zipf_cumulative_weights(len(vocabulary))
    total = cumulative[-1]
    while True:
        n = rng.randint(0, 18)
        picks = [vocabulary[bisect.bisect(cumulative, rng.random() * total)] for _ in range(n)]
        words = [decorate(rng, w) for w in picks]
        if unicode_spaces and words and rng.random() < 0.02:
            sep = rng.choice(UNICODE_SPACES)
        else:
            sep = " "
        yield sep.join(words) + "\n"


def fit(blob, room):
    """`blob` cut to `room` bytes at a character boundary, padded with newlines."""
    if len(blob) <= room:
        return blob
    cut = room
    while cut > 0 and blob[cut] & 0xC0 == 0x80:  # continuation byte: back off
        cut -= 1
    return blob[:cut] + b"\n" * (room - cut)


def write_text(out, size, seed, unicode_spaces=False):
    """Write exactly `size` bytes (the last line may be cut short and lack a newline)."""
    written = 0
    batch = []
    batch_bytes = 0
    for line in generate_lines(seed, unicode_spaces=unicode_spaces):
        data = line.encode("utf-8")
        batch.append(data)
        batch_bytes += len(data)
        if written + batch_bytes >= size or batch_bytes >= 1 << 20:
            blob = fit(b"".join(batch), size - written)
            out.write(blob)
            written += len(blob)
            batch, batch_bytes = [], 0
            if written >= size:
                return written
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bytes", type=int, required=True, help="size of the text")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unicode-spaces", action="store_true",
                        help="separate some lines' words with non-ASCII whitespace")
    parser.add_argument("--output", "-o", help="file to write (default stdout)")
    args = parser.parse_args(argv)
    if args.bytes < 0:
        parser.error("--bytes must not be negative")
    if not args.output:
        write_text(sys.stdout.buffer, args.bytes, args.seed, args.unicode_spaces)
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    temp = f"{args.output}.tmp-{os.getpid()}-{os.urandom(6).hex()}"
    with open(temp, "wb") as out:
        write_text(out, args.bytes, args.seed, args.unicode_spaces)
    os.replace(temp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
