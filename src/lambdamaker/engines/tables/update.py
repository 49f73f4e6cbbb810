"""UpdateExpression: parsing (SET / REMOVE / ADD / DELETE) and application to an item.

Grammar::

    update   := clause+                       each of SET/REMOVE/ADD/DELETE at most once
    SET      := path '=' value (',' path '=' value)*
    value    := term (('+' | '-') term)?
    term     := :value | path | if_not_exists(path, term) | list_append(term, term)
    REMOVE   := path (',' path)*
    ADD      := path :value (',' path :value)*     numbers and sets
    DELETE   := path :value (',' path :value)*     sets

Invariants: no two target paths overlap or conflict (DynamoDB rejects the expression; errors
are ranked over the whole expression, see ``grammar``); every
right-hand side is evaluated against the *original* item, then SETs, REMOVEs (list indexes of a
list removed highest first, so indexes keep meaning the original positions), ADDs and DELETEs
are applied to a copy-on-write of the item (only the values on changed paths are copied, the
rest is shared with the input); the input item and its values are never mutated. A DELETE that empties a set removes
the attribute. Setting a list index past the end appends (several such SETs in index order).
REMOVE under a missing or mistyped parent is an error, except on a new item (``new_item``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lambdamaker.engines.tables import lexer
from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.grammar import FLAT_PRIORITY, BaseParser
from lambdamaker.engines.tables.nodes import PathOperand, ValueOperand
from lambdamaker.engines.tables.paths import Path, get_path, path_clashes
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

KIND = "UpdateExpression"
CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
NOT_IN_UPDATES = frozenset(
    {
        "size",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
    }
)
_LONG_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "L": "LIST",
    "M": "MAP",
    "SS": "STRING SET",
    "NS": "NUMBER SET",
    "BS": "BINARY SET",
}


@dataclass(frozen=True, slots=True)
class IfNotExists:
    path: Path
    default: Term


@dataclass(frozen=True, slots=True)
class ListAppend:
    first: Term
    second: Term


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str  # + or -
    left: Term
    right: Term


Term = PathOperand | ValueOperand | IfNotExists | ListAppend
SetValue = Term | Arithmetic


@dataclass
class Update:
    """A parsed UpdateExpression; apply it with ``apply_update``."""

    sets: list[tuple[Path, SetValue]] = field(default_factory=list)
    removes: list[Path] = field(default_factory=list)
    adds: list[tuple[Path, TypedValue]] = field(default_factory=list)
    deletes: list[tuple[Path, TypedValue]] = field(default_factory=list)
    # Every clause's target path in source order: ``project(new_item, update.targets)`` gives
    # ReturnValues=UPDATED_NEW, and the heads tell the provider whether a key is touched.
    targets: list[Path] = field(default_factory=list)


class UpdateParser(BaseParser):
    def parse(self) -> Update:
        update = Update()
        seen: set[str] = set()
        if self.peek().kind == lexer.EOF:
            raise self.syntax_error()
        while self.peek().kind != lexer.EOF:
            token = self.peek()
            clause = token.text.upper() if token.kind == lexer.NAME else ""
            if clause not in CLAUSES:
                raise self.syntax_error()
            if clause in seen:
                self.defer(
                    "section",
                    f'The "{clause}" section can only be used once in an update expression;',
                )
            seen.add(clause)
            self.advance()
            while True:
                self.action(clause, update)
                if not self.at(","):
                    break
                self.advance()
        for category, message in path_clashes(update.targets).items():
            self.defer(category, message)
        self.finish_flat(FLAT_PRIORITY)
        return update

    def action(self, clause: str, update: Update) -> None:
        path = self.path()
        update.targets.append(path)
        if clause == "SET":
            self.expect("=")
            update.sets.append((path, self.set_value()))
        elif clause == "REMOVE":
            update.removes.append(path)
        else:
            operand = self.value()
            value = operand.value
            kind = self.literal_type(operand)
            allowed = ("N", "SS", "NS", "BS") if clause == "ADD" else ("SS", "NS", "BS")
            if kind is not None and kind not in allowed:
                self.defer(
                    "function",
                    "Incorrect operand type for operator or function; operator:"
                    f" {clause}, operand type: {_LONG_NAMES[kind]}, typeSet:"
                    f" ALLOWED_FOR_{clause}_OPERAND",
                )
            (update.adds if clause == "ADD" else update.deletes).append((path, value))

    def set_value(self) -> SetValue:
        left = self.term()
        if self.at("+") or self.at("-"):
            op = self.advance().text
            right = self.term()
            for side in (left, right):
                kind = self.literal_type(side)
                if kind is not None and kind != "N":
                    self.bad_operand(op, kind)
                    break
            return Arithmetic(op, left, right)
        return left

    def bad_operand(self, name: str, kind: str) -> None:
        self.defer(
            "function",
            "Incorrect operand type for operator or function; operator or function:"
            f" {name}, operand type: {kind}",
        )

    def term(self) -> Term:
        token = self.peek()
        if token.kind == lexer.ATTR_VALUE:
            return self.value()
        if self.at_function():
            name = token.text
            self.advance()
            self.expect("(")
            args = [self.term()]
            while self.at(","):
                self.advance()
                args.append(self.term())
            self.expect(")")
            if name not in ("if_not_exists", "list_append"):
                if name in NOT_IN_UPDATES:
                    self.defer(
                        "misusedFunction",
                        f"The function is not allowed in an update expression; function: {name}",
                    )
                else:
                    self.defer("unknownFunction", f"Invalid function name; function: {name}")
                return args[0]  # never applied: finish() raises
            if len(args) != 2:
                self.defer(
                    "operand",
                    "Incorrect number of operands for operator or function; operator or"
                    f" function: {name}, number of operands: {len(args)}",
                )
                return args[0]
            if name == "if_not_exists":
                if not isinstance(args[0], PathOperand):
                    self.defer(
                        "function",
                        "Operator or function requires a document path; operator or function:"
                        " if_not_exists",
                    )
                    return args[0]
                return IfNotExists(args[0].path, args[1])
            for arg in args:
                kind = self.literal_type(arg)
                if kind is not None and kind != "L":
                    self.bad_operand(name, kind)
                    break
            return ListAppend(args[0], args[1])
        if token.kind in (lexer.NAME, lexer.ATTR_NAME):
            return PathOperand(self.path())
        raise self.syntax_error()


def parse_update(text: str, attrs: ExpressionAttributes) -> Update:
    return UpdateParser(text, KIND, attrs).parse()


# -- application -------------------------------------------------------------------------------


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
