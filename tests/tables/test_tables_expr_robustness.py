"""Any input either parses or raises ValidationException: never another exception (a 500)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from lambdamaker.engines.tables import (
    ExpressionAttributes,
    apply_update,
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
    project,
)
from lambdamaker.errors import ValidationError

VOCABULARY = [
    "a",
    "b.c",
    "l[0]",
    "l[9]",
    "#n",
    "#x",
    ":s",
    ":n",
    ":l",
    ":ss",
    ":zz",
    "(",
    ")",
    "((",
    "))",
    ",",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "size(",
    "contains(",
    "begins_with(",
    "attribute_exists(",
    "attribute_type(",
    "if_not_exists(",
    "list_append(",
    "status",
    "[",
    "]",
    ".",
    "_",
    "$",
    "1",
]
VALUES: dict[str, Any] = {
    ":s": {"S": "x"},
    ":n": {"N": "2"},
    ":l": {"L": [{"N": "1"}]},
    ":ss": {"SS": ["x"]},
}
ITEM: dict[str, Any] = {
    "a": {"N": "1"},
    "b": {"M": {"c": {"S": "xy"}}},
    "l": {"L": [{"N": "1"}, {"S": "z"}]},
    "n": {"SS": ["x", "y"]},
}


@pytest.mark.parametrize("seed", range(4))
def test_random_expressions_only_raise_validation_errors(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        text = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 9)))
        for kind in ("condition", "update", "projection", "key"):
            attrs = ExpressionAttributes({"#n": "n"}, VALUES)
            try:
                if kind == "condition":
                    parse_condition(text, attrs).evaluate(ITEM)
                elif kind == "update":
                    apply_update(ITEM, parse_update(text, attrs))
                elif kind == "projection":
                    project(ITEM, parse_projection(text, attrs))
                else:
                    parse_key_condition(text, attrs, "a", "b")
            except ValidationError as error:
                assert error.code == "ValidationException" and error.message


PATHS = ["a", "b.c", "b.c.d", "l[0]", "l[5]", "l[1].x", "#n", "m", "b"]
TYPED: dict[str, Any] = {
    ":s": {"S": "x"},
    ":n": {"N": "2"},
    ":l": {"L": [{"N": "1"}]},
    ":ss": {"SS": ["x"]},
    ":ns": {"NS": ["1", "2"]},
    ":b": {"B": b"x"},
    ":m": {"M": {"c": {"S": "x"}}},
    ":nul": {"NULL": True},
    ":t": {"BOOL": True},
    ":ty": {"S": "N"},
}
ITEMS: list[dict[str, Any]] = [
    {},
    ITEM,
    {"a": {"S": "x"}, "b": {"L": []}, "l": {"N": "3"}, "n": {"NS": ["1"]}, "m": {"NULL": True}},
    {"a": {"NS": ["2"]}, "b": {"M": {"c": {"M": {"d": {"B": b"x"}}}}}, "l": {"L": [{"M": {}}]}},
]


def _operand(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.45:
        return rng.choice(PATHS)
    if pick < 0.9:
        return rng.choice(list(TYPED))
    return f"size({rng.choice(PATHS + list(TYPED))})"


def _condition(rng: random.Random, depth: int = 0) -> str:
    o = lambda: _operand(rng)  # noqa: E731
    leaves = [
        lambda: f"{o()} {rng.choice(['=', '<>', '<', '<=', '>', '>='])} {o()}",
        lambda: f"{o()} BETWEEN {o()} AND {o()}",
        lambda: f"{o()} IN ({o()}, {o()})",
        lambda: f"attribute_exists({rng.choice(PATHS)})",
        lambda: f"attribute_not_exists({o()})",
        lambda: f"begins_with({o()}, {o()})",
        lambda: f"contains({o()}, {o()})",
        lambda: f"attribute_type({o()}, {o()})",
    ]
    if depth < 2 and rng.random() < 0.4:
        sub = lambda: _condition(rng, depth + 1)  # noqa: E731
        return rng.choice([f"NOT {sub()}", f"({sub()}) AND {sub()}", f"{sub()} OR ({sub()})"])
    return rng.choice(leaves)()


def _set_value(rng: random.Random) -> str:
    o = lambda: rng.choice(PATHS + list(TYPED))  # noqa: E731
    return rng.choice(
        [
            o(),
            f"{o()} + {o()}",
            f"{o()} - {o()}",
            f"if_not_exists({rng.choice(PATHS)}, {o()})",
            f"list_append({o()}, {o()})",
        ]
    )


def _update(rng: random.Random) -> str:
    clauses = []
    for clause in rng.sample(["SET", "REMOVE", "ADD", "DELETE"], rng.randint(1, 4)):
        targets = rng.sample(PATHS, rng.randint(1, 2))
        if clause == "SET":
            actions = [f"{t} = {_set_value(rng)}" for t in targets]
        elif clause == "REMOVE":
            actions = targets
        else:
            actions = [f"{t} {rng.choice(list(TYPED))}" for t in targets]
        clauses.append(f"{clause} " + ", ".join(actions))
    return " ".join(clauses)


@pytest.mark.parametrize("seed", range(4))
def test_generated_expressions_evaluate_or_raise_validation_errors(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        names = {"#n": "n"}
        try:
            condition = parse_condition(_condition(rng), ExpressionAttributes(names, TYPED))
            for item in ITEMS:
                assert condition.evaluate(item) in (True, False)
        except ValidationError as error:
            assert error.code == "ValidationException"
        try:
            update = parse_update(_update(rng), ExpressionAttributes(names, TYPED))
            for item in ITEMS:
                before = repr(item)
                try:
                    apply_update(item, update)
                except ValidationError:
                    pass
                assert repr(item) == before
        except ValidationError as error:
            assert error.code == "ValidationException"
