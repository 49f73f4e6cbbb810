"""The fused JSON read-and-validate path (``json_fused``) against the general path.

For every operation of several awsJson services, random request bodies are generated from the
input shape (valid ones, then ones with one mutation: a null, a wrong type, a value past
``min``/``max``, a bad enum, bad base64, an unknown key, a deep path...). Each body goes through

- the general path alone: ``JsonReaders`` then ``Validator`` (what the server did before);
- ``ServiceProtocol.parse`` + ``validate`` (fused path, general fallback);

and both must give the same params, or the same error code and message, byte for byte. The
fused function itself must accept exactly the bodies the general path finds valid, with the
same result.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from typing import Any

import orjson
import pytest
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    ServiceModel,
    Shape,
    StructureShape,
)

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import HttpRequest, ServiceProtocol
from lambdamaker.gateway.protocol.json_codec import JsonReaders
from lambdamaker.gateway.protocol.json_fused import MAX_DEPTH, Reject
from lambdamaker.gateway.protocol.parser import RequestParser
from lambdamaker.gateway.protocol.validate import Validator
from lambdamaker.gateway.protocol.values import BadValue

SERVICES = ("dynamodb", "kinesis", "sqs", "logs", "events", "stepfunctions", "secretsmanager")
PER_OPERATION = 12
GEN_DEPTH = 4

_TEXT = ["a", "abc", "my-table_1", "x" * 300, "", "arn:aws:sqs:us-east-1:000000000000:q", "1", "é"]


def _string(shape: Shape, rng: random.Random) -> str:
    meta = shape.metadata
    if meta.get("enum"):
        return str(rng.choice(meta["enum"]))
    low, high = meta.get("min", 0), meta.get("max", 64)
    fitting = [t for t in _TEXT if low <= len(t) <= high]
    return rng.choice(fitting) if fitting else "a" * low


def _number(shape: Shape, rng: random.Random, kind: str) -> Any:
    low = shape.metadata.get("min", -5)
    high = shape.metadata.get("max", low + 1000)
    value = rng.randint(int(low), max(int(low), int(min(high, low + 1000))))
    if kind in ("float", "double"):
        return rng.choice([value, value + 0.5 if value + 0.5 <= high else value])
    return value


def _blob(shape: Shape, rng: random.Random) -> str:
    low, high = shape.metadata.get("min", 0), min(shape.metadata.get("max", 12), 12)
    return base64.b64encode(rng.randbytes(rng.randint(low, max(low, high)))).decode()


def generate(shape: Shape, rng: random.Random, depth: int = 0) -> Any:
    """A value meant to be valid for ``shape`` (patterns may still reject a string)."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if shape.is_document_type:
            return {"doc": [1, "two", None]}
        out = {}
        for name, member in shape.members.items():
            wanted = name in shape.required_members or (depth < GEN_DEPTH and rng.random() < 0.5)
            if wanted:
                out[str(member.serialization.get("name", name))] = generate(member, rng, depth + 1)
        return out
    if isinstance(shape, ListShape):
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", 3), 3 if depth < GEN_DEPTH else low)
        size = rng.randint(low, max(low, high))
        return [generate(shape.member, rng, depth + 1) for _ in range(size)]
    if isinstance(shape, MapShape):
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", 3), 3 if depth < GEN_DEPTH else low)
        keys = {_string(shape.key, rng) + str(i) for i in range(rng.randint(low, max(low, high)))}
        if shape.key.metadata.get("enum"):
            keys = {str(k) for k in shape.key.metadata["enum"][: len(keys)]}
        return {key: generate(shape.value, rng, depth + 1) for key in keys}
    if kind in ("string", "character"):
        return _string(shape, rng)
    if kind in ("integer", "long", "short", "byte", "float", "double"):
        return _number(shape, rng, kind)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "blob":
        return _blob(shape, rng)
    if kind == "timestamp":
        return rng.choice([1700000000, 1700000000.25, "2024-01-02T03:04:05Z", "1700000000"])
    return None


BAD_VALUES: list[Any] = [
    None,
    "text",
    "",
    "x" * 70000,
    "NaN",
    "Infinity",
    "!!notbase64",
    "QUJD\nREVG",
    17,
    -1,
    0,
    2**63,
    10**400,
    1.5,
    True,
    [],
    [None],
    ["a", None],
    {},
    {"unknown": 1},
    {"S": None},
    {"S": 5},
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*prefix, index)))
    return out


def mutate(tree: dict[str, Any], rng: random.Random) -> Any:
    """One change somewhere in the tree: a bad value, a removed key or an unknown key."""
    path = rng.choice(_paths(tree))
    if not path:
        return copy.deepcopy(rng.choice([[], "x", None, {"Unknown": 1}, 5]))
    parent: Any = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[last]
    elif action < 0.25 and isinstance(parent, dict):
        parent["NotAMember"] = copy.deepcopy(rng.choice(BAD_VALUES))
    else:
        parent[last] = copy.deepcopy(rng.choice(BAD_VALUES))
    return tree


def _general(protocol: ServiceProtocol, operation: OperationModel, body: bytes) -> Any:
    """The path the server took before the fused reader: read, then validate."""
    parser = RequestParser("json", protocol.codes)
    reader = JsonReaders().reader(operation.input_shape)
    try:
        tree = parser._load_json(body)
        try:
            params = reader(tree)
        except Exception as exc:  # compared, not handled
            # RequestParser turns these into the malformed error; keep the raw outcome here.
            detail = exc.describe() if isinstance(exc, BadValue) else str(exc)
            return ("raised", type(exc).__name__, detail)
        Validator(protocol.codes).validate(operation, params)
    except ServiceError as exc:
        return ("error", exc.code, exc.message)
    return ("ok", params)


def _served(protocol: ServiceProtocol, operation: OperationModel, body: bytes) -> Any:
    request = HttpRequest("POST", "/", "", {}, body)
    try:
        params = protocol.parse(request, operation)
        protocol.validate(operation, params)
    except ServiceError as exc:
        return ("error", exc.code, exc.message)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return ("ok", params)


def _same(general: Any, served: Any, protocol: ServiceProtocol) -> bool:
    if general[0] != "raised":
        return bool(general == served)
    _, name, detail = general
    if name == "BadValue":
        code = protocol.codes.malformed[0]
        return bool(served == ("error", code, detail))
    if name == "RecursionError":
        return served[0] == "error"
    return bool(served[:2] == ("raised", name))


def _operations(service: str) -> list[tuple[ServiceProtocol, OperationModel]]:
    protocol = ServiceProtocol.for_service(service)
    assert protocol.protocol == "json"
    model = protocol.service_model
    return [(protocol, model.operation_model(name)) for name in model.operation_names]


@pytest.mark.parametrize("service", SERVICES)
def test_fused_path_answers_as_the_general_path(service: str) -> None:
    rng = random.Random(f"fused-{service}")
    accepted = rejected = 0
    for protocol, operation in _operations(service):
        shape = operation.input_shape
        if shape is None:
            continue
        fast = protocol._parser._fused.compile(shape)
        for attempt in range(PER_OPERATION):
            tree = generate(shape, rng)
            if attempt % 3:
                for _ in range(1 + attempt % 2):
                    tree = mutate(tree, rng) if isinstance(tree, dict) else tree
            body = json.dumps(tree).encode()
            general = _general(protocol, operation, body)
            served = _served(protocol, operation, body)
            assert _same(general, served, protocol), (operation.name, body[:500], general, served)
            if fast is None:
                continue
            try:
                loaded = orjson.loads(body)
            except orjson.JSONDecodeError:
                continue  # the body never reaches a reader
            try:
                result = fast(loaded)
            except Exception:  # a rejection
                result = rejected_marker = object()
            else:
                rejected_marker = None
            if general[0] == "ok":
                # Only text the fast path cannot decode strictly may fall back (wrapped base64).
                if rejected_marker is None or b"\\n" not in body:
                    assert result == general[1], (operation.name, body[:500])
                accepted += 1
            else:
                assert rejected_marker is not None, (operation.name, body[:500], general)
                rejected += 1
    print(service, "accepted", accepted, "rejected", rejected)
    assert accepted and rejected


def test_every_awsjson_operation_of_these_services_compiles_to_a_fused_reader() -> None:
    missing = [
        f"{service}.{operation.name}"
        for service in SERVICES
        for protocol, operation in _operations(service)
        if operation.input_shape is not None
        and protocol._parser._fused.compile(operation.input_shape) is None
    ]
    assert missing == []


def test_validate_skips_only_the_params_parse_just_vouched_for() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    operation = protocol.service_model.operation_model("GetItem")
    body = json.dumps({"TableName": "t", "Key": {"pk": {"S": "a"}}}).encode()
    params = protocol.parse(HttpRequest("POST", "/", "", {}, body), operation)
    protocol.validate(operation, params)  # vouched: skipped
    params["TableName"] = ""
    with pytest.raises(ServiceError) as caught:  # no longer vouched: walked again
        protocol.validate(operation, params)
    assert caught.value.code == "ValidationException"
    protocol.validate(operation, {"TableName": "tab", "Key": {}})  # valid: no error


BLOB_TEXTS = [
    "QUJDRA==",
    "QUJDRA",
    "QUJD=",
    "QUJ",
    "",
    "!!notbase64",
    "QUJD\nREVG",
    " QUJD",
    "é",
    "YQ==",
]
NESTED = {"M": {"a": {"L": [{"S": "x"}, {"M": {"b": {"N": 5}}}]}}}


@pytest.mark.parametrize(
    ("service", "operation_name", "tree"),
    [
        *[
            ("kinesis", "PutRecord", {"StreamName": "s", "Data": t, "PartitionKey": "k"})
            for t in BLOB_TEXTS
        ],
        *[
            ("dynamodb", "PutItem", {"TableName": "tab", "Item": {"b": {"B": t}}})
            for t in BLOB_TEXTS
        ],
        ("dynamodb", "PutItem", {"TableName": "tab", "Item": {"a": NESTED}}),
        ("dynamodb", "PutItem", {"TableName": "tab", "Item": {"a": {"L": [None, {"S": "x"}]}}}),
        ("dynamodb", "PutItem", {"TableName": "tab", "Item": {"a": {"SS": ["x", None, 3]}}}),
        ("dynamodb", "PutItem", {"TableName": "ta", "Item": {"a": {"S": "x"}}}),
        ("dynamodb", "PutItem", {"TableName": "tab", "Item": {"a": None, "b": {"S": "x"}}}),
        ("dynamodb", "PutItem", {"TableName": "tab", "Item": {"a": {"BOOL": 1}}}),
        ("dynamodb", "PutItem", {"TableName": "tab", "Item": {}, "ReturnValues": "SOME"}),
        ("dynamodb", "Query", {"TableName": "tab", "Limit": 0}),
        ("dynamodb", "Query", {"TableName": "tab", "Limit": 1.0}),
        ("dynamodb", "Query", {"TableName": "tab", "Limit": True}),
        ("kinesis", "PutRecords", {"StreamName": "s", "Records": []}),
        ("kinesis", "PutRecords", {"StreamName": "s", "Records": [None]}),
        (
            "kinesis",
            "PutRecords",
            {"StreamName": "s", "Records": [{"Data": "", "PartitionKey": ""}]},
        ),
        ("kinesis", "GetRecords", {"ShardIterator": "i", "Limit": 10001}),
        (
            "kinesis",
            "GetShardIterator",
            {
                "StreamName": "s",
                "ShardId": "0",
                "ShardIteratorType": "AT_TIMESTAMP",
                "Timestamp": "2024-13-01",
            },
        ),
        (
            "kinesis",
            "GetShardIterator",
            {
                "StreamName": "s",
                "ShardId": "0",
                "ShardIteratorType": "AT_TIMESTAMP",
                "Timestamp": 1.7e9,
            },
        ),
        ("sqs", "SendMessage", {"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": "5"}),
        (
            "sqs",
            "SendMessage",
            {
                "QueueUrl": "q",
                "MessageBody": "b",
                "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "!!"}},
            },
        ),
    ],
)
def test_edge_cases_answer_as_the_general_path(
    service: str, operation_name: str, tree: Any
) -> None:
    protocol = ServiceProtocol.for_service(service)
    operation = protocol.service_model.operation_model(operation_name)
    body = json.dumps(tree).encode()
    general = _general(protocol, operation, body)
    assert _same(general, _served(protocol, operation, body), protocol), general
    fast = protocol._parser._fused.compile(operation.input_shape)
    assert fast is not None
    try:
        result = fast(orjson.loads(body))
    except Exception:  # a rejection
        assert general[0] != "ok" or b"\\n" in body or b" QUJD" in body, general
    else:
        assert general == ("ok", result)


@pytest.mark.parametrize("levels", [1, 32, 49, 50, 51, 120])
def test_deep_nesting_answers_as_the_general_path(levels: int) -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    operation = protocol.service_model.operation_model("PutItem")
    value: Any = {"S": "x"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    body = json.dumps({"TableName": "tab", "Item": {"pk": value}}).encode()
    general = _general(protocol, operation, body)
    assert general[0] == "ok"
    assert _served(protocol, operation, body) == general
    # Two containers a level: past MAX_DEPTH the general path decides.
    params = protocol.parse(HttpRequest("POST", "/", "", {}, body), operation)
    assert (protocol._parser.vouched is params) == (2 * levels + 2 <= MAX_DEPTH)


def test_a_shape_the_generator_does_not_know_leaves_the_operation_to_the_general_path() -> None:
    shapes = {
        "AIn": {"type": "structure", "members": {"n": {"shape": "Node"}, "w": {"shape": "Big"}}},
        "BIn": {"type": "structure", "members": {"n": {"shape": "Node"}}},
        "Node": {
            "type": "structure",
            "members": {"kids": {"shape": "Kids"}, "s": {"shape": "Str"}},
        },
        "Kids": {"type": "list", "member": {"shape": "Node"}},
        "Str": {"type": "string", "max": 3},
        "Big": {"type": "bigInteger"},
    }
    http = {"method": "POST", "requestUri": "/"}
    model = ServiceModel(
        {
            "metadata": {"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "T"},
            "operations": {
                "A": {"name": "A", "http": http, "input": {"shape": "AIn"}},
                "B": {"name": "B", "http": http, "input": {"shape": "BIn"}},
            },
            "shapes": shapes,
        },
        "made-up",
    )
    protocol = ServiceProtocol(model, "json")
    tree = {"n": {"kids": [{"s": "a", "kids": []}], "s": "b"}, "w": 12345678901234567890}
    a, b = model.operation_model("A"), model.operation_model("B")
    assert protocol._parser._fused.compile(a.input_shape) is None
    assert _served(protocol, a, orjson.dumps({**tree, "w": 5})) == ("ok", {**tree, "w": 5})
    fast_b = protocol._parser._fused.compile(b.input_shape)
    assert fast_b is not None
    assert fast_b({"n": tree["n"]}) == {"n": tree["n"]}
    with pytest.raises(Reject):
        fast_b({"n": {"s": "long"}})
