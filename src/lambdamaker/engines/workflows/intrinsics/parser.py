"""Lexer and recursive-descent parser for intrinsic calls: ``States.Name(arg, ...)``.

Grammar (AWS's, as LocalStack's ANTLR grammar writes it down)::

    call  := 'States' '.' NAME '(' [arg (',' arg)*] ')'
    arg   := STRING | NUMBER | 'true' | 'false' | 'null' | PATH | call
    PATH  := '$$' body | '$' NAME body | '$' body      (context / variable / data)
    body  := ('[' ... ']' | '.' NAME? )*               (brackets may nest)

String literals are single-quoted; the only escapes are ``\\'``, ``\\{``, ``\\}`` and
``\\\\`` (anything else after a backslash, and raw control characters, are syntax errors, as
AWS rejects them when it validates a definition). Whitespace between tokens is ignored.

Invariants:
- ``parse`` either returns an immutable tree or raises ``IntrinsicSyntaxError`` (a
  ``ValueError``) with the offending position; it never evaluates anything;
- a string literal keeps its raw text (escapes intact) next to its value, because
  ``States.Format`` must tell an escaped ``\\{`` from a placeholder ``{}``;
- parse results are cached per expression string (definitions repeat the same calls).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

_ESCAPABLE = frozenset("'{}\\")
_WHITESPACE = frozenset(" \t\n\r")


class IntrinsicSyntaxError(ValueError):
    """The expression is not a well-formed intrinsic call."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument; ``raw`` is a string literal's text between the quotes."""

    value: Any
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class PathArg:
    """A path argument (``$...``, ``$$...`` or ``$name...``), read when the call runs."""

    path: str


@dataclass(frozen=True, slots=True)
class Call:
    """``States.<name>(args)``; ``name`` is the full name, e.g. ``States.Format``."""

    name: str
    args: tuple[Literal | PathArg | Call, ...]


Node = Literal | PathArg | Call


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"{message} at position {self.pos} in '{self.text}'")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        self.skip_ws()
        if self.peek() != ch:
            found = repr(self.peek()) if self.peek() else "end of expression"
            raise self.fail(f"expected '{ch}' but found {found}")
        self.pos += 1

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and _is_name_char(self.text[self.pos]):
            self.pos += 1
        return self.text[start : self.pos]

    def call(self) -> Call:
        self.skip_ws()
        start = self.pos
        if self.name() != "States":
            self.pos = start
            raise self.fail("expected an intrinsic function 'States.<name>(...)'")
        self.expect(".")
        fname = self.name()
        if not fname:
            raise self.fail("expected a function name after 'States.'")
        self.expect("(")
        args: list[Node] = []
        self.skip_ws()
        if self.peek() == ")":
            self.pos += 1
            return Call(f"States.{fname}", ())
        while True:
            args.append(self.arg())
            self.skip_ws()
            ch = self.peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == ")":
                self.pos += 1
                return Call(f"States.{fname}", tuple(args))
            found = repr(ch) if ch else "end of expression"
            raise self.fail(f"expected ',' or ')' but found {found}")

    def arg(self) -> Node:
        self.skip_ws()
        ch = self.peek()
        if ch == "'":
            return self.string()
        if ch == "$":
            return self.path()
        if ch == "-" or ch.isdigit():
            return self.number()
        if ch.isalpha():
            start = self.pos
            word = self.name()
            if word == "true":
                return Literal(True)
            if word == "false":
                return Literal(False)
            if word == "null":
                return Literal(None)
            if word == "States":
                self.pos = start
                return self.call()
            self.pos = start
            raise self.fail(f"unexpected '{word}'")
        if not ch:
            raise self.fail("expected an argument but found end of expression")
        raise self.fail(f"unexpected {ch!r}")

    def string(self) -> Literal:
        self.pos += 1  # the opening quote
        start = self.pos
        value: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                self.pos = start - 1
                raise self.fail("unterminated string literal")
            ch = text[self.pos]
            if ch == "'":
                raw = text[start : self.pos]
                self.pos += 1
                return Literal("".join(value), raw)
            if ch == "\\":
                nxt = text[self.pos + 1 : self.pos + 2]
                if nxt not in _ESCAPABLE or not nxt:
                    raise self.fail(f"invalid escape sequence '\\{nxt}'")
                value.append(nxt)
                self.pos += 2
                continue
            if ord(ch) < 0x20:
                raise self.fail("control character in string literal")
            value.append(ch)
            self.pos += 1

    def number(self) -> Literal:
        start = self.pos
        text = self.text
        if self.peek() == "-":
            self.pos += 1
        digits = self.pos
        while self.pos < len(text) and text[self.pos].isdigit():
            self.pos += 1
        if self.pos == digits:
            raise self.fail("invalid number")
        if text[digits] == "0" and self.pos - digits > 1:
            raise self.fail("invalid number (leading zero)")
        is_float = False
        if self.peek() == ".":
            self.pos += 1
            frac = self.pos
            while self.pos < len(text) and text[self.pos].isdigit():
                self.pos += 1
            if self.pos == frac:
                raise self.fail("invalid number")
            is_float = True
        if self.peek() in ("e", "E"):
            self.pos += 1
            if self.peek() in ("+", "-"):
                self.pos += 1
            exp = self.pos
            while self.pos < len(text) and text[self.pos].isdigit():
                self.pos += 1
            if self.pos == exp:
                raise self.fail("invalid number")
            is_float = True
        token = text[start : self.pos]
        return Literal(float(token) if is_float else int(token))

    def path(self) -> PathArg:
        start = self.pos
        text = self.text
        self.pos += 1
        if self.peek() == "$":
            self.pos += 1
        elif _is_name_char(self.peek()):
            self.name()  # a variable's name
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == ".":
                self.pos += 1
                while self.pos < len(text) and (
                    _is_name_char(text[self.pos]) or text[self.pos] == "*"
                ):
                    self.pos += 1
            elif ch == "[":
                self.bracket()
            else:
                break
        return PathArg(text[start : self.pos])

    def bracket(self) -> None:
        # Brackets may nest (filters such as ``[?(@.a[0] > 1)]``); their content is the path
        # library's business, we only find where the bracket ends.
        depth = 0
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            self.pos += 1
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return
        raise self.fail("unterminated '[' in path")


@functools.lru_cache(maxsize=4096)
def parse(expression: str) -> Call:
    """The call tree of ``expression``; IntrinsicSyntaxError when it is not one call."""
    parser = _Parser(expression)
    node = parser.call()
    parser.skip_ws()
    if parser.pos != len(expression):
        raise parser.fail(f"unexpected {expression[parser.pos]!r} after the call")
    return node
