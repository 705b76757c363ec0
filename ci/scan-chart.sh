#!/usr/bin/env bash
# Security scanners on the chart, offline, at pinned versions (part of make lint):
#   Checkov (ci/requirements-checkov.txt): the chart itself (its helm framework renders the
#     defaults) and every scenario rendered with helm template (chart/ci, tests/chart/scenarios)
#   Trivy (ci/tools.sh): `trivy config` of the chart and of the same rendered scenarios, with the
#     checks built into the binary (no check bundle or database download)
# Every finding must be accepted in ci/scan-exceptions.yaml, with its reason; an exception that
# matches nothing fails too (ci/scan_findings.py).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/mapreduce-k8s}"
export PATH="$PWD/.tools/bin:$PWD/.venv/bin:$PATH"
PYTHON="${PYTHON:-python3}"
NS=mapreduce-ci
scenarios=(chart/ci/*-values.yaml tests/chart/scenarios/*-values.yaml)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scan-chart.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

for tool in helm trivy; do
  command -v "$tool" >/dev/null || { echo "scan: $tool missing: run make tools" >&2; exit 1; }
done
[[ -x .venv/bin/python ]] || { echo "scan: .venv missing: run make venv" >&2; exit 1; }

# Checkov's environment, keyed by the lock file's content and the Python version; built whole
# before it is used (a .complete stamp), one builder at a time.
checkov_env() {
  local key dir
  key="$(cat ci/requirements-checkov.txt <("$PYTHON" -V 2>&1) | sha256sum | cut -c1-12)"
  dir="$CACHE_DIR/checkov-$(sed -n 's/^checkov==//p' ci/requirements-checkov.txt)-$key"
  mkdir -p "$CACHE_DIR"
  exec 7>"$dir.lock"
  flock 7
  if [[ ! -f "$dir/.complete" ]]; then
    echo "scan: installing Checkov into $dir" >&2
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r ci/requirements-checkov.txt >&2
    touch "$dir/.complete"
  fi
  exec 7>&-
  CHECKOV="$dir/bin/checkov"
}

# Without a network the scanners cannot fetch anything even by mistake; where a network
# namespace cannot be made (no privileges), their own offline flags still apply.
OFFLINE=()
if unshare --net true 2>/dev/null; then OFFLINE=(unshare --net); fi

checkov_env
mkdir -p "$WORK/rendered"
reports=()
for f in "${scenarios[@]}"; do
  name="$(basename "$f" -values.yaml)"
  helm template wc chart --namespace "$NS" -f "$f" >"$WORK/rendered/$name.yaml"
done

# No version check against PyPI; --skip-download: nothing from the vendor's platform.
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
echo "scan: Checkov $("$CHECKOV" --version) on the chart and ${#scenarios[@]} rendered scenarios" >&2
# A source named "" stands for each file's own name (scan_findings.py).
run_checkov() { # report name, source, then checkov's arguments
  local out="$WORK/checkov-$1.json" log="$WORK/checkov-$1.log" source="$2"; shift 2
  # Its exit status says "findings" and "crash" alike: a report that is valid JSON tells them apart.
  "${OFFLINE[@]}" "$CHECKOV" --quiet --skip-download --output json "$@" >"$out" 2>"$log" || true
  if ! .venv/bin/python -c 'import json, sys; json.load(open(sys.argv[1]))' "$out" 2>/dev/null; then
    echo "scan: Checkov failed ($*):" >&2; cat "$log" >&2; exit 1
  fi
  reports+=("$source=checkov:$out")
}
run_checkov chart chart --framework helm --directory chart
# One run per scenario: Checkov's graph checks join resources across the files of one run (the
# NetworkPolicy of one scenario would cover the pods of all).
for f in "$WORK"/rendered/*.yaml; do
  run_checkov "$(basename "$f" .yaml)" "" --framework kubernetes --file "$f"
done

echo "scan: Trivy $(trivy --version | sed -n 's/^Version: //p') on the chart and ${#scenarios[@]} rendered scenarios" >&2
# --skip-check-update: the checks embedded in the binary at build time, no bundle download.
# The cache (nothing of it is reused: no database is needed for config scans) is private.
run_trivy() { # report name, source, path
  "${OFFLINE[@]}" trivy config --quiet --skip-check-update --disable-telemetry --skip-version-check \
    --cache-dir "$WORK/trivy-cache" --format json --output "$WORK/trivy-$1.json" "$3"
  reports+=("$2=trivy:$WORK/trivy-$1.json")
}
run_trivy chart chart chart
# One run for all scenarios: its checks look at one resource at a time.
run_trivy rendered "" "$WORK/rendered"

.venv/bin/python ci/scan_findings.py ${SCAN_VERBOSE:+--list} ci/scan-exceptions.yaml "${reports[@]}"
