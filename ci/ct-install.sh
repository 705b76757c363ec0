#!/usr/bin/env bash
# chart-testing install on the local test cluster: for every chart/ci/*-values.yaml, ct makes a
# namespace (Pod Security "restricted" by the cluster's default), runs `helm install --wait`
# (the reduce hook runs inside it), `helm test`, and uninstalls. The scenarios install as they
# are: the test cluster's shared storage class is its default class, as on kind.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .cluster/env ] || { echo "ct-install: .cluster/env missing: run make cluster" >&2; exit 1; }
# shellcheck source=/dev/null # written by make cluster
. .cluster/env
export PATH="$PWD/.tools/bin:$PWD/.venv/bin:$PATH"
exec ct install --config ci/ct.yaml --charts chart
