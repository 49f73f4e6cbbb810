"""``DynamoDBProvider``: Amazon DynamoDB (json 1.0 protocol, ``DynamoDB_20120810``).

Tables and items live in the store (``tables``): every acknowledged write is committed. Keys are
stored in a sort-preserving encoding (``keys``) so Query and Scan pages are index range scans.

Supported: CreateTable (GSIs and LSIs are validated and described, not yet maintained),
DescribeTable, ListTables, DeleteTable, UpdateTable (billing mode, throughput, deletion
protection), UpdateTimeToLive / DescribeTimeToLive (expired items are deleted by ``ttl``), PutItem,
GetItem, DeleteItem (ReturnValues NONE / ALL_OLD), UpdateItem (UpdateExpression or the legacy
AttributeUpdates, all ReturnValues), ReturnConsumedCapacity, BatchGetItem, BatchWriteItem (one
transaction, nothing unprocessed), Scan (Limit, ExclusiveStartKey, parallel segments) and
Query (KeyConditionExpression or the legacy ``KeyConditions``). Expressions come from the
tables engine (``expressions``): ConditionExpression on PutItem / DeleteItem / UpdateItem,
FilterExpression on Query / Scan, ProjectionExpression on GetItem / BatchGetItem / Query /
Scan; the legacy Expected / ConditionalOperator on writes (``legacy``). TransactWriteItems and
TransactGetItems (``transact_ops``). Not yet: tags, backups.
"""

from __future__ import annotations

from lambdamaker.services.dynamodb.index_tables import MIGRATIONS as INDEX_MIGRATIONS
from lambdamaker.services.dynamodb.item_ops import ItemOperations
from lambdamaker.services.dynamodb.read_ops import ReadOperations
from lambdamaker.services.dynamodb.stream_tables import MIGRATIONS as STREAM_MIGRATIONS
from lambdamaker.services.dynamodb.table_ops import TableOperations
from lambdamaker.services.dynamodb.tables import MIGRATIONS
from lambdamaker.services.dynamodb.transact_ops import TransactOperations
from lambdamaker.services.dynamodb.transact_tables import MIGRATIONS as TRANSACT_MIGRATIONS
from lambdamaker.services.dynamodb.ttl import TtlSweeper
from lambdamaker.services.dynamodb.update_ops import UpdateOperations


class DynamoDBProvider(
    TableOperations, ItemOperations, UpdateOperations, ReadOperations, TransactOperations
):
    service = "dynamodb"
    migrations = [*MIGRATIONS, *STREAM_MIGRATIONS, *INDEX_MIGRATIONS, *TRANSACT_MIGRATIONS]
    # DescribeTable counts the items (a range scan), so it runs in a worker thread. GetItem is
    # one primary-key read (the table definition comes from the cache): cheaper on the event
    # loop than a thread hop.
    inline_operations = frozenset({"ListTables", "DescribeTimeToLive", "GetItem"})
    # Tables, items, stream records and their sequence numbers all live in the store, each write
    # commits (group commit) before it answers, and the table cache follows the shared epochs:
    # data-plane workers serve DynamoDB beside the primary. The TTL sweeper runs in the primary.
    serves_in_workers = True

    def start(self) -> None:
        super().start()
        self.ttl = TtlSweeper(self)
        self.ttl.start()

    def close(self) -> None:
        ttl: TtlSweeper | None = getattr(self, "ttl", None)
        if ttl is not None:
            ttl.close()
        super().close()
