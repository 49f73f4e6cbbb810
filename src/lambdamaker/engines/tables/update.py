"""UpdateExpression parsing (SET / REMOVE / ADD / DELETE); ``update_apply`` applies the result.

Grammar::

    update   := clause+                       each of SET/REMOVE/ADD/DELETE at most once
    SET      := path '=' value (',' path '=' value)*
    value    := term (('+' | '-') term)?
    term     := :value | path | if_not_exists(path, term) | list_append(term, term)
    REMOVE   := path (',' path)*
    ADD      := path :value (',' path :value)*     numbers and sets
    DELETE   := path :value (',' path :value)*     sets

Invariants: no two target paths overlap or conflict (DynamoDB rejects the expression; errors
are ranked over the whole expression, see ``grammar``); operand types known at parse time (ADD
and DELETE values) are checked here, everything that depends on the item when it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lambdamaker.engines.tables import lexer
from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.grammar import FLAT_PRIORITY, BaseParser
from lambdamaker.engines.tables.nodes import PathOperand, ValueOperand
from lambdamaker.engines.tables.paths import Path, path_clashes
from lambdamaker.engines.tables.values import (
    TypedValue,
)

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
