"""Create/Update/Delete/Get/ListEventSourceMappings through boto3: shapes, defaults, errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from esm_support import SINK_HANDLER, create_function, create_queue, mapped, wait_for


@pytest.fixture(scope="module")
def function(lam: Any) -> str:
    return create_function(lam, SINK_HANDLER, "esm-api")


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_create_returns_creating_then_the_mapping_settles_enabled(
    lam: Any, sqs: Any, function: str
) -> None:
    _, arn = create_queue(sqs)
    out = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert out["State"] == "Creating"
    assert out["StateTransitionReason"] == "USER_INITIATED"
    assert out["BatchSize"] == 10
    assert out["MaximumBatchingWindowInSeconds"] == 0
    assert out["FunctionResponseTypes"] == []
    assert out["EventSourceArn"] == arn
    fn_arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    assert out["FunctionArn"] == fn_arn
    assert out["EventSourceMappingArn"].endswith(f":event-source-mapping:{out['UUID']}")
    for member in (
        "StartingPosition",
        "ParallelizationFactor",
        "BisectBatchOnFunctionError",
        "LastProcessingResult",
    ):
        assert member not in out
    got = wait_for(
        lambda: (m := lam.get_event_source_mapping(UUID=out["UUID"]))["State"] == "Enabled" and m
    )
    assert got["UUID"] == out["UUID"]
    lam.delete_event_source_mapping(UUID=out["UUID"])


def test_settings_are_stored_and_a_qualifier_is_kept(lam: Any, sqs: Any, function: str) -> None:
    version = lam.publish_version(FunctionName=function)["Version"]
    _, arn = create_queue(sqs)
    out = lam.create_event_source_mapping(
        FunctionName=f"{function}:{version}",
        EventSourceArn=arn,
        BatchSize=50,
        MaximumBatchingWindowInSeconds=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 3},
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]},
        Enabled=False,
    )
    assert out["FunctionArn"].endswith(f":function:{function}:{version}")
    got = wait_for(
        lambda: (m := lam.get_event_source_mapping(UUID=out["UUID"]))["State"] == "Disabled" and m
    )
    assert got["BatchSize"] == 50
    assert got["MaximumBatchingWindowInSeconds"] == 2
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert got["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert got["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]}
    lam.delete_event_source_mapping(UUID=out["UUID"])


def test_update_changes_settings_and_state(lam: Any, sqs: Any, function: str) -> None:
    _, arn = create_queue(sqs)
    mapping = mapped(lam, function, arn)
    out = lam.update_event_source_mapping(UUID=mapping, BatchSize=5, Enabled=False)
    assert out["State"] == "Updating" and out["BatchSize"] == 5
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=mapping)["State"] == "Disabled")
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=mapping)["State"] == "Enabled")
    assert lam.get_event_source_mapping(UUID=mapping)["BatchSize"] == 5
    with pytest.raises(ClientError) as exc:
        lam.update_event_source_mapping(UUID=mapping, BatchSize=20)
    assert error(exc)[:2] == ("InvalidParameterValueException", 400)
    lam.delete_event_source_mapping(UUID=mapping)


def test_delete_answers_deleting_and_the_mapping_is_gone(lam: Any, sqs: Any, function: str) -> None:
    _, arn = create_queue(sqs)
    mapping = mapped(lam, function, arn)
    out = lam.delete_event_source_mapping(UUID=mapping)
    assert out["State"] == "Deleting" and out["ResponseMetadata"]["HTTPStatusCode"] == 202
    for call in (
        lambda: lam.get_event_source_mapping(UUID=mapping),
        lambda: lam.delete_event_source_mapping(UUID=mapping),
        lambda: lam.update_event_source_mapping(UUID=mapping, BatchSize=1),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == (
            "ResourceNotFoundException",
            404,
            "The resource you requested does not exist.",
        )


def test_list_filters_by_source_and_function_and_pages(lam: Any, sqs: Any, function: str) -> None:
    other = create_function(lam, SINK_HANDLER, "esm-api-other")
    _, arn = create_queue(sqs)
    _, arn2 = create_queue(sqs)
    first = mapped(lam, function, arn)
    second = mapped(lam, other, arn)
    third = mapped(lam, function, arn2)
    by_source = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert {m["UUID"] for m in by_source} == {first, second}
    by_function = lam.list_event_source_mappings(FunctionName=other)["EventSourceMappings"]
    assert [m["UUID"] for m in by_function] == [second]
    both = lam.list_event_source_mappings(FunctionName=function, EventSourceArn=arn2)
    assert [m["UUID"] for m in both["EventSourceMappings"]] == [third]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"EventSourceArn": arn, "MaxItems": 1}
    while True:
        page = lam.list_event_source_mappings(**kwargs)
        seen += [m["UUID"] for m in page["EventSourceMappings"]]
        if "NextMarker" not in page:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert sorted(seen) == sorted([first, second])
    for mapping in (first, second, third):
        lam.delete_event_source_mapping(UUID=mapping)


def test_a_function_and_source_pair_is_mapped_once(lam: Any, sqs: Any, function: str) -> None:
    _, arn = create_queue(sqs)
    mapping = mapped(lam, function, arn)
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)
    code, status, message = error(exc)
    assert (code, status) == ("ResourceConflictException", 409)
    assert mapping in message
    lam.delete_event_source_mapping(UUID=mapping)


def test_deleting_the_function_keeps_the_mapping(lam: Any, sqs: Any) -> None:
    name = create_function(lam, SINK_HANDLER, "esm-api-gone")
    _, arn = create_queue(sqs)
    mapping = mapped(lam, name, arn)
    lam.delete_function(FunctionName=name)
    assert lam.get_event_source_mapping(UUID=mapping)["UUID"] == mapping
    lam.delete_event_source_mapping(UUID=mapping)


@pytest.mark.parametrize(
    ("settings", "code", "fragment"),
    [
        ({"BatchSize": 11}, "InvalidParameterValueException", "batch window"),
        # Beyond the model's ranges: the request's validation refuses it, as on AWS.
        ({"BatchSize": 10001, "MaximumBatchingWindowInSeconds": 1}, "ValidationException", ""),
        ({"MaximumBatchingWindowInSeconds": 301}, "ValidationException", "300"),
        ({"StartingPosition": "LATEST"}, "InvalidParameterValueException", "StartingPosition"),
        ({"ParallelizationFactor": 2}, "InvalidParameterValueException", "Parallelization"),
        ({"BisectBatchOnFunctionError": True}, "InvalidParameterValueException", "Bisect"),
        ({"MaximumRetryAttempts": 1}, "InvalidParameterValueException", "MaximumRetry"),
        ({"ScalingConfig": {"MaximumConcurrency": 1001}}, "ValidationException", "Maximum"),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": "{not json"}]}},
            "InvalidParameterValueException",
            "filter",
        ),
    ],
)
def test_bad_sqs_settings_are_refused(
    lam: Any, sqs: Any, function: str, settings: dict[str, Any], code: str, fragment: str
) -> None:
    _, arn = create_queue(sqs)
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn, **settings)
    got_code, status, message = error(exc)
    assert got_code.startswith(code) and status == 400
    assert fragment.lower() in message.lower()
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []


def test_fifo_queues_take_batches_of_ten_at_most(lam: Any, sqs: Any, function: str) -> None:
    _, arn = create_queue(sqs, f"q-{uuid.uuid4().hex[:8]}.fifo", FifoQueue="true")
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(
            FunctionName=function,
            EventSourceArn=arn,
            BatchSize=20,
            MaximumBatchingWindowInSeconds=1,
        )
    assert error(exc)[0] == "InvalidParameterValueException"


def test_unknown_function_source_or_arn_kind_is_refused(lam: Any, sqs: Any, function: str) -> None:
    _, arn = create_queue(sqs)
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName="no-such-function", EventSourceArn=arn)
    assert error(exc)[:2] == ("ResourceNotFoundException", 404)
    missing = arn + "-missing"
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=missing)
    code, status, message = error(exc)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "NonExistentQueue" in message
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn="arn:aws:s3:::some-bucket"
        )
    assert error(exc)[:2] == ("InvalidParameterValueException", 400)


def test_streams_need_a_starting_position(lam: Any, function: str) -> None:
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/esm-api-no-such-stream"
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)
    code, _, message = error(exc)
    assert code == "InvalidParameterValueException" and "startingPosition" in message
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(
            FunctionName=function,
            EventSourceArn=arn,
            StartingPosition="LATEST",
            ScalingConfig={"MaximumConcurrency": 2},
        )
    assert error(exc)[0] == "InvalidParameterValueException"
    ddb = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=ddb, StartingPosition="AT_TIMESTAMP"
        )
    assert error(exc)[0] == "InvalidParameterValueException"


def test_a_stream_mapping_has_the_stream_settings_and_their_defaults(
    lam: Any, boto_client: Callable[..., Any], function: str
) -> None:
    kinesis = boto_client("kinesis")
    name = f"esm-api-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    out = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="LATEST", Enabled=False
    )
    try:
        assert out["StartingPosition"] == "LATEST"
        assert out["BatchSize"] == 100
        assert out["ParallelizationFactor"] == 1
        assert out["DestinationConfig"] == {"OnFailure": {}}
        assert out["MaximumRecordAgeInSeconds"] == -1
        assert out["MaximumRetryAttempts"] == -1
        assert out["BisectBatchOnFunctionError"] is False
        assert out["TumblingWindowInSeconds"] == 0
        assert out["LastProcessingResult"] == "No records processed"
        dlq = "arn:aws:sqs:us-east-1:000000000000:esm-api-dlq"
        updated = lam.update_event_source_mapping(
            UUID=out["UUID"],
            MaximumRetryAttempts=3,
            BisectBatchOnFunctionError=True,
            MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": dlq}},
        )
        assert updated["MaximumRetryAttempts"] == 3
        assert updated["DestinationConfig"] == {"OnFailure": {"Destination": dlq}}
        for bad in (
            {"MaximumRecordAgeInSeconds": 59},
            {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::bucket"}}},
        ):
            wait_for(lambda: lam.get_event_source_mapping(UUID=out["UUID"])["State"] != "Updating")
            with pytest.raises(ClientError) as exc:
                lam.update_event_source_mapping(UUID=out["UUID"], **bad)
            assert error(exc)[0] == "InvalidParameterValueException"
    finally:
        lam.delete_event_source_mapping(UUID=out["UUID"])
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=arn + "-missing", StartingPosition="LATEST"
        )
    assert error(exc)[:2] == ("InvalidParameterValueException", 400)
    kinesis.delete_stream(StreamName=name)
