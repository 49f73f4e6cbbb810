"""A request's expressions: parsed once, up front, with the tables engine.

``RequestExpressions(params, allowed)`` reads every expression parameter an operation accepts
(``allowed``), parses each with one shared ``ExpressionAttributes`` and then checks that every
ExpressionAttributeNames / ExpressionAttributeValues entry was used, as DynamoDB does.

Invariants:

- parsing happens before any store access, so a malformed request never touches a table
  (key-schema-dependent parsing, the KeyConditionExpression, is the exception: ``read_ops``
  parses it once the table is known, then calls ``finish()``);
- an expression parameter and its legacy counterpart (``AttributesToGet``, ``Expected``...)
  are never both honoured: the mix is refused with DynamoDB's message;
- placeholder maps without any expression are refused, like DynamoDB.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.tables import (
    Condition,
    ExpressionAttributes,
    Update,
    parse_condition,
    parse_projection,
    parse_update,
)
from lambdamaker.engines.tables.paths import Path
from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb.errors import validation
from lambdamaker.services.dynamodb.values import Item

EXPRESSIONS = (
    "KeyConditionExpression",
    "UpdateExpression",
    "ConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
)
LEGACY = (
    "AttributesToGet",
    "AttributeUpdates",
    "Expected",
    "ConditionalOperator",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
)


class RequestExpressions:
    def __init__(self, params: dict[str, Any], *, defer_finish: bool = False) -> None:
        given = [name for name in EXPRESSIONS if params.get(name) is not None]
        legacy = [name for name in LEGACY if params.get(name) is not None]
        if given and legacy:
            raise validation(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(legacy)}}} "
                f"Expression parameters: {{{', '.join(given)}}}"
            )
        names = params.get("ExpressionAttributeNames")
        values = params.get("ExpressionAttributeValues")
        if not given:
            if names is not None:
                raise validation(
                    "ExpressionAttributeNames can only be specified when using expressions"
                )
            if values is not None:
                raise validation(
                    "ExpressionAttributeValues can only be specified when using expressions"
                )
        self.present = bool(given)
        self.attrs = ExpressionAttributes(names, values)
        self.update: Update | None = None
        self.condition: Condition | None = None
        self.filter: Condition | None = None
        self.projection: list[Path] | None = None
        if params.get("UpdateExpression") is not None:
            self.update = parse_update(params["UpdateExpression"], self.attrs)
        if params.get("ConditionExpression") is not None:
            self.condition = parse_condition(params["ConditionExpression"], self.attrs)
        if params.get("FilterExpression") is not None:
            self.filter = parse_condition(
                params["FilterExpression"], self.attrs, kind="FilterExpression"
            )
        if params.get("ProjectionExpression") is not None:
            self.projection = parse_projection(params["ProjectionExpression"], self.attrs)
        if not defer_finish:
            self.finish()

    def finish(self) -> None:
        """After the request's last expression is parsed: refuse unused placeholders."""
        if self.present:
            self.attrs.check_unused()

    def check(self, item: Item | None, params: dict[str, Any]) -> None:
        """Raise ConditionalCheckFailedException unless the ConditionExpression holds."""
        if self.condition is None or self.condition.evaluate(item or {}):
            return
        fields: dict[str, Any] = {}
        wanted = params.get("ReturnValuesOnConditionCheckFailure") or "NONE"
        if wanted == "ALL_OLD" and item is not None:
            fields["Item"] = item
        raise ServiceError(
            "The conditional request failed", code="ConditionalCheckFailedException", **fields
        )

    def keep(self, item: Item) -> bool:
        return self.filter is None or self.filter.evaluate(item)
