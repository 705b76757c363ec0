#!/usr/bin/env python3
"""Pack static binaries into a single-layer `FROM scratch` image tar in the docker-archive
format (what `docker save` writes and `ctr images import` reads), without docker or a registry.

usage: mkimage.py OUT.tar NAME:TAG ENTRYPOINT [--user UID:GID] FILE[=PATH_IN_IMAGE]...
"""
import argparse
import hashlib
import io
import json
import os
import tarfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("ref")
    ap.add_argument("entrypoint")
    ap.add_argument("--user", default="")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    # Layer: fixed mtimes/owners so the same binaries always give the same digest.
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for d in ("tmp",):
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o1777
            t.addfile(ti)
        for spec in a.files:
            src, _, dst = spec.partition("=")
            dst = (dst or "/" + os.path.basename(src)).lstrip("/")
            data = open(src, "rb").read()
            ti = tarfile.TarInfo(dst)
            ti.size = len(data)
            ti.mode = 0o755
            t.addfile(ti, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()

    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": [a.entrypoint], "User": a.user, "WorkingDir": "/",
                   "Env": ["PATH=/"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "ci/cluster/mkimage.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id[7:] + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [a.ref], "Layers": [layer_name]}]

    with tarfile.open(a.out, "w") as out:
        for name, data in ((config_name, config_bytes), (layer_name, layer_bytes),
                           ("manifest.json", json.dumps(manifest).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            out.addfile(ti, io.BytesIO(data))


if __name__ == "__main__":
    main()
