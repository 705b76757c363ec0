"""Fixtures for the chart on a real cluster: they assume `make cluster` and `make images` ran
(the Makefile's test-e2e target does both). Nothing here skips: a missing cluster fails."""
import os
import pathlib
import shlex
import subprocess
import sys
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
SCRIPTS = ROOT / "scripts"
TOOLS = ROOT / ".tools" / "bin"
HELM_TIMEOUT = "15m"


def read_env_file(path):
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export "):].partition("=")
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env


class Cluster:
    def __init__(self, env):
        self.env = env
        self.kubeconfig = env["KUBECONFIG"]
        self.shared = pathlib.Path(env["CLUSTER_SHARED_DIR"])
        self.kubectl_bin = env.get("CLUSTER_KUBECTL") or "kubectl"
        self.values = ROOT / ".cluster" / "values.yaml"

    def process_env(self):
        return dict(os.environ, KUBECONFIG=self.kubeconfig,
                    PATH=f"{os.path.dirname(self.kubectl_bin)}:{TOOLS}:{os.environ['PATH']}")

    def run(self, argv, check=True, timeout=1200, input=None):
        result = subprocess.run(argv, capture_output=True, text=True, env=self.process_env(),
                                timeout=timeout, input=input)
        if check and result.returncode:
            raise AssertionError(f"{' '.join(map(str, argv))} failed ({result.returncode}):\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def kubectl(self, *args, **kw):
        return self.run([self.kubectl_bin, *args], **kw)

    def helm(self, *args, helm="helm", **kw):
        return self.run([str(TOOLS / helm), *args], **kw)

    def install(self, namespace, release, *args, helm="helm", verb="install", check=True):
        return self.helm(verb, release, str(CHART), "--namespace", namespace,
                         "--values", str(self.values), "--timeout", HELM_TIMEOUT, *args,
                         helm=helm, check=check)

    def output_dir(self, namespace, release, revision=1):
        """The output of one revision's run: the chart's default base directory on the volume is
        <namespace>/<release>, and a run id is the revision and a random suffix."""
        found = sorted((self.shared / namespace / release / "output").glob(f"{revision}-*"))
        assert len(found) == 1, f"outputs of revision {revision} of {release}: {found}"
        return found[0]

    def sample_file(self, namespace, release, seed=1, size=2000000):
        return (self.shared / namespace / release / "input" / f"sample-{seed}-{size}"
                / f"sample-{seed}-{size}.txt")


@pytest.fixture(scope="session")
def cluster():
    env_file = ROOT / ".cluster" / "env"
    if not env_file.exists():
        pytest.fail(f"{env_file} is missing: run `make cluster` (make test-e2e does)")
    return Cluster(read_env_file(env_file))


@pytest.fixture
def namespace(cluster):
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster.run(["bash", str(ROOT / "ci" / "cluster" / "ns-restricted.sh"), name])
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def release():
    """A release name unique to the test: every claim of the test cluster is one directory."""
    return f"wc{uuid.uuid4().hex[:6]}"


def run_local(inputs, output, mappers, reducers, *extra):
    subprocess.run([sys.executable, str(SCRIPTS / "run-local"), "--quiet", "--mappers",
                    str(mappers), "--reducers", str(reducers), "--output", str(output),
                    *extra, *map(str, inputs)], check=True)
    return output


def data_files(path):
    return {name: (path / name).read_bytes() for name in sorted(os.listdir(path))
            if not name.startswith(("_", "."))}


def assert_same_output(cluster_dir, local_dir):
    """Byte-identical part files: partitioning, sorting and reducing agree exactly."""
    assert (cluster_dir / "_SUCCESS").exists(), f"{cluster_dir} did not commit"
    got, want = data_files(cluster_dir), data_files(local_dir)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], f"{name} differs from run-local's"
