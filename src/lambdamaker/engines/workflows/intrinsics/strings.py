"""The string intrinsics: Format, StringSplit, Base64Encode/Decode, Hash and UUID.

AWS behaviours kept here (observed on AWS, see the tests):
- Format: ``{}`` is a placeholder, ``\\{`` / ``\\}`` are literal braces; any other brace, or a
  placeholder count different from the argument count, fails. Arguments render as text:
  strings as themselves, ``null`` / booleans / numbers as JSON, arrays and objects the way
  Java's collections print (``[1, 2]``, ``{a=1, b=[]}``);
- StringSplit splits on *each* character of the delimiter string and drops empty tokens
  (Java's ``StringTokenizer``): ``StringSplit('a,,b', ',')`` is ``['a', 'b']``;
- Base64Encode/Decode and Hash accept at most 10,000 characters of input; Base64Decode is
  lenient the way AWS is (characters outside the alphabet are skipped, padding is optional);
- Hash's algorithm is one of MD5, SHA-1, SHA-256, SHA-384, SHA-512 (exact spelling), the
  digest lowercase hex; non-string data is hashed as its JSON text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from typing import Any

from lambdamaker.engines.workflows.intrinsics.common import invalid, to_json

MAX_ENCODING_INPUT = 10_000

_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def render(value: Any) -> str:
    """How States.Format prints one argument."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={render(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def _template_parts(name: str, template: str, literal: bool) -> list[str | None]:
    """Split a Format template into text pieces and placeholders (``None``).

    ``literal``: ``template`` is a string literal's raw text, whose escapes (``\\'``,
    ``\\{``, ``\\}``, ``\\\\``) stand for the character itself and never start a placeholder.
    """
    parts: list[str | None] = []
    text: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if literal and ch == "\\" and template[i + 1 : i + 2] in ("{", "}", "\\", "'"):
            text.append(template[i + 1])
            i += 2
            continue
        if ch == "{":
            if template[i + 1 : i + 2] != "}":
                invalid(name)
            parts.append("".join(text))
            text = []
            parts.append(None)
            i += 2
            continue
        if ch == "}":
            invalid(name)
        text.append(ch)
        i += 1
    parts.append("".join(text))
    return parts


def states_format(args: list[Any], raw_template: str | None) -> str:
    name = "States.Format"
    template = args[0]
    if not isinstance(template, str):
        invalid(name)
    # A literal template keeps its escapes in the raw text; a template read from a path is
    # already plain text.
    if raw_template is not None:
        parts = _template_parts(name, raw_template, literal=True)
    else:
        parts = _template_parts(name, template, literal=False)
    values = args[1:]
    if sum(1 for part in parts if part is None) != len(values):
        invalid(name)
    out: list[str] = []
    rendered = iter(values)
    for part in parts:
        out.append(render(next(rendered)) if part is None else part)
    return "".join(out)


def string_split(args: list[Any], _raw: str | None) -> list[str]:
    text, delimiters = args
    if not isinstance(text, str) or not isinstance(delimiters, str):
        invalid("States.StringSplit")
    if not delimiters:
        return [text] if text else []
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in delimiters:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        tokens.append("".join(current))
    return tokens


def base64_encode(args: list[Any], _raw: str | None) -> str:
    (text,) = args
    if not isinstance(text, str) or len(text) > MAX_ENCODING_INPUT:
        invalid("States.Base64Encode")
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def base64_decode(args: list[Any], _raw: str | None) -> str:
    (text,) = args
    if not isinstance(text, str) or len(text) > MAX_ENCODING_INPUT:
        invalid("States.Base64Decode")
    letters = _NOT_BASE64.sub("", text)
    if len(letters) % 4 == 1:
        # A single trailing sextet carries no whole byte; a lenient decoder drops it.
        letters = letters[:-1]
    letters += "=" * (-len(letters) % 4)
    return base64.b64decode(letters).decode("utf-8", errors="replace")


def states_hash(args: list[Any], _raw: str | None) -> str:
    name = "States.Hash"
    data, algorithm = args
    if not isinstance(algorithm, str) or algorithm not in _HASHES:
        invalid(name)
    text = data if isinstance(data, str) else to_json(data)
    if len(text) > MAX_ENCODING_INPUT:
        invalid(name)
    digest = hashlib.new(_HASHES[algorithm], text.encode("utf-8"), usedforsecurity=False)
    return digest.hexdigest()


def states_uuid(_args: list[Any], _raw: str | None) -> str:
    return str(uuid.uuid4())
