"""One pass that reads *and* validates a JSON body, generated as Python source per shape.

The general path walks a request twice through closure chains: ``JsonReaders`` turns the
``orjson`` tree into params, then ``Validator`` walks the params again. For the common case of a
well-formed, valid request this module does both in one walk, in functions generated per shape
(``exec``-compiled source: scalar members are checked inline, nested shapes are one direct call
of another generated function, recursive shapes call themselves by name).

The fast path only ever *accepts*; it never reports. Invariants:

- Accepting means: the general reader would return exactly the value the fast function
  returns, and the validator would find no problem in it. Every check here mirrors one in
  ``json_codec`` or ``validate`` (same type tests, same ``min``/``max``/enum/pattern rules).
  ``RequestParser`` then marks the params as vouched for and ``ServiceProtocol.validate``
  does not walk them again.
- Anything else (a wrong type, a constraint violation, a malformed blob, an unexpected
  exception) raises, and the caller re-runs the general path on a freshly loaded tree, which
  produces the error exactly as before. Being too strict is therefore only slower, never
  wrong; ``tests/protocol/test_protocol_fused_json.py`` checks the accept decision and the
  output against the general path on many generated good and bad inputs.
- The result is the ``orjson`` tree itself, converted in place (blobs decoded, timestamps
  parsed, nulls and unknown members deleted): no container is rebuilt. Hence the fresh tree
  on rejection. Structures with renamed members (``locationName``) are copied instead.
- A shape kind this module does not know makes ``compile`` return None: the whole operation
  then uses the general path.
"""

from __future__ import annotations

import binascii
import threading
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.models import shape_key, wire_name
from lambdamaker.gateway.protocol.patterns import compile_pattern

FastFn = Callable[[Any], Any]
Generated = Callable[[Any, int], Any]
"""A generated function: (value, nesting depth) -> converted value."""

INLINE_MEMBERS = 12
"""Structures with at most this many members test keys in an if-chain; larger ones dispatch
through a dict of per-member functions (a chain would cost more than the call)."""

MAX_DEPTH = 100
"""Lists, maps and structures nested deeper than this are left to the general path. Its
closures recurse about two frames per level and report a ``RecursionError`` (a malformed
request) near 450 levels under the default limit of 1000 frames; the fast path needs fewer
frames, so without a bound it would accept bodies the general path rejects. Nothing nests this
deep in practice (DynamoDB allows 32 levels of documents, 64 containers)."""

_INT_KINDS = ("integer", "long", "short", "byte")
_FLOAT_KINDS = ("float", "double", "bigdecimal")
_RANGED = ("integer", "long", "float", "double")  # the validator checks min/max only for these


_DROP = [
    "            if drop is None: drop = [k]",
    "            else: drop.append(k)",
    "            continue",
]
"""Keys the general reader leaves out (nulls, unknown members): deleted after the loop."""
_DROP_NONE = ["        if x is None:", *_DROP]


def _in_place(shape: Shape) -> bool:
    """Lists, maps and structures whose wire names are their member names are converted in
    the ``orjson`` tree itself (the tree is ours; the result is the same dict or list)."""
    if isinstance(shape, StructureShape):
        return all(wire_name(m, name) == name for name, m in shape.members.items())
    return True


class Reject(Exception):
    """The fast path declines: the general path decides (and reports) instead."""


class _Unsupported(Exception):
    """A shape the generator does not handle: the operation keeps the general path."""


class FusedJson:
    """Generated read-and-validate functions for one service (one namespace, shared)."""

    def __init__(self, check_enums: bool) -> None:
        self._check_enums = check_enums
        self._names: dict[tuple[Any, ...], str] = {}
        self._ns: dict[str, Any] = {
            "R": Reject,
            "A2B": binascii.a2b_base64,
            "PT": values.parse_timestamp,
            "TF": values.text_to_float,
            "SPECIAL": frozenset(("NaN", "Infinity", "-Infinity")),
            "D": MAX_DEPTH,
        }
        self._count = 0
        self._lock = threading.Lock()

    def compile(self, shape: StructureShape) -> FastFn | None:
        """The fast function of a top-level input structure, or None when not supported."""
        with self._lock:  # names and constants are numbered: one compiler at a time
            known = dict(self._names)
            try:
                name = self._function(shape)
            except _Unsupported:
                # Forget what this attempt compiled: some of it may call the unsupported part.
                self._names = known
                return None
        fn: Generated = self._ns[name]
        return lambda value: fn(value, 0)

    # --- functions per container shape ------------------------------------------------------

    def _function(self, shape: Shape) -> str:
        key = shape_key(shape)
        name = self._names.get(key)
        if name is not None:
            return name
        name = self._names[key] = self._fresh("f")
        try:
            if isinstance(shape, StructureShape):
                if shape.is_document_type:
                    raise _Unsupported(shape.name)
                lines = self._struct(name, shape)
            elif isinstance(shape, ListShape):
                lines = self._list(name, shape)
            elif isinstance(shape, MapShape):
                lines = self._map(name, shape)
            else:
                raise _Unsupported(shape.name)
        except _Unsupported:
            del self._names[key]  # (``compile`` forgets the rest of the attempt)
            raise
        exec("\n".join(lines), self._ns)  # source built here, from the model only
        return name

    def _fresh(self, prefix: str) -> str:
        """A name never used before in the namespace (a failed compile never frees one)."""
        self._count += 1
        return f"{prefix}{self._count}"

    def _const(self, value: Any) -> str:
        name = self._fresh("c")
        self._ns[name] = value
        return name

    def _struct(self, name: str, shape: StructureShape) -> list[str]:
        members = shape.members
        wires = [wire_name(member, mname) for mname, member in members.items()]
        if len(set(wires)) != len(wires):
            raise _Unsupported(shape.name)
        in_place = _in_place(shape)
        lines = [f"def {name}(v, d):", "    if v.__class__ is not dict or d > D: raise R"]
        lines.append("    drop = None" if in_place else "    out = {}")
        lines.append("    for k, x in v.items():")
        if in_place:
            lines.extend(_DROP_NONE)
        else:
            lines.append("        if x is None: continue")
        if len(members) <= INLINE_MEMBERS:
            first = True
            for wire, (mname, member) in zip(wires, members.items(), strict=True):
                lines.append(f"        {'if' if first else 'elif'} k == {wire!r}:")
                first = False
                value, assigns = self._value(member, "            ")
                lines.extend(value)
                if not in_place:
                    lines.append(f"            out[{mname!r}] = x")
                elif assigns:
                    lines.append("            v[k] = x")
            if in_place:
                lines.append("        else:")
                lines.extend(_DROP)
        else:
            table: dict[str, tuple[str, Generated]] = {}
            for wire, (mname, member) in zip(wires, members.items(), strict=True):
                table[wire] = (mname, self._member_function(member))
            lines.insert(1, f"    get = {self._const(table)}.get")
            lines.append("        spec = get(k)")
            if in_place:
                lines.append("        if spec is None:")
                lines.extend(_DROP)
                lines.append("        v[k] = spec[1](x, d)")
            else:
                lines.append("        if spec is None: continue")
                lines.append("        out[spec[0]] = spec[1](x, d)")
        if in_place:
            lines.append("    if drop is not None:")
            lines.append("        for k in drop: del v[k]")
        target = "v" if in_place else "out"
        for required in shape.required_members:
            lines.append(f"    if {required!r} not in {target}: raise R")
        lines.append(f"    return {target}")
        return lines

    def _member_function(self, member: Shape) -> Generated:
        fname = self._fresh("m")
        value, _ = self._value(member, "    ")
        exec("\n".join([f"def {fname}(x, d):", *value, "    return x"]), self._ns)
        fn: Generated = self._ns[fname]
        return fn

    def _list(self, name: str, shape: ListShape) -> list[str]:
        value, assigns = self._value(shape.member, "        ")
        lines = [
            f"def {name}(v, d):",
            "    if v.__class__ is not list or d > D: raise R",
            *self._size(shape, "len(v)", "    "),
            "    for i, x in enumerate(v):" if assigns else "    for x in v:",
            "        if x is None: continue",
            *value,
        ]
        if assigns:
            lines.append("        v[i] = x")
        lines.append("    return v")
        return lines

    def _map(self, name: str, shape: MapShape) -> list[str]:
        value, assigns = self._value(shape.value, "        ")
        lines = [
            f"def {name}(v, d):",
            "    if v.__class__ is not dict or d > D: raise R",
            "    drop = None",
            "    for k, x in v.items():",
            *_DROP_NONE,
            *self._key(shape.key, "        "),
            *value,
        ]
        if assigns:
            lines.append("        v[k] = x")
        lines.append("    if drop is not None:")
        lines.append("        for k in drop: del v[k]")
        lines.extend(self._size(shape, "len(v)", "    "))
        lines.append("    return v")
        return lines

    # --- inline code per value: checks ``x`` and leaves the converted value in ``x`` -----------

    def _value(self, shape: Shape, pad: str) -> tuple[list[str], bool]:
        """Lines checking ``x`` (converted value left in ``x``), and whether ``x`` changed: an
        unchanged value (text, numbers, containers converted in place) is not stored back."""
        kind = shape.type_name
        if isinstance(shape, StructureShape | ListShape | MapShape):
            if isinstance(shape, StructureShape) and shape.is_document_type:
                return [f"{pad}pass"], False  # read unchanged, never checked
            call = f"{self._function(shape)}(x, d + 1)"
            if _in_place(shape):
                return [f"{pad}{call}"], False
            return [f"{pad}x = {call}"], True
        if kind in ("string", "character"):
            return [f"{pad}if x.__class__ is not str: raise R", *self._string(shape, pad)], False
        if kind in _INT_KINDS:
            return [f"{pad}if x.__class__ is not int: raise R", *self._range(shape, pad)], False
        if kind in _FLOAT_KINDS:
            lines = [
                f"{pad}if x.__class__ is float: pass",
                f"{pad}elif x.__class__ is int: x = float(x)",
                f"{pad}elif x.__class__ is str and x in SPECIAL: x = TF(x)",
                f"{pad}else: raise R",
                *self._range(shape, pad),
            ]
            return lines, True
        if kind == "boolean":
            return [f"{pad}if x.__class__ is not bool: raise R"], False
        if kind == "blob":
            # b64decode(validate=True) is exactly a2b_base64(strict_mode=True); text the
            # general reader still accepts (wrapped lines) is rejected here and read there.
            lines = [
                f"{pad}if x.__class__ is not str: raise R",
                f"{pad}x = A2B(x, strict_mode=True)",
                *self._size(shape, "len(x)", pad),
            ]
            return lines, True
        if kind == "timestamp":
            return [f"{pad}x = PT(x)"], True
        raise _Unsupported(kind)

    def _string(self, shape: Shape, pad: str, var: str = "x") -> list[str]:
        """The validator's string rules (enum, length, pattern); ``character`` has none."""
        if shape.type_name != "string":
            return []
        lines: list[str] = []
        meta = shape.metadata
        enum = meta.get("enum")
        if enum and self._check_enums:
            lines.append(f"{pad}if {var} not in {self._const(frozenset(enum))}: raise R")
        lines.extend(self._size(shape, f"len({var})", pad))
        text = meta.get("pattern")
        pattern = compile_pattern(text) if text else None
        if pattern is not None:
            lines.append(f"{pad}if {self._const(pattern.fullmatch)}({var}) is None: raise R")
        return lines

    def _key(self, shape: Shape, pad: str) -> list[str]:
        """Map keys are JSON object keys (always text): checked, never converted."""
        if shape.type_name == "string":
            return self._string(shape, pad, "k")
        if shape.type_name == "character":
            return []
        return [f"{pad}raise R"]  # the validator's type check fails for any text key

    def _range(self, shape: Shape, pad: str) -> list[str]:
        if shape.type_name not in _RANGED:
            return []
        lines = []
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None:
            lines.append(f"{pad}if x < {self._const(low)}: raise R")
        if high is not None:
            lines.append(f"{pad}if x > {self._const(high)}: raise R")
        return lines

    def _size(self, shape: Shape, size: str, pad: str) -> list[str]:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        lines = []
        if low is not None:
            lines.append(f"{pad}if {size} < {self._const(low)}: raise R")
        if high is not None:
            lines.append(f"{pad}if {size} > {self._const(high)}: raise R")
        return lines
