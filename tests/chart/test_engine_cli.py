"""The chart's engine command lines parse with the engine's real argument parser
(scripts/mapreduce/cli.py, started in the pods as `python3 -S -m mapreduce STEP ...`), with the
values Kubernetes substitutes for $(JOB_COMPLETION_INDEX) and $(POD_NAME)."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, SCENARIOS, containers, pod_specs, render_scenario, scenario_values

ENGINE_COMMAND = ["python3", "-S", "-m", "mapreduce"]
SCRIPTS = ROOT / "scripts"
PARSE = """
import json, sys
from mapreduce.cli import build_parser
ns = build_parser().parse_args(json.loads(sys.argv[1]))
print(json.dumps({k: v for k, v in vars(ns).items() if not callable(v)}, default=str))
"""


def engine_parse(args):
    proc = subprocess.run([sys.executable, "-S", "-c", PARSE, json.dumps(args)],
                          capture_output=True, text=True, env={"PYTHONPATH": str(SCRIPTS)})
    assert proc.returncode == 0, f"the engine rejects {args}:\n{proc.stderr}"
    return json.loads(proc.stdout)


def kubernetes_expand(arg, env):
    """What the kubelet makes of an argument: $(NAME) of a defined variable is replaced, `$$` is
    one `$`, anything else stays."""
    out, i = [], 0
    while i < len(arg):
        if arg.startswith("$$", i):
            out.append("$")
            i += 2
        elif arg.startswith("$(", i) and ")" in arg[i:]:
            end = arg.index(")", i)
            name = arg[i + 2:end]
            out.append(env.get(name, arg[i:end + 1]))
            i = end + 1
        else:
            out.append(arg[i])
            i += 1
    return "".join(out)


POD_ENV = {"JOB_COMPLETION_INDEX": "1", "POD_NAME": "wc-map-r1-1-abcde"}


def engine_calls(docs):
    for name, spec in pod_specs(docs):
        for c in containers(spec):
            if c["command"] == ENGINE_COMMAND:
                yield f"{name}/{c['name']}", [kubernetes_expand(a, POD_ENV) for a in c["args"]]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_engine_accepts_the_chart_args(path):
    values = scenario_values(path)
    seen = set()
    for where, args in engine_calls(render_scenario(path)):
        ns = engine_parse(args)
        seen.add(args[0])
        if args[0] in ("map-task", "shuffle", "reduce-task"):
            assert ns["index"] == 1, where
        if args[0] == "map-task":
            assert ns["mappers"] == values["mappers"] and ns["reducers"] == values["reducers"]
        if args[0] in ("map-task", "reduce-task"):
            assert ns["attempt"] == "wc-map-r1-1-abcde", where
            assert ns["bad_input_exit_code"] == values["badInputExitCode"], where
            assert ns["map_stage_failed_exit_code"] == values["mapStageFailedExitCode"], where
            properties = dict(ns["properties"])
            for name, value in values.get("jobConf", {}).items():
                assert properties[name] == str(value), where
            assert dict(ns["cmdenv"]) == {k: str(v) for k, v in values.get("cmdenv", {}).items()}, where
            assert ns["files"] == [f"/etc/mapreduce/files/{n}" for n in sorted(values.get("files", {}))]
    assert "map-task" in seen
    assert ("shuffle" in seen and "reduce-task" in seen) == (values["reducers"] > 0)
