"""Mocked service integrations: Step Functions Local's / LocalStack's ``MockConfigFile.json``.

The file (path in ``SFN_MOCK_CONFIG``, LocalStack's name, or ``LAMBDAMAKER_SFN_MOCK_CONFIG``)::

    {"StateMachines": {"<state machine name>": {"TestCases": {"<test case>": {
         "<state name>": "<mocked response name>", ...}}}},
     "MockedResponses": {"<mocked response name>": {
         "0": {"Return": <the Task's result>},
         "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "..."}}}}}

An execution started as ``<stateMachineArn>#<test case>`` runs with that test case's
``MockTestCase``: a Task whose state is listed answers from the config instead of calling the
service. Invocation ``n`` of a state (retries and Map iterations count, from 0) takes the
response whose range holds ``n``; past the last range the last response repeats. States not
listed call their service as usual.

Invariants: a config is checked whole when loaded (structure, ``Return`` xor ``Throw``, ranges
consecutive from 0), so a bad file fails the start of the execution with ``MockConfigError``,
never a Task; invocation counts live on the ``MockTestCase`` of one execution.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.services.stepfunctions.integrations.calls import (
    CallFailed,
    NotProvided,
    call,
    compact_json,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

ENV_NAMES = ("SFN_MOCK_CONFIG", "LAMBDAMAKER_SFN_MOCK_CONFIG")


class MockConfigError(ValueError):
    """The mock configuration file is missing, malformed, or lacks the test case asked for."""


@dataclass(frozen=True)
class MockedResponse:
    result: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def throws(self) -> bool:
        return self.error is not None


class MockTestCase:
    """The mocked responses of one test case, and the invocations counted so far (one
    instance per execution)."""

    def __init__(
        self,
        state_machine_name: str,
        test_case_name: str,
        responses: Mapping[str, list[tuple[int, int, MockedResponse]]],
    ) -> None:
        self.state_machine_name = state_machine_name
        self.test_case_name = test_case_name
        self._responses = dict(responses)
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def mocks(self, state_name: str) -> bool:
        return state_name in self._responses

    def invocations(self, state_name: str) -> int:
        return self._counts.get(state_name, 0)

    def next_response(self, state_name: str) -> MockedResponse:
        """The response for this invocation of ``state_name`` (counted)."""
        with self._lock:
            n = self._counts.get(state_name, 0)
            self._counts[state_name] = n + 1
        ranges = self._responses[state_name]
        for start, end, response in ranges:
            if start <= n <= end:
                return response
        return ranges[-1][2]


def _range(text: str, name: str) -> tuple[int, int]:
    parts = text.strip().split("-")
    try:
        bounds = [int(part) for part in parts]
    except ValueError:
        raise MockConfigError(
            f"Mocked response '{name}': '{text}' is not an invocation number or range "
            "(e.g. '0' or '1-2')."
        ) from None
    if len(bounds) == 1:
        return bounds[0], bounds[0]
    if len(bounds) == 2 and 0 <= bounds[0] <= bounds[1]:
        return bounds[0], bounds[1]
    raise MockConfigError(f"Mocked response '{name}': invalid invocation range '{text}'.")


def _response(raw: Any, name: str) -> MockedResponse:
    if not isinstance(raw, dict) or ("Return" in raw) == ("Throw" in raw):
        raise MockConfigError(
            f"Mocked response '{name}': each step needs exactly one of 'Return' or 'Throw'."
        )
    if "Return" in raw:
        return MockedResponse(result=raw["Return"])
    throw = raw["Throw"]
    if not isinstance(throw, dict) or not isinstance(throw.get("Error"), str):
        raise MockConfigError(f"Mocked response '{name}': 'Throw' needs a string 'Error'.")
    cause = throw.get("Cause", "")
    return MockedResponse(error=throw["Error"], cause=cause if isinstance(cause, str) else "")


def _ranges(raw: Any, name: str) -> list[tuple[int, int, MockedResponse]]:
    if not isinstance(raw, dict) or not raw:
        raise MockConfigError(f"No definitions for mocked response '{name}'.")
    steps = sorted((*_range(key, name), _response(value, name)) for key, value in raw.items())
    expected = 0
    for start, end, _ in steps:
        if start != expected:
            raise MockConfigError(
                f"Mocked response '{name}': invocations must be numbered consecutively from "
                f"0; expected {expected}, found {start}."
            )
        expected = end + 1
    return steps


class MockConfig:
    """A whole, checked ``MockConfigFile.json``."""

    def __init__(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise MockConfigError("The mock configuration must be a JSON object.")
        machines = raw.get("StateMachines")
        responses = raw.get("MockedResponses")
        if not isinstance(machines, dict) or not isinstance(responses, dict):
            raise MockConfigError(
                "The mock configuration needs 'StateMachines' and 'MockedResponses' objects."
            )
        self._responses = {name: _ranges(steps, name) for name, steps in responses.items()}
        self._cases: dict[tuple[str, str], dict[str, str]] = {}
        for machine, body in machines.items():
            cases = body.get("TestCases") if isinstance(body, dict) else None
            if not isinstance(cases, dict):
                raise MockConfigError(f"State machine '{machine}' needs a 'TestCases' object.")
            for case, states in cases.items():
                if not isinstance(states, dict) or not all(
                    isinstance(v, str) for v in states.values()
                ):
                    raise MockConfigError(
                        f"Test case '{case}' of '{machine}' must map state names to mocked "
                        "response names."
                    )
                for response in states.values():
                    if response not in self._responses:
                        raise MockConfigError(
                            f"No definitions for mocked response '{response}' in the mock "
                            "configuration file."
                        )
                self._cases[(machine, case)] = dict(states)

    @classmethod
    def load(cls, path: str | Path) -> MockConfig:
        try:
            raw = orjson.loads(Path(path).read_bytes())
        except OSError as exc:
            raise MockConfigError(
                f"Cannot read the mock configuration file {path}: {exc}"
            ) from None
        except orjson.JSONDecodeError as exc:
            raise MockConfigError(
                f"Malformed JSON in the mock configuration file {path}: {exc}"
            ) from None
        return cls(raw)

    def test_case(self, state_machine_name: str, test_case_name: str) -> MockTestCase:
        states = self._cases.get((state_machine_name, test_case_name))
        if states is None:
            raise MockConfigError(
                f"No definitions for test case '{test_case_name}' and state machine "
                f"'{state_machine_name}' in the mock configuration file."
            )
        return MockTestCase(
            state_machine_name,
            test_case_name,
            {state: self._responses[response] for state, response in states.items()},
        )


def mock_config_path(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    for name in ENV_NAMES:
        if env.get(name):
            return env[name]
    return None


_cache: dict[tuple[str, float], MockConfig] = {}
_cache_lock = threading.Lock()


def load_mock_test_case(
    state_machine_name: str, test_case_name: str, *, path: str | Path | None = None
) -> MockTestCase:
    """The test case from the configured file (re-read when the file changes). Raises
    ``MockConfigError`` when no file is configured or it lacks the test case."""
    where = str(path) if path is not None else mock_config_path()
    if not where:
        raise MockConfigError(
            f"Test case '{test_case_name}' asked for, but no mock configuration file is set "
            f"({' or '.join(ENV_NAMES)})."
        )
    try:
        mtime = os.path.getmtime(where)
    except OSError as exc:
        raise MockConfigError(f"Cannot read the mock configuration file {where}: {exc}") from None
    with _cache_lock:
        config = _cache.get((where, mtime))
    if config is None:
        config = MockConfig.load(where)
        with _cache_lock:
            _cache.clear()
            _cache[(where, mtime)] = config
    return config.test_case(state_machine_name, test_case_name)


def split_test_case(state_machine_arn: str) -> tuple[str, str | None]:
    """``arn#TestCase`` -> ``(arn, "TestCase")``; a plain ARN -> ``(arn, None)``."""
    arn, sep, case = state_machine_arn.partition("#")
    return arn, (case if sep and case else None)


def mocked(
    platform: Platform, handler: TaskHandler, case: MockTestCase, *, payload_only: bool = False
) -> TaskHandler:
    """``handler``, answering from ``case`` for the states it mocks. ``payload_only``: the
    Task's result is the mocked ``Payload`` (plain Lambda function ARNs)."""

    async def handle(request: TaskRequest) -> Any:
        if not case.mocks(request.state_name):
            return await handler(request)
        response = case.next_response(request.state_name)
        if request.pattern == ".waitForTaskToken" and request.task_token:
            # Step Functions Local completes a mocked callback Task's token itself.
            await _complete_token(platform, request, response)
            return None
        if response.throws:
            raise StatesError(str(response.error), response.cause or "")
        result = copy.deepcopy(response.result)
        if payload_only and isinstance(result, dict) and "Payload" in result:
            return result["Payload"]
        return result

    return handle


async def _complete_token(
    platform: Platform, request: TaskRequest, response: MockedResponse
) -> None:
    if response.throws:
        operation = "SendTaskFailure"
        params: dict[str, Any] = {
            "taskToken": request.task_token,
            "error": response.error,
            "cause": response.cause or "",
        }
    else:
        operation = "SendTaskSuccess"
        params = {"taskToken": request.task_token, "output": compact_json(response.result)}
    try:
        await call(
            platform,
            "stepfunctions",
            operation,
            params,
            region=request.region,
            account_id=request.account_id,
        )
    except (CallFailed, NotProvided) as exc:
        raise StatesError(
            "States.Runtime", f"The mocked callback of state '{request.state_name}' failed: {exc}"
        ) from None
