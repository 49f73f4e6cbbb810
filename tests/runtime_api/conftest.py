"""Fixtures for the Runtime API and ``provided.*`` environments: real bootstrap processes, a
list-backed LogSink, and factories for function directories and invoke requests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_api_helpers import ListSink, write_tree

from lambdamaker.engines.functions.provided_env import ProvidedEnvironment
from lambdamaker.engines.functions.spec import FunctionSpec


@pytest.fixture()
def log_sink() -> ListSink:
    return ListSink()


@pytest.fixture()
def make_spec(tmp_path: Path) -> Callable[..., FunctionSpec]:
    """``make_spec({"bootstrap": text, ...}, timeout_s=..., layers=[{...}])`` writes the code
    (and layer) directories; ``bootstrap`` files are made executable unless ``executable=False``."""
    counter = iter(range(1_000_000))

    def make(
        files: dict[str, str],
        *,
        executable: bool = True,
        layers: list[dict[str, str]] | None = None,
        **fields: Any,
    ) -> FunctionSpec:
        n = next(counter)
        code = tmp_path / f"code{n}"
        write_tree(code, files, executable)
        layer_dirs = []
        for i, layer in enumerate(layers or []):
            layer_dir = tmp_path / f"layer{n}-{i}"
            write_tree(layer_dir, layer, executable)
            layer_dirs.append(str(layer_dir))
        name = fields.pop("function_name", "fn")
        values: dict[str, Any] = {
            "function_name": name,
            "version": "$LATEST",
            "function_arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
            "runtime": "provided.al2023",
            "handler": "function.handler",
            "code_dir": str(code),
            "code_sha256": uuid.uuid4().hex,
            "layer_dirs": tuple(layer_dirs),
        }
        values.update(fields)
        return FunctionSpec(**values)

    return make


@pytest.fixture()
def start_env(
    tmp_path: Path, log_sink: ListSink
) -> Iterator[Callable[[FunctionSpec], ProvidedEnvironment]]:
    """Start a ProvidedEnvironment for a spec; every one is stopped after the test."""
    started: list[ProvidedEnvironment] = []

    def start(spec: FunctionSpec) -> ProvidedEnvironment:
        env = ProvidedEnvironment(spec, logs=log_sink, work_dir=tmp_path / "work")
        started.append(env)
        env.start()
        return env

    yield start
    for env in started:
        env.stop()
