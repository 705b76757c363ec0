#!/usr/bin/env bash
# `make cluster-down`: stop the test cluster and leave the machine as it was: no processes,
# mounts, network namespaces, interfaces or iptables rules of ours, state removed. The build
# cache ($K8S_CACHE, images) is kept. Safe to run when nothing is up.
set -u -o pipefail
. "$(dirname "$0")/config.sh"

take_cluster_lock

T0=$(date +%s)
ADMIN_KC="$STATE_DIR/admin.kubeconfig"
# A recorded pid counts only if that process still has our state dir on its command line (every
# daemon of ours does): after a reboot a stale pid file must not kill somebody else's process.
pidof_() {
  local p; p=$(cat "$STATE_DIR/pids/$1.pid" 2>/dev/null) && [ -n "$p" ] || return 1
  tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | grep -F "$STATE_DIR/" >/dev/null || return 1
  echo "$p"
}
alive() { local p; p=$(pidof_ "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
ctr_() { ctr --address "$CTRD_SOCK" -n k8s.io "$@"; }

stop() { # SECONDS NAME...: SIGTERM by recorded pid, SIGKILL whatever is left after the grace
  local secs=$1 n p i left; shift
  local pids=()
  for n in "$@"; do p=$(pidof_ "$n") && kill -TERM "$p" 2>/dev/null && pids+=("$p"); done
  for ((i = 0; i < secs * 10; i++)); do
    left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  # Throwaway cluster: no need to wait for a graceful drain.
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  sleep 0.2
}

# Pod network namespaces that our containerd made (/run/netns/cni-*): found by the netns of the
# sandbox processes, before those are killed.
pod_netns=""
if alive containerd; then
  for p in $(ctr_ tasks ls 2>/dev/null | awk 'NR>1 {print $2}'); do
    [ -e "/proc/$p/ns/net" ] && pod_netns="$pod_netns $(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)"
  done
fi

# 1. Controllers first (so nothing recreates pods), then let the kubelet remove the pods through
#    the CRI: that runs the CNI DEL and unmounts volumes properly. Bounded wait, then force.
stop 2 pv-recycler kube-controller-manager kube-scheduler
if alive kube-apiserver && alive kubelet && [ -s "$ADMIN_KC" ]; then
  kubectl --kubeconfig "$ADMIN_KC" delete pods --all --all-namespaces --grace-period=0 --force \
    --wait=false >/dev/null 2>&1
  for ((i = 0; i < 60; i++)); do
    [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
    sleep 0.5
  done
fi
stop 3 kubelet
log "pods and kubelet stopped (+$(( $(date +%s) - T0 ))s)"

# 2. Whatever is still running in our containerd: kill tasks, drop containers.
if alive containerd; then
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
  sleep 0.5
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1; done
  for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1; done
fi
stop 3 containerd
log "containerd stopped (+$(( $(date +%s) - T0 ))s)"

# 3. Stragglers, matched exactly (never by a broad name): shims started for our containerd
#    socket, and processes still in the kubelet's pod cgroups.
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  if tr '\0' ' ' 2>/dev/null < "$d/cmdline" | grep -F -- "-address $CTRD_SOCK " >/dev/null; then
    kill -KILL "$p" 2>/dev/null
  elif grep -q ':/kubepods' "$d/cgroup" 2>/dev/null; then
    kill -KILL "$p" 2>/dev/null
  fi
done

# 4. Control plane.
stop 3 kube-apiserver etcd
log "control plane stopped (+$(( $(date +%s) - T0 ))s)"

# 5. Mounts: everything under the state dir (kubelet volumes, containerd rootfs and shm), deepest
#    first, and the pod network namespaces of ours.
if [ -d "$STATE_DIR" ]; then
  for ((pass = 0; pass < 3; pass++)); do
    mps=$(awk -v s="$STATE_DIR/" '{ gsub(/\\040/, " ", $5); if (index($5, s) == 1) print $5 }' /proc/self/mountinfo | sort -r)
    [ -z "$mps" ] && break
    while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done <<< "$mps"
  done
fi
for n in /run/netns/cni-*; do
  [ -e "$n" ] || continue
  ino=$(stat -L -c %i "$n" 2>/dev/null) || continue
  if [[ " $pod_netns " == *" $ino "* ]] || { [ -d "$STATE_DIR" ] && [ "$n" -nt "$STATE_DIR/pids" ]; }; then
    umount "$n" 2>/dev/null || umount -l "$n" 2>/dev/null; rm -f "$n"
  fi
done

# 6. Network: deleting the namespace takes its iptables rules, the pod bridge and both veth ends.
ip netns del "$NETNS" 2>/dev/null
ip link del "$VETH_HOST" 2>/dev/null

# 7. The kubelet's pod cgroups (cgroupfs driver), deepest first.
for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [ -d "$root" ] && find "$root" -depth -type d -exec rmdir {} + 2>/dev/null
done

# 8. Files outside the state dir that the CNI plugins, containerd and kubelet write by fixed
#    paths; the directories themselves only if this cluster created them.
rm -f /var/lib/cni/results/mrk8s-* 2>/dev/null
for l in /var/log/containers/*.log; do
  [ -L "$l" ] && [[ "$(readlink "$l")" == "$STATE_DIR/"* ]] && rm -f "$l"
done
pre="$(cat "$STATE_DIR/preexisting" 2>/dev/null || true)"
if [ -f "$STATE_DIR/preexisting" ]; then
  # Created by this cluster's kubelet/CNI (e.g. the kubelet's device-plugin socket always goes
  # to /var/lib/kubelet whatever --root-dir says): removed whole.
  for d in /var/lib/cni /var/log/containers /var/log/pods /var/lib/kubelet; do
    grep -qx "$d" <<< "$pre" || rm -rf "$d"
  done
  # Shared with other runtimes: only empty directories go. `ip netns add` bind-mounts
  # /run/netns on itself.
  for d in /run/containerd /run/netns; do
    grep -qx "$d" <<< "$pre" && continue
    if [ "$d" = /run/netns ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
      while mountpoint -q /run/netns && umount /run/netns 2>/dev/null; do :; done
    fi
    [ -d "$d" ] && find "$d" -depth -type d -empty -delete 2>/dev/null
  done
fi

# 9. Kernel tunables the kubelet changed.
[ -s "$STATE_DIR/sysctl.saved" ] && sysctl -q -p "$STATE_DIR/sysctl.saved" >/dev/null 2>&1

rm -rf "$STATE_DIR"
rm -f "$OUT_DIR/kubeconfig" "$OUT_DIR/env" "$OUT_DIR/values.yaml"
rmdir "$OUT_DIR" 2>/dev/null
log "cluster down in $(( $(date +%s) - T0 ))s"
exit 0
