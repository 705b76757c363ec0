#!/usr/bin/env bash
# Create (if needed) and label namespaces with Pod Security "restricted" (enforce, audit, warn):
#   ci/cluster/ns-restricted.sh NAMESPACE...
# The apiserver already defaults every namespace but kube-system to "restricted"; the explicit
# labels make that visible and hold on clusters without that default. Uses $KUBECONFIG
# (defaults to .cluster/kubeconfig). Sourcing this file defines the shell function instead.
ns_restricted() {
  local kc="${KUBECONFIG:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.cluster/kubeconfig}" ns
  for ns in "$@"; do
    kubectl --kubeconfig "$kc" create namespace "$ns" --dry-run=client -o yaml | kubectl --kubeconfig "$kc" apply -f - >/dev/null
    kubectl --kubeconfig "$kc" label --overwrite namespace "$ns" \
      pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest \
      pod-security.kubernetes.io/audit=restricted pod-security.kubernetes.io/audit-version=latest \
      pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/warn-version=latest >/dev/null
  done
}
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -eu -o pipefail
  [ $# -gt 0 ] || { echo "usage: $0 NAMESPACE..." >&2; exit 2; }
  ns_restricted "$@"
fi
