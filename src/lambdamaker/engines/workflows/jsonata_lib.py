"""jsonata-python, imported without its process-wide side effect.

Importing the library raises the interpreter's recursion limit to 10,000 for every thread of
the process, for good (its evaluator recurses like JavaScript's: one JSONata call level costs
about ten Python frames). The server parses untrusted, deeply nested JSON elsewhere and relies
on the default limit to reject it, so the limit is put back right after the import and raised
only while a JSONata evaluation runs (``deep_recursion``: counted, so concurrent evaluations
in several threads keep it raised until the last one ends).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_default = sys.getrecursionlimit()
from jsonata import JException, Jsonata, Timebox, Utils  # noqa: E402

sys.setrecursionlimit(_default)

JSONATA_RECURSION_LIMIT = 10_000
_lock = threading.Lock()
_active = 0


@contextmanager
def deep_recursion() -> Iterator[None]:
    """The recursion limit JSONata needs, for the duration of one evaluation."""
    global _active
    with _lock:
        if _active == 0:
            sys.setrecursionlimit(JSONATA_RECURSION_LIMIT)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                sys.setrecursionlimit(_default)


__all__ = ["JException", "Jsonata", "Timebox", "Utils", "deep_recursion"]
