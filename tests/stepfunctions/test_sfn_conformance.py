"""AWS-recorded Step Functions executions replayed through boto3 against the server.

Every case in ``../shared/conformance/stepfunctions/cases.jsonl`` is a test: its definition
becomes a STANDARD state machine, its input a StartExecution, and DescribeExecution's final
status, output or error and cause must match what AWS recorded (``conformance_support``).
Cases this platform does not pass yet are in ``conformance_skips.SKIPS``, each with a one-line
reason; the goal is an empty list. All cases start together and are awaited together, so the
module takes about as long as its slowest execution.

Cases that use other services (``needs.pure == false``) first get the resources their original
test created (``conformance_resources.prepare_case``: functions, queues, topics, tables,
buckets, activities, target state machines), and the workers it ran beside the execution
(``start_helpers``: activity worker, SQS task-token consumer), stopped once all have finished.
A case whose setup cannot be done here is skipped with the reason ``prepare_case`` gives.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conformance_resources import prepare_case, start_helpers
from conformance_skips import SKIPS
from conformance_support import CASES_FILE, category, load_cases, mismatch

ROLE = "arn:aws:iam::000000000000:role/sfn-conformance"
DEADLINE_SECONDS = 120

# The data lives beside the project, not in it.
CASES = load_cases() if CASES_FILE.exists() else []

pytestmark = pytest.mark.skipif(not CASES, reason=f"conformance data not found at {CASES_FILE}")


# SFN_CONFORMANCE_ALL=1 runs the skipped cases too (to see which of them pass by now).
RUN_ALL = os.environ.get("SFN_CONFORMANCE_ALL") == "1"


def _runnable(case: dict[str, Any]) -> bool:
    return RUN_ALL or case["id"] not in SKIPS


@pytest.fixture(scope="module")
def outcomes(
    boto_client: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """DescribeExecution of every runnable case once it finished (or the last one seen); a
    case whose setup could not be done has ``{"skip": reason}``, one whose state machine
    was refused ``{"status": "NOT_CREATED", ...}``."""
    sfn = boto_client("stepfunctions")
    tmp = tmp_path_factory.mktemp("sfn-conformance")
    runnable = [(index, case) for index, case in enumerate(CASES) if _runnable(case)]
    stops: list[Callable[[], None]] = []
    results: dict[str, dict[str, Any]] = {}

    def start(item: tuple[int, dict[str, Any]]) -> tuple[str, str | None]:
        index, case = item
        definition, text = case["definition"], case["input"] or "{}"
        if not case["needs"]["pure"]:
            prepared = prepare_case(case, boto_client, tmp)
            if isinstance(prepared, str):
                results[case["id"]] = {"skip": prepared}
                return case["id"], None
            definition, text = prepared
        try:
            machine = sfn.create_state_machine(
                name=f"conformance-{index}", definition=definition, roleArn=ROLE
            )
        except ClientError as error:
            results[case["id"]] = {
                "status": "NOT_CREATED",
                "error": error.response["Error"]["Code"],
                "cause": error.response["Error"]["Message"],
            }
            return case["id"], None
        if not case["needs"]["pure"]:
            stops.append(start_helpers(case, boto_client, definition, text))
        started = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=text)
        return case["id"], started["executionArn"]

    with ThreadPoolExecutor(8) as pool:
        arns = {case_id: arn for case_id, arn in pool.map(start, runnable) if arn is not None}
    deadline = time.monotonic() + DEADLINE_SECONDS
    pending = dict(arns)
    while pending and time.monotonic() < deadline:
        for case_id, arn in list(pending.items()):
            described = sfn.describe_execution(executionArn=arn)
            results[case_id] = described
            if described["status"] != "RUNNING":
                del pending[case_id]
        if pending:
            time.sleep(0.2)
    for stop in stops:
        stop()
    return results


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case_matches_aws(case: dict[str, Any], outcomes: dict[str, dict[str, Any]]) -> None:
    if not _runnable(case):
        pytest.skip(SKIPS[case["id"]])
    described = outcomes[case["id"]]
    if "skip" in described:
        pytest.skip(described["skip"])
    assert described["status"] != "RUNNING", f"still running after {DEADLINE_SECONDS} s"
    problem = mismatch(case, described)
    assert problem is None, problem


def test_pass_rates_per_category(outcomes: dict[str, dict[str, Any]]) -> None:
    """The issue's goals: 95% of pure JSONPath, 90% of pure JSONata, 85% of service cases."""
    totals: dict[str, int] = {}
    passed: dict[str, int] = {}
    for case in CASES:
        kind = category(case)
        totals[kind] = totals.get(kind, 0) + 1
        described = outcomes.get(case["id"])
        if described is not None and "skip" not in described and mismatch(case, described) is None:
            passed[kind] = passed.get(kind, 0) + 1
    rates = {kind: passed.get(kind, 0) / total for kind, total in totals.items()}
    print(json.dumps({kind: f"{passed.get(kind, 0)}/{total}" for kind, total in totals.items()}))
    assert rates["jsonpath"] >= 0.95, rates
    assert rates["jsonata"] >= 0.90, rates
