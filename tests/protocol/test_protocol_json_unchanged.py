"""The generated "already its JSON form" checks (json_unchanged) against the general writers
they sit in front of: for random results of every output shape of several JSON and rest-json
services, the fast writer gives the same bytes, says "unchanged" only when the general writer
returns the very same object, and never modifies the provider's result."""

from __future__ import annotations

import pickle
import random
from typing import Any

import orjson
import pytest
from protocol_results_support import result_for

from lambdamaker.gateway.protocol import ServiceProtocol
from lambdamaker.gateway.protocol.json_codec import JsonWriters
from lambdamaker.gateway.protocol.json_unchanged import UnchangedChecks, fast_writer
from lambdamaker.gateway.protocol.serializer import BOUND_LOCATIONS

SERVICES = (
    "dynamodb",
    "kinesis",
    "sqs",
    "logs",
    "lambda",
    "stepfunctions",
    "events",
    "apigatewayv2",
)


@pytest.mark.parametrize("service", SERVICES)
def test_fast_writers_give_the_general_writers_bytes(service: str) -> None:
    protocol = ServiceProtocol.for_service(service)
    model = protocol.service_model
    skip = BOUND_LOCATIONS if model.metadata["protocol"] == "rest-json" else frozenset()
    rng = random.Random(f"unchanged-{service}")
    writers = JsonWriters()
    checks = UnchangedChecks(writers)
    passed = rebuilt = 0
    for name in model.operation_names:
        shape = model.operation_model(name).output_shape
        if shape is None:
            continue
        general = writers.struct_writer(shape, skip=skip)
        fast = fast_writer(shape, general, checks, skip)
        for attempt in range(40):
            result = result_for(shape, rng, 0.0 if attempt % 2 else 0.08)
            before = pickle.dumps(result)
            written = fast(result)
            assert pickle.dumps(result) == before, name
            expected = general(result)
            assert orjson.dumps(written) == orjson.dumps(expected), (name, result)
            if written is result:
                assert expected is result, (name, result)
                passed += 1
            else:
                rebuilt += 1
    assert passed and rebuilt


def test_dynamodb_items_pass_through_unless_something_changes() -> None:
    model = ServiceProtocol.for_service("dynamodb").service_model
    shape = model.operation_model("Query").output_shape
    writers = JsonWriters()
    fast = fast_writer(shape, writers.struct_writer(shape), UnchangedChecks(writers))
    nested = {"M": {"a": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"b": {"NULL": True}}}]}}}
    plain = {"Count": 2, "ScannedCount": 2, "Items": [{"pk": {"S": "p"}, "n": nested}, {}]}
    assert fast(plain) is plain
    deep_blob = {"M": {"a": {"L": [{"M": {"b": {"L": [{"B": b"\x01"}]}}}]}}}
    for item in ({"b": {"B": b"\x00"}}, {"bs": {"BS": [b"a"]}}, {"d": deep_blob}, {"x": None}):
        result = {"Count": 1, "Items": [item]}
        written = fast(result)
        assert written is not result
        assert orjson.dumps(written) == orjson.dumps(writers.struct_writer(shape)(result))
    assert (
        orjson.dumps(fast({"Items": [{"b": {"B": b"\x00"}}]})) == b'{"Items":[{"b":{"B":"AA=="}}]}'
    )


def test_deep_recursion_falls_back_to_the_general_writer() -> None:
    model = ServiceProtocol.for_service("dynamodb").service_model
    shape = model.operation_model("GetItem").output_shape
    writers = JsonWriters()
    calls: list[Any] = []
    general = writers.struct_writer(shape)

    def counting(value: Any) -> Any:
        calls.append(value)
        return general(value)

    fast = fast_writer(shape, counting, UnchangedChecks(writers))
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(2000):
        value = {"L": [value]}
    result = {"Item": {"deep": value}}
    with pytest.raises(RecursionError):
        general(result)  # the general writer cannot write it either
    with pytest.raises(RecursionError):
        fast(result)
    assert len(calls) == 1  # the check gave up and handed over
