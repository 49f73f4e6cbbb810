"""The platform wires the log store and the meter: migrated at start, shared by the functions
engine (which appends) and the Logs provider (which reads), flushed at close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdamaker.config import PlatformConfig
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeResult
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def call(platform: Platform, operation: str, **params: Any) -> dict[str, Any]:
    method = platform.providers["logs"].operation(operation)
    assert method is not None, operation
    ctx = RequestContext("test", "logs", operation, "us-east-1", "000000000000")
    return method(ctx, params)


def test_appended_lines_are_readable_through_the_provider(tmp_path: Path) -> None:
    with Platform(PlatformConfig(data_dir=tmp_path / "data"), services=["logs"]) as platform:
        platform.logs.append("/aws/lambda/f", "2024/01/01/[$LATEST]abc", [(1000, "START\n")])
        out = call(platform, "FilterLogEvents", logGroupName="/aws/lambda/f")
        assert [e["message"] for e in out["events"]] == ["START\n"]
        groups = call(platform, "DescribeLogGroups", logGroupNamePrefix="/aws/lambda/")
        assert [g["logGroupName"] for g in groups["logGroups"]] == ["/aws/lambda/f"]


def test_close_flushes_logs_and_usage_for_the_next_start(tmp_path: Path) -> None:
    config = PlatformConfig(data_dir=tmp_path / "data")
    spec = FunctionSpec("f", "$LATEST", ARN, "python3.11", "app.handler", "/code", "sha")
    with Platform(config, services=[]) as platform:
        platform.logs.append("/aws/lambda/f", "s", [(1000, "last line")])
        platform.meter.record_invocation(spec, InvokeResult(b"{}", billed_duration_ms=7))
    with Platform(config, services=[]) as platform:
        assert [e.message for e in platform.logs.get_events("/aws/lambda/f", "s")] == ["last line"]
        assert platform.meter.usage(ARN).total().billed_ms_sum == 7
