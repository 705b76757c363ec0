"""Run Apache Hadoop Streaming in local mode (one JVM, local file system) from Python.

Used by tests/hadoop and by bench/, which import it as `hadoop_streaming` (pytest's pythonpath
and the Makefile's PYTHONPATH name this directory). The jars come from install-hadoop.sh (Maven
Central, version pinned in pom.xml, cached outside the repo); the JVM is the `java` on PATH (or
$JAVA_HOME/bin/java), Java 17 on our machines.

Java 17 and module access: Hadoop 3.4.2's local job runner, streaming, the local file
system and the job client do not reach into JDK internals on the paths these jobs take.
We checked with -Dsun.reflect.debugModuleAccessChecks=true, which reports even the denied
reflective accesses that a library catches and hides, and found none; so no --add-opens
flag is passed. JAVA_MODULE_OPTIONS below is where they would go, and
`assert_no_module_errors` fails a run whose log shows a module access failure.
"""
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
INSTALLER = HERE / "install-hadoop.sh"
LOG_CONF_DIR = HERE / "conf"
STREAMING_MAIN = "org.apache.hadoop.streaming.HadoopStreaming"
JAVA_MODULE_OPTIONS = []

# Hadoop's own counter groups, by the display names its job log prints.
BUILTIN_GROUPS = frozenset({
    "File System Counters", "Map-Reduce Framework", "Shuffle Errors",
    "File Input Format Counters", "File Output Format Counters", "Job Counters",
})
_COUNTERS_HEADER = re.compile(r"mapreduce\.Job: Counters: \d+\s*$")
_MODULE_ERRORS = re.compile(r"InaccessibleObjectException|IllegalAccessError|"
                            r"does not \"opens |module java\.base does not")


def hadoop_version():
    match = re.search(r"<hadoop\.version>([^<]+)</hadoop\.version>", POM.read_text())
    if not match:
        raise RuntimeError(f"no <hadoop.version> in {POM}")
    return match.group(1)


def ensure_installed():
    """The directory of Hadoop's jars, installing them first when needed."""
    out = subprocess.run(["bash", str(INSTALLER)], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    lib = Path(out.strip().splitlines()[-1])
    if not (lib / ".complete").exists():
        raise RuntimeError(f"{INSTALLER} did not leave a complete install in {lib}")
    return lib


def java_executable():
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise RuntimeError("java not found: install a JDK 17 (Debian: openjdk-17-jdk-headless)")
    return java


@dataclass
class StreamingRun:
    command: list
    returncode: int
    log: str
    counters: dict = field(default_factory=dict)

    def user_counters(self):
        """The counter groups that are not Hadoop's own (those scripts reported)."""
        return {g: c for g, c in self.counters.items() if g not in BUILTIN_GROUPS}


def parse_job_counters(log):
    """{group: {counter: value}} from the job's final `Counters: N` block in its log.

    The block is the job client's summary after the job ends (the per-task blocks before it
    say `Final Counters for attempt_...`). Groups are indented with one tab, counters with
    two, as `name=value`.
    """
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if _COUNTERS_HEADER.search(line)]
    if not starts:
        return {}
    counters, group = {}, None
    for line in lines[starts[-1] + 1:]:
        if line.startswith("\t\t") and group is not None:
            name, _, value = line.strip().rpartition("=")
            counters[group][name] = int(value)
        elif line.startswith("\t"):
            group = line.strip()
            counters.setdefault(group, {})
        else:
            break
    return counters


def assert_no_module_errors(run):
    match = _MODULE_ERRORS.search(run.log)
    if match:
        start = max(0, match.start() - 300)
        raise AssertionError("Java module access failure under Java 17 (an --add-opens is "
                             f"missing):\n{run.log[start:match.end() + 500]}")


def streaming_command(lib, args, conf=None, java_options=()):
    """The java command line for one streaming job: generic -D options, then `args`."""
    generic = {
        "mapreduce.framework.name": "local",
        "mapreduce.job.user.name": os.environ.get("USER", "mapreduce"),
    }
    generic.update(conf or {})
    classpath = os.pathsep.join([str(LOG_CONF_DIR), str(Path(lib) / "*")])
    command = [java_executable(), *JAVA_MODULE_OPTIONS, *java_options,
               "-cp", classpath, STREAMING_MAIN]
    for key, value in generic.items():
        command += ["-D", f"{key}={value}"]
    return command + ["-fs", "file:///", *args]


def run_streaming(args, workdir, conf=None, lib=None, java_options=(), timeout=None):
    """Run one Hadoop Streaming job in local mode; its temp files go under `workdir`.

    `args` are the streaming options (-input, -output, -mapper, ...). Returns a
    StreamingRun with the exit code, the job log and the parsed job counters.
    """
    lib = lib or ensure_installed()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = {"hadoop.tmp.dir": str(workdir / "hadoop-tmp"), **(conf or {})}
    command = streaming_command(lib, args, conf, java_options)
    proc = subprocess.run(command, cwd=workdir, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    log = proc.stdout.decode("utf-8", "replace")
    (workdir / "hadoop-job.log").write_text(log)
    return StreamingRun(command, proc.returncode, log, parse_job_counters(log))
