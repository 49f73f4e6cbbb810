"""The keep-alive contract between the environment pool and its policies.

The pool asks a policy two questions per function version (``key``): how long may an idle
environment stay warm, and should an environment be pre-warmed before the next expected call.
Policies are pure logic on a clock the caller passes in, so they are tested on a fake clock.
"""

from __future__ import annotations

from typing import Protocol


class KeepAlivePolicy(Protocol):
    def on_invocation(self, key: str, now: float) -> None:
        """An invocation of ``key`` started at ``now`` (seconds, monotonic or fake)."""
        ...

    def release_at(self, key: str, idle_since: float) -> float:
        """When an environment of ``key`` idle since ``idle_since`` should be released."""
        ...

    def prewarm_at(self, key: str, now: float) -> float | None:
        """When to have a warm environment of ``key`` ready for the expected next call, or None
        (no pre-warming). Called after the last environment of ``key`` was released."""
        ...

    def forget(self, key: str) -> None:
        """``key`` no longer exists (code updated, function deleted)."""
        ...
