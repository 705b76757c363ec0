#!/usr/bin/env bash
# make images: build the mapper and reducer images without any container registry.
#  1. docker: install Debian's docker.io when dockerd is missing; start dockerd when not running.
#  2. base image: a Debian bookworm rootfs made by mmdebstrap from the machine's own apt sources
#     (python3 + coreutils + ca-certificates), `tar | docker import`; cached under
#     $CACHE_DIR/images keyed by BASE_VERSION and the package list, reused when present.
#  3. the two targets of images/Dockerfile with fixed tags (the chart's appVersion).
#  4. when the test cluster is up (.cluster/env), load them into it with ci/cluster/load-image.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/mapreduce-k8s}"
IMG_CACHE="$CACHE_DIR/images"
BASE_VERSION="${BASE_VERSION:-1}"
BASE_SUITE=bookworm
BASE_PACKAGES="python3,coreutils,ca-certificates"
TAG="${IMAGE_TAG:-$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' chart/Chart.yaml)}"
MAPPER_IMAGE="${MAPPER_IMAGE:-localhost/mapreduce-mapper}:$TAG"
REDUCER_IMAGE="${REDUCER_IMAGE:-localhost/mapreduce-reducer}:$TAG"
log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[[ -n "$TAG" && "$TAG" != latest ]] || { log "no fixed tag (appVersion) found"; exit 1; }

apt_updated=""
apt_install() {
  [[ -n "$apt_updated" ]] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# 1. docker
if ! command -v dockerd >/dev/null; then
  log "installing Debian's docker.io"
  apt_install docker.io
fi
if ! docker info >/dev/null 2>&1; then
  mkdir -p "$CACHE_DIR"
  log "starting dockerd (log: $CACHE_DIR/dockerd.log)"
  setsid nohup dockerd >"$CACHE_DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see $CACHE_DIR/dockerd.log"; exit 1; }
fi

# 2. base image from Debian packages
key="$BASE_SUITE-$BASE_VERSION-$(printf '%s' "$BASE_PACKAGES" | sha256sum | cut -c1-8)"
BASE_IMAGE="mapreduce-base:$key"
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  tarball="$IMG_CACHE/base-$key.tar"
  if [[ ! -s "$tarball" ]]; then
    command -v mmdebstrap >/dev/null || apt_install mmdebstrap
    mkdir -p "$IMG_CACHE"
    sources=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      [[ -s "$f" ]] && sources+=("$f")
    done
    [[ ${#sources[@]} -gt 0 ]] || { log "no apt sources found on this machine"; exit 1; }
    log "making the base rootfs with mmdebstrap ($BASE_PACKAGES)"
    mmdebstrap --variant=essential --format=tar --include="$BASE_PACKAGES" \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      "$BASE_SUITE" "$tarball.tmp" "${sources[@]}"
    mv "$tarball.tmp" "$tarball"
  fi
  log "importing $BASE_IMAGE"
  docker import --change 'CMD ["python3"]' "$tarball" "$BASE_IMAGE" >/dev/null
fi

# 3. the images
[[ -f scripts/mapreduce/__main__.py ]] || { log "scripts/mapreduce is missing: the engine must be in scripts/"; exit 1; }
for target in mapper reducer; do
  if [[ $target == mapper ]]; then image="$MAPPER_IMAGE"; else image="$REDUCER_IMAGE"; fi
  log "building $image"
  docker build -q --network=none -f images/Dockerfile --target "$target" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$image" scripts >/dev/null
  docker run --rm --network=none --read-only --user 10001:10001 "$image" \
    python3 -S -m mapreduce --help >/dev/null
done
echo "$MAPPER_IMAGE"
echo "$REDUCER_IMAGE"

# 4. the test cluster
if [[ -f .cluster/env ]]; then
  log "loading the images into the test cluster"
  bash ci/cluster/load-image.sh "$MAPPER_IMAGE" "$REDUCER_IMAGE"
fi
