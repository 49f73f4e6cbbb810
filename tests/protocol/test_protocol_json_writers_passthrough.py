"""JSON writers that hand unchanged results to orjson as they are, against the copying writers
they replaced: the same bytes on the wire for random results of every output shape of several
JSON services, and the provider's result never modified."""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
import pytest
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from protocol_results_support import result_for

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
            result = result_for(shape, rng, 0.1)
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
