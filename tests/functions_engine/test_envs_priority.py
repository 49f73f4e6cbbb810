"""Function code runs below the platform (nice) in the platform's session, each environment in
a process group of its own: Python environments (forked from zygotes and snapshots) and
``provided.*`` bootstraps alike (``engines.functions.priority``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from envs_helpers import ListSink, body, call

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.priority import DEFAULT_NICE

PROBE_APP = """
import os, subprocess

def handler(event, context):
    child = subprocess.run(["sh", "-c", "cut -d' ' -f5,6,19 /proc/$$/stat"],
                           capture_output=True, text=True, check=True).stdout.split()
    return {
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "child_pgid_sid_nice": [int(x) for x in child],
    }
"""

PROBE_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
read -r PGID SID NICE < <(cut -d' ' -f5,6,19 /proc/$$/stat)
while true; do
  HEADERS="$(mktemp)"
  curl -sS -LD "$HEADERS" "$API/invocation/next" > /dev/null
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS "$API/invocation/$ID/response" \\
    -d "{\\"pid\\": $$, \\"pgid\\": $PGID, \\"sid\\": $SID, \\"nice\\": $NICE}" > /dev/null
  rm -f "$HEADERS"
done
"""


def _ours() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_python_environments_run_below_the_platform_in_its_session(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": PROBE_APP})
    for _ in range(2):  # the first from the zygote's snapshot path, the second warm
        got = body(call(engine, spec, {}))
        assert got["nice"] == min(19, _ours() + DEFAULT_NICE)
        assert got["sid"] == os.getsid(0)  # the platform's session (and so its autogroup)
        assert got["pgid"] == got["pid"]  # a group of its own, killed as one
        # what the handler starts inherits all three
        assert got["child_pgid_sid_nice"] == [got["pgid"], got["sid"], got["nice"]]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the bootstrap needs curl")
def test_provided_bootstraps_run_below_the_platform_in_its_session(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"bootstrap": PROBE_BOOTSTRAP}, runtime="provided.al2023", handler="x.y")
    os.chmod(os.path.join(spec.code_dir, "bootstrap"), 0o755)
    got = body(call(engine, spec, {}))
    assert got["nice"] == min(19, _ours() + DEFAULT_NICE)
    assert got["sid"] == os.getsid(0)
    assert got["pgid"] == got["pid"]


def test_nice_zero_leaves_functions_at_the_platforms_priority(
    tmp_path: Path, sink: ListSink, make_fn
) -> None:
    engine = FunctionEngine(work_dir=tmp_path / "engine", logs=sink, function_nice=0)
    try:
        got = body(call(engine, make_fn({"app.py": PROBE_APP}), {}))
    finally:
        engine.close()
    assert got["nice"] == _ours()
    assert got["sid"] == os.getsid(0)
    assert got["pgid"] == got["pid"]
