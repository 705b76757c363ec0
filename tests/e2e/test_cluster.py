"""Smoke tests of the local test cluster (`make cluster`, ci/cluster/).

They assume `make cluster` ran: .cluster/env names the kubeconfig, the shared host directory and
the expected Kubernetes version. The pod test uses the tiny `localhost/mrk8s-smoke:1` image that
ci/cluster/up.sh packs and imports itself (no registry, no docker needed).
"""
import json
import pathlib
import subprocess
import time
import uuid

import pytest

SMOKE_IMAGE = "localhost/mrk8s-smoke:1"


@pytest.fixture(scope="module")
def cluster(cluster):
    """These tests read .cluster/env as a plain mapping (conftest's session fixture)."""
    return cluster.env


def kubectl(cluster, *args, input=None, check=True):
    cmd = [cluster.get("CLUSTER_KUBECTL") or "kubectl", "--kubeconfig", cluster["KUBECONFIG"], *args]
    res = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed: {res.stderr}")
    return res.stdout


def test_node_ready_with_expected_version(cluster):
    nodes = json.loads(kubectl(cluster, "get", "nodes", "-o", "json"))["items"]
    assert [n["metadata"]["name"] for n in nodes] == [cluster["CLUSTER_NODE_NAME"]]
    node = nodes[0]
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == cluster["CLUSTER_K8S_VERSION"]


def test_server_version(cluster):
    version = json.loads(kubectl(cluster, "version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == cluster["CLUSTER_K8S_VERSION"]
    assert version["serverVersion"]["minor"] == cluster["CLUSTER_K8S_VERSION"].split(".")[1]


def test_default_namespace_is_restricted(cluster):
    # A privileged pod must be refused by Pod Security admission even in an unlabelled namespace.
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "should-be-refused"},
        "spec": {"containers": [{"name": "c", "image": SMOKE_IMAGE,
                                 "securityContext": {"privileged": True}}]},
    }
    res = subprocess.run(
        [cluster.get("CLUSTER_KUBECTL") or "kubectl", "--kubeconfig", cluster["KUBECONFIG"],
         "apply", "--dry-run=server", "-f", "-"],
        input=json.dumps(pod), capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert "restricted" in res.stderr


def test_restricted_pod_writes_shared_volume(cluster):
    ns = "smoke-" + uuid.uuid4().hex[:8]
    marker = f"{ns}.txt"
    shared = pathlib.Path(cluster["CLUSTER_SHARED_DIR"])
    manifest = {
        "apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted"}}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "shared", "namespace": ns},
             "spec": {"storageClassName": cluster["CLUSTER_STORAGE_CLASS"],
                      "accessModes": ["ReadWriteMany"],
                      "resources": {"requests": {"storage": "1Gi"}}}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "smoke", "namespace": ns},
             "spec": {
                 "restartPolicy": "Never",
                 "automountServiceAccountToken": False,
                 "enableServiceLinks": False,
                 "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                     "runAsGroup": 10001, "fsGroup": 10001,
                                     "seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [{
                     "name": "smoke", "image": SMOKE_IMAGE, "imagePullPolicy": "Never",
                     "env": [{"name": "SMOKE_FILE", "value": f"/data/{marker}"},
                             {"name": "SMOKE_TEXT", "value": "hello"}],
                     "securityContext": {"allowPrivilegeEscalation": False,
                                         "readOnlyRootFilesystem": True,
                                         "capabilities": {"drop": ["ALL"]}},
                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                   "limits": {"memory": "32Mi"}},
                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "shared"}}],
             }},
        ]}
    try:
        out = subprocess.run(
            [cluster.get("CLUSTER_KUBECTL") or "kubectl", "--kubeconfig", cluster["KUBECONFIG"],
             "apply", "-f", "-"], input=json.dumps(manifest), capture_output=True, text=True,
            timeout=60)
        assert out.returncode == 0, out.stderr
        assert "Warning" not in out.stderr, out.stderr  # nothing Pod Security would flag
        deadline = time.monotonic() + 120
        phase = ""
        while time.monotonic() < deadline:
            phase = kubectl(cluster, "-n", ns, "get", "pod", "smoke", "-o",
                            "jsonpath={.status.phase}")
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(1)
        logs = kubectl(cluster, "-n", ns, "logs", "smoke", check=False)
        assert phase == "Succeeded", (phase, logs,
                                      kubectl(cluster, "-n", ns, "describe", "pod", "smoke"))
        assert logs.strip() == "uid=10001 gid=10001 hello"
        assert (shared / marker).read_text().strip() == "uid=10001 gid=10001 hello"
        assert (shared / marker).stat().st_uid == 10001
    finally:
        kubectl(cluster, "delete", "namespace", ns, "--wait=false", check=False)
        (shared / marker).unlink(missing_ok=True)
