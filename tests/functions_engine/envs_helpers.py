"""Helpers for the functions-engine tests (a list-backed LogSink, a fake clock, requests)."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest, InvokeResult


class ListSink:
    """A LogSink that keeps every event, per stream."""

    def __init__(self) -> None:
        self.appends: list[tuple[str, str, list[tuple[int, str]]]] = []

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        self.appends.append((group, stream, list(events)))

    def messages(self, stream: str | None = None) -> list[str]:
        return [m for _, s, ev in self.appends if stream in (None, s) for _, m in ev]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def request(spec: FunctionSpec, payload: Any = None, **fields: Any) -> InvokeRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload or {}).encode()
    return InvokeRequest(
        request_id=fields.pop("request_id", str(uuid.uuid4())),
        payload=body,
        invoked_function_arn=fields.pop("invoked_function_arn", spec.function_arn),
        **fields,
    )


def call(
    engine: FunctionEngine, spec: FunctionSpec, payload: Any = None, **fields: Any
) -> InvokeResult:
    return engine.invoke(spec, request(spec, payload, **fields))


def body(result: InvokeResult) -> Any:
    return json.loads(result.payload)
