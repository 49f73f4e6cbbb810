"""The SQL of reads on a table's stored keys: sort-key bounds, and the Query statement of each
shape, built once and run straight on the driver (a Query is a hot path).

Invariants: a sort-key condition becomes bounds on the stored (sort-preserving) key bytes, so
``BETWEEN`` and ``begins_with`` are range scans; a statement depends only on its shape (bound
operators, direction, whether there is a Limit), never on values, so the cache stays small.
On SQLite a table Query runs on the thread's point reader (one statement is its own snapshot,
as the read transaction it replaces was), and its cursor is closed once the page is built, so a
page that stops early holds no snapshot open.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa

from lambdamaker.services.dynamodb.tables import ddb_items
from lambdamaker.store import Store
from lambdamaker.store.raw import RawStatement

T = TypeVar("T")

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


def read_table_query(
    store: Store,
    shape: tuple[tuple[str, ...], bool, bool],
    values: dict[str, Any],
    page: Callable[[Iterable[Any]], T],
) -> T:
    """``page`` of the rows ``(item, size)`` of the table Query of ``shape`` on ``values``:
    on SQLite on this thread's point reader without a transaction, else in a read transaction."""
    statement = table_query(shape)
    reader = store.point_reader()
    if reader is None:
        with store.read() as conn:
            return page(statement.execute(conn, values))
    cursor = statement.execute_sqlite(reader, values)
    try:
        return page(cursor)
    finally:
        cursor.close()


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
