#!/usr/bin/env bash
# Static checks of the code (make lint, the first step of make test). Pinned tools: shellcheck
# (Debian's package, installed here when missing), ruff and mypy (requirements-dev.txt, .venv),
# the scanners of ci/scan-chart.sh.
#   ci/lint.sh                    everything
#   ci/lint.sh shell python scan  any of: shellcheck; ruff and mypy; Checkov and Trivy
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PWD/.venv/bin:$PATH"
# Debian 12 (bookworm) ships shellcheck 0.9.0; another release ships another version: change both.
SHELLCHECK_VERSION=0.9.0
SHELLCHECK_DEB=0.9.0-1
# The engine package: ruff's format check and mypy cover it (the rest gets ruff's linter).
PACKAGE=scripts/mapreduce

step() { printf '\n== %s\n' "$*"; }
fail=0
check() { # what, then the command
  local what="$1"; shift
  if ! "$@"; then echo "FAILED: $what" >&2; fail=1; fi
}

# Files git tracks or would add (ignored ones such as .venv left out), that exist.
repo_files() {
  local f
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [[ -f "$f" && ! -L "$f" ]] && printf '%s\n' "$f"
  done
}
# A name ending in .sh, or a sh/bash shebang.
shell_scripts() {
  local f
  repo_files | while IFS= read -r f; do
    if [[ "$f" == *.sh ]] || head -n1 -- "$f" | grep -Eq '^#!.*[/ ](ba|da)?sh([[:space:]]|$)'; then
      printf '%s\n' "$f"
    fi
  done
}
# A name ending in .py, or a python shebang (scripts/run-local and its siblings).
python_files() {
  local f
  repo_files | while IFS= read -r f; do
    if [[ "$f" == *.py ]] || head -n1 -- "$f" | grep -Eq '^#!.*python'; then
      printf '%s\n' "$f"
    fi
  done
}

ensure_shellcheck() {
  if ! command -v shellcheck >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      echo "lint: installing shellcheck $SHELLCHECK_DEB (Debian)" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "shellcheck=$SHELLCHECK_DEB" >/dev/null
    else
      echo "lint: shellcheck missing: apt-get install shellcheck=$SHELLCHECK_DEB" >&2
      return 1
    fi
  fi
  local found
  found="$(shellcheck --version | sed -n 's/^version: //p')"
  if [[ "$found" != "$SHELLCHECK_VERSION" ]]; then
    echo "lint: shellcheck $found found, $SHELLCHECK_VERSION pinned (ci/lint.sh)" >&2
    return 1
  fi
}

run_shell() {
  local scripts
  mapfile -t scripts < <(shell_scripts)
  step "shellcheck $SHELLCHECK_VERSION: ${#scripts[@]} shell scripts"
  ensure_shellcheck || { fail=1; return; }
  # -x with SCRIPTDIR: sourced files (ci/cluster/config.sh) are read from beside the script.
  check shellcheck shellcheck -x --source-path=SCRIPTDIR "${scripts[@]}"
}

run_python() {
  local files
  mapfile -t files < <(python_files)
  [[ -x .venv/bin/ruff && -x .venv/bin/mypy ]] || { echo "lint: ruff/mypy missing: run make venv" >&2; fail=1; return; }
  step "ruff $(ruff --version | cut -d' ' -f2) check: ${#files[@]} Python files"
  check "ruff check" ruff check --config ci/ruff.toml --no-cache "${files[@]}"
  [[ -d "$PACKAGE" ]] || { echo "lint: $PACKAGE missing" >&2; fail=1; return; }
  step "ruff format --check: $PACKAGE"
  check "ruff format --check" ruff format --config ci/ruff.toml --no-cache --check --diff "$PACKAGE"
  step "mypy $(mypy --version | cut -d' ' -f2): $PACKAGE"
  check mypy mypy --config-file ci/mypy.ini --cache-dir "${TMPDIR:-/tmp}/mypy-cache-$(id -u)" "$PACKAGE"
}

run_scan() {
  step "security scanners on the chart (ci/scan-chart.sh)"
  check "Checkov and Trivy" bash ci/scan-chart.sh
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(shell python scan)
for part in "${parts[@]}"; do
  case "$part" in
    shell) run_shell ;;
    python) run_python ;;
    scan) run_scan ;;
    *) echo "usage: ci/lint.sh [shell|python|scan]..." >&2; exit 2 ;;
  esac
done
if [[ $fail != 0 ]]; then echo "lint: FAILED" >&2; exit 1; fi
echo "lint: all checks passed"
