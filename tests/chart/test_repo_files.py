"""The chart's CI files: GitHub workflow shape, kind and ct configs, no registry host names."""
import re

import yaml

from conftest import ROOT

MY_PATHS = ["chart", "images", ".github", "tests/chart"] + [
    p.relative_to(ROOT).as_posix() for p in (ROOT / "ci").iterdir() if p.name != "cluster"]
REGISTRY_HOSTS = re.compile(r"\b(docker\.io|ghcr\.io|quay\.io|gcr\.io|registry\.k8s\.io|k8s\.gcr\.io|"
                            r"public\.ecr\.aws|mcr\.microsoft\.com|registry-1\.docker\.io)\b")


def test_workflow_permissions_and_steps():
    wf = yaml.safe_load((ROOT / ".github/workflows/chart.yaml").read_text())
    assert wf["permissions"] == {}
    steps = [s.get("uses", "") + " " + s.get("run", "") + " " + str(s.get("with", ""))
             for job in wf["jobs"].values() for s in job["steps"]]
    text = "\n".join(steps)
    for needle in ("helm/kind-action", "ci/kind-config.yaml", "kind load docker-image", "ct install",
                   "make test-chart", "helm/chart-testing-action"):
        assert needle in text, needle
    helms = wf["jobs"]["install"]["strategy"]["matrix"]["helm"]
    assert any(h.startswith("v3.") for h in helms) and any(h.startswith("v4.") for h in helms)


def test_kind_and_ct_configs():
    kind = yaml.safe_load((ROOT / "ci/kind-config.yaml").read_text())
    assert kind["kind"] == "Cluster" and any(n["role"] == "worker" for n in kind["nodes"])
    ct = yaml.safe_load((ROOT / "ci/ct.yaml").read_text())
    assert ct["validate-maintainers"] is False
    assert ct["helm-extra-args"].startswith("--timeout")


def test_no_registry_host_names_in_our_files():
    for top in MY_PATHS:
        base = ROOT / top
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            # Debian's package docker.io (the docker engine) is not a registry host.
            text = re.sub(r"(Debian's |apt_install |apt-get install [-\w ]*)docker\.io", "",
                          path.read_text(errors="replace"))
            m = REGISTRY_HOSTS.search(text)
            assert not m or path.name == "test_repo_files.py", f"{path}: names {m.group(0)}"


def test_templates_repeat_no_block_of_six_lines():
    """The duplicates tool does not read templates: the same rule, checked here (helpers exist so
    that the Jobs and pods say each thing once)."""
    seen = {}
    for path in sorted((ROOT / "chart" / "templates").rglob("*")):
        if not path.is_file():
            continue
        lines = [line.strip() for line in path.read_text().splitlines()]
        for i in range(len(lines) - 5):
            block = tuple(lines[i:i + 6])
            if sum(1 for line in block if len(line) > 3) < 4:
                continue
            where = f"{path.name}:{i + 1}"
            first = seen.setdefault(block, where)
            assert first == where, f"{where} repeats {first}"
