#!/usr/bin/env bash
# chart-testing install on the local test cluster: for every chart/ci/*-values.yaml, ct makes a
# namespace (Pod Security "restricted" by the cluster's default), runs `helm install --wait`
# (the reduce hook runs inside it), `helm test`, and uninstalls. The cluster's storage values
# are added to every install.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .cluster/env ] || { echo "ct-install: .cluster/env missing: run make cluster" >&2; exit 1; }
. .cluster/env
export PATH="$PWD/.tools/bin:$PWD/.venv/bin:$PATH"
exec ct install --config ci/ct.yaml --charts chart \
  --helm-extra-set-args "--values=$PWD/.cluster/values.yaml"
