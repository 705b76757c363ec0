"""Benchmarks of the project's word count: `python -m bench.run` (our tools against the peers),
`python -m bench.shuffle` (the shuffle's cost against M and R), `python -m bench.cluster_makespan`
(the test cluster beside run-local). Run from the repository root; the Makefile sets PYTHONPATH.

Modules: common (paths, sizes, logging), measure (timing and memory of one command), data
(generated input and its independently computed counts), check (reading each tool's output
and comparing it with those counts), tools (the tools compared), machine (what the run ran on),
wordcount (the word-count benchmark's runs), profiling (where the mapper and reducer spend
their time), report (tables and JSON), plots.
"""
