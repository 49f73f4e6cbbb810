"""Shared parser machinery: token cursor, deferred errors, document paths and placeholders.

Invariants: a syntax error is raised at once (as ``lexer.SyntaxProblem``, which carries the
offset so a backtracking parser can keep the one that read furthest); semantic errors are
*deferred* by category and only the one DynamoDB reports first is raised once the whole
expression has parsed (``finish`` for conditions, ranked per leaf condition; ``finish_flat``
for updates and projections, ranked over the whole expression). Placeholders resolve through
``ExpressionAttributes``, which records their use for the request-wide "unused" check.
"""

from __future__ import annotations

from lambdamaker.engines.tables import lexer
from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.lexer import Token
from lambdamaker.engines.tables.nodes import SizeOperand, ValueOperand
from lambdamaker.engines.tables.paths import MAX_DEPTH, Path, PathElement
from lambdamaker.engines.tables.reserved import is_reserved
from lambdamaker.engines.tables.values import type_of
from lambdamaker.errors import ValidationError

# Deferred error categories, in the order DynamoDB reports them.
TOP_PRIORITY = ("parens", "unknownFunction", "misusedFunction", "reserved", "condition")
LEAF_PRIORITY = ("attrNameVal", "operand", "distinct", "function")
# Update and projection expressions: one ranking over the whole expression, path clashes
# after undefined placeholders and before operand errors.
FLAT_PRIORITY = (
    "parens",
    "unknownFunction",
    "misusedFunction",
    "reserved",
    "section",
    "attrNameVal",
    "overlap",
    "conflict",
    "operand",
    "function",
)
_UNRESOLVED: dict[str, bool] = {"NULL": True}
OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})


class BaseParser:
    """Token cursor, deferred errors, and the path/placeholder grammar every kind shares."""

    def __init__(self, source: str, kind: str, attrs: ExpressionAttributes) -> None:
        if not source or not source.strip():
            raise ValidationError(f"Invalid {kind}: The expression can not be empty;")
        self.source = source
        self.kind = kind
        self.attrs = attrs
        self.tokens = lexer.tokenize(source)
        self.pos = 0
        self.deferred: dict[str, str] = {}
        self.pending: dict[str, str] = {}

    # -- cursor ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        if token.kind != lexer.EOF:
            self.pos += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == lexer.PUNCT and token.text == text

    def at_word(self, word: str) -> bool:
        return self.peek().is_word(word)

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.syntax_error()
        return self.advance()

    def expect_end(self) -> None:
        if self.peek().kind != lexer.EOF:
            raise self.syntax_error()

    def syntax_error(self, token: Token | None = None) -> lexer.SyntaxProblem:
        return lexer.syntax_error(self.kind, self.source, self.tokens, token or self.peek())

    def invalid(self, message: str) -> ValidationError:
        return ValidationError(f"Invalid {self.kind}: {message}")

    # -- deferred errors ------------------------------------------------------------------
    def defer(self, category: str, message: str) -> None:
        """Remember an error; the first one of each category wins."""
        target = self.pending if category in LEAF_PRIORITY else self.deferred
        target.setdefault(category, message)

    def settle(self) -> None:
        """Close a leaf condition/action: its highest-priority error becomes the expression's."""
        if "condition" not in self.deferred:
            for category in LEAF_PRIORITY:
                if category in self.pending:
                    self.deferred["condition"] = self.pending[category]
                    break
        self.pending.clear()

    def finish(self) -> None:
        """Raise the error DynamoDB would report, if any was deferred (condition grammar)."""
        self.settle()
        for category in TOP_PRIORITY:
            if category in self.deferred:
                raise self.invalid(self.deferred[category])

    def finish_flat(self, order: tuple[str, ...]) -> None:
        """Raise the first deferred error in ``order`` (update and projection grammars, where
        DynamoDB ranks errors across the whole expression rather than per condition)."""
        found = {**self.pending, **self.deferred}
        for category in order:
            if category in found:
                raise self.invalid(found[category])

    # -- paths and operands ---------------------------------------------------------------
    def path_element(self) -> str:
        token = self.advance()
        if token.kind == lexer.ATTR_NAME:
            name = self.attrs.name(token.text)
            if name is None:
                self.defer(
                    "attrNameVal",
                    "An expression attribute name used in the document path is not defined;"
                    f" attribute name: {token.text}",
                )
                return token.text
            return name
        if token.kind == lexer.NAME:
            if token.text.upper() in OPERATOR_WORDS:
                raise self.syntax_error(token)  # a keyword can never start a name
            if is_reserved(token.text):
                self.defer(
                    "reserved",
                    f"Attribute name is a reserved keyword; reserved keyword: {token.text}",
                )
            return token.text
        raise self.syntax_error(token)

    def path(self) -> Path:
        return self.path_tail([self.path_element()])

    def path_tail(self, elements: list[PathElement]) -> Path:
        """Continue a path with ``.name`` / ``[index]`` steps."""
        while True:
            if self.at("."):
                self.advance()
                elements.append(self.path_element())
            elif self.at("["):
                self.advance()
                token = self.advance()
                if token.kind != lexer.INDEX:
                    raise self.syntax_error(token)
                elements.append(int(token.text))
                self.expect("]")
            else:
                break
        if len(elements) > MAX_DEPTH:
            raise self.invalid(
                f"The document path has too many nesting levels; nesting levels: {len(elements)}"
            )
        return tuple(elements)

    def value(self) -> ValueOperand:
        token = self.advance()
        if token.kind != lexer.ATTR_VALUE:
            raise self.syntax_error(token)
        value = self.attrs.value(token.text)
        if value is None:
            self.defer(
                "attrNameVal",
                "An expression attribute value used in expression is not defined;"
                f" attribute value: {token.text}",
            )
            return ValueOperand(_UNRESOLVED, token.text)
        return ValueOperand(value, token.text)

    def literal_type(self, operand: object) -> str | None:
        """The type of a resolved literal operand, ``None`` for paths and undefined values."""
        if isinstance(operand, ValueOperand) and operand.value is not _UNRESOLVED:
            return type_of(operand.value)
        return None

    def static_type(self, operand: object) -> str | None:
        """The type known before evaluation: a literal's, or N for ``size(...)``."""
        if isinstance(operand, SizeOperand):
            return "N"
        return self.literal_type(operand)

    def at_function(self) -> bool:
        nxt = self.peek(1)
        return self.peek().kind == lexer.NAME and nxt.kind == lexer.PUNCT and nxt.text == "("
