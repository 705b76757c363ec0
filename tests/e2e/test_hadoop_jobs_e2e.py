"""Classic Hadoop Streaming jobs through the chart's values (jobConf, partitioner, files,
outputCompression), each equal to run-local's output with the same Hadoop options; a job of
many map tasks and reducers; a reinstall that must not return the previous install's result."""
import gzip
import os
import random

import yaml

from conftest import SCRIPTS, data_files, run_local

SECONDARY_SORT = {
    "stream.num.map.output.key.fields": "2",
    "mapreduce.partition.keypartitioner.options": "-k1,1",
    "mapreduce.job.output.key.comparator.class":
        "org.apache.hadoop.mapred.lib.KeyFieldBasedComparator",
    "mapreduce.partition.keycomparator.options": "-k1,1 -k2,2nr",
}
KEY_FIELD_PARTITIONER = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"

JOIN_MAPPER = """\
import os, sys
source = os.path.basename(os.environ["mapreduce_map_input_file"])
tag = b"A" if source.startswith("users") else b"B"
for line in sys.stdin.buffer:
    key, _, rest = line.rstrip(b"\\n").partition(b"\\t")
    sys.stdout.buffer.write(key + b"\\t" + tag + b"\\t" + rest + b"\\n")
"""
JOIN_REDUCER = """\
import sys
current, names = None, []
for line in sys.stdin.buffer:
    key, tag, rest = line.rstrip(b"\\n").split(b"\\t", 2)
    if key != current:
        current, names = key, []
    if tag == b"A":
        names.append(rest)
    else:
        for name in names:
            sys.stdout.buffer.write(key + b"\\t" + name + b"\\t" + rest + b"\\n")
"""
INDEX_MAPPER = """\
import os, sys
doc = os.path.basename(os.environ["map_input_file"]).encode()
for line in sys.stdin.buffer:
    for word in set(line.split()):
        sys.stdout.buffer.write(word + b"\\t" + doc + b"\\n")
"""
INDEX_REDUCER = """\
import sys
current, docs = None, set()
def flush():
    if current is not None:
        sys.stdout.buffer.write(current + b"\\t" + b",".join(sorted(docs)) + b"\\n")
for line in sys.stdin.buffer:
    key, _, doc = line.rstrip(b"\\n").partition(b"\\t")
    if key != current:
        flush()
        current, docs = key, set()
    docs.add(doc)
flush()
"""


def input_dir(cluster, release, files):
    folder = cluster.shared / "e2e-inputs" / release
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    os.chmod(folder, 0o755)
    return folder


def values_file(tmp_path, values):
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


def decompressed(folder):
    return {name: gzip.decompress(data) if name.endswith(".gz") else data
            for name, data in data_files(folder).items()}


def hadoop_options(job_conf, partitioner=None):
    out = []
    for name, value in job_conf.items():
        out += ["-D", f"{name}={value}"]
    if partitioner:
        out += ["-partitioner", partitioner]
    return out


def test_secondary_sort(cluster, namespace, release, tmp_path):
    rng = random.Random(7)
    lines = [f"user{rng.randrange(40)}\t{rng.randrange(10000)}\n" for _ in range(5000)]
    folder = input_dir(cluster, release, {"scores.txt": "".join(lines).encode()})
    values = {"mappers": 3, "reducers": 3, "mapperCommand": "cat", "reducerCommand": "cat",
              "partitioner": KEY_FIELD_PARTITIONER, "jobConf": SECONDARY_SORT,
              "input": {"paths": [f"e2e-inputs/{release}"], "sample": {"enabled": False}}}
    cluster.install(namespace, release, "-f", values_file(tmp_path, values))
    local = run_local([folder], tmp_path / "local", 3, 3, "-mapper", "cat", "-reducer", "cat",
                      *hadoop_options(SECONDARY_SORT, KEY_FIELD_PARTITIONER))
    got = data_files(cluster.output_dir(namespace, release))
    assert got == data_files(local)
    for part in got.values():  # within a user, scores high to low
        # A two-field key with an empty value reaches the output with a trailing tab, as
        # Hadoop writes it: user, score, "".
        rows = [line.split(b"\t")[:2] for line in part.splitlines()]
        for (u1, s1), (u2, s2) in zip(rows, rows[1:]):
            assert u1 < u2 or (u1 == u2 and int(s1) >= int(s2))


def test_reduce_side_join_with_files(cluster, namespace, release, tmp_path):
    users = "".join(f"u{i}\tname{i}\n" for i in range(200)).encode()
    orders = "".join(f"u{i % 230}\torder{i}\n" for i in range(1000)).encode()
    folder = input_dir(cluster, release, {"users.txt": users, "orders.txt": orders})
    (tmp_path / "join_mapper.py").write_text(JOIN_MAPPER)
    (tmp_path / "join_reducer.py").write_text(JOIN_REDUCER)
    join_conf = {"stream.num.map.output.key.fields": "2",
                 "mapreduce.partition.keypartitioner.options": "-k1,1"}
    values = {"mappers": 2, "reducers": 2, "mapperCommand": "python3 join_mapper.py",
              "reducerCommand": "python3 join_reducer.py", "jobConf": join_conf,
              "partitioner": KEY_FIELD_PARTITIONER,
              "input": {"paths": [f"e2e-inputs/{release}"], "sample": {"enabled": False}}}
    cluster.install(namespace, release, "-f", values_file(tmp_path, values),
                    "--set-file", f"files.join_mapper\\.py={tmp_path / 'join_mapper.py'}",
                    "--set-file", f"files.join_reducer\\.py={tmp_path / 'join_reducer.py'}")
    local = run_local([folder], tmp_path / "local", 2, 2, "-mapper", "python3 join_mapper.py",
                      "-reducer", "python3 join_reducer.py",
                      "-files", f"{tmp_path / 'join_mapper.py'},{tmp_path / 'join_reducer.py'}",
                      *hadoop_options(join_conf, KEY_FIELD_PARTITIONER))
    got = data_files(cluster.output_dir(namespace, release))
    assert got == data_files(local)
    assert sum(part.count(b"\n") for part in got.values()) == sum(
        1 for i in range(1000) if i % 230 < 200)


def test_inverted_index_gzip_output(cluster, namespace, release, tmp_path):
    rng = random.Random(3)
    words = [f"w{i}" for i in range(300)]
    docs = {f"doc{d}.txt": " ".join(rng.choice(words) for _ in range(400)).encode() + b"\n"
            for d in range(6)}
    folder = input_dir(cluster, release, docs)
    (tmp_path / "index_mapper.py").write_text(INDEX_MAPPER)
    (tmp_path / "index_reducer.py").write_text(INDEX_REDUCER)
    values = {"mappers": 2, "reducers": 2, "mapperCommand": "python3 index_mapper.py",
              "reducerCommand": "python3 index_reducer.py", "outputCompression": True,
              "input": {"paths": [f"e2e-inputs/{release}"], "sample": {"enabled": False}}}
    cluster.install(namespace, release, "-f", values_file(tmp_path, values),
                    "--set-file", f"files.index_mapper\\.py={tmp_path / 'index_mapper.py'}",
                    "--set-file", f"files.index_reducer\\.py={tmp_path / 'index_reducer.py'}")
    local = run_local([folder], tmp_path / "local", 2, 2, "-mapper", "python3 index_mapper.py",
                      "-reducer", "python3 index_reducer.py",
                      "-file", tmp_path / "index_mapper.py", "-file", tmp_path / "index_reducer.py",
                      "-D", "mapreduce.output.fileoutputformat.compress=true",
                      "-D", "mapreduce.output.fileoutputformat.compress.codec="
                            "org.apache.hadoop.io.compress.GzipCodec")
    out = cluster.output_dir(namespace, release)
    assert sorted(data_files(out)) == ["part-00000.gz", "part-00001.gz"]
    assert decompressed(out) == decompressed(local)
    test = cluster.helm("test", release, "--namespace", namespace, "--logs")
    assert "succeeded" in test.stdout.lower()


def test_many_map_tasks_and_reducers(cluster, namespace, release, tmp_path):
    rng = random.Random(11)
    files = {f"part{i:03d}.txt": " ".join(f"k{rng.randrange(3000)}" for _ in range(300)).encode()
             + b"\n" for i in range(120)}
    folder = input_dir(cluster, release, files)
    values = {"mappers": 4, "reducers": 24, "input": {"paths": [f"e2e-inputs/{release}"],
                                                      "sample": {"enabled": False}}}
    cluster.install(namespace, release, "-f", values_file(tmp_path, values))
    out = cluster.output_dir(namespace, release)
    local = run_local([folder], tmp_path / "local", 4, 24, "--combiner",
                      f"python3 {SCRIPTS}/reducer.py")
    assert data_files(out) == data_files(local)
    report = (out / "_SUCCESS").read_text()
    assert '"mappers": 120' in report  # one map task per file, four pods running them


def test_reinstall_never_returns_the_previous_result(cluster, namespace, release, tmp_path):
    first = {"mappers": 2, "storage": {"keepOnUninstall": True},
             "input": {"sample": {"seed": 1, "bytes": 200000}}}
    cluster.install(namespace, release, "-f", values_file(tmp_path, first))
    old = cluster.output_dir(namespace, release)
    cluster.helm("uninstall", release, "--namespace", namespace, "--wait")
    second = dict(first, input={"sample": {"seed": 2, "bytes": 300000}})
    (tmp_path / "second").mkdir()
    cluster.install(namespace, release, "-f", values_file(tmp_path / "second", second))
    outputs = sorted((cluster.shared / namespace / release / "output").glob("1-*"))
    assert len(outputs) == 2
    new = next(o for o in outputs if o != old)
    local = run_local([cluster.sample_file(namespace, release, seed=2, size=300000)],
                      tmp_path / "local", 2, 2, "--combiner", f"python3 {SCRIPTS}/reducer.py")
    assert data_files(new) == data_files(local) != data_files(old)
