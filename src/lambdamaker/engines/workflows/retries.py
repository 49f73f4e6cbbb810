"""Retry and Catch: which retrier or catcher takes an error, and how long a retry waits.

AWS's rules: retriers and catchers are tried in order, the first whose ErrorEquals matches
wins; ``States.ALL`` matches every error except ``States.Runtime`` and
``States.DataLimitExceeded`` (an integration's oversized result excepted: see
``StatesError.terminal``); in a Task, ``States.TaskFailed`` matches every error except
``States.Timeout`` (and those two); ``States.HeartbeatTimeout`` matches a missed heartbeat,
which is named ``States.Timeout`` (``StatesError.also_matches``). A retrier keeps its own
attempt count for the state visit; the n-th retry waits ``IntervalSeconds * BackoffRate ** (n -
1)`` seconds (defaults 1 s, 2.0, 3 attempts), capped by ``MaxDelaySeconds``; ``JitterStrategy:
FULL`` draws the wait uniformly from ``[0, that]``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from lambdamaker.engines.workflows.errors import NOT_CAUGHT_BY_ALL, TIMEOUT, StatesError

DEFAULT_INTERVAL = 1.0
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0


def matches(
    error_equals: Sequence[str], error: str, *, in_task: bool, terminal: bool | None = None
) -> bool:
    """Whether ``error_equals`` takes ``error``; ``terminal`` (default: the name is in
    ``NOT_CAUGHT_BY_ALL``) keeps ``States.ALL`` and ``States.TaskFailed`` from taking it."""
    if terminal is None:
        terminal = error in NOT_CAUGHT_BY_ALL
    for name in error_equals:
        if name == error:
            return True
        if terminal:
            continue
        if name == "States.ALL":
            return True
        if name == "States.TaskFailed" and in_task and error != TIMEOUT:
            return True
    return False


def find(
    handlers: Sequence[dict[str, Any]], error: str | StatesError, *, in_task: bool
) -> int | None:
    """Index of the first retrier/catcher whose ErrorEquals takes ``error`` (a name, or a
    ``StatesError``, which is also taken by the names in its ``also_matches``: a missed
    heartbeat is ``States.Timeout`` that ``States.HeartbeatTimeout`` takes too)."""
    if isinstance(error, StatesError):
        name, also, terminal = error.error, error.also_matches, error.terminal
    else:
        name, also, terminal = error, (), None
    for index, handler in enumerate(handlers):
        error_equals = handler.get("ErrorEquals", ())
        if matches(error_equals, name, in_task=in_task, terminal=terminal) or any(
            a in error_equals for a in also
        ):
            return index
    return None


def retry_delay(retrier: dict[str, Any], attempt: int) -> float | None:
    """Seconds before retry number ``attempt`` (1-based), or None when attempts are spent."""
    max_attempts = retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS)
    if attempt > max_attempts:
        return None
    interval = float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL))
    backoff = float(retrier.get("BackoffRate", DEFAULT_BACKOFF))
    delay = interval * backoff ** (attempt - 1)
    cap = retrier.get("MaxDelaySeconds")
    if cap is not None:
        delay = min(delay, float(cap))
    if retrier.get("JitterStrategy") == "FULL":
        delay = random.uniform(0.0, delay)
    return delay
