"""Tokenizer for DynamoDB expressions (condition, key condition, update, projection).

Invariants: every token keeps its source offset and text so syntax errors can quote DynamoDB's
``token: "...", near: "..."`` from the original expression; keywords are not decided here (the
parser matches NAME tokens case-insensitively), so ``set`` is a NAME until the parser says
otherwise. The stream always ends with one EOF token whose text is ``<EOF>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdamaker.errors import ValidationError

NAME = "NAME"  # bare identifier: attribute name, keyword or function name
ATTR_NAME = "ATTR_NAME"  # #placeholder
ATTR_VALUE = "ATTR_VALUE"  # :placeholder
INDEX = "INDEX"  # digits (list index)
PUNCT = "PUNCT"
EOF = "EOF"
UNKNOWN = "UNKNOWN"  # a character no token starts with

_TWO_CHAR = ("<>", "<=", ">=")
_ONE_CHAR = "()[],.=<>+-"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + (0 if self.kind == EOF else len(self.text))

    def is_word(self, word: str) -> bool:
        return self.kind == NAME and self.text.upper() == word


def _ident_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; never raises (bad characters become UNKNOWN tokens)."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if source.startswith(_TWO_CHAR, i):
            tokens.append(Token(PUNCT, source[i : i + 2], i))
            i += 2
            continue
        if ch in _ONE_CHAR:
            tokens.append(Token(PUNCT, ch, i))
            i += 1
            continue
        if ch in "#:":
            j = i + 1
            while j < n and _ident_char(source[j]):
                j += 1
            if j == i + 1:
                tokens.append(Token(UNKNOWN, ch, i))
                i += 1
                continue
            tokens.append(Token(ATTR_NAME if ch == "#" else ATTR_VALUE, source[i:j], i))
            i = j
            continue
        if ch.isascii() and ch.isalpha():
            j = i
            while j < n and _ident_char(source[j]):
                j += 1
            tokens.append(Token(NAME, source[i:j], i))
            i = j
            continue
        if ch.isascii() and ch.isdigit():
            j = i
            while j < n and source[j].isascii() and source[j].isdigit():
                j += 1
            tokens.append(Token(INDEX, source[i:j], i))
            i = j
            continue
        # Anything else (``_``, ``$``, ``@``...) is a token no rule accepts: a syntax error
        # reported at it, with DynamoDB's "near" context.
        tokens.append(Token(UNKNOWN, ch, i))
        i += 1
    tokens.append(Token(EOF, "<EOF>", n))
    return tokens


class SyntaxProblem(ValidationError):
    """A syntax error; ``position`` lets a backtracking parser keep the one that read furthest."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def syntax_error(kind: str, source: str, tokens: list[Token], bad: Token) -> SyntaxProblem:
    """DynamoDB's syntax error: the bad token and the source from the token before to the one after."""
    index = next((k for k, t in enumerate(tokens) if t.start == bad.start), None)
    start = bad.start
    end = bad.end
    if index is not None:
        if index > 0:
            start = tokens[index - 1].start
        if index + 1 < len(tokens):
            end = tokens[index + 1].end
    near = source[start:end]
    return SyntaxProblem(
        f'Invalid {kind}: Syntax error; token: "{bad.text}", near: "{near}"', bad.start
    )
