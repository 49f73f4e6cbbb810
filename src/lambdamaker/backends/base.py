"""The backend interface: where execution environments of a function run.

The engine (``engines.functions``) owns the policy: which environment serves an invocation, how
many exist, when they are released. A backend owns the mechanism: making an environment for a
``FunctionSpec`` and what it needs for that (templates, snapshots, cgroups, an actor pool...).

Kept free of local-process assumptions so that a Ray backend fits: everything crosses the
interface as serializable data (``FunctionSpec``, ``InvokeRequest``, ``InvokeResult`` are plain
dataclasses; paths are strings), environments are driven only through the ``Environment``
protocol (start, invoke, alive, stop), and nothing here mentions pids, sockets or files.
"""

from __future__ import annotations

from typing import Protocol

from lambdamaker.engines.functions.environment import Environment
from lambdamaker.engines.functions.spec import FunctionSpec


class Backend(Protocol):
    name: str
    """``local``, ``ray``..."""

    def create_environment(
        self, spec: FunctionSpec, *, initialization_type: str = "on-demand"
    ) -> Environment:
        """A new, not yet started environment for ``spec``. ``initialization_type`` is Lambda's
        ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand``, ``provisioned-concurrency``)."""
        ...

    def retire(self, function_arn: str, version: str | None = None) -> None:
        """Code or configuration of these versions is gone: drop what was prepared for them
        (snapshots, spares) once no environment uses it."""
        ...

    def tick(self) -> None:
        """Periodic housekeeping (templates idle too long), on the engine's clock."""
        ...

    def describe(self) -> dict[str, object]:
        """What runs where, for operators and benchmarks (plain data)."""
        ...

    def close(self) -> None: ...
