"""Input shaping (engines.events.transform): the JSONPath subset and InputTransformer's quoting
rules, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdamaker.engines.events.transform import (
    MISSING,
    InputTransformer,
    JsonPath,
    TransformError,
    input_path_body,
)

EVENT: dict[str, Any] = {
    "id": "e1",
    "source": "app",
    "detail": {"user": "ann", "n": 3, "tags": ["a", "b"], "obj": {"k": "v"}, "a-b/c": 1},
}


def render(paths: dict[str, str], template: str) -> str:
    return InputTransformer.compile(paths, template).render(
        EVENT, rule_name="r", rule_arn="arn:r", ingestion_time="2026-01-01T00:00:00.000Z"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", EVENT),
        ("$.detail.user", "ann"),
        ("$.detail.tags[1]", "b"),
        ("$.detail.a-b/c", 1),
        ("$.detail['obj'].k", "v"),
        ("$.detail.tags[*]", ["a", "b"]),
        ("$.detail.obj.*", ["v"]),
        ("$.detail.nope", MISSING),
        ("$.detail.tags[5]", MISSING),
    ],
)
def test_json_path_finds_values(path: str, value: Any) -> None:
    assert JsonPath.compile(path).find(EVENT) == value


@pytest.mark.parametrize("path", ["detail", "$..x", "$.a[", "$ .a"])
def test_json_path_refuses_what_eventbridge_refuses(path: str) -> None:
    with pytest.raises(TransformError):
        JsonPath.compile(path)


def test_input_path_body_is_json_and_null_when_missing() -> None:
    assert input_path_body(JsonPath.compile("$.detail.obj"), EVENT) == '{"k": "v"}'
    assert input_path_body(JsonPath.compile("$.missing"), EVENT) == "null"


def test_json_template_quotes_by_position() -> None:
    out = render(
        {"u": "$.detail.user", "n": "$.detail.n", "o": "$.detail.obj", "m": "$.x"},
        '{"a": <u>, "b": "<u> has <n>", "c": <o>, "d": "<o>", "e": <m>, "f": "[<m>]"}',
    )
    assert json.loads(out) == {
        "a": "ann",
        "b": "ann has 3",
        "c": {"k": "v"},
        "d": '{"k": "v"}',
        "e": None,
        "f": "[]",
    }


def test_strings_with_quotes_stay_valid_json_inside_strings() -> None:
    t = InputTransformer.compile({"u": "$.detail.user"}, '{"msg": "say <u>"}')
    out = t.render({"detail": {"user": 'a "q" \\ b'}}, rule_name="", rule_arn="", ingestion_time="")
    assert json.loads(out) == {"msg": 'say a "q" \\ b'}


def test_predefined_variables() -> None:
    out = json.loads(
        render(
            {},
            '{"name": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>,'
            ' "at": "<aws.events.event.ingestion-time>", "event": <aws.events.event>,'
            ' "full": <aws.events.event.json>}',
        )
    )
    assert out["name"] == "r" and out["arn"] == "arn:r"
    assert out["at"] == "2026-01-01T00:00:00.000Z"
    assert out["event"] == {"id": "e1", "source": "app"}
    assert out["full"] == EVENT


def test_text_template_inserts_strings_raw_and_keeps_unknown_placeholders() -> None:
    out = render({"u": "$.detail.user", "t": "$.detail.tags"}, "<u> tagged <t> <unknown> <x.y>")
    assert out == 'ann tagged ["a", "b"] <unknown> <x.y>'


@pytest.mark.parametrize(
    ("paths", "template"),
    [
        ({"aws.events.rule-name": "$.x"}, "<x>"),
        ({"bad key": "$.x"}, "<x>"),
        ({"a": "$.x"}, '{"a": <a>,}'),
        ({"a": "$.x"}, '{"<a>": 1}'),
        ({f"k{i}": "$.x" for i in range(101)}, "x"),
    ],
)
def test_compile_refuses_what_put_targets_refuses(paths: dict[str, str], template: str) -> None:
    with pytest.raises(TransformError):
        InputTransformer.compile(paths, template)


def test_array_template_is_json_when_it_parses() -> None:
    assert json.loads(render({"u": "$.detail.user"}, "[<u>, 1]")) == ["ann", 1]
    assert render({"u": "$.detail.user"}, "[<u>] said hi") == "[ann] said hi"
