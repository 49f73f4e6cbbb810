"""Params checked against the model's constraints, reported the way AWS reports them.

Checked: required members, value types, string enums, ``min``/``max`` (length for strings,
blobs, lists and maps; value for numbers) and ``pattern`` (see ``patterns``). All violations
are collected and reported at once, in AWS's words::

    2 validation errors detected: Value null at 'functionName' failed to satisfy constraint:
    Member must not be null; Value '0' at 'memorySize' failed to satisfy constraint: Member
    must have value greater than or equal to 128

Paths use AWS's spelling: member names with a lower-case first letter, list items as
``name.N.member``. Values of members marked ``sensitive`` are not echoed. The error code comes
from ``codes`` (``ValidationException``, ``ValidationError``, S3's ``InvalidArgument``).

Checks are compiled per shape into closures, like the codecs, and cached per operation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.gateway.protocol.codes import ErrorCodes
from lambdamaker.gateway.protocol.memo import ShapeMemo
from lambdamaker.gateway.protocol.models import shape_key
from lambdamaker.gateway.protocol.patterns import compile_pattern

Check = Callable[[Any, str, list[str]], None]
"""check(value, path, problems): appends one message per violation."""

MAX_REPORTED = 10


def aws_name(member: str) -> str:
    return member[:1].lower() + member[1:]


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, bytes | bytearray | Body):
        return "java.nio.HeapByteBuffer"
    return str(value)


def _problem(value: Any, path: str, rule: str, sensitive: bool) -> str:
    where = f" at '{path}'" if path else ""
    if sensitive:
        return f"Value{where} failed to satisfy constraint: {rule}"
    if value is None:
        return f"Value null{where} failed to satisfy constraint: {rule}"
    return f"Value '{_shown(value)}'{where} failed to satisfy constraint: {rule}"


class Validator:
    def __init__(self, codes: ErrorCodes) -> None:
        self._code, self._status = codes.validation
        self._check_enums = codes.check_enums
        self._plans: dict[str, Check | None] = {}
        self._memo: ShapeMemo[Check] = ShapeMemo()

    def validate(self, operation: OperationModel, params: dict[str, Any]) -> None:
        name = operation.name
        if name in self._plans:
            check = self._plans[name]
        else:
            shape = operation.input_shape
            check = self._plans[name] = self.check(shape) if shape is not None else None
        if check is None:
            return
        problems: list[str] = []
        try:
            check(params, "", problems)
        except RecursionError:
            problems.append("Value at '' failed to satisfy constraint: Member nests too deeply")
        if problems:
            count = len(problems)
            head = f"{count} validation error{'s' if count > 1 else ''} detected: "
            raise ServiceError(
                head + "; ".join(problems[:MAX_REPORTED]), code=self._code, status=self._status
            )

    def check(self, shape: Shape) -> Check:
        return self._memo.get_or_compile(shape_key(shape), lambda: self._compile(shape))

    def _compile(self, shape: Shape) -> Check:
        if isinstance(shape, StructureShape):
            if shape.is_document_type:
                return _no_check
            return self._struct(shape)
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        return _scalar(shape, self._check_enums)

    def _struct(self, shape: StructureShape) -> Check:
        members = {name: (aws_name(name), self.check(m)) for name, m in shape.members.items()}
        required = [(name, aws_name(name)) for name in shape.required_members]
        sensitive = bool(shape.metadata.get("sensitive"))

        def check_struct(value: Any, path: str, problems: list[str]) -> None:
            if not isinstance(value, dict):
                problems.append(_problem(value, path, "Member must be a structure", sensitive))
                return
            prefix = f"{path}." if path else ""
            for name, wire in required:
                if value.get(name) is None:
                    problems.append(_problem(None, prefix + wire, "Member must not be null", False))
            for name, item in value.items():
                spec = members.get(name)
                if spec is not None and item is not None:
                    spec[1](item, prefix + spec[0], problems)

        return check_struct

    def _list(self, shape: ListShape) -> Check:
        item_check = self.check(shape.member)
        size = _size_check(shape)
        sensitive = bool(shape.metadata.get("sensitive"))

        def check_list(value: Any, path: str, problems: list[str]) -> None:
            if not isinstance(value, list | tuple):
                problems.append(_problem(value, path, "Member must be a list", sensitive))
                return
            if size is not None:
                size(value, len(value), path, problems)
            for index, item in enumerate(value, 1):
                if item is not None:
                    item_check(item, f"{path}.{index}.member", problems)

        return check_list

    def _map(self, shape: MapShape) -> Check:
        key_check = self.check(shape.key)
        value_check = self.check(shape.value)
        size = _size_check(shape)
        sensitive = bool(shape.metadata.get("sensitive"))

        def check_map(value: Any, path: str, problems: list[str]) -> None:
            if not isinstance(value, dict):
                problems.append(_problem(value, path, "Member must be a map", sensitive))
                return
            if size is not None:
                size(value, len(value), path, problems)
            for key, item in value.items():
                inner: list[str] = []
                key_check(key, "", inner)
                if inner:
                    rules = ", ".join(p.split("constraint: ", 1)[-1] for p in inner)
                    problems.append(
                        _problem(key, path, f"Map keys must satisfy constraint: [{rules}]", False)
                    )
                if item is not None:
                    value_check(item, f"{path}.{key}", problems)

        return check_map


def _no_check(value: Any, path: str, problems: list[str]) -> None:
    return None


_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "Member must be a string"),
    "character": (lambda v: isinstance(v, str), "Member must be a string"),
    "integer": (
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Member must be an integer",
    ),
    "long": (lambda v: isinstance(v, int) and not isinstance(v, bool), "Member must be a long"),
    "float": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Member must be a number",
    ),
    "double": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Member must be a number",
    ),
    "boolean": (lambda v: isinstance(v, bool), "Member must be a boolean"),
    "blob": (lambda v: isinstance(v, bytes | bytearray | Body), "Member must be a blob"),
    "timestamp": (lambda v: isinstance(v, datetime), "Member must be a timestamp"),
}


def _size_check(shape: Shape) -> Callable[[Any, int, str, list[str]], None] | None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is None and high is None:
        return None
    sensitive = bool(shape.metadata.get("sensitive"))

    def check_size(value: Any, size: int, path: str, problems: list[str]) -> None:
        if low is not None and size < low:
            rule = f"Member must have length greater than or equal to {low}"
            problems.append(_problem(value, path, rule, sensitive))
        elif high is not None and size > high:
            rule = f"Member must have length less than or equal to {high}"
            problems.append(_problem(value, path, rule, sensitive))

    return check_size


def _scalar(shape: Shape, check_enums: bool = True) -> Check:
    kind = shape.type_name
    type_check = _TYPES.get(kind)
    meta = shape.metadata
    sensitive = bool(meta.get("sensitive"))
    enum = meta.get("enum") if kind == "string" and check_enums else None
    allowed = frozenset(enum) if enum else None
    enum_rule = f"Member must satisfy enum value set: [{', '.join(enum)}]" if enum else ""
    pattern_text = meta.get("pattern") if kind == "string" else None
    pattern = compile_pattern(pattern_text) if pattern_text else None
    size = _size_check(shape) if kind in ("string", "blob") else None
    low = meta.get("min") if kind in ("integer", "long", "float", "double") else None
    high = meta.get("max") if kind in ("integer", "long", "float", "double") else None

    def check_scalar(value: Any, path: str, problems: list[str]) -> None:
        if type_check is not None and not type_check[0](value):
            problems.append(_problem(value, path, type_check[1], sensitive))
            return
        if allowed is not None and value not in allowed:
            problems.append(_problem(value, path, enum_rule, sensitive))
        if size is not None:
            length = value.size if isinstance(value, Body) else len(value)
            size(value, length, path, problems)
        if pattern is not None and pattern.fullmatch(value) is None:
            rule = f"Member must satisfy regular expression pattern: {pattern_text}"
            problems.append(_problem(value, path, rule, sensitive))
        if low is not None and value < low:
            rule = f"Member must have value greater than or equal to {low}"
            problems.append(_problem(value, path, rule, sensitive))
        elif high is not None and value > high:
            rule = f"Member must have value less than or equal to {high}"
            problems.append(_problem(value, path, rule, sensitive))

    return check_scalar
