#!/usr/bin/env python3
"""Judge the security scanners' findings (ci/scan-chart.sh) against ci/scan-exceptions.yaml.

usage: scan_findings.py EXCEPTIONS SOURCE=SCANNER:REPORT.json...

SOURCE names what was scanned (`chart`, or a scenario such as `default`); left empty, each
finding's source is the name of its file without `.yaml` (a directory of rendered scenarios).
SCANNER is `checkov` or `trivy` and REPORT its JSON output. Every finding must be covered by an exception (same
scanner and check id, a matching resource and source), and every exception must cover at least
one finding, so that none outlives its cause. Exit status 1 when either fails.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Finding:
    scanner: str
    check: str
    resource: str  # Kind/name
    source: str
    title: str
    where: str


@dataclass
class Accepted:
    scanner: str
    check: str
    resources: list[str]
    sources: list[str]
    reason: str
    used: int = 0

    def covers(self, finding: Finding) -> bool:
        return (
            finding.scanner == self.scanner
            and finding.check == self.check
            and matches(finding.resource, self.resources)
            and matches(finding.source, self.sources)
        )


def matches(name: str, patterns: list[str]) -> bool:
    """Some pattern matches and no `!pattern` does."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns if not p.startswith("!")) and not any(
        fnmatch.fnmatchcase(name, p[1:]) for p in patterns if p.startswith("!")
    )


def source_of(source: str, path: str) -> str:
    """The given source, or the scenario named by the file (`/default.yaml` -> `default`)."""
    return source or os.path.basename(path).removesuffix(".yaml")


def checkov_findings(report: Any, source: str) -> list[Finding]:
    """Failed checks of a Checkov JSON report (one framework: an object; several: a list)."""
    found = []
    for part in report if isinstance(report, list) else [report]:
        for check in part.get("results", {}).get("failed_checks", []):
            # "Kind.namespace.name" (graph checks append the pod labels to the name).
            kind, _, rest = check["resource"].partition(".")
            path = check.get("file_path", "")
            finding = Finding(
                scanner="checkov",
                check=check["check_id"],
                resource=f"{kind}/{rest.partition('.')[2]}",
                source=source_of(source, path),
                title=check["check_name"],
                where=path,
            )
            found.append(finding)
    return found


# Trivy names the resource in its message: "Container 'map' of Job 'wc-mapreduce-map-r1' should
# ...", "Container map in job wc-mapreduce-map-r1 (namespace: ...) uses ..." or "ConfigMap
# 'wc-mapreduce-files' in 'mapreduce-ci' namespace stores ...".
TRIVY_RESOURCE = (
    re.compile(r"\b(?:of|in) ([A-Za-z]+) '?([a-z0-9][a-z0-9.-]*)'?"),
    re.compile(r"^([A-Z][A-Za-z]+) '([^']+)'"),
)


def trivy_resource(message: str) -> str | None:
    """Kind/name of the resource a Trivy message names, if it names one."""
    for pattern in TRIVY_RESOURCE:
        match = pattern.search(message)
        if match:
            return f"{match[1][0].upper()}{match[1][1:]}/{match[2]}"
    return None


def trivy_findings(report: Any, source: str) -> list[Finding]:
    """Failed misconfigurations of a Trivy JSON report."""
    found = []
    for result in report.get("Results") or []:
        for item in result.get("Misconfigurations") or []:
            if item.get("Status") != "FAIL":
                continue
            path = result.get("Target", "")
            finding = Finding(
                scanner="trivy",
                check=item["ID"],
                resource=trivy_resource(item.get("Message", "")) or f"?/{path}",
                source=source_of(source, path),
                title=item.get("Title", ""),
                where=path,
            )
            found.append(finding)
    return found


def load_exceptions(path: str) -> list[Accepted]:
    entries = yaml.safe_load(open(path, encoding="utf-8")) or []
    exceptions = []
    for i, entry in enumerate(entries):
        missing = {"scanner", "check", "resources", "reason"} - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            sys.exit(f"{path}: entry {i + 1} needs scanner, check, resources and a reason")
        # A misspelt key (`source:`) would otherwise widen the entry to every source.
        unknown = set(entry) - {"scanner", "check", "resources", "sources", "reason"}
        if unknown:
            sys.exit(f"{path}: entry {i + 1} has unknown keys {sorted(unknown)}")
        exceptions.append(
            Accepted(
                entry["scanner"],
                entry["check"],
                list(entry["resources"]),
                list(entry.get("sources", ["*"])),
                entry["reason"],
            )
        )
    return exceptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print every finding")
    parser.add_argument("exceptions")
    parser.add_argument("reports", nargs="+", metavar="SOURCE=SCANNER:REPORT")
    args = parser.parse_args()
    exceptions = load_exceptions(args.exceptions)
    readers = {"checkov": checkov_findings, "trivy": trivy_findings}
    findings: list[Finding] = []
    for spec in args.reports:
        source, _, rest = spec.partition("=")
        scanner, _, path = rest.partition(":")
        with open(path, encoding="utf-8") as report:
            findings += readers[scanner](json.load(report), source)

    uncovered = []
    for finding in sorted(set(findings), key=lambda f: (f.scanner, f.check, f.resource, f.source)):
        covering = [e for e in exceptions if e.covers(finding)]
        for e in covering:
            e.used += 1
        if not covering:
            uncovered.append(finding)
    if args.list:
        for f in sorted(set(findings), key=lambda f: (f.source, f.scanner, f.check, f.resource)):
            print(f"{f.source}: {f.scanner} {f.check} {f.resource} {f.title}")
    for f in uncovered:
        print(f"FINDING {f.scanner} {f.check} {f.resource} [{f.source}] {f.title} ({f.where})")
    stale = [e for e in exceptions if not e.used]
    for e in stale:
        print(f"STALE EXCEPTION {e.scanner} {e.check} {e.resources}: matches no finding, remove it")
    total = len(set(findings))
    print(
        f"scan: {total} findings, {total - len(uncovered)} accepted by {len(exceptions)} "
        f"exceptions ({args.exceptions}), {len(uncovered)} not accepted, {len(stale)} stale"
    )
    return 1 if uncovered or stale else 0


if __name__ == "__main__":
    sys.exit(main())
