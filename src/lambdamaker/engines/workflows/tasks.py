"""What a Task's ``Resource`` does: the integration interface between the engine and services.

The engine knows nothing of Lambda, SQS or S3. A Task state hands a ``TaskRequest`` to the
handler its ``Resource`` resolves to, and awaits the result (a JSON value), or a
``StatesError`` whose ``error``/``cause`` become the TaskFailed event and feed Retry/Catch.

Resolution (``IntegrationRegistry.resolve``):
- the resource ARN's integration pattern suffix is split off first: ``.sync``, ``.sync:2`` and
  ``.waitForTaskToken`` become ``TaskRequest.pattern``; the rest is the ``base`` resource;
- an exact registration of ``base`` wins, then the longest registered prefix
  (``arn:aws:states:::aws-sdk:`` serves every SDK call; ``arn:aws:lambda:`` plain function
  ARNs; ``arn:aws:states:`` + ``:activity:`` activities are registered by the service).

Handlers are coroutines. For ``.waitForTaskToken`` the engine creates the token before the call
(``TaskRequest.task_token``) and, after the handler returns, waits for the token's outcome
itself; the handler only delivers the token (sends the message, invokes the function...).
For ``.sync`` the handler waits for the job it started and returns its final result.
Handlers report progress through ``TaskRequest.heartbeat`` only where the service has one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

PATTERNS = (".sync:2", ".sync", ".waitForTaskToken")


@dataclass
class TaskRequest:
    resource: str
    """The Task's ``Resource`` as written (with its pattern suffix)."""
    base: str
    """``resource`` without the pattern suffix."""
    pattern: str
    """``""`` (request-response), ``".sync"``, ``".sync:2"`` or ``".waitForTaskToken"``."""
    parameters: Any
    """The rendered Parameters / Arguments (the effective input when the state has none)."""
    execution_arn: str
    state_machine_arn: str
    state_name: str
    region: str
    account_id: str
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    task_token: str | None = None
    credentials: dict[str, Any] | None = None
    """The Task's ``Credentials`` field (a role to assume), rendered."""
    query_language: str = "JSONPath"
    context: dict[str, Any] = field(default_factory=dict)
    """The context object ``$$`` at the Task (read-only)."""


TaskHandler = Callable[[TaskRequest], Awaitable[Any]]


def split_pattern(resource: str) -> tuple[str, str]:
    """``(base, pattern)`` of a Task resource ARN."""
    for suffix in PATTERNS:
        if resource.endswith(suffix):
            return resource[: -len(suffix)], suffix
    return resource, ""


class IntegrationRegistry:
    """Resource ARN -> handler: exact base ARNs first, then the longest registered prefix."""

    def __init__(self) -> None:
        self._exact: dict[str, TaskHandler] = {}
        self._prefixes: list[tuple[str, TaskHandler]] = []

    def register(self, base: str, handler: TaskHandler) -> None:
        self._exact[base] = handler

    def register_prefix(self, prefix: str, handler: TaskHandler) -> None:
        self._prefixes.append((prefix, handler))
        self._prefixes.sort(key=lambda item: -len(item[0]))

    def resolve(self, base: str) -> TaskHandler | None:
        handler = self._exact.get(base)
        if handler is not None:
            return handler
        for prefix, candidate in self._prefixes:
            if base.startswith(prefix):
                return candidate
        return None
