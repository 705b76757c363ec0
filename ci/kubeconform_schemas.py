#!/usr/bin/env python3
"""Build standalone strict JSON schemas for kubeconform, offline, from kubernetes-validate's data.

kubernetes-validate (PyPI) ships per-kind schemas for Kubernetes 1.25-1.37 in `vX.Y.0-local-strict`
folders whose `$ref`s point at a shared `/api/_definitions.json`. kubeconform would try to fetch
that over the network, so each kind's schema is rewritten here into a standalone file: every
definition it reaches is copied into its own `$defs` and the references become local
(`#/$defs/NAME`). The result lands in DEST/vX.Y.0-standalone-strict/KIND-GROUP-VERSION.json, the
layout kubeconform's `-schema-location DEST/{{ .NormalizedKubernetesVersion }}-standalone{{
.StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json` expects.

Usage: kubeconform_schemas.py [--dest DIR] VERSION...   (e.g. 1.31.0 1.37.0); prints DIR.
DIR defaults to $CACHE_DIR/kubeconform-schemas/<kubernetes-validate version>-<this file's hash>,
outside the repo; a version already built there is reused.
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
import sys

import kubernetes_validate
from kubernetes_validate.version import __version__ as KV_VERSION

REF_PREFIX = "/api/_definitions.json#/$defs/"
LOCAL_PREFIX = "#/$defs/"


def data_dir():
    return pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def rewrite(node, found):
    """Copy of a schema node with shared-definition refs made local; collect referenced names."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if value.startswith(REF_PREFIX):
                    name = value[len(REF_PREFIX):]
                elif value.startswith(LOCAL_PREFIX):
                    name = value[len(LOCAL_PREFIX):]
                else:
                    raise ValueError(f"unexpected $ref {value!r}")
                found.add(name)
                out[key] = LOCAL_PREFIX + name
            else:
                out[key] = rewrite(value, found)
        return out
    if isinstance(node, list):
        return [rewrite(v, found) for v in node]
    return node


def standalone(schema, defs):
    names = set()
    top = rewrite({k: v for k, v in schema.items() if k != "$id"}, names)
    done = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in done:
            continue
        more = set()
        done[name] = rewrite(defs[name], more)
        pending.extend(more - done.keys())
    if done:
        top["$defs"] = dict(sorted(done.items()))
    text = json.dumps(top, sort_keys=True)
    if re.search(r'"\$ref": "(?!#)', text):
        raise ValueError("a non-local $ref is left")
    return top


def build(version, dest):
    src = data_dir() / f"v{version}-local-strict"
    if not src.is_dir():
        sys.exit(f"kubernetes-validate {KV_VERSION} has no schemas for Kubernetes {version}")
    out = dest / f"v{version}-standalone-strict"
    if (out / ".complete").exists():
        return
    tmp = dest / f".v{version}.tmp{os.getpid()}"
    tmp.mkdir(parents=True)
    defs = json.loads((src / "_definitions.json").read_text())["$defs"]
    count = 0
    for path in sorted(src.glob("*.json")):
        if path.name.startswith("_") or path.name == "all.json":
            continue
        schema = json.loads(path.read_text())
        if "x-kubernetes-group-version-kind" not in schema:
            continue  # only kinds that can be top-level objects
        (tmp / path.name).write_text(json.dumps(standalone(schema, defs)))
        count += 1
    (tmp / ".complete").write_text(f"{count}\n")
    if out.exists():
        import shutil
        shutil.rmtree(out)
    tmp.rename(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest")
    ap.add_argument("versions", nargs="+")
    args = ap.parse_args()
    if args.dest:
        dest = pathlib.Path(args.dest)
    else:
        cache = pathlib.Path(os.environ.get("CACHE_DIR") or pathlib.Path.home() / ".cache/mapreduce-k8s")
        own = hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest()[:8]
        dest = cache / "kubeconform-schemas" / f"{KV_VERSION}-{own}"
    dest.mkdir(parents=True, exist_ok=True)
    for version in args.versions:
        build(version if version.count(".") == 2 else version + ".0", dest)
    print(dest)


if __name__ == "__main__":
    main()
