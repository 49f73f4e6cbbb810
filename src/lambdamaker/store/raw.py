"""Hot statements straight to the driver (sqlite3, psycopg 3), for paths that run a statement
per item: SQLAlchemy's execution machinery costs several times the statement itself there.

A ``RawStatement`` is a SQLAlchemy Core statement compiled once per dialect (in the
dialect's own parameter style: ``?`` positions for sqlite3, ``%(name)s`` for psycopg) and
executed on the DBAPI connection underneath the caller's SQLAlchemy ``Connection``, so it joins
the caller's transaction. Invariant: only statements whose parameters are plain values (no type processing
by SQLAlchemy: ints, strings, bytes) are run this way.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Connection

_SQLITE = pysqlite.dialect()


def _picker(order: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A row mapping -> its values as a tuple in ``order`` (``itemgetter``: ~5x a generator)."""
    if len(order) == 1:
        (name,) = order
        return lambda row: (row[name],)
    return operator.itemgetter(*order)


class RawStatement:
    __slots__ = ("_lock", "_sql", "statement")

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        # dialect name -> (SQL, parameter names in order for a positional style (else None),
        # values of parameters the compiler added itself, such as SQLite's OFFSET 0)
        self._sql: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _compiled(self, conn: Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        dialect = conn.dialect
        found = self._sql.get(dialect.name)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup) if compiled.positional else None
            defaults = {k: v for k, v in compiled.params.items() if v is not None}
            found = (str(compiled), order, defaults)
            with self._lock:
                self._sql[dialect.name] = found
        return found

    def execute_sqlite(self, reader: Any, params: Mapping[str, Any]) -> Any:
        """Run on a plain ``sqlite3`` connection (``Store.point_reader``); the cursor."""
        found = self._sql.get("sqlite")
        if found is None:
            compiled: Any = self.statement.compile(dialect=_SQLITE)  # type: ignore[attr-defined]
            found = (
                str(compiled),
                tuple(compiled.positiontup),
                {k: v for k, v in compiled.params.items() if v is not None},
            )
            with self._lock:
                self._sql["sqlite"] = found
        sql, order, defaults = found
        if defaults:
            params = {**defaults, **params}
        assert order is not None  # pysqlite is positional (qmark)
        return reader.execute(sql, tuple(params[name] for name in order))

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row, in one driver call on ``conn``'s DBAPI connection."""
        sql, order, defaults = self._compiled(conn)
        driver: Any = conn.connection.driver_connection
        if defaults:
            rows = [{**defaults, **row} for row in rows]
        if order is None:
            driver.cursor().executemany(sql, rows)
        else:
            pick = _picker(order)
            driver.executemany(sql, [pick(row) for row in rows])

    def execute_ordered(self, conn: Connection, names: Sequence[str], values: Sequence[Any]) -> Any:
        """``execute`` with the parameters given as ``values``, in the order of ``names``: on a
        positional driver whose statement takes exactly that order (sqlite3, when ``names``
        follow the statement's own order), ``values`` go to the driver as they are, without a
        mapping built and unpacked per parameter (multi-row statements have hundreds)."""
        sql, order, defaults = self._compiled(conn)
        if order is not None and not defaults and order == tuple(names):
            driver: Any = conn.connection.driver_connection
            return driver.execute(sql, values)
        return self.execute(conn, dict(zip(names, values, strict=True)))

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run on ``conn``'s DBAPI connection; the driver's cursor."""
        sql, order, defaults = self._compiled(conn)
        driver: Any = conn.connection.driver_connection
        if defaults:
            params = {**defaults, **params}
        if order is None:
            return driver.execute(sql, params)
        return driver.execute(sql, tuple(params[name] for name in order))
