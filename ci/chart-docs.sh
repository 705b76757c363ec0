#!/usr/bin/env bash
# Regenerate chart/README.md from chart/README.md.gotmpl and the `# --` comments in values.yaml
# with the pinned helm-docs (make tools). tests/chart/test_readme.py fails when it drifts.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .tools/bin/helm-docs --chart-search-root chart --template-files README.md.gotmpl
