"""CloudWatch Logs filter patterns: a tokenizer, a parser and a matcher (no ``eval``).

The syntax is the one FilterLogEvents, metric filters and subscription filters share
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html). The
first character of the pattern picks one of four forms:

- **Terms** (anything else): ``ERROR``, ``"exact phrase"``, ``-excluded``, ``?either ?or``.
  Matching is case-sensitive substring search. An event matches when it contains every plain
  term, none of the ``-`` terms, and, if there are ``?`` terms, at least one of them. An empty
  pattern matches every event.
- **JSON** ``{ ... }``: the event must be a JSON object. Comparisons ``$.a.b[0] = "x"`` with
  ``= != < > <= >=``, ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``NOT EXISTS``, combined with
  ``&&`` (binds tighter) and ``||`` and parentheses. String values may start and/or end with a
  ``*`` wildcard (a ``*`` in the middle is literal, as AWS documents); ``= *`` means "has a
  value". A selector must reach a value, not an object or array, for ``=``/``!=`` to match.
- **Space-delimited** ``[ip, user, ..., status = 4*, bytes > 1000]``: the event is split into
  fields at whitespace (text inside ``"..."`` or ``[...]`` is one field, without its quotes or
  brackets); each pattern slot names a field, ``...`` matches any number of fields, and a slot
  may carry conditions (``&&``/``||``) on any named field.
- **Regular expression** ``%...%``: searched in the event. As in AWS, parentheses are not
  allowed. ``%...%`` also works as a value inside JSON and space-delimited conditions.

Anything else is rejected with ``FilterPatternError``, which the Logs provider reports as
``InvalidParameterException: Invalid filter pattern``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from lambdamaker.errors import LambdamakerError

Matcher = Callable[[str], bool]


class FilterPatternError(LambdamakerError):
    """The pattern is not valid filter pattern syntax."""


@dataclass(frozen=True)
class FilterPattern:
    """A compiled pattern: ``matches(message)``, plus what a store can pre-filter on."""

    text: str
    matches: Matcher
    required_terms: tuple[str, ...] = ()
    """Substrings every matching event contains (case-sensitive): a store may narrow its scan
    with them before calling ``matches``, which stays the authority."""


def compile_pattern(text: str | None) -> FilterPattern:
    """Parse ``text`` once; raises ``FilterPatternError`` when it is not a valid pattern."""
    stripped = (text or "").strip()
    if not stripped:
        return FilterPattern(text or "", lambda _message: True)
    if stripped[0] == "{":
        return FilterPattern(text or "", _compile_json(stripped))
    if stripped[0] == "[":
        return FilterPattern(text or "", _compile_space_delimited(stripped))
    if stripped[0] == "%" and len(stripped) > 1 and stripped[-1] == "%":
        regex = _compile_regex(stripped[1:-1])
        return FilterPattern(text or "", lambda m: regex.search(m) is not None)
    return _compile_terms(text or "", stripped)


# --- terms ------------------------------------------------------------------------------------


def _compile_terms(text: str, stripped: str) -> FilterPattern:
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    i, n = 0, len(stripped)
    while i < n:
        if stripped[i].isspace():
            i += 1
            continue
        target = required
        if stripped[i] in "-?":
            target = excluded if stripped[i] == "-" else optional
            i += 1
            while i < n and stripped[i].isspace():  # AWS's docs also write `"A" - "B"`
                i += 1
            if i == n:
                raise FilterPatternError(f"a term must follow {stripped[i - 1]!r}")
        if stripped[i] == '"':
            term, i = _read_quoted(stripped, i)
        else:
            start = i
            while i < n and not stripped[i].isspace():
                if stripped[i] in '"{}[]':
                    raise FilterPatternError(f"unexpected {stripped[i]!r} in a term")
                i += 1
            term = stripped[start:i]
        if term:
            target.append(term)

    def matches(message: str) -> bool:
        if any(t not in message for t in required):
            return False
        if any(t in message for t in excluded):
            return False
        return not optional or any(t in message for t in optional)

    return FilterPattern(text, matches, tuple(required))


def _read_quoted(s: str, i: int) -> tuple[str, int]:
    """The string starting with the quote at ``s[i]`` (``\\"`` and ``\\\\`` escape) and the
    index after its closing quote."""
    out: list[str] = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in '"\\':
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise FilterPatternError("unterminated quoted string")


_REGEX_FORBIDDEN = re.compile(r"[()]")


def _compile_regex(body: str) -> re.Pattern[str]:
    if not body or _REGEX_FORBIDDEN.search(body):
        # AWS's regex subset has no groups: "The operators ( and ) aren't supported".
        raise FilterPatternError("invalid regular expression")
    try:
        return re.compile(body)
    except re.error as exc:
        raise FilterPatternError(f"invalid regular expression: {exc}") from exc


# --- values shared by JSON and space-delimited conditions -------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")


@dataclass(frozen=True)
class _Value:
    """The right-hand side of a comparison."""

    text: str
    number: float | None = None
    regex: re.Pattern[str] | None = None
    quoted: bool = False

    def string_matches(self, actual: str) -> bool:
        if self.regex is not None:
            return self.regex.search(actual) is not None
        t = self.text
        if t == "*":
            return True
        starts, ends = t.startswith("*"), t.endswith("*") and len(t) > 1
        core = t[1 if starts else 0 : len(t) - 1 if ends else len(t)]
        if starts and ends:
            return core in actual
        if starts:
            return actual.endswith(core)
        if ends:
            return actual.startswith(core)
        return actual == t


def _make_value(text: str, quoted: bool) -> _Value:
    if not quoted and len(text) >= 2 and text[0] == "%" and text[-1] == "%":
        return _Value(text, regex=_compile_regex(text[1:-1]))
    number = float(text) if not quoted and _NUMBER.fullmatch(text) else None
    return _Value(text, number=number, quoted=quoted)


def _compare(op: str, actual: Any, value: _Value) -> bool:
    """``actual`` (a JSON scalar or a delimited field's text) ``op`` ``value``."""
    if op in ("=", "!="):
        if value.number is not None and isinstance(actual, int | float | str):
            n = _as_number(actual)
            if n is not None:
                return (n == value.number) == (op == "=")
        return value.string_matches(_text_of(actual)) == (op == "=")
    if value.number is None:
        raise FilterPatternError(f"{op} needs a number")
    n = _as_number(actual)
    if n is None:
        return False
    if op == "<":
        return n < value.number
    if op == ">":
        return n > value.number
    if op == "<=":
        return n <= value.number
    return n >= value.number


def _as_number(actual: Any) -> float | None:
    if isinstance(actual, bool):
        return None
    if isinstance(actual, int | float):
        return float(actual)
    if isinstance(actual, str) and _NUMBER.fullmatch(actual):
        n = float(actual)
        return n if math.isfinite(n) else None
    return None


def _text_of(actual: Any) -> str:
    if actual is None:
        return "null"
    if isinstance(actual, bool):
        return "true" if actual else "false"
    if isinstance(actual, float) and actual.is_integer():
        return str(int(actual))
    return str(actual)


# --- a small lexer for JSON and space-delimited patterns --------------------------------------


@dataclass
class _Token:
    kind: str  # "op", "punct", "string", "word", "regex", "ellipsis"
    text: str
    pos: int


_PUNCT = "(){}[],"
_WORD_END = set(' \t\r\n(){}[],=!<>&|"')


def _lex(s: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
        elif s.startswith("...", i):
            tokens.append(_Token("ellipsis", "...", i))
            i += 3
        elif s.startswith("&&", i) or s.startswith("||", i):
            tokens.append(_Token("op", s[i : i + 2], i))
            i += 2
        elif c in _PUNCT:
            tokens.append(_Token("punct", c, i))
            i += 1
        elif c in "=!<>":
            op = next((o for o in _OPERATORS if s.startswith(o, i)), None)
            if op is None:
                raise FilterPatternError(f"unexpected {c!r} at {i}")
            tokens.append(_Token("op", op, i))
            i += len(op)
        elif c == '"':
            text, end = _read_quoted(s, i)
            tokens.append(_Token("string", text, i))
            i = end
        elif c == "%":
            end = s.find("%", i + 1)
            if end < 0:
                raise FilterPatternError("unterminated regular expression")
            tokens.append(_Token("regex", s[i : end + 1], i))
            i = end + 1
        else:
            start = i
            while i < n and s[i] not in _WORD_END:
                i += 1
            if i == start:
                raise FilterPatternError(f"unexpected {c!r} at {i}")
            tokens.append(_Token("word", s[start:i], start))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        tok = self.peek()
        if tok is None:
            raise FilterPatternError("unexpected end of pattern")
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.text == text and tok.kind in ("op", "punct"):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            tok = self.peek()
            where = f"{tok.text!r} at {tok.pos}" if tok else "end of pattern"
            raise FilterPatternError(f"expected {text!r}, found {where}")

    def value(self) -> _Value:
        tok = self.take()
        if tok.kind == "string":
            return _make_value(tok.text, quoted=True)
        if tok.kind in ("word", "regex"):
            return _make_value(tok.text, quoted=False)
        raise FilterPatternError(f"expected a value at {tok.pos}")

    def boolean(self, atom: Callable[[], _Node]) -> _Node:
        """``atom (&& atom)* (|| ...)*`` with parentheses; ``&&`` binds tighter."""

        def primary() -> _Node:
            if self.accept("("):
                node = disjunction()
                self.expect(")")
                return node
            return atom()

        def conjunction() -> _Node:
            parts = [primary()]
            while self.accept("&&"):
                parts.append(primary())
            return parts[0] if len(parts) == 1 else _All(parts)

        def disjunction() -> _Node:
            parts = [conjunction()]
            while self.accept("||"):
                parts.append(conjunction())
            return parts[0] if len(parts) == 1 else _Any(parts)

        return disjunction()


class _Node:
    def eval(self, ctx: Any) -> bool:
        raise NotImplementedError


@dataclass
class _All(_Node):
    parts: list[_Node]

    def eval(self, ctx: Any) -> bool:
        return all(p.eval(ctx) for p in self.parts)


@dataclass
class _Any(_Node):
    parts: list[_Node]

    def eval(self, ctx: Any) -> bool:
        return any(p.eval(ctx) for p in self.parts)


# --- JSON patterns ----------------------------------------------------------------------------

_MISSING = object()
_SELECTOR_STEP = re.compile(r"\.([^.\[\]\s]+)|\[(\d+)\]")


def _parse_selector(text: str) -> tuple[str | int, ...]:
    if not text.startswith("$"):
        raise FilterPatternError(f"a JSON selector starts with '$': {text!r}")
    steps: list[str | int] = []
    i = 1
    while i < len(text):
        m = _SELECTOR_STEP.match(text, i)
        if m is None:
            raise FilterPatternError(f"invalid JSON selector {text!r}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        i = m.end()
    if not steps:
        raise FilterPatternError("a JSON selector names a field: '$.field'")
    return tuple(steps)


def _select(doc: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return _MISSING
            doc = doc[step]
        else:
            if not isinstance(doc, dict) or step not in doc:
                return _MISSING
            doc = doc[step]
    return doc


@dataclass
class _JsonTest(_Node):
    steps: tuple[str | int, ...]
    op: str  # a comparison operator, or "IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"
    value: _Value | None = None

    def eval(self, ctx: Any) -> bool:
        actual = _select(ctx, self.steps)
        if self.op == "NOT EXISTS":
            return actual is _MISSING
        if actual is _MISSING or isinstance(actual, dict | list):
            # The selector must reach a value node; objects and arrays match nothing.
            return False
        if self.op == "IS NULL":
            return actual is None
        if self.op == "IS TRUE":
            return actual is True
        if self.op == "IS FALSE":
            return actual is False
        assert self.value is not None  # set for every comparison operator by the parser
        return _compare(self.op, actual, self.value)


def _compile_json(s: str) -> Matcher:
    tokens = _lex(s)
    p = _Parser(tokens)
    p.expect("{")

    # The lexer splits a selector such as ``$.a[0].b`` at ``[`` and ``]``; re-join it.
    def selector() -> tuple[str | int, ...]:
        tok = p.take()
        if tok.kind != "word" or not tok.text.startswith("$"):
            raise FilterPatternError(f"expected a JSON selector at {tok.pos}")
        text = tok.text
        while True:
            nxt = p.peek()
            if nxt is None or nxt.text != "[" or nxt.pos != tok.pos + len(text):
                break
            p.take()
            index = p.take()
            if index.kind != "word" or not index.text.isdigit():
                raise FilterPatternError(f"expected an array index at {index.pos}")
            p.expect("]")
            text += f"[{index.text}]"
            after = p.peek()
            if (
                after is not None
                and after.kind == "word"
                and after.text.startswith(".")
                and after.pos == tok.pos + len(text)
            ):
                p.take()
                text += after.text
        return _parse_selector(text)

    def atom() -> _Node:
        steps = selector()
        tok = p.take()
        if tok.kind == "op" and tok.text in _OPERATORS:
            value = p.value()
            if tok.text not in ("=", "!=") and value.number is None:
                raise FilterPatternError(f"{tok.text} needs a number at {tok.pos}")
            return _JsonTest(steps, tok.text, value)
        if tok.kind == "word" and tok.text == "IS":
            what = p.take()
            if what.kind == "word" and what.text in ("NULL", "TRUE", "FALSE"):
                return _JsonTest(steps, f"IS {what.text}")
        elif tok.kind == "word" and tok.text == "NOT":
            what = p.take()
            if what.kind == "word" and what.text == "EXISTS":
                return _JsonTest(steps, "NOT EXISTS")
        raise FilterPatternError(f"expected a comparison at {tok.pos}")

    tree = p.boolean(atom)
    p.expect("}")
    if p.peek() is not None:
        raise FilterPatternError("text after the closing '}'")

    def matches(message: str) -> bool:
        body = message.strip()
        if not body.startswith("{"):
            return False
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        return isinstance(doc, dict) and tree.eval(doc)

    return matches


# --- space-delimited patterns -----------------------------------------------------------------


@dataclass
class _FieldTest(_Node):
    name: str
    op: str
    value: _Value

    def eval(self, ctx: Any) -> bool:
        actual = ctx.get(self.name)
        return actual is not None and _compare(self.op, actual, self.value)


@dataclass
class _Slot:
    name: str | None  # None for "...", "" for an unnamed field
    condition: _Node | None = None


@dataclass
class _Delimited:
    slots: list[_Slot] = field(default_factory=list)


def _compile_space_delimited(s: str) -> Matcher:
    tokens = _lex(s)
    p = _Parser(tokens)
    p.expect("[")
    pattern = _Delimited()

    def comparison() -> _Node:
        name = p.take()
        if name.kind != "word":
            raise FilterPatternError(f"expected a field name at {name.pos}")
        op = p.take()
        if op.kind != "op" or op.text not in _OPERATORS:
            raise FilterPatternError(f"expected a comparison operator at {op.pos}")
        value = p.value()
        if op.text not in ("=", "!=") and value.number is None:
            raise FilterPatternError(f"{op.text} needs a number at {op.pos}")
        return _FieldTest(name.text, op.text, value)

    while True:
        tok = p.peek()
        if tok is None:
            raise FilterPatternError("unterminated '['")
        if tok.kind == "ellipsis":
            p.take()
            pattern.slots.append(_Slot(None))
        elif tok.kind == "word":
            nxt = p.tokens[p.i + 1] if p.i + 1 < len(p.tokens) else None
            if nxt is not None and nxt.kind == "op" and nxt.text in _OPERATORS:
                pattern.slots.append(_Slot(tok.text, p.boolean(comparison)))
            else:
                p.take()
                pattern.slots.append(_Slot(tok.text))
        else:
            raise FilterPatternError(f"expected a field at {tok.pos}")
        if p.accept("]"):
            break
        p.expect(",")
        if p.accept("]"):
            # A trailing comma is one more, unnamed field: AWS's "[..., status_code=4*,]"
            # extracts the field after the status code as "$7".
            pattern.slots.append(_Slot(""))
            break
    if p.peek() is not None:
        raise FilterPatternError("text after the closing ']'")
    slots = pattern.slots

    def matches(message: str) -> bool:
        fields = split_fields(message)
        for bound in _bindings(slots, fields):
            if all(s.condition is None or s.condition.eval(bound) for s in slots):
                return True
        return False

    return matches


def _bindings(slots: list[_Slot], fields: list[str]) -> list[dict[str, str]]:
    """Every assignment of ``fields`` to ``slots`` (``...`` takes zero or more fields)."""
    results: list[dict[str, str]] = []

    def walk(si: int, fi: int, bound: dict[str, str]) -> None:
        if len(results) >= 64:  # enough ellipsis placements to decide; bounds the work
            return
        if si == len(slots):
            if fi == len(fields):
                results.append(dict(bound))
            return
        slot = slots[si]
        if slot.name is None:
            for take in range(len(fields) - fi + 1):
                walk(si + 1, fi + take, bound)
            return
        if fi < len(fields) and not slot.name:
            walk(si + 1, fi + 1, bound)
        elif fi < len(fields):
            previous = bound.get(slot.name)
            bound[slot.name] = fields[fi]
            walk(si + 1, fi + 1, bound)
            if previous is None:
                del bound[slot.name]
            else:
                bound[slot.name] = previous

    walk(0, 0, {})
    return results


def split_fields(message: str) -> list[str]:
    """Split an event into space-delimited fields; ``"..."`` and ``[...]`` are one field."""
    fields: list[str] = []
    i, n = 0, len(message)
    while i < n:
        c = message[i]
        if c.isspace():
            i += 1
            continue
        if c in '"[':
            close = '"' if c == '"' else "]"
            end = message.find(close, i + 1)
            if end >= 0:
                fields.append(message[i + 1 : end])
                i = end + 1
                continue
        start = i
        while i < n and not message[i].isspace():
            i += 1
        fields.append(message[start:i])
    return fields
