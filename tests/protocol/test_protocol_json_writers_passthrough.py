"""JSON writers that hand unchanged results to orjson as they are, against the copying writers
they replaced: the same bytes on the wire for random results of every output shape of several
JSON services, and the provider's result never modified."""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

from lambdamaker.gateway.protocol import ServiceProtocol, values
from lambdamaker.gateway.protocol.json_codec import JsonWriters
from lambdamaker.gateway.protocol.memo import ShapeMemo
from lambdamaker.gateway.protocol.models import shape_key, timestamp_format, wire_name

SERVICES = ("dynamodb", "kinesis", "sqs", "logs", "lambda", "stepfunctions", "events")

Fn = Callable[[Any], Any]


class CopyingWriters:
    """The writers as they were (json_codec before the pass-through): every structure, list
    and map with something to write is rebuilt."""

    def __init__(self) -> None:
        self._memo: ShapeMemo[Fn | None] = ShapeMemo()

    def writer(self, shape: Shape) -> Fn | None:
        kind = shape.type_name
        if kind in ("string", "character", "integer", "long", "short", "byte", "boolean"):
            return None
        if kind in ("float", "double", "bigdecimal"):
            return values.json_float
        if kind == "blob":
            return values.encode_base64
        if kind == "timestamp":
            fmt = timestamp_format(shape, values.UNIX)
            return lambda value: values.format_timestamp(value, fmt)
        return self._memo.get_or_compile(shape_key(shape), lambda: self._compile(shape))

    def struct_writer(self, shape: StructureShape) -> Fn:
        members = {name: (wire_name(m, name), self.writer(m)) for name, m in shape.members.items()}

        def write_struct(value: Any) -> Any:
            out = {}
            for key, item in value.items():
                spec = members.get(key)
                if spec is None or item is None:
                    continue
                wire, write = spec
                out[wire] = item if write is None else write(item)
            return out

        return write_struct

    def _compile(self, shape: Shape) -> Fn | None:
        if isinstance(shape, StructureShape):
            return None if shape.is_document_type else self.struct_writer(shape)
        if isinstance(shape, ListShape):
            item = self.writer(shape.member)
            if item is None:
                return None
            write_item = item
            return lambda value: [None if v is None else write_item(v) for v in value]
        if isinstance(shape, MapShape):
            item = self.writer(shape.value)
            if item is None:
                return None
            write_value = item
            return lambda value: {k: write_value(v) for k, v in value.items() if v is not None}
        return None


def result_for(shape: Shape, rng: random.Random, depth: int = 0) -> Any:
    """A provider-convention value for ``shape``, sometimes with nulls and unknown keys."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if shape.is_document_type:
            return {"any": [1, None]}
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if depth < 4 and rng.random() < 0.5:
                out[name] = None if rng.random() < 0.1 else result_for(member, rng, depth + 1)
        if rng.random() < 0.1:
            out["NotAMember"] = "x"
        return out
    if isinstance(shape, ListShape):
        items = [result_for(shape.member, rng, depth + 1) for _ in range(rng.randint(0, 3))]
        if items and rng.random() < 0.1:
            items[rng.randrange(len(items))] = None
        return tuple(items) if rng.random() < 0.05 else items
    if isinstance(shape, MapShape):
        out = {f"k{i}": result_for(shape.value, rng, depth + 1) for i in range(rng.randint(0, 3))}
        if out and rng.random() < 0.1:
            out["knull"] = None
        return out
    if kind in ("string", "character"):
        return rng.choice(["a", "", "é"])
    if kind in ("integer", "long", "short", "byte"):
        return rng.randint(-5, 5)
    if kind in ("float", "double", "bigdecimal"):
        return rng.choice([1.5, 2, math.nan, math.inf, -math.inf, 0.0])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "blob":
        return rng.choice([b"", b"\x00\xff", bytearray(b"ab")])
    if kind == "timestamp":
        return datetime(2024, 1, 2, 3, 4, 5, rng.choice([0, 123000]), tzinfo=UTC)
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_writers_give_the_same_json_and_leave_results_alone(service: str) -> None:
    model = ServiceProtocol.for_service(service).service_model
    rng = random.Random(f"writers-{service}")
    new, old = JsonWriters(), CopyingWriters()
    passed_through = 0
    for name in model.operation_names:
        shape = model.operation_model(name).output_shape
        if shape is None:
            continue
        write_new, write_old = new.struct_writer(shape), old.struct_writer(shape)
        for _ in range(15):
            result = result_for(shape, rng)
            before = pickle.dumps(result)
            written = write_new(result)
            assert pickle.dumps(result) == before, name
            expected = orjson.dumps(write_old(result))
            assert orjson.dumps(written) == expected, (name, result)
            passed_through += written is result
    assert passed_through


class Record(Mapping[str, Any]):
    """A result structure that is a mapping but not a dict (orjson would refuse it)."""

    def __init__(self, **items: Any) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def test_renamed_members_and_mappings_are_rewritten() -> None:
    model = ServiceModel(
        {
            "metadata": {"protocol": "rest-json"},
            "operations": {},
            "shapes": {
                "Out": {"type": "structure", "members": {"items": {"shape": "Items"}}},
                "Items": {"type": "list", "member": {"shape": "Item"}},
                "Item": {
                    "type": "structure",
                    "members": {
                        "Name": {"shape": "Str", "locationName": "name"},
                        "Other": {"shape": "Str"},
                    },
                },
                "Plain": {"type": "list", "member": {"shape": "PlainItem"}},
                "PlainItem": {"type": "structure", "members": {"Other": {"shape": "Str"}}},
                "Str": {"type": "string"},
            },
        },
        "made-up",
    )
    writers = JsonWriters()
    write = writers.struct_writer(model.shape_for("Out"))
    result = {"items": [{"Name": "a", "Other": "b"}]}
    assert orjson.dumps(write(result)) == b'{"items":[{"name":"a","Other":"b"}]}'
    plain_list = writers.writer(model.shape_for("Plain"))
    assert plain_list is not None
    as_dicts = [{"Other": "x"}, None]
    assert plain_list(as_dicts) is as_dicts
    assert orjson.dumps(plain_list([Record(Other="x"), None])) == b'[{"Other":"x"},null]'
