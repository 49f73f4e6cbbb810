"""UpdateExpression application: a parsed ``Update`` (``update.py``) applied to an item.

Invariants: every right-hand side is evaluated against the *original* item, then SETs, REMOVEs
(list indexes of a list removed highest first, so indexes keep meaning the original positions),
ADDs and DELETEs are applied to a copy-on-write of the item (only the values on changed paths
are copied, the rest is shared with the input); the input item and its values are never
mutated. A DELETE that empties a set removes the attribute. Setting a list index past the end
appends (several such SETs in index order). REMOVE under a missing or mistyped parent is an
error, except on a new item (``new_item``).
"""

from __future__ import annotations

import copy

from lambdamaker.engines.tables.nodes import PathOperand, ValueOperand
from lambdamaker.engines.tables.paths import Path, get_path
from lambdamaker.engines.tables.update import (
    Arithmetic,
    IfNotExists,
    SetValue,
    Term,
    Update,
)
from lambdamaker.engines.tables.values import (
    Item,
    TypedValue,
    add_numbers,
    format_number,
    parse_number,
    set_members,
    subtract_numbers,
    type_of,
    value_key,
)
from lambdamaker.errors import ValidationError


def _bad_type() -> ValidationError:
    return ValidationError("An operand in the update expression has an incorrect data type")


def _invalid_path() -> ValidationError:
    return ValidationError(
        "The document path provided in the update expression is invalid for update"
    )


def _term(term: Term, item: Item) -> TypedValue:
    if isinstance(term, ValueOperand):
        return term.value
    if isinstance(term, PathOperand):
        value = get_path(item, term.path)
        if value is None:
            raise ValidationError(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return value
    if isinstance(term, IfNotExists):
        existing = get_path(item, term.path)
        return existing if existing is not None else _term(term.default, item)
    first, second = _term(term.first, item), _term(term.second, item)
    if type_of(first) != "L" or type_of(second) != "L":
        raise _bad_type()
    return {"L": [*first["L"], *second["L"]]}


def _set_value(value: SetValue, item: Item) -> TypedValue:
    if not isinstance(value, Arithmetic):
        return _term(value, item)
    left, right = _term(value.left, item), _term(value.right, item)
    if type_of(left) != "N" or type_of(right) != "N":
        raise _bad_type()
    a, b = parse_number(left["N"]), parse_number(right["N"])
    result = add_numbers(a, b) if value.op == "+" else subtract_numbers(a, b)
    return {"N": format_number(result)}


def _writable(item: Item, path: Path, owned: dict[int, object]) -> TypedValue:
    """The existing value at ``path`` (a map or list, as ``get_path`` found it), made safe to
    change: each value on the way and its ``L``/``M`` container is replaced in its parent by a
    shallow copy, unless this update already made it (``owned``: those copies by id, held so
    that no id is reused). Copy-on-write: what the update does not touch stays shared with the input."""
    head = str(path[0])
    current = item[head]
    if id(current) not in owned:
        current = item[head] = _own(current, owned)
    for element in path[1:]:
        members: dict[str, TypedValue] | list[TypedValue] = (
            current["L"] if isinstance(element, int) else current["M"]
        )
        child = members[element]  # type: ignore[index]
        if id(child) not in owned:
            child = members[element] = _own(child, owned)  # type: ignore[index]
        current = child
    return current


def _own(value: TypedValue, owned: dict[int, object]) -> TypedValue:
    """A copy of ``value`` whose ``L``/``M`` container (if any) is a copy too, both recorded."""
    copied = dict(value)
    for kind in ("L", "M"):
        inner = copied.get(kind)
        if inner is not None:
            copied[kind] = inner = list(inner) if kind == "L" else dict(inner)
            owned[id(inner)] = inner
    owned[id(copied)] = copied
    return copied


def _assign(item: Item, path: Path, value: TypedValue, owned: dict[int, object]) -> None:
    if len(path) == 1:
        item[str(path[0])] = value
        return
    parent = get_path(item, path[:-1])
    last = path[-1]
    if parent is None:
        raise _invalid_path()
    if ("L" if isinstance(last, int) else "M") in parent:
        parent = _writable(item, path[:-1], owned)
    if isinstance(last, int):
        if "L" not in parent:
            raise _invalid_path()
        elements = parent["L"]
        if last < len(elements):
            elements[last] = value
        else:
            elements.append(value)
    else:
        if "M" not in parent:
            raise _invalid_path()
        parent["M"][last] = value


def _remove(
    item: Item, paths: list[Path], owned: dict[int, object], *, lenient: bool = False
) -> None:
    """Remove ``paths``; a missing leaf is ignored, a missing or mistyped parent is an error
    (ignored too when ``lenient``: DynamoDB tolerates it when the item does not exist)."""

    # Highest list indexes first, so earlier removals don't shift later ones.
    def order(path: Path) -> tuple[int, int]:
        last = path[-1]
        return (0, -last) if isinstance(last, int) else (1, 0)

    for path in sorted(paths, key=order):
        if len(path) == 1:
            item.pop(str(path[0]), None)
            continue
        parent = get_path(item, path[:-1])
        last = path[-1]
        container = "L" if isinstance(last, int) else "M"
        if parent is None or container not in parent:
            if lenient:
                continue
            raise _invalid_path()
        parent = _writable(item, path[:-1], owned)
        if isinstance(last, int):
            if last < len(parent["L"]):
                del parent["L"][last]
        else:
            parent["M"].pop(last, None)


def _set_union(existing: TypedValue, extra: TypedValue) -> TypedValue:
    kind = type_of(existing)
    members = list(existing[kind])
    seen = {value_key(m) for m in set_members(existing)}
    for member in set_members(extra):
        key = value_key(member)
        if key not in seen:  # numbers compare numerically: "2.0" is already "2"
            seen.add(key)
            members.append(member[kind[0]])
    return {kind: members}


def _set_difference(existing: TypedValue, removed: TypedValue) -> TypedValue:
    kind = type_of(existing)
    gone = {value_key(m) for m in set_members(removed)}
    return {kind: [m[kind[0]] for m in set_members(existing) if value_key(m) not in gone]}


def apply_update(item: Item, update: Update, *, new_item: bool = False) -> Item:
    """The item after ``update``; ``item`` and every value in it are left untouched (the result
    is a copy-on-write of it: values the update does not change stay shared, see ``_writable``),
    also when the update fails part way.

    ``new_item`` says the item did not exist before (the provider passes just its key): then,
    as in DynamoDB, REMOVE of a nested path under a missing attribute is silently ignored.
    """
    values = [(path, _set_value(value, item)) for path, value in update.sets]

    # Several SETs past the end of one list append in index order, not in source order.
    def order(pair: tuple[Path, TypedValue]) -> tuple[int, int]:
        last = pair[0][-1]
        return (0, last) if isinstance(last, int) else (1, 0)

    result = dict(item)
    owned: dict[int, object] = {}
    for path, value in sorted(values, key=order):
        _assign(result, path, copy.deepcopy(value), owned)
    _remove(result, update.removes, owned, lenient=new_item)
    for path, value in update.adds:
        existing = get_path(result, path)
        if existing is None:
            _assign(result, path, copy.deepcopy(value), owned)
        elif type_of(existing) != type_of(value):
            raise _bad_type()
        elif type_of(value) == "N":
            total = add_numbers(parse_number(existing["N"]), parse_number(value["N"]))
            _assign(result, path, {"N": format_number(total)}, owned)
        else:
            _assign(result, path, _set_union(existing, value), owned)
    for path, value in update.deletes:
        existing = get_path(result, path)
        if existing is None:
            continue
        if type_of(existing) != type_of(value):
            raise _bad_type()
        remaining = _set_difference(existing, value)
        if remaining[type_of(remaining)]:
            _assign(result, path, remaining, owned)
        else:
            _remove(result, [path], owned)
    return result
