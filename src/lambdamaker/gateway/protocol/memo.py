"""Closures compiled once per shape: the memo every codec and the validator share.

A codec turns each botocore shape it meets into a closure (reader, writer, check) once, and
keeps it under the shape's key (``models.shape_key``, plus whatever else the closure depends
on, such as an XML tag). A recursive shape would recurse forever while compiling, so a
forwarding cell is stored under its key first: references compiled meanwhile call through the
cell, which is pointed at the real closure once that exists. Only closures of recursive shapes
ever hold a cell; all others call each other directly, so the memo costs nothing per request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

Compiled = TypeVar("Compiled", bound=Callable[..., Any] | None)


class _Cell:
    """Forwarding target for recursive shapes: filled once the real closure exists."""

    __slots__ = ("fn",)

    def __init__(self) -> None:
        self.fn: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        assert self.fn is not None
        return self.fn(*args)


def _identity(value: Any) -> Any:
    return value


class ShapeMemo(Generic[Compiled]):
    """Compiled closures by key. A compiler may return None for "values pass unchanged" (the
    JSON writers do); a cell standing for such a shape then passes its value through."""

    __slots__ = ("_compiled",)

    def __init__(self) -> None:
        self._compiled: dict[tuple[Any, ...], Compiled] = {}

    def get_or_compile(self, key: tuple[Any, ...], compile: Callable[[], Compiled]) -> Compiled:
        if key in self._compiled:
            return self._compiled[key]
        cell = _Cell()
        self._compiled[key] = cast(Compiled, cell)
        fn = compile()
        cell.fn = fn if fn is not None else _identity
        self._compiled[key] = fn
        return fn
