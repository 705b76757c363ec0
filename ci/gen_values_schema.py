#!/usr/bin/env python3
"""Generate chart/values.schema.json from chart/values.yaml, its one source.

values.yaml says everything about a value next to it:
  # @schema {"minimum": 1}        constraints, as JSON (above the `# --` line, where helm-docs
                                   does not read them; several @schema lines are joined)
  # -- (int) Text of the value.    helm-docs' description: the schema's description, and the type
                                   of a value whose default is null
  key: default                     the default gives the type; a map is a strict object
                                   (additionalProperties: false) of the keys it lists, unless
                                   @schema gives "type", "$ref" or "additionalProperties"
A key whose default is not null is required (`--set key=null` removes it), unless its type
allows null. The named types below
(a Kubernetes quantity, an image, resources, DNS names) are the shared vocabulary @schema lines
refer to with {"$ref": "#/definitions/NAME"}; the schema is self-contained, so Helm never
fetches anything.
Run: python3 ci/gen_values_schema.py [--check]
"""
from __future__ import annotations

import json
import pathlib
import re
import sys
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
VALUES = ROOT / "chart" / "values.yaml"
OUT = ROOT / "chart" / "values.schema.json"

QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?([eE][0-9]+|[mkMGTPE]i?|Ki|k)?$"
QUANTITY = {"type": ["string", "integer"], "pattern": QUANTITY_PATTERN}
REQUESTS = {"cpu": {"$ref": "#/definitions/quantity"},
            "memory": {"$ref": "#/definitions/quantity"},
            "ephemeral-storage": {"$ref": "#/definitions/quantity"}}
DEFINITIONS: dict[str, Any] = {
    "quantity": QUANTITY,
    "dnsLabel": {"type": "string", "maxLength": 63, "pattern": r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"},
    "dnsSubdomain": {"type": "string", "maxLength": 253,
                     "pattern": r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$"},
    "stringMap": {"type": "object", "additionalProperties": {"type": "string"}},
    "image": {
        "type": "object", "additionalProperties": False,
        "required": ["repository", "tag", "digest", "pullPolicy"],
        "properties": {
            "repository": {"type": "string", "minLength": 1,
                           "pattern": r"^[^:@\s]+(:[0-9]+/[^:@\s]+)?$"},
            "tag": {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$|^$",
                    "not": {"const": "latest"},
                    "description": "empty means the chart's appVersion; never latest"},
            "digest": {"type": "string", "pattern": r"^(sha256:[a-f0-9]{64})?$"},
            "pullPolicy": {"enum": ["IfNotPresent", "Always", "Never"]},
        },
    },
    "resources": {
        "type": "object", "additionalProperties": False, "required": ["requests", "limits"],
        "description": "CPU and memory requests and a memory limit are required (Pod Security "
                       "and linters)",
        "properties": {
            "requests": {"type": "object", "additionalProperties": False,
                         "properties": REQUESTS, "required": ["cpu", "memory"]},
            "limits": {"type": "object", "additionalProperties": False,
                       "properties": REQUESTS, "required": ["memory"]},
        },
    },
}
HELM_DOCS_TYPES = {"int": "integer", "bool": "boolean", "string": "string", "float": "number",
                   "list": "array", "object": "object"}
LEAF_KEYS = ("type", "$ref", "additionalProperties")


class SchemaError(Exception):
    pass


def comments_by_key(text: str) -> dict[str, list[str]]:
    """{dotted key: the comment lines right above it} of a values file (lists are leaves)."""
    out: dict[str, list[str]] = {}
    stack: list[tuple[int, str]] = []
    block: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped[1:].strip())
            continue
        if not stripped or stripped.startswith("- ") or ":" not in stripped:
            block = []
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, stripped.split(":", 1)[0].strip("\"'")))
        out[".".join(key for _, key in stack)] = block
        block = []
    return out


def parse_comment(key: str, lines: list[str]) -> tuple[dict, str, str | None]:
    """(the @schema constraints, the helm-docs description, the helm-docs type) of one key."""
    schema_text: list[str] = []
    description: list[str] = []
    hint = None
    for line in lines:
        if line.startswith("@schema"):
            if description:
                raise SchemaError(f"{key}: put `# @schema` above the `# --` line (helm-docs "
                                  "would print it)")
            schema_text.append(line[len("@schema"):])
        elif line.startswith("--"):
            text = line[2:].strip()
            match = re.match(r"\((\w+)\)\s*", text)
            if match:
                hint = HELM_DOCS_TYPES[match.group(1)]
                text = text[match.end():]
            description = [text]
        elif description:
            description.append(line)
    try:
        schema = json.loads(" ".join(schema_text)) if schema_text else {}
    except ValueError as error:
        raise SchemaError(f"{key}: @schema is not JSON: {error}") from None
    return schema, " ".join(description).strip(), hint


def inferred_type(value: Any, hint: str | None) -> dict:
    if value is None:
        return {"type": [hint, "null"]} if hint else {}
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                       (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return {"type": name}
    raise SchemaError(f"no JSON type for {value!r}")


def node_schema(key: str, value: Any, comments: dict[str, list[str]]) -> dict:
    annotation, description, hint = parse_comment(key, comments.get(key, []))
    if "$ref" in annotation:
        node = dict(annotation)
    elif isinstance(value, dict) and not any(k in annotation for k in LEAF_KEYS):
        node = object_schema(key, value, comments)
        node.update(annotation)
    else:
        node = inferred_type(value, hint)
        node.update(annotation)
    if description:
        node["description"] = description
    return node


def object_schema(prefix: str, values: dict, comments: dict[str, list[str]]) -> dict:
    properties = {key: node_schema(f"{prefix}.{key}" if prefix else key, value, comments)
                  for key, value in values.items()}
    node: dict = {"type": "object", "additionalProperties": False, "properties": properties}
    required = [key for key, value in values.items()
                if value is not None and "null" not in properties[key].get("type", [])]
    if required:
        node["required"] = required
    return node


def build() -> dict:
    text = VALUES.read_text()
    values = yaml.safe_load(text)
    root = object_schema("", values, comments_by_key(text))
    root["properties"] = {"global": {"type": "object",
                                     "description": "set by Helm for subcharts; unused"},
                          **root["properties"]}
    return {"$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Values of the mapreduce chart", **root, "definitions": DEFINITIONS}


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    try:
        text = render()
    except SchemaError as error:
        print(f"gen_values_schema: {error}", file=sys.stderr)
        return 1
    if "--check" in argv:
        if OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python3 ci/gen_values_schema.py",
                  file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
