"""``query`` request parameters (``Tags.member.1.Key=a``) into params, compiled per shape.

The flat form keys are first folded into a tree on their dots (``{"Tags": {"member": {"1":
{"Key": {None: "a"}}}}}``; the value of a key sits under ``None``). Compiled readers then walk
the tree along the shape: structures by member name, lists by ``member.N`` (or ``N`` when
flattened), maps by ``entry.N.key``/``entry.N.value``, all names overridable by the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.memo import ShapeMemo
from lambdamaker.gateway.protocol.models import is_flattened, shape_key
from lambdamaker.gateway.protocol.values import BadValue

Node = dict[Any, Any]
Reader = Callable[[Node], Any]


def build_tree(pairs: list[tuple[str, str]]) -> Node:
    root: Node = {}
    for key, value in pairs:
        node = root
        for part in key.split("."):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[None] = value
    return root


def _leaf(node: Node) -> str:
    value = node.get(None)
    if value is None:
        raise BadValue("a value", "")
    return str(value)


def _scalar_reader(shape: Shape) -> Reader | None:
    kind = shape.type_name
    if kind in ("string", "character"):
        return _leaf
    if kind in ("integer", "long", "short", "byte"):
        return lambda n: values.text_to_int(_leaf(n))
    if kind in ("float", "double", "bigdecimal"):
        return lambda n: values.text_to_float(_leaf(n))
    if kind == "boolean":
        return lambda n: values.text_to_bool(_leaf(n))
    if kind == "blob":
        return lambda n: values.decode_base64(_leaf(n))
    if kind == "timestamp":
        return lambda n: values.parse_timestamp(_leaf(n))
    return None


def _numbered(node: Node) -> list[Node]:
    """Children ``1``, ``2``... of a list or map node, in numeric order."""
    items: list[tuple[int, Node]] = []
    for key, child in node.items():
        if key is None:
            continue
        if not key.isdigit():
            raise BadValue("a list index", key)
        items.append((int(key), child))
    items.sort(key=lambda pair: pair[0])
    return [child for _, child in items]


class QueryReaders:
    def __init__(self) -> None:
        self._memo: ShapeMemo[Reader] = ShapeMemo()

    def reader(self, shape: Shape) -> Reader:
        scalar = _scalar_reader(shape)
        if scalar is not None:
            return scalar
        return self._memo.get_or_compile(shape_key(shape), lambda: self._compile(shape))

    def _compile(self, shape: Shape) -> Reader:
        if isinstance(shape, StructureShape):
            return self._struct(shape)
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        return _leaf

    def _struct(self, shape: StructureShape) -> Reader:
        members: dict[str, tuple[str, Reader]] = {}
        for name, member in shape.members.items():
            wire = str(member.serialization.get("name", name))
            if isinstance(member, ListShape) and is_flattened(member):
                # botocore names a flattened list by its member's locationName when it has one.
                wire = str(member.member.serialization.get("name", wire))
            members[wire] = (name, self.reader(member))

        def read_struct(node: Node) -> Any:
            out = {}
            for key, child in node.items():
                spec = members.get(key)
                if spec is None:
                    continue
                name, read = spec
                try:
                    out[name] = read(child)
                except BadValue as exc:
                    exc.path.append(name)
                    raise
            return out

        return read_struct

    def _list(self, shape: ListShape) -> Reader:
        read = self.reader(shape.member)
        flat = is_flattened(shape)
        item_name = str(shape.member.serialization.get("name", "member"))

        def read_list(node: Node) -> Any:
            container = node if flat else node.get(item_name)
            if container is None:
                if len(node) == 1 and node.get(None) == "":
                    return []  # ``Name=`` is how the query protocol sends an empty list
                raise BadValue("List", _leaf_or_empty(node))
            out = []
            for index, child in enumerate(_numbered(container), 1):
                try:
                    out.append(read(child))
                except BadValue as exc:
                    exc.path.append(f"{index}.member")
                    raise
            return out

        return read_list

    def _map(self, shape: MapShape) -> Reader:
        read_key = self.reader(shape.key)
        read_value = self.reader(shape.value)
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        flat = is_flattened(shape)

        def read_map(node: Node) -> Any:
            container = node if flat else node.get("entry")
            if container is None:
                if len(node) == 1 and node.get(None) == "":
                    return {}
                raise BadValue("Map", _leaf_or_empty(node))
            out = {}
            for entry in _numbered(container):
                key_node = entry.get(key_name)
                if key_node is None:
                    raise BadValue("Map entry", key_name)
                value_node = entry.get(value_name)
                key = read_key(key_node)
                try:
                    out[key] = read_value(value_node) if value_node is not None else None
                except BadValue as exc:
                    exc.path.append(str(key))
                    raise
            return out

        return read_map


def _leaf_or_empty(node: Node) -> str:
    value = node.get(None)
    return "" if value is None else str(value)
