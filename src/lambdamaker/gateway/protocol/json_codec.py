"""JSON bodies (``json`` and ``rest-json``): shapes compiled into reader and writer closures.

A reader turns the ``orjson.loads`` tree into params: it checks each value's JSON type against
its shape (raising ``BadValue``), renames ``locationName`` keys to member names, decodes blobs
and timestamps, and drops unknown keys and nulls. A writer does the reverse for results.

Closures are compiled once per shape (``memo.ShapeMemo``; recursive shapes go through a
forwarding cell), so a request costs one dict lookup and one call per value, and no reflection
on botocore shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.memo import ShapeMemo
from lambdamaker.gateway.protocol.models import shape_key, timestamp_format, wire_name
from lambdamaker.gateway.protocol.values import BadValue

Fn = Callable[[Any], Any]


# --- readers -------------------------------------------------------------------------------------


def _read_string(value: Any) -> Any:
    if value.__class__ is str:
        return value
    raise BadValue("String", value)


def _read_int(value: Any) -> Any:
    if value.__class__ is int:
        return value
    raise BadValue("Integer", value)


def _read_float(value: Any) -> Any:
    cls = value.__class__
    if cls is float:
        return value
    if cls is int:
        return float(value)
    if cls is str and value in ("NaN", "Infinity", "-Infinity"):
        return values.text_to_float(value)
    raise BadValue("Double", value)


def _read_bool(value: Any) -> Any:
    if value.__class__ is bool:
        return value
    raise BadValue("Boolean", value)


def _identity(value: Any) -> Any:
    return value


_SCALAR_READERS: dict[str, Fn] = {
    "string": _read_string,
    "character": _read_string,
    "integer": _read_int,
    "long": _read_int,
    "short": _read_int,
    "byte": _read_int,
    "float": _read_float,
    "double": _read_float,
    "bigdecimal": _read_float,
    "boolean": _read_bool,
    "blob": values.decode_base64,
    "timestamp": values.parse_timestamp,
}


class JsonReaders:
    """Compiles and caches readers for one service model."""

    def __init__(self) -> None:
        self._memo: ShapeMemo[Fn] = ShapeMemo()

    def reader(self, shape: Shape) -> Fn:
        scalar = _SCALAR_READERS.get(shape.type_name)
        if scalar is not None:
            return scalar
        return self._memo.get_or_compile(shape_key(shape), lambda: self._compile(shape))

    def body_reader(self, shape: StructureShape) -> Fn:
        """Top-level input of rest-json: members bound to the URI, query or headers are skipped."""
        return self._struct(shape, skip_located=True)

    def _compile(self, shape: Shape) -> Fn:
        if isinstance(shape, StructureShape):
            if shape.is_document_type:
                return _identity
            return self._struct(shape, skip_located=False)
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        return _identity  # unknown scalar kinds pass through untouched

    def _struct(self, shape: StructureShape, *, skip_located: bool) -> Fn:
        members: dict[str, tuple[str, Fn]] = {}
        for name, member in shape.members.items():
            if skip_located and member.serialization.get("location"):
                continue
            members[wire_name(member, name)] = (name, self.reader(member))

        def read_struct(value: Any) -> Any:
            if value.__class__ is not dict:
                raise BadValue("Structure", value)
            out = {}
            for key, raw in value.items():
                spec = members.get(key)
                if spec is None or raw is None:
                    continue
                name, read = spec
                try:
                    out[name] = read(raw)
                except BadValue as exc:
                    exc.path.append(name)
                    raise
            return out

        return read_struct

    def _list(self, shape: ListShape) -> Fn:
        read = self.reader(shape.member)

        def read_list(value: Any) -> Any:
            if value.__class__ is not list:
                raise BadValue("List", value)
            out: list[Any] = []
            for index, item in enumerate(value, 1):
                if item is None:
                    out.append(None)
                    continue
                try:
                    out.append(read(item))
                except BadValue as exc:
                    exc.path.append(f"{index}.member")
                    raise
            return out

        return read_list

    def _map(self, shape: MapShape) -> Fn:
        read = self.reader(shape.value)

        def read_map(value: Any) -> Any:
            if value.__class__ is not dict:
                raise BadValue("Map", value)
            out = {}
            for key, item in value.items():
                if item is None:
                    continue
                try:
                    out[key] = read(item)
                except BadValue as exc:
                    exc.path.append(str(key))
                    raise
            return out

        return read_map


# --- writers -------------------------------------------------------------------------------------


def _blob_writer(value: Any) -> Any:
    return values.encode_base64(value)


class JsonWriters:
    """Compiles and caches writers (result value -> JSON-ready value) for one service model.

    ``writer`` returns None for shapes whose values go to ``orjson`` unchanged (strings,
    integers, booleans, documents, and lists/maps of those). A writer returns its argument
    itself when it would change nothing (no null or unknown member to drop, no blob or
    timestamp to encode, no renamed member), so a result is copied only where it differs from
    its JSON form; the provider's value is never modified.
    """

    def __init__(self, default_timestamp: str = values.UNIX) -> None:
        self._default_ts = default_timestamp
        self._memo: ShapeMemo[Fn | None] = ShapeMemo()

    def writer(self, shape: Shape) -> Fn | None:
        kind = shape.type_name
        if kind in ("string", "character", "integer", "long", "short", "byte", "boolean"):
            return None
        if kind in ("float", "double", "bigdecimal"):
            return values.json_float
        if kind == "blob":
            return _blob_writer
        if kind == "timestamp":
            fmt = timestamp_format(shape, self._default_ts)
            return lambda value: values.format_timestamp(value, fmt)
        return self._memo.get_or_compile(shape_key(shape), lambda: self._compile(shape))

    def struct_writer(self, shape: StructureShape, *, skip: frozenset[str] = frozenset()) -> Fn:
        """``skip``: member locations written elsewhere (headers, status code)."""
        members: dict[str, tuple[str, Fn | None]] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location") in skip:
                continue
            members[name] = (wire_name(member, name), self.writer(member))
        # Members written as they are: a result holding only those (and no null) is itself
        # its JSON form, which two C-level checks tell without a loop.
        plain = frozenset(n for n, (wire, write) in members.items() if wire == n and not write)

        def write_struct(value: Any) -> Any:
            if value.__class__ is dict and value.keys() <= plain and None not in value.values():
                return value
            out: dict[str, Any] | None = None
            for key, item in value.items():
                spec = members.get(key)
                if spec is None or item is None:
                    if out is None:
                        out = _prefix(value, key)
                    continue
                wire, write = spec
                new = item if write is None else write(item)
                if out is not None:
                    out[wire] = new
                elif new is not item or wire != key:
                    out = _prefix(value, key)
                    out[wire] = new
            if out is None and value.__class__ is dict:
                return value  # nothing to change: the result itself goes to orjson
            return out if out is not None else dict(value)

        return write_struct

    def _plain_members(self, shape: Shape) -> frozenset[str] | None:
        """For a structure whose members are all written as they are: their names."""
        if not isinstance(shape, StructureShape) or shape.is_document_type:
            return None
        for name, member in shape.members.items():
            if wire_name(member, name) != name or self.writer(member) is not None:
                return None
        return frozenset(shape.members)

    def _compile(self, shape: Shape) -> Fn | None:
        if isinstance(shape, StructureShape):
            if shape.is_document_type:
                return None
            return self.struct_writer(shape)
        if isinstance(shape, ListShape):
            item_writer = self.writer(shape.member)
            if item_writer is None:
                return None
            return _list_writer(item_writer, self._plain_members(shape.member))
        if isinstance(shape, MapShape):
            value_writer = self.writer(shape.value)
            if value_writer is None:
                return None
            return _map_writer(value_writer)
        return None


def _prefix(value: dict[str, Any], stop: str) -> dict[str, Any]:
    """The items of ``value`` before key ``stop``: those a writer found unchanged so far."""
    out = {}
    for key, item in value.items():
        if key == stop:
            break
        out[key] = item
    return out


def _list_writer(write_item: Fn, plain: frozenset[str] | None) -> Fn:
    """``plain``: the items are structures written as they are when they hold only these
    members (none null); tested here, without a call per item (PutRecords: 500 entries)."""

    def write_list(value: Any) -> Any:
        if plain is not None and value.__class__ is list:
            for item in value:
                if item is not None and (
                    item.__class__ is not dict or not item.keys() <= plain or None in item.values()
                ):
                    break
            else:
                return value
        if value.__class__ is not list:
            return [None if v is None else write_item(v) for v in value]
        for index, item in enumerate(value):
            if item is None:
                continue
            new = write_item(item)
            if new is not item:
                out = value[:index]
                out.append(new)
                out.extend(None if v is None else write_item(v) for v in value[index + 1 :])
                return out
        return value

    return write_list


def _map_writer(write_value: Fn) -> Fn:
    def write_map(value: Any) -> Any:
        out: dict[str, Any] | None = None
        for key, item in value.items():
            if item is None:
                if out is None:
                    out = _prefix(value, key)
                continue
            new = write_value(item)
            if out is not None:
                out[key] = new
            elif new is not item:
                out = _prefix(value, key)
                out[key] = new
        if out is None and value.__class__ is dict:
            return value
        return out if out is not None else dict(value)

    return write_map
