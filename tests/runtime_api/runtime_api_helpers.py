"""Helpers for the Runtime API tests: a list-backed LogSink, a stdlib-Python bootstrap template,
and request factories."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest

PYTHON = sys.executable

# A minimal runtime in stdlib Python (one http.client connection per call, like the tutorial's
# curl): the failure tests put their behaviour in INIT and HANDLE.
PY_RUNTIME = """#!{python}
import http.client, json, os, sys, time
API = os.environ["AWS_LAMBDA_RUNTIME_API"]
def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(API)
    conn.request(method, "/2018-06-01/runtime/" + path, body, headers or {{}})
    response = conn.getresponse()
    return response, response.read()
{init}
while True:
    response, event = call("GET", "invocation/next")
    rid = response.headers["Lambda-Runtime-Aws-Request-Id"]
    result = event
{handle}
    call("POST", "invocation/" + rid + "/response", result)
"""


class ListSink:
    """A LogSink that keeps every event, per stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[str, str, int, str]] = []

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        with self._lock:
            self.events.extend((group, stream, ts, msg) for ts, msg in events)

    def messages(self) -> list[str]:
        with self._lock:
            return [msg for _, _, _, msg in self.events]


def py_runtime(init: str = "", handle: str = "") -> str:
    """A bootstrap script: ``init`` runs once, ``handle`` per event (indented code that may
    replace ``result`` or post the error itself and ``continue``)."""
    body = "\n".join("    " + line for line in handle.strip("\n").splitlines())
    return PY_RUNTIME.format(python=PYTHON, init=init, handle=body)


def invoke_request(spec: FunctionSpec, payload: Any = None, **fields: Any) -> InvokeRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload or {}).encode()
    values: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "payload": body,
        "invoked_function_arn": spec.function_arn,
    }
    values.update(fields)
    return InvokeRequest(**values)


def b64_json(document: Any) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def write_tree(root: Path, files: dict[str, str], executable: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if name.endswith("bootstrap") and executable:
            os.chmod(path, 0o755)
