"""Generated tests of "this result is already its own JSON form", one per output shape.

``JsonWriters`` returns a provider's value itself when writing it would change nothing, but it
finds that out with one closure call per structure, list and map in the result: a DynamoDB
Query page of 10 items makes 40 calls, one per item and one per attribute value. This module
generates (``exec``-compiled source, as ``json_fused`` does for requests) one function per shape
that answers the same question with the nested loops and set tests written inline, a few
levels deep, so a page of plain items costs a handful of calls.

Invariants:

- ``unchanged(shape)(value)`` is True only if the general writer would return ``value`` itself
  (identical object, hence identical bytes): every container is a real ``dict``/``list``, no
  structure or map holds a null, every structure member is a known one whose wire name is its
  own name, and no value needs encoding (blobs and timestamps always do; floats only when not
  finite). Anything it is unsure of answers False, and the caller runs the general writer, so
  being too strict is only slower, never different.
- A shape whose general writer is None (values go to ``orjson`` unchanged) has no test: it is
  always unchanged, and ``unchanged`` returns None for it.
- Recursive shapes (DynamoDB's ``AttributeValue``) call their own generated function by name
  once the inlining depth is used up; very deep values may raise ``RecursionError``, which the
  caller treats as False.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambdamaker.gateway.protocol.json_codec import JsonWriters
from lambdamaker.gateway.protocol.models import shape_key, wire_name

Check = Callable[[Any], bool]
Fn = Callable[[Any], Any]

INLINE_DEPTH = 4
"""Levels (structures, lists, maps) written inline into one generated function before it calls
another: an output structure, its list of items, their maps and the attribute values in them (a
DynamoDB page) are one function."""

_ALWAYS_ENCODED = ("blob", "timestamp")
_FLOATS = ("float", "double", "bigdecimal")


class UnchangedChecks:
    """Generates and caches the checks of one service model's output shapes."""

    def __init__(self, writers: JsonWriters) -> None:
        self._writers = writers
        self._names: dict[tuple[Any, ...], str] = {}
        self._sources: list[str] = []
        self._env: dict[str, Any] = {"_isfinite": math.isfinite}
        self._lock = threading.Lock()

    def unchanged(self, shape: StructureShape, skip: frozenset[str] = frozenset()) -> Check:
        """The check of a top-level output structure (members located in ``skip`` are not in
        the body: a result holding one is not unchanged)."""
        # One compilation at a time: a name is registered before its source is executed, so a
        # concurrent caller could otherwise find a name that is not yet defined.
        with self._lock:
            pending = len(self._sources)
            name = self._function(shape, skip, top=True)
            if len(self._sources) > pending:
                exec("\n".join(self._sources[pending:]), self._env)  # source generated here
            check: Check = self._env[name]
        return check

    def _function(
        self, shape: Shape, skip: frozenset[str] = frozenset(), *, top: bool = False
    ) -> str:
        """The name of the generated function testing ``shape`` (generating it if new).
        ``top``: the output structure itself, which the general writer always rebuilds when
        it holds a null or an unknown member, even if none of its members needs writing."""
        key = (*shape_key(shape), tuple(sorted(skip)), top)
        name = self._names.get(key)
        if name is not None:
            return name
        name = self._names[key] = f"ok_{len(self._names)}"
        lines = [f"def {name}(v):"]
        if top and isinstance(shape, StructureShape):
            self._struct(shape, "v", 1, INLINE_DEPTH, lines, skip)
        else:
            self._check(shape, "v", 1, INLINE_DEPTH, lines)
        lines.append("    return True")
        self._sources.append("\n".join(lines))
        return name

    def _constant(self, value: Any) -> str:
        name = f"k_{len(self._env)}"
        self._env[name] = value
        return name

    def _check(
        self,
        shape: Shape,
        var: str,
        indent: int,
        depth: int,
        lines: list[str],
    ) -> None:
        """Statements that ``return False`` unless the value in ``var`` is unchanged."""
        pad = "    " * indent
        kind = shape.type_name
        if kind in _ALWAYS_ENCODED:
            lines.append(f"{pad}return False")
            return
        if kind in _FLOATS:
            lines.append(f"{pad}if {var}.__class__ is float and not _isfinite({var}):")
            lines.append(f"{pad}    return False")
            return
        if self._writers.writer(shape) is None:
            return  # written as it is, whatever it holds
        if depth == 0:
            lines.append(f"{pad}if not {self._function(shape)}({var}):")
            lines.append(f"{pad}    return False")
            return
        item = f"x{indent}"
        if isinstance(shape, StructureShape):
            self._struct(shape, var, indent, depth, lines, frozenset())
        elif isinstance(shape, ListShape):
            lines.append(f"{pad}if {var}.__class__ is not list:")
            lines.append(f"{pad}    return False")
            lines.append(f"{pad}for {item} in {var}:")
            lines.append(f"{pad}    if {item} is None:")
            lines.append(f"{pad}        continue")
            self._check(shape.member, item, indent + 1, depth - 1, lines)
        elif isinstance(shape, MapShape):
            lines.append(f"{pad}if {var}.__class__ is not dict:")
            lines.append(f"{pad}    return False")
            lines.append(f"{pad}for {item} in {var}.values():")
            lines.append(f"{pad}    if {item} is None:")
            lines.append(f"{pad}        return False")
            self._check(shape.value, item, indent + 1, depth - 1, lines)
        else:
            lines.append(f"{pad}return False")  # a kind the writers know nothing of

    def _struct(
        self,
        shape: StructureShape,
        var: str,
        indent: int,
        depth: int,
        lines: list[str],
        skip: frozenset[str],
    ) -> None:
        pad = "    " * indent
        known: set[str] = set()
        written: dict[str, Shape] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location") in skip or wire_name(member, name) != name:
                continue  # dropped from the body or renamed: present means changed
            known.add(name)
            if member.type_name in _ALWAYS_ENCODED or self._writers.writer(member) is not None:
                written[name] = member
        plain = self._constant(frozenset(known - set(written)))
        lines.append(f"{pad}if {var}.__class__ is not dict:")
        lines.append(f"{pad}    return False")
        lines.append(f"{pad}if not {var}.keys() <= {plain} or None in {var}.values():")
        lines.append(f"{pad}    if not {var}.keys() <= {self._constant(frozenset(known))}:")
        lines.append(f"{pad}        return False")
        lines.append(f"{pad}    if None in {var}.values():")
        lines.append(f"{pad}        return False")
        item = f"x{indent}"
        for name, member in written.items():
            lines.append(f"{pad}    {item} = {var}.get({name!r})")
            lines.append(f"{pad}    if {item} is not None:")
            self._check(member, item, indent + 2, depth - 1, lines)


def fast_writer(
    shape: StructureShape,
    general: Fn,
    checks: UnchangedChecks,
    skip: frozenset[str] = frozenset(),
) -> Fn:
    """``general`` (``JsonWriters.struct_writer(shape, skip=skip)``) behind the generated test:
    a result that is already its JSON form is returned as it is without the closure walk."""
    ok = checks.unchanged(shape, skip)

    def write(value: Any) -> Any:
        try:
            if ok(value):
                return value
        except RecursionError:
            pass
        return general(value)

    return write
