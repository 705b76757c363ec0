#!/usr/bin/env python3
"""Write chart/values.schema.json (kept in the repo; tests/chart checks it is up to date).

The schema is strict on the chart's own objects (additionalProperties: false) and
self-contained (only local "#/definitions/..." references), so Helm never fetches anything.
Run: python3 ci/gen_values_schema.py [--check]
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "chart" / "values.schema.json"


def obj(props, required=(), **extra):
    d = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        d["required"] = list(required)
    d.update(extra)
    return d


def ref(name):
    return {"$ref": "#/definitions/" + name}


def integer(minimum=None, nullable=False, maximum=None, description=None):
    d = {"type": ["integer", "null"] if nullable else "integer"}
    if minimum is not None:
        d["minimum"] = minimum
    if maximum is not None:
        d["maximum"] = maximum
    if description:
        d["description"] = description
    return d


STRING = {"type": "string"}
QUANTITY = {"type": ["string", "integer"], "pattern": r"^[0-9]+(\.[0-9]+)?([eE][0-9]+|[mkMGTPE]i?|Ki|k)?$"}
SORT_SIZE = {"type": "string", "pattern": r"^[0-9]+[%bKMGTPEZY]?$"}

definitions = {
    "image": obj(
        {
            "repository": {"type": "string", "minLength": 1, "pattern": r"^[^:@\s]+(:[0-9]+/[^:@\s]+)?$"},
            "tag": {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$|^$",
                    "not": {"const": "latest"},
                    "description": "empty means the chart's appVersion; never latest"},
            "digest": {"type": "string", "pattern": r"^(sha256:[a-f0-9]{64})?$"},
            "pullPolicy": {"enum": ["IfNotPresent", "Always", "Never"]},
        },
        required=["repository", "tag", "digest", "pullPolicy"],
    ),
    "resources": obj(
        {
            "requests": obj({"cpu": QUANTITY, "memory": QUANTITY, "ephemeral-storage": QUANTITY},
                            required=["cpu", "memory"]),
            "limits": obj({"cpu": QUANTITY, "memory": QUANTITY, "ephemeral-storage": QUANTITY},
                          required=["memory"]),
        },
        required=["requests", "limits"],
        description="CPU and memory requests and a memory limit are required (Pod Security and linters)",
    ),
    "script": {"type": "string"},
    "command": {"type": "string"},
    "stringMap": {"type": "object", "additionalProperties": {"type": "string"}},
}

schema = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Values of the mapreduce chart",
    "type": "object",
    "additionalProperties": False,
    "definitions": definitions,
    "properties": {
        "global": {"type": "object", "description": "set by Helm for subcharts; unused"},
        "mappers": integer(1, maximum=100000),
        "parallelism": integer(0, nullable=True, maximum=100000),
        "reducers": integer(0, maximum=10000),
        "combiner": {"type": "boolean"},
        "mapperScript": ref("script"),
        "reducerScript": ref("script"),
        "combinerScript": ref("script"),
        "mapperCommand": ref("command"),
        "reducerCommand": ref("command"),
        "combinerCommand": ref("command"),
        "badInputExitCode": integer(1, maximum=255),
        "mapStageFailedExitCode": integer(1, maximum=255),
        "images": obj({"mapper": ref("image"), "reducer": ref("image")}, required=["mapper", "reducer"]),
        "imagePullSecrets": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "input": obj(
            {
                "sample": obj(
                    {
                        "enabled": {"type": ["boolean", "null"]},
                        "bytes": integer(1, maximum=1 << 40),
                        "seed": integer(0),
                    },
                    required=["bytes", "seed"],
                ),
                "paths": {"type": "array", "items": {"type": "string", "minLength": 1, "pattern": r"^[^\s]+$"}},
                "urls": {"type": "array", "items": {"type": "string", "pattern": r"^https?://[^\s]+$"}},
            },
            required=["sample", "paths", "urls"],
        ),
        "storage": obj(
            {
                "existingClaim": {"type": "string", "pattern": r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$"},
                "nfs": obj(
                    {
                        "server": STRING,
                        "path": {"type": "string", "pattern": r"^(/.*)?$"},
                        "mountOptions": {"type": "array", "items": STRING},
                    },
                    required=["server", "path"],
                ),
                "storageClassName": STRING,
                "accessMode": {"enum": ["ReadWriteMany", "ReadWriteOnce"]},
                "size": QUANTITY,
                "keepOnUninstall": {"type": "boolean"},
                "mountPath": {"type": "string", "pattern": r"^/[A-Za-z0-9._/-]*$",
                              "not": {"enum": ["/", "/tmp", "/etc/mapreduce", "/opt/mapreduce"]}},
                "baseDir": {"type": "string", "pattern": r"^[A-Za-z0-9._/-]*$"},
            },
            required=["existingClaim", "nfs", "accessMode", "size", "mountPath"],
        ),
        "sortBuffer": SORT_SIZE,
        "map": obj(
            {
                "backoffLimitPerIndex": integer(0, maximum=100),
                "maxFailedIndexes": integer(0),
                "activeDeadlineSeconds": integer(1, nullable=True),
                "resources": ref("resources"),
            },
            required=["backoffLimitPerIndex", "resources"],
        ),
        "reduce": obj(
            {
                "backoffLimitPerIndex": integer(0, maximum=100),
                "activeDeadlineSeconds": integer(1, nullable=True),
                "resources": ref("resources"),
            },
            required=["backoffLimitPerIndex", "resources"],
        ),
        "shuffle": obj(
            {
                "timeoutSeconds": integer(1),
                "pollSeconds": integer(1, maximum=600),
                "resources": ref("resources"),
                "scratchSizeLimit": {"type": "string", "pattern": r"^([0-9]+([mkMGTPE]i?|Ki|k)?)?$"},
            },
            required=["timeoutSeconds", "resources"],
        ),
        "fetch": obj({"resources": ref("resources")}, required=["resources"]),
        "ttlSecondsAfterFinished": integer(0, nullable=True),
        "keepFailedHooks": {"type": "boolean"},
        "extraEnv": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "nodeSelector": ref("stringMap"),
        "tolerations": {"type": "array", "items": {"type": "object"}},
        "affinity": {"type": "object"},
        "podAnnotations": ref("stringMap"),
        "podLabels": ref("stringMap"),
        "priorityClassName": STRING,
        "securityContext": obj(
            {"runAsUser": integer(1), "runAsGroup": integer(1), "fsGroup": integer(1)},
            required=["runAsUser", "runAsGroup", "fsGroup"],
        ),
        "serviceAccount": obj(
            {"create": {"type": "boolean"}, "name": STRING, "annotations": ref("stringMap")},
            required=["create", "name"],
        ),
        "nameOverride": STRING,
        "fullnameOverride": STRING,
        "tests": obj({"enabled": {"type": "boolean"}, "resources": ref("resources")},
                     required=["enabled", "resources"]),
    },
    "required": ["mappers", "reducers", "images", "input", "storage", "map", "reduce", "shuffle",
                 "fetch", "securityContext", "tests"],
}


def render():
    return json.dumps(schema, indent=2) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if OUT.read_text() != text:
            sys.exit(f"{OUT.relative_to(ROOT)} is out of date: run python3 ci/gen_values_schema.py")
    else:
        OUT.write_text(text)
