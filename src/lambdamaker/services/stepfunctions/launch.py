"""Running executions: ``ExecutionRuntime`` builds an execution's spec and services, starts it
on the runner, finishes it, and resumes Standard executions after a restart.

Invariants:
- a Standard execution is launched only after its row and ExecutionStarted are committed
  (``Store.after_commit``), and runs on a ``DurableJournal`` preloaded with the events already
  recorded (none but ExecutionStarted when fresh; everything up to the crash on recovery);
- whatever way the interpreter ends, the execution ends closed: an outcome without a terminal
  event, or an unexpected exception (a bug), appends one (ExecutionFailed with States.Runtime
  for a bug), so no execution stays RUNNING with no task behind it;
- Express executions exist only in ``express`` while they run; their events go to CloudWatch
  Logs when the state machine's logging configuration asks for them; an async start is kept
  in the ``ExpressLedger`` until it ended and run again at start-up if it did not
  (at-least-once).
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.execution import (
    ExecutionServices,
    ExecutionSpec,
    Outcome,
)
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskRequest
from lambdamaker.services.base import Provider
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.express_durable import ExpressLedger
from lambdamaker.services.stepfunctions.express_journal import QuietJournal
from lambdamaker.services.stepfunctions.express_logs import ship_events
from lambdamaker.services.stepfunctions.integrations import build_registry
from lambdamaker.services.stepfunctions.integrations.mocking import (
    MockConfigError,
    MockTestCase,
    load_mock_test_case,
)
from lambdamaker.services.stepfunctions.item_store import S3ItemStore
from lambdamaker.services.stepfunctions.journal import (
    RUNNING,
    TERMINAL,
    DurableJournal,
    ExecutionClosed,
    MemoryJournal,
    load_events,
)
from lambdamaker.services.stepfunctions.map_run_store import StoredMapRuns
from lambdamaker.services.stepfunctions.notifier import Notifier
from lambdamaker.services.stepfunctions.runner import Runner
from lambdamaker.services.stepfunctions.specs import spec_from_row
from lambdamaker.services.stepfunctions.standard_loads import ExecutionLoads, load_many
from lambdamaker.services.stepfunctions.tokens import DurableTokenBroker, now_us
from lambdamaker.store.group_commit import GroupCommitter

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger(__name__)

EXPRESS_KEPT = 1000
ACTIVITY_PREFIX = "arn:aws:states:"


def load_mock(state_machine_name: str, test_case: str | None) -> MockTestCase | None:
    """The mock test case an execution started as ``arn#TestCase`` runs with (a fresh one per
    run: it counts invocations); raises ``MockConfigError`` when it cannot be loaded."""
    if test_case is None:
        return None
    return load_mock_test_case(state_machine_name, test_case)


def logging_on(logging_config: dict[str, Any] | None) -> bool:
    return bool(logging_config) and (logging_config or {}).get("level", "OFF") != "OFF"


Interpreter = Callable[[ExecutionSpec, ExecutionServices], Awaitable[Outcome]]


@dataclass
class ExpressRun:
    """An Express execution while it runs (and its result, for StartSyncExecution)."""

    spec: ExecutionSpec
    input_text: str
    journal: MemoryJournal
    logging: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    stop: datetime | None = None
    durable: bool = False
    """An async start recorded in the ``ExpressLedger`` (its row goes when the run ends)."""


def _outcome_event(outcome: Outcome) -> tuple[str, dict[str, Any]]:
    if outcome.status == "SUCCEEDED":
        output = json.dumps(outcome.output, separators=(",", ":"))
        return "ExecutionSucceeded", {"output": output, "outputDetails": {"truncated": False}}
    kind = {"FAILED": "ExecutionFailed", "TIMED_OUT": "ExecutionTimedOut"}.get(
        outcome.status, "ExecutionAborted"
    )
    details = {k: v for k, v in (("error", outcome.error), ("cause", outcome.cause)) if v}
    return kind, details


def _outcome_of_events(events: list[HistoryEvent]) -> Outcome | None:
    for event in reversed(events):
        if event.type == "ExecutionRedriven":
            return None
        if event.type in TERMINAL:
            details = event.details
            output = details.get("output")
            return Outcome(
                TERMINAL[event.type],
                output=json.loads(output) if isinstance(output, str) else output,
                error=details.get("error"),
                cause=details.get("cause"),
            )
    return None


class ExecutionRuntime:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.store = platform.store
        self.runner = Runner(platform.store)
        self.committer: GroupCommitter = platform.committer
        self.tokens = DurableTokenBroker(platform.store, self.runner)
        self.map_runs = StoredMapRuns(platform.store)
        self.loads = ExecutionLoads(platform.store, load_many)
        self.express_ledger = ExpressLedger(platform.store)
        self._item_stores: dict[tuple[str, str], S3ItemStore] = {}
        self.activity_queue = Notifier()
        self.express: dict[str, ExpressRun] = {}
        self.express_done: collections.OrderedDict[str, ExpressRun] = collections.OrderedDict()
        """The last ``EXPRESS_KEPT`` finished Express runs (for nested ``.sync`` waiters)."""
        self.interpreter: Interpreter | None = None
        """Set by tests to a stand-in; otherwise ``engines.workflows.interpreter``."""
        self.registry_factory: Callable[[MockTestCase | None], IntegrationRegistry] | None = None
        """Set by tests; otherwise ``integrations.build_registry(platform, ...)``."""
        self.clock: Callable[[], float] | None = None
        self.sleep: Callable[[float], Awaitable[None]] | None = None
        self._shared_registry: IntegrationRegistry | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.runner.start()
        self.recover()

    def close(self) -> None:
        self.runner.close()

    def recover(self) -> int:
        """Resume every RUNNING Standard execution from its recorded events."""
        with self.store.read() as conn:
            arns = list(
                conn.execute(
                    sa.select(t.executions.c.arn).where(t.executions.c.status == RUNNING)
                ).scalars()
            )
        for arn in arns:
            self.launch_standard(arn)
        return len(arns) + self.recover_express()

    def recover_express(self) -> int:
        """Run again every accepted Express async start whose execution never ended."""
        starts = self.express_ledger.pending()
        for start in starts:
            run = ExpressRun(
                spec=start.spec,
                input_text=start.input_text,
                journal=MemoryJournal(),
                logging=start.logging,
                durable=True,
            )
            self.launch_express(run)
        return len(starts)

    def launch_express(self, run: ExpressRun) -> None:
        arn = run.spec.execution_arn
        # Known before StartExecution answers, so a waiter (await_execution) never misses it.
        self.express[arn] = run
        self.runner.submit(arn, lambda: self.run_express(run))

    # --- wiring -----------------------------------------------------------------------------

    def _interpreter(self) -> Interpreter:
        if self.interpreter is None:
            module = importlib.import_module("lambdamaker.engines.workflows.interpreter")
            self.interpreter = module.run_execution
        assert self.interpreter is not None
        return self.interpreter

    def registry(self, mock: MockTestCase | None) -> IntegrationRegistry:
        if self.registry_factory is not None:
            registry = self.registry_factory(mock)
        elif mock is not None:
            registry = build_registry(self.platform, mock_test_case=mock)
        else:
            # The platform's integrations hold no per-execution state: built once, shared.
            if self._shared_registry is None:
                shared = build_registry(self.platform)
                shared.register_prefix(ACTIVITY_PREFIX, self.schedule_activity)
                self._shared_registry = shared
            return self._shared_registry
        # Activities of any region and account of this platform: the handler checks the kind.
        registry.register_prefix(ACTIVITY_PREFIX, self.schedule_activity)
        return registry

    def services(
        self,
        journal: Any,
        mock: MockTestCase | None,
        durable: bool,
        spec: ExecutionSpec | None = None,
    ) -> ExecutionServices:
        services = ExecutionServices(
            journal=journal,
            registry=self.registry(mock),
            tokens=self.tokens if durable else None,
            # Distributed Map: S3 as the execution's account and region; runs recorded for
            # DescribeMapRun (Standard only: Express executions keep nothing).
            items=self.item_store(spec.region, spec.account_id) if spec is not None else None,
            map_runs=self.map_runs if durable else None,
        )
        if self.clock is not None:
            services.clock = self.clock
        if self.sleep is not None:
            services.sleep = self.sleep
        return services

    def item_store(self, region: str, account_id: str) -> S3ItemStore:
        """The ``ItemStore`` of executions in ``region`` / ``account_id`` (one per pair)."""
        store = self._item_stores.get((region, account_id))
        if store is None:
            store = S3ItemStore(self.platform, region=region, account_id=account_id)
            self._item_stores[(region, account_id)] = store
        return store

    async def schedule_activity(self, request: TaskRequest) -> None:
        """An activity Task: queue the task for GetActivityTask (the engine then waits for the
        token). Idempotent, so a replayed visit does not queue its task twice."""
        token = request.task_token
        if ":activity:" not in request.base or token is None:
            raise StatesError(
                RUNTIME, f"The resource '{request.resource}' is not supported by this platform."
            )
        payload = json.dumps(request.parameters, separators=(",", ":"))
        await asyncio.get_running_loop().run_in_executor(
            None, self._queue_activity, request.base, request.execution_arn, token, payload
        )

    def _queue_activity(
        self, activity_arn: str, execution_arn: str, token: str, payload: str
    ) -> None:
        with self.store.begin() as conn:
            exists = conn.execute(
                sa.select(t.activity_tasks.c.token).where(t.activity_tasks.c.token == token)
            ).first()
            answered = conn.execute(
                sa.select(t.task_tokens.c.status).where(t.task_tokens.c.token == token)
            ).scalar()
            if exists is None and answered in (None, "WAITING"):
                conn.execute(
                    sa.insert(t.activity_tasks).values(
                        token=token,
                        activity_arn=activity_arn,
                        execution_arn=execution_arn,
                        input=payload,
                        scheduled_us=now_us(),
                        taken=False,
                    )
                )
            self.store.after_commit(conn, lambda: self.activity_queue.notify(activity_arn))

    # --- Standard ---------------------------------------------------------------------------

    def launch_standard(self, arn: str) -> None:
        """Run (or resume) the Standard execution ``arn`` on the runner."""
        self.runner.submit(arn, lambda: self._run_standard(arn))

    async def _run_standard(self, arn: str) -> None:
        row, events = await self.loads.load(arn)
        if row is None or row.status != RUNNING:
            return
        spec = spec_from_row(row, "STANDARD", row.redrive_count)
        self.tokens.redrives[arn] = row.redrive_count
        journal = DurableJournal(self.runner.writer, arn, events, self.clock or time.time)
        try:
            mock = load_mock(row.state_machine_name, row.test_case)
            services = self.services(journal, mock, durable=True, spec=spec)
            outcome = await self._interpreter()(spec, services)
        except ExecutionClosed:
            return
        except asyncio.CancelledError:
            raise
        except MockConfigError as exc:  # the mock file changed since the start
            outcome = Outcome("FAILED", error=RUNTIME, cause=str(exc))
        except Exception as exc:  # a bug, not a user's mistake: never leave it RUNNING
            log.exception("stepfunctions: execution %s crashed", arn)
            outcome = Outcome("FAILED", error=RUNTIME, cause=f"Internal error: {exc}")
        if _outcome_of_events(journal.events) is None:
            kind, details = _outcome_event(outcome)
            previous = journal.events[-1].id if journal.events else 0
            try:
                await journal.append(kind, details, previous=previous, step="")
            except ExecutionClosed:
                return
        await self._log_events(spec, journal.events, json.loads(row.logging or "{}"))

    def _load(self, arn: str) -> tuple[Any, list[HistoryEvent]]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(t.executions).where(t.executions.c.arn == arn)).first()
            events = load_events(conn, arn) if row is not None else []
        return row, events

    # --- Express ----------------------------------------------------------------------------

    async def run_express(self, run: ExpressRun) -> Outcome:
        """Run an Express execution to its end (on the runner's loop)."""
        spec = run.spec
        self.express[spec.execution_arn] = run
        if type(run.journal) is MemoryJournal and not logging_on(run.logging):
            # Nobody will read this execution's events: number them, don't build them.
            run.journal = QuietJournal()
        journal = run.journal
        details: dict[str, Any] = {
            "input": run.input_text,
            "inputDetails": {"truncated": False},
            "roleArn": spec.role_arn,
        }
        try:
            await journal.append("ExecutionStarted", details, previous=0, step="")
            services = self.services(journal, None, durable=False, spec=spec)
            try:
                outcome = await self._interpreter()(spec, services)
            except ExecutionClosed:
                outcome = _outcome_of_events(journal.events) or Outcome("ABORTED")
            except Exception as exc:
                log.exception("stepfunctions: express execution %s crashed", spec.execution_arn)
                outcome = Outcome("FAILED", error=RUNTIME, cause=f"Internal error: {exc}")
            if _outcome_of_events(journal.events) is None:
                kind, event_details = _outcome_event(outcome)
                journal.close(kind, event_details)
            run.outcome = _outcome_of_events(journal.events) or outcome
            run.stop = datetime.fromtimestamp((self.clock or time.time)(), UTC)
            await self._log_events(spec, journal.events, run.logging)
            return run.outcome
        finally:
            if run.durable and run.outcome is not None:
                # Ended (not cancelled by a shutdown, which leaves it to run again).
                self.express_ledger.done(spec.execution_arn)
            self.express.pop(spec.execution_arn, None)
            self.express_done[spec.execution_arn] = run
            while len(self.express_done) > EXPRESS_KEPT:
                self.express_done.popitem(last=False)

    async def _log_events(
        self, spec: ExecutionSpec, events: list[HistoryEvent], logging_config: dict[str, Any]
    ) -> None:
        if not logging_on(logging_config):
            return
        try:
            ship_events(self.platform, spec, events, logging_config)
        except Exception:  # logging must never fail the execution
            log.exception("stepfunctions: shipping %s's events to logs failed", spec.execution_arn)

    # --- waiting for an end -----------------------------------------------------------------

    async def wait_closed(self, arn: str, poll: float = 0.05) -> None:
        """Return once ``arn`` is no longer running (any thread's loop)."""
        while True:
            if arn in self.express or self.runner.running(arn):
                await asyncio.sleep(poll)
                continue
            row, _ = await asyncio.get_running_loop().run_in_executor(None, self._load, arn)
            if row is None or row.status != RUNNING:
                return
            await asyncio.sleep(poll)


class RuntimeHolder(Provider):
    """The provider's one ``ExecutionRuntime``, made on first use (the operation groups that
    need it share this base, so no ``__init__`` has to be chained through the mixins)."""

    _sfn_runtime: ExecutionRuntime | None = None

    @property
    def sfn_runtime(self) -> ExecutionRuntime:
        runtime = self.__dict__.get("_sfn_runtime")
        if runtime is None:
            runtime = self.__dict__["_sfn_runtime"] = ExecutionRuntime(self.platform)
        return runtime
