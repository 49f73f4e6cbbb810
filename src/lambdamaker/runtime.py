"""Runtime hooks for function code: what to run before a snapshot and after a restore.

Mirrors AWS's ``snapshot_restore_py`` (Lambda SnapStart runtime hooks)::

    from lambdamaker.runtime import register_after_restore

    @register_after_restore
    def reconnect():
        global db
        db = connect()   # a connection opened at init is shared by every forked environment

Before-snapshot hooks run once, in the snapshot process, after the handler module is imported
(last registered first). After-restore hooks run in every environment forked from that
snapshot, before its first invocation (in registration order). Without a snapshot
(``snapshot`` off) neither runs, as on Lambda without SnapStart. If the real
``snapshot_restore_py`` is installed, hooks registered there run too.

This module imports nothing itself (importing it loads the ``lambdamaker`` package once, at init).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []

__all__ = [
    "get_after_restore",
    "get_before_snapshot",
    "register_after_restore",
    "register_before_snapshot",
]


def register_before_snapshot(func: F, *args: Any, **kwargs: Any) -> F:
    """Run ``func(*args, **kwargs)`` before the snapshot is taken; usable as a decorator."""
    _before_snapshot.append((func, args, kwargs))
    return func


def register_after_restore(func: F, *args: Any, **kwargs: Any) -> F:
    """Run ``func(*args, **kwargs)`` in each environment restored from the snapshot."""
    _after_restore.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before_snapshot


def get_after_restore() -> list[Hook]:
    return _after_restore
