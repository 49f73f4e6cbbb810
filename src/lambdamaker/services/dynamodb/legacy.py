"""DynamoDB's legacy conditional parameters, translated into the tables engine's conditions.

``Expected`` (PutItem / DeleteItem / UpdateItem) and ``QueryFilter`` / ``ScanFilter`` are maps
``attribute -> condition`` joined by ``ConditionalOperator`` (AND, the default, or OR). Each
condition becomes an engine node, so a legacy request is evaluated by exactly the code that
evaluates the equivalent expression:

=============  ==========================================
EQ / NE        ``a = v`` / ``a <> v`` (NE holds when ``a`` is missing)
LE LT GE GT    ``a <= v`` ... (S, N or B operands only)
NULL/NOT_NULL  ``attribute_not_exists(a)`` / ``attribute_exists(a)``
CONTAINS       ``contains(a, v)`` (v is S, N or B)
NOT_CONTAINS   ``attribute_exists(a) AND NOT contains(a, v)``
BEGINS_WITH    ``begins_with(a, v)`` (v is S or B)
IN             ``a IN (v1, v2...)`` (scalars)
BETWEEN        ``a BETWEEN v1 AND v2`` (same scalar type)
Value/Exists   ``{"Value": v}`` = EQ, ``{"Exists": false}`` = NULL
=============  ==========================================

Invariants: every malformed condition is refused with DynamoDB's ValidationException before
anything is read or written; the returned ``Condition`` is pure (``evaluate(item)``), like a
parsed expression; attribute names are top-level names (no document paths), as in DynamoDB.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.tables import Condition
from lambdamaker.engines.tables.nodes import (
    And,
    Between,
    Comparison,
    Function,
    In,
    Node,
    Not,
    Or,
    PathOperand,
    ValueOperand,
)
from lambdamaker.engines.tables.values import compare
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.values import check_value

_ONE = frozenset({"EQ", "NE", "LE", "LT", "GE", "GT", "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH"})
_NONE = frozenset({"NULL", "NOT_NULL"})
_ORDERED = {"LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_SCALARS = frozenset({"S", "N", "B"})
OPERATORS = _ONE | _NONE | {"IN", "BETWEEN"}


def _detected(message: str) -> Exception:
    """DynamoDB reports the Expected entry errors as a one-error validation list."""
    return validation(
        f"1 validation error detected: One or more parameter values were invalid: {message}"
    )


def _check_operator(operator: str | None, has_conditions: bool, count: int) -> str:
    if operator is None:
        return "AND"
    if operator not in ("AND", "OR"):
        raise validation(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [AND, OR]"
        )
    if not has_conditions:
        raise validation("ConditionalOperator cannot be used without Filter or Expected")
    if count < 2:
        raise validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements"
        )
    return operator


class _Builder:
    """Turns one legacy map into a node; value placeholders are synthetic (``:legacyN``)."""

    def __init__(self) -> None:
        self.count = 0

    def value(self, raw: Any) -> ValueOperand:
        self.count += 1
        return ValueOperand(check_value(raw), f":legacy{self.count}")

    def comparison(self, name: str, op: str, raw_values: list[Any]) -> Node:
        if op not in OPERATORS:
            raise validation(
                f"1 validation error detected: Value '{op}' at 'comparisonOperator' failed to "
                "satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
                "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )
        n = len(raw_values)
        if (
            (op in _ONE and n != 1)
            or (op in _NONE and n != 0)
            or (op == "IN" and n == 0)
            or (op == "BETWEEN" and n != 2)
        ):
            raise invalid(f"Invalid number of argument(s) for the {op} ComparisonOperator")
        values = [self.value(v) for v in raw_values]
        path = PathOperand((name,))
        if op in _NONE:
            return Function(
                "attribute_exists" if op == "NOT_NULL" else "attribute_not_exists", (path,)
            )
        types = [next(iter(v.value)) for v in values]
        if op in _ORDERED or op in ("IN", "BETWEEN", "CONTAINS", "NOT_CONTAINS"):
            for type_ in types:
                if type_ not in _SCALARS:
                    raise invalid(
                        f"ComparisonOperator {op} is not valid for {type_} AttributeValue type"
                    )
        if op == "BEGINS_WITH" and types[0] not in ("S", "B"):
            raise invalid(
                f"ComparisonOperator {op} is not valid for {types[0]} AttributeValue type"
            )
        if op == "EQ":
            return Comparison("=", path, values[0])
        if op == "NE":
            return Comparison("<>", path, values[0])
        if op in _ORDERED:
            return Comparison(_ORDERED[op], path, values[0])
        if op == "CONTAINS":
            return Function("contains", (path, values[0]))
        if op == "NOT_CONTAINS":
            exists = Function("attribute_exists", (path,))
            return And(exists, Not(Function("contains", (path, values[0]))))
        if op == "BEGINS_WITH":
            return Function("begins_with", (path, values[0]))
        if op == "IN":
            return In(path, tuple(values))
        low, high = values
        if types[0] != types[1]:
            raise invalid("AttributeValues inside AttributeValueList must be of same type")
        order = compare(low.value, high.value)
        if order is not None and order > 0:
            raise validation(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )
        return Between(path, low, high)

    def expected(self, name: str, condition: dict[str, Any]) -> Node:
        has_list = condition.get("AttributeValueList") is not None
        op = condition.get("ComparisonOperator")
        exists = condition.get("Exists")
        value = condition.get("Value")
        if has_list and op is None:
            raise _detected(
                f"AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
            )
        if op is not None:
            if exists is not None:
                raise _detected(
                    f"Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )
            # DynamoDB accepts Value with a ComparisonOperator: it is the single argument.
            args = condition.get("AttributeValueList")
            if args is None:
                args = [] if value is None else [value]
            return self.comparison(name, op, list(args))
        if exists is None or exists:
            if value is None:
                shown = "null" if exists is None else "true"
                raise _detected(
                    f"Value must be provided when Exists is {shown} for Attribute: {name}"
                )
            return Comparison("=", PathOperand((name,)), self.value(value))
        if value is not None:
            raise _detected(f"Value cannot be used when Exists is false for Attribute: {name}")
        return Function("attribute_not_exists", (PathOperand((name,)),))


def _join(nodes: list[Node], operator: str) -> Node:
    node = nodes[0]
    for other in nodes[1:]:
        node = Or(node, other) if operator == "OR" else And(node, other)
    return node


def expected_condition(params: dict[str, Any]) -> Condition | None:
    """The condition of a write request's ``Expected`` / ``ConditionalOperator``, or None."""
    expected: dict[str, Any] | None = params.get("Expected")
    operator = _check_operator(
        params.get("ConditionalOperator"), bool(expected), len(expected or {})
    )
    if not expected:
        return None
    builder = _Builder()
    nodes = [builder.expected(name, condition) for name, condition in expected.items()]
    return Condition(_join(nodes, operator))


def filter_condition(
    filters: dict[str, Any] | None, conditional_operator: str | None
) -> Condition | None:
    """The filter of a legacy ``QueryFilter`` / ``ScanFilter`` (None when there is none).

    The result evaluates like a parsed FilterExpression (``Condition.evaluate(item)``)."""
    operator = _check_operator(conditional_operator, bool(filters), len(filters or {}))
    if not filters:
        return None
    builder = _Builder()
    nodes = [
        builder.comparison(
            name,
            condition.get("ComparisonOperator"),
            list(condition.get("AttributeValueList") or []),
        )
        for name, condition in filters.items()
    ]
    return Condition(_join(nodes, operator))
