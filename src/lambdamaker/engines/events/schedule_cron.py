"""AWS six-field cron: parsing and the next matching wall-clock minute.

Syntax (EventBridge rules and EventBridge Scheduler share it)::

    cron(Minutes Hours Day-of-month Month Day-of-week Year)

    Minutes       0-59        , - * /
    Hours         0-23        , - * /
    Day-of-month  1-31        , - * / ? L W      (L, LW, 15W)
    Month         1-12 JAN-DEC, - * /
    Day-of-week   1-7 SUN-SAT , - * ? L #        (L = SAT, 6L = last FRI, 3#2 = 2nd TUE)
    Year          1970-2199   , - * /

Invariants:

- Exactly one of day-of-month and day-of-week is ``?`` (AWS rejects ``cron(7 20 * * 1-7 *)``).
- ``L``, ``LW``, ``nW``, ``nL`` and ``n#k`` stand alone in their field, as in Quartz, the
  dialect AWS derives from; ranges ``a-b`` with ``a > b`` wrap around in cyclic fields.
- ``CronExpression.next_wall`` works on naive wall-clock datetimes and jumps field by field
  (year, month, day, hour, minute), so the cost is bounded by the number of months in the
  year range, never by the number of minutes. Time zones are the caller's business
  (``schedule.next_fire``).
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

MIN_YEAR = 1970
MAX_YEAR = 2199

_MONTHS = {
    name: i
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


class CronSyntaxError(ValueError):
    """The cron text is malformed; ``schedule`` wraps it into the AWS-worded error."""


@dataclass(frozen=True)
class _Field:
    name: str
    lo: int
    hi: int
    names: dict[str, int]
    cyclic: bool = True


_MINUTE = _Field("minutes", 0, 59, {})
_HOUR = _Field("hours", 0, 23, {})
_DOM = _Field("day-of-month", 1, 31, {})
_MONTH = _Field("month", 1, 12, _MONTHS)
_DOW = _Field("day-of-week", 1, 7, _DAYS)
_YEAR = _Field("year", MIN_YEAR, MAX_YEAR, {}, cyclic=False)


def _value(text: str, field: _Field) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names[upper]
    if not (text.isascii() and text.isdigit()):
        raise CronSyntaxError(f"bad {field.name} value {text!r}")
    value = int(text)
    if not field.lo <= value <= field.hi:
        raise CronSyntaxError(f"{field.name} value {value} outside {field.lo}-{field.hi}")
    return value


def _span(start: int, end: int, step: int, field: _Field) -> list[int]:
    if start <= end:
        return list(range(start, end + 1, step))
    if not field.cyclic:
        raise CronSyntaxError(f"{field.name} range {start}-{end} is reversed")
    # Wrap-around range (FRI-MON, 22-2): walk through the top of the field and back.
    size = field.hi - field.lo + 1
    length = (end - start) % size + 1
    return [field.lo + (start - field.lo + i) % size for i in range(0, length, step)]


def _parse_set(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if (
                not (step_text.isascii() and step_text.isdigit())
                or not 1 <= int(step_text) <= field.hi - field.lo + 1
            ):
                raise CronSyntaxError(f"bad {field.name} increment {step_text!r}")
            step = int(step_text)
        if base == "*":
            start, end = field.lo, field.hi
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, field), _value(last, field)
        else:
            start = _value(base, field)
            # "5/15" counts from 5 to the top of the field; a bare "5" is just 5.
            end = field.hi if slash else start
        values.update(_span(start, end, step, field))
    return frozenset(values)


_NEAREST_WEEKDAY = re.compile(r"^([0-9]{1,2})W$")
_LAST_OF = re.compile(r"^([1-7]|[A-Z]{3})L$")
_NTH_OF = re.compile(r"^([1-7]|[A-Z]{3})#([1-5])$")


@dataclass(frozen=True)
class CronExpression:
    """A parsed cron expression; ``text`` is the six fields as given."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    # Day-of-month: None when "?"; otherwise a value set or one special form.
    dom: frozenset[int] | None
    dom_special: str | None  # "L", "LW" or "nW"
    # Day-of-week (AWS numbering, 1 = SUN): None when "?".
    dow: frozenset[int] | None
    dow_last: int | None  # "nL": last weekday n of the month
    dow_nth: tuple[int, int] | None  # "n#k": k-th weekday n of the month

    def next_wall(self, after: datetime) -> datetime | None:
        """The first matching naive wall-clock minute strictly after ``after`` (naive)."""
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        y, mo, d, h, mi = t.year, t.month, t.day, t.hour, t.minute
        while True:
            ny = _at_least(self.years, y)
            if ny is None:
                return None
            if ny != y:
                y, mo, d, h, mi = ny, 1, 1, 0, 0
            nmo = _at_least(self.months, mo)
            if nmo is None:
                y, mo, d, h, mi = y + 1, 1, 1, 0, 0
                continue
            if nmo != mo:
                mo, d, h, mi = nmo, 1, 0, 0
            nd = _at_least(_month_days(self, y, mo), d)
            if nd is None:
                y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
                d, h, mi = 1, 0, 0
                continue
            if nd != d:
                d, h, mi = nd, 0, 0
            nh = _at_least(self.hours, h)
            if nh is None:
                d, h, mi = d + 1, 0, 0  # past the month's end falls through to the next month
                continue
            if nh != h:
                h, mi = nh, 0
            nmi = _at_least(self.minutes, mi)
            if nmi is None:
                h, mi = h + 1, 0
                continue
            return datetime(y, mo, d, h, nmi)


def _at_least(values: tuple[int, ...], v: int) -> int | None:
    i = bisect_left(values, v)
    return values[i] if i < len(values) else None


def _aws_weekday(year: int, month: int, day: int) -> int:
    """AWS numbering: 1 = Sunday ... 7 = Saturday (Python: Monday = 0)."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, last: int) -> int:
    # Quartz semantics: the weekday nearest to `day`, never leaving the month.
    wd = calendar.weekday(year, month, day)
    if wd == 5:  # Saturday: Friday before, or Monday after when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if wd == 6:  # Sunday: Monday after, or Friday before when it is the last day
        return day + 1 if day < last else day - 2
    return day


@lru_cache(maxsize=4096)
def _month_days(cron: CronExpression, year: int, month: int) -> tuple[int, ...]:
    last = calendar.monthrange(year, month)[1]
    if cron.dom is not None or cron.dom_special is not None:
        special = cron.dom_special
        if special == "L":
            return (last,)
        if special == "LW":
            return (_nearest_weekday(year, month, last, last),)
        if special is not None:  # "nW"
            day = int(special[:-1])
            return (_nearest_weekday(year, month, day, last),) if day <= last else ()
        assert cron.dom is not None
        return tuple(d for d in range(1, last + 1) if d in cron.dom)
    if cron.dow_last is not None:
        day = max(
            d for d in range(last - 6, last + 1) if _aws_weekday(year, month, d) == cron.dow_last
        )
        return (day,)
    if cron.dow_nth is not None:
        weekday, nth = cron.dow_nth
        first = next(d for d in range(1, 8) if _aws_weekday(year, month, d) == weekday)
        day = first + 7 * (nth - 1)
        return (day,) if day <= last else ()
    assert cron.dow is not None
    return tuple(d for d in range(1, last + 1) if _aws_weekday(year, month, d) in cron.dow)


def parse_cron(text: str) -> CronExpression:
    """Parse the inside of ``cron(...)``; raises ``CronSyntaxError``."""
    fields = text.split()
    if len(fields) != 6:
        raise CronSyntaxError(f"expected 6 fields, got {len(fields)}")
    minute, hour, dom_text, month, dow_text, year = (f.upper() for f in fields)
    if (dom_text == "?") == (dow_text == "?"):
        raise CronSyntaxError("exactly one of day-of-month and day-of-week must be '?'")
    # Stray "?", "L", "W" or "#" anywhere else fail as bad values in _parse_set.
    dom: frozenset[int] | None = None
    dom_special: str | None = None
    if dom_text in ("L", "LW"):
        dom_special = dom_text
    elif match := _NEAREST_WEEKDAY.match(dom_text):
        if not 1 <= int(match.group(1)) <= 31:
            raise CronSyntaxError(f"bad day-of-month {dom_text!r}")
        dom_special = f"{int(match.group(1))}W"
    elif dom_text != "?":
        dom = _parse_set(dom_text, _DOM)

    dow: frozenset[int] | None = None
    dow_last: int | None = None
    dow_nth: tuple[int, int] | None = None
    if dow_text == "L":
        dow = frozenset({7})  # Quartz: a bare L in day-of-week is the last day of the week
    elif match := _LAST_OF.match(dow_text):
        dow_last = _value(match.group(1), _DOW)
    elif match := _NTH_OF.match(dow_text):
        dow_nth = (_value(match.group(1), _DOW), int(match.group(2)))
    elif dow_text != "?":
        dow = _parse_set(dow_text, _DOW)

    return CronExpression(
        text=" ".join(fields),
        minutes=tuple(sorted(_parse_set(minute, _MINUTE))),
        hours=tuple(sorted(_parse_set(hour, _HOUR))),
        months=tuple(sorted(_parse_set(month, _MONTH))),
        years=tuple(sorted(_parse_set(year, _YEAR))),
        dom=dom,
        dom_special=dom_special,
        dow=dow,
        dow_last=dow_last,
        dow_nth=dow_nth,
    )
