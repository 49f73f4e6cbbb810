"""Step Functions tags through boto3 on state machines and activities: tag on create, tag,
overwrite, untag, list; the 50-tag limit; missing resources and wrong ARNs."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import create, error_of, unique


def _tags(**pairs: str) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in pairs.items()]


def test_tags_on_a_state_machine(sfn: Any) -> None:
    arn = create(sfn, tags=_tags(team="ml", env="dev"))
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == _tags(env="dev", team="ml")
    sfn.tag_resource(resourceArn=arn, tags=_tags(env="prod", owner="me"))
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == _tags(
        env="prod", owner="me", team="ml"
    )
    sfn.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == _tags(env="prod", owner="me")


def test_tags_on_an_activity(sfn: Any) -> None:
    arn = sfn.create_activity(name=unique("act"), tags=_tags(a="1"))["activityArn"]
    sfn.tag_resource(resourceArn=arn, tags=_tags(b="2"))
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == _tags(a="1", b="2")
    sfn.delete_activity(activityArn=arn)
    with pytest.raises(ClientError) as info:
        sfn.list_tags_for_resource(resourceArn=arn)
    assert error_of(info)[:2] == ("ResourceNotFound", 400)


def test_at_most_50_tags(sfn: Any) -> None:
    arn = create(sfn, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    with pytest.raises(ClientError) as info:
        sfn.tag_resource(resourceArn=arn, tags=_tags(one_more="x"))
    assert error_of(info)[:2] == ("TooManyTags", 400)
    assert info.value.response["resourceName"] == arn
    # Overwriting an existing key stays within the limit.
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "k0", "value": "new"}])
    with pytest.raises(ClientError) as info:
        create(sfn, tags=[{"key": f"k{i}", "value": "v"} for i in range(51)])
    assert error_of(info)[0] == "TooManyTags"


def test_tagging_what_does_not_exist(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:stateMachine:" + unique("none")
    for call in (
        lambda: sfn.tag_resource(resourceArn=missing, tags=_tags(a="b")),
        lambda: sfn.untag_resource(resourceArn=missing, tagKeys=["a"]),
        lambda: sfn.list_tags_for_resource(resourceArn=missing),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert error_of(info)[0] == "ResourceNotFound"
    version = create(sfn, publish=True) + ":1"
    with pytest.raises(ClientError) as info:
        sfn.tag_resource(resourceArn=version, tags=_tags(a="b"))
    assert error_of(info) == ("ResourceNotFound", 400, f"Resource not found: '{version}'")
    with pytest.raises(ClientError) as info:
        sfn.list_tags_for_resource(resourceArn="arn:aws:sqs:us-east-1:000000000000:q")
    assert error_of(info)[:2] == ("InvalidArn", 400)


def test_deleting_a_machine_drops_its_tags(sfn: Any) -> None:
    name = unique()
    arn = create(sfn, name=name, tags=_tags(old="yes"))
    sfn.delete_state_machine(stateMachineArn=arn)
    assert create(sfn, name=name) == arn
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []
