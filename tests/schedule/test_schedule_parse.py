"""Parsing and validation of rate(), cron() and at() expressions, with AWS's error wording."""

from __future__ import annotations

import pytest

from lambdamaker.engines.events.schedule import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    ScheduleExpressionError,
    parse_schedule_expression,
    resolve_timezone,
)


@pytest.mark.parametrize(
    ("expression", "value", "unit"),
    [
        ("rate(1 minute)", 1, "minute"),
        ("rate(5 minutes)", 5, "minute"),
        ("rate(1 hour)", 1, "hour"),
        ("rate(12 hours)", 12, "hour"),
        ("rate(1 day)", 1, "day"),
        ("rate(7 days)", 7, "day"),
    ],
)
def test_rate_expressions_parse_with_aws_singular_plural_rule(expression, value, unit):
    assert parse_schedule_expression(expression) == RateSchedule(value, unit)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(-1 minutes)",
        "rate(1.5 hours)",
        "rate(5 seconds)",
        "rate(5 weeks)",
        "rate(5  minutes)",
        "rate(5minutes)",
        "rate()",
        "Rate(5 minutes)",
    ],
)
def test_invalid_rate_expressions_get_the_events_message(expression):
    with pytest.raises(ScheduleExpressionError) as info:
        parse_schedule_expression(expression)
    assert str(info.value) == "Parameter ScheduleExpression is not valid."
    assert info.value.message == "Parameter ScheduleExpression is not valid."
    assert info.value.scheduler_message == f"Invalid Schedule Expression {expression}"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 0 ? * 6L *)",
        "cron(0 0 ? * L *)",
        "cron(*/5 * * JAN,MAR,DEC ? 2025-2030)",
        "cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)",
        "cron(30-30 13-13 ? * 2,4,6 *)",
        "cron(1-31/30 1-1 ? * 1,7 *)",
        "cron(0 22-2 ? * FRI-MON *)",
        "cron(0 0 1 jan ? 1970)",
        "cron(0 0 1 1 ? 2199)",
    ],
)
def test_aws_cron_examples_parse(expression):
    assert isinstance(parse_schedule_expression(expression), CronSchedule)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(7 20 * * 1-7 *)",  # neither day field is "?"
        "cron(0 10 * * * *)",
        "cron(0 10 ? * ? *)",  # both are "?"
        "cron(0 10 * * ?)",  # five fields
        "cron(0 10 * * ? * *)",  # seven fields
        "cron(0/5, 9-18, ?, *, MON-FRI, *)",
        "cron(60 10 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 0 * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 * 13 ? *)",
        "cron(0 0 ? * 0 *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 1 1 ? 1969)",
        "cron(0 0 1 1 ? 2200)",
        "cron(0 0 1 1 ? 2030-2025)",
        "cron(15 12 ? * -1 *)",
        "cron(0 0 ? * 3#6 *)",
        "cron(0 0 ? * 3#0 *)",
        "cron(0 0 1W,15W * ? *)",
        "cron(0 0 L * MON *)",
        "cron(0 0 ? * MON L)",
        "cron(L 0 1 * ? *)",
        "cron(0 ? 1 * ? *)",
        "cron(0 0 1 FOO ? *)",
        "cron(0 0 ? * MON-FOO *)",
        "cron(0/0 * * * ? *)",
        "cron(0/61 * * * ? *)",
        "cron(0 0 1,,2 * ? *)",
        "cron(0 0 JAN * ? *)",
        "cron()",
        "cron 0 10 * * ? *",
    ],
)
def test_invalid_cron_expressions_get_the_events_message(expression):
    with pytest.raises(
        ScheduleExpressionError, match=r"^Parameter ScheduleExpression is not valid\.$"
    ):
        parse_schedule_expression(expression)


def test_at_expression_parses_to_a_naive_wall_time():
    schedule = parse_schedule_expression("at(2026-11-28T09:30:15)")
    assert isinstance(schedule, AtSchedule)
    assert (schedule.wall.year, schedule.wall.hour, schedule.wall.second) == (2026, 9, 15)
    assert schedule.wall.tzinfo is None


@pytest.mark.parametrize(
    "expression",
    [
        "at(2026-02-30T00:00:00)",
        "at(2026-13-01T00:00:00)",
        "at(2026-01-01T24:00:00)",
        "at(2026-01-01 10:00:00)",
        "at(2026-01-01T10:00)",
        "at(2026-1-01T10:00:00)",
    ],
)
def test_invalid_at_expressions_are_rejected(expression):
    with pytest.raises(ScheduleExpressionError):
        parse_schedule_expression(expression)


def test_eventbridge_rules_have_no_at_expressions():
    with pytest.raises(ScheduleExpressionError, match="is not valid"):
        parse_schedule_expression("at(2026-11-28T09:30:00)", allow_at=False)
    assert parse_schedule_expression("rate(1 day)", allow_at=False) == RateSchedule(1, "day")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "/etc/localtime"])
def test_unknown_time_zones_are_rejected(zone):
    with pytest.raises(ScheduleExpressionError) as info:
        resolve_timezone(zone)
    assert info.value.message == f"Invalid ScheduleExpressionTimezone {zone}"


def test_iana_time_zones_resolve():
    assert str(resolve_timezone("America/New_York")) == "America/New_York"
    assert str(resolve_timezone("UTC")) == "UTC"
