"""Step Functions activities through boto3: create (idempotent on the name), describe, list with
paging, delete, and the errors for bad names and ARNs."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import error_of, unique


def test_create_describe_delete_activity(sfn: Any) -> None:
    name = unique("act")
    out = sfn.create_activity(name=name)
    arn = out["activityArn"]
    assert arn == f"arn:aws:states:us-east-1:000000000000:activity:{name}"
    described = sfn.describe_activity(activityArn=arn)
    assert described["name"] == name
    assert described["creationDate"] == out["creationDate"]
    assert described["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}
    sfn.delete_activity(activityArn=arn)
    with pytest.raises(ClientError) as info:
        sfn.describe_activity(activityArn=arn)
    code, status, message = error_of(info)
    assert (code, status) == ("ActivityDoesNotExist", 400)
    assert arn in message
    # Deleting what is gone succeeds.
    sfn.delete_activity(activityArn=arn)


def test_create_activity_again_returns_the_first(sfn: Any) -> None:
    name = unique("act")
    first = sfn.create_activity(name=name)
    again = sfn.create_activity(name=name, tags=[{"key": "k", "value": "v"}])
    assert again["activityArn"] == first["activityArn"]
    assert again["creationDate"] == first["creationDate"]
    assert sfn.list_tags_for_resource(resourceArn=first["activityArn"])["tags"] == []


@pytest.mark.parametrize("name", ["with space", "semi;colon", "q?", "\x01ctrl", "pipe|"])
def test_bad_activity_names_are_invalid_name(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as info:
        sfn.create_activity(name=name)
    assert error_of(info)[:2] == ("InvalidName", 400)


def test_activity_arns_of_the_wrong_kind_are_invalid_arn(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        sfn.describe_activity(activityArn="arn:aws:states:us-east-1:000000000000:stateMachine:x")
    assert error_of(info)[:2] == ("InvalidArn", 400)
    with pytest.raises(ClientError) as info:
        sfn.delete_activity(activityArn="nonsense")
    assert error_of(info)[0] == "InvalidArn"


def test_list_activities_pages(sfn: Any) -> None:
    prefix = unique("lst")
    arns = [sfn.create_activity(name=f"{prefix}-{i}")["activityArn"] for i in range(4)]
    paginator = sfn.get_paginator("list_activities")
    listed = [
        a
        for page in paginator.paginate(PaginationConfig={"PageSize": 3})
        for a in page["activities"]
    ]
    mine = [a for a in listed if a["name"].startswith(prefix)]
    assert [a["activityArn"] for a in mine] == arns
    assert mine[0]["name"] == f"{prefix}-0"
    assert "creationDate" in mine[0]
