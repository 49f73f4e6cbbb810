"""The SQL of reads on a table's stored keys: sort-key bounds, and the Query statement of each
shape, built once and run straight on the driver (a Query is a hot path).

Invariants: a sort-key condition becomes bounds on the stored (sort-preserving) key bytes, so
``BETWEEN`` and ``begins_with`` are range scans; a statement depends only on its shape (bound
operators, direction, whether there is a Limit), never on values, so the cache stays small.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from lambdamaker.services.dynamodb.tables import ddb_items
from lambdamaker.store.raw import RawStatement

BOUNDS = {"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@functools.lru_cache(maxsize=256)
def table_query(shape: tuple[tuple[str, ...], bool, bool]) -> RawStatement:
    """The statement of a Query on a table (not an index) of one shape: the sort-key bound
    operators (parameters ``r0``, ``r1``...), the direction, and whether there is a Limit
    (``n``). Built once per shape and run straight on the driver: a Query is a hot path."""
    ops, forward, limited = shape
    c = ddb_items.c
    query = sa.select(c.item, c.size).where(
        c.table_id == sa.bindparam("t"), c.hash == sa.bindparam("h")
    )
    for i, op in enumerate(ops):
        query = query.where(COMPARE[op](c.range, sa.bindparam(f"r{i}", type_=sa.LargeBinary)))
    query = query.order_by(c.range if forward else c.range.desc())
    if limited:
        query = query.limit(sa.bindparam("n", type_=sa.Integer))
    return RawStatement(query)


class Rows:
    """Driver rows (item, size) with the attribute access ``_page`` uses."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def __iter__(self) -> Iterator[Any]:
        for item, size in self._cursor:
            yield Row(item, size)


class Row:
    __slots__ = ("item", "size")

    def __init__(self, item: str, size: int) -> None:
        self.item = item
        self.size = size


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
