"""The chart's container command lines parse with the engine's real argument parser
(scripts/mrglue.py), with the values Kubernetes substitutes for $(JOB_COMPLETION_INDEX) and
$(POD_NAME)."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, SCENARIOS, containers, pod_specs, render_scenario, scenario_values

ENGINE = ROOT / "scripts" / "mrglue.py"
PARSE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import mrglue
ns = mrglue.build_parser().parse_args(json.loads(sys.argv[2]))
print(json.dumps({k: v for k, v in vars(ns).items() if not callable(v)}, default=str))
"""


def engine_parse(args):
    proc = subprocess.run([sys.executable, "-c", PARSE, str(ENGINE.parent), json.dumps(args)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"the engine rejects {args}:\n{proc.stderr}"
    return json.loads(proc.stdout)


def engine_calls(docs):
    for name, spec in pod_specs(docs):
        for c in containers(spec):
            if c["command"] == ["python3", "/opt/mapreduce/mrglue.py"]:
                args = [a.replace("$(JOB_COMPLETION_INDEX)", "1").replace("$(POD_NAME)", "wc-map-r1-1-abcde")
                        for a in c["args"]]
                yield f"{name}/{c['name']}", args


@pytest.mark.skipif(not ENGINE.exists(), reason="scripts/mrglue.py (the engine) is not in this tree yet")
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_engine_accepts_the_chart_args(path):
    values = scenario_values(path)
    seen = set()
    for where, args in engine_calls(render_scenario(path)):
        ns = engine_parse(args)
        seen.add(args[0])
        if args[0] in ("map-task", "shuffle", "reduce-task"):
            assert ns["index"] == 1 and ns["mappers"] == values["mappers"], where
        if args[0] in ("map-task", "reduce-task"):
            assert ns["attempt"] == "wc-map-r1-1-abcde", where
        if args[0] == "map-task":
            assert ns["reducers"] == values["reducers"] and ns["bad_input_exit_code"] == values["badInputExitCode"]
    assert "map-task" in seen
    assert ("shuffle" in seen and "reduce-task" in seen) == (values["reducers"] > 0)
