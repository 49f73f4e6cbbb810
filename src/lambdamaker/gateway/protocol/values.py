"""Scalar conversions shared by every protocol: timestamps, blobs, floats, booleans, headers.

Readers raise ``BadValue`` (an internal signal, never seen outside the protocol layer); the
protocol parsers turn it into the service's own serialization error with the member path.
Writers assume provider values follow the params convention (``datetime`` for timestamps,
``bytes`` for blobs) but also accept epoch numbers and ``str`` where that is unambiguous.
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

ISO8601 = "iso8601"
UNIX = "unixtimestamp"
RFC822 = "rfc822"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class BadValue(Exception):
    """A wire value that does not fit its shape. ``path`` is filled while unwinding."""

    def __init__(self, expected: str, value: Any) -> None:
        super().__init__(expected)
        self.expected = expected
        self.value = value
        self.path: list[str] = []
        self.binding = False
        """True when the value came from a URI label, query string or header, not a body."""

    def describe(self) -> str:
        where = ".".join(reversed(self.path))
        shown = (
            self.value if isinstance(self.value, str | int | float) else type(self.value).__name__
        )
        text = f"Value '{shown}'"
        if where:
            text += f" at '{where}'"
        return f"{text} cannot be converted to {self.expected}"


# --- timestamps -------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime:
    """Any AWS wire timestamp (epoch number, ISO 8601, RFC 822) -> aware UTC datetime.

    Clients are not consistent about the modelled format (botocore sends ISO 8601 in query
    strings, epoch seconds in JSON bodies, HTTP dates in headers), so every reader accepts all
    three forms, as AWS itself does.
    """
    if isinstance(value, bool):
        raise BadValue("Timestamp", value)
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str) or not value:
        raise BadValue("Timestamp", value)
    text = value.strip()
    first = text[0]
    if first.isdigit() or first in "-+":
        if text.replace(".", "", 1).lstrip("-+").isdigit():
            return _from_epoch(float(text) if "." in text else int(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise BadValue("Timestamp", value) from None
    else:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadValue("Timestamp", value) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise BadValue("Timestamp", seconds)
    try:
        # timedelta keeps microsecond precision exactly where fromtimestamp() rounds oddly.
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise BadValue("Timestamp", seconds) from None


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return parse_timestamp(value)


def format_iso8601(value: Any) -> str:
    """``2019-12-16T23:48:18Z``, with milliseconds when there are any (as AWS writes it)."""
    dt = _as_datetime(value)
    base = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    )
    if dt.microsecond:
        return f"{base}.{dt.microsecond // 1000:03d}Z"
    return base + "Z"


def format_epoch(value: Any) -> int | float:
    """Epoch seconds, an int when whole, else a float with millisecond precision."""
    dt = _as_datetime(value)
    delta = dt - _EPOCH
    whole = delta.days * 86400 + delta.seconds
    if delta.microseconds:
        return whole + (delta.microseconds // 1000) / 1000
    return whole


def format_rfc822(value: Any) -> str:
    """``Mon, 16 Dec 2019 23:48:18 GMT`` (IMF-fixdate, always English names)."""
    dt = _as_datetime(value)
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def format_timestamp(value: Any, fmt: str) -> str | int | float:
    if fmt == UNIX:
        return format_epoch(value)
    if fmt == RFC822:
        return format_rfc822(value)
    return format_iso8601(value)


def timestamp_text(value: Any, fmt: str) -> str:
    """A timestamp as text (headers, XML, query strings), whatever its format."""
    out = format_timestamp(value, fmt)
    return out if isinstance(out, str) else repr(out) if isinstance(out, float) else str(out)


# --- blobs ------------------------------------------------------------------------------------


def decode_base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise BadValue("Blob", value)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        # Some clients wrap long base64 text in lines; tolerate whitespace, nothing else.
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BadValue("Blob", value) from None


def encode_base64(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value)
    return base64.b64encode(value).decode("ascii")


# --- numbers and booleans from text ------------------------------------------------------------

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def text_to_int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise BadValue("Integer", text) from None


def text_to_float(text: str) -> float:
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return special
    try:
        return float(text)
    except (TypeError, ValueError):
        raise BadValue("Double", text) from None


def text_to_bool(text: str) -> bool:
    lowered = text.lower() if isinstance(text, str) else ""
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadValue("Boolean", text)


def float_text(value: float) -> str:
    """Floats in text protocols; NaN and infinities get their Smithy spellings."""
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return repr(float(value)) if not isinstance(value, int) else str(value)


def json_float(value: Any) -> Any:
    """Floats in JSON: non-finite values travel as strings (JSON has no literal for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return float_text(value)
    return value


# --- query strings --------------------------------------------------------------------------------


def parse_query(text: str) -> list[tuple[str, str]]:
    """``a=1&b=%2F&c`` -> ``[("a", "1"), ("b", "/"), ("c", "")]`` (form rules: ``+`` is a space).

    ``urllib.parse.parse_qsl`` with ``keep_blank_values`` does the same at a third the speed;
    most keys and values need no decoding at all.
    """
    out: list[tuple[str, str]] = []
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if "%" in key or "+" in key:
            key = unquote(key.replace("+", " "))
        if "%" in value or "+" in value:
            value = unquote(value.replace("+", " "))
        out.append((key, value))
    return out


# --- header lists (RFC 9110 section 5.6: comma separated, quoted-string elements) ----------------


def split_header_list(text: str) -> list[str]:
    """``a, "b,c", "\\"d\\""`` -> ``['a', 'b,c', '"d"']``."""
    if '"' not in text:
        return [part.strip() for part in text.split(",")]
    items: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            buf: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(text[i])
                i += 1
            i += 1  # the closing quote
            items.append("".join(buf))
            while i < n and text[i] != ",":
                i += 1
        else:
            start = i
            while i < n and text[i] != ",":
                i += 1
            items.append(text[start:i].strip())
        i += 1  # the comma
    return items


def split_http_date_list(text: str) -> list[str]:
    """HTTP dates contain a comma themselves: ``Mon, 16 Dec 2019 ..., Tue, 17 Dec ...``."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) % 2:
        return parts
    return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]


def join_header_list(values: list[str]) -> str:
    out = []
    for value in values:
        if '"' in value or "," in value:
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(value)
    return ", ".join(out)
