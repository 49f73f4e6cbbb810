"""The context object's times (``$$.Execution.StartTime``, ``$$.State.EnteredTime``) as text.

Formatting a time costs more than a transition's dict work, so the text is formatted directly
(no ``strftime``) and the last millisecond's text is reused: transitions and executions started
within one millisecond share it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """``2024-01-02T03:04:05.678Z``, the context object's time format."""
    millisecond = moment.microsecond // 1000
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # What ``strftime("%Y-%m-%dT%H:%M:%S.")`` writes (the year unpadded, as glibc's ``%Y``),
    # formatted directly: strftime costs more than a transition.
    return (
        f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{millisecond:03d}Z"
    )


_last_iso: tuple[int, str] = (-1, "")


def iso_seconds(seconds: float) -> str:
    """``iso`` of an epoch time; the text of the last millisecond asked for is reused (many
    transitions share one: formatting a time costs more than a transition's dict work). The
    cache is one tuple, replaced whole, so threads sharing it never see a torn entry."""
    global _last_iso
    key = round(seconds * 1_000_000) // 1000
    cached = _last_iso
    if cached[0] == key:
        return cached[1]
    text = iso(datetime.fromtimestamp(seconds, UTC))
    _last_iso = (key, text)
    return text


_last_start: tuple[int, str] = (-1, "")


def iso_cached(moment: datetime) -> str:
    """``iso(moment)``, the text of the last millisecond asked for reused (executions started
    together share it); one tuple replaced whole, as in ``iso_seconds``."""
    global _last_start
    key = round(moment.timestamp() * 1_000_000) // 1000
    cached = _last_start
    if cached[0] == key:
        return cached[1]
    text = iso(moment)
    _last_start = (key, text)
    return text
