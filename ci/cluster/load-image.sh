#!/usr/bin/env bash
# Load images from the local docker daemon into the test cluster's containerd (no registry):
#   ci/cluster/load-image.sh IMAGE[:TAG]...
# Pods must then use that exact non-latest tag with imagePullPolicy IfNotPresent or Never.
set -eu -o pipefail
. "$(dirname "$0")/config.sh"
[ $# -gt 0 ] || { echo "usage: $0 IMAGE..." >&2; exit 2; }
[ -S "$CTRD_SOCK" ] || { echo "cluster containerd socket $CTRD_SOCK not found: run 'make cluster'" >&2; exit 1; }
for img in "$@"; do
  t=$(date +%s)
  docker save "$img" | ctr --address "$CTRD_SOCK" -n k8s.io images import -
  log "loaded $img in $(( $(date +%s) - t ))s"
done
