"""The chart installed on a real cluster, compared with the local runner on the same input."""
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

from conftest import CHART, ROOT, assert_same_output, data_files, run_local


def wait_for(predicate, timeout=300, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def no_jobs_or_pods_left(cluster, namespace, release):
    selector = f"app.kubernetes.io/instance={release}"
    for kind in ("jobs", "pods"):
        left = cluster.kubectl("get", kind, "-n", namespace, "-l", selector, "-o", "name").stdout
        assert not left.strip(), f"{kind} left after uninstall: {left}"


def test_default_install_with_ten_mappers(cluster, namespace, release, tmp_path):
    result = cluster.install(namespace, release, "--set", "mappers=10")
    assert "helm test" in result.stdout  # NOTES tell how to print the result
    out = cluster.output_dir(namespace, release)
    report = json.loads((out / "_SUCCESS").read_text())
    assert report["mappers"] == 10 and len(report["splits"]) == 10
    local = run_local([cluster.sample_file(namespace, release)], tmp_path / "local", 10, 2, "--combiner",
                      f"{sys.executable} {ROOT}/scripts/reducer.py")
    assert_same_output(out, local)
    test = cluster.helm("test", release, "--namespace", namespace, "--logs")
    assert "Succeeded" in test.stdout or "succeeded" in test.stdout.lower()
    fetched = tmp_path / "fetched"
    cluster.run([sys.executable, str(ROOT / "scripts" / "fetch-output"), "--namespace",
                 namespace, release, str(fetched)])
    assert data_files(fetched) == data_files(out) and (fetched / "_SUCCESS").exists()
    cluster.helm("uninstall", release, "--namespace", namespace, "--wait")
    no_jobs_or_pods_left(cluster, namespace, release)


def test_three_reducers_with_helm3(cluster, namespace, release, tmp_path):
    cluster.install(namespace, release, "--set", "mappers=3", "--set", "reducers=3",
                    "--set", "combiner=false", helm="helm3")
    local = run_local([cluster.sample_file(namespace, release)], tmp_path / "local", 3, 3)
    assert_same_output(cluster.output_dir(namespace, release), local)
    cluster.helm("uninstall", release, "--namespace", namespace, "--wait", helm="helm3")
    no_jobs_or_pods_left(cluster, namespace, release)


def test_map_only(cluster, namespace, release, tmp_path):
    cluster.install(namespace, release, "--set", "mappers=3", "--set", "reducers=0", "--wait",
                    "--wait-for-jobs")
    out = cluster.output_dir(namespace, release)
    wait_for(lambda: (out / "_SUCCESS").exists(), what="the map-only job to commit")
    local = run_local([cluster.sample_file(namespace, release)], tmp_path / "local", 3, 0)
    assert_same_output(out, local)
    assert sorted(data_files(out)) == [f"part-{i:05d}" for i in range(3)]  # Hadoop's names


def test_custom_scripts_and_files_on_the_volume(cluster, namespace, release, tmp_path):
    inputs = cluster.shared / "e2e-inputs" / release
    inputs.mkdir(parents=True)
    (inputs / "a.txt").write_bytes(b"alpha beta\ngamma\n" * 2000)
    (inputs / "b.log").write_bytes("delta épsilon\n".encode() * 500 + b"no newline")
    os.chmod(inputs, 0o755)
    mapper = tmp_path / "lengths_mapper.py"
    mapper.write_text(
        "import sys\n"
        "for line in sys.stdin.buffer:\n"
        "    sys.stdout.buffer.write(b'len%d\\t1\\n' % len(line.rstrip(b'\\n')))\n"
        "    sys.stderr.write('reporter:counter:custom,LINES,1\\n')\n")
    reducer = tmp_path / "max_reducer.py"
    reducer.write_text(
        "import sys\n"
        "last, total = None, 0\n"
        "for line in sys.stdin.buffer:\n"
        "    key, _, n = line.rstrip(b'\\n').partition(b'\\t')\n"
        "    if key != last and last is not None:\n"
        "        sys.stdout.buffer.write(b'%s\\t%d\\n' % (last, total)); total = 0\n"
        "    last, total = key, total + int(n)\n"
        "if last is not None:\n"
        "    sys.stdout.buffer.write(b'%s\\t%d\\n' % (last, total))\n")
    cluster.install(namespace, release, "--set", "mappers=4", "--set", "reducers=2",
                    "--set-file", f"mapperScript={mapper}", "--set-file",
                    f"reducerScript={reducer}", "--set", f"input.paths[0]=e2e-inputs/{release}",
                    "--set", "input.sample.enabled=false")
    out = cluster.output_dir(namespace, release)
    local = run_local([inputs], tmp_path / "local", 4, 2, "--mapper",
                      f"{sys.executable} {mapper}", "--reducer", f"{sys.executable} {reducer}")
    assert_same_output(out, local)
    report = json.loads((out / "_SUCCESS").read_text())
    assert report["counters"]["custom"]["LINES"] == 2000 * 2 + 501


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_input_from_an_http_url(cluster, namespace, release, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gentext.py"), "--bytes", "300000",
                    "--seed", "5", "--output", str(served / "text.txt")], check=True)
    host = cluster.env.get("CLUSTER_HOST_IP", "10.251.77.1")
    handler = lambda *a, **k: QuietHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://{host}:{server.server_port}/text.txt"
        cluster.install(namespace, release, "--set", "mappers=2", "--set", f"input.urls[0]={url}",
                        "--set", "input.sample.enabled=false")
    finally:
        server.shutdown()
    local = run_local([served / "text.txt"], tmp_path / "local", 2, 2, "--combiner",
                      f"{sys.executable} {ROOT}/scripts/reducer.py")
    assert_same_output(cluster.output_dir(namespace, release), local)


def test_upgrade_reruns_with_new_input(cluster, namespace, release, tmp_path):
    cluster.install(namespace, release, "--set", "mappers=2")
    cluster.install(namespace, release, "--set", "mappers=3", "--set", "input.sample.seed=9",
                    "--set", "input.sample.bytes=500000", verb="upgrade")
    local = run_local([cluster.sample_file(namespace, release, seed=9, size=500000)], tmp_path / "local",
                      3, 2)
    assert_same_output(cluster.output_dir(namespace, release, revision=2), local)
    assert (cluster.output_dir(namespace, release, revision=1) / "_SUCCESS").exists()


def pods(cluster, namespace, component, phase="Running"):
    out = cluster.kubectl("get", "pods", "-n", namespace, "-l",
                          f"app.kubernetes.io/component={component}",
                          f"--field-selector=status.phase={phase}", "-o", "name").stdout
    return out.split()


def test_deleting_running_map_and_reduce_pods(cluster, namespace, release, tmp_path):
    """A killed map pod and a killed reduce pod are replaced; output is byte-identical."""
    slow_map = "sh -c 'sleep 20; python3 /opt/mapreduce/mapper.py'"
    slow_reduce = "sh -c 'sleep 20; python3 /opt/mapreduce/reducer.py'"
    done = {}

    def install():
        done["result"] = cluster.install(namespace, release, "--set", "mappers=3",
                                         "--set", f"mapperCommand={slow_map}",
                                         "--set", f"reducerCommand={slow_reduce}", check=False)

    thread = threading.Thread(target=install)
    thread.start()
    victim = wait_for(lambda: pods(cluster, namespace, "map"), what="a running map pod")[0]
    cluster.kubectl("delete", "-n", namespace, victim, "--wait=false")
    victim = wait_for(lambda: [p for p in pods(cluster, namespace, "reduce")], timeout=600,
                      what="a running reduce pod")[0]
    time.sleep(3)  # inside the reducer's sleep: the shuffle has run
    cluster.kubectl("delete", "-n", namespace, victim, "--wait=false")
    thread.join(timeout=1200)
    result = done["result"]
    assert result.returncode == 0, result.stderr
    local = run_local([cluster.sample_file(namespace, release)], tmp_path / "local", 3, 2)
    assert_same_output(cluster.output_dir(namespace, release), local)


def test_bad_input_fails_the_index_at_once(cluster, namespace, release):
    bad = "sh -c 'if [ \"$mapreduce_task_partition\" = 1 ]; then echo bad record >&2; exit 65; " \
          "fi; python3 /opt/mapreduce/mapper.py'"
    result = cluster.install(namespace, release, "--set", "mappers=3",
                             "--set", f"mapperCommand={bad}", check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert re.search(r"map task 1 failed for good \(bad input", text), text[-3000:]
    status = json.loads(cluster.kubectl("get", "job", "-n", namespace, "-l",
                                        f"app.kubernetes.io/instance={release},"
                                        "app.kubernetes.io/component=map", "-o", "json").stdout)
    job = status["items"][0]["status"]
    assert job.get("failedIndexes") == "1"
    map_pods = cluster.kubectl("get", "pods", "-n", namespace, "-l",
                               "app.kubernetes.io/component=map,"
                               "batch.kubernetes.io/job-completion-index=1", "-o", "name").stdout
    assert len(map_pods.split()) == 1  # no retry of a bad-input index


def test_failed_map_stage_makes_the_shuffle_fail_fast(cluster, namespace, release):
    broken = "sh -c 'echo mapper is broken >&2; exit 3'"
    result = cluster.install(namespace, release, "--set", "mappers=2",
                             "--set", f"mapperCommand={broken}",
                             "--set", "map.backoffLimitPerIndex=1",
                             "--set", "shuffle.timeoutSeconds=3600", check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "failed for good (2 failed attempts" in text, text[-3000:]
    assert "timed out" not in text


def test_a_hung_mapper_times_out_and_the_job_fails_fast(cluster, namespace, release):
    """mapreduce.task.timeout in the pods: a mapper that stops making progress is killed after
    the timeout, each attempt fails, and the install fails naming the timeout, long before the
    shuffle's own hour-long timeout."""
    hung = "sh -c 'if [ \"$mapreduce_task_partition\" = 1 ]; then sleep 3600; fi; " \
           "python3 /opt/mapreduce/mapper.py'"
    started = time.monotonic()
    result = cluster.install(namespace, release, "--set", "mappers=2",
                             "--set", f"mapperCommand={hung}",
                             "--set", "jobConf.mapreduce\\.task\\.timeout=4000",
                             "--set", "map.backoffLimitPerIndex=1",
                             "--set", "shuffle.timeoutSeconds=3600", check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "map task 1 failed for good (2 failed attempts" in text, text[-3000:]
    assert "made no progress for 4s (mapreduce.task.timeout): killed" in text, text[-3000:]
    assert time.monotonic() - started < 900


def test_nfs_branch_is_accepted_by_the_apiserver(cluster, namespace):
    rendered = cluster.helm("template", "nfsrel", str(CHART), "--namespace", namespace,
                            "--set", "storage.nfs.server=nfs.example.internal",
                            "--set", "storage.nfs.path=/exports/mapreduce").stdout
    kinds = re.findall(r"^kind: (\w+)", rendered, re.M)
    assert "PersistentVolume" in kinds and "nfs:" in rendered
    cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=rendered)


def evict(cluster, namespace, pod):
    """What a node drain does: an Eviction through the API, not a plain delete."""
    name = pod.split("/", 1)[1]
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": name, "namespace": namespace}})
    cluster.kubectl("create", "--raw",
                    f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", "-f", "-",
                    input=body)


def test_evicted_pods_are_replaced_without_counting_as_failures(cluster, namespace, release,
                                                                tmp_path):
    slow_map = "sh -c 'sleep 15; python3 /opt/mapreduce/mapper.py'"
    slow_reduce = "sh -c 'sleep 15; python3 /opt/mapreduce/reducer.py'"
    done = {}

    def install():
        done["result"] = cluster.install(namespace, release, "--set", "mappers=2",
                                         "--set", "map.backoffLimitPerIndex=0",
                                         "--set", "reduce.backoffLimitPerIndex=0",
                                         "--set", f"mapperCommand={slow_map}",
                                         "--set", f"reducerCommand={slow_reduce}", check=False)

    thread = threading.Thread(target=install)
    thread.start()
    evict(cluster, namespace, wait_for(lambda: pods(cluster, namespace, "map"),
                                       what="a running map pod")[0])
    evict(cluster, namespace, wait_for(lambda: pods(cluster, namespace, "reduce"), timeout=600,
                                       what="a running reduce pod")[0])
    thread.join(timeout=1200)
    result = done["result"]
    # No retries were allowed: the job succeeds only if evictions did not count as failures.
    assert result.returncode == 0, result.stderr
    local = run_local([cluster.sample_file(namespace, release)], tmp_path / "local", 2, 2,
                      "--combiner", f"{sys.executable} {ROOT}/scripts/reducer.py")
    assert_same_output(cluster.output_dir(namespace, release), local)


def test_network_policy_is_accepted_and_the_job_runs(cluster, namespace, release, tmp_path):
    cluster.install(namespace, release, "--set", "mappers=2", "--set", "networkPolicy.enabled=true")
    policies = cluster.kubectl("get", "networkpolicy", "-n", namespace, "-o", "name").stdout
    assert policies.split(), "the NetworkPolicy was not created"
    local = run_local([cluster.sample_file(namespace, release)], tmp_path / "local", 2, 2,
                      "--combiner", f"{sys.executable} {ROOT}/scripts/reducer.py")
    assert_same_output(cluster.output_dir(namespace, release), local)
