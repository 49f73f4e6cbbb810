"""The engine picks the environment by runtime: Python on the host interpreter, ``provided.*``
through the Runtime API (``provided_env``); anything else is refused as Lambda refuses it."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace

import pytest
from envs_helpers import body, call

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.errors import InvalidParameterValueError

BOOTSTRAP = """#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS "$API/invocation/$ID/response" -d "{\\"echo\\": $EVENT}" > /dev/null
  rm -f "$HEADERS"
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_provided_runtimes_run_through_the_runtime_api(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"bootstrap": BOOTSTRAP}, runtime="provided.al2023", handler="x.y")
    os.chmod(os.path.join(spec.code_dir, "bootstrap"), 0o755)
    result = call(engine, spec, {"a": 1})
    assert result.function_error is None
    assert body(result) == {"echo": {"a": 1}}
    assert result.cold_start and not call(engine, spec, {}).cold_start


def test_python_versions_all_run_on_the_host_interpreter(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": "import sys\ndef handler(e, c):\n    return sys.version_info[:2]\n"})
    host = list(sys.version_info[:2])
    for runtime in ("python3.10", "python3.13"):
        assert body(call(engine, replace(spec, runtime=runtime))) == host
    assert engine.describe()["python"] == "{}.{}".format(*host)


def test_an_unknown_runtime_is_refused(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": ""}, runtime="nodejs20.x")
    with pytest.raises(InvalidParameterValueError):
        call(engine, spec)
