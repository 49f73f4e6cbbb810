"""TransactWriteItems and TransactGetItems through boto3: atomicity across tables, cancellation
reasons, idempotency tokens, and the validation DynamoDB does before anything happens."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import error_of


def _table(ddb: Any, *, sort: bool = False) -> str:
    name = f"tx-{uuid.uuid4().hex[:10]}"
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    ddb.create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )
    return name


@pytest.fixture()
def accounts(ddb: Any) -> str:
    return _table(ddb)


@pytest.fixture()
def ledger(ddb: Any) -> str:
    return _table(ddb, sort=True)


def _get(ddb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=table, Key=key).get("Item")
    return item


def _transfer(accounts: str, ledger: str, amount: str) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": accounts,
                "Key": {"pk": {"S": "alice"}},
                "UpdateExpression": "SET balance = balance - :a",
                "ConditionExpression": "balance >= :a",
                "ExpressionAttributeValues": {":a": {"N": amount}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Update": {
                "TableName": accounts,
                "Key": {"pk": {"S": "bob"}},
                "UpdateExpression": "ADD balance :a",
                "ExpressionAttributeValues": {":a": {"N": amount}},
            }
        },
        {
            "Put": {
                "TableName": ledger,
                "Item": {"pk": {"S": "alice"}, "sk": {"N": "1"}, "amount": {"N": amount}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]


def test_write_transaction_applies_every_action_across_tables(
    ddb: Any, accounts: str, ledger: str
) -> None:
    ddb.put_item(TableName=accounts, Item={"pk": {"S": "alice"}, "balance": {"N": "100"}})
    ddb.put_item(TableName=accounts, Item={"pk": {"S": "carol"}, "gone": {"BOOL": True}})
    actions = _transfer(accounts, ledger, "30")
    actions.append({"Delete": {"TableName": accounts, "Key": {"pk": {"S": "carol"}}}})
    actions.append(
        {
            "ConditionCheck": {
                "TableName": ledger,
                "Key": {"pk": {"S": "alice"}, "sk": {"N": "0"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    )
    out = ddb.transact_write_items(TransactItems=actions, ReturnConsumedCapacity="TOTAL")
    assert {c["TableName"] for c in out["ConsumedCapacity"]} == {accounts, ledger}
    assert _get(ddb, accounts, {"pk": {"S": "alice"}})["balance"] == {"N": "70"}  # type: ignore[index]
    assert _get(ddb, accounts, {"pk": {"S": "bob"}})["balance"] == {"N": "30"}  # type: ignore[index]
    assert _get(ddb, accounts, {"pk": {"S": "carol"}}) is None
    ledger_key = {"pk": {"S": "alice"}, "sk": {"N": "1"}}
    assert _get(ddb, ledger, ledger_key) == dict(ledger_key, amount={"N": "30"})


def test_failed_condition_cancels_everything_with_reasons_in_order(
    ddb: Any, accounts: str, ledger: str
) -> None:
    alice = {"pk": {"S": "alice"}, "balance": {"N": "10"}}
    ddb.put_item(TableName=accounts, Item=alice)
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=_transfer(accounts, ledger, "30"))
    code, message = error_of(e)
    assert code == "TransactionCanceledException"
    assert message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None, None]"
    )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["CancellationReasons"] == [
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": alice,
        },
        {"Code": "None"},
        {"Code": "None"},
    ]
    assert _get(ddb, accounts, {"pk": {"S": "alice"}}) == alice
    assert _get(ddb, accounts, {"pk": {"S": "bob"}}) is None
    assert _get(ddb, ledger, {"pk": {"S": "alice"}, "sk": {"N": "1"}}) is None


def test_cancellation_reason_without_old_item_unless_asked(ddb: Any, accounts: str) -> None:
    ddb.put_item(TableName=accounts, Item={"pk": {"S": "x"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": accounts, "Item": {"pk": {"S": "y"}}}},
                {
                    "ConditionCheck": {
                        "TableName": accounts,
                        "Key": {"pk": {"S": "x"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert e.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert _get(ddb, accounts, {"pk": {"S": "y"}}) is None


def test_update_that_cannot_apply_cancels_with_validation_error(ddb: Any, accounts: str) -> None:
    ddb.put_item(TableName=accounts, Item={"pk": {"S": "x"}, "v": {"S": "text"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": accounts, "Item": {"pk": {"S": "y"}}}},
                {
                    "Update": {
                        "TableName": accounts,
                        "Key": {"pk": {"S": "x"}},
                        "UpdateExpression": "SET v = v + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert error_of(e)[0] == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ValidationError"
    assert _get(ddb, accounts, {"pk": {"S": "y"}}) is None


def test_client_request_token_makes_the_request_idempotent(ddb: Any, accounts: str) -> None:
    token = uuid.uuid4().hex
    actions = [
        {
            "Update": {
                "TableName": accounts,
                "Key": {"pk": {"S": "counter"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    ddb.transact_write_items(TransactItems=actions, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=actions, ClientRequestToken=token)
    assert _get(ddb, accounts, {"pk": {"S": "counter"}})["n"] == {"N": "1"}  # type: ignore[index]
    actions[0]["Update"]["ExpressionAttributeValues"] = {":one": {"N": "5"}}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=actions, ClientRequestToken=token)
    assert error_of(e)[0] == "IdempotentParameterMismatchException"
    ddb.transact_write_items(TransactItems=actions, ClientRequestToken=uuid.uuid4().hex)
    assert _get(ddb, accounts, {"pk": {"S": "counter"}})["n"] == {"N": "6"}  # type: ignore[index]


def test_two_actions_on_one_item_are_refused(ddb: Any, accounts: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": accounts, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}},
                {"Delete": {"TableName": accounts, "Key": {"pk": {"S": "a"}}}},
            ]
        )
    assert error_of(e) == (
        "ValidationException",
        "Transaction request cannot include multiple operations on one item",
    )
    assert _get(ddb, accounts, {"pk": {"S": "a"}}) is None


def test_more_than_100_actions_are_refused(ddb: Any, accounts: str) -> None:
    actions = [{"Put": {"TableName": accounts, "Item": {"pk": {"S": f"k{i}"}}}} for i in range(101)]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=actions)
    code, message = error_of(e)
    assert code == "ValidationException"
    assert message.endswith(
        "at 'transactItems' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )
    assert _get(ddb, accounts, {"pk": {"S": "k0"}}) is None
    ddb.transact_write_items(TransactItems=actions[:100])
    assert _get(ddb, accounts, {"pk": {"S": "k99"}}) == {"pk": {"S": "k99"}}


def test_bad_expression_or_key_is_a_validation_error_before_any_write(
    ddb: Any, accounts: str, ledger: str
) -> None:
    put = {"Put": {"TableName": accounts, "Item": {"pk": {"S": "new"}}}}
    bad_expression = {
        "Update": {"TableName": accounts, "Key": {"pk": {"S": "x"}}, "UpdateExpression": "SET"}
    }
    bad_key = {"Delete": {"TableName": ledger, "Key": {"pk": {"S": "x"}}}}
    for bad in (bad_expression, bad_key):
        with pytest.raises(ClientError) as e:
            ddb.transact_write_items(TransactItems=[put, bad])
        assert error_of(e)[0] == "ValidationException"
    missing = {"Delete": {"TableName": "tx-no-such-table", "Key": {"pk": {"S": "x"}}}}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[put, missing])
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert _get(ddb, accounts, {"pk": {"S": "new"}}) is None


def test_transact_get_items_returns_items_in_request_order(
    ddb: Any, accounts: str, ledger: str
) -> None:
    ddb.put_item(TableName=accounts, Item={"pk": {"S": "a"}, "v": {"N": "1"}, "w": {"S": "x"}})
    ddb.put_item(TableName=ledger, Item={"pk": {"S": "a"}, "sk": {"N": "2"}})
    out = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": ledger, "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}},
            {"Get": {"TableName": accounts, "Key": {"pk": {"S": "missing"}}}},
            {
                "Get": {
                    "TableName": accounts,
                    "Key": {"pk": {"S": "a"}},
                    "ProjectionExpression": "#v",
                    "ExpressionAttributeNames": {"#v": "v"},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["Responses"] == [
        {"Item": {"pk": {"S": "a"}, "sk": {"N": "2"}}},
        {},
        {"Item": {"v": {"N": "1"}}},
    ]
    assert {c["TableName"] for c in out["ConsumedCapacity"]} == {accounts, ledger}


def test_transact_get_items_refuses_one_item_twice(ddb: Any, accounts: str) -> None:
    get = {"Get": {"TableName": accounts, "Key": {"pk": {"S": "a"}}}}
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[get, get])
    assert error_of(e)[0] == "ValidationException"
