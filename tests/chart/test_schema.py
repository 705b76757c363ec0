"""values.schema.json: strict, self-contained, and bad values fail `helm template` (Helm 4 and 3)
with a message naming the field."""
import json
import subprocess
import sys

import pytest

from conftest import CHART, HELMS, ROOT, template

SCHEMA = CHART / "values.schema.json"

BAD = [
    (["--set", "paralelism=3"], "paralelism"),
    (["--set", "mappers=0"], "mappers"),
    (["--set", "mappers=-2"], "mappers"),
    (["--set", "mappers=many"], "mappers"),
    (["--set", "reducers=-1"], "reducers"),
    (["--set", "parallelism=-1"], "parallelism"),
    (["--set", "combiner=maybe"], "combiner"),
    (["--set", "map.backoffLimitPerIndex=-1"], "backoffLimitPerIndex"),
    (["--set", "map.retries=2"], "retries"),
    (["--set", "badInputExitCode=0"], "badInputExitCode"),
    (["--set", "badInputExitCode=300"], "badInputExitCode"),
    (["--set", "mapStageFailedExitCode=0"], "mapStageFailedExitCode"),
    (["--set", "mapStageFailedExitCode=256"], "mapStageFailedExitCode"),
    (["--set", "images.mapper.tag=latest"], "tag"),
    (["--set", "images.reducer.pullPolicy=Sometimes"], "pullPolicy"),
    (["--set", "images.mapper.digest=sha256:abc"], "digest"),
    (["--set", "storage.accessMode=ReadWriteOncePod"], "accessMode"),
    (["--set", "storage.nfs.sever=nfs1"], "sever"),
    (["--set", "storage.mountPath=relative"], "mountPath"),
    (["--set", "input.urls={ftp://example.com/a.txt}"], "urls"),
    (["--set", "input.sample.bytes=0"], "bytes"),
    (["--set", "shuffle.timeoutSeconds=0"], "timeoutSeconds"),
    (["--set", "shuffle.pollSeconds=0"], "pollSeconds"),
    (["--set", "ttlSecondsAfterFinished=-5"], "ttlSecondsAfterFinished"),
    (["--set", "map.resources.limits.memory=null"], "memory"),
    (["--set", "tests.enabled=yes"], "enabled"),
    (["--set", "sortBuffer=lots"], "sortBuffer"),
    (["--set", "extraEnv.bad-name=1"], "bad-name"),
    (["--set", "inputFormat=org.apache.hadoop.mapred.SequenceFileInputFormat"], "inputFormat"),
    (["--set", "outputFormat=org.apache.hadoop.mapred.SequenceFileOutputFormat"], "outputFormat"),
    (["--set", "partitioner=com.example.MyPartitioner"], "partitioner"),
    (["--set", "outputCompression=gzip"], "outputCompression"),
    (["--set", "cmdenv.bad-name=1"], "bad-name"),
    (["--set", "files.sub/dir=1"], "sub/dir"),
    (["--set", "jobConf.bad name=1"], "bad name"),
    (["--set", "nameOverride=Word_Count"], "nameOverride"),
    (["--set", "fullnameOverride=" + "x" * 64], "fullnameOverride"),
    (["--set", "fullnameOverride=-wc"], "fullnameOverride"),
    (["--set", "serviceAccount.name=Runner!"], "name"),
    (["--set", "storage.baseDir=a b"], "baseDir"),
]

# Caught by the templates (not expressible in the schema), also with a message naming the field.
BAD_TEMPLATE = [
    (["--set", "extraEnv.TMPDIR=/var/tmp"], "extraEnv.TMPDIR"),
    (["--set", "badInputExitCode=66"], "badInputExitCode and mapStageFailedExitCode"),
    (["--set", "mapStageFailedExitCode=65"], "badInputExitCode and mapStageFailedExitCode"),
    (["--set", "badInputExitCode=75"], "badInputExitCode: 75 is the engine's own exit code"),
    (["--set", "mapStageFailedExitCode=75"], "mapStageFailedExitCode: 75 is the engine's own"),
    (["--set", "input.paths={/etc/passwd}"], "input.paths"),
    (["--set", "input.paths={/data/../etc}"],
     "input.paths: \"/data/../etc\" is not on the shared volume (it resolves to /etc"),
    (["--set", "input.paths={../../tmp}"],
     "input.paths: \"../../tmp\" is not on the shared volume (it resolves to /tmp"),
    (["--set", "storage.baseDir=../elsewhere"], "storage.baseDir: \"../elsewhere\" leaves the shared volume"),
    (["--set", "storage.baseDir=a/../.."], "storage.baseDir"),
    (["--set", "storage.mountPath=/data/.."], "storage.mountPath"),
    (["--set", "networkPolicy.enabled=true", "--set", "input.urls={https://example.com/a}"],
     "networkPolicy.enabled"),
    (["--set", r"jobConf.mapreduce\.job\.reduces=3"], "jobConf.mapreduce.job.reduces: set the chart value reducers"),
    (["--set", r"jobConf.mapred\.partitioner\.class=x"],
     "jobConf.mapred.partitioner.class: set the chart value partitioner"),
    (["--set", r"jobConf.mapred\.output\.compress=true"], "outputCompression"),
    (["--set", "input.sample.enabled=false"], "input"),
    (["--set", "storage.nfs.server=nfs1"], "storage.nfs"),
    (["--set", "storage.existingClaim=data", "--set", "storage.nfs.server=nfs1", "--set", "storage.nfs.path=/x"],
     "storage.existingClaim"),
]


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("args,field", BAD + BAD_TEMPLATE, ids=[a[-1] for a, _ in BAD + BAD_TEMPLATE])
def test_bad_values_fail_naming_the_field(helm, args, field):
    proc = template(*args, helm=helm, check=False)
    assert proc.returncode != 0, f"{args} rendered without error"
    assert field in proc.stderr, proc.stderr


@pytest.mark.parametrize("helm", HELMS)
def test_good_edge_values_pass(helm):
    template("--set", "parallelism=0", "--set", "reducers=0", "--set", "mappers=1",
             "--set", "ttlSecondsAfterFinished=null", helm=helm)
    docs = template("--set", "input.paths={books/../news/./a.txt,/data/x//y/}",
                    "--set", "storage.baseDir=/team/./jobs/",
                    "--set", "serviceAccount.name=runner.batch", "--set", "nameOverride=wc2", helm=helm)
    (job,) = [d for d in docs if d["kind"] == "Job" and "-map-" in d["metadata"]["name"]]
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-2:] == ["/data/news/a.txt", "/data/x/y"]
    assert args[args.index("--job-dir") + 1].startswith("/data/team/jobs/runs/")


def test_schema_is_generated_and_current():
    proc = subprocess.run([sys.executable, str(ROOT / "ci" / "gen_values_schema.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}/{i}")


def test_schema_is_self_contained_and_strict():
    schema = json.loads(SCHEMA.read_text())
    for path, node in walk(schema):
        ref = node.get("$ref")
        if ref is not None:
            assert ref.startswith("#/"), f"{path}: non-local $ref {ref}"
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, f"{path}: not strict"


def test_every_value_is_in_the_schema():
    import yaml
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads(SCHEMA.read_text())
    defs = schema["definitions"]

    def resolve(node):
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        return node

    def check(value, node, where):
        node = resolve(node)
        if isinstance(value, dict) and "properties" in node:
            for k, v in value.items():
                assert k in node["properties"], f"{where}.{k} is not in the schema"
                check(v, node["properties"][k], f"{where}.{k}")
    check(values, schema, "values")


def test_set_file_script_is_shipped_and_used(tmp_path):
    script = tmp_path / "my_mapper.py"
    text = ("#!/usr/bin/env python3\nimport sys\nfor l in sys.stdin:\n"
            "\tprint(l.strip() + '\\t1')  # tab, quotes: \"x\"\n")
    script.write_text(text)
    docs = template("--set-file", f"mapperScript={script}")
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-scripts")]
    assert cm["data"] == {"mapper.py": text}
    (job,) = [d for d in docs if d["kind"] == "Job"
              and d["metadata"]["labels"]["app.kubernetes.io/component"] == "map"]
    pod = job["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args[args.index("--mapper") + 1] == "python3 /etc/mapreduce/mapper.py"
    # the reducer and combiner stay the built-in ones
    assert args[args.index("--combiner") + 1] == "python3 /opt/mapreduce/reducer.py"
    assert {"name": "etc", "mountPath": "/etc/mapreduce", "readOnly": True} in pod["containers"][0]["volumeMounts"]
    (etc,) = [v for v in pod["volumes"] if v["name"] == "etc"]
    assert etc["projected"]["sources"] == [{"configMap": {"name": cm["metadata"]["name"]}}]


def load_generator():
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_values_schema", ROOT / "ci" / "gen_values_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_documented_value_carries_its_description_into_the_schema():
    import yaml
    gen = load_generator()
    text = (CHART / "values.yaml").read_text()
    comments = gen.comments_by_key(text)
    schema = json.loads(SCHEMA.read_text())
    checked = 0
    for key, lines in comments.items():
        _, description, _ = gen.parse_comment(key, lines)
        if not description:
            continue
        node = schema
        for part in key.split("."):
            node = node.get("properties", {}).get(part)
            if node is None:
                break
        if node is not None and "$ref" not in node:
            assert node["description"] == description, key
            checked += 1
    assert checked > 40
    assert yaml.safe_load(text)  # the source parses


def test_schema_lines_below_the_helm_docs_line_are_refused():
    gen = load_generator()
    with pytest.raises(gen.SchemaError, match="above the `# --` line"):
        gen.parse_comment("mappers", ["-- Number of map tasks.", '@schema {"minimum": 1}'])
    with pytest.raises(gen.SchemaError, match="not JSON"):
        gen.parse_comment("mappers", ["@schema {minimum: 1}", "-- Number of map tasks."])
    constraints, description, hint = gen.parse_comment(
        "parallelism", ['@schema {"minimum": 0}', "-- (int) Map pods", "running at once."])
    assert constraints == {"minimum": 0} and description == "Map pods running at once." and hint == "integer"
    constraints, _, _ = gen.parse_comment("x", ['@schema {"minimum": 0,', '@schema "maximum": 9}', "-- X."])
    assert constraints == {"minimum": 0, "maximum": 9}


def test_nullable_values_are_not_required():
    schema = json.loads(SCHEMA.read_text())
    assert "ttlSecondsAfterFinished" not in schema["required"] and "parallelism" not in schema["required"]
    assert "mappers" in schema["required"]
