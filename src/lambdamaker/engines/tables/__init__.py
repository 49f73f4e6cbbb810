"""Tables engine: DynamoDB's expression language as a pure library (no HTTP, no store).

API::

    attrs = ExpressionAttributes(names, values)          # one per request, shared
    cond = parse_condition(text, attrs)                  # or kind="FilterExpression"
    cond.evaluate(item) -> bool
    keys = parse_key_condition(text, attrs, hash_key, range_key) -> KeyConditions
    keys.hash.values[0]; keys.range.op / .values; keys.range.matches(value) -> bool
    upd = parse_update(text, attrs); new_item = apply_update(item, upd, new_item=False)
    upd.targets -> paths it writes (UPDATED_NEW = project(new_item, upd.targets))
    paths = parse_projection(text, attrs); project(item, paths) -> item
    attrs.check_unused()                                 # after the request's last expression
    check_item(item); item_size(item) <= MAX_ITEM_SIZE   # PutItem / after an update
    values.order_key(value)                              # sort key for range-key ordering

Items are ``dict[str, typed value]`` in DynamoDB's wire form (``{"S": "x"}``, ``{"N": "1"}``...).

Modules: ``values`` (typed values, numbers, ordering, size), ``items`` (AttributeValue validity,
item size), ``lexer``, ``grammar`` (shared
parser machinery, error ranking), ``parser`` (conditions), ``conditions`` (evaluation), ``keys``,
``update`` (parse + apply), ``projection``, ``paths``, ``attributes`` (placeholders), ``reserved``.

Invariants:
- every user mistake raises ``ValidationError`` (ValidationException, 400) with DynamoDB's
  message; nothing here raises anything else on bad input. When an expression has several
  mistakes, the one DynamoDB reports is chosen: syntax first, then a fixed ranking of
  semantic errors (``grammar``);
- parsing resolves placeholders once; evaluation and application are pure functions of the
  parsed expression and the item, and never mutate the item passed in;
- numbers follow DynamoDB: Decimal arithmetic, 38 significant digits, magnitude
  [1E-130, 1E+126), normalised plain output (see ``values``).
"""

from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.conditions import Condition, parse_condition
from lambdamaker.engines.tables.items import MAX_ITEM_SIZE, check_item, check_value, item_size
from lambdamaker.engines.tables.keys import (
    KeyCondition,
    KeyConditions,
    parse_key_condition,
    parse_key_conditions,
)
from lambdamaker.engines.tables.projection import parse_projection, project
from lambdamaker.engines.tables.update import Update, parse_update
from lambdamaker.engines.tables.update_apply import apply_update

__all__ = [
    "MAX_ITEM_SIZE",
    "Condition",
    "ExpressionAttributes",
    "KeyCondition",
    "KeyConditions",
    "Update",
    "apply_update",
    "check_item",
    "check_value",
    "item_size",
    "parse_condition",
    "parse_key_condition",
    "parse_key_conditions",
    "parse_projection",
    "parse_update",
    "project",
]
