"""Shape of the rendered chart for every chart/ci/*-values.yaml scenario."""
import json
import re

import pytest

from conftest import (
    NAMESPACE,
    RELEASE,
    SCENARIOS,
    args_of,
    by_kind,
    containers,
    jobs,
    option,
    pod_specs,
    render_scenario,
    scenario_values,
    template,
)
from mapreduce.settings import ExitCode

IDS = [p.name for p in SCENARIOS]


def test_there_are_scenarios():
    names = {p.name for p in SCENARIOS}
    for wanted in ("default-values.yaml", "reducers-3-values.yaml", "map-only-values.yaml",
                   "nfs-values.yaml", "existing-claim-values.yaml", "custom-scripts-values.yaml",
                   "urls-values.yaml"):
        assert wanted in names


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_map_job(path):
    docs, values = render_scenario(path), scenario_values(path)
    (job,) = jobs(docs, "map")
    spec = job["spec"]
    assert job["metadata"]["name"].endswith("-map-r1")  # the revision is in the name
    assert "selector" not in spec
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == values["mappers"]
    assert spec["parallelism"] == min(values["parallelism"] or values["mappers"], values["mappers"])
    assert spec["backoffLimitPerIndex"] == values["map"]["backoffLimitPerIndex"]
    assert spec["maxFailedIndexes"] == values["map"]["maxFailedIndexes"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["ttlSecondsAfterFinished"] == values["ttlSecondsAfterFinished"]
    rules = spec["podFailurePolicy"]["rules"]
    # bad input and a full volume (the engine's own code) fail the index at once: no retries
    assert {"action": "FailIndex", "onExitCodes": {"containerName": "map", "operator": "In",
                                                   "values": sorted({values["badInputExitCode"],
                                                                     ExitCode.NO_SPACE})}} in rules
    assert {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]} in rules
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (main,) = pod["containers"]
    assert main["name"] == "map"
    args = args_of(main)
    assert main["command"] == ["python3", "-S", "-m", "mapreduce"]
    assert args[0] == "map-task"
    assert option(args, "--index") == "$(JOB_COMPLETION_INDEX)"
    assert option(args, "--attempt") == "$(POD_NAME)"
    assert option(args, "--mappers") == str(values["mappers"])
    assert option(args, "--reducers") == str(values["reducers"])
    base = f"/data/{values['storage']['baseDir'] or NAMESPACE + '/' + RELEASE}"
    run = job["metadata"]["annotations"]["mapreduce.k8s/run"]
    assert re.fullmatch(r"1-[a-z0-9]{8}", run)  # the revision and a random suffix
    assert option(args, "--job-dir") == f"{base}/runs/{run}"
    assert option(args, "--output") == f"{base}/output/{run}"
    assert option(args, "--combiner") == expected_combiner(values)
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "map"


def expected_combiner(values):
    """Hadoop's rule: no combiner unless asked; the built-in reducer combines by default."""
    if values["reducers"] == 0 or values["combiner"] is False:
        return None
    if values["combinerCommand"]:
        return values["combinerCommand"]
    if values["combinerScript"]:
        return "python3 /etc/mapreduce/combiner.py"
    custom = values["reducerCommand"] or values["reducerScript"]
    if values["combiner"] or not custom:
        return values["reducerCommand"] or (
            "python3 /etc/mapreduce/reducer.py" if custom else "python3 /opt/mapreduce/reducer.py")
    return None


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_input_prestage(path):
    docs, values = render_scenario(path), scenario_values(path)
    (job,) = jobs(docs, "map")
    pod = job["spec"]["template"]["spec"]
    inits = {c["name"]: c for c in pod.get("initContainers", [])}
    args = args_of(pod["containers"][0])
    inputs = args[len(args) - len([a for a in reversed(args) if a.startswith("/data")]):]
    sample = values["input"]["sample"]["enabled"]
    if sample is None:
        sample = not values["input"]["paths"] and not values["input"]["urls"]
    assert ("fetch-sample" in inits) == sample
    assert ("fetch-urls" in inits) == bool(values["input"]["urls"])
    for c in inits.values():
        a = args_of(c)
        assert a[0] == "fetch-input"
        assert option(a, "--dest") in inputs, "every fetched directory is a map input"
    if values["input"]["urls"]:
        a = args_of(inits["fetch-urls"])
        assert [a[i + 1] for i, x in enumerate(a) if x == "--url"] == values["input"]["urls"]
    for p in values["input"]["paths"]:
        assert (p if p.startswith("/") else "/data/" + p) in inputs
    assert inputs, "the map task has input"


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_reduce_hook(path):
    docs, values = render_scenario(path), scenario_values(path)
    reduce_jobs = jobs(docs, "reduce")
    if values["reducers"] == 0:
        assert reduce_jobs == []
        return
    (job,) = reduce_jobs
    ann = job["metadata"]["annotations"]
    assert ann["helm.sh/hook"] == "post-install,post-upgrade"
    assert isinstance(ann["helm.sh/hook-weight"], str)
    policy = ann["helm.sh/hook-delete-policy"].split(",")
    assert "before-hook-creation" in policy and "hook-succeeded" in policy
    assert ("hook-failed" in policy) == (not values["keepFailedHooks"])
    assert ann["helm.sh/hook-output-log-policy"] == "hook-succeeded,hook-failed"
    spec = job["spec"]
    assert job["metadata"]["name"].endswith("-reduce-r1")
    assert "selector" not in spec
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == values["reducers"]
    assert spec["backoffLimitPerIndex"] == values["reduce"]["backoffLimitPerIndex"]
    pod = spec["template"]["spec"]
    (shuffle,) = pod["initContainers"]
    (reduce,) = pod["containers"]
    assert shuffle["name"] == "shuffle" and reduce["name"] == "reduce"
    s, r = args_of(shuffle), args_of(reduce)
    assert s[0] == "shuffle" and r[0] == "reduce-task"
    assert option(s, "--output") == option(r, "--input")
    assert option(s, "--max-attempts") == str(values["map"]["backoffLimitPerIndex"] + 1)
    assert option(s, "--timeout") == str(values["shuffle"]["timeoutSeconds"])
    assert option(s, "--poll") == str(values["shuffle"]["pollSeconds"])
    assert option(s, "--index") == option(r, "--index") == "$(JOB_COMPLETION_INDEX)"
    (map_job,) = jobs(docs, "map")
    margs = args_of(map_job["spec"]["template"]["spec"]["containers"][0])
    for flag in ("--job-dir",):
        assert option(s, flag) == option(r, flag) == option(margs, flag)
    assert option(r, "--output") == option(margs, "--output")
    # the merged partition lives on the pod's own scratch volume, shared by both containers
    mounts = {m["mountPath"]: m["name"] for m in shuffle["volumeMounts"]}
    assert option(s, "--output").startswith("/tmp/") and mounts["/tmp"] == "tmp"
    # a failed map stage is deferred to the reduce container (Helm prints only main containers'
    # logs), which exits mapStageFailedExitCode: that index fails at once, as on bad input
    assert "--defer-failure" in s and option(r, "--input") == option(s, "--output")
    codes = [values["mapStageFailedExitCode"], values["badInputExitCode"], ExitCode.NO_SPACE]
    assert option(r, "--map-stage-failed-exit-code") == str(codes[0])
    assert option(r, "--bad-input-exit-code") == str(codes[1])
    rules = spec["podFailurePolicy"]["rules"]
    # the API server takes the codes ordered and unique only
    assert {"action": "FailIndex", "onExitCodes": {"containerName": "reduce", "operator": "In",
                                                   "values": sorted(set(codes))}} in rules
    # an evicted reduce pod (a node drain) is replaced without counting as a failure
    assert {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]} in rules


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_storage(path):
    docs, values = render_scenario(path), scenario_values(path)
    st = values["storage"]
    pvcs, pvs = by_kind(docs, "PersistentVolumeClaim"), by_kind(docs, "PersistentVolume")
    if st["existingClaim"]:
        assert pvcs == [] and pvs == []
        claim = st["existingClaim"]
    else:
        (pvc,) = pvcs
        claim = pvc["metadata"]["name"]
        assert pvc["spec"]["accessModes"] == [st["accessMode"]]
        assert pvc["spec"]["resources"]["requests"]["storage"] == st["size"]
        keep = pvc["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep"
        assert keep == st["keepOnUninstall"]
        if st["nfs"]["server"]:
            (pv,) = pvs
            assert pv["spec"]["nfs"] == {"server": st["nfs"]["server"], "path": st["nfs"]["path"]}
            assert pv["spec"]["claimRef"] == {"namespace": NAMESPACE, "name": claim}
            assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
            assert pvc["spec"]["storageClassName"] == pv["spec"]["storageClassName"]
            assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        else:
            assert pvs == []
            if st["storageClassName"]:
                assert pvc["spec"]["storageClassName"] == st["storageClassName"]
            else:
                assert "storageClassName" not in pvc["spec"]
    for name, spec in pod_specs(docs):
        claims = [v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]
                  if "persistentVolumeClaim" in v]
        assert claims == [claim], name


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_labels_and_names(path):
    docs = render_scenario(path)
    for d in docs:
        labels = d["metadata"]["labels"]
        for key in ("helm.sh/chart", "app.kubernetes.io/name", "app.kubernetes.io/instance",
                    "app.kubernetes.io/managed-by", "app.kubernetes.io/version",
                    "app.kubernetes.io/component"):
            assert key in labels, (d["kind"], d["metadata"]["name"], key)
        assert len(d["metadata"]["name"]) <= 63
        if d["kind"] != "PersistentVolume":
            assert d["metadata"]["namespace"] == NAMESPACE
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_test_pod(path):
    docs, values = render_scenario(path), scenario_values(path)
    pods = by_kind(docs, "Pod")
    if not values["tests"]["enabled"]:
        assert pods == []
        return
    (pod,) = pods
    ann = pod["metadata"]["annotations"]
    assert ann["helm.sh/hook"] == "test"
    assert "before-hook-creation" in ann["helm.sh/hook-delete-policy"]
    (c,) = pod["spec"]["containers"]
    (map_job,) = jobs(docs, "map")
    margs = args_of(map_job["spec"]["template"]["spec"]["containers"][0])
    assert option(args_of(c), "--output") == option(margs, "--output")
    assert option(args_of(c), "--job-dir") == option(margs, "--job-dir")
    data_mount = [m for m in c["volumeMounts"] if m["name"] == "data"][0]
    assert data_mount["readOnly"] is True


def without_run_id(docs):
    """The documents with this render's random run id replaced by a fixed one."""
    run = jobs(docs, "map")[0]["metadata"]["annotations"]["mapreduce.k8s/run"]
    return json.loads(json.dumps(docs).replace(run, "RUN"))


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_helm3_and_helm4_render_the_same(path):
    assert without_run_id(render_scenario(path, helm="helm3")) == without_run_id(render_scenario(path, helm="helm"))


def test_every_template_of_a_render_uses_one_run_id_and_renders_differ():
    docs = render_scenario(SCENARIOS[0])
    run = jobs(docs, "map")[0]["metadata"]["annotations"]["mapreduce.k8s/run"]
    text = json.dumps(docs)
    assert set(re.findall(r"1-[a-z0-9]{8}\b", text)) == {run}
    assert text.count(run) >= 10
    (cm,) = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-run")]
    assert cm["data"]["run"] == run
    assert cm["data"]["outputDir"] == f"/data/{NAMESPACE}/{RELEASE}/output/{run}"
    assert cm["data"]["jobDir"] == f"/data/{NAMESPACE}/{RELEASE}/runs/{run}"
    (reduce_job,) = jobs(docs, "reduce")
    assert reduce_job["metadata"]["annotations"]["mapreduce.k8s/output"] == cm["data"]["outputDir"]
    # a second install of the same revision (after an uninstall) gets another directory
    again = template()
    assert jobs(again, "map")[0]["metadata"]["annotations"]["mapreduce.k8s/run"] != run


def test_images_default_to_app_version():
    import yaml

    from conftest import CHART
    app = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    docs = render_scenario(SCENARIOS[0])
    images = {c["image"] for _, s in pod_specs(docs) for c in containers(s)}
    assert images == {f"localhost/mapreduce-mapper:{app}", f"localhost/mapreduce-reducer:{app}"}
