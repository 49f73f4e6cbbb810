"""apply_update copies on write: the input item and every value in it stay as they were (also
when the update fails part way), every container on a changed path is the result's own, and
what the update did not touch may be shared."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lambdamaker.engines.tables import ExpressionAttributes, apply_update, parse_update
from lambdamaker.errors import ValidationError

ITEM: dict[str, Any] = {
    "pk": {"S": "k"},
    "m": {"M": {"a": {"M": {"x": {"N": "1"}, "y": {"S": "y"}}}, "b": {"S": "b"}}},
    "l": {"L": [{"S": "0"}, {"L": [{"N": "1"}, {"N": "2"}]}, {"S": "2"}]},
    "n": {"N": "5"},
    "ss": {"SS": ["a", "b"]},
    "keep": {"M": {"k": {"L": [{"S": "v"}]}}},
}
VALUES = {":v": {"S": "new"}, ":one": {"N": "1"}, ":s": {"SS": ["b", "c"]}, ":l": {"L": []}}
UPDATES = [
    "SET m.a.x = :v, l[1][0] = :v, l[5] = :v, m.c = m.b",
    "REMOVE m.a.y, l[1][1], l[0], m.b",
    "ADD m.a.x :one, ss :s, m.a.z :one, l[1][0] :one",
    "DELETE ss :s",
    "SET m.a.w = list_append(:l, l) REMOVE l[1][0] ADD n :one DELETE ss :s",
    "SET m.a.x = :v, m.a.x2 = :v REMOVE m.a.y, m.b",  # several changes under one map
]


def _update(text: str) -> Any:
    return parse_update(text, ExpressionAttributes(None, VALUES))


def _containers(value: Any) -> list[Any]:
    """Every dict and list inside ``value`` (itself included)."""
    found = [value]
    inner = value.values() if isinstance(value, dict) else value
    for child in inner:
        if isinstance(child, (dict, list)):
            found.extend(_containers(child))
    return found


@pytest.mark.parametrize("text", UPDATES)
def test_the_input_stays_as_it_was(text: str) -> None:
    item = copy.deepcopy(ITEM)
    result = apply_update(item, _update(text))
    assert item == ITEM
    assert result != ITEM
    # Changing everything in the result in place (as a later writer might) leaves the input
    # as it was only if no changed container is shared: mutate the result's containers that
    # are not shared and check the input.
    shared = {id(c) for c in _containers(item)}
    for container in _containers(result):
        if id(container) not in shared:
            if isinstance(container, dict):
                container["zz"] = {"S": "!"}
            else:
                container.append({"S": "!"})
    assert item == ITEM


def test_containers_on_changed_paths_are_copies() -> None:
    item = copy.deepcopy(ITEM)
    result = apply_update(item, _update("SET m.a.x = :v, l[1][0] = :v"))
    assert result is not item
    for path in (("m",), ("m", "M"), ("m", "M", "a"), ("m", "M", "a", "M")):
        mine, theirs = result, item
        for step in path:
            mine, theirs = mine[step], theirs[step]
        assert mine is not theirs
    assert result["l"]["L"] is not item["l"]["L"]
    assert result["l"]["L"][1]["L"] is not item["l"]["L"][1]["L"]
    assert result["l"]["L"][1]["L"][0] == {"S": "new"}
    assert item["l"]["L"][1]["L"][0] == {"N": "1"}
    # An assigned value is the result's own too, not the parse tree's.
    assert result["m"]["M"]["a"]["M"]["x"] is not VALUES[":v"]


@pytest.mark.parametrize(
    "text",
    [
        "SET m.a.x = :v ADD m.b :one",  # ADD of a number to a string, after a nested SET
        "REMOVE l[1][0] SET keep.k[0] = :v ADD ss :one",
        "SET m.a.x = :v REMOVE m.b.nothing",  # REMOVE under a string: invalid path
    ],
)
def test_a_failing_update_leaves_the_input_as_it_was(text: str) -> None:
    item = copy.deepcopy(ITEM)
    with pytest.raises(ValidationError):
        apply_update(item, _update(text))
    assert item == ITEM
