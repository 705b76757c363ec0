"""Render helpers for the chart tests: real `helm template` runs (Helm 4 and Helm 3)."""
import functools
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
# chart/ci holds what chart-testing installs on any cluster; tests/chart/scenarios holds the
# render-only ones (an NFS server, an existing claim, remote URLs, a private registry).
SCENARIOS = sorted([*CHART.glob("ci/*-values.yaml"),
                    *(ROOT / "tests" / "chart" / "scenarios").glob("*-values.yaml")])
NAMESPACE = "mapreduce-ci"
RELEASE = "wc"


def tool(name):
    """Path of a pinned tool from .tools/bin (make tools), else from PATH; fails if missing."""
    local = ROOT / ".tools" / "bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run `make tools`")
    return found


HELMS = ["helm", "helm3"]


def run_helm(args, helm="helm", check=True):
    proc = subprocess.run([tool(helm), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def template(*extra, helm="helm", release=RELEASE, check=True):
    """helm template output as a list of documents (or the CompletedProcess when check=False)."""
    args = ["template", release, str(CHART), "--namespace", NAMESPACE, *extra]
    proc = run_helm(args, helm=helm, check=check)
    if not check:
        return proc
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@functools.cache
def render_scenario(path, helm="helm"):
    return template("-f", str(path), helm=helm)


def scenario_values(path):
    """Values of a scenario merged over the chart defaults (maps merge, everything else replaces)."""
    def merge(base, over):
        if isinstance(base, dict) and isinstance(over, dict):
            out = dict(base)
            for k, v in over.items():
                out[k] = merge(base.get(k), v)
            return out
        return over
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    return merge(defaults, yaml.safe_load(pathlib.Path(path).read_text()) or {})


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def jobs(docs, component):
    return [d for d in by_kind(docs, "Job")
            if d["metadata"]["labels"].get("app.kubernetes.io/component") == component]


def pod_specs(docs):
    """(name, pod spec) of every pod the release makes: Job templates and bare Pods."""
    out = []
    for d in docs:
        if d["kind"] == "Job":
            out.append((d["metadata"]["name"], d["spec"]["template"]["spec"]))
        elif d["kind"] == "Pod":
            out.append((d["metadata"]["name"], d["spec"]))
    return out


def containers(spec):
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def args_of(container):
    return list(container.get("args", []))


def option(args, name):
    """Value after `name` in an argument list (None if absent)."""
    return args[args.index(name) + 1] if name in args else None
