"""TTL expiry in-process on a fake clock, on SQLite and PostgreSQL: which items expire, that
expired items stay readable until a pass deletes them, and that the background loop runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ddb_inprocess import NOW, DynamoDB, in_process

from lambdamaker.services.dynamodb.ttl import TtlSweeper
from lambdamaker.testing import FakeClock


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture()
def ddb(tmp_path: Path, store_url: str, clock: FakeClock) -> Iterator[DynamoDB]:
    with in_process(tmp_path / "data", store_url, clock, loop=False) as db:
        yield db


def _table(ddb: DynamoDB, name: str, ttl: bool = True) -> None:
    ddb(
        "CreateTable",
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if ttl:
        ddb(
            "UpdateTimeToLive",
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )


def _put(ddb: DynamoDB, table: str, pk: str, expires: dict[str, Any] | None) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}}
    if expires is not None:
        item["expires"] = expires
    ddb("PutItem", TableName=table, Item=item)


def test_sweep_deletes_only_items_whose_ttl_number_has_passed(
    ddb: DynamoDB, clock: FakeClock
) -> None:
    _table(ddb, "t")
    _put(ddb, "t", "past", {"N": str(NOW - 10)})
    _put(ddb, "t", "now", {"N": str(NOW)})
    _put(ddb, "t", "future", {"N": str(NOW + 60)})
    _put(ddb, "t", "text", {"S": str(NOW - 10)})
    _put(ddb, "t", "none", None)
    _put(ddb, "t", "ancient", {"N": str(NOW - 6 * 365 * 24 * 3600)})
    _put(ddb, "t", "fraction", {"N": f"{NOW - 1}.5"})
    everything = {"past", "now", "future", "text", "none", "ancient", "fraction"}
    # Expired but not yet swept: still returned, as AWS does.
    assert ddb.keys("t") == everything
    assert ddb("GetItem", TableName="t", Key={"pk": {"S": "past"}})["Item"]
    assert ddb.provider.ttl.sweep() == 3
    assert ddb.keys("t") == {"future", "text", "none", "ancient"}
    clock.now += 60
    assert ddb.provider.ttl.sweep() == 1
    assert ddb.keys("t") == {"text", "none", "ancient"}
    assert ddb.provider.ttl.sweep() == 0


def test_tables_without_ttl_are_left_alone(ddb: DynamoDB) -> None:
    _table(ddb, "plain", ttl=False)
    _put(ddb, "plain", "old", {"N": str(NOW - 10)})
    assert ddb.provider.ttl.sweep() == 0
    assert ddb.keys("plain") == {"old"}
    ddb(
        "UpdateTimeToLive",
        TableName="plain",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )
    assert ddb.provider.ttl.sweep() == 1
    assert ddb.keys("plain") == set()


def test_sweep_pages_through_a_large_table(ddb: DynamoDB) -> None:
    _table(ddb, "big")
    items = [
        {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "expires": {"N": str(NOW - i % 2)}}}}
        for i in range(25)
    ]
    for _ in range(50):
        ddb("BatchWriteItem", RequestItems={"big": items})
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": r["PutRequest"]["Item"]["pk"]["S"] + "x"},
                        "expires": r["PutRequest"]["Item"]["expires"],
                    }
                }
            }
            for r in items
        ]
    _put(ddb, "big", "keep", {"N": str(NOW + 1)})
    assert ddb.provider.ttl.sweep() == 1250
    assert ddb.keys("big") == {"keep"}


def test_background_loop_expires_items(
    tmp_path: Path, store_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TtlSweeper, "interval", 0.02)
    with in_process(tmp_path / "data", store_url, clock, loop=True) as ddb:
        _table(ddb, "t")
        _put(ddb, "t", "soon", {"N": str(NOW + 5)})
        _put(ddb, "t", "later", {"N": str(NOW + 500)})
        clock.now += 10
        deadline = time.monotonic() + 30
        while ddb.keys("t") != {"later"} and time.monotonic() < deadline:
            time.sleep(0.02)  # waiting for the loop's thread, not for any time logic
        assert ddb.keys("t") == {"later"}
