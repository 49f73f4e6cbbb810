"""FunctionEventInvokeConfig through boto3: Put, Get, Update, List, Delete and their errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import ACCOUNT, REGION, ROLE, echo_zip

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:some-queue"


@pytest.fixture()
def lam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("lambda")


@pytest.fixture()
def fn(lam: Any) -> str:
    name = f"cfg-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": echo_zip()},
    )
    return name


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_put_then_get_returns_the_config_with_the_qualified_arn(lam: Any, fn: str) -> None:
    put = lam.put_function_event_invoke_config(
        FunctionName=fn,
        MaximumRetryAttempts=1,
        MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": QUEUE_ARN}},
    )
    assert put["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}:$LATEST"
    got = lam.get_function_event_invoke_config(FunctionName=fn)
    assert got["MaximumRetryAttempts"] == 1
    assert got["MaximumEventAgeInSeconds"] == 120
    assert got["DestinationConfig"] == {
        "OnSuccess": {},
        "OnFailure": {"Destination": QUEUE_ARN},
    }
    assert got["LastModified"] == put["LastModified"]


def test_put_replaces_while_update_merges(lam: Any, fn: str) -> None:
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=0)
    lam.update_function_event_invoke_config(FunctionName=fn, MaximumEventAgeInSeconds=300)
    got = lam.get_function_event_invoke_config(FunctionName=fn)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 300)
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumEventAgeInSeconds=600)
    got = lam.get_function_event_invoke_config(FunctionName=fn)
    assert "MaximumRetryAttempts" not in got
    assert got["MaximumEventAgeInSeconds"] == 600


def test_configs_are_per_qualifier_and_listed(lam: Any, fn: str) -> None:
    version = lam.publish_version(FunctionName=fn)["Version"]
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion=version)
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=2)
    lam.put_function_event_invoke_config(FunctionName=fn, Qualifier="live", MaximumRetryAttempts=0)
    alias = lam.get_function_event_invoke_config(FunctionName=f"{fn}:live")
    assert alias["MaximumRetryAttempts"] == 0
    listed = lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"].rsplit(":", 1)[1] for c in listed) == ["$LATEST", "live"]
    first = lam.list_function_event_invoke_configs(FunctionName=fn, MaxItems=1)
    assert len(first["FunctionEventInvokeConfigs"]) == 1
    rest = lam.list_function_event_invoke_configs(FunctionName=fn, Marker=first["NextMarker"])
    assert len(rest["FunctionEventInvokeConfigs"]) == 1
    assert "NextMarker" not in rest


def test_delete_removes_the_config_and_a_second_delete_is_not_found(lam: Any, fn: str) -> None:
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=1)
    lam.delete_function_event_invoke_config(FunctionName=fn)
    for call in (lam.get_function_event_invoke_config, lam.delete_function_event_invoke_config):
        with pytest.raises(ClientError) as exc:
            call(FunctionName=fn)
        assert error_code(exc) == "ResourceNotFoundException"
        assert "doesn't have an EventInvokeConfig" in str(exc.value)


def test_update_without_a_config_is_not_found(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.update_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=1)
    assert error_code(exc) == "ResourceNotFoundException"


def test_config_of_an_unknown_function_or_qualifier_is_not_found(lam: Any, fn: str) -> None:
    for params in ({"FunctionName": "no-such-fn"}, {"FunctionName": fn, "Qualifier": "nope"}):
        with pytest.raises(ClientError) as exc:
            lam.put_function_event_invoke_config(**params, MaximumRetryAttempts=1)
        assert error_code(exc) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("arn", "code"),
    [
        ("not-an-arn", "ValidationException"),  # the model's pattern, as on AWS
        (f"arn:aws:s3:::{ACCOUNT}-bucket", "InvalidParameterValueException"),
        (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t", "InvalidParameterValueException"),
        (f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r", "InvalidParameterValueException"),
    ],
)
def test_unsupported_or_invalid_destinations_are_refused(
    lam: Any, fn: str, arn: str, code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        lam.put_function_event_invoke_config(
            FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": arn}}
        )
    assert error_code(exc) == code
    with pytest.raises(ClientError):
        lam.get_function_event_invoke_config(FunctionName=fn)  # nothing was saved


@pytest.mark.parametrize("params", [{"MaximumRetryAttempts": 3}, {"MaximumEventAgeInSeconds": 59}])
def test_out_of_range_values_are_refused_by_the_service(
    boto_client: Callable[..., Any], fn: str, params: dict[str, int]
) -> None:
    lam = boto_client("lambda", parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        lam.put_function_event_invoke_config(FunctionName=fn, **params)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_deleting_the_function_deletes_its_configs(lam: Any, fn: str) -> None:
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=1)
    lam.delete_function(FunctionName=fn)
    lam.create_function(
        FunctionName=fn,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": echo_zip()},
    )
    with pytest.raises(ClientError) as exc:
        lam.get_function_event_invoke_config(FunctionName=fn)
    assert error_code(exc) == "ResourceNotFoundException"


def test_deleting_an_alias_deletes_its_config(lam: Any, fn: str) -> None:
    version = lam.publish_version(FunctionName=fn)["Version"]
    lam.create_alias(FunctionName=fn, Name="gone", FunctionVersion=version)
    lam.put_function_event_invoke_config(FunctionName=fn, Qualifier="gone", MaximumRetryAttempts=1)
    lam.delete_alias(FunctionName=fn, Name="gone")
    lam.create_alias(FunctionName=fn, Name="gone", FunctionVersion=version)
    with pytest.raises(ClientError) as exc:
        lam.get_function_event_invoke_config(FunctionName=fn, Qualifier="gone")
    assert error_code(exc) == "ResourceNotFoundException"
