#!/usr/bin/env bash
# End-to-end run of the chart on a real cluster (the local test cluster: .cluster/env, or any
# KUBECONFIG whose cluster has the images and a shared storage class):
#   install (mappers=10) -> helm test -> upgrade with new values (a new run, no immutable-field
#   error) -> helm test -> uninstall -> no Jobs or pods of the release are left.
# Usage: ci/chart-e2e.sh [helm|helm3] [extra helm install args...]
# The install uses .cluster/values.yaml when present. The namespace is created with the Pod
# Security "restricted" labels, so every pod is admitted under "restricted".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
[[ -f .cluster/env ]] && . .cluster/env
HELM="${1:-helm}"; shift || true
NS="${E2E_NAMESPACE:-chart-e2e-$HELM-$$}"
REL=wc
values=()
# Helm 4 prints the test pod's log with --logs; Helm 3 prints it through the chart's
# hook-output-log-policy, and its --logs would look for the pod after hook-succeeded deleted it.
logs=(--logs)
[[ "$("$HELM" version --short)" == v3.* ]] && logs=()
[[ -f .cluster/values.yaml ]] && values=(-f .cluster/values.yaml)
log() { printf '[chart-e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() { "$HELM" uninstall "$REL" -n "$NS" --wait >/dev/null 2>&1 || true; kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

kubectl create namespace "$NS" >/dev/null
kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=restricted \
  pod-security.kubernetes.io/warn=restricted --overwrite >/dev/null

log "$HELM install (10 mappers, 2 reducers) in $NS"
"$HELM" install "$REL" ./chart -n "$NS" "${values[@]}" --set mappers=10 --timeout 10m "$@"
kubectl -n "$NS" get job "$REL-mapreduce-map-r1" -o jsonpath='{.status.completedIndexes}{"\n"}'
"$HELM" test "$REL" -n "$NS" "${logs[@]}" 2>&1 | tee /tmp/chart-e2e-test1.$$ | grep -E '^(OK|FAIL|parts)'
grep -q '^OK: ' /tmp/chart-e2e-test1.$$

log "$HELM upgrade with new values (5 mappers, 3 reducers, no combiner): a new run"
"$HELM" upgrade "$REL" ./chart -n "$NS" --reuse-values --set mappers=5 --set reducers=3 \
  --set combiner=false --timeout 10m "$@"
test "$(kubectl -n "$NS" get configmap "$REL-mapreduce-run" -o jsonpath='{.data.run}')" = 2
"$HELM" test "$REL" -n "$NS" "${logs[@]}" 2>&1 | tee /tmp/chart-e2e-test2.$$ | grep -E '^(OK|FAIL|parts|output)'
grep -q '^OK: ' /tmp/chart-e2e-test2.$$
grep -q 'parts: 3,' /tmp/chart-e2e-test2.$$
# same input, same words: both runs must give the same total (sum of the counts)
t1="$(sed -n 's/.*sum of values: \([0-9]*\).*/\1/p' /tmp/chart-e2e-test1.$$ | head -n 1)"
t2="$(sed -n 's/.*sum of values: \([0-9]*\).*/\1/p' /tmp/chart-e2e-test2.$$ | head -n 1)"
rm -f /tmp/chart-e2e-test[12].$$
[[ -n "$t1" && "$t1" == "$t2" ]] || { log "totals differ between runs: $t1 vs $t2"; exit 1; }

log "$HELM uninstall: no Jobs or pods may be left"
"$HELM" uninstall "$REL" -n "$NS" --wait --timeout 5m
for _ in $(seq 60); do
  left="$(kubectl -n "$NS" get jobs,pods -l "app.kubernetes.io/instance=$REL" -o name)"
  [[ -z "$left" ]] && break
  sleep 2
done
[[ -z "$left" ]] || { log "left behind: $left"; exit 1; }
log "PASS: install, test, upgrade (new run), test, uninstall with $HELM ($("$HELM" version --short))"
