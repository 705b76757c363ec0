"""What reaches the pods is what the user wrote ($ in arguments), the combiner follows Hadoop's
rule, names cannot collide, and the optional NetworkPolicy isolates the pods running user code."""
import pytest
import yaml
from test_engine_cli import kubernetes_expand

from conftest import NAMESPACE, by_kind, containers, jobs, option, pod_specs, template


def env_of(container):
    """The variables Kubernetes can substitute in this container's args: its own env (as it
    would resolve them) and the Job's completion index."""
    env = {"JOB_COMPLETION_INDEX": "1", "POD_NAME": "pod-1"}
    for e in container["env"]:
        if "value" in e:
            env[e["name"]] = kubernetes_expand(e["value"], env)
    return env


def pod_args(docs):
    """{container name: args as the container sees them}, over every pod of the release."""
    return {c["name"]: [kubernetes_expand(a, env_of(c)) for a in c["args"]]
            for _, spec in pod_specs(docs) for c in containers(spec)}


DOLLARS = {
    "mapperCommand": "awk '{ print $1 \"\\t\" $(NF) }' | sed 's/$$/x/'",
    "reducerCommand": "sh -c 'echo $(TMPDIR) $HOME ${POD_NAME}'",
    "combinerCommand": "cat $(POD_NAME)",
}


def test_user_text_with_dollars_reaches_the_pods_unchanged(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({
        **DOLLARS,
        "input": {"paths": ["in$(TMPDIR)/a$b"], "urls": ["https://example.com/a?x=$(POD_NAME)&y=$1"]},
        "cmdenv": {"PRICE": "$(TMPDIR)$5"},
        "jobConf": {"stream.map.output.field.separator": "$(POD_NAME)"},
        "extraEnv": {"GREETING": "$(POD_NAME) costs $3"}}))
    docs = template("-f", str(values))
    seen = pod_args(docs)
    m, r = seen["map"], seen["reduce"]
    assert option(m, "--mapper") == DOLLARS["mapperCommand"]
    assert option(m, "--combiner") == DOLLARS["combinerCommand"]
    assert option(r, "--reducer") == DOLLARS["reducerCommand"]
    assert m[-1] == "/data/in$(TMPDIR)/a$b"
    assert option(seen["fetch-urls"], "--url") == "https://example.com/a?x=$(POD_NAME)&y=$1"
    for args in (m, r):
        assert option(args, "--cmdenv") == "PRICE=$(TMPDIR)$5"
        assert option(args, "-D") == "stream.map.output.field.separator=$(POD_NAME)"
    # the chart's own references still expand
    assert option(m, "--index") == "1" and option(m, "--attempt") == "pod-1"
    (map_job,) = jobs(docs, "map")
    (main,) = map_job["spec"]["template"]["spec"]["containers"]
    assert env_of(main)["GREETING"] == "$(POD_NAME) costs $3"


COMBINER_CASES = [
    ([], "python3 /opt/mapreduce/reducer.py"),
    (["--set", "reducerScript=x"], None),
    (["--set", "reducerCommand=my-reducer"], None),
    (["--set", "reducerCommand=my-reducer", "--set", "combiner=true"], "my-reducer"),
    (["--set", "reducerScript=x", "--set", "combiner=true"], "python3 /etc/mapreduce/reducer.py"),
    (["--set", "reducerScript=x", "--set", "combinerScript=y"], "python3 /etc/mapreduce/combiner.py"),
    (["--set", "combinerCommand=my-combiner", "--set", "reducerCommand=r"], "my-combiner"),
    (["--set", "combiner=false"], None),
    (["--set", "combinerCommand=c", "--set", "combiner=false"], None),
    (["--set", "reducers=0", "--set", "combiner=true"], None),
]


@pytest.mark.parametrize("args,combiner", COMBINER_CASES, ids=[" ".join(a) or "defaults" for a, _ in COMBINER_CASES])
def test_a_custom_reducer_never_silently_combines(args, combiner):
    (map_job,) = jobs(template(*args), "map")
    (main,) = map_job["spec"]["template"]["spec"]["containers"]
    assert option(main["args"], "--combiner") == combiner


def pv_name(namespace, release):
    docs = template("--set", "storage.nfs.server=nfs1", "--set", "storage.nfs.path=/x",
                    "--namespace", namespace, release=release)
    (pv,) = by_kind(docs, "PersistentVolume")
    (pvc,) = by_kind(docs, "PersistentVolumeClaim")
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
    return pv["metadata"]["name"]


def test_nfs_volume_names_differ_across_namespaces():
    long_ns = "team-analytics-production-batch-jobs-namespace"
    names = {pv_name(NAMESPACE, "wc"), pv_name("other", "wc"), pv_name(long_ns + "-a", "wc"),
             pv_name(long_ns + "-b", "wc")}
    assert len(names) == 4
    assert all(len(n) <= 63 for n in names)
    assert pv_name(NAMESPACE, "wc").startswith(f"{NAMESPACE}-wc-mapreduce-")


def test_network_policy_is_off_by_default():
    assert by_kind(template(), "NetworkPolicy") == []


def test_network_policy_denies_all_traffic_of_the_pods_running_user_code():
    docs = template("--set", "networkPolicy.enabled=true")
    (policy,) = by_kind(docs, "NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec and "egress" not in spec  # no rule: nothing is allowed

    def selected(labels):
        sel = spec["podSelector"]
        return (all(labels.get(k) == v for k, v in sel["matchLabels"].items())
                and all(labels.get(e["key"]) in e["values"] for e in sel["matchExpressions"]))

    for component in ("map", "reduce"):
        (job,) = jobs(docs, component)
        assert selected(job["spec"]["template"]["metadata"]["labels"]), component
    (test_pod,) = by_kind(docs, "Pod")
    assert not selected(test_pod["metadata"]["labels"])
    other = template("--set", "networkPolicy.enabled=true", release="other")
    (job,) = jobs(other, "map")
    assert not selected(job["spec"]["template"]["metadata"]["labels"]), "another release's pods"


@pytest.mark.parametrize("extra,expected", [([], 7), (["--set", "reduce.parallelism=3"], 3),
                                            (["--set", "reduce.parallelism=50"], 7)])
def test_reduce_parallelism_caps_the_reduce_pods(extra, expected):
    """Waiting reducers must not fill a small cluster before the maps have run."""
    (job,) = jobs(template("--set", "reducers=7", *extra), "reduce")
    assert job["spec"]["parallelism"] == expected and job["spec"]["completions"] == 7
