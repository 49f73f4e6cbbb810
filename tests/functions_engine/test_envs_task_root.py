"""Frames of a handler's stack trace name its files as Lambda does: under ``/var/task`` (the
``LAMBDA_TASK_ROOT`` of AWS's runtimes), whatever directory the code is unpacked in here."""

from __future__ import annotations

import json

from envs_helpers import call

from lambdamaker.engines.functions.engine import FunctionEngine

APP = """
from pkg.util import fail

def handler(event, context):
    fail()
"""
UTIL = """
def fail():
    raise RuntimeError("deep")
"""


def test_stack_trace_names_files_under_var_task(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": APP, "pkg/__init__.py": "", "pkg/util.py": UTIL})
    result = call(engine, spec, {})
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "RuntimeError"
    assert [frame.splitlines()[0] for frame in doc["stackTrace"]] == [
        '  File "/var/task/app.py", line 5, in handler',
        '  File "/var/task/pkg/util.py", line 3, in fail',
    ]
    assert doc["stackTrace"][1].endswith('    raise RuntimeError("deep")\n')
