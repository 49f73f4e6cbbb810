"""The contract every execution environment honours, whatever runs it.

An execution environment is one OS process (or one Ray actor, later) holding one function version
and handling one invocation at a time (DESIGN.md, decision 5). The pool above it decides how many
exist; the environment only knows how to start, run an invocation, and stop.
"""

from __future__ import annotations

from typing import Protocol

from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest, InvokeResult


class LogSink(Protocol):
    """Where environments send log lines. ``append`` must not block on I/O: implementations
    buffer and write in batches off the invoke path."""

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """``events``: (timestamp in ms since the epoch, message) in order."""
        ...


class Environment(Protocol):
    spec: FunctionSpec
    env_id: str
    log_stream: str
    """``YYYY/MM/DD/[$LATEST]<hex id>`` as Lambda names it; one stream per environment."""

    def start(self) -> float:
        """Create the environment and run init; block until ready. Returns the init duration in
        ms. Init failures are reported by the first ``invoke`` as Lambda reports them
        (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``...)."""
        ...

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        """Run one invocation to completion, enforcing ``spec.timeout_s`` (the environment is
        killed and the result is the timeout error) and ``spec.memory_mb``. Never raises for
        anything the function does; raises only for platform failures."""
        ...

    def alive(self) -> bool: ...

    def stop(self) -> None:
        """Kill the process and release its resources (/tmp, cgroup). Idempotent."""
        ...
