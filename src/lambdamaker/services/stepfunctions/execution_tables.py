"""Step Functions' execution tables in the metadata store (component ``stepfunctions-executions``).

Invariants:
- Only Standard executions have rows (Express executions live in memory). An execution row and
  its ExecutionStarted event (id 1) are inserted in one transaction, before StartExecution
  answers.
- ``sfn_history`` holds every event of an execution, numbered from 1 with no gaps. ``step`` is
  ours (the state visit that appended the event, see ``engines.workflows.history``): replay
  after a crash matches the interpreter's visits against it. ``details`` is the event's details
  member as JSON text.
- A terminal event (ExecutionSucceeded/Failed/TimedOut/Aborted) is written in the transaction
  that sets the execution's ``status`` and ``stop_us``; no event is appended to an execution
  whose status is not RUNNING (the journal and StopExecution both check it under the write
  lock, so whichever commits first wins).
- A task token row is created when the engine starts waiting for it (or when a Send* call
  arrives first); its ``status`` goes from WAITING to SUCCEEDED/FAILED/CLOSED exactly once.
- An activity task row exists from ActivityScheduled until a worker took it (``taken``) or the
  task ended; GetActivityTask takes the oldest untaken row of the activity in one write.
- Times are integer microseconds since the epoch (``*_us``).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

COMPONENT = "stepfunctions-executions"

metadata = sa.MetaData()

executions = sa.Table(
    "sfn_executions",
    metadata,
    sa.Column("arn", sa.String(512), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("state_machine_arn", sa.String(512), nullable=False),
    sa.Column("state_machine_name", sa.String(80), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("output", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("cause", sa.Text),
    sa.Column("start_us", sa.BigInteger, nullable=False),
    sa.Column("stop_us", sa.BigInteger),
    sa.Column("trace_header", sa.String(256)),
    sa.Column("version_arn", sa.String(600)),
    sa.Column("alias_arn", sa.String(600)),
    sa.Column("map_run_arn", sa.String(1024)),
    sa.Column("test_case", sa.String(256)),
    sa.Column("redrive_count", sa.Integer, nullable=False, default=0),
    sa.Column("redrive_us", sa.BigInteger),
    # The state machine as it was when the execution started (DescribeStateMachineForExecution,
    # replay after a crash): the definition text, role and logging configuration (JSON).
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("role_arn", sa.String(2048), nullable=False),
    sa.Column("logging", sa.Text),
    sa.Column("revision_id", sa.String(64)),
    sa.Index("sfn_executions_machine", "state_machine_arn", "start_us"),
    sa.Index("sfn_executions_status", "status"),
)

history = sa.Table(
    "sfn_history",
    metadata,
    sa.Column("execution_arn", sa.String(512), primary_key=True),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("previous_id", sa.Integer, nullable=False),
    sa.Column("ts_us", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("step", sa.String(1024), nullable=False),
)

task_tokens = sa.Table(
    "sfn_task_tokens",
    metadata,
    sa.Column("token", sa.String(2048), primary_key=True),
    sa.Column("execution_arn", sa.String(512), nullable=False, index=True),
    sa.Column("step", sa.String(1024), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("output", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("cause", sa.Text),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("heartbeat_us", sa.BigInteger),
    # The activity worker that took the task (GetActivityTask's workerName), kept past the
    # activity task row so ActivityStarted can be recorded after a crash.
    sa.Column("worker_name", sa.String(80)),
    sa.Column("taken", sa.Boolean),
)

activity_tasks = sa.Table(
    "sfn_activity_tasks",
    metadata,
    sa.Column("token", sa.String(2048), primary_key=True),
    sa.Column("activity_arn", sa.String(512), nullable=False),
    sa.Column("execution_arn", sa.String(512), nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("scheduled_us", sa.BigInteger, nullable=False),
    sa.Column("taken", sa.Boolean, nullable=False, default=False),
    sa.Column("worker_name", sa.String(80)),
    sa.Index("sfn_activity_tasks_queue", "activity_arn", "taken", "scheduled_us"),
)

map_runs = sa.Table(
    "sfn_map_runs",
    metadata,
    sa.Column("arn", sa.String(1024), primary_key=True),
    sa.Column("execution_arn", sa.String(512), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_us", sa.BigInteger, nullable=False),
    sa.Column("stop_us", sa.BigInteger),
    sa.Column("max_concurrency", sa.Integer, nullable=False, default=0),
    sa.Column("tolerated_failure_count", sa.Integer, nullable=False, default=0),
    sa.Column("tolerated_failure_percentage", sa.Float, nullable=False, default=0.0),
    # DescribeMapRun's itemCounts / executionCounts, JSON.
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
)


def _add_worker_columns(conn: sa.Connection) -> None:
    # A store created at version 1 by this code already has them (create_tables uses the
    # table as defined here); an older one gets them now.
    have = {column["name"] for column in sa.inspect(conn).get_columns("sfn_task_tokens")}
    if "worker_name" not in have:
        conn.execute(sa.text("ALTER TABLE sfn_task_tokens ADD COLUMN worker_name VARCHAR(80)"))
    if "taken" not in have:
        conn.execute(sa.text("ALTER TABLE sfn_task_tokens ADD COLUMN taken BOOLEAN"))


MIGRATIONS: list[Migration] = [
    Migration(
        COMPONENT,
        1,
        create_tables(executions, history, task_tokens, activity_tasks, map_runs),
        "executions, history events, task tokens, activity tasks, map runs",
    ),
    Migration(COMPONENT, 2, _add_worker_columns, "task tokens: the activity worker that took it"),
]
