"""CreateTable validation, as DynamoDB does it, producing the stored table definition.

Invariants of an accepted definition: the table key is HASH [+ RANGE] of distinct attributes;
every key attribute of the table and its indexes is in AttributeDefinitions, and nothing else
is; index names are unique; LSIs share the table's partition key and have a sort key; throughput
is given exactly when the billing mode is PROVISIONED (table and every GSI).
"""

from __future__ import annotations

from typing import Any

from lambdamaker.services.dynamodb.errors import invalid, validation


def check_throughput(throughput: dict[str, Any]) -> None:
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = throughput.get(field)
        if value is None or int(value) < 1:
            raise invalid(
                f"{field} must be greater than 0 (Service: AmazonDynamoDBv2; Status Code: 400)"
            )


def _check_key_schema(key_schema: list[dict[str, Any]], what: str) -> None:
    if not key_schema or len(key_schema) > 2:
        raise validation(f"Invalid KeySchema: {what} KeySchema must have 1 or 2 elements")
    if key_schema[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(key_schema) == 2:
        if key_schema[1]["KeyType"] != "RANGE":
            raise validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        if key_schema[0]["AttributeName"] == key_schema[1]["AttributeName"]:
            raise validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )


def _check_projection(index: dict[str, Any]) -> dict[str, Any]:
    projection = dict(index.get("Projection") or {})
    kind = projection.setdefault("ProjectionType", "ALL")
    non_key = projection.get("NonKeyAttributes")
    if kind == "INCLUDE" and not non_key:
        raise invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if kind != "INCLUDE" and non_key:
        raise invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    return projection


def _clean_index(index: dict[str, Any], provisioned: bool, global_: bool) -> dict[str, Any]:
    name = index["IndexName"]
    _check_key_schema(index["KeySchema"], "Index")
    out: dict[str, Any] = {
        "IndexName": name,
        "KeySchema": index["KeySchema"],
        "Projection": _check_projection(index),
    }
    if global_:
        throughput = index.get("ProvisionedThroughput")
        if provisioned:
            if throughput is None:
                raise invalid(f"ProvisionedThroughput must be specified for index: {name}")
            check_throughput(throughput)
            out["ProvisionedThroughput"] = {
                "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
                "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
            }
        elif throughput is not None:
            raise invalid(
                "ProvisionedThroughput should not be specified for index: "
                f"{name} when BillingMode is PAY_PER_REQUEST"
            )
    return out


def check_create(params: dict[str, Any]) -> dict[str, Any]:
    """The definition to store for a CreateTable request, or ValidationException."""
    key_schema = params["KeySchema"]
    _check_key_schema(key_schema, "Table")
    definitions = params["AttributeDefinitions"]
    defined = [a["AttributeName"] for a in definitions]
    if len(set(defined)) != len(defined):
        raise invalid("Duplicate AttributeName in AttributeDefinitions")

    mode = params.get("BillingMode") or "PROVISIONED"
    throughput = params.get("ProvisionedThroughput")
    definition: dict[str, Any] = {
        "KeySchema": key_schema,
        "AttributeDefinitions": definitions,
        "BillingMode": mode,
    }
    provisioned = mode == "PROVISIONED"
    if provisioned:
        if throughput is None:
            raise validation(
                "One or more parameter values were invalid: ReadCapacityUnits and "
                "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
            )
        check_throughput(throughput)
        definition["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
            "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
        }
    elif throughput is not None:
        raise invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
            "is PAY_PER_REQUEST"
        )
    if params.get("DeletionProtectionEnabled"):
        definition["DeletionProtectionEnabled"] = True

    gsis = [_clean_index(i, provisioned, True) for i in params.get("GlobalSecondaryIndexes") or []]
    lsis = [_clean_index(i, provisioned, False) for i in params.get("LocalSecondaryIndexes") or []]
    names = [i["IndexName"] for i in gsis + lsis]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise invalid(f"Duplicate index name: {duplicate}")
    table_hash = key_schema[0]["AttributeName"]
    for lsi in lsis:
        if len(key_schema) < 2:
            raise invalid(
                "Table KeySchema does not have a range key, which is required when specifying "
                "a LocalSecondaryIndex"
            )
        index_hash = lsi["KeySchema"][0]["AttributeName"]
        if index_hash != table_hash:
            raise invalid(
                "Index KeySchema does not have the same leading hash key as table KeySchema "
                f"for index: {lsi['IndexName']}. index hash key: {index_hash}, table hash key: "
                f"{table_hash}"
            )
        if len(lsi["KeySchema"]) < 2:
            raise invalid(f"Index KeySchema must have a range key for index: {lsi['IndexName']}")

    used: list[str] = []
    for schema in [key_schema] + [i["KeySchema"] for i in gsis + lsis]:
        for element in schema:
            if element["AttributeName"] not in used:
                used.append(element["AttributeName"])
    missing = [u for u in used if u not in defined]
    if missing:
        raise invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(defined)}]"
        )
    if len(used) != len(defined):
        if not gsis and not lsis:
            raise invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes "
                "defined in AttributeDefinitions"
            )
        raise invalid(
            "Some AttributeDefinitions are not used. AttributeDefinitions: "
            f"[{', '.join(defined)}], keys used: [{', '.join(used)}]"
        )
    if gsis:
        definition["GlobalSecondaryIndexes"] = gsis
    if lsis:
        definition["LocalSecondaryIndexes"] = lsis
    return definition
