"""SNS's schema migrations: a store at version 2 (done-records in ``sns_deliveries``) upgrades to
version 3 (pending deliveries with their retry schedule), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.services.sns.tables import MIGRATIONS, deliveries
from lambdamaker.store import Store


def test_version_2_delivery_records_upgrade_to_pending_deliveries(store: Store) -> None:
    store.migrate(MIGRATIONS[:2])
    with store.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sns_deliveries (message_seq, subscription_arn) VALUES (1, 'arn:x')"
            )
        )
    applied = store.migrate(MIGRATIONS)
    assert [m.version for m in applied] == [3, 4]
    with store.begin() as conn:
        assert list(conn.execute(sa.select(deliveries))) == []
        conn.execute(
            sa.insert(deliveries).values(
                message_seq=1,
                subscription_arn="arn:x",
                attempts=2,
                next_attempt_at=10.5,
                last_error="boom",
            )
        )
    with store.read() as conn:
        [row] = conn.execute(sa.select(deliveries))
    assert (row.attempts, row.next_attempt_at, row.last_error) == (2, 10.5, "boom")


def test_a_new_store_gets_the_pending_deliveries_table(store: Store) -> None:
    store.migrate(MIGRATIONS)
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("sns_deliveries")}
    assert columns == {
        "message_seq",
        "subscription_arn",
        "attempts",
        "next_attempt_at",
        "last_error",
    }
