"""Evaluation of condition / filter expressions against an item.

Invariants (DynamoDB's semantics): an operand naming a missing attribute, or ``size()`` of a
missing or size-less attribute, makes every comparison false except ``<>``, which is true; an
ordering comparison between different types (or non N/S/B types) is false, never an error;
evaluation never mutates the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.nodes import (
    And,
    Between,
    Comparison,
    Function,
    In,
    Node,
    Not,
    Operand,
    Or,
    PathOperand,
    ValueOperand,
)
from lambdamaker.engines.tables.parser import ConditionParser
from lambdamaker.engines.tables.paths import get_path
from lambdamaker.engines.tables.values import (
    Item,
    TypedValue,
    begins_with,
    compare,
    contains_member,
    size_of,
    type_of,
    values_equal,
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition; ``evaluate(item)`` is pure."""

    node: Node

    def evaluate(self, item: Item) -> bool:
        return evaluate(self.node, item)


def parse_condition(
    text: str, attrs: ExpressionAttributes, kind: str = "ConditionExpression"
) -> Condition:
    """Parse a ConditionExpression (or, with ``kind="FilterExpression"``, a filter)."""
    return Condition(ConditionParser(text, kind, attrs).parse())


def operand_value(operand: Operand, item: Item) -> TypedValue | None:
    if isinstance(operand, ValueOperand):
        return operand.value
    if isinstance(operand, PathOperand):
        return get_path(item, operand.path)
    value = operand_value(operand.operand, item)
    size = None if value is None else size_of(value)
    return None if size is None else {"N": str(Decimal(size))}


def _compare(op: str, left: TypedValue | None, right: TypedValue | None) -> bool:
    if left is None or right is None:
        return op == "<>"
    if op == "=":
        return values_equal(left, right)
    if op == "<>":
        return not values_equal(left, right)
    order = compare(left, right)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def evaluate(node: Node, item: Item) -> bool:
    if isinstance(node, And):
        return evaluate(node.left, item) and evaluate(node.right, item)
    if isinstance(node, Or):
        return evaluate(node.left, item) or evaluate(node.right, item)
    if isinstance(node, Not):
        return not evaluate(node.operand, item)
    if isinstance(node, Comparison):
        return _compare(node.op, operand_value(node.left, item), operand_value(node.right, item))
    if isinstance(node, Between):
        value = operand_value(node.operand, item)
        low = operand_value(node.low, item)
        high = operand_value(node.high, item)
        if value is None or low is None or high is None:
            return False
        above = compare(value, low)
        below = compare(value, high)
        return above is not None and below is not None and above >= 0 and below <= 0
    if isinstance(node, In):
        value = operand_value(node.operand, item)
        if value is None:
            return False
        for choice in node.choices:
            other = operand_value(choice, item)
            if other is not None and values_equal(value, other):
                return True
        return False
    return _function(node, item)


def _function(node: Function, item: Item) -> bool:
    value = operand_value(node.args[0], item)
    if node.name == "attribute_exists":
        return value is not None
    if node.name == "attribute_not_exists":
        return value is None
    second = operand_value(node.args[1], item)
    if value is None or second is None:
        return False
    if node.name == "attribute_type":
        return type_of(second) == "S" and type_of(value) == second["S"]
    if node.name == "begins_with":
        return begins_with(value, second)
    return contains_member(value, second)  # contains
