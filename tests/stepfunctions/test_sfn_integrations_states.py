"""Nested executions (``states:startExecution``, ``.sync``, ``.sync:2``) on the stepfunctions
provider in-process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sfn_integration_support import create_machine, registry_of, request, started_platform

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.platform import Platform

START = "arn:aws:states:::states:startExecution"


@pytest.fixture(scope="module")
def sfn_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("sfn-nested") / "data"
    with started_platform(data, ["iam", "sts", "logs", "stepfunctions"]) as p:
        yield p


@pytest.fixture(scope="module")
def machines(sfn_platform: Platform) -> dict[str, str]:
    return {
        "ok": create_machine(
            sfn_platform,
            {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
            "P",
            "child-ok",
        ),
        "fail": create_machine(
            sfn_platform,
            {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "It failed."}},
            "F",
            "child-fail",
        ),
    }


def run(platform: Platform, resource: str, params: Any) -> Any:
    req = request(resource, params)
    handler = registry_of(platform).resolve(req.base)
    assert handler is not None
    return asyncio.run(handler(req))


def test_request_response_answers_the_started_execution(
    sfn_platform: Platform, machines: dict[str, str]
) -> None:
    result = run(sfn_platform, START, {"StateMachineArn": machines["ok"], "Input": {"a": 1}})
    assert result["ExecutionArn"].startswith(
        machines["ok"].replace(":stateMachine:", ":execution:")
    )
    assert isinstance(result["StartDate"], int)
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_sync_returns_the_description_with_json_text_and_sync2_parses_it(
    sfn_platform: Platform, machines: dict[str, str]
) -> None:
    sync = run(
        sfn_platform,
        START + ".sync",
        {"StateMachineArn": machines["ok"], "Input": None, "Name": "n1"},
    )
    assert sync["Status"] == "SUCCEEDED"
    assert (sync["Name"], sync["Input"], sync["Output"]) == ("n1", "{}", '{"Arg1":"argument1"}')
    assert sync["InputDetails"] == {"Included": True}
    assert isinstance(sync["StartDate"], int) and isinstance(sync["StopDate"], int)
    sync2 = run(
        sfn_platform, START + ".sync:2", {"StateMachineArn": machines["ok"], "Input": {"a": 1}}
    )
    assert (sync2["Input"], sync2["Output"]) == ({"a": 1}, {"Arg1": "argument1"})


def test_a_failed_child_fails_the_task_with_its_description_as_cause(
    sfn_platform: Platform, machines: dict[str, str]
) -> None:
    with pytest.raises(StatesError) as caught:
        run(sfn_platform, START + ".sync", {"StateMachineArn": machines["fail"]})
    assert caught.value.error == "States.TaskFailed"
    cause = json.loads(caught.value.cause)
    assert (cause["Status"], cause["Error"], cause["Cause"]) == (
        "FAILED",
        "SomeFailure",
        "It failed.",
    )
    assert "Output" not in cause


def test_a_missing_state_machine_is_named_as_the_sdk_names_it(
    sfn_platform: Platform, machines: dict[str, str]
) -> None:
    with pytest.raises(StatesError) as caught:
        run(sfn_platform, START, {"StateMachineArn": machines["ok"] + "-gone"})
    assert caught.value.error == "StepFunctions.StateMachineDoesNotExistException"
    assert "Error Code: StateMachineDoesNotExist;" in caught.value.cause
