#!/usr/bin/env bash
# Static checks of the Helm chart (make test-chart / make lint). Tools come from .tools/bin
# (make tools) and .venv (yamllint, yamale, pytest, kubernetes-validate).
#   ci/test-chart.sh          everything
#   ci/test-chart.sh lint     helm lint (Helm 4 and 3), ct lint, kube-linter only
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PWD/.venv/bin:$PATH"
PY="$PWD/.venv/bin/python"
mode="${1:-all}"
K8S_VERSIONS="${K8S_VERSIONS:-1.31.0 1.32.0 1.33.0 1.34.0 1.35.0 1.36.0 1.37.0}"
RENDER="$(mktemp -d "${TMPDIR:-/tmp}/chart-render.XXXXXX")"
trap 'rm -rf "$RENDER"' EXIT
NS=mapreduce-ci
# chart/ci: installed by ct install too; tests/chart/scenarios: render-only (NFS, existing
# claim, remote URLs, private registry).
scenarios=(chart/ci/*-values.yaml tests/chart/scenarios/*-values.yaml)
step() { printf '\n== %s\n' "$*"; }
fail=0
check() { if ! "$@"; then echo "FAILED: $*" >&2; fail=1; fi; }

for tool in helm helm3; do command -v "$tool" >/dev/null || { echo "$tool missing: run make tools" >&2; exit 1; }; done

step "helm lint + helm template, Helm 4 ($(helm version --short)) and Helm 3 ($(helm3 version --short)), ${#scenarios[@]} scenarios"
for tool in helm helm3; do
  mkdir -p "$RENDER/$tool"
  for f in "${scenarios[@]}"; do
    name="$(basename "$f" -values.yaml)"
    check "$tool" lint chart --strict --quiet --namespace "$NS" -f "$f" >/dev/null
    check "$tool" template wc chart --namespace "$NS" -f "$f" >"$RENDER/$tool/$name.yaml"
  done
  echo "$tool: ${#scenarios[@]} scenarios linted and rendered"
done
# (tests/chart compares the Helm 3 and Helm 4 renders document by document: Helm 4 only adds
# blank lines between documents, so a textual diff would be noise.)

step "ct lint"
check ct lint --config ci/ct.yaml --lint-conf ci/lintconf.yaml --chart-yaml-schema ci/chart_schema.yaml --charts chart

step "actionlint: .github/workflows (they run on GitHub, not here: syntax, expressions, job wiring)"
check actionlint -no-color -shellcheck= -pyflakes= .github/workflows/*.yaml

step "kube-linter (default checks)"
if command -v kube-linter >/dev/null; then
  args=()
  [[ -f ci/kube-linter.yaml ]] && args=(--config ci/kube-linter.yaml)
  check kube-linter lint "${args[@]}" "$RENDER/helm"
else
  echo "kube-linter: NOT RUN - not installed (its module host is not served by the reachable Go proxy; make tools reports it)" >&2
  [[ "${REQUIRE_KUBE_LINTER:-0}" == 1 ]] && fail=1
fi

if [[ "$mode" != lint ]]; then
  step "kubeconform -strict against Kubernetes ${K8S_VERSIONS// /, } (standalone schemas built offline)"
  # shellcheck disable=SC2086
  schemas="$("$PY" ci/kubeconform_schemas.py $K8S_VERSIONS)"
  for v in $K8S_VERSIONS; do
    check kubeconform -strict -summary -kubernetes-version "$v" \
      -schema-location "$schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      "$RENDER"/helm/*.yaml
  done

  step "pytest tests/chart (render tests, schema negative cases, README drift)"
  check "$PY" -m pytest -q tests/chart
fi

if [[ $fail != 0 ]]; then echo "test-chart: FAILED" >&2; exit 1; fi
echo "test-chart: all checks passed"
