# Every target installs what it needs. Caches and built binaries live outside the repo
# (CACHE_DIR), keyed by version; .venv and .tools/bin are local links/environments.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
CACHE_DIR ?= $(HOME)/.cache/mapreduce-k8s
export CACHE_DIR
VENV := .venv
VPY := $(VENV)/bin/python
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv tools run test test-unit test-chart test-e2e test-hadoop bench cluster cluster-down images

help:
	@echo "make run          word count of a generated sample with the local runner (no cluster)"
	@echo "make test         every test layer; installs what it needs"
	@echo "make lint         static checks: shellcheck, ruff, mypy, Checkov, Trivy (first in make test)"
	@echo "make bench        benchmarks (ratios against peers in one run)"
	@echo "make cluster      start the local test Kubernetes (cluster-down stops it)"
	@echo "make images       build the images and load them into the test cluster"

$(VPY): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements-dev.txt
	touch $(VPY)

venv: $(VPY)

run:
	$(PYTHON) scripts/gentext.py --bytes 20000000 --seed 1 --output out/sample.txt
	$(PYTHON) scripts/run-local --mappers 4 --reducers 2 --overwrite --output out/wordcount out/sample.txt
	$(PYTHON) scripts/top-words out/wordcount 20

test-unit: $(VPY)
	$(VPY) -m pytest -q tests/unit

test: lint test-unit test-chart test-hadoop test-e2e

# The chart on a real cluster: a local Kubernetes (ci/cluster), the images loaded into it,
# the pytest end-to-end suite, then chart-testing's install of every chart/ci scenario.
test-e2e: $(VPY) tools cluster images
	$(VPY) -m pytest -q tests/e2e
	bash ci/ct-install.sh

cluster:
	bash ci/cluster/up.sh

cluster-down:
	bash ci/cluster/down.sh

# ---- chart, images and static checks ---------------------------------------------------------
tools:
	bash ci/tools.sh

images:
	bash images/build.sh

test-chart: tools $(VPY)
	bash ci/test-chart.sh

# Static checks, first in make test: shellcheck, ruff and mypy, Checkov and Trivy (ci/lint.sh).
.PHONY: lint
lint: tools $(VPY)
	bash ci/lint.sh

# ---- Hadoop Streaming compatibility and benchmarks --------------------------------------------
# Hadoop's jars (pinned in ci/hadoop/pom.xml) go to $(CACHE_DIR)/hadoop-<version>/lib; Hadoop's
# runner (ci/hadoop/hadoop_streaming.py) is on pytest's pythonpath (pyproject.toml).
test-hadoop: $(VPY)
	bash ci/hadoop/install-hadoop.sh >/dev/null
	$(VPY) -m pytest -q tests/hadoop


# Benchmark peers (mrjob, pyspark, matplotlib) live in their own venv, .venv-bench.
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_ARGS ?=
# The benchmarks run as modules of the bench package from the repo root; the engine package
# (scripts/mapreduce) and Hadoop's runner (ci/hadoop/hadoop_streaming.py, shared with
# tests/hadoop) are found on this path.
BENCH_RUN := PYTHONPATH=$(CURDIR):$(CURDIR)/scripts:$(CURDIR)/ci/hadoop $(BENCH_PY) -m

# Built on the fastest CPython on PATH (bench/pick_python.py says why), so that the Python
# peers are not slowed by an unoptimised build more than our scripts are.
$(BENCH_PY): bench/requirements.txt bench/pick_python.py
	rm -rf $(BENCH_VENV)
	"$$($(PYTHON) bench/pick_python.py)" -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q -r bench/requirements.txt
	touch $(BENCH_PY)

.PHONY: bench-venv
bench-venv: $(BENCH_PY)

# The peers and the shuffle first, while no test cluster runs beside them; then the cluster
# makespan.
.PHONY: bench-peers bench-shuffle
bench:
	$(MAKE) bench-peers
	$(MAKE) bench-shuffle
	$(MAKE) bench-cluster

bench-peers: $(BENCH_PY)
	command -v gawk >/dev/null || { apt-get update -qq && apt-get install -y -qq gawk; }
	bash ci/hadoop/install-hadoop.sh >/dev/null
	$(BENCH_RUN) bench.run $(BENCH_ARGS)

# The shuffle's cost against R and M and the fixed cost of a task (run-local only); a --quick
# in BENCH_ARGS makes it quick too.
SHUFFLE_BENCH_ARGS ?= $(filter --quick,$(BENCH_ARGS))
bench-shuffle: $(BENCH_PY)
	$(BENCH_RUN) bench.shuffle $(SHUFFLE_BENCH_ARGS)

# Job makespan on the local test cluster beside run-local on the same input.
CLUSTER_BENCH_ARGS ?=
.PHONY: bench-cluster
bench-cluster: $(BENCH_PY) cluster images
	$(BENCH_RUN) bench.cluster_makespan $(CLUSTER_BENCH_ARGS)
