"""After a fork from a template: re-seed what would repeat, run the handler's restore hooks.

Every environment forked from one zygote or snapshot starts with the same memory, so anything
seeded before the fork would produce the same values in every environment. After each fork we
re-seed ``random`` (CPython does it too, in ``os.register_at_fork``), NumPy's legacy global
generator when NumPy is loaded, and clear ``uuid``'s clock-sequence state. ``os.urandom``,
``secrets``, ``uuid4`` and OpenSSL read the kernel or detect the fork themselves.

Hooks follow Lambda SnapStart's runtime hooks (the ``snapshot_restore_py`` package):
before-snapshot hooks run once in the snapshot, last registered first; after-restore hooks run
in every environment forked from it, in registration order. Handlers register them through
``lambdamaker.runtime`` or, when it is installed, ``snapshot_restore_py`` itself; both
registries are honoured. Both are looked up in ``sys.modules`` only, so a handler that uses
neither pays nothing.

Caveats, as with SnapStart: threads started during init do not exist in forked environments
(only the forking thread survives a fork); files opened during init are shared by every
environment forked from the snapshot; TCP connections opened during init read as closed in
every environment (``sockets.py``), so clients reconnect rather than share one stream;
``fcntl`` locks are the snapshot's; generators a handler seeded itself at init (``numpy.random.
default_rng()`` stored in a global, for instance) repeat across environments unless re-seeded in
an after-restore hook; ``PYTHONHASHSEED``-driven hashing is the same in all of them.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def reseed_after_fork() -> None:
    random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        try:
            numpy_random.seed()
        except Exception:
            pass
    uuid = sys.modules.get("uuid")
    if uuid is not None and hasattr(uuid, "_last_timestamp"):
        uuid._last_timestamp = None  # type: ignore[attr-defined]


def _registries(kind: str) -> list[list[Hook]]:
    found: list[list[Hook]] = []
    ours = sys.modules.get("lambdamaker.runtime")
    if ours is not None:
        getter = getattr(ours, f"get_{kind}", None)
        if getter is not None:
            found.append(getter())
    theirs = sys.modules.get("snapshot_restore_py")
    if theirs is not None:
        getter = getattr(theirs, f"get_{kind}", None)
        if getter is not None:
            try:
                found.append(getter())
            except Exception:
                pass
    return found


def run_before_snapshot() -> None:
    for registry in _registries("before_snapshot"):
        hooks = list(registry)
        while hooks:
            func, args, kwargs = hooks.pop()
            func(*args, **kwargs)


def run_after_restore() -> None:
    for registry in _registries("after_restore"):
        for func, args, kwargs in list(registry):
            func(*args, **kwargs)
