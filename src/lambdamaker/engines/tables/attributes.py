"""ExpressionAttributeNames / ExpressionAttributeValues: resolution and usage tracking.

Invariants: one ``ExpressionAttributes`` is shared by every expression of one request
(condition + update + projection...), because DynamoDB's "unused" check spans them all; the
provider calls ``check_unused()`` after parsing the last one. Placeholders are validated when
the object is built (keys must start with ``#`` / ``:``, maps must not be empty).
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdamaker.engines.tables.items import check_value
from lambdamaker.engines.tables.values import TypedValue
from lambdamaker.errors import ValidationError


class ExpressionAttributes:
    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, TypedValue] | None = None,
    ) -> None:
        if names is not None and not names:
            raise ValidationError("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise ValidationError("ExpressionAttributeValues must not be empty")
        for key in names or {}:
            if not key.startswith("#") or len(key) < 2:
                raise ValidationError(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
        for key, value in (values or {}).items():
            if not key.startswith(":") or len(key) < 2:
                raise ValidationError(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
            if not _plainly_valid(value):
                _check_value(key, value)
        self.names: dict[str, str] = dict(names or {})
        self.values: dict[str, TypedValue] = dict(values or {})
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def name(self, placeholder: str) -> str | None:
        """The attribute name for ``#placeholder`` (marking it used), ``None`` if undefined."""
        if placeholder not in self.names:
            return None
        self.used_names.add(placeholder)
        return self.names[placeholder]

    def value(self, placeholder: str) -> TypedValue | None:
        """The typed value for ``:placeholder`` (marking it used), ``None`` if undefined."""
        if placeholder not in self.values:
            return None
        self.used_values.add(placeholder)
        return self.values[placeholder]

    def check_unused(self) -> None:
        """Raise DynamoDB's error for placeholders that no expression referenced."""
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            raise ValidationError(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
                + ", ".join(unused_names)
                + "}"
            )
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            raise ValidationError(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
                + ", ".join(unused_values)
                + "}"
            )


def _plainly_valid(value: object) -> bool:
    """True for the commonest values that ``check_value`` would accept at once: a string, or a
    number of at most 38 ASCII digits (no sign, point or exponent; in DynamoDB's range). Anything
    else (False) goes through the full check; this only skips work, never an error."""
    if type(value) is not dict or len(value) != 1:
        return False
    inner = value.get("S")
    if inner is not None:
        return type(inner) is str
    inner = value.get("N")
    return type(inner) is str and 0 < len(inner) <= 38 and inner.isascii() and inner.isdigit()


def _check_value(key: str, value: TypedValue) -> None:
    """DynamoDB's checks of one ExpressionAttributeValues entry, with its message shape."""
    try:
        check_value(value)
    except ValidationError as error:
        raise ValidationError(
            f"ExpressionAttributeValues contains invalid value: {error.message} for key {key}"
        ) from None
