"""Step Functions state machines through boto3 against the session server: create (idempotent,
conflicting), describe, update with revisions, delete, list with paging, the validation errors
a boto3 user meets, and ValidateStateMachineDefinition."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import ROLE, create, definition, error_of, unique

LOG_GROUP = "arn:aws:logs:us-east-1:000000000000:log-group:/sfn/test:*"


def test_create_and_describe_a_standard_state_machine(sfn: Any) -> None:
    name = unique()
    out = sfn.create_state_machine(
        name=name, definition=definition(), roleArn=ROLE, tags=[{"key": "team", "value": "ml"}]
    )
    arn = out["stateMachineArn"]
    assert arn == f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
    assert "stateMachineVersionArn" not in out
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == name
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert described["definition"] == definition()
    assert described["roleArn"] == ROLE
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert described["creationDate"] == out["creationDate"]
    assert "revisionId" not in described
    assert described["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}


def test_create_express_with_logging_and_tracing(sfn: Any) -> None:
    logging = {
        "level": "ALL",
        "includeExecutionData": True,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}],
    }
    arn = create(
        sfn, type="EXPRESS", loggingConfiguration=logging, tracingConfiguration={"enabled": True}
    )
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["type"] == "EXPRESS"
    assert described["loggingConfiguration"] == logging
    assert described["tracingConfiguration"] == {"enabled": True}


def test_logging_level_without_destination_is_rejected(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        create(sfn, loggingConfiguration={"level": "ERROR"})
    assert error_of(info)[:2] == ("InvalidLoggingConfiguration", 400)
    bad = {
        "level": "ALL",
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:x"}}],
    }
    with pytest.raises(ClientError) as info:
        create(sfn, loggingConfiguration=bad)
    assert error_of(info)[0] == "InvalidLoggingConfiguration"


def test_create_again_with_same_config_is_idempotent(sfn: Any) -> None:
    name = unique()
    first = sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE)
    again = sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE + "-other")
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name=name, definition=definition("other"), roleArn=ROLE)
    code, status, message = error_of(info)
    assert (code, status) == ("StateMachineAlreadyExists", 400)
    assert first["stateMachineArn"] in message
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE, type="EXPRESS")
    assert error_of(info)[0] == "StateMachineAlreadyExists"


@pytest.mark.parametrize(
    "name", ["has space", "a/b", "x:y", "star*", "brace{", "tab\tname", "a" * 81]
)
def test_invalid_names_are_rejected(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as info:
        create(sfn, name=name)
    assert error_of(info)[0] in ("InvalidName", "ValidationException")
    if len(name) <= 80:
        assert error_of(info)[0] == "InvalidName"


def test_bad_role_arn_is_invalid_arn(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name=unique(), definition=definition(), roleArn="not-an-arn")
    assert error_of(info)[:2] == ("InvalidArn", 400)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps({"States": {"P": {"Type": "Pass", "End": True}}}),
        json.dumps({"StartAt": "Missing", "States": {"P": {"Type": "Pass", "End": True}}}),
    ],
)
def test_invalid_definition_is_rejected_and_nothing_is_created(sfn: Any, text: str) -> None:
    name = unique()
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name=name, definition=text, roleArn=ROLE)
    code, status, message = error_of(info)
    assert (code, status) == ("InvalidDefinition", 400)
    assert message.startswith("Invalid State Machine Definition: '")
    arn = f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(info)[0] == "StateMachineDoesNotExist"


def test_version_description_needs_publish(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        create(sfn, versionDescription="v1")
    assert error_of(info)[:2] == ("ValidationException", 400)


def test_update_changes_the_revision_and_describe_shows_it(sfn: Any) -> None:
    arn = create(sfn)
    out = sfn.update_state_machine(stateMachineArn=arn, definition=definition("new"))
    revision = out["revisionId"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["definition"] == definition("new")
    assert described["revisionId"] == revision
    # The same update again changes nothing: the revision stays.
    again = sfn.update_state_machine(stateMachineArn=arn, definition=definition("new"))
    assert again["revisionId"] == revision
    role = "arn:aws:iam::000000000000:role/other"
    third = sfn.update_state_machine(stateMachineArn=arn, roleArn=role)
    assert third["revisionId"] != revision
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == role


def test_update_errors(sfn: Any) -> None:
    arn = create(sfn)
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(stateMachineArn=arn)
    assert error_of(info)[0] == "MissingRequiredParameter"
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(stateMachineArn=arn, definition="{}")
    assert error_of(info)[0] == "InvalidDefinition"
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(stateMachineArn=arn + "-gone", definition=definition())
    assert error_of(info)[0] == "StateMachineDoesNotExist"
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(
            stateMachineArn="arn:aws:sqs:us-east-1:000000000000:q", definition=definition()
        )
    assert error_of(info)[0] == "InvalidArn"


def test_delete_removes_the_machine_and_is_idempotent(sfn: Any) -> None:
    arn = create(sfn, publish=True)
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine(stateMachineArn=arn)
    code, _, message = error_of(info)
    assert code == "StateMachineDoesNotExist"
    assert arn in message
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine(stateMachineArn=arn + ":1")
    assert error_of(info)[0] == "StateMachineDoesNotExist"
    sfn.delete_state_machine(stateMachineArn=arn)
    # The name is free again.
    assert create(sfn, name=arn.rpartition(":")[2], definition=definition("x")) == arn


def test_describe_with_a_malformed_arn_is_invalid_arn(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        sfn.describe_state_machine(
            stateMachineArn="arn:aws:states:us-east-1:000000000000:activity:a"
        )
    assert error_of(info)[:2] == ("InvalidArn", 400)


def test_list_state_machines_pages_by_name(sfn: Any) -> None:
    prefix = unique("page")
    arns = [create(sfn, name=f"{prefix}-{i}") for i in range(5)]
    seen: list[str] = []
    token: str | None = None
    while True:
        page = sfn.list_state_machines(maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["stateMachines"]) <= 2
        seen += [m["stateMachineArn"] for m in page["stateMachines"]]
        token = page.get("nextToken")
        if token is None:
            break
    assert [a for a in seen if prefix in a] == arns
    items = [
        m
        for p in sfn.get_paginator("list_state_machines").paginate()
        for m in p["stateMachines"]
        if m["stateMachineArn"] == arns[0]
    ]
    assert items[0]["type"] == "STANDARD"
    assert items[0]["name"] == f"{prefix}-0"
    paginator = sfn.get_paginator("list_state_machines")
    listed = [
        m["stateMachineArn"]
        for p in paginator.paginate(PaginationConfig={"PageSize": 3})
        for m in p["stateMachines"]
    ]
    assert [a for a in listed if prefix in a] == arns


def test_list_with_a_bad_token_is_invalid_token(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        sfn.list_state_machines(nextToken="garbage")
    assert error_of(info)[:2] == ("InvalidToken", 400)


def test_validate_definition_ok_and_fail(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=definition())
    assert ok["result"] == "OK"
    assert ok["diagnostics"] == []
    bad = sfn.validate_state_machine_definition(definition="{not json")
    assert bad["result"] == "FAIL"
    assert bad["diagnostics"]
    first = bad["diagnostics"][0]
    assert first["severity"] == "ERROR"
    assert first["code"] and first["message"]
    assert bad.get("truncated") is False
    missing = sfn.validate_state_machine_definition(
        definition=json.dumps({"StartAt": "Nope", "States": {"P": {"Type": "Pass", "End": True}}}),
        maxResults=1,
    )
    assert missing["result"] == "FAIL"
    assert len(missing["diagnostics"]) == 1
    assert missing["diagnostics"][0]["code"] == "MISSING_TRANSITION_TARGET"
    assert missing["diagnostics"][0]["location"] == "/StartAt"
    # StartAt misses, and state P is unreachable: two findings, one shown.
    assert missing["truncated"] is True


def _task(resource: str) -> str:
    return json.dumps(
        {
            "StartAt": "Par",
            "States": {
                "Par": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "T",
                            "States": {"T": {"Type": "Task", "Resource": resource, "End": True}},
                        }
                    ],
                }
            },
        }
    )


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:us-east-1:000000000000:activity:work",
    ],
)
def test_express_machines_cannot_wait(sfn: Any, resource: str) -> None:
    with pytest.raises(ClientError) as info:
        create(sfn, type="EXPRESS", definition=_task(resource))
    code, _, message = error_of(info)
    assert code == "InvalidDefinition"
    assert "Express state machine does not support" in message
    assert "/States/Par/Branches[0]/States/T" in message
    # The same definition is fine for a STANDARD machine, but cannot be given to an EXPRESS one.
    assert create(sfn, definition=_task(resource))
    express = create(sfn, type="EXPRESS")
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(stateMachineArn=express, definition=_task(resource))
    assert error_of(info)[0] == "InvalidDefinition"
    checked = sfn.validate_state_machine_definition(definition=_task(resource), type="EXPRESS")
    assert checked["result"] == "FAIL"
    (diagnostic,) = checked["diagnostics"]
    assert diagnostic["code"] == "SCHEMA_VALIDATION_FAILED"
    assert diagnostic["location"] == "/States/Par/Branches[0]/States/T/Resource"
    assert sfn.validate_state_machine_definition(definition=_task(resource))["result"] == "OK"


def test_describe_lists_the_variables_each_state_reads(sfn: Any) -> None:
    doc = {
        "QueryLanguage": "JSONata",
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"total": 3, "label": "x"}, "Next": "Use"},
            "Use": {
                "Type": "Pass",
                "Output": "{% $total + $count($states.input.items) & $label %}",
                "End": True,
            },
        },
    }
    arn = create(sfn, definition=json.dumps(doc))
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["variableReferences"] == {"Use": ["label", "total"]}
    plain = sfn.describe_state_machine(stateMachineArn=create(sfn))
    assert "variableReferences" not in plain


def test_variable_references_of_jsonpath_states(sfn: Any) -> None:
    doc = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"limit": 3, "who": "me"}, "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$who", "StringEqualsPath": "$limit", "Next": "Say"}],
                "Default": "Say",
            },
            "Say": {
                "Type": "Pass",
                "Parameters": {
                    "text.$": "States.Format('{} {}', $who, $$.Execution.Id)",
                    "plain": "$notAVariable",
                    "ctx.$": "$$.State.Name",
                },
                "OutputPath": "$limit",
                "End": True,
            },
        },
    }
    arn = create(sfn, definition=json.dumps(doc))
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["variableReferences"] == {"Check": ["limit", "who"], "Say": ["limit", "who"]}
