#!/usr/bin/env bash
# Install the chart tool chain at pinned versions from the Go module proxy.
# Each tool lands in ${CACHE_DIR}/tools/<name>-<version>/ (reused when present) and gets a
# symlink in .tools/bin. Nothing is downloaded as a prebuilt binary.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/mapreduce-k8s}"
TOOLS_DIR="$CACHE_DIR/tools"
BIN_DIR="$PWD/.tools/bin"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
export GOTOOLCHAIN=local GOFLAGS=-modcacherw CGO_ENABLED=0

# name|version|module|package in the module|link name|extra ldflags|build environment
TOOLS=(
  "helm4|v4.3.1|helm.sh/helm/v4|cmd/helm|helm|-X helm.sh/helm/v4/internal/version.version=v4.3.1 -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
  "helm3|v3.22.0|helm.sh/helm/v3|cmd/helm|helm3|-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
  "ct|v3.14.0|github.com/helm/chart-testing/v3|ct|ct|-X github.com/helm/chart-testing/v3/ct/cmd.Version=v3.14.0"
  "kubeconform|v0.8.0|github.com/yannh/kubeconform|cmd/kubeconform|kubeconform|"
  "helm-docs|v1.14.2|github.com/norwoodj/helm-docs|cmd/helm-docs|helm-docs|-X main.version=v1.14.2"
  "actionlint|v1.7.12|github.com/rhysd/actionlint|cmd/actionlint|actionlint|-X github.com/rhysd/actionlint.version=v1.7.12"
  "kube-linter|v0.7.6|golang.stackrox.io/kube-linter|cmd/kube-linter|kube-linter|-X golang.stackrox.io/kube-linter/internal/version.version=v0.7.6"
  # Trivy's own release builds set GOEXPERIMENT=jsonv2 (its sources use encoding/json/v2) and a
  # version without the v (its check modules compare it as a semantic version).
  "trivy|v0.74.0|github.com/aquasecurity/trivy|cmd/trivy|trivy|-X github.com/aquasecurity/trivy/pkg/version/app.ver=0.74.0|GOEXPERIMENT=jsonv2"
)
# Tools whose module host the reachable Go proxy may refuse; a failure is reported, not fatal.
OPTIONAL="kube-linter"

# `go install pkg@version` reads the module's version list (for deprecation notices); when the
# proxy refuses that list, build from a throw-away wrapper module that requires the exact version.
wrapper_build() { # module version pkg out ldflags
  local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/tool-build.XXXXXX")"
  printf 'module local/tool-build\n\ngo 1.24\n\nrequire %s %s\n' "$1" "$2" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$3" >"$dir/tools.go"
  (cd "$dir" && GOFLAGS=-mod=mod "$GO" mod tidy && "$GO" build -trimpath -ldflags "-s -w $5" -o "$4" "$3")
  local rc=$?; rm -rf "$dir"; return $rc
}

mkdir -p "$BIN_DIR" "$TOOLS_DIR"
only="${1:-}"
failed=()
for spec in "${TOOLS[@]}"; do
  IFS='|' read -r name version module sub link ldflags buildenv <<<"$spec"
  [[ -n "$only" && "$only" != "$name" ]] && continue
  pkg="$module/$sub"
  dest="$TOOLS_DIR/$name-$version"
  bin="$dest/$(basename "$pkg")"
  stamp="$ldflags${buildenv:+|$buildenv}"
  # Two clones (or teammates) may build the same tool at once: one builds, the other waits.
  exec 8>"$dest.lock"
  flock 8
  # A build is reused only if it was made with the same flags (.ldflags stamp).
  if [[ ! -x "$bin" || "$(cat "$dest/.ldflags" 2>/dev/null)" != "$stamp" ]]; then
    echo "tools: building $name $version ($pkg@$version)" >&2
    tmp="$(mktemp -d "$dest.tmp.XXXXXX")" && chmod 755 "$tmp"
    read -ra buildvars <<<"$buildenv"
    if env "${buildvars[@]}" GOBIN="$tmp" "$GO" install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version" ||
       (for kv in "${buildvars[@]}"; do export "${kv?}"; done
        wrapper_build "$module" "$version" "$pkg" "$tmp/$(basename "$pkg")" "$ldflags"); then
      printf '%s' "$stamp" >"$tmp/.ldflags"
      rm -rf "$dest" && mv "$tmp" "$dest"
    else
      rm -rf "$tmp"
      if [[ " $OPTIONAL " == *" $name "* ]]; then
        echo "tools: WARNING: $name $version could not be installed from the Go module proxy" >&2
        failed+=("$name"); rm -f "$BIN_DIR/$link"; continue
      fi
      echo "tools: ERROR: $name $version failed to build" >&2; exit 1
    fi
  fi
  exec 8>&-
  ln -sfn "$bin" "$BIN_DIR/$link"
done
echo "tools: ready in $BIN_DIR${failed:+ (not installed: ${failed[*]})}" >&2
