"""chart/README.md is what helm-docs generates from values.yaml and README.md.gotmpl (no drift)."""
import subprocess

import yaml

from conftest import CHART, tool


def test_readme_matches_helm_docs():
    proc = subprocess.run([tool("helm-docs"), "--chart-search-root", str(CHART), "--dry-run",
                           "--template-files", "README.md.gotmpl"],
                          capture_output=True, text=True, cwd=CHART)
    assert proc.returncode == 0, proc.stderr
    current = (CHART / "README.md").read_text()
    assert proc.stdout.strip() == current.strip(), \
        "chart/README.md is out of date: run `bash ci/chart-docs.sh` (helm-docs)"


def documented_keys():
    """Keys that carry a helm-docs `# --` comment in values.yaml."""
    keys, stack = set(), []
    pending = False
    for line in (CHART / "values.yaml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = True
            continue
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.startswith("- "):
            continue
        indent = len(line) - len(line.lstrip())
        key = stripped.split(":", 1)[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if pending:
            keys.add(".".join(k for _, k in stack))
        pending = False
    return keys


def leaves(node, prefix=""):
    for k, v in node.items():
        if isinstance(v, dict) and v and not k.endswith(("resources",)):
            yield from leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}"


def test_every_value_is_documented():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = documented_keys()
    missing = [k for k in leaves(values) if k not in documented]
    assert not missing, f"values without a `# --` comment: {missing}"
