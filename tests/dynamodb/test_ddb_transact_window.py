"""The TransactWriteItems idempotency window on a fake clock: a token is remembered for ten
minutes, then forgotten (and purged by the TTL loop's housekeeping)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ddb_inprocess import NOW, DynamoDB, in_process

from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb.transact_ops import purge_tokens
from lambdamaker.services.dynamodb.transact_tables import ddb_tx_tokens
from lambdamaker.testing import FakeClock


@pytest.fixture()
def ddb(tmp_path: Path, store_url: str) -> Iterator[DynamoDB]:
    with in_process(tmp_path / "data", store_url, FakeClock(NOW), loop=False) as db:
        db(
            "CreateTable",
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield db


def _add(amount: str) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": "t",
                "Key": {"pk": {"S": "c"}},
                "UpdateExpression": "ADD n :v",
                "ExpressionAttributeValues": {":v": {"N": amount}},
            }
        }
    ]


def _count(ddb: DynamoDB) -> str:
    item = ddb("GetItem", TableName="t", Key={"pk": {"S": "c"}})["Item"]
    return str(item["n"]["N"])


def test_token_is_remembered_for_ten_minutes(ddb: DynamoDB) -> None:
    clock = ddb.provider.clock
    assert isinstance(clock, FakeClock)
    ddb("TransactWriteItems", TransactItems=_add("1"), ClientRequestToken="tok")
    clock.now += 599
    ddb("TransactWriteItems", TransactItems=_add("1"), ClientRequestToken="tok")
    assert _count(ddb) == "1"
    with pytest.raises(ServiceError) as e:
        ddb("TransactWriteItems", TransactItems=_add("2"), ClientRequestToken="tok")
    assert e.value.code == "IdempotentParameterMismatchException"
    clock.now += 1
    ddb("TransactWriteItems", TransactItems=_add("2"), ClientRequestToken="tok")
    assert _count(ddb) == "3"


def test_cancelled_request_records_no_token(ddb: DynamoDB) -> None:
    guarded = _add("1")
    guarded[0]["Update"]["ConditionExpression"] = "attribute_exists(pk)"
    with pytest.raises(ServiceError) as e:
        ddb("TransactWriteItems", TransactItems=guarded, ClientRequestToken="tok")
    assert e.value.code == "TransactionCanceledException"
    ddb("TransactWriteItems", TransactItems=_add("1"), ClientRequestToken="tok")
    assert _count(ddb) == "1"


def test_expired_tokens_are_purged(ddb: DynamoDB) -> None:
    clock = ddb.provider.clock
    assert isinstance(clock, FakeClock)
    ddb("TransactWriteItems", TransactItems=_add("1"), ClientRequestToken="old")
    clock.now += 300
    ddb("TransactWriteItems", TransactItems=_add("1"), ClientRequestToken="new")
    clock.now += 301
    store = ddb.provider.platform.store
    with store.begin() as conn:
        assert purge_tokens(conn, ddb.provider.now_ms()) == 1
    with store.read() as conn:
        assert conn.execute(sa.select(ddb_tx_tokens.c.token)).scalars().all() == ["new"]
