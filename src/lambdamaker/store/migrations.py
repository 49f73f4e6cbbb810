"""Versioned schema migrations, per component.

Each component (``s3``, ``iam``, ``security``...) owns a list of ``Migration`` with versions
1, 2, 3... A migration is frozen once released: change the schema by appending a new one. The
store records the highest applied version per component in ``schema_versions``, in the same
transaction as the migration's DDL, so a crash mid-migration leaves the old version in place.
DDL is transactional on both backends (PostgreSQL natively; SQLite because the store issues its
own ``BEGIN IMMEDIATE`` instead of letting pysqlite commit before each DDL statement).

A store whose recorded version is higher than the code knows was written by a newer release and
is refused rather than used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import StoreError

if TYPE_CHECKING:
    from lambdamaker.store.engine import Store

_meta = sa.MetaData()
schema_versions = sa.Table(
    "schema_versions",
    _meta,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    upgrade: Callable[[Connection], None]
    description: str = ""


def current_versions(conn: Connection) -> dict[str, int]:
    return {row.component: row.version for row in conn.execute(sa.select(schema_versions))}


def apply_migrations(store: Store, migrations: Sequence[Migration]) -> list[Migration]:
    by_component: dict[str, list[Migration]] = {}
    for m in migrations:
        by_component.setdefault(m.component, []).append(m)
    for component, ms in by_component.items():
        versions = sorted(m.version for m in ms)
        if versions != list(range(1, len(versions) + 1)):
            raise StoreError(f"migrations of {component!r} must be numbered 1..N, got {versions}")

    with store.begin() as conn:
        _meta.create_all(conn, checkfirst=True)
        have = current_versions(conn)
    for component, ms in by_component.items():
        if have.get(component, 0) > len(ms):
            # Written by a newer lambdamaker: running old code on it could corrupt it.
            raise StoreError(
                f"the store's schema of {component!r} is at version {have[component]}, "
                f"newer than this lambdamaker knows ({len(ms)}): upgrade lambdamaker"
            )

    applied: list[Migration] = []
    for component, ms in sorted(by_component.items()):
        for m in sorted(ms, key=lambda m: m.version):
            # One transaction per migration, re-reading the version under the write lock: a
            # concurrent starter may have applied it meanwhile, and a failure rolls back this
            # migration's DDL together with its version bump.
            with store.begin() as conn:
                version = current_versions(conn).get(component, 0)
                if m.version <= version:
                    continue
                m.upgrade(conn)
                if version == 0:
                    conn.execute(
                        sa.insert(schema_versions).values(component=component, version=m.version)
                    )
                else:
                    conn.execute(
                        sa.update(schema_versions)
                        .where(schema_versions.c.component == component)
                        .values(version=m.version)
                    )
                applied.append(m)
    return applied


def create_tables(*tables: sa.Table) -> Callable[[Connection], None]:
    """An upgrade step that creates the given tables (and their indexes)."""

    def upgrade(conn: Connection) -> None:
        for table in tables:
            table.create(conn)

    return upgrade
