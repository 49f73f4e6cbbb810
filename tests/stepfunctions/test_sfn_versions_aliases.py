"""Step Functions versions and aliases through boto3: publishing (on create, on update, and
explicitly, idempotent per revision, revisionId conflicts), describing and listing versions,
deleting them, and aliases with one or two weighted routes; plus the executions-side read
``resolve_for_execution`` on the server's own store."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import create, definition, error_of, unique

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions.machines import resolve_for_execution
from lambdamaker.services.stepfunctions.provider import StepFunctionsProvider
from lambdamaker.store import Store
from lambdamaker.store.migrations import apply_migrations
from lambdamaker.testing import ServerProcess


def test_publish_on_create_and_describe_the_version(sfn: Any) -> None:
    out = sfn.create_state_machine(
        name=unique(),
        definition=definition(),
        roleArn="arn:aws:iam::000000000000:role/sfn",
        publish=True,
        versionDescription="first",
    )
    arn = out["stateMachineArn"]
    assert out["stateMachineVersionArn"] == f"{arn}:1"
    described = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert described["stateMachineArn"] == f"{arn}:1"
    assert described["description"] == "first"
    assert described["definition"] == definition()


def test_versions_are_snapshots_numbered_from_one(sfn: Any) -> None:
    arn = create(sfn)
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    assert v1 == f"{arn}:1"
    # Publishing the same revision again returns the same version.
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == v1
    update = sfn.update_state_machine(
        stateMachineArn=arn, definition=definition("two"), publish=True, versionDescription="2nd"
    )
    assert update["stateMachineVersionArn"] == f"{arn}:2"
    assert sfn.describe_state_machine(stateMachineArn=v1)["definition"] == definition()
    v2 = sfn.describe_state_machine(stateMachineArn=f"{arn}:2")
    assert v2["definition"] == definition("two")
    assert v2["revisionId"] == update["revisionId"]
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:2", v1]
    page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
    assert [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]] == [f"{arn}:2"]
    rest = sfn.list_state_machine_versions(stateMachineArn=arn, nextToken=page["nextToken"])
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [v1]
    assert "nextToken" not in rest


def test_publish_with_a_stale_revision_id_conflicts(sfn: Any) -> None:
    arn = create(sfn)
    assert sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="INITIAL")
    revision = sfn.update_state_machine(stateMachineArn=arn, definition=definition("b"))[
        "revisionId"
    ]
    with pytest.raises(ClientError) as info:
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="INITIAL")
    assert error_of(info)[0] == "ConflictException"
    out = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=revision)
    assert out["stateMachineVersionArn"] == f"{arn}:2"


def test_publish_on_a_missing_machine(sfn: Any) -> None:
    arn = create(sfn) + "-missing"
    with pytest.raises(ClientError) as info:
        sfn.publish_state_machine_version(stateMachineArn=arn)
    assert error_of(info)[0] == "StateMachineDoesNotExist"


def test_deleted_version_numbers_are_not_reused(sfn: Any) -> None:
    arn = create(sfn, publish=True)
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert error_of(info)[0] == "StateMachineDoesNotExist"
    # Deleting again is fine.
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    out = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert out["stateMachineVersionArn"] == f"{arn}:2"


def test_alias_routes_and_describes(sfn: Any) -> None:
    arn = create(sfn, publish=True)
    v2 = sfn.update_state_machine(stateMachineArn=arn, definition=definition(2), publish=True)[
        "stateMachineVersionArn"
    ]
    routing = [
        {"stateMachineVersionArn": f"{arn}:1", "weight": 70},
        {"stateMachineVersionArn": v2, "weight": 30},
    ]
    out = sfn.create_state_machine_alias(name="prod", routingConfiguration=routing, description="p")
    alias_arn = out["stateMachineAliasArn"]
    assert alias_arn == f"{arn}:prod"
    # Idempotent with the same configuration; a different one conflicts.
    again = sfn.create_state_machine_alias(
        name="prod", routingConfiguration=routing, description="p"
    )
    assert again["stateMachineAliasArn"] == alias_arn
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine_alias(
            name="prod", routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}]
        )
    assert error_of(info)[0] == "ConflictException"
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert described["name"] == "prod"
    assert described["description"] == "p"
    assert described["routingConfiguration"] == routing
    # DescribeStateMachine on the alias describes the version most traffic goes to.
    assert sfn.describe_state_machine(stateMachineArn=alias_arn)["stateMachineArn"] == f"{arn}:1"
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [alias_arn]
    by_version = sfn.list_state_machine_aliases(stateMachineArn=v2)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in by_version] == [alias_arn]


def test_a_routed_version_cannot_be_deleted_until_the_alias_moves(sfn: Any) -> None:
    arn = create(sfn, publish=True)
    v2 = sfn.update_state_machine(stateMachineArn=arn, definition=definition(2), publish=True)[
        "stateMachineVersionArn"
    ]
    alias_arn = sfn.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    )["stateMachineAliasArn"]
    with pytest.raises(ClientError) as info:
        sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    code, _, message = error_of(info)
    assert code == "ConflictException"
    assert "live" in message
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias_arn,
        routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}],
    )
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    assert sfn.list_state_machine_aliases(stateMachineArn=f"{arn}:2")["stateMachineAliases"]
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert error_of(info)[0] == "ResourceNotFound"
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, description="d")
    code, _, message = error_of(info)
    assert (code, message) == (
        "ResourceNotFound",
        "Request references a resource that does not exist.",
    )
    # Deleting it again succeeds.
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)


@pytest.mark.parametrize(
    "weights",
    [[50, 40], [100, 100]],
)
def test_routing_weights_must_sum_to_100(sfn: Any, weights: list[int]) -> None:
    arn = create(sfn, publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=definition(2), publish=True)
    routing = [
        {"stateMachineVersionArn": f"{arn}:{i + 1}", "weight": w} for i, w in enumerate(weights)
    ]
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine_alias(name="a", routingConfiguration=routing)
    assert error_of(info)[:2] == ("ValidationException", 400)
    assert info.value.response["reason"] == "INVALID_ROUTING_CONFIGURATION"


def test_routing_errors(sfn: Any) -> None:
    arn = create(sfn, publish=True)
    one = {"stateMachineVersionArn": f"{arn}:1", "weight": 50}
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine_alias(name="dup", routingConfiguration=[one, one])
    assert error_of(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine_alias(
            name="unq", routingConfiguration=[{"stateMachineVersionArn": arn, "weight": 100}]
        )
    assert error_of(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine_alias(
            name="gone",
            routingConfiguration=[{"stateMachineVersionArn": f"{arn}:9", "weight": 100}],
        )
    assert error_of(info)[0] == "ResourceNotFound"
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine_alias(
            name="123", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
        )
    assert error_of(info)[0] == "ValidationException"
    alias_arn = sfn.create_state_machine_alias(
        name="ok", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    )["stateMachineAliasArn"]
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert error_of(info)[0] == "ValidationException"


def test_deleting_the_machine_deletes_versions_and_aliases(sfn: Any) -> None:
    arn = create(sfn, publish=True)
    alias_arn = sfn.create_state_machine_alias(
        name="x", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    )["stateMachineAliasArn"]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert error_of(info)[0] == "ResourceNotFound"
    with pytest.raises(ClientError) as info:
        sfn.list_state_machine_versions(stateMachineArn=arn)
    assert error_of(info)[0] == "StateMachineDoesNotExist"


def test_resolve_for_execution_follows_versions_and_alias_weights(
    sfn: Any, lm_server: ServerProcess
) -> None:
    arn = create(sfn, publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=definition(2), publish=True)
    alias_arn = sfn.create_state_machine_alias(
        name="canary",
        routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 90},
            {"stateMachineVersionArn": f"{arn}:2", "weight": 10},
        ],
    )["stateMachineAliasArn"]
    store = Store(PlatformConfig(data_dir=lm_server.data_dir).resolved_store_url)
    try:
        latest = resolve_for_execution(store, arn)
        assert (latest.version_arn, latest.alias_arn) == (None, None)
        assert latest.definition == definition(2)
        assert latest.type == "STANDARD"
        v1 = resolve_for_execution(store, f"{arn}:1")
        assert (v1.version_arn, v1.definition) == (f"{arn}:1", definition())
        low = resolve_for_execution(store, alias_arn, draw=lambda: 0.5)
        high = resolve_for_execution(store, alias_arn, draw=lambda: 0.95)
        assert (low.version_arn, low.alias_arn) == (f"{arn}:1", alias_arn)
        assert high.version_arn == f"{arn}:2"
        assert high.state_machine_arn == arn
        with pytest.raises(ServiceError) as missing:
            resolve_for_execution(store, f"{arn}:nope")
        assert missing.value.code == "StateMachineDoesNotExist"
        stranger = RequestContext(
            "r", "stepfunctions", "StartExecution", "us-east-1", "111111111111"
        )
        with pytest.raises(ServiceError) as foreign:
            resolve_for_execution(store, arn, ctx=stranger)
        assert foreign.value.code == "StateMachineDoesNotExist"
    finally:
        store.close()


def test_the_tables_migrate_on_every_backend(store: Store) -> None:
    apply_migrations(store, StepFunctionsProvider.migrations)
    with pytest.raises(ServiceError) as info:
        resolve_for_execution(store, "arn:aws:states:us-east-1:000000000000:stateMachine:none")
    assert info.value.code == "StateMachineDoesNotExist"
