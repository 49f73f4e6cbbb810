"""XML bodies (``rest-xml`` requests and responses, ``query`` responses), compiled per shape.

Reading: the body is parsed by ``xml.etree.ElementTree`` after refusing any DOCTYPE (so no
entity expansion, external or internal, can happen), then walked by compiled readers. Element
names are compared without their namespace, as botocore does.

Writing: compiled writers append text fragments to a list which is joined once; there is no
intermediate tree. Names, namespaces and the flattened/wrapped forms of lists and maps follow
the model (``locationName``, ``xmlNamespace``, ``flattened``, ``xmlAttribute``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.memo import ShapeMemo
from lambdamaker.gateway.protocol.models import is_flattened, shape_key, timestamp_format
from lambdamaker.gateway.protocol.values import BadValue

Element = ElementTree.Element
Reader = Callable[[Element], Any]
Writer = Callable[[Any, list[str]], None]

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class MalformedXml(Exception):
    """The body is not well-formed XML, or declares a DOCTYPE."""


def parse_xml(body: bytes) -> Element:
    if _DOCTYPE.search(body):
        raise MalformedXml("DOCTYPE declarations are not allowed")
    try:
        parser = ElementTree.XMLParser()
        parser.feed(body)
        return parser.close()
    except ElementTree.ParseError as exc:
        raise MalformedXml(str(exc)) from None


def local_name(tag: str) -> str:
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def _text(elem: Element) -> str:
    return elem.text or ""


# --- readers -------------------------------------------------------------------------------------


def _scalar_reader(shape: Shape) -> Reader | None:
    kind = shape.type_name
    if kind in ("string", "character"):
        return _text
    if kind in ("integer", "long", "short", "byte"):
        return lambda e: values.text_to_int(_text(e))
    if kind in ("float", "double", "bigdecimal"):
        return lambda e: values.text_to_float(_text(e).strip())
    if kind == "boolean":
        return lambda e: values.text_to_bool(_text(e).strip())
    if kind == "blob":
        return lambda e: values.decode_base64(_text(e))
    if kind == "timestamp":
        return lambda e: values.parse_timestamp(_text(e))
    return None


def _attribute(elem: Element, qualified: str) -> str | None:
    """``xsi:type`` matches ``{http://www.w3.org/2001/XMLSchema-instance}type`` and ``type``."""
    local = qualified.rsplit(":", 1)[-1]
    for key, value in elem.attrib.items():
        if key == qualified or local_name(key) == local:
            return value
    return None


class XmlReaders:
    def __init__(self) -> None:
        self._memo: ShapeMemo[Reader] = ShapeMemo()

    def reader(self, shape: Shape) -> Reader:
        scalar = _scalar_reader(shape)
        if scalar is not None:
            return scalar
        return self._memo.get_or_compile(shape_key(shape), lambda: self._compile(shape))

    def body_reader(self, shape: StructureShape) -> Reader:
        return self._struct(shape, skip_located=True)

    def _compile(self, shape: Shape) -> Reader:
        if isinstance(shape, StructureShape):
            return self._struct(shape, skip_located=False)
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        return _text

    def _struct(self, shape: StructureShape, *, skip_located: bool) -> Reader:
        # wire name -> (member name, reader, how): 0 one element, 1 a flattened list item,
        # 2 a flattened map entry (reader returns a (key, value) pair).
        children: dict[str, tuple[str, Callable[[Element], Any], int]] = {}
        aliases: list[tuple[str, tuple[str, Callable[[Element], Any], int]]] = []
        attributes: list[tuple[str, str]] = []
        for name, member in shape.members.items():
            ser = member.serialization
            if skip_located and ser.get("location"):
                continue
            if ser.get("xmlAttribute"):
                attributes.append((name, str(ser.get("name", name))))
                continue
            wire = str(ser.get("name", name))
            if isinstance(member, ListShape) and is_flattened(member):
                # botocore writes flattened list items under the member's name but reads them
                # under the list member's locationName; accept both spellings.
                item_reader = self.reader(member.member)
                children[wire] = (name, item_reader, 1)
                alias = member.member.serialization.get("name")
                if alias:
                    aliases.append((str(alias), (name, item_reader, 1)))
            elif isinstance(member, MapShape) and is_flattened(member):
                children[wire] = (name, self._map_entry(member), 2)
            else:
                children[wire] = (name, self.reader(member), 0)
        for alias, spec in aliases:
            children.setdefault(alias, spec)

        def read_struct(elem: Element) -> Any:
            out: dict[str, Any] = {}
            for child in elem:
                spec = children.get(local_name(child.tag))
                if spec is None:
                    continue
                name, read, how = spec
                try:
                    value = read(child)
                except BadValue as exc:
                    exc.path.append(name)
                    raise
                if how == 0:
                    out[name] = value
                elif how == 1:
                    out.setdefault(name, []).append(value)
                else:
                    out.setdefault(name, {})[value[0]] = value[1]
            for name, qualified in attributes:
                found = _attribute(elem, qualified)
                if found is not None:
                    out[name] = found
            return out

        return read_struct

    def _list(self, shape: ListShape) -> Reader:
        read = self.reader(shape.member)

        def read_list(elem: Element) -> Any:
            out = []
            for index, child in enumerate(elem, 1):
                try:
                    out.append(read(child))
                except BadValue as exc:
                    exc.path.append(f"{index}.member")
                    raise
            return out

        return read_list

    def _map_entry(self, shape: MapShape) -> Callable[[Element], tuple[Any, Any]]:
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        read_key = self.reader(shape.key)
        read_value = self.reader(shape.value)

        def read_entry(entry: Element) -> tuple[Any, Any]:
            key: Any = None
            value: Any = None
            for part in entry:
                tag = local_name(part.tag)
                if tag == key_name:
                    key = read_key(part)
                elif tag == value_name:
                    value = read_value(part)
            if key is None:
                raise BadValue("Map entry", "")
            return key, value

        return read_entry

    def _map(self, shape: MapShape) -> Reader:
        read_entry = self._map_entry(shape)

        def read_map(elem: Element) -> Any:
            out = {}
            for entry in elem:
                key, value = read_entry(entry)
                out[key] = value
            return out

        return read_map


# --- writers -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text and attribute escaping. ``\r`` is kept as a reference, or parsers fold it away.

    Plain ``in`` tests beat a regex or ``str.translate`` on the short strings we mostly write.
    """
    if "&" in text or "<" in text or ">" in text or '"' in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text.replace('"', "&quot;").replace("\r", "&#13;")
    return text


def namespace_attr(shape: Shape) -> str:
    ns = shape.serialization.get("xmlNamespace")
    if not ns:
        return ""
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        attr = f"xmlns:{prefix}" if prefix else "xmlns"
        return f' {attr}="{escape(str(ns.get("uri", "")))}"'
    return f' xmlns="{escape(str(ns))}"'


def _string_text(value: Any) -> str:
    return escape(value if value.__class__ is str else str(value))


def _scalar_text(shape: Shape) -> Callable[[Any], str] | None:
    kind = shape.type_name
    if kind in ("string", "character"):
        return _string_text
    if kind in ("integer", "long", "short", "byte"):
        return lambda v: str(int(v))
    if kind in ("float", "double", "bigdecimal"):
        return lambda v: values.float_text(v)
    if kind == "boolean":
        return lambda v: "true" if v else "false"
    if kind == "blob":
        return values.encode_base64
    if kind == "timestamp":
        fmt = timestamp_format(shape, values.ISO8601)
        return lambda v: values.timestamp_text(v, fmt)
    return None


class XmlWriters:
    """``writer(shape, tag)`` -> ``fn(value, parts)`` appending ``<tag>...</tag>``."""

    def __init__(self) -> None:
        self._memo: ShapeMemo[Writer] = ShapeMemo()

    def writer(self, shape: Shape, tag: str, *, extra_attrs: str = "") -> Writer:
        text = _scalar_text(shape)
        open_tag = f"<{tag}{namespace_attr(shape)}{extra_attrs}>"
        close_tag = f"</{tag}>"
        if text is not None:
            convert = text

            def write_scalar(value: Any, parts: list[str]) -> None:
                parts.append(f"{open_tag}{convert(value)}{close_tag}")

            return write_scalar
        return self._memo.get_or_compile(
            (*shape_key(shape), tag, extra_attrs),
            lambda: self._compile(shape, tag, open_tag, close_tag),
        )

    def _compile(self, shape: Shape, tag: str, open_tag: str, close_tag: str) -> Writer:
        if isinstance(shape, StructureShape):
            return self.struct_writer(shape, tag, open_tag=open_tag, close_tag=close_tag)
        if isinstance(shape, ListShape):
            return self._list(shape, tag, open_tag, close_tag)
        if isinstance(shape, MapShape):
            return self._map(shape, tag, open_tag, close_tag)

        def write_unknown(value: Any, parts: list[str]) -> None:
            parts.append(open_tag)
            parts.append(escape(str(value)))
            parts.append(close_tag)

        return write_unknown

    def struct_writer(
        self,
        shape: StructureShape,
        tag: str,
        *,
        skip: frozenset[str] = frozenset(),
        members_only: bool = False,
        open_tag: str | None = None,
        close_tag: str | None = None,
        extra_attrs: str = "",
    ) -> Writer:
        """Writer of a structure's element.

        ``skip``: member locations written elsewhere (headers, status code), left out here.
        ``members_only``: write the members without the structure's own element.
        """
        children: dict[str, Writer] = {}
        attributes: dict[str, str] = {}
        for name, member in shape.members.items():
            ser = member.serialization
            if ser.get("location") in skip:
                continue
            if ser.get("xmlAttribute"):
                attributes[name] = str(ser.get("name", name))
                continue
            children[name] = self.writer(member, str(ser.get("name", name)))
        head = open_tag[:-1] if open_tag else f"<{tag}{namespace_attr(shape)}{extra_attrs}"
        tail = close_tag or f"</{tag}>"

        if members_only:

            def write_members(value: Any, parts: list[str]) -> None:
                for key, item in value.items():
                    write = children.get(key)
                    if write is not None and item is not None:
                        write(item, parts)

            return write_members

        def write_struct(value: Any, parts: list[str]) -> None:
            if attributes:
                attrs = "".join(
                    f' {wire}="{escape(str(value[name]))}"'
                    for name, wire in attributes.items()
                    if value.get(name) is not None
                )
                parts.append(f"{head}{attrs}>")
            else:
                parts.append(head + ">")
            for key, item in value.items():
                write = children.get(key)
                if write is not None and item is not None:
                    write(item, parts)
            parts.append(tail)

        return write_struct

    def _list(self, shape: ListShape, tag: str, open_tag: str, close_tag: str) -> Writer:
        member = shape.member
        if is_flattened(shape):
            item = self.writer(member, str(member.serialization.get("name", tag)))

            def write_flat(value: Any, parts: list[str]) -> None:
                for v in value:
                    item(v, parts)

            return write_flat
        wrapped = self.writer(member, str(member.serialization.get("name", "member")))

        def write_list(value: Any, parts: list[str]) -> None:
            parts.append(open_tag)
            for v in value:
                wrapped(v, parts)
            parts.append(close_tag)

        return write_list

    def _map(self, shape: MapShape, tag: str, open_tag: str, close_tag: str) -> Writer:
        write_key = self.writer(shape.key, str(shape.key.serialization.get("name", "key")))
        write_value = self.writer(shape.value, str(shape.value.serialization.get("name", "value")))
        if is_flattened(shape):
            entry_open, entry_close = open_tag, close_tag
        else:
            entry_open, entry_close = "<entry>", "</entry>"

        def write_entries(value: Any, parts: list[str]) -> None:
            for k, v in value.items():
                parts.append(entry_open)
                write_key(k, parts)
                if v is not None:
                    write_value(v, parts)
                parts.append(entry_close)

        if is_flattened(shape):
            return write_entries

        def write_map(value: Any, parts: list[str]) -> None:
            parts.append(open_tag)
            write_entries(value, parts)
            parts.append(close_tag)

        return write_map
