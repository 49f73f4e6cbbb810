"""Function code runs below the platform (nice) in the platform's session, each environment in
a process group of its own: Python environments (forked from zygotes and snapshots) and
``provided.*`` bootstraps alike (``engines.functions.priority``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from envs_helpers import ListSink, body, call

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.priority import DEFAULT_NICE
from lambdamaker.engines.functions.spec import FunctionSpec

PROBE_APP = """
import errno, os, subprocess

def handler(event, context):
    child = subprocess.run(["sh", "-c", "cut -d' ' -f5,6,19 /proc/$$/stat"],
                           capture_output=True, text=True, check=True).stdout.split()
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
        tty = "opened"
    except OSError as exc:
        tty = errno.errorcode.get(exc.errno, str(exc.errno))
    return {
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "child_pgid_sid_nice": [int(x) for x in child],
        "tty": tty,
    }
"""

PROBE_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
read -r PGID SID NICE < <(cut -d' ' -f5,6,19 /proc/$$/stat)
if (exec 3<>/dev/tty) 2>/dev/null; then TTY=opened; else TTY=ENXIO; fi
BODY="{\\"pid\\": $$, \\"pgid\\": $PGID, \\"sid\\": $SID, \\"nice\\": $NICE, \\"tty\\": \\"$TTY\\"}"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -LD "$HEADERS" "$API/invocation/next" > /dev/null
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS "$API/invocation/$ID/response" -d "$BODY" > /dev/null
  rm -f "$HEADERS"
done
"""


def probe(make_fn: Callable[..., FunctionSpec], runtime: str) -> FunctionSpec:
    """A function reporting its process's pid, group, session, nice and ``/dev/tty``."""
    if runtime.startswith("python"):
        return make_fn({"app.py": PROBE_APP}, runtime=runtime)
    if shutil.which("curl") is None:
        pytest.skip("the bootstrap needs curl")
    spec = make_fn({"bootstrap": PROBE_BOOTSTRAP}, runtime=runtime, handler="x.y")
    os.chmod(os.path.join(spec.code_dir, "bootstrap"), 0o755)
    return spec


def _ours() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_python_environments_run_below_the_platform_in_its_session(
    engine: FunctionEngine, make_fn
) -> None:
    spec = probe(make_fn, "python3.11")
    for _ in range(2):  # the first from the zygote's snapshot path, the second warm
        got = body(call(engine, spec, {}))
        assert got["nice"] == min(19, _ours() + DEFAULT_NICE)
        assert got["sid"] == os.getsid(0)  # the platform's session (and so its autogroup)
        assert got["pgid"] == got["pid"]  # a group of its own, killed as one
        # what the handler starts inherits all three
        assert got["child_pgid_sid_nice"] == [got["pgid"], got["sid"], got["nice"]]


def test_provided_bootstraps_run_below_the_platform_in_its_session(
    engine: FunctionEngine, make_fn
) -> None:
    got = body(call(engine, probe(make_fn, "provided.al2023"), {}))
    assert got["nice"] == min(19, _ours() + DEFAULT_NICE)
    assert got["sid"] == os.getsid(0)
    assert got["pgid"] == got["pid"]


def test_nice_zero_leaves_functions_at_the_platforms_priority(
    tmp_path: Path, sink: ListSink, make_fn
) -> None:
    engine = FunctionEngine(work_dir=tmp_path / "engine", logs=sink, function_nice=0)
    try:
        got = body(call(engine, probe(make_fn, "python3.11"), {}))
    finally:
        engine.close()
    assert got["nice"] == _ours()
    assert got["sid"] == os.getsid(0)
    assert got["pgid"] == got["pid"]


ENGINE_UNDER_A_TERMINAL = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from envs_helpers import ListSink, body, call
from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.spec import FunctionSpec

spec = FunctionSpec(**json.loads(sys.argv[2]))
engine = FunctionEngine(work_dir=sys.argv[3], logs=ListSink())
try:
    got = body(call(engine, spec, {}))
finally:
    engine.close()
got["platform_sid"] = os.getsid(0)
got["platform_tty"] = os.ttyname(0)
with open(sys.argv[4], "w") as out:
    json.dump(got, out)
"""


@pytest.mark.parametrize("runtime", ["python3.11", "provided.al2023"])
def test_functions_do_not_get_the_terminal_of_a_platform_started_from_a_shell(
    tmp_path: Path, make_fn, runtime: str
) -> None:
    """The platform's session is a terminal's here (``pty.fork``, as ``make run`` in a shell):
    function code stays in that session but cannot open its ``/dev/tty``."""
    import dataclasses
    import json
    import pty
    import sys

    spec = probe(make_fn, runtime)
    script = tmp_path / "engine_under_a_terminal.py"
    script.write_text(ENGINE_UNDER_A_TERMINAL)
    out = tmp_path / "out.json"
    argv = [
        sys.executable,
        str(script),
        str(Path(__file__).parent),
        json.dumps(dataclasses.asdict(spec)),
        str(tmp_path / "engine"),
        str(out),
    ]
    pid, master = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        try:
            os.execv(sys.executable, argv)
        finally:
            os._exit(127)
    transcript = b""
    while True:  # drain the terminal until the child is gone
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed its side
            break
        if not chunk:
            break
        transcript += chunk
    os.close(master)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, transcript.decode(errors="replace")
    got = json.loads(out.read_text())
    assert got["platform_tty"].startswith("/dev/pts/")  # the platform did have a terminal
    assert got["sid"] == got["platform_sid"]
    assert got["tty"] == "ENXIO"
