# Shared settings for the test-cluster scripts; sourced, never run.
# The settings are read by the scripts that source this file, hence SC2034 (unused) is off.
# shellcheck shell=bash disable=SC2034
# Everything big or machine-local lives under CACHE_DIR (outside the repo), keyed by version.
CLUSTER_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER_DIR="$CLUSTER_REPO_ROOT/ci/cluster"
K8S_VERSION="${K8S_VERSION:-v1.34.12}"
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/mapreduce-k8s}"
K8S_CACHE="$CACHE_DIR/k8s-$K8S_VERSION"
K8S_BIN="$K8S_CACHE/bin"
# Runtime state of one cluster (removed by down.sh; the build cache is kept).
STATE_DIR="${CLUSTER_STATE_DIR:-$CACHE_DIR/cluster-state}"
OUT_DIR="$CLUSTER_REPO_ROOT/.cluster"

# Node identity and addresses. The node lives in its own network namespace; the veth pair uses
# an unusual private /30 so it cannot clash with anything on the machine's real networks.
NODE_NAME="${CLUSTER_NODE_NAME:-mrk8s-node}"
NETNS="${CLUSTER_NETNS:-mrk8s}"
VETH_HOST="mrk8s-h"
VETH_NODE="mrk8s-n"
HOST_IP="10.251.77.1"
NODE_IP="10.251.77.2"
VETH_PREFIX=30
POD_CIDR="10.252.0.0/24"
SERVICE_CIDR="10.96.0.0/16"
FIRST_SERVICE_IP="10.96.0.1"
CNI_BRIDGE="mrk8s-br0"
# The apiserver, etcd and the kubelet all listen on the node address inside the namespace;
# the host reaches them over the veth, nothing binds on the outer interface.
APISERVER_PORT=6443

# The node's own containerd (not the system one docker may use).
CTRD_DIR="$STATE_DIR/containerd"
CTRD_SOCK="$CTRD_DIR/run/containerd.sock"
KUBELET_DIR="$STATE_DIR/kubelet"
PAUSE_IMAGE="localhost/pause:3.10-local"
SMOKE_IMAGE="localhost/mrk8s-smoke:1"
# Host directory backing the shared ReadWriteMany volume(s).
SHARED_DIR="$STATE_DIR/shared"
STORAGE_CLASS="local-shared"
POD_UID=10001
POD_GID=10001

# Tools from the build cache first (kubectl of the right version), then system paths.
export PATH="$K8S_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# One cluster per machine: serialize make cluster / cluster-down across clones and teammates.
# up.sh calls down.sh while holding the lock, hence the exported variable.
take_cluster_lock() {
  [ -z "${MRK8S_CLUSTER_LOCKED:-}" ] || return 0
  mkdir -p "$CACHE_DIR"
  exec 9> "$CACHE_DIR/cluster.lock"
  flock -n 9 || { log "another make cluster / cluster-down is running: waiting for it"; flock 9; }
  export MRK8S_CLUSTER_LOCKED=1
}
