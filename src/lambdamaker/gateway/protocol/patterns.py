"""AWS model patterns (Java regular expressions) compiled for Python's ``re``.

Models write patterns for ``java.util.regex`` and AWS matches them against the whole value
(``Matcher.matches``). Most compile unchanged in Python; the rest use Unicode property classes
(``\\p{L}``), POSIX classes (``\\p{Alnum}``), UTF-16 surrogate pairs for astral ranges, ``\\z``,
or a class escape before ``-``. ``translate`` rewrites those. Where a Unicode category has no
exact ``re`` spelling the translation errs on the side of accepting (a false rejection would
break a valid client; a false acceptance only loosens a check). A pattern that still does not
compile is skipped, never enforced wrongly.
"""

from __future__ import annotations

import functools
import re
import warnings

# Inside a character class. Letters and numbers: \w (also admits "_", which every AWS pattern
# using \p{L} admits anyway). The rest are generous approximations of the categories.
_PUNCT_SYMBOLS = (
    r"!-/:-@\[-`{-~\u00a1-\u00bf\u00d7\u00f7\u02c2-\u02ff\u2010-\u2027\u2030-\u205e"
    r"\u20a0-\u20cf\u2100-\u2bff\u2e00-\u2e7f\u3000-\u303f\ufe10-\ufe6f\uff01-\uff65"
    r"\U0001f000-\U0001faff"
)
_SEPARATORS = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_MARKS = r"\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0900-\u0903"
_MARKS += r"\u093a-\u094f\u0951-\u0957\u0962\u0963\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
_MARKS += r"\ufe00-\ufe0f\ufe20-\ufe2f"

_CLASSES = {
    "L": r"\w",
    "Lu": r"\w",
    "Ll": r"\w",
    "IsAlphabetic": r"\w",
    "IsLetter": r"\w",
    "N": r"\w",
    "Nd": r"\d",
    "IsDigit": r"\d",
    "Z": _SEPARATORS,
    "Zs": _SEPARATORS,
    "M": _MARKS,
    "P": _PUNCT_SYMBOLS,
    "S": _PUNCT_SYMBOLS,
    "C": r"\x00-\x1f\x7f-\x9f",
    "Cc": r"\x00-\x1f\x7f-\x9f",
    # POSIX classes are ASCII-only in Java.
    "Alnum": r"a-zA-Z0-9",
    "Alpha": r"a-zA-Z",
    "Digit": r"0-9",
    "Upper": r"A-Z",
    "Lower": r"a-z",
    "Punct": r"!-/:-@\[-`{-~",
    "Graph": r"!-~",
    "Print": r" -~",
    "Space": r" \t\n\x0b\f\r",
    "Blank": r" \t",
    "ASCII": r"\x00-\x7f",
    "XDigit": r"0-9a-fA-F",
    "Cntrl": r"\x00-\x1f\x7f",
}

_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)
_JAVA_HEX = re.compile(r"\\x\{([0-9A-Fa-f]+)\}")


class Untranslatable(Exception):
    pass


def _astral(m: re.Match[str]) -> str:
    high, low = int(m.group(1), 16), int(m.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"


def translate(pattern: str) -> str:
    pattern = _SURROGATE_PAIR.sub(_astral, pattern)
    pattern = _JAVA_HEX.sub(lambda m: f"\\U{int(m.group(1), 16):08X}", pattern)
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in "pP" and i + 2 < n and pattern[i + 2] == "{":
                end = pattern.index("}", i)
                name = pattern[i + 3 : end]
                body = _CLASSES.get(name.removeprefix("Is") if name not in _CLASSES else name)
                if body is None or (nxt == "P" and in_class):
                    raise Untranslatable(name)
                if in_class:
                    out.append(body)
                else:
                    out.append(f"[{'^' if nxt == 'P' else ''}{body}]")
                i = end + 1
                continue
            if nxt == "z":
                out.append(r"\Z")
                i += 2
                continue
            out.append(pattern[i : i + 2])
            if in_class and nxt in "wWdDsS" and i + 2 < n and pattern[i + 2] == "-":
                out.append(r"\-")  # Java reads "[\w-_]" as \w, "-", "_"
                i += 3
                continue
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class and out and out[-1] != "[":
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern, or None when it cannot be enforced faithfully."""
    with warnings.catch_warnings():
        # ``re`` warns (FutureWarning) about class syntax it may read differently one day,
        # such as "--" or "&&" inside brackets; Java reads those literally today, as re does.
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return re.compile(pattern)
        except re.error:
            pass
        try:
            return re.compile(translate(pattern))
        except (re.error, Untranslatable, ValueError):
            return None
