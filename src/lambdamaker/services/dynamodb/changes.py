"""What follows every change of an item, inside the transaction that makes it.

``after_write`` is called by ``item_store`` once per changed item, with the item before (None
when it was created) and after (None when it was deleted). It keeps the table's secondary
indexes (``indexes``) and its stream (``streams``) in step with the items.

Invariants: it runs in the writer's transaction, so an index entry or stream record exists iff
the change committed; it is called once per item change, never for a write that changed
nothing stored (a delete of a missing item). ``watched`` is False exactly when ``after_write``
does nothing for the table whatever the items: a writer that needs the old item for nothing else
may then write without reading it (``item_store.replace_item`` / ``delete_key``).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from lambdamaker.services.dynamodb import indexes, streams
from lambdamaker.services.dynamodb.common import StoredKey, Table
from lambdamaker.services.dynamodb.values import Item


def watched(table: Table) -> bool:
    """Whether a change of ``table``'s items has anything to maintain (indexes or a stream)."""
    stream = table.definition.get("Stream")
    return bool(indexes.indexes_of(table)) or bool(stream and stream["Enabled"])


def after_write(
    conn: Connection,
    table: Table,
    key: StoredKey,
    old: Item | None,
    new: Item | None,
    identity: dict[str, str] | None,
) -> None:
    """Maintain the table's indexes and its stream for one item change."""
    # Indexes first: a type mismatch against an index key raises here, before any stream
    # record is made, and rolls the whole write back.
    indexes.maintain(conn, table, key, old, new)
    streams.record_change(conn, table, key, old, new, identity)
