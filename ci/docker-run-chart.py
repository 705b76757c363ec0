#!/usr/bin/env python3
"""Run a rendered chart's pods with docker, no Kubernetes: a smoke test of the images and of the
exact command lines the chart gives the engine.

It renders the chart (helm template, the given --set/-f arguments), then runs, each container as
`docker run` with the pod's security settings (numeric user, read-only root, no capabilities,
no network unless the pod fetches URLs, tmpfs at /tmp, the shared volume as a bind mount):
  1. every map pod (init containers, then the main one), as many at once as the Job's
     parallelism, with JOB_COMPLETION_INDEX and POD_NAME set as Kubernetes would; no retries;
  2. every reduce pod (shuffle init container, then reduce), all at once;
  3. the helm test pod.
Exit status 0 only if every container exited 0.

Usage: docker-run-chart.py --volume DIR [--helm PATH] [helm template args...]
"""
import argparse
import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def expand(text, env):
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), text)


def docker_cmd(pod, container, volume, configmaps, workdir, env):
    psc = pod.get("securityContext", {})
    sc = container.get("securityContext", {})
    user = f"{sc.get('runAsUser', psc.get('runAsUser'))}:{sc.get('runAsGroup', psc.get('runAsGroup'))}"
    cmd = ["docker", "run", "--rm", "--user", user, "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges"]
    if sc.get("readOnlyRootFilesystem"):
        cmd.append("--read-only")
    if "memory" in container.get("resources", {}).get("limits", {}):
        cmd += ["--memory", container["resources"]["limits"]["memory"].replace("Mi", "m").replace("Gi", "g")]
    if not any(a == "--url" for a in container.get("args", [])):
        cmd += ["--network", "none"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for m in container.get("volumeMounts", []):
        v = volumes[m["name"]]
        ro = ",readonly" if m.get("readOnly") else ""
        if "persistentVolumeClaim" in v:
            cmd += ["--mount", f"type=bind,src={volume},dst={m['mountPath']}{ro}"]
        elif "emptyDir" in v:
            cmd += ["--mount", f"type=bind,src={workdir / m['name']},dst={m['mountPath']}"]
        elif "configMap" in v:
            src = configmaps[v["configMap"]["name"]]
            cmd += ["--mount", f"type=bind,src={src},dst={m['mountPath']},readonly"]
        else:
            raise SystemExit(f"unsupported volume {v}")
    for k, val in env.items():
        cmd += ["-e", f"{k}={val}"]
    cmd += ["--entrypoint", container["command"][0], container["image"]]
    cmd += container["command"][1:] + [expand(a, env) for a in container.get("args", [])]
    return cmd


def run_pod(pod, pod_name, index, volume, configmaps, scratch):
    workdir = scratch / pod_name
    for v in pod["volumes"]:
        if "emptyDir" in v:
            (workdir / v["name"]).mkdir(parents=True, exist_ok=True)
            os.chown(workdir / v["name"], pod["securityContext"]["runAsUser"], pod["securityContext"]["fsGroup"])
    log = []
    for c in pod.get("initContainers", []) + pod["containers"]:
        env = {"POD_NAME": pod_name}
        if index is not None:
            env["JOB_COMPLETION_INDEX"] = str(index)
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = expand(e["value"], env)
        proc = subprocess.run(docker_cmd(pod, c, volume, configmaps, workdir, env),
                              capture_output=True, text=True)
        log.append(f"--- {pod_name}/{c['name']} exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
        if proc.returncode:
            return proc.returncode, "".join(log)
    return 0, "".join(log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--volume", required=True, type=pathlib.Path)
    ap.add_argument("--helm", default=str(ROOT / ".tools" / "bin" / "helm"))
    ap.add_argument("--release", default="wc")
    args, helm_args = ap.parse_known_args()
    docs = [d for d in yaml.safe_load_all(subprocess.run(
        [args.helm, "template", args.release, str(ROOT / "chart"), *helm_args],
        check=True, capture_output=True, text=True).stdout) if d]
    volume = args.volume.resolve()
    volume.mkdir(parents=True, exist_ok=True)
    scratch = volume.parent / (volume.name + ".pods")
    scratch.mkdir(exist_ok=True)
    configmaps = {}
    for d in docs:
        if d["kind"] == "ConfigMap":
            path = scratch / "configmaps" / d["metadata"]["name"]
            path.mkdir(parents=True, exist_ok=True)
            for k, v in (d.get("data") or {}).items():
                (path / k).write_text(v)
            configmaps[d["metadata"]["name"]] = path
    jobs = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in docs if d["kind"] == "Job"}
    stages = [("map", jobs["map"])]
    if "reduce" in jobs:
        stages.append(("reduce", jobs["reduce"]))
    failed = 0
    for stage, job in stages:
        n = job["spec"]["completions"]
        parallel = job["spec"].get("parallelism", n)
        pod = job["spec"]["template"]["spec"]
        print(f"== {stage}: {n} pods of {job['metadata']['name']}, {parallel} at once", flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
            futures = [pool.submit(run_pod, pod, f"{job['metadata']['name']}-{i}-x{i}", i, volume,
                                   configmaps, scratch) for i in range(n)]
            for f in futures:
                code, log = f.result()
                if code:
                    failed += 1
                    print(log)
    for d in docs:
        if d["kind"] == "Pod" and not failed:
            print(f"== test pod {d['metadata']['name']}", flush=True)
            code, log = run_pod(d["spec"], d["metadata"]["name"], None, volume, configmaps, scratch)
            print(log)
            failed += bool(code)
    print("docker-run-chart:", "FAILED" if failed else "all containers exited 0")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
