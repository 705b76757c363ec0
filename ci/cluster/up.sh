#!/usr/bin/env bash
# `make cluster`: a real single-node Kubernetes for the end-to-end tests, built from the Go
# module proxy and Debian packages (no container registry needed). Idempotent: when the cluster
# is already up and healthy it only rewrites .cluster/ and returns.
#
# Layout: every cluster process (etcd, apiserver, controller-manager, scheduler, a dedicated
# containerd, kubelet) runs in the network namespace $NETNS, joined with `nsenter --net` only
# (a full `ip netns exec` would remount /sys and hide the cgroup hierarchies). The host reaches
# the apiserver at $NODE_IP over a veth pair; nothing listens on the machine's outer interface.
set -eu -o pipefail
. "$(dirname "$0")/config.sh"

take_cluster_lock

T0=$(date +%s)
lap() { log "$1 (+$(( $(date +%s) - T0 ))s)"; }

PKI="$STATE_DIR/pki"
ADMIN_KC="$STATE_DIR/admin.kubeconfig"
NSX=(nsenter --net="/run/netns/$NETNS" --)
kc() { kubectl --kubeconfig "$ADMIN_KC" "$@"; }

# ---------------------------------------------------------------- outputs for tests and people
write_outputs() {
  mkdir -p "$OUT_DIR" "$STATE_DIR/bin"
  cp "$ADMIN_KC" "$OUT_DIR/kubeconfig"
  ln -sf "$K8S_BIN/kubectl" "$STATE_DIR/bin/kubectl"
  cat > "$OUT_DIR/env" <<EOF
# Written by ci/cluster/up.sh; source it: . .cluster/env
export KUBECONFIG="$OUT_DIR/kubeconfig"
export CLUSTER_SHARED_DIR="$SHARED_DIR"
export CLUSTER_STORAGE_CLASS="$STORAGE_CLASS"
export CLUSTER_CONTAINERD_SOCK="$CTRD_SOCK"
export CLUSTER_CTR="$(command -v ctr)"
export CLUSTER_KUBECTL="$K8S_BIN/kubectl"
export CLUSTER_K8S_VERSION="$K8S_VERSION"
export CLUSTER_NODE_NAME="$NODE_NAME"
export CLUSTER_POD_UID="$POD_UID"
export CLUSTER_LOAD_IMAGE="$CLUSTER_DIR/load-image.sh"
export PATH="$STATE_DIR/bin:\$PATH"
EOF
  cat > "$OUT_DIR/values.yaml" <<EOF
# Written by ci/cluster/up.sh: chart storage settings for the local test cluster.
# Every PersistentVolume of class $STORAGE_CLASS is the host directory $SHARED_DIR.
storage:
  storageClassName: $STORAGE_CLASS
  accessMode: ReadWriteMany
  size: 1Gi
EOF
}

healthy() {
  local n
  [ -s "$ADMIN_KC" ] || return 1
  for n in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet; do
    tr '\0' ' ' 2>/dev/null < "/proc/$(cat "$STATE_DIR/pids/$n.pid" 2>/dev/null || echo x)/cmdline" \
      | grep -F "$STATE_DIR/" >/dev/null || return 1
  done
  [ "$(kc get --raw /readyz 2>/dev/null)" = ok ] || return 1
  kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -x True >/dev/null
}

# Static volumes of a deleted claim go "Released" and would never bind again: a small loop makes
# them Available again (the data stays in the shared directory; each release has its own baseDir).
start_pv_recycler() {
  tr '\0' ' ' 2>/dev/null < "/proc/$(cat "$STATE_DIR/pids/pv-recycler.pid" 2>/dev/null || echo x)/cmdline" \
    | grep -F "$STATE_DIR/" >/dev/null && return 0
  # The loop's $1 and $pv belong to the inner bash, hence single quotes.
  # shellcheck disable=SC2016
  setsid bash -c 'while sleep 5; do
      for pv in $(kubectl --kubeconfig "$1" get pv -l mrk8s/shared=true -o jsonpath="{range .items[?(@.status.phase==\"Released\")]}{.metadata.name} {end}" 2>/dev/null); do
        kubectl --kubeconfig "$1" patch pv "$pv" --type json -p "[{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}]" >/dev/null 2>&1
      done
    done' pv-recycler "$ADMIN_KC" > "$STATE_DIR/logs/pv-recycler.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$STATE_DIR/pids/pv-recycler.pid"
}

if healthy; then
  start_pv_recycler
  write_outputs
  log "cluster already up and healthy: nothing to do (KUBECONFIG=$OUT_DIR/kubeconfig)"
  exit 0
fi
if [ -e "$STATE_DIR" ] || ip netns list 2>/dev/null | grep -w "$NETNS" >/dev/null; then
  log "leftovers of an earlier cluster found: tearing them down first"
  bash "$CLUSTER_DIR/down.sh"
fi

# ---------------------------------------------------------------- node packages (Debian)
pkgs="containerd runc containernetworking-plugins iptables conntrack openssl iproute2 util-linux procps python3"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
# python3 may come from elsewhere (pyenv, a venv); only Debian's is installed when none is there.
case "$missing" in *python3*) command -v python3 >/dev/null && missing="${missing/ python3/}";; esac
if [ -n "${missing// /}" ]; then
  log "installing Debian packages:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086 # a space-separated list of package names, split on purpose
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
lap "packages ok"

# ---------------------------------------------------------------- binaries and local images
bash "$CLUSTER_DIR/build-k8s.sh"
lap "kubernetes binaries ok"

IMG_DIR="$CACHE_DIR/images"
mkdir -p "$IMG_DIR"
(cd "$CLUSTER_DIR/tinyimg" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
  GOCACHE="$CACHE_DIR/tinyimg-gocache" "${GO:-$(command -v go || echo /usr/local/go/bin/go)}" \
  build -trimpath -ldflags='-s -w' -o "$IMG_DIR/" ./pause ./smoke)
python3 "$CLUSTER_DIR/mkimage.py" "$IMG_DIR/pause.tar" "$PAUSE_IMAGE" /pause "$IMG_DIR/pause"
python3 "$CLUSTER_DIR/mkimage.py" --user "$POD_UID:$POD_GID" "$IMG_DIR/smoke.tar" "$SMOKE_IMAGE" /smoke "$IMG_DIR/smoke"
lap "pause and smoke images packed"

# ---------------------------------------------------------------- remember what the host had
# down.sh removes only the system paths that this cluster created.
mkdir -p "$STATE_DIR"/{pids,logs,bin,etcd,cni/net.d,cni/ipam,pod-logs} "$PKI" "$CTRD_DIR" "$KUBELET_DIR"
# (An empty /run/netns counts as absent: removing an empty one again is harmless.)
for d in /run/netns /run/containerd /var/lib/cni /var/log/containers /var/log/pods /var/lib/kubelet; do
  [ -e "$d" ] && { [ "$d" != /run/netns ] || [ -n "$(ls -A "$d")" ]; } && echo "$d"
done > "$STATE_DIR/preexisting" || true
# The kubelet sets a few kernel tunables (overcommit, panic on oops, ...); down.sh restores them.
for k in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
         kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
  echo "$k=$(sysctl -n "$k")"
done > "$STATE_DIR/sysctl.saved"

# ---------------------------------------------------------------- network namespace + veth
ip netns add "$NETNS"
ip link add "$VETH_HOST" type veth peer name "$VETH_NODE"
ip link set "$VETH_NODE" netns "$NETNS"
ip addr add "$HOST_IP/$VETH_PREFIX" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
"${NSX[@]}" ip addr add "$NODE_IP/$VETH_PREFIX" dev "$VETH_NODE"
"${NSX[@]}" ip link set "$VETH_NODE" up
"${NSX[@]}" ip link set lo up
# Host routes for the pod and service ranges into the veth: replies to pods (and anything the
# host sends to a cluster address) stay on this machine instead of following the default route.
ip route add "$POD_CIDR" via "$NODE_IP" dev "$VETH_HOST"
ip route add "$SERVICE_CIDR" via "$NODE_IP" dev "$VETH_HOST"
# Forwarding only inside the node's namespace (pod bridge <-> node address); the host's own
# sysctl is untouched. No default route: pods cannot reach anything beyond this machine.
"${NSX[@]}" sysctl -qw net.ipv4.ip_forward=1
# The one Service address pods might use (kubernetes.default) without kube-proxy: a DNAT rule.
for chain in PREROUTING OUTPUT; do
  "${NSX[@]}" iptables -t nat -A "$chain" -d "$FIRST_SERVICE_IP/32" -p tcp --dport 443 \
    -j DNAT --to-destination "$NODE_IP:$APISERVER_PORT"
done
lap "network namespace $NETNS ($HOST_IP <-> $NODE_IP)"

# ---------------------------------------------------------------- certificates (openssl)
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -subj "/CN=mrk8s-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
# cert NAME SUBJECT EKU [SANS]
cert() {
  local ext="$PKI/$1.ext"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$3" > "$ext"
  [ -n "${4:-}" ] && echo "subjectAltName=$4" >> "$ext"
  ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "$2"
  ossl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -out "$PKI/$1.crt" -extfile "$ext"
}
cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:$NODE_IP,IP:127.0.0.1,IP:$FIRST_SERVICE_IP,DNS:localhost,DNS:$NODE_NAME,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=mrk8s-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
ossl genrsa -out "$PKI/sa.key" 2048
ossl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
chmod 600 "$PKI"/*.key

b64() { base64 -w0 < "$1"; }
kubeconfig() { # FILE CERTNAME
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mrk8s
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$PKI/$2.crt")
    client-key-data: $(b64 "$PKI/$2.key")
contexts:
- name: mrk8s
  context: {cluster: mrk8s, user: $2}
current-context: mrk8s
EOF
  chmod 600 "$1"
}
kubeconfig "$ADMIN_KC" admin
for c in controller-manager scheduler kubelet; do kubeconfig "$STATE_DIR/$c.kubeconfig" "$c"; done
lap "certificates"

# ---------------------------------------------------------------- processes
start() { # NAME CMD... : detached, in the node's network namespace, pid and log in STATE_DIR
  local name=$1; shift
  # (fd 9, the lock, must not leak into daemons, or the lock would outlive this script.)
  setsid "${NSX[@]}" "$@" > "$STATE_DIR/logs/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$STATE_DIR/pids/$name.pid"
}
wait_for() { # WHAT SECONDS LOGNAME CMD...
  local what=$1 secs=$2 name=$3 i; shift 3
  for ((i = 0; i < secs * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$STATE_DIR/pids/$name.pid")" 2>/dev/null || break
    sleep 0.5
  done
  log "$what did not come up; last lines of $STATE_DIR/logs/$name.log:"
  tail -n 30 "$STATE_DIR/logs/$name.log" >&2
  exit 1
}

# etcd on the namespace's loopback only; fsync off: test data, speed matters more.
start etcd "$K8S_BIN/etcd" --name "$NODE_NAME" --data-dir "$STATE_DIR/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --unsafe-no-fsync --log-level warn
wait_for etcd 30 etcd "${NSX[@]}" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2379'
lap "etcd started"

# Pod Security: every namespace defaults to "restricted" (kube-system exempt), so chart-testing's
# random namespaces get the same rules as the ones the tests label.
cat > "$STATE_DIR/admission.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: restricted
      enforce-version: latest
      audit: restricted
      audit-version: latest
      warn: restricted
      warn-version: latest
    exemptions:
      usernames: []
      runtimeClasses: []
      namespaces: [kube-system]
EOF
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --advertise-address="$NODE_IP" --bind-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
  --etcd-servers=http://127.0.0.1:2379 \
  --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --admission-control-config-file="$STATE_DIR/admission.yaml" \
  --allow-privileged=true --profiling=false --v=1
wait_for kube-apiserver 90 kube-apiserver kc get --raw /readyz
lap "kube-apiserver ready"

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$STATE_DIR/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$STATE_DIR/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$STATE_DIR/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --root-ca-file="$PKI/ca.crt" \
  --service-account-private-key-file="$PKI/sa.key" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --use-service-account-credentials --leader-elect=false \
  --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false --profiling=false --v=1
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig="$STATE_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig="$STATE_DIR/scheduler.kubeconfig" \
  --authorization-kubeconfig="$STATE_DIR/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1

# A containerd of our own: own socket, root, state and runc root; not the system one.
mkdir -p "$CTRD_DIR/run"
cat > "$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_selinux = false
  # Pod network namespaces under our state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  # Machines (and CI sandboxes) without CAP_SYS_RESOURCE cannot lower oom_score_adj below
  # containerd's own: clamp instead of failing every sandbox (pause wants -998).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$CTRD_DIR/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
EOF
# CNI: bridge + host-local, portmap, and firewall (dockerd may set FORWARD to DROP).
cat > "$STATE_DIR/cni/net.d/10-mrk8s.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "mrk8s",
  "plugins": [
    {"type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$STATE_DIR/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF
start containerd containerd --config "$CTRD_DIR/config.toml"
wait_for containerd 30 containerd ctr --address "$CTRD_SOCK" version
for img in pause smoke; do
  ctr --address "$CTRD_SOCK" -n k8s.io images import "$IMG_DIR/$img.tar" >/dev/null
done
lap "containerd up, pause and smoke images imported"

cat > "$STATE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CTRD_SOCK
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
podLogsDir: $STATE_DIR/pod-logs
failSwapOn: false
# The disks of dev and CI machines can be nearly full: evict only in real emergencies, and
# never garbage-collect images (ours cannot be pulled again).
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
EOF
start kubelet "$K8S_BIN/kubelet" --config="$STATE_DIR/kubelet.yaml" \
  --kubeconfig="$STATE_DIR/kubelet.kubeconfig" --root-dir="$KUBELET_DIR" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
wait_for "node $NODE_NAME" 120 kubelet kc get node "$NODE_NAME"
lap "kubelet registered"

# ---------------------------------------------------------------- shared storage
# One host directory, many static PersistentVolumes pointing at it: every claim of the class
# lands in the same place, ReadWriteMany is true on one node. Pods run as $POD_UID.
mkdir -p "$SHARED_DIR"
chown "$POD_UID:$POD_GID" "$SHARED_DIR"
chmod 2777 "$SHARED_DIR"
{
  cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $STORAGE_CLASS
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: Immediate
EOF
  for i in $(seq -w 1 "${CLUSTER_PV_COUNT:-40}"); do
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: shared-$i
  labels: {mrk8s/shared: "true"}
spec:
  storageClassName: $STORAGE_CLASS
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteMany, ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $SHARED_DIR, type: Directory}
EOF
  done
} > "$STATE_DIR/storage.yaml"
kc apply -f "$STATE_DIR/storage.yaml" >/dev/null
start_pv_recycler
lap "storage class $STORAGE_CLASS with ${CLUSTER_PV_COUNT:-40} volumes on $SHARED_DIR"

# ---------------------------------------------------------------- readiness
wait_for "node Ready" 120 kubelet bash -c \
  "kubectl --kubeconfig '$ADMIN_KC' get node '$NODE_NAME' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
lap "node Ready"
wait_for "default service account" 60 kube-controller-manager kc -n default get serviceaccount default
lap "default service account present"

write_outputs
log "cluster up in $(( $(date +%s) - T0 ))s: . $OUT_DIR/env; kubectl get nodes"
