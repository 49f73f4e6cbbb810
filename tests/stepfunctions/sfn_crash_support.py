"""What the Step Functions crash test runs and checks: the 20-step definition, the events and
output each execution must end with, the function its Task calls, and the starter threads that
keep StartExecution going across restarts.

The definition's 20 top-level visits (one execution = exactly these, in this order):
``Init`` (Pass, Parameters with an intrinsic), ``Route`` (Choice on the input's parity),
``Even`` or ``Odd`` (Pass), ``Send`` (Task ``sqs:sendMessage``: one message per delivery,
body = the execution's name), ``Invoke`` (Task ``lambda:invoke`` with Retry: the function
fails when ``$$.State.RetryCount`` is 0, so every execution fails once and succeeds on its
first retry, deterministically), ``Fan`` (Parallel: a Pass chain and a Wait + Pass),
``Each`` (inline Map over 3 items), ``Pause`` (Wait 1 s), then ``P09``..``P20`` (Pass
counters through ``States.MathAdd``, with ``P14`` a Wait 1 s). The Waits keep each execution
in flight for some seconds, so the kills land part-way through.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from crash_support import Server

ROLE = "arn:aws:iam::000000000000:role/sfn-crash"

# The function behind ``Invoke``: it records each call in the ``calls`` queue before it
# answers (so a call the platform repeats after a kill shows twice there), and fails on
# the first attempt of every visit.
FUNCTION = """
import json
import os

import boto3
from botocore.config import Config

_sqs = boto3.client("sqs", config=Config(retries={"max_attempts": 1}))


def handler(event, context):
    _sqs.send_message(
        QueueUrl=os.environ["CALLS_URL"],
        MessageBody=json.dumps({"name": event["name"], "retry": event["retry"]}),
    )
    if event["retry"] == 0:
        raise ValueError("the first attempt fails")
    return {"n": event["i"] * 2 + 1}
"""

TOP = ["Init", "Route", "*parity*", "Send", "Invoke", "Fan", "Each", "Pause"] + [
    f"P{n:02d}" for n in range(9, 21)
]
WAITS = {"Pause", "P14"}
COUNTERS = [name for name in TOP[8:] if name not in WAITS]
MAP_ITEMS = 3


def definition(queue_url: str, function_arn: str) -> str:
    def nxt(index: int) -> dict[str, Any]:
        return {"End": True} if index == len(TOP) - 1 else {"Next": TOP[index + 1]}

    states: dict[str, Any] = {
        "Init": {
            "Type": "Pass",
            "Parameters": {
                "i.$": "$.i",
                "parity.$": "$.parity",
                "items.$": f"States.ArrayRange(1, {MAP_ITEMS}, 1)",
                "count": {"v": 0},
            },
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.parity", "StringEquals": "even"},
                        {"Variable": "$.i", "NumericGreaterThanEquals": 0},
                    ],
                    "Next": "Even",
                }
            ],
            "Default": "Odd",
        },
        "Even": {"Type": "Pass", "Result": "even", "ResultPath": "$.branch", "Next": "Send"},
        "Odd": {"Type": "Pass", "Result": "odd", "ResultPath": "$.branch", "Next": "Send"},
        "Send": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": queue_url, "MessageBody.$": "$$.Execution.Name"},
            "ResultSelector": {"id.$": "$.MessageId"},
            "ResultPath": "$.sent",
            "Next": "Invoke",
        },
        "Invoke": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": function_arn,
                "Payload": {
                    "name.$": "$$.Execution.Name",
                    "i.$": "$.i",
                    "retry.$": "$$.State.RetryCount",
                },
            },
            "ResultSelector": {"n.$": "$.Payload.n"},
            "ResultPath": "$.lambda",
            "Retry": [
                {
                    "ErrorEquals": ["States.TaskFailed"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 3,
                    "BackoffRate": 1,
                }
            ],
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "A1",
                    "States": {
                        "A1": {"Type": "Pass", "Parameters": {"a.$": "$.i"}, "Next": "A2"},
                        "A2": {"Type": "Pass", "End": True},
                    },
                },
                {
                    "StartAt": "B1",
                    "States": {
                        "B1": {"Type": "Wait", "Seconds": 1, "Next": "B2"},
                        "B2": {"Type": "Pass", "Parameters": {"b.$": "$.branch"}, "End": True},
                    },
                },
            ],
            "ResultPath": "$.fan",
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$.i"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "M1",
                "States": {
                    "M1": {
                        "Type": "Pass",
                        "Parameters": {"s.$": "States.MathAdd($.v, $.i)"},
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.mapped",
            "Next": "Pause",
        },
    }
    for index in range(TOP.index("Pause"), len(TOP)):
        name = TOP[index]
        if name in WAITS:
            states[name] = {"Type": "Wait", "Seconds": 1, **nxt(index)}
        else:
            states[name] = {
                "Type": "Pass",
                "Parameters": {"v.$": "States.MathAdd($.count.v, 1)"},
                "ResultPath": "$.count",
                **nxt(index),
            }
    return json.dumps({"Comment": "crash test", "StartAt": "Init", "States": states})


def execution_input(index: int) -> dict[str, Any]:
    return {"i": index, "parity": "even" if index % 2 == 0 else "odd"}


def expected_output(index: int, sent_id: Any) -> dict[str, Any]:
    parity = execution_input(index)["parity"]
    return {
        "i": index,
        "parity": parity,
        "items": list(range(1, MAP_ITEMS + 1)),
        "count": {"v": len(COUNTERS)},
        "branch": parity,
        "sent": {"id": sent_id},
        "lambda": {"n": index * 2 + 1},
        "fan": [{"a": index}, {"b": parity}],
        "mapped": [{"s": index + v} for v in range(1, MAP_ITEMS + 1)],
    }


# --- the history of one execution -----------------------------------------------------------

_TASK_OK = ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
_TASK_FAIL = ["TaskScheduled", "TaskStarted", "TaskFailed"]


def _block_inside(state: str) -> list[str] | None:
    """The event types strictly between a top-level visit's Entered and Exited, in order, for
    the states whose inside is sequential; None for Parallel and Map (checked as multisets)."""
    if state == "Send":
        return _TASK_OK
    if state == "Invoke":
        return _TASK_FAIL + _TASK_OK
    if state in ("Fan", "Each"):
        return None
    return []


def _kind(state: str) -> str:
    if state in ("Send", "Invoke"):
        return "Task"
    if state == "Route":
        return "Choice"
    if state == "Fan":
        return "Parallel"
    if state == "Each":
        return "Map"
    if state in WAITS:
        return "Wait"
    return "Pass"


@dataclass
class Checked:
    """What one execution's verified history tells the side-effect accounting."""

    output: dict[str, Any]
    send_window: tuple[float, float]
    """The Send attempt's TaskStarted and TaskSucceeded times (a re-delivery needs a kill
    in between)."""
    invoke_windows: list[tuple[float, float]] = field(default_factory=list)
    """Per Invoke attempt (retry count 0, 1): TaskStarted and its outcome's times."""
    lifetime: tuple[float, float] = (0.0, 0.0)
    """ExecutionStarted and ExecutionSucceeded times (in flight at a kill in between)."""


def check_history(events: list[dict[str, Any]], index: int) -> Checked:
    """Assert the history is exactly one clean run of the definition; return its timings."""
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(events) + 1)), f"event ids have gaps or repeats: {ids}"
    for e in events:
        assert 0 <= e.get("previousEventId", 0) < e["id"], e
    assert events[0]["type"] == "ExecutionStarted" and events[0].get("previousEventId", 0) == 0
    parity = execution_input(index)["parity"]
    visits = [parity.capitalize() if s == "*parity*" else s for s in TOP]
    at = 1  # the next event's index
    last_exit_id = 1
    send_window: tuple[float, float] = (0.0, 0.0)
    invoke_windows: list[tuple[float, float]] = []
    for state in visits:
        kind = _kind(state)
        entered = events[at]
        assert entered["type"] == f"{kind}StateEntered", (state, entered)
        assert entered["stateEnteredEventDetails"]["name"] == state, (state, entered)
        assert entered["previousEventId"] == last_exit_id, (state, entered)
        end = next(
            (
                n
                for n in range(at + 1, len(events))
                if events[n]["type"] == f"{kind}StateExited"
                and events[n]["stateExitedEventDetails"]["name"] == state
            ),
            None,
        )
        assert end is not None, f"{state} never exited"
        inside = events[at + 1 : end]
        types = [e["type"] for e in inside]
        expected = _block_inside(state)
        if expected is not None:
            assert types == expected, (state, types)
            chain = events[at : end + 1]
            for before, after in itertools.pairwise(chain):
                assert after["previousEventId"] == before["id"], (state, after)
        elif state == "Fan":
            _check_parallel(inside)
        else:
            _check_map(inside)
        if state == "Send":
            send_window = (_ts(inside[1]), _ts(inside[2]))
        if state == "Invoke":
            invoke_windows = [(_ts(inside[1]), _ts(inside[2])), (_ts(inside[4]), _ts(inside[5]))]
        last_exit_id = events[end]["id"]
        at = end + 1
    assert [e["type"] for e in events[at:]] == ["ExecutionSucceeded"], events[at:]
    assert events[at]["previousEventId"] == last_exit_id
    output = json.loads(events[at]["executionSucceededEventDetails"]["output"])
    return Checked(output, send_window, invoke_windows, (_ts(events[0]), _ts(events[at])))


def _ts(event: dict[str, Any]) -> float:
    return float(event["timestamp"].timestamp())


def _check_parallel(inside: list[dict[str, Any]]) -> None:
    types = [e["type"] for e in inside]
    assert types[0] == "ParallelStateStarted" and types[-1] == "ParallelStateSucceeded", types
    names: list[tuple[str, str]] = []
    for e in inside[1:-1]:
        details = e.get("stateEnteredEventDetails") or e.get("stateExitedEventDetails") or {}
        names.append((e["type"], details.get("name", "")))
    for branch in (["A1", "A2"], ["B1", "B2"]):
        seen = [(t, n) for t, n in names if n in branch]
        kinds = ["Wait" if n == "B1" else "Pass" for n in branch]
        assert seen == [
            (f"{kinds[0]}StateEntered", branch[0]),
            (f"{kinds[0]}StateExited", branch[0]),
            (f"{kinds[1]}StateEntered", branch[1]),
            (f"{kinds[1]}StateExited", branch[1]),
        ], (branch, names)
    assert len(names) == 8, names


def _check_map(inside: list[dict[str, Any]]) -> None:
    types = [e["type"] for e in inside]
    assert types[0] == "MapStateStarted" and types[-1] == "MapStateSucceeded", types
    per_index: dict[int, list[str]] = {}
    current: dict[int, int] = {}
    for e in inside[1:-1]:
        if e["type"].startswith("MapIteration"):
            number = e[
                "mapIterationStartedEventDetails"
                if e["type"] == "MapIterationStarted"
                else "mapIterationSucceededEventDetails"
            ]["index"]
            per_index.setdefault(number, []).append(e["type"])
            current[number] = e["id"]
        else:
            # Pass events of the iterations: attributed through previousEventId.
            owner = next((n for n, last in current.items() if last == e["previousEventId"]), None)
            assert owner is not None, e
            per_index[owner].append(e["type"])
            current[owner] = e["id"]
    assert per_index == {
        n: ["MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded"]
        for n in range(MAP_ITEMS)
    }, per_index


_sessions = threading.local()


def client(server: Server, service: str, endpoint: str) -> Any:
    """``Server.client`` from one boto3 session per thread: a new session loads the service
    models again (~0.2 s of CPU each time, taken from the server under test)."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.key,
        aws_secret_access_key=server.secret,
        config=Config(
            retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, tcp_keepalive=True
        ),
    )


# --- starting executions across restarts ----------------------------------------------------


@dataclass
class Started:
    name: str
    input: str
    arn: str
    start_date: Any


class Starter:
    """Starts the executions from a few threads (StartExecution group-commits concurrent
    starts), no more than ``quota(generation)`` by each server generation, and re-sends a start
    whose answer was lost (same name and input: the answer must name the same execution)."""

    def __init__(
        self, server: Server, machine_arn: str, total: int, generations: int, threads: int = 4
    ) -> None:
        self.server = server
        self.machine_arn = machine_arn
        self.total = total
        self.generations = max(1, generations)
        self.started: list[Started] = []
        self.lock = threading.Lock()
        self.resent = 0
        """Starts re-sent after a failed attempt (the server died under the first one)."""
        self.already_ended = 0
        self.error: BaseException | None = None
        self._next = 0
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def is_alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def expected_arn(self, name: str) -> str:
        return self.machine_arn.replace(":stateMachine:", ":execution:") + ":" + name

    def quota(self, generation: int) -> int:
        return min(self.total, -(-self.total * (generation + 1) // self.generations))

    def _run(self) -> None:
        try:
            generation, endpoint = self.server.current()
            sfn = client(self.server, "stepfunctions", endpoint)
            while True:
                with self.lock:
                    index = self._next
                    self._next += 1
                if index >= self.total:
                    return
                while True:
                    now_gen, endpoint = self.server.current()
                    if now_gen != generation:
                        sfn, generation = client(self.server, "stepfunctions", endpoint), now_gen
                    if index < self.quota(generation):
                        break
                    self.server.wait_newer(generation, timeout=5.0)
                generation, sfn = self._start(index, generation, sfn)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _start(self, index: int, generation: int, sfn: Any) -> tuple[int, Any]:
        name, text = f"e{index:04d}", json.dumps(execution_input(index))
        attempts = 0
        while True:
            try:
                out = sfn.start_execution(stateMachineArn=self.machine_arn, name=name, input=text)
                if "executionArn" not in out:
                    # Killed between the status line and the body: botocore does not enforce
                    # Content-Length, so a cut-off 200 parses as an empty answer. Lost, too.
                    raise ConnectionError(f"the answer to starting {name} was cut off")
                break
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ExecutionAlreadyExists" or not attempts:
                    raise
                # The first attempt committed and the execution already ended.
                out = {"executionArn": self.expected_arn(name), "startDate": None}
                with self.lock:
                    self.already_ended += 1
                break
            except Exception:  # the server died under the request: send it again
                attempts += 1
                self.server.wait_newer(generation, timeout=5.0)
                generation, endpoint = self.server.current()
                sfn = client(self.server, "stepfunctions", endpoint)
        assert out["executionArn"] == self.expected_arn(name), (name, attempts, out)
        with self.lock:
            self.resent += 1 if attempts else 0
            self.started.append(Started(name, text, out["executionArn"], out["startDate"]))
        return generation, sfn


def drain(sqs: Any, url: str) -> list[tuple[str, str]]:
    """Every message in the queue as (body, MessageId) (a long visibility timeout: each read
    once)."""
    messages: list[tuple[str, str]] = []
    empty = 0
    while empty < 2:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=43200, WaitTimeSeconds=0
        ).get("Messages", [])
        empty = 0 if got else empty + 1
        messages += [(m["Body"], m["MessageId"]) for m in got]
    return messages


def history(sfn: Any, arn: str, page: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": page}
    while True:
        out = sfn.get_execution_history(**kwargs)
        events.extend(out["events"])
        if not out.get("nextToken"):
            return events
        kwargs["nextToken"] = out["nextToken"]


def running(sfn: Any, machine_arn: str) -> int:
    count = 0
    kwargs: dict[str, Any] = {
        "stateMachineArn": machine_arn,
        "statusFilter": "RUNNING",
        "maxResults": 1000,
    }
    while True:
        out = sfn.list_executions(**kwargs)
        count += len(out["executions"])
        if not out.get("nextToken"):
            return count
        kwargs["nextToken"] = out["nextToken"]


def statuses(sfn: Any, machine_arn: str) -> dict[str, str]:
    """Every execution of the machine: ARN -> status (ListExecutions, paginated)."""
    out: dict[str, str] = {}
    kwargs: dict[str, Any] = {"stateMachineArn": machine_arn, "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        out.update((e["executionArn"], e["status"]) for e in page["executions"])
        if not page.get("nextToken"):
            return out
        kwargs["nextToken"] = page["nextToken"]


def check_all(
    server: Server, started: list[Started], page: int, workers: int = 3
) -> tuple[dict[str, Checked], int]:
    """Fetch and check every execution's history (a few clients in parallel); (checked by
    name, events in all)."""
    _, endpoint = server.current()
    local = threading.local()

    def one(s: Started) -> tuple[str, Checked, int]:
        if not hasattr(local, "sfn"):
            local.sfn = client(server, "stepfunctions", endpoint)
        events = history(local.sfn, s.arn, page)
        try:
            return s.name, check_history(events, int(s.name[1:])), len(events)
        except AssertionError as exc:
            raise AssertionError(f"{s.arn}: {exc}") from exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, started))
    return {name: c for name, c, _ in results}, sum(n for _, _, n in results)
