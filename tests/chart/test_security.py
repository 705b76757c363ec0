"""Pod Security "restricted" and the linters' invariants, on every pod and container of every
scenario (init, hook and test containers included)."""
import re

import pytest

from conftest import SCENARIOS, containers, pod_specs, render_scenario, scenario_values

IDS = [p.name for p in SCENARIOS]
ALLOWED_VOLUMES = {"persistentVolumeClaim", "configMap", "secret", "emptyDir", "projected",
                   "downwardAPI", "csi", "ephemeral"}


def all_pods():
    for path in SCENARIOS:
        for name, spec in pod_specs(render_scenario(path)):
            yield path, name, spec


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_every_pod_is_restricted(path):
    values = scenario_values(path)
    sc_values = values["securityContext"]
    pods = pod_specs(render_scenario(path))
    assert pods
    for name, spec in pods:
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True, name
        assert psc["runAsUser"] == sc_values["runAsUser"] and psc["runAsUser"] >= 10000, name
        assert psc["runAsGroup"] == sc_values["runAsGroup"] and psc["runAsGroup"] >= 10000, name
        assert psc["fsGroup"] == sc_values["fsGroup"], name
        assert psc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        assert spec["restartPolicy"] == "Never", name
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(key), name
        for v in spec["volumes"]:
            kinds = set(v) - {"name"}
            assert kinds <= ALLOWED_VOLUMES, (name, v)
        tmp = [v for v in spec["volumes"] if v["name"] == "tmp"]
        assert tmp and "emptyDir" in tmp[0], name
        names = [c["name"] for c in containers(spec)]
        assert len(names) == len(set(names)), name
        for c in containers(spec):
            where = f"{name}/{c['name']}"
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["runAsNonRoot"] is True, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert not sc.get("privileged"), where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            res = c["resources"]
            assert res["requests"]["cpu"] and res["requests"]["memory"], where
            assert res["limits"]["memory"], where
            image = c["image"]
            assert re.search(r"(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[0-9a-f]{64})$", image), where
            assert not image.endswith(":latest"), where
            assert c["imagePullPolicy"] in ("IfNotPresent", "Never", "Always"), where
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            assert mounts.get("/tmp") == "tmp", where
            env = {e["name"]: e for e in c["env"]}
            assert len(env) == len(c["env"]), f"{where}: duplicate env names"
            assert env["TMPDIR"]["value"] == "/tmp", where
            assert env["PYTHONDONTWRITEBYTECODE"]["value"] == "1", where
            assert env["MR_SORT_BUFFER"]["value"] == values["sortBuffer"], where
            for port in c.get("ports", []):
                assert "hostPort" not in port, where


def test_no_inline_nfs_anywhere():
    for path, name, spec in all_pods():
        for v in spec["volumes"]:
            assert "nfs" not in v and "hostPath" not in v, (path.name, name)
