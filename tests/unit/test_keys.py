"""Hadoop's hash of a key's bytes and the partition it gives, against the obvious loop."""
import random

import pytest
from hypothesis import given, settings, strategies as st

from mapreduce import keys
from mapreduce.settings import JobConf


def hash_bytes(data, start=1):
    """WritableComparator.hashBytes as Hadoop writes it: h = 31*h + (signed) byte, in int."""
    h = start & 0xFFFFFFFF
    for b in data:
        h = (31 * h + (b - 256 if b > 127 else b)) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def hash_partition(data, reducers):
    """HashPartitioner.getPartition: (hashCode & Integer.MAX_VALUE) % numReduceTasks."""
    return (hash_bytes(data) & 0x7FFFFFFF) % reducers


def random_keys(count=20000, seed=7):
    rng = random.Random(seed)
    out = [b"", bytes(range(256)), bytes(range(255, -1, -1))]
    out += [bytes([b]) for b in range(256)]
    out += [bytes([b]) * n for b in (0, 1, 127, 128, 255) for n in (2, 3, 40, 255, 256, 257, 600)]
    for _ in range(count):
        out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(41))))
    for _ in range(200):  # longer than the fast path's piece, hashed in several pieces
        out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(41, 1200))))
    return out


KEYS = random_keys()


def test_known_hashes():
    assert keys.java_bytes_hash(b"") == 1
    assert keys.java_bytes_hash(b"a") == 31 + 97
    assert keys.java_bytes_hash(b"\x80") == 31 - 128
    assert keys.java_bytes_hash(b"\xff") == 31 - 1
    assert keys.java_bytes_hash(b"hello", 0) == 99162322  # "hello".hashCode() in Java


def test_java_bytes_hash_is_hadoops_loop():
    for data in KEYS:
        assert keys.java_bytes_hash(data) == hash_bytes(data), data


def test_java_bytes_hash_goes_on_from_a_start_hash():
    rng = random.Random(3)
    starts = [0, 1, -1, 2**31 - 1, -(2**31), 12345, -987654321]
    for data in KEYS[:3000]:
        start = rng.choice(starts)
        assert keys.java_bytes_hash(data, start) == hash_bytes(data, start), (data, start)


@pytest.mark.parametrize("reducers", [2, 3, 7, 16, 1000, 2**31 - 1])
def test_hash_partitioner_is_hadoops(reducers):
    partition = keys.make_partitioner(JobConf(), reducers)
    for data in KEYS:
        assert partition(data) == hash_partition(data, reducers), data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700), st.integers(2, 5000))
def test_hash_partitioner_on_any_bytes(data, reducers):
    assert keys.make_partitioner(JobConf(), reducers)(data) == hash_partition(data, reducers)


def test_record_writer_places_each_key_by_its_hash():
    reducers = 5
    lines = [key.replace(b"\t", b" ").replace(b"\n", b" ") + b"\t1" for key in KEYS[:5000]]
    out = []
    counts, sizes = [0] * reducers, [0] * reducers
    keys.make_record_writer(JobConf(), reducers, out.append, counts, sizes)(lines)
    records = b"".join(out).split(b"\n")[:-1]
    assert len(records) == len(lines)
    for line, record in zip(lines, records):
        partition, key, value = record.split(b"\t", 2)
        assert key + b"\t" + value == line
        assert int(partition) == hash_partition(key, reducers)
    assert sum(counts) == len(lines)
