"""Schema migrations: order, idempotence, per-component versions, atomic failure, bad lists."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import StoreError
from lambdamaker.store import Migration, Store
from lambdamaker.store.migrations import create_tables, current_versions

meta = sa.MetaData()
widgets = sa.Table("widgets", meta, sa.Column("id", sa.Integer, primary_key=True))
gadgets = sa.Table("gadgets", meta, sa.Column("id", sa.Integer, primary_key=True))
gizmos = sa.Table("gizmos", meta, sa.Column("id", sa.Integer, primary_key=True))


def tables(store: Store) -> set[str]:
    with store.read() as conn:
        return set(sa.inspect(conn).get_table_names())


def versions(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return current_versions(conn)


def recording(calls: list[str], name: str, step: Callable[[Connection], None] | None = None):
    def upgrade(conn: Connection) -> None:
        calls.append(name)
        if step is not None:
            step(conn)

    return upgrade


def test_migrations_apply_in_version_order_whatever_the_list_order(store: Store) -> None:
    calls: list[str] = []

    def add_column(conn: Connection) -> None:
        # Fails unless version 1 ran first.
        conn.execute(sa.text("ALTER TABLE widgets ADD COLUMN name VARCHAR(20)"))

    migrations = [
        Migration("w", 3, recording(calls, "w3")),
        Migration("w", 2, recording(calls, "w2", add_column)),
        Migration("w", 1, recording(calls, "w1", create_tables(widgets))),
    ]
    applied = store.migrate(migrations)
    assert calls == ["w1", "w2", "w3"]
    assert [m.version for m in applied] == [1, 2, 3]
    with store.read() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("widgets")}
    assert columns == {"id", "name"}


def test_restart_applies_nothing_twice(store_url: str) -> None:
    calls: list[str] = []
    migrations = [
        Migration("w", 1, recording(calls, "w1", create_tables(widgets))),
        Migration("w", 2, recording(calls, "w2", create_tables(gadgets))),
    ]
    first = Store(store_url)
    assert len(first.migrate(migrations)) == 2
    first.close()

    again = Store(store_url)
    try:
        assert again.migrate(migrations) == []
        assert again.migrate(migrations) == []
    finally:
        again.close()
    assert calls == ["w1", "w2"]


def test_versions_are_recorded_per_component(store: Store) -> None:
    store.migrate(
        [
            Migration("a", 1, create_tables(widgets)),
            Migration("a", 2, create_tables(gadgets)),
            Migration("b", 1, create_tables(gizmos)),
        ]
    )
    assert versions(store) == {"a": 2, "b": 1}
    assert {"widgets", "gadgets", "gizmos", "schema_versions"} <= tables(store)


def test_appended_migration_is_applied_alone_on_the_next_start(store: Store) -> None:
    calls: list[str] = []
    v1 = Migration("w", 1, recording(calls, "w1", create_tables(widgets)))
    store.migrate([v1])
    applied = store.migrate([v1, Migration("w", 2, recording(calls, "w2", create_tables(gadgets)))])
    assert [m.version for m in applied] == [2]
    assert calls == ["w1", "w2"]
    assert versions(store) == {"w": 2}


def test_failing_migration_keeps_previous_version_and_leaves_no_partial_ddl(store: Store) -> None:
    store.migrate([Migration("w", 1, create_tables(widgets))])

    def half_done(conn: Connection) -> None:
        gadgets.create(conn)
        conn.execute(sa.text("ALTER TABLE widgets ADD COLUMN name VARCHAR(20)"))
        conn.execute(sa.insert(widgets).values(id=1))
        raise RuntimeError("upgrade step failed")

    with pytest.raises(StoreError, match="upgrade step failed"):
        store.migrate([Migration("w", 1, create_tables(widgets)), Migration("w", 2, half_done)])

    assert versions(store) == {"w": 1}
    assert "gadgets" not in tables(store)
    with store.read() as conn:
        assert {c["name"] for c in sa.inspect(conn).get_columns("widgets")} == {"id"}
        assert conn.execute(sa.select(sa.func.count()).select_from(widgets)).scalar_one() == 0


def test_failing_sql_in_migration_is_a_store_error_and_rolls_back(store: Store) -> None:
    def bad_sql(conn: Connection) -> None:
        gizmos.create(conn)
        conn.execute(sa.text("CREATE TABLE broken (id INTEGER REFERENCES"))

    with pytest.raises(StoreError):
        store.migrate([Migration("g", 1, bad_sql)])
    assert versions(store) == {}
    assert "gizmos" not in tables(store)
    # The store stays usable, and a fixed list applies cleanly.
    store.migrate([Migration("g", 1, create_tables(gizmos))])
    assert versions(store) == {"g": 1}


def test_earlier_migrations_of_a_run_stay_applied_when_a_later_one_fails(store: Store) -> None:
    def boom(conn: Connection) -> None:
        raise RuntimeError("boom")

    with pytest.raises(StoreError):
        store.migrate([Migration("w", 1, create_tables(widgets)), Migration("w", 2, boom)])
    assert versions(store) == {"w": 1}
    assert "widgets" in tables(store)


@pytest.mark.parametrize(
    "numbers", [[1, 3], [2], [0, 1], [1, 1], [1, 2, 2]], ids=["gap", "no-1", "zero", "dup", "dup2"]
)
def test_bad_numbering_is_rejected_before_anything_runs(store: Store, numbers: list[int]) -> None:
    calls: list[str] = []
    migrations = [Migration("w", n, recording(calls, f"w{n}")) for n in numbers]
    with pytest.raises(StoreError, match=r"numbered 1\.\.N"):
        store.migrate(migrations)
    assert calls == []
    assert "schema_versions" not in tables(store)


def test_store_written_by_newer_code_is_refused(store: Store) -> None:
    store.migrate(
        [Migration("w", 1, create_tables(widgets)), Migration("w", 2, create_tables(gadgets))]
    )
    with pytest.raises(StoreError, match="newer"):
        store.migrate([Migration("w", 1, create_tables(widgets))])
    assert versions(store) == {"w": 2}


def test_two_processes_migrating_at_once_apply_each_migration_once(store_url: str) -> None:
    # Two Store objects stand for two platform processes sharing one database: only the
    # database's write serialization keeps them from both applying version 1.
    calls: list[str] = []
    lock = threading.Lock()

    def counted(name: str, table: sa.Table) -> Callable[[Connection], None]:
        def upgrade(conn: Connection) -> None:
            with lock:
                calls.append(name)
            table.create(conn)

        return upgrade

    migrations = [
        Migration("w", 1, counted("w1", widgets)),
        Migration("w", 2, counted("w2", gadgets)),
        Migration("x", 1, counted("x1", gizmos)),
    ]
    stores = [Store(store_url) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def run(s: Store) -> None:
        barrier.wait()
        try:
            s.migrate(migrations)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert sorted(calls) == ["w1", "w2", "x1"]
        assert versions(stores[0]) == {"w": 2, "x": 1}
    finally:
        for s in stores:
            s.close()
