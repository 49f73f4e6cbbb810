"""Fixtures for the functions engine: real zygotes, snapshots and environment processes.

``engine`` is one ``FunctionEngine`` per test module (its zygote starts once); ``make_fn``
writes a function's code (and layers) and returns its ``FunctionSpec``; ``call`` invokes it.
The tests need root (namespaces, cgroups, uids), as the platform does for isolation.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from envs_helpers import ListSink, write_tree

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.spec import FunctionSpec


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the functions engine's sandbox and cgroups need root")


@pytest.fixture(scope="module")
def sink() -> ListSink:
    return ListSink()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, sink: ListSink) -> Iterator[FunctionEngine]:
    eng = FunctionEngine(work_dir=tmp_path_factory.mktemp("engine"), logs=sink)
    yield eng
    eng.close()


MakeFn = Callable[..., FunctionSpec]


@pytest.fixture(scope="module")
def make_fn(tmp_path_factory: pytest.TempPathFactory) -> MakeFn:
    """``make_fn({"app.py": source}, handler="app.handler", layers=[{...}], **spec_fields)``."""
    root = tmp_path_factory.mktemp("functions")

    def make(
        files: dict[str, str],
        *,
        layers: list[dict[str, str]] | None = None,
        **fields: Any,
    ) -> FunctionSpec:
        name = fields.pop("function_name", None) or f"fn-{uuid.uuid4().hex[:10]}"
        code = root / name / "code"
        write_tree(code, files)
        layer_dirs = []
        for i, layer in enumerate(layers or []):
            layer_dir = root / name / f"layer{i}"
            write_tree(layer_dir, layer)
            layer_dirs.append(str(layer_dir))
        values: dict[str, Any] = {
            "function_name": name,
            "version": "$LATEST",
            "function_arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
            "runtime": "python3.11",
            "handler": "app.handler",
            "code_dir": str(code),
            "code_sha256": uuid.uuid4().hex,
            "layer_dirs": tuple(layer_dirs),
        }
        values.update(fields)
        return FunctionSpec(**values)

    return make
