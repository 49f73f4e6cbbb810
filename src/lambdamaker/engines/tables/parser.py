"""Recursive-descent parser for condition / filter (and key condition) expressions.

Grammar (precedence low to high: OR, AND, NOT, then comparisons / BETWEEN / IN / functions;
any operand may be parenthesised)::

    condition  := and_expr (OR and_expr)*
    and_expr   := not_expr (AND not_expr)*
    not_expr   := NOT not_expr | primary
    primary    := '(' condition ')' | function '(' operand, ... ')'
                | operand comparator operand | operand BETWEEN operand AND operand
                | operand IN '(' operand (',' operand)* ')'
    operand    := path | :value | size '(' operand ')' | '(' operand ')'
    path       := (name | #name) ('.' (name | #name) | '[' digits ']')*   names start with a letter

Invariants: errors carry DynamoDB's ValidationException texts prefixed with
``Invalid <kind>:``. A syntax error is raised at once; semantic errors are *deferred* (see
``grammar``) and, once the whole expression parsed, the one DynamoDB reports first is raised,
by category priority (redundant parentheses, unknown function, misused function, reserved word, then the first leaf
condition's own error: undefined placeholder, operand count, identical operands, operand type).
Literal-only mistakes (wrong operand type, reversed BETWEEN bounds) are parse errors;
item-dependent ones never raise.
"""

from __future__ import annotations

from lambdamaker.engines.tables import lexer
from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.grammar import BaseParser
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
from lambdamaker.engines.tables.paths import format_path
from lambdamaker.engines.tables.values import TYPE_NAMES, compare, render

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
BOOLEAN_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
MAX_IN_OPERANDS = 100


class ConditionParser(BaseParser):
    def __init__(self, source: str, kind: str, attrs: ExpressionAttributes) -> None:
        super().__init__(source, kind, attrs)
        # Nodes produced directly by a '(...)' group, by id; values keep them alive so an id
        # is never reused while it is in here.
        self.grouped: dict[int, object] = {}

    def parse(self) -> Node:
        node = self.or_expr()
        self.expect_end()
        self.finish()
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.at_word("OR"):
            self.advance()
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.at_word("AND"):
            self.advance()
            node = And(node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.at_word("NOT"):
            self.advance()
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        if not self.at("("):
            return self.leaf_settled()
        # '(' opens either a condition group or a parenthesised operand (``(a) = :v``): try the
        # group, and fall back to a leaf; when both fail, report the error that read furthest.
        saved = (self.pos, dict(self.deferred), dict(self.pending), dict(self.grouped))
        try:
            node = self.group()
            if not self.at_operator():
                return node
            first_error: lexer.SyntaxProblem | None = None
        except lexer.SyntaxProblem as error:
            first_error = error
        self.pos, self.deferred, self.pending, self.grouped = (
            saved[0],
            saved[1],
            saved[2],
            saved[3],
        )
        try:
            return self.leaf_settled()
        except lexer.SyntaxProblem as error:
            if first_error is not None and first_error.position > error.position:
                raise first_error from None
            raise

    def group(self) -> Node:
        self.expect("(")
        node = self.or_expr()
        self.expect(")")
        if id(node) in self.grouped:
            self.defer("parens", "The expression has redundant parentheses;")
        self.grouped[id(node)] = node
        return node

    def at_operator(self) -> bool:
        token = self.peek()
        if token.kind == lexer.PUNCT and token.text in COMPARATORS:
            return True
        return token.is_word("BETWEEN") or token.is_word("IN")

    def leaf_settled(self) -> Node:
        node = self.leaf()
        self.settle()
        return node

    def leaf(self) -> Node:
        if self.at_function() and self.peek().text in BOOLEAN_FUNCTIONS:
            node = self.boolean_function()
            if self.peek().kind == lexer.PUNCT and self.peek().text in COMPARATORS:
                self.misused(node.name)
                self.advance()
                self.operand()
            return node
        was_call = self.at_function()
        left = self.operand()
        token = self.peek()
        if token.kind == lexer.PUNCT and token.text in COMPARATORS:
            self.advance()
            right = self.operand()
            self.check_ordered(token.text, left, right)
            self.check_distinct(token.text, left, right)
            return Comparison(token.text, left, right)
        if token.is_word("BETWEEN"):
            self.advance()
            low = self.operand()
            if not self.at_word("AND"):
                raise self.syntax_error()
            self.advance()
            high = self.operand()
            self.check_between(low, high)
            return Between(left, low, high)
        if token.is_word("IN"):
            self.advance()
            self.expect("(")
            choices = [self.operand()]
            while self.at(","):
                self.advance()
                choices.append(self.operand())
            self.expect(")")
            for choice in choices:
                self.check_distinct("IN", left, choice)
            if len(choices) > MAX_IN_OPERANDS:
                self.defer(
                    "operand",
                    "The IN operator is provided with too many operands; number of operands:"
                    f" {len(choices)}",
                )
            return In(left, tuple(choices))
        if isinstance(left, SizeOperand):
            self.misused("size")
        elif not (
            was_call and ("unknownFunction" in self.deferred or "misusedFunction" in self.deferred)
        ):
            raise self.syntax_error()
        return Comparison("=", left, left)  # never returned: finish() raises

    def misused(self, name: str) -> None:
        self.defer(
            "misusedFunction",
            f"The function is not allowed to be used this way in an expression; function: {name}",
        )

    def operand(self) -> Operand:
        token = self.peek()
        if self.at("("):
            self.advance()
            inner = self.operand()
            self.expect(")")
            if id(inner) in self.grouped:
                self.defer("parens", "The expression has redundant parentheses;")
            if isinstance(inner, PathOperand) and (self.at(".") or self.at("[")):
                return PathOperand(self.path_tail(list(inner.path)))  # ``(a.b).c``
            self.grouped[id(inner)] = inner
            return inner
        if token.kind == lexer.ATTR_VALUE:
            return self.value()
        if self.at_function():
            name = token.text
            args = self.call_arguments()
            if name == "size":
                self.check_arity(name, args, 1)
                kind = self.static_type(args[0])
                if kind in ("N", "BOOL", "NULL"):
                    self.bad_operand(name, kind)
                return SizeOperand(args[0])
            if name in BOOLEAN_FUNCTIONS:
                self.misused(name)
            elif name in ("if_not_exists", "list_append"):
                self.defer(
                    "misusedFunction",
                    f"The function is not allowed in a condition expression; function: {name}",
                )
            else:
                self.defer("unknownFunction", f"Invalid function name; function: {name}")
            return args[0]  # never evaluated: finish() raises
        if token.kind in (lexer.NAME, lexer.ATTR_NAME):
            return PathOperand(self.path())
        raise self.syntax_error()

    def call_arguments(self) -> list[Operand]:
        self.advance()  # function name
        self.expect("(")
        args = [self.operand()]
        while self.at(","):
            self.advance()
            args.append(self.operand())
        self.expect(")")
        return args

    def check_arity(self, name: str, args: list[Operand], count: int) -> bool:
        if len(args) != count:
            self.defer(
                "operand",
                "Incorrect number of operands for operator or function; operator or function:"
                f" {name}, number of operands: {len(args)}",
            )
            return False
        return True

    def boolean_function(self) -> Function:
        name = self.peek().text
        args = self.call_arguments()
        if not self.check_arity(name, args, BOOLEAN_FUNCTIONS[name]):
            return Function(name, tuple(args))
        if len(args) == 2:
            self.check_distinct(name, args[0], args[1])
        if name in ("attribute_exists", "attribute_not_exists") and not isinstance(
            args[0], PathOperand
        ):
            self.defer(
                "function",
                f"Operator or function requires a document path; operator or function: {name}",
            )
        if name == "attribute_type":
            second = args[1]
            kind = self.static_type(second)
            if isinstance(second, ValueOperand) and kind is None:
                pass  # undefined placeholder, reported on its own
            elif kind != "S":
                self.bad_operand(name, kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
            elif isinstance(second, ValueOperand) and second.value["S"] not in TYPE_NAMES:
                self.defer(
                    "function",
                    f"Invalid attribute type name found; type: {second.value['S']}, valid"
                    " types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
                )
        if name == "begins_with":
            for arg in args:
                kind = self.static_type(arg)
                if kind is not None and kind not in ("S", "B"):
                    self.bad_operand(name, kind)
                    break
        return Function(name, tuple(args))

    def bad_operand(self, name: str, kind: str) -> None:
        self.defer(
            "function",
            "Incorrect operand type for operator or function; operator or function:"
            f" {name}, operand type: {kind}",
        )

    def check_distinct(self, name: str, left: Operand, right: Operand) -> None:
        if isinstance(left, PathOperand) and left == right:
            self.defer(
                "distinct",
                "The first operand must be distinct from the remaining operands for this operator"
                f" or function; operator: {name}, first operand: {format_path(left.path)}",
            )

    def check_ordered(self, op: str, left: Operand, right: Operand) -> None:
        if op in ("=", "<>"):
            return
        for side in (left, right):
            kind = self.literal_type(side)
            if kind is not None and kind not in ("N", "S", "B"):
                self.bad_operand(op, kind)
                return

    def check_between(self, low: Operand, high: Operand) -> None:
        low_kind, high_kind = self.literal_type(low), self.literal_type(high)
        if low_kind is None or high_kind is None:
            return
        assert isinstance(low, ValueOperand) and isinstance(high, ValueOperand)
        bounds = (
            f"lower bound operand: AttributeValue: {render(low.value)}, upper bound operand:"
            f" AttributeValue: {render(high.value)}"
        )
        order = compare(low.value, high.value)
        if low_kind != high_kind:
            self.defer(
                "function",
                f"The BETWEEN operator requires same data type for lower and upper bounds; {bounds}",
            )
        elif order is not None and order > 0:
            self.defer(
                "function",
                "The BETWEEN operator requires upper bound to be greater than or equal to lower"
                f" bound; {bounds}",
            )
