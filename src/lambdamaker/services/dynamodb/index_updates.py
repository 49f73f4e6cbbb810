"""UpdateTable's ``GlobalSecondaryIndexUpdates``: create (with backfill), delete, throughput.

Invariants: a request is validated whole before anything changes; at most one index is
created or deleted per request (DynamoDB's online-index limit); a created GSI is backfilled
from the existing items in the UpdateTable transaction, so it is ACTIVE and complete as soon as
the request commits; AttributeDefinitions keeps exactly the attributes some key uses
(``schema``'s invariant), gaining the new index's keys and losing a deleted index's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb import indexes
from lambdamaker.services.dynamodb.common import Table
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.schema import _clean_index, check_throughput

MAX_GSIS = 20


def _limit(message: str) -> ServiceError:
    return ServiceError(f"Subscriber limit exceeded: {message}", code="LimitExceededException")


def _index_not_found(name: str) -> ServiceError:
    return ServiceError(
        f"Requested resource not found: Index: {name} not found",
        code="ResourceNotFoundException",
    )


def _used_attributes(d: dict[str, Any]) -> list[str]:
    used: list[str] = []
    schemas = [d["KeySchema"]] + [
        i["KeySchema"]
        for i in (d.get("GlobalSecondaryIndexes") or []) + (d.get("LocalSecondaryIndexes") or [])
    ]
    for schema in schemas:
        for element in schema:
            if element["AttributeName"] not in used:
                used.append(element["AttributeName"])
    return used


def _create(d: dict[str, Any], spec: dict[str, Any], params: dict[str, Any]) -> None:
    provisioned = d["BillingMode"] == "PROVISIONED"
    gsi = _clean_index(spec, provisioned, True)
    gsis = d.setdefault("GlobalSecondaryIndexes", [])
    names = [i["IndexName"] for i in gsis + (d.get("LocalSecondaryIndexes") or [])]
    if gsi["IndexName"] in names:
        raise validation("Attempting to create an index which already exists")
    if len(gsis) >= MAX_GSIS:
        raise invalid(f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}")
    types = {a["AttributeName"]: a["AttributeType"] for a in d["AttributeDefinitions"]}
    for given in params.get("AttributeDefinitions") or []:
        name, type_ = given["AttributeName"], given["AttributeType"]
        if types.get(name, type_) != type_:
            raise invalid(
                f"Cannot change the type of attribute {name} from {types[name]} to {type_}"
            )
        types[name] = type_
    keys = [k["AttributeName"] for k in gsi["KeySchema"]]
    missing = [k for k in keys if k not in types]
    if missing:
        raise invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(types)}]"
        )
    gsis.append(gsi)
    d["AttributeDefinitions"] = [
        {"AttributeName": name, "AttributeType": types[name]} for name in _used_attributes(d)
    ]


def _delete(d: dict[str, Any], name: str) -> None:
    gsis = d.get("GlobalSecondaryIndexes") or []
    if not any(g["IndexName"] == name for g in gsis):
        raise _index_not_found(name)
    d["GlobalSecondaryIndexes"] = [g for g in gsis if g["IndexName"] != name]
    if not d["GlobalSecondaryIndexes"]:
        del d["GlobalSecondaryIndexes"]
    used = set(_used_attributes(d))
    d["AttributeDefinitions"] = [a for a in d["AttributeDefinitions"] if a["AttributeName"] in used]


def _update(d: dict[str, Any], spec: dict[str, Any]) -> None:
    name = spec["IndexName"]
    gsi = next((g for g in d.get("GlobalSecondaryIndexes") or [] if g["IndexName"] == name), None)
    if gsi is None:
        raise _index_not_found(name)
    throughput = spec.get("ProvisionedThroughput")
    if throughput is None:
        return
    if d["BillingMode"] != "PROVISIONED":
        raise invalid(
            "ProvisionedThroughput should not be specified for index: "
            f"{name} when BillingMode is PAY_PER_REQUEST"
        )
    check_throughput(throughput)
    gsi["ProvisionedThroughput"] = {
        "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
    }


def apply(conn: Connection, table: Table, params: dict[str, Any]) -> None:
    """Apply ``GlobalSecondaryIndexUpdates`` to ``table.definition`` (in place) and its
    entries. The caller stores the definition in the same transaction."""
    updates: list[dict[str, Any]] = params.get("GlobalSecondaryIndexUpdates") or []
    if not updates:
        return
    online = [u for u in updates if u.get("Create") or u.get("Delete")]
    if len(online) > 1:
        raise _limit("Only 1 online index can be created or deleted simultaneously per table")
    d = table.definition
    for update in updates:
        actions = [k for k in ("Create", "Update", "Delete") if update.get(k)]
        if len(actions) != 1:
            raise validation(
                "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate "
                "actions Create, Update or Delete must be specified"
            )
        if update.get("Create"):
            _create(d, update["Create"], params)
            index = indexes.find_index(table, update["Create"]["IndexName"])
            indexes.backfill(conn, table, index)
        elif update.get("Delete"):
            _delete(d, update["Delete"]["IndexName"])
            indexes.drop(conn, table, update["Delete"]["IndexName"])
        else:
            _update(d, update["Update"])
