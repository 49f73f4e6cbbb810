"""Wait deadlines (Seconds, Timestamp, SecondsPath, TimestampPath, JSONata) and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lambdamaker.engines.workflows.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from lambdamaker.engines.workflows.waits import deadline_from, parse_timestamp, wait_deadline

NOW = 1_700_000_000.0
MARCH_14 = datetime(2016, 3, 14, 1, 59, tzinfo=UTC).timestamp()


def deadline(state: dict[str, Any], data: Any = None, variables: Any = None) -> float:
    return wait_deadline(state, data if data is not None else {}, {}, variables or {}, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-03-14T01:59:00Z", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
        ("2016-03-14T01:59Z", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
        ("2016-03-14T01:59:00.5Z", datetime(2016, 3, 14, 1, 59, 0, 500000, tzinfo=UTC)),
        ("2016-03-05T21:29:29.243167252Z", datetime(2016, 3, 5, 21, 29, 29, 243167, tzinfo=UTC)),
        ("2016-03-14T02:59:00+01:00", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
        ("2016-03-13T22:29:00-03:30", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
        ("2016-02-29T00:00:00Z", datetime(2016, 2, 29, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts_offset_date_times(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


def test_parse_timestamp_keeps_the_written_offset() -> None:
    parsed = parse_timestamp("2016-03-14T02:59:00+01:00")
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=1)
    assert parsed.tzinfo == timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    "text",
    [
        "2016-03-14T01:59:00",  # no offset
        "2016-03-14T01:59:00.000000",
        "2016-03-14 01:59:00Z",  # space, not T
        "2016-03-14t01:59:00Z",  # lowercase t
        "2016-03-14T01:59:00z",  # lowercase z
        "2016-03-14",  # a date alone
        "05-12-2016T21:29:29Z",
        "2016-13-05T21:29:29Z",  # month 13
        "2016-12-05T25:29:29Z",  # hour 25
        "2015-02-29T00:00:00Z",  # not a leap year
        "2016-03-14T01:59:00.1234567890Z",  # ten fraction digits
        "2016-03-14T01:59:00.Z",
        "2016-03-14T01:59:00+19:00",  # offset beyond 18 hours
        "2016-03-14T01:59:00+0100",
        "",
    ],
)
def test_parse_timestamp_rejects_what_aws_rejects(text: str) -> None:
    assert parse_timestamp(text) is None


def test_parse_timestamp_of_a_non_string_is_none() -> None:
    assert parse_timestamp(12345) is None  # type: ignore[arg-type]


def test_seconds_waits_from_now() -> None:
    assert deadline({"Type": "Wait", "Seconds": 0}) == NOW
    assert deadline({"Type": "Wait", "Seconds": 10}) == NOW + 10


def test_timestamp_waits_until_it_truncated_to_the_second() -> None:
    assert deadline({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00.999Z"}) == MARCH_14
    assert deadline({"Type": "Wait", "Timestamp": "2016-03-14T02:59:00+01:00"}) == MARCH_14


def test_seconds_path_reads_data_context_and_variables() -> None:
    assert (
        deadline({"SecondsPath": "$.input.waitSeconds"}, {"input": {"waitSeconds": 5}}) == NOW + 5
    )
    assert deadline({"SecondsPath": "$delay"}, {}, {"delay": 7}) == NOW + 7
    assert (
        wait_deadline(
            {"SecondsPath": "$$.Execution.Input.s"}, {}, {"Execution": {"Input": {"s": 3}}}, {}, NOW
        )
        == NOW + 3
    )


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"),
        (-1.5, "The SecondsPath parameter cannot be parsed as a long value: $.s == -1.5"),
        ("10", "The SecondsPath parameter cannot be parsed as a long value: $.s == 10"),
        (True, "The SecondsPath parameter cannot be parsed as a long value: $.s == true"),
        ([1], "The SecondsPath parameter cannot be parsed as a long value: $.s == [1]"),
        (-1, "The SecondsPath parameter references a negative value: $.s == -1"),
    ],
)
def test_bad_seconds_path_values_are_runtime_errors(value: Any, cause: str) -> None:
    with pytest.raises(StatesError) as caught:
        deadline({"SecondsPath": "$.s"}, {"s": value})
    assert (caught.value.error, caught.value.cause) == (RUNTIME, cause)


def test_a_missing_seconds_path_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as caught:
        deadline({"SecondsPath": "$.nope"}, {"s": 1})
    assert caught.value.error == RUNTIME
    assert (
        caught.value.cause == "The SecondsPath parameter does not reference an input value: $.nope"
    )


def test_timestamp_path_reads_a_timestamp() -> None:
    assert deadline({"TimestampPath": "$.at"}, {"at": "2016-03-14T01:59:00.000000Z"}) == MARCH_14
    assert deadline({"TimestampPath": "$.at"}, {"at": "2016-03-14T01:59:00.00Z"}) == MARCH_14


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2016-12-05T21:29:29", "2016-12-05T21:29:29"),
        ("05-12-2016T21:29:29Z", "05-12-2016T21:29:29Z"),
        (5, "5"),
        ({"a": 1}, '{"a":1}'),
    ],
)
def test_bad_timestamp_path_values_are_runtime_errors(value: Any, shown: str) -> None:
    with pytest.raises(StatesError) as caught:
        deadline({"TimestampPath": "$.at"}, {"at": value})
    assert caught.value.error == RUNTIME
    assert caught.value.cause == (
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
        f"format string: $.at == {shown}"
    )


def test_jsonata_seconds_and_timestamp() -> None:
    assert deadline_from(0, None, NOW) == NOW
    assert deadline_from(30, None, NOW) == NOW + 30
    assert deadline_from(4.0, None, NOW) == NOW + 4  # JSONata arithmetic yields floats
    assert deadline_from(99_999_999, None, NOW) == NOW + 99_999_999
    assert deadline_from(None, "2016-03-14T01:59:00.5Z", NOW) == MARCH_14


@pytest.mark.parametrize("seconds", [-1, 1.5, "5", True, 100_000_000, [3]])
def test_jsonata_bad_seconds_are_query_evaluation_errors(seconds: Any) -> None:
    with pytest.raises(StatesError) as caught:
        deadline_from(seconds, None, NOW)
    assert caught.value.error == QUERY_EVALUATION_ERROR


@pytest.mark.parametrize(
    "timestamp", ["2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z", "tomorrow", 5]
)
def test_jsonata_bad_timestamps_are_query_evaluation_errors(timestamp: Any) -> None:
    with pytest.raises(StatesError) as caught:
        deadline_from(None, timestamp, NOW)
    assert caught.value.error == QUERY_EVALUATION_ERROR
    assert caught.value.cause == (
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "
        f"{timestamp}"
    )
