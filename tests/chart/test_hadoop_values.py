"""Hadoop Streaming's job settings as chart values (jobConf, cmdenv, files, the format,
partitioner and compression values): rendered into the map and reduce tasks' arguments as
run-local passes them, the side files shipped in a ConfigMap under /etc/mapreduce/files."""
import pytest

from conftest import ROOT, args_of, by_kind, containers, jobs, option, template

SCENARIO = ROOT / "tests" / "chart" / "scenarios" / "hadoop-job-values.yaml"
GZIP = "org.apache.hadoop.io.compress.GzipCodec"


def task_containers(docs):
    """{container name: container} of the map and reduce pods."""
    out = {}
    for component in ("map", "reduce"):
        for job in jobs(docs, component):
            for c in containers(job["spec"]["template"]["spec"]):
                out[c["name"]] = c
    return out


def pairs(args, flag):
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def user_tasks(docs):
    tasks = task_containers(docs)
    return [args_of(tasks["map"]), args_of(tasks["reduce"])]


def test_defaults_pass_no_job_settings():
    for args in user_tasks(template()):
        assert not {"-D", "--cmdenv", "--file"} & set(args)


def test_job_conf_becomes_sorted_d_options_on_the_map_and_reduce_tasks():
    docs = template("--set-string", r"jobConf.stream\.num\.map\.output\.key\.fields=2",
                    "--set", r"jobConf.mapreduce\.task\.timeout=60000",
                    "--set", r"jobConf.stream\.map\.output\.field\.separator=.")
    want = ["mapreduce.task.timeout=60000", "stream.map.output.field.separator=.",
            "stream.num.map.output.key.fields=2"]
    for args in user_tasks(docs):
        assert pairs(args, "-D") == want
    for name, c in task_containers(docs).items():
        if name not in ("map", "reduce"):
            assert "-D" not in args_of(c), name


@pytest.mark.parametrize("value,prop", [
    ("inputFormat=org.apache.hadoop.mapred.KeyValueTextInputFormat",
     "mapred.input.format.class=org.apache.hadoop.mapred.KeyValueTextInputFormat"),
    ("inputFormat=org.apache.hadoop.mapred.lib.NLineInputFormat",
     "mapred.input.format.class=org.apache.hadoop.mapred.lib.NLineInputFormat"),
    ("outputFormat=org.apache.hadoop.mapred.TextOutputFormat",
     "mapred.output.format.class=org.apache.hadoop.mapred.TextOutputFormat"),
    ("partitioner=org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner",
     "mapred.partitioner.class=org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"),
    ("partitioner=org.apache.hadoop.mapred.lib.HashPartitioner",
     "mapred.partitioner.class=org.apache.hadoop.mapred.lib.HashPartitioner"),
])
def test_class_values_become_their_hadoop_properties(value, prop):
    for args in user_tasks(template("--set", value)):
        assert pairs(args, "-D") == [prop]


def test_output_compression_is_gzip():
    for args in user_tasks(template("--set", "outputCompression=true")):
        assert pairs(args, "-D") == ["mapreduce.output.fileoutputformat.compress=true",
                                     f"mapreduce.output.fileoutputformat.compress.codec={GZIP}"]


def test_cmdenv_becomes_cmdenv_options():
    docs = template("--set", "cmdenv.TOP_N=10", "--set", "cmdenv.LC_ALL=C")
    for args in user_tasks(docs):
        assert pairs(args, "--cmdenv") == ["LC_ALL=C", "TOP_N=10"]


def test_files_are_shipped_mounted_and_passed(tmp_path):
    lookup = tmp_path / "lookup.txt"
    lookup.write_text("k1\tone\nk2\ttwo \"quoted\" $(HOME)\n")
    docs = template("--set-file", rf"files.lookup\.txt={lookup}", "--set", "files.b=x",
                    "--set", "mapperScript=print()")
    (cm,) = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-files")]
    assert cm["data"] == {"lookup.txt": lookup.read_text(), "b": "x"}
    assert cm["metadata"]["labels"]["app.kubernetes.io/component"] == "files"
    for args in user_tasks(docs):
        assert pairs(args, "--file") == ["/etc/mapreduce/files/b", "/etc/mapreduce/files/lookup.txt"]
    for component in ("map", "reduce"):
        (job,) = jobs(docs, component)
        pod = job["spec"]["template"]["spec"]
        (etc,) = [v for v in pod["volumes"] if v["name"] == "etc"]
        sources = etc["projected"]["sources"]
        assert sources[0] == {"configMap": {"name": "wc-mapreduce-scripts"}}
        assert sources[1] == {"configMap": {"name": cm["metadata"]["name"], "items": [
            {"key": "b", "path": "files/b"}, {"key": "lookup.txt", "path": "files/lookup.txt"}]}}
        for c in containers(pod):
            assert {"name": "etc", "mountPath": "/etc/mapreduce", "readOnly": True} in c["volumeMounts"]


def test_no_files_no_configmap():
    docs = template()
    assert not [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-files")]


def test_the_scenario_renders_a_whole_streaming_job():
    docs = template("-f", str(SCENARIO))
    map_args, reduce_args = user_tasks(docs)
    props = pairs(map_args, "-D")
    assert props == pairs(reduce_args, "-D")
    assert "mapreduce.input.lineinputformat.linespermap=1000" in props
    assert "mapreduce.partition.keycomparator.options=-k1,1 -k2,2nr" in props
    assert option(map_args, "--mapper") == "awk -F'\\t' '{ print $$2 \"\\t\" length($$0) }'"
