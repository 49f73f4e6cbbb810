"""KeyConditionExpression: parsed with the condition grammar, then narrowed to DynamoDB's subset.

Accepted shape: ``hash = :v`` optionally ``AND`` one range condition (``= < <= > >=`` against a
value, ``BETWEEN :a AND :b``, ``begins_with(range, :p)``), in either order, parentheses allowed.

Invariants: the result names real attribute names (placeholders resolved) and typed values.
``parse_key_conditions`` returns the (at most two, one per attribute) conditions in source
order; ``parse_key_condition`` also matches them to a key schema, so its hash condition is
always ``=`` and the range condition, if any, is on the range key. Operators outside the subset
are reported first (``Invalid operator used in KeyConditionExpression: OR``), then each
condition's shape (no key attribute, several attribute names, ``size()``, nested paths), then
the schema (``Query condition missed key schema element: pk``).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    SizeOperand,
    ValueOperand,
)
from lambdamaker.engines.tables.parser import ConditionParser
from lambdamaker.engines.tables.values import TypedValue, begins_with, compare, values_equal
from lambdamaker.errors import ValidationError

KIND = "KeyConditionExpression"
_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """One key attribute's condition: ``op`` is = < <= > >= BETWEEN or begins_with."""

    name: str
    op: str
    values: tuple[TypedValue, ...]

    def matches(self, value: TypedValue | None) -> bool:
        if value is None:
            return False
        if self.op == "=":
            return values_equal(value, self.values[0])
        if self.op == "begins_with":
            return begins_with(value, self.values[0])
        if self.op == "BETWEEN":
            low, high = compare(value, self.values[0]), compare(value, self.values[1])
            return low is not None and high is not None and low >= 0 and high <= 0
        order = compare(value, self.values[0])
        if order is None:
            return False
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[self.op]


@dataclass(frozen=True, slots=True)
class KeyConditions:
    hash: KeyCondition
    range: KeyCondition | None


def _invalid_operator(op: str) -> ValidationError:
    return ValidationError(f"Invalid operator used in KeyConditionExpression: {op}")


def _invalid_condition(message: str) -> ValidationError:
    return ValidationError(f"Invalid condition in KeyConditionExpression: {message}")


ONE_PER_KEY = "KeyConditionExpressions must only contain one condition per key"


def _check_operators(node: Node) -> None:
    """First pass: any operator outside the key-condition subset is reported before shapes."""
    if isinstance(node, And):
        _check_operators(node.left)
        _check_operators(node.right)
    elif isinstance(node, Or):
        raise _invalid_operator("OR")
    elif isinstance(node, Not):
        raise _invalid_operator("NOT")
    elif isinstance(node, In):
        raise _invalid_operator("IN")
    elif isinstance(node, Comparison) and node.op == "<>":
        raise _invalid_operator("<>")
    elif isinstance(node, Function) and node.name != "begins_with":
        raise _invalid_operator(node.name)


def _leaves(node: Node) -> list[Node]:
    if isinstance(node, And):
        return _leaves(node.left) + _leaves(node.right)
    return [node]


def _operands(node: Node) -> tuple[Operand, ...]:
    if isinstance(node, Comparison):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    assert isinstance(node, Function)
    return node.args


def _key_condition(node: Node) -> KeyCondition:
    operands = _operands(node)
    label = "BETWEEN" if isinstance(node, Between) else "begins_with"
    if not isinstance(node, Comparison) and not isinstance(operands[0], PathOperand):
        raise _invalid_condition(
            f"{label} operator must have the key attribute as its first operand"
        )
    paths = [o for o in operands if isinstance(o, PathOperand)]
    sized = [
        o for o in operands if isinstance(o, SizeOperand) and isinstance(o.operand, PathOperand)
    ]
    if not paths and not sized:
        raise _invalid_condition("No key attribute specified")
    if len(paths) > 1:
        raise _invalid_condition("Multiple attribute names used in one condition")
    if any(isinstance(o, SizeOperand) for o in operands):
        raise ValidationError("KeyConditionExpressions cannot contain nested operations")
    path = paths[0].path
    if len(path) != 1:
        raise ValidationError("KeyConditionExpressions cannot have conditions on nested attributes")
    name = str(path[0])
    if isinstance(node, Comparison):
        if isinstance(node.left, PathOperand):
            value, op = node.right, node.op
        else:
            value, op = node.left, _FLIP[node.op]
        assert isinstance(value, ValueOperand)
        return KeyCondition(name, op, (value.value,))
    values = tuple(o.value for o in operands[1:] if isinstance(o, ValueOperand))
    return KeyCondition(name, label, values)


def parse_key_conditions(text: str, attrs: ExpressionAttributes) -> list[KeyCondition]:
    """The conditions of a KeyConditionExpression in source order, schema not yet applied."""
    node = ConditionParser(text, KIND, attrs).parse()
    _check_operators(node)
    leaves = [_key_condition(leaf) for leaf in _leaves(node)]
    if len({leaf.name for leaf in leaves}) != len(leaves):
        raise ValidationError(ONE_PER_KEY)
    if len(leaves) > 2:
        raise ValidationError("Conditions can be of length 1 or 2 only")
    return leaves


def parse_key_condition(
    text: str, attrs: ExpressionAttributes, hash_key: str, range_key: str | None = None
) -> KeyConditions:
    """Parse a KeyConditionExpression and match it to the (table or index) key schema."""
    by_name = {leaf.name: leaf for leaf in parse_key_conditions(text, attrs)}
    hash_condition = by_name.pop(hash_key, None)
    if hash_condition is None:
        raise ValidationError(f"Query condition missed key schema element: {hash_key}")
    if hash_condition.op != "=":
        raise ValidationError("Query key condition not supported")
    range_condition = by_name.pop(range_key, None) if range_key else None
    if by_name:
        if range_key and range_condition is None:
            raise ValidationError(f"Query condition missed key schema element: {range_key}")
        raise ValidationError("Query key condition not supported")
    return KeyConditions(hash_condition, range_condition)
